//! Healipro's task runner: `cargo xtask <command>` (alias in .cargo/config.toml).
//!
//! - `run`   install tools, start the dev database, build, migrate, seed, serve
//! - `cli`   build, then run the server binary with arguments
//! - `test`  the CI command (fmt, clippy, wasm guard, tests, fuzz, build, e2e)
//! - `e2e`   only the end-to-end step, optionally for some spec files
//! - `db`    the private PostgreSQL cluster in `.healipro/pg`
//! - `tools` install/verify the toolchain
//! - `bench` benchmarks
//! - `fuzz`  the identifier parsers under libFuzzer

mod bench;
mod fuzz;
mod pg;
mod test;
mod tls;
mod tools;
mod util;

use std::os::unix::process::CommandExt;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::util::Ctx;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Healipro developer and CI tasks"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Install tools, start the dev database, build, migrate, seed the demo
    /// clinics and serve in the foreground (Ctrl-C stops).
    Run,
    /// Build, then run the server binary with the dev environment (database
    /// URLs and the development TLS certificate): `cargo xtask cli -- <args>`.
    Cli {
        /// Arguments for the `healipro` binary.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// The CI command: tools, fmt, clippy, wasm guard, db, Rust tests, a short
    /// fuzz run, build, end-to-end tests; ends with `xtask: N passed, N failed`.
    Test,
    /// Only the end-to-end step of `test` (build, fresh database, seed,
    /// serve, Playwright), optionally for some spec files:
    /// `cargo xtask e2e tests/registration.spec.ts`.
    E2e {
        /// Playwright arguments (spec files, `-g <title>`, …).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Manage the private PostgreSQL cluster in `.healipro/pg`.
    Db {
        #[command(subcommand)]
        command: DbCmd,
    },
    /// Install (or verify) every tool the build and the tests need.
    Tools,
    /// Fuzz the identifier parsers (CNIC, phone, address, search box) with
    /// cargo-fuzz; fails on a crash and names the input that caused it.
    Fuzz {
        /// How long to fuzz, in seconds.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
    /// Run a benchmark: `cargo xtask bench <name> [args...]`.
    /// (`--help` after the name is the benchmark's own; alone, it lists them.)
    #[command(disable_help_flag = true)]
    Bench {
        /// Benchmark name (`list` for the list).
        #[arg(allow_hyphen_values = true)]
        name: String,
        /// Extra arguments for the benchmark.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Subcommand)]
enum DbCmd {
    /// Create (first time) and start the cluster, then bootstrap roles,
    /// database and `.healipro/dev.env`. Idempotent.
    Start,
    /// Stop the cluster.
    Stop,
    /// Show whether the cluster runs, its port and folders.
    Status,
    /// Open psql as the owner role on the dev database: `db psql -- <args>`.
    Psql {
        /// Extra psql arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match real_main(cli) {
        Ok(code) => code,
        Err(e) => {
            util::flush();
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn real_main(cli: Cli) -> Result<ExitCode> {
    let ctx = Ctx::new()?;
    util::setup_env(&ctx)?;
    match cli.command {
        Cmd::Run => run(&ctx)?,
        Cmd::Cli { args } => cli_cmd(&ctx, &args)?,
        Cmd::Test => return test::run(&ctx),
        Cmd::E2e { args } => test::e2e_only(&ctx, &args)?,
        Cmd::Db { command } => match command {
            DbCmd::Start => {
                pg::ensure_dev_db(&ctx, false)?;
            }
            DbCmd::Stop => pg::Pg::new(&ctx)?.stop()?,
            DbCmd::Status => pg::Pg::new(&ctx)?.status(&ctx)?,
            DbCmd::Psql { args } => pg::psql_owner(&ctx, &args)?,
        },
        Cmd::Tools => tools::ensure_tools(&ctx)?,
        Cmd::Fuzz { seconds } => fuzz::run(&ctx, seconds)?,
        Cmd::Bench { name, args } => bench::run(&ctx, &name, &args)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask run`.
fn run(ctx: &Ctx) -> Result<()> {
    tools::ensure_tools(ctx)?;
    pg::ensure_dev_db(ctx, true)?;
    util::cargo_leptos_build(ctx)?;
    let (env, dev_cert) = util::serve_env(ctx)?;
    util::step("applying migrations");
    util::run(util::server_cmd(ctx, &env)?.arg("migrate"))?;
    util::step("seeding the demo clinics");
    let logins = ctx.state_dir.join("demo-logins.json");
    util::run(
        util::server_cmd(ctx, &env)?
            .args(["demo", "seed", "--logins"])
            .arg(&logins),
    )?;
    let url = env.get("HEALIPRO_URL").cloned().unwrap_or_default();
    util::step(format!(
        "serving Healipro at {url} (demo logins in {}; Ctrl-C stops)",
        logins.display()
    ));
    util::note(format!(
        "the certificate is self-signed ({}): accept it once in the browser, or trust that file",
        dev_cert.cert.display()
    ));
    exec(util::server_cmd(ctx, &env)?.arg("serve"))
}

/// `cargo xtask cli -- <args>`.
fn cli_cmd(ctx: &Ctx, args: &[String]) -> Result<()> {
    tools::ensure_tools(ctx)?;
    pg::ensure_dev_db(ctx, false)?;
    util::cargo_leptos_build(ctx)?;
    let (env, _) = util::serve_env(ctx)?;
    exec(util::server_cmd(ctx, &env)?.args(args))
}

/// Replaces this process with `cmd`: Ctrl-C reaches it directly and its exit
/// code becomes ours.
fn exec(cmd: &mut std::process::Command) -> Result<()> {
    println!("    $ {}", util::display_cmd(cmd));
    util::flush();
    let err = cmd.exec();
    Err(err).with_context(|| format!("cannot start {}", util::display_cmd(cmd)))
}
