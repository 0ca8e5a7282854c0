//! `cargo xtask fuzz [--seconds N]`: the identifier parsers under libFuzzer
//! (`core/fuzz`, target `identifiers`) for N seconds. Fails on a crash and
//! names the reproducer.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{bail, Context, Result};

use crate::tools;
use crate::util::{self, Ctx};

pub const TARGET: &str = "identifiers";

/// Flags shared by build, run and the printed reproduce command. No
/// AddressSanitizer: it needs nightly's `-Zsanitizer`, and the parsers are
/// safe Rust, where a bug shows as a panic (the invariants are assertions;
/// debug assertions and overflow checks stay on, cargo-fuzz's default).
const FLAGS: [&str; 2] = ["--sanitizer", "none"];

struct Paths {
    fuzz_dir: PathBuf,
    /// Instrumented builds in their own folder beside the main target dir, so
    /// neither build invalidates the other.
    target_dir: PathBuf,
    /// Where libFuzzer adds what it finds: outside the clone, so it grows
    /// across runs and never dirties the work tree.
    work_corpus: PathBuf,
    /// The committed seeds (read only; `cargo test` replays them too).
    seeds: PathBuf,
    artifacts: PathBuf,
}

impl Paths {
    fn new(ctx: &Ctx) -> Self {
        let fuzz_dir = ctx.root.join("core/fuzz");
        let target_dir = ctx.target_dir.join("fuzz");
        Self {
            work_corpus: target_dir.join("corpus").join(TARGET),
            seeds: fuzz_dir.join("corpus").join(TARGET),
            artifacts: fuzz_dir.join("artifacts").join(TARGET),
            target_dir,
            fuzz_dir,
        }
    }

    fn cargo_fuzz(&self, ctx: &Ctx, subcommand: &str) -> Command {
        let mut cmd = Command::new("cargo");
        // (`util::setup_env` already removed `cargo run`'s CARGO_PKG_* etc.)
        cmd.current_dir(&ctx.root)
            .args(["fuzz", subcommand])
            .arg("--fuzz-dir")
            .arg(&self.fuzz_dir)
            .args(FLAGS)
            .arg("--target-dir")
            .arg(&self.target_dir)
            .arg(TARGET);
        cmd
    }
}

pub fn run(ctx: &Ctx, seconds: u64) -> Result<()> {
    if seconds == 0 {
        bail!("--seconds must be at least 1");
    }
    tools::ensure_cargo_fuzz(ctx)?;
    let paths = Paths::new(ctx);
    fs::create_dir_all(&paths.work_corpus)
        .with_context(|| format!("cannot create {}", paths.work_corpus.display()))?;

    util::step(format!(
        "building the fuzz target `{TARGET}` (instrumented, into {}; ≈8 min the first time)",
        paths.target_dir.display()
    ));
    util::run(&mut paths.cargo_fuzz(ctx, "build"))?;

    util::step(format!(
        "fuzzing `{TARGET}` for {seconds} s (corpus {}, seeds {})",
        paths.work_corpus.display(),
        paths.seeds.display()
    ));
    let started = SystemTime::now();
    let mut cmd = paths.cargo_fuzz(ctx, "run");
    cmd.arg(&paths.work_corpus)
        .arg(&paths.seeds)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        // A hang is a bug too: no input of a few KB takes a second to parse.
        .arg("-timeout=10")
        // Not a line per new input (thousands in CI's log); the totals at the end.
        .arg("-verbosity=0")
        .arg("-print_final_stats=1");
    let status = util::run_status(&mut cmd)?;
    if status.success() {
        util::ok(format!(
            "no crash in {seconds} s; the corpus has {} inputs",
            count_files(&paths.work_corpus)
        ));
        return Ok(());
    }
    match newest_artifact(&paths.artifacts, started) {
        Some(input) => {
            let bytes = fs::read(&input).unwrap_or_default();
            let repro = paths.cargo_fuzz(ctx, "run");
            bail!(
                "the fuzz target failed ({}) on the input in\n  {}\n\
                 which is {:?}\n\
                 reproduce: {} {}\n\
                 once fixed, copy it into {} so that `cargo test` replays it",
                util::describe_status(status),
                input.display(),
                String::from_utf8_lossy(&bytes),
                util::display_cmd(&repro),
                input.display(),
                paths.seeds.display()
            )
        }
        None => bail!(
            "`{}` failed with {} and left no input in {} (see its output above)",
            util::display_cmd(&cmd),
            util::describe_status(status),
            paths.artifacts.display()
        ),
    }
}

fn count_files(dir: &Path) -> usize {
    fs::read_dir(dir).map_or(0, |entries| entries.flatten().count())
}

/// The crash/timeout/oom input libFuzzer wrote during this run.
fn newest_artifact(dir: &Path, since: SystemTime) -> Option<PathBuf> {
    fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let modified = e.metadata().and_then(|m| m.modified()).ok()?;
            (modified >= since).then(|| (modified, e.path()))
        })
        .max()
        .map(|(_, path)| path)
}
