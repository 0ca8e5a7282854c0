//! `cargo xtask bench <name>`: benchmarks. None are defined yet.

use anyhow::{bail, Result};

use crate::util::Ctx;

/// Runs the benchmark called `name` with extra `args`.
pub fn run(_ctx: &Ctx, name: &str, _args: &[String]) -> Result<()> {
    bail!("unknown benchmark `{name}` (no benchmarks are defined yet; see xtask/src/bench.rs)")
}
