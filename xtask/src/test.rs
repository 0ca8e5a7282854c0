//! `cargo xtask test`: the CI command. Runs every step (skipping only what
//! cannot work without an earlier step), times each, prints a summary and
//! `xtask: N passed, N failed`.

use std::fs;
use std::process::{Child, Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::fuzz;
use crate::pg::{self, Pg};
use crate::tools;
use crate::util::{self, Ctx};

const E2E_DB: &str = "healipro_e2e";
const FUZZ_SECONDS: u64 = 20;

enum Outcome {
    Passed,
    Failed(String),
    Skipped(String),
}

struct StepResult {
    name: String,
    outcome: Outcome,
    time: Duration,
}

#[derive(Default)]
struct Runner {
    results: Vec<StepResult>,
}

impl Runner {
    /// Runs one step. The closure returns `Ok(None)` for pass,
    /// `Ok(Some(reason))` for skipped, `Err` for failure. Returns true on pass.
    fn step(&mut self, name: &str, f: impl FnOnce() -> Result<Option<String>>) -> bool {
        util::step(format!("[{}] {name}", self.results.len() + 1));
        let start = Instant::now();
        let outcome = match f() {
            Ok(None) => Outcome::Passed,
            Ok(Some(reason)) => Outcome::Skipped(reason),
            Err(e) => Outcome::Failed(format!("{e:#}")),
        };
        let time = start.elapsed();
        match &outcome {
            Outcome::Passed => println!("    PASS {name} ({})", util::fmt_duration(time)),
            Outcome::Skipped(why) => println!("    SKIPPED: {why}"),
            Outcome::Failed(err) => {
                println!("    FAIL {name} ({}):", util::fmt_duration(time));
                for line in err.lines() {
                    println!("      {line}");
                }
            }
        }
        util::flush();
        let passed = matches!(outcome, Outcome::Passed);
        self.results.push(StepResult {
            name: name.to_string(),
            outcome,
            time,
        });
        passed
    }

    fn skip(&mut self, name: &str, why: &str) {
        let why = why.to_string();
        self.step(name, || Ok(Some(why)));
    }

    fn summary(&self, total: Duration) -> ExitCode {
        let passed = self
            .results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Passed))
            .count();
        let failed = self
            .results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
            .count();
        println!();
        util::step(format!("summary (total {})", util::fmt_duration(total)));
        let width = self
            .results
            .iter()
            .map(|r| r.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        println!("    {:<width$}  {:<7}  {:>8}", "step", "result", "time");
        println!("    {:-<width$}  {:-<7}  {:->8}", "", "", "");
        for r in &self.results {
            let (label, detail) = match &r.outcome {
                Outcome::Passed => ("PASS", String::new()),
                Outcome::Failed(e) => ("FAIL", first_line(e)),
                Outcome::Skipped(why) => ("SKIPPED", first_line(why)),
            };
            let line = format!(
                "    {:<width$}  {:<7}  {:>8}  {}",
                r.name,
                label,
                util::fmt_duration(r.time),
                detail
            );
            println!("{}", line.trim_end());
        }
        println!("xtask: {passed} passed, {failed} failed");
        util::flush();
        if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    }
}

fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("");
    if line.chars().count() > 100 {
        format!("{}…", line.chars().take(100).collect::<String>())
    } else {
        line.to_string()
    }
}

fn cargo(ctx: &Ctx, args: &[&str]) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.args(args).current_dir(&ctx.root);
    cmd
}

pub fn run(ctx: &Ctx) -> Result<ExitCode> {
    let total = Instant::now();
    let mut r = Runner::default();

    r.step("tools", || tools::ensure_tools(ctx).map(|()| None));

    r.step("fmt", || {
        util::run(&mut cargo(ctx, &["fmt", "--all", "--check"]))
            .context("formatting differs; run `cargo fmt --all`")?;
        Ok(None)
    });

    r.step("clippy (ssr)", || {
        util::run(&mut cargo(
            ctx,
            &[
                "clippy",
                "--workspace",
                "--exclude",
                "frontend",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ))?;
        Ok(None)
    });

    r.step("clippy (hydrate)", || {
        util::run(&mut cargo(
            ctx,
            &[
                "clippy",
                "-p",
                "frontend",
                "--target",
                "wasm32-unknown-unknown",
                "--",
                "-D",
                "warnings",
            ],
        ))?;
        Ok(None)
    });

    for krate in ["sqlx", "argon2"] {
        r.step(&format!("wasm guard ({krate})"), || {
            wasm_guard(ctx, krate).map(|()| None)
        });
    }

    let mut cluster: Option<(Pg, u16, bool)> = None;
    let db_ok = r.step("db", || {
        let pg = Pg::new(ctx)?;
        let (port, started) = pg.start(ctx)?;
        let ready = pg
            .bootstrap(ctx, port, false)
            .and_then(|()| pg.drop_test_databases(port));
        // Remember the cluster even when bootstrap failed, so it gets stopped.
        cluster = Some((pg, port, started));
        ready.map(|()| None)
    });

    r.step("rust tests", || {
        let mut env = util::server_env(ctx)?;
        if ctx.root.join(".sqlx").is_dir() && std::env::var_os("SQLX_OFFLINE").is_none() {
            // DATABASE_URL is set for the tests; keep sqlx's macros on the
            // committed offline data instead of the (unmigrated) dev database.
            util::note("SQLX_OFFLINE=true (.sqlx/ exists)");
            env.insert("SQLX_OFFLINE".into(), "true".into());
        }
        util::run(cargo(ctx, &["test", "--workspace", "--exclude", "frontend"]).envs(&env))?;
        Ok(None)
    });

    // Briefly: enough to catch a parser change that breaks an invariant on
    // inputs nobody wrote a test for; `cargo xtask fuzz` runs longer.
    r.step(&format!("fuzz ({FUZZ_SECONDS} s)"), || {
        fuzz::run(ctx, FUZZ_SECONDS).map(|()| None)
    });

    // After the Rust tests: `cargo test` also (re)builds the `healipro` binary,
    // and the end-to-end run must use the one cargo-leptos built beside the WASM.
    let build_ok = r.step("build", || util::cargo_leptos_build(ctx).map(|()| None));

    let e2e_name = "e2e";
    if !ctx.end2end_dir().join("package.json").is_file() {
        r.skip(e2e_name, "end2end/package.json missing");
    } else if !build_ok {
        r.skip(e2e_name, "the build failed");
    } else if !db_ok {
        r.skip(e2e_name, "the database step failed");
    } else if let Some((pg, port, _)) = &cluster {
        r.step(e2e_name, || e2e(ctx, pg, *port, &[]).map(|()| None));
    }

    match &cluster {
        Some((pg, _, true)) => {
            r.step("db stop", || pg.stop().map(|()| None));
        }
        Some((_, port, false)) => {
            util::note(format!(
                "leaving PostgreSQL running on port {port} (it was running before this test run)"
            ));
        }
        None => {}
    }

    Ok(r.summary(total.elapsed()))
}

/// Fails when `krate` is in the browser (hydrate, wasm32) dependency graph.
fn wasm_guard(ctx: &Ctx, krate: &str) -> Result<()> {
    let mut cmd = cargo(
        ctx,
        &[
            "tree",
            "-p",
            "app",
            "--no-default-features",
            "--features",
            "hydrate",
            "-e",
            "normal",
            "-i",
            krate,
            "--target",
            "wasm32-unknown-unknown",
        ],
    );
    println!("    $ {}", util::display_cmd(&cmd));
    let out = util::capture(&mut cmd)?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let no_match = text.contains("did not match any packages");
    if no_match {
        util::note(format!(
            "(cargo tree: `{krate}` matches no package, as wanted)"
        ));
    } else {
        for line in text.lines() {
            println!("      {line}");
        }
    }
    if text.contains(&format!("{krate} v")) {
        bail!(
            "{krate} is in the wasm (hydrate) dependency graph of `app` (tree above); \
             make that dependency optional and enable it only from the `ssr` feature"
        );
    }
    if out.status.success() || no_match {
        util::ok(format!("{krate} is not compiled to wasm"));
        return Ok(());
    }
    bail!(
        "`{}` failed with {} (see output above)",
        util::display_cmd(&cmd),
        util::describe_status(out.status)
    )
}

/// The server spawned for end-to-end tests; terminated on drop.
struct ServerGuard(Child);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        util::terminate(&mut self.0, "e2e server");
    }
}

/// `cargo xtask e2e [playwright args]`: build, then only the end-to-end step.
pub fn e2e_only(ctx: &Ctx, args: &[String]) -> Result<()> {
    tools::ensure_tools(ctx)?;
    let (pg, port, _) = pg::ensure_dev_db(ctx, false)?;
    util::cargo_leptos_build(ctx)?;
    e2e(ctx, &pg, port, args)
}

fn e2e(ctx: &Ctx, pg: &Pg, port: u16, args: &[String]) -> Result<()> {
    util::note(format!("recreating database {E2E_DB}"));
    pg.recreate_database(port, E2E_DB)?;

    let (mut env, dev_cert) = util::serve_env(ctx)?;
    for key in ["DATABASE_URL", "DATABASE_OWNER_URL"] {
        let url = env
            .get(key)
            .cloned()
            .with_context(|| format!("{key} missing from dev.env"))?;
        env.insert(key.to_string(), pg::with_database(&url, E2E_DB));
    }
    let dev_web_port = env
        .get("HEALIPRO_ADDR")
        .and_then(|a| a.rsplit_once(':'))
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(0);
    let web_port = util::fresh_port(&[port, dev_web_port])?;
    let addr = format!("127.0.0.1:{web_port}");
    let url = format!("https://{addr}");
    env.insert("HEALIPRO_ADDR".into(), addr.clone());
    env.insert("LEPTOS_SITE_ADDR".into(), addr.clone());
    env.insert("HEALIPRO_URL".into(), url.clone());

    let logins = ctx.state_dir.join("e2e-logins.json");
    let _ = fs::remove_file(&logins);
    util::run(util::server_cmd(ctx, &env)?.arg("migrate"))?;
    util::run(
        util::server_cmd(ctx, &env)?
            .args(["demo", "seed", "--logins"])
            .arg(&logins),
    )?;

    let log_path = ctx.state_dir.join("e2e-server.log");
    let mut serve = util::server_cmd(ctx, &env)?;
    serve.arg("serve");
    let mut server = ServerGuard(util::spawn_logged(&mut serve, &log_path)?);

    util::note(format!("waiting for {url}/healthz"));
    util::wait_healthy(&mut server.0, &addr, &dev_cert.client_config()?, &log_path)?;
    util::ok(format!("server healthy at {url}"));

    let result = util::run(
        Command::new("npx")
            .args(["--no-install", "playwright", "test"])
            .args(args)
            .current_dir(ctx.end2end_dir())
            .env("HEALIPRO_URL", &url)
            .env("HEALIPRO_LOGINS", &logins)
            .env("CI", "1"),
    );
    drop(server);
    if result.is_err() {
        println!(
            "    e2e server log: {} (last lines below)\n{}",
            log_path.display(),
            util::tail(&log_path, 20)
        );
    }
    result
}
