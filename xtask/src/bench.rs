//! `cargo xtask bench <name> [args…]`: benchmarks.
//!
//! - `read-patient`: loads 1,000 tenants × 1,000 patients into the database
//!   `healipro_bench` (once; reused on later runs), then measures (a) pgbench
//!   running the transaction the server runs to read one patient
//!   (`BEGIN` + `clinic.set_tenant` in one round trip, the select by primary
//!   key, `COMMIT`) and (b) the release server's `POST /api/patients/get`
//!   with logged-in sessions, one after the other on the same machine, and
//!   prints both throughputs and their ratio (budget: (b) ≥ 60 % of (a)), plus
//!   the `EXPLAIN` of the query under row-level security, which must use the
//!   tenant-leading primary key `patients_pkey`.
//! - `login`: on the same data, the read-one-patient latency with readers
//!   alone, then while login clients flood `POST /api/auth/login` with correct
//!   passwords (argon2id is deliberately expensive); prints p50/p99 of both, the
//!   logins per second and p99(flood)/p99(idle) against a budget of 2.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use rand::Rng;

use crate::pg::{self, Pg, APP_ROLE, OWNER_ROLE};
use crate::tls::{self, TlsStream};
use crate::tools::{self, PG_BIN_DIR};
use crate::util::{self, Ctx, SERVER_BIN};

/// Every benchmark: name and what it measures.
const BENCHMARKS: &[(&str, &str)] = &[
    (
        "read-patient",
        "1,000 tenants x 1,000 patients: pgbench (set_tenant + select by pk) vs the server's \
         POST /api/patients/get; budget HTTP >= 60 % of pgbench; EXPLAIN uses patients_pkey",
    ),
    (
        "login",
        "read-one-patient p50/p99 alone, then while clients flood POST /api/auth/login \
         (argon2id); budget p99(flood) <= 2 x p99(idle)",
    ),
];

/// Runs the benchmark called `name` with extra `args`.
pub fn run(ctx: &Ctx, name: &str, args: &[String]) -> Result<()> {
    match name {
        "read-patient" => read_patient(ctx, args),
        "login" => login(ctx, args),
        "list" | "help" | "--help" | "-h" => {
            print_benchmarks();
            Ok(())
        }
        _ => {
            print_benchmarks();
            bail!("unknown benchmark `{name}` (available: {})", names())
        }
    }
}

fn names() -> String {
    BENCHMARKS
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_benchmarks() {
    println!("Benchmarks (`cargo xtask bench <name> -- --help` for options):");
    for (name, about) in BENCHMARKS {
        println!("  {name:<14} {about}");
    }
    util::flush();
}

// ---------------------------------------------------------------------------
// read-patient

const BENCH_DB: &str = "healipro_bench";
const TENANTS: u32 = 1000;
const PATIENTS: u32 = 1000;
/// Written as the database comment once the load has finished, so an
/// interrupted load is never mistaken for a complete one.
const LOAD_MARKER: &str = "healipro bench read-patient: 1000 tenants x 1000 patients (v1)";
const BENCH_USER: &str = "bench";
const WARMUP: Duration = Duration::from_secs(2);
/// (b) must reach this share of (a).
const BUDGET_PERCENT: f64 = 60.0;
/// Above this CPU use by other processes (percent of one core) during a
/// measured window, the results are flagged as noisy.
const NOISY_OTHER_PERCENT: f64 = 20.0;
/// Largest share of failed HTTP requests tolerated.
const MAX_ERROR_RATE: f64 = 0.001;
/// The columns the server selects (core/src/patients/repo.rs).
const PATIENT_COLUMNS: &str =
    "id, mr_number, full_name, father_or_husband_name, sex, date_of_birth";
const PATIENT_PATH: &str = "/api/patients/get";
const LOGIN_PATH: &str = "/api/auth/login";
const SESSION_COOKIE: &str = "__Host-healipro_session";

#[derive(Parser, Debug)]
#[command(
    name = "cargo xtask bench read-patient",
    about = "Read one patient: pgbench (set_tenant + select by primary key) against the \
             server's POST /api/patients/get, 1,000 tenants x 1,000 patients"
)]
struct ReadPatientArgs {
    /// Concurrent clients, for pgbench and for the HTTP load generator alike.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=128))]
    clients: u32,
    #[command(flatten)]
    common: CommonArgs,
}

/// Options every HTTP benchmark on the `healipro_bench` data shares.
#[derive(clap::Args, Debug)]
struct CommonArgs {
    /// Measured seconds for each side or phase (each after a 2 s warm-up that is not counted).
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    seconds: u64,
    /// How many tenants (the first K of the 1,000) get a logged-in session;
    /// every read picks one of them and one of its 1,000 patients.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1000))]
    tenants: u32,
    /// Drop and reload the benchmark database even when it looks complete.
    #[arg(long)]
    reload: bool,
    /// Skip `cargo leptos build --release` and use the existing release binary.
    #[arg(long)]
    no_build: bool,
    /// Server database pool size (HEALIPRO_DB_POOL); the server's default when absent.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=500))]
    pool: Option<u32>,
}

/// Parses a benchmark's arguments; `None` after printing `--help`.
fn parse_args<T: Parser>(name: &str, args: &[String]) -> Result<Option<T>> {
    match T::try_parse_from(
        std::iter::once(format!("cargo xtask bench {name}")).chain(args.iter().cloned()),
    ) {
        Ok(opts) => Ok(Some(opts)),
        Err(e) if e.use_stderr() => {
            let _ = e.print();
            bail!("invalid arguments for `bench {name}` (see --help)");
        }
        Err(e) => {
            // --help / --version
            print!("{e}");
            Ok(None)
        }
    }
}

/// A release server on the benchmark data, with user `bench` (operator, one
/// shared password) in tenants bench1..bench`users`.
struct Prepared {
    pg: Pg,
    port: u16,
    started_cluster: bool,
    /// The runtime role on `healipro_bench`.
    app: PgUrl,
    target: Endpoint,
    server: Server,
    password: String,
}

impl Prepared {
    fn note_cluster(&self) {
        if self.started_cluster {
            util::note(format!(
                "PostgreSQL (port {}) was started for this run and is left running; \
                 `cargo xtask db stop` stops it",
                self.port
            ));
        }
    }
}

/// Builds (unless `--no-build`), loads or reuses the data, prepares the
/// users and starts the release server over HTTPS on a fresh port.
fn prepare(ctx: &Ctx, opts: &CommonArgs, users: u32) -> Result<Prepared> {
    if opts.no_build {
        util::step("skipping the build (--no-build)");
    } else {
        tools::ensure_tools(ctx)?;
        build_release(ctx)?;
    }
    let bin = release_bin(ctx);
    if !bin.is_file() {
        bail!(
            "release server binary {} not found; run without --no-build",
            bin.display()
        );
    }

    let (pg, port, started_cluster) = pg::ensure_dev_db(ctx, false)?;
    let (mut env, dev_cert) = util::serve_env(ctx)?;
    for key in ["DATABASE_URL", "DATABASE_OWNER_URL"] {
        let url = env
            .get(key)
            .cloned()
            .with_context(|| format!("{key} missing from dev.env; run `cargo xtask db start`"))?;
        env.insert(key.to_string(), pg::with_database(&url, BENCH_DB));
    }
    let app = PgUrl::parse(&env["DATABASE_URL"], APP_ROLE)?;
    let owner = PgUrl::parse(&env["DATABASE_OWNER_URL"], OWNER_ROLE)?;

    prepare_database(ctx, &pg, port, &bin, &env, &owner, opts.reload)?;
    let password = prepare_users(ctx, &bin, &env, &owner, users)?;

    let dev_web_port = env
        .get("HEALIPRO_ADDR")
        .and_then(|a| a.rsplit_once(':'))
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(0);
    let web_port = util::fresh_port(&[port, dev_web_port])?;
    let addr: SocketAddr = format!("127.0.0.1:{web_port}").parse()?;
    env.insert("HEALIPRO_ADDR".into(), addr.to_string());
    env.insert("LEPTOS_SITE_ADDR".into(), addr.to_string());
    env.insert("HEALIPRO_URL".into(), format!("https://{addr}"));
    if let Some(pool) = opts.pool {
        env.insert("HEALIPRO_DB_POOL".into(), pool.to_string());
    }
    let target = Endpoint {
        addr,
        tls: dev_cert.client_config()?,
    };
    let server = start_server(ctx, &bin, &env, &target)?;
    Ok(Prepared {
        pg,
        port,
        started_cluster,
        app,
        target,
        server,
        password,
    })
}

fn read_patient(ctx: &Ctx, args: &[String]) -> Result<()> {
    let Some(opts) = parse_args::<ReadPatientArgs>("read-patient", args)? else {
        return Ok(());
    };
    let total = Instant::now();
    let common = &opts.common;
    let duration = Duration::from_secs(common.seconds);
    let mut bench = prepare(ctx, common, common.tenants)?;
    let (app, target) = (&bench.app, &bench.target);

    let sessions = login_all(target, 1..=common.tenants, &bench.password)?;
    check_reads(app, target, &sessions, common.tenants)?;

    let cpu = CpuProbe::new(&bench.pg, bench.server.pid());
    let a = run_pgbench(ctx, app, opts.clients, common.tenants, duration, &cpu)?;
    let b = run_http(target, &sessions, opts.clients, duration, &cpu)?;
    bench.server.stop();

    let plan = explain(app)?;

    let ratio = 100.0 * b.rps / a.tps;
    let budget_ok = ratio >= BUDGET_PERCENT;
    let errors_ok = b.error_rate() <= MAX_ERROR_RATE;
    let pass = |ok: bool| if ok { "PASS" } else { "FAIL" };
    println!();
    util::step(format!(
        "read-patient ({TENANTS} tenants x {PATIENTS} patients, {} tenants logged in, {} clients, {} s)",
        common.tenants, opts.clients, common.seconds
    ));
    let a_num = format!("{:.0}", a.tps);
    let b_num = format!("{:.0}", b.rps);
    let width = a_num.len().max(b_num.len());
    println!(
        "  (a) pgbench  set_tenant + select by pk : {a_num:>width$} tx/s   (avg latency {:.2} ms)",
        a.latency_ms
    );
    println!(
        "  (b) HTTP     POST {PATIENT_PATH}    : {b_num:>width$} req/s  (p50 {:.2} ms, p99 {:.2} ms)",
        b.p50_ms, b.p99_ms
    );
    if b.errors > 0 || !errors_ok {
        println!(
            "      HTTP errors: {} of {} ({:.3} %; at most {:.1} % allowed): {}",
            b.errors,
            b.attempts,
            100.0 * b.error_rate(),
            100.0 * MAX_ERROR_RATE,
            pass(errors_ok)
        );
    }
    // Floored, so that a printed 60 % always passes a 60 % budget.
    println!(
        "  ratio (b)/(a): {:.0} %   budget >= {BUDGET_PERCENT:.0} %: {}",
        ratio.floor(),
        pass(budget_ok)
    );
    println!("  plan: {} : {}", plan.summary, pass(plan.ok));
    if let Some(cpu) = &a.cpu {
        println!("  cpu during (a): {}", cpu.render("pgbench"));
        println!("    per transaction: {}", cpu.per_op("pgbench", a.tps));
    }
    if let Some(cpu) = &b.cpu {
        println!("  cpu during (b): {}", cpu.render("load generator (xtask)"));
        println!(
            "    per request:     {}",
            cpu.per_op("load generator", b.rps)
        );
    }
    let busy: Vec<String> = [("(a)", &a.cpu), ("(b)", &b.cpu)]
        .into_iter()
        .filter_map(|(side, cpu)| Some((side, cpu.as_ref()?.other())))
        .filter(|(_, other)| *other > NOISY_OTHER_PERCENT)
        .map(|(side, other)| format!("{other:.0} % of a core during {side}"))
        .collect();
    if !busy.is_empty() {
        println!(
            "  note: other processes used {}: both sides share the cores with them, so the \
             numbers are noisy; rerun on an idle machine to confirm",
            busy.join(" and ")
        );
    }
    println!("  total time {}", util::fmt_duration(total.elapsed()));
    bench.note_cluster();
    util::flush();

    let mut failed = Vec::new();
    if !budget_ok {
        failed.push(format!(
            "throughput budget missed: (b) is {:.0} % of (a), below {BUDGET_PERCENT:.0} %",
            ratio.floor()
        ));
    }
    if !errors_ok {
        failed.push(format!(
            "{} of {} HTTP requests failed",
            b.errors, b.attempts
        ));
    }
    if !plan.ok {
        failed.push("the plan does not use patients_pkey (see EXPLAIN above)".to_string());
    }
    if !failed.is_empty() {
        bail!("read-patient: {}", failed.join("; "));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Build and server

fn release_bin(ctx: &Ctx) -> PathBuf {
    ctx.target_dir.join("release").join(SERVER_BIN)
}

/// `cargo leptos build --release`, with the same environment handling as
/// [`util::cargo_leptos_build`] (LEPTOS_* removed so that they do not act as
/// config overrides).
fn build_release(ctx: &Ctx) -> Result<()> {
    util::step("building with `cargo leptos build --release` (several minutes the first time)");
    let start = Instant::now();
    let mut cmd = Command::new("cargo");
    cmd.args(["leptos", "build", "--release"])
        .current_dir(&ctx.root);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("LEPTOS_") {
            cmd.env_remove(key);
        }
    }
    util::run(&mut cmd).context(
        "the release build failed; fix the errors above (`cargo xtask tools` installs missing tools)",
    )?;
    let bin = release_bin(ctx);
    if !bin.is_file() {
        bail!(
            "`cargo leptos build --release` succeeded but {} is missing",
            bin.display()
        );
    }
    util::ok(format!(
        "release build ready in {}",
        util::fmt_duration(start.elapsed())
    ));
    Ok(())
}

fn server_cmd(ctx: &Ctx, bin: &Path, env: &BTreeMap<String, String>) -> Command {
    let mut cmd = Command::new(bin);
    cmd.current_dir(&ctx.root).envs(env);
    cmd
}

/// The release server; stopped (SIGTERM, then SIGKILL) when dropped.
struct Server {
    child: Option<Child>,
}

impl Server {
    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            util::terminate(&mut child, "bench server");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn start_server(
    ctx: &Ctx,
    bin: &Path,
    env: &BTreeMap<String, String>,
    target: &Endpoint,
) -> Result<Server> {
    let addr = target.addr;
    util::step(format!("starting the release server on https://{addr}"));
    let log_path = ctx.state_dir.join("bench-server.log");
    let mut cmd = server_cmd(ctx, bin, env);
    // The server's own default log filter, whatever this shell has set.
    cmd.env_remove("RUST_LOG").arg("serve");
    let mut server = Server {
        child: Some(util::spawn_logged(&mut cmd, &log_path)?),
    };
    if let Some(child) = server.child.as_mut() {
        util::wait_healthy(child, &addr.to_string(), &target.tls, &log_path)?;
    }
    util::ok("server healthy");
    Ok(server)
}

// ---------------------------------------------------------------------------
// Database

/// The parts of a `postgres://user:password@host:port/db` URL that psql and
/// pgbench need (the passwords xtask generates are plain hex).
#[derive(Debug, Clone, PartialEq)]
struct PgUrl {
    user: String,
    password: String,
    host: String,
    port: u16,
    db: String,
}

impl PgUrl {
    fn parse(url: &str, expected_user: &str) -> Result<Self> {
        let bad = || anyhow!("cannot parse the database URL for {expected_user} from dev.env");
        let rest = url.strip_prefix("postgres://").ok_or_else(bad)?;
        let (userinfo, rest) = rest.rsplit_once('@').ok_or_else(bad)?;
        let (user, password) = userinfo.split_once(':').ok_or_else(bad)?;
        let (hostport, db) = rest.split_once('/').ok_or_else(bad)?;
        let (host, port) = hostport.rsplit_once(':').ok_or_else(bad)?;
        let db = db.split('?').next().unwrap_or(db);
        if user != expected_user {
            bail!("the database URL logs in as {user}, expected {expected_user}");
        }
        Ok(Self {
            user: user.to_string(),
            password: password.to_string(),
            host: host.to_string(),
            port: port.parse().map_err(|_| bad())?,
            db: db.to_string(),
        })
    }

    /// A PostgreSQL client tool (psql, pgbench) connecting with this URL; the
    /// password travels in the environment, never on the command line.
    fn tool(&self, tool: &str) -> Command {
        let mut cmd = Command::new(Path::new(PG_BIN_DIR).join(tool));
        cmd.args(["-h", &self.host, "-p", &self.port.to_string()])
            .args(["-U", &self.user, "-d", &self.db])
            .env("PGPASSWORD", &self.password)
            .env_remove("PGSERVICE")
            .env_remove("PGOPTIONS");
        cmd
    }

    /// Runs a psql script (fed on stdin) and returns its unaligned,
    /// tuples-only output.
    fn psql(&self, sql: &str) -> Result<String> {
        let mut cmd = self.tool("psql");
        cmd.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-f", "-"]);
        util::psql_stdin(cmd, &self.user, &self.db, sql)
    }
}

/// Tenant `n` (1-based): `00000000-0000-4000-8000-<n as 12 hex digits>`.
fn tenant_uuid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

/// Patient `p` of tenant `n`: `<n as 8 hex>-0000-4000-8000-<p as 12 hex>`.
fn patient_uuid(n: u32, p: u32) -> String {
    format!("{n:08x}-0000-4000-8000-{p:012x}")
}

/// [`tenant_uuid`] as a SQL expression of an integer expression.
fn tenant_uuid_sql(n: &str) -> String {
    format!("('00000000-0000-4000-8000-' || lpad(to_hex({n}), 12, '0'))::uuid")
}

/// [`patient_uuid`] as a SQL expression of two integer expressions.
fn patient_uuid_sql(n: &str, p: &str) -> String {
    format!("(lpad(to_hex({n}), 8, '0') || '-0000-4000-8000-' || lpad(to_hex({p}), 12, '0'))::uuid")
}

/// The server's read-one-patient select, with the tenant and patient given
/// as integer expressions.
fn select_patient_sql(n: &str, p: &str) -> String {
    format!(
        "SELECT {PATIENT_COLUMNS} FROM clinic.patients WHERE tenant_id = {} AND id = {}",
        tenant_uuid_sql(n),
        patient_uuid_sql(n, p)
    )
}

fn migrate(bin: &Path, ctx: &Ctx, env: &BTreeMap<String, String>) -> Result<()> {
    let mut cmd = server_cmd(ctx, bin, env);
    cmd.arg("migrate");
    let out = util::capture(&mut cmd)?;
    if !out.status.success() {
        bail!(
            "`healipro migrate` on {BENCH_DB} failed with {}: {}{}",
            util::describe_status(out.status),
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Makes sure `healipro_bench` holds exactly the benchmark data and the
/// current schema; (re)loads it otherwise.
fn prepare_database(
    ctx: &Ctx,
    pg: &Pg,
    port: u16,
    bin: &Path,
    env: &BTreeMap<String, String>,
    owner: &PgUrl,
    force_reload: bool,
) -> Result<()> {
    util::step(format!("checking the benchmark database {BENCH_DB}"));
    let reason = if force_reload {
        Some("--reload".to_string())
    } else {
        let marker = pg.exec_sql(
            port,
            "postgres",
            &format!(
                "SELECT coalesce(shobj_description(oid, 'pg_database'), '') \
                 FROM pg_database WHERE datname = '{BENCH_DB}';"
            ),
        )?;
        if marker.is_empty() {
            Some(format!(
                "{BENCH_DB} does not exist or its load never finished"
            ))
        } else if marker != LOAD_MARKER {
            Some(format!("{BENCH_DB} holds other data ({marker:?})"))
        } else if let Err(e) = migrate(bin, ctx, env) {
            Some(format!("migrating the existing data failed ({e:#})"))
        } else {
            let counts = pg.exec_sql(
                port,
                BENCH_DB,
                "SELECT (SELECT count(*) FROM platform.tenants WHERE code ~ '^bench[0-9]+$') \
                     || ' ' || (SELECT count(*) FROM clinic.patients p \
                                JOIN platform.tenants t ON t.id = p.tenant_id \
                                WHERE t.code ~ '^bench[0-9]+$');",
            )?;
            let wanted = format!("{TENANTS} {}", TENANTS * PATIENTS);
            (counts != wanted).then(|| {
                format!("{BENCH_DB} has {counts:?} bench tenants/patients, expected {wanted:?}")
            })
        }
    };
    match reason {
        None => {
            util::ok(format!(
                "{BENCH_DB} holds {TENANTS} tenants x {PATIENTS} patients (reused; --reload reloads)"
            ));
            Ok(())
        }
        Some(why) => {
            util::note(format!("(re)loading: {why}"));
            load_database(ctx, pg, port, bin, env, owner)
        }
    }
}

/// Some names so that rows look like the real thing (the planner does not care).
const FEMALE: &[&str] = &[
    "Ayesha", "Fatima", "Zainab", "Maryam", "Sana", "Hira", "Amna", "Khadija", "Rabia", "Nadia",
    "Saima", "Bushra", "Iqra", "Mehwish", "Farah", "Noor",
];
const MALE: &[&str] = &[
    "Muhammad", "Ahmed", "Ali", "Hassan", "Usman", "Bilal", "Imran", "Tariq", "Kamran", "Zubair",
    "Faisal", "Asif", "Naveed", "Shahid", "Adnan", "Omar",
];
const FAMILY: &[&str] = &[
    "Khan", "Ahmed", "Malik", "Hussain", "Qureshi", "Siddiqui", "Sheikh", "Chaudhry", "Butt",
    "Raza", "Iqbal", "Javed", "Aslam", "Mirza", "Abbasi", "Baig",
];

fn sql_text_array(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    format!("ARRAY[{}]", quoted.join(", "))
}

/// One chunk of the load: tenants `lo..=hi` and their patients.
fn load_chunk_sql(lo: u32, hi: u32) -> String {
    let female = sql_text_array(FEMALE);
    let male = sql_text_array(MALE);
    let family = sql_text_array(FAMILY);
    let (nf, nm, nfam) = (FEMALE.len(), MALE.len(), FAMILY.len());
    format!(
        "BEGIN;
INSERT INTO platform.tenants (id, code, name)
SELECT {tenant}, 'bench' || n, 'Bench Clinic ' || n
  FROM generate_series({lo}, {hi}) AS n;
INSERT INTO clinic.patients
       (tenant_id, id, mr_number, full_name, father_or_husband_name, sex, date_of_birth)
SELECT {tenant},
       {patient},
       'MR-' || lpad(p::text, 6, '0'),
       CASE WHEN p % 2 = 0 THEN ({female})[1 + (n * 7 + p) % {nf}]
            ELSE ({male})[1 + (n * 7 + p) % {nm}] END
         || ' ' || ({family})[1 + (n * 13 + p * 3) % {nfam}],
       ({male})[1 + (n * 5 + p * 11) % {nm}] || ' ' || ({family})[1 + (n * 13 + p * 3) % {nfam}],
       CASE WHEN p % 97 = 0 THEN 'other' WHEN p % 2 = 0 THEN 'female' ELSE 'male' END,
       CASE WHEN p % 20 = 0 THEN NULL
            ELSE date '1940-01-01' + ((n * 7919 + p * 104729) % 30000) END
  FROM generate_series({lo}, {hi}) AS n, generate_series(1, {PATIENTS}) AS p;
COMMIT;
",
        tenant = tenant_uuid_sql("n"),
        patient = patient_uuid_sql("n", "p"),
    )
}

fn load_database(
    ctx: &Ctx,
    pg: &Pg,
    port: u16,
    bin: &Path,
    env: &BTreeMap<String, String>,
    owner: &PgUrl,
) -> Result<()> {
    let start = Instant::now();
    util::note(format!("recreating database {BENCH_DB}"));
    pg.recreate_database(port, BENCH_DB)?;
    util::note("applying migrations");
    migrate(bin, ctx, env)?;
    util::note(format!(
        "loading {TENANTS} tenants and {} patients as {OWNER_ROLE}…",
        group_thousands(u64::from(TENANTS * PATIENTS))
    ));
    const CHUNK: u32 = 100;
    let mut lo = 1;
    while lo <= TENANTS {
        let hi = (lo + CHUNK - 1).min(TENANTS);
        let t = Instant::now();
        owner
            .psql(&load_chunk_sql(lo, hi))
            .with_context(|| format!("loading tenants {lo}-{hi} failed"))?;
        util::note(format!(
            "  tenants {lo:>4}-{hi:<4} {:>9} patients  ({}; {} so far)",
            group_thousands(u64::from(hi) * u64::from(PATIENTS)),
            util::fmt_duration(t.elapsed()),
            util::fmt_duration(start.elapsed())
        ));
        lo = hi + 1;
    }
    let t = Instant::now();
    util::note("VACUUM (ANALYZE) on the loaded tables…");
    owner.psql("VACUUM (ANALYZE) platform.tenants, clinic.patients;")?;
    owner.psql(&format!(
        "COMMENT ON DATABASE {BENCH_DB} IS '{LOAD_MARKER}';"
    ))?;
    util::ok(format!(
        "loaded in {} (vacuum/analyze {})",
        util::fmt_duration(start.elapsed()),
        util::fmt_duration(t.elapsed())
    ));
    Ok(())
}

/// Creates (or updates) the user `bench` in tenant bench1 through
/// `healipro user create` with a fresh random password, then copies its
/// password hash to the users `bench` of tenants 2..=k (one argon2 hash, not
/// k). Old sessions of the bench tenants are deleted. Returns the password.
fn prepare_users(
    ctx: &Ctx,
    bin: &Path,
    env: &BTreeMap<String, String>,
    owner: &PgUrl,
    k: u32,
) -> Result<String> {
    util::step(format!(
        "preparing user `{BENCH_USER}` (operator) in tenants bench1..bench{k}"
    ));
    let password = util::random_hex32();
    let mut cmd = server_cmd(ctx, bin, env);
    cmd.args([
        "user",
        "create",
        "--clinic",
        "bench1",
        "--username",
        BENCH_USER,
    ])
    .args(["--display-name", "Bench Operator", "--role", "operator"])
    .arg("--password-stdin")
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    println!("    $ {} < (password)", util::display_cmd(&cmd));
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", util::display_cmd(&cmd)))?;
    child
        .stdin
        .take()
        .ok_or_else(|| anyhow!("no stdin for healipro user create"))?
        .write_all(format!("{password}\n").as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "`healipro user create` failed with {}: {}{}",
            util::describe_status(out.status),
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    util::note(String::from_utf8_lossy(&out.stdout).trim());

    let first = tenant_uuid(1);
    let bench_tenants = tenant_uuid_sql("n");
    let copied = owner.psql(&format!(
        "BEGIN;
DELETE FROM clinic.sessions
 WHERE tenant_id IN (SELECT {bench_tenants} FROM generate_series(1, {TENANTS}) AS n);
WITH src AS (
    SELECT username, display_name, password_hash, roles
      FROM clinic.users WHERE tenant_id = '{first}' AND username = '{BENCH_USER}'
), up AS (
    INSERT INTO clinic.users (tenant_id, username, display_name, password_hash, roles, active)
    SELECT {bench_tenants}, src.username, src.display_name, src.password_hash, src.roles, true
      FROM generate_series(2, {k}) AS n, src
    ON CONFLICT (tenant_id, username) DO UPDATE
       SET password_hash = EXCLUDED.password_hash, roles = EXCLUDED.roles, active = true
    RETURNING 1
)
SELECT count(*) FROM up;
COMMIT;
"
    ))?;
    util::ok(format!(
        "password hash copied to {copied} more tenant(s); old bench sessions deleted"
    ));
    Ok(password)
}

// ---------------------------------------------------------------------------
// HTTP: a minimal keep-alive HTTP/1.1 client over TLS 1.3 (rustls on std
// sockets, pinned to the development certificate), one blocking thread per
// connection, so that the load generator takes as little of the shared CPU as
// possible. xtask is built without optimisations (`cargo run`
// in the dev profile), so the per-request path avoids per-byte loops in this
// crate: no buffer zeroing, byte searches through `memchr` (an optimised
// dependency), headers kept only when asked for.

/// Header names and values, in order.
type Headers = Vec<(String, String)>;

struct HttpResponse {
    status: u16,
    /// Every header, when the request asked for them (see `post_form`).
    headers: Headers,
    body: Vec<u8>,
}

impl HttpResponse {
    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn body_text(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        if text.chars().count() > 200 {
            format!("{}…", text.chars().take(200).collect::<String>())
        } else {
            text.to_string()
        }
    }
}

/// A read buffer allocated (zeroed) once and reused for every response.
struct ReadBuf {
    data: Vec<u8>,
    filled: usize,
}

impl ReadBuf {
    fn new() -> Self {
        Self {
            data: vec![0; 64 * 1024],
            filled: 0,
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.data[..self.filled]
    }

    /// Reads more bytes; fails at end of stream. A failure before the first
    /// byte of a response is [`Stale`] (safe to retry on a new connection).
    fn read_more(&mut self, stream: &mut impl Read) -> Result<()> {
        if self.filled == self.data.len() {
            if self.data.len() >= 16 * 1024 * 1024 {
                bail!("HTTP response larger than 16 MiB");
            }
            self.data.resize(self.data.len() * 2, 0);
        }
        let first = self.filled == 0;
        match stream.read(&mut self.data[self.filled..]) {
            Ok(0) if first => Err(anyhow::Error::new(Stale("end of stream".into()))),
            Ok(0) => bail!("the server closed the connection in the middle of a response"),
            Ok(n) => {
                self.filled += n;
                Ok(())
            }
            Err(e) if first => Err(anyhow::Error::new(Stale(e.to_string()))),
            Err(e) => Err(e).context("reading the HTTP response"),
        }
    }

    /// Position of `needle` at or after `from`, reading more as needed.
    fn find_from(&mut self, stream: &mut impl Read, from: usize, needle: &[u8]) -> Result<usize> {
        loop {
            if let Some(i) = memchr::memmem::find(&self.data[from..self.filled], needle) {
                return Ok(from + i);
            }
            self.read_more(stream)?;
        }
    }

    /// Makes sure bytes `..end` have arrived.
    fn fill_to(&mut self, stream: &mut impl Read, end: usize) -> Result<()> {
        while self.filled < end {
            self.read_more(stream)?;
        }
        Ok(())
    }
}

/// The server under test: its address and a TLS client configuration that
/// trusts its (development) certificate.
#[derive(Clone)]
struct Endpoint {
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
}

struct HttpConn {
    target: Endpoint,
    stream: Option<TlsStream>,
    buf: ReadBuf,
    request: Vec<u8>,
}

impl HttpConn {
    fn new(target: &Endpoint) -> Self {
        Self {
            target: target.clone(),
            stream: None,
            buf: ReadBuf::new(),
            request: Vec::with_capacity(1024),
        }
    }

    fn connect(&mut self) -> Result<&mut TlsStream> {
        if self.stream.is_none() {
            let stream = tls::connect(self.target.addr, &self.target.tls, Duration::from_secs(30))?;
            self.stream = Some(stream);
        }
        self.stream.as_mut().ok_or_else(|| anyhow!("no connection"))
    }

    /// `POST path` with a form body (and the `Accept` header the Leptos client
    /// sends); reconnects once when a kept-alive connection turns out to be
    /// closed. `keep_headers` fills [`HttpResponse::headers`].
    fn post_form(
        &mut self,
        path: &str,
        form: &str,
        cookie: Option<&str>,
        keep_headers: bool,
    ) -> Result<HttpResponse> {
        self.request.clear();
        write!(
            self.request,
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            self.target.addr,
            form.len()
        )?;
        if let Some(cookie) = cookie {
            write!(self.request, "Cookie: {cookie}\r\n")?;
        }
        write!(self.request, "\r\n{form}")?;
        let reused = self.stream.is_some();
        match self.exchange(keep_headers) {
            Ok(resp) => Ok(resp),
            Err(e) if reused && e.downcast_ref::<Stale>().is_some() => {
                self.stream = None;
                self.exchange(keep_headers)
                    .inspect_err(|_| self.stream = None)
            }
            Err(e) => {
                self.stream = None;
                Err(e)
            }
        }
    }

    fn exchange(&mut self, keep_headers: bool) -> Result<HttpResponse> {
        let request = std::mem::take(&mut self.request);
        let sent = self.connect().and_then(|s| {
            s.write_all(&request)
                .map_err(|e| anyhow::Error::new(Stale(e.to_string())))
        });
        self.request = request;
        sent?;
        let stream = self
            .stream
            .as_mut()
            .ok_or_else(|| anyhow!("no connection"))?;
        let (resp, close) = read_response(stream, &mut self.buf, keep_headers)?;
        if close {
            self.stream = None;
        }
        Ok(resp)
    }
}

/// The connection was closed before any byte of a response arrived (a
/// kept-alive connection the server had dropped): safe to retry.
#[derive(Debug)]
struct Stale(String);

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "connection closed: {}", self.0)
    }
}

impl std::error::Error for Stale {}

/// The headers the client itself needs.
#[derive(Default)]
struct Framing {
    content_length: Option<usize>,
    chunked: bool,
    close: bool,
}

/// Parses the head (status line and header lines, without the final CRLF).
fn parse_head(head: &[u8], keep: bool) -> Result<(u16, Framing, Headers)> {
    let line_end = memchr::memchr(b'\n', head).unwrap_or(head.len());
    let status_line = &head[..line_end];
    // `HTTP/1.1 200 OK`
    let status = status_line
        .get(9..12)
        .filter(|_| status_line.starts_with(b"HTTP/1."))
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| {
            anyhow!(
                "not an HTTP status line: {:?}",
                String::from_utf8_lossy(status_line)
            )
        })?;
    let mut framing = Framing {
        close: status_line.starts_with(b"HTTP/1.0"),
        ..Framing::default()
    };
    let mut headers = Vec::new();
    let mut rest = head.get(line_end + 1..).unwrap_or(&[]);
    while !rest.is_empty() {
        let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let line = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or(&[]);
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let name = &line[..colon];
        let value = String::from_utf8_lossy(&line[colon + 1..]);
        let value = value.trim();
        if name.eq_ignore_ascii_case(b"content-length") {
            framing.content_length = value.parse().ok();
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            framing.chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case(b"connection") {
            framing.close |= value.to_ascii_lowercase().contains("close");
        }
        if keep {
            headers.push((
                String::from_utf8_lossy(name).trim().to_string(),
                value.to_string(),
            ));
        }
    }
    Ok((status, framing, headers))
}

/// Reads one response (Content-Length, chunked, or until close). Returns it
/// and whether the connection must be closed afterwards.
fn read_response(
    stream: &mut impl Read,
    buf: &mut ReadBuf,
    keep_headers: bool,
) -> Result<(HttpResponse, bool)> {
    buf.filled = 0;
    let head_end = buf.find_from(stream, 0, b"\r\n\r\n")?;
    let (status, framing, headers) = parse_head(&buf.bytes()[..head_end], keep_headers)?;
    let mut close = framing.close;
    let mut pos = head_end + 4;
    let body = if framing.chunked {
        let mut body = Vec::new();
        loop {
            let line_end = buf.find_from(stream, pos, b"\r\n")?;
            let size_text = String::from_utf8_lossy(&buf.bytes()[pos..line_end]);
            let size_text = size_text.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16)
                .with_context(|| format!("bad chunk size {size_text:?}"))?;
            pos = line_end + 2;
            if size == 0 {
                // Trailers, up to an empty line.
                loop {
                    let end = buf.find_from(stream, pos, b"\r\n")?;
                    let empty = end == pos;
                    pos = end + 2;
                    if empty {
                        break;
                    }
                }
                break;
            }
            buf.fill_to(stream, pos + size + 2)?;
            body.extend_from_slice(&buf.bytes()[pos..pos + size]);
            pos += size + 2;
        }
        body
    } else if let Some(len) = framing.content_length {
        buf.fill_to(stream, pos + len)?;
        buf.bytes()[pos..pos + len].to_vec()
    } else if status == 204 || status == 304 || (100..200).contains(&status) {
        Vec::new()
    } else {
        // Delimited by the end of the connection.
        close = true;
        while buf.read_more(stream).is_ok() {}
        buf.bytes()[pos.min(buf.filled)..].to_vec()
    };
    Ok((
        HttpResponse {
            status,
            headers,
            body,
        },
        close,
    ))
}

/// A logged-in tenant: its number and the `Cookie` header value.
#[derive(Clone)]
struct BenchSession {
    tenant: u32,
    cookie: String,
}

/// Signs `bench` in once in each tenant of `tenants` (bench<n>).
fn login_all(
    target: &Endpoint,
    tenants: RangeInclusive<u32>,
    password: &str,
) -> Result<Vec<BenchSession>> {
    let k = tenants.clone().count();
    util::step(format!(
        "logging in `{BENCH_USER}` in {k} tenant(s) (bench{}..bench{}) over HTTPS",
        tenants.start(),
        tenants.end()
    ));
    let start = Instant::now();
    let mut conn = HttpConn::new(target);
    let mut sessions = Vec::with_capacity(k);
    for n in tenants {
        let form = format!("clinic_code=bench{n}&username={BENCH_USER}&password={password}");
        let mut tries = 0;
        let resp = loop {
            let resp = conn.post_form(LOGIN_PATH, &form, None, true)?;
            tries += 1;
            if resp.status == 429 && tries < 30 {
                // Login throttling: wait as told (or a second) and retry.
                let wait = resp
                    .header_values("retry-after")
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(1)
                    .clamp(1, 30);
                std::thread::sleep(Duration::from_secs(wait));
                continue;
            }
            break resp;
        };
        if !(200..300).contains(&resp.status) {
            bail!(
                "login to bench{n} answered HTTP {}: {}",
                resp.status,
                resp.body_text()
            );
        }
        let value = resp
            .header_values("set-cookie")
            .filter_map(|v| v.split(';').next())
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, v)| *k == SESSION_COOKIE && !v.is_empty())
            .map(|(_, v)| v.to_string())
            .ok_or_else(|| {
                anyhow!(
                    "login to bench{n} answered HTTP {} without a {SESSION_COOKIE} cookie",
                    resp.status
                )
            })?;
        sessions.push(BenchSession {
            tenant: n,
            cookie: format!("{SESSION_COOKIE}={value}"),
        });
    }
    util::ok(format!(
        "{k} session(s) in {}",
        util::fmt_duration(start.elapsed())
    ));
    Ok(sessions)
}

/// Functional checks before measuring: each session reads one of its
/// patients (and gets that patient back), a session cannot read another
/// tenant's patient, and pgbench's SQL finds a row.
fn check_reads(app: &PgUrl, target: &Endpoint, sessions: &[BenchSession], k: u32) -> Result<()> {
    util::step("checking reads before measuring");
    let mut conn = HttpConn::new(target);
    for s in sessions {
        let p = 1 + (s.tenant * 37) % PATIENTS;
        let id = patient_uuid(s.tenant, p);
        let resp = conn.post_form(PATIENT_PATH, &format!("id={id}"), Some(&s.cookie), false)?;
        if resp.status != 200 {
            bail!(
                "POST {PATIENT_PATH} for patient {p} of bench{} answered HTTP {}: {}",
                s.tenant,
                resp.status,
                resp.body_text()
            );
        }
        let json: serde_json::Value = serde_json::from_slice(&resp.body).with_context(|| {
            format!(
                "POST {PATIENT_PATH} answered non-JSON: {}",
                resp.body_text()
            )
        })?;
        let mr = format!("MR-{p:06}");
        if json["id"].as_str() != Some(id.as_str()) || json["mr_number"].as_str() != Some(&mr) {
            bail!(
                "POST {PATIENT_PATH} for {id} of bench{} answered another patient: {}",
                s.tenant,
                resp.body_text()
            );
        }
    }
    util::ok(format!(
        "{} session(s) read their own patient",
        sessions.len()
    ));
    let other = if k >= 2 { 2 } else { TENANTS };
    let first = sessions.first().ok_or_else(|| anyhow!("no sessions"))?;
    let resp = conn.post_form(
        PATIENT_PATH,
        &format!("id={}", patient_uuid(other, 1)),
        Some(&first.cookie),
        false,
    )?;
    match resp.status {
        200 => bail!(
            "bench{}'s session read a patient of bench{other}: tenant isolation is broken: {}",
            first.tenant,
            resp.body_text()
        ),
        404 => util::ok("another tenant's patient is not found (HTTP 404)"),
        code => util::note(format!(
            "note: another tenant's patient answered HTTP {code} (expected 404): {}",
            resp.body_text()
        )),
    }
    // The pgbench transaction, on the last tenant and patient.
    let found = app.psql(&format!(
        "BEGIN;\nSELECT clinic.set_tenant({}) \\gset\nSELECT count(*) FROM ({}) AS x;\nROLLBACK;\n",
        tenant_uuid_sql(&k.to_string()),
        select_patient_sql(&k.to_string(), &PATIENTS.to_string())
    ))?;
    if found.lines().last().map(str::trim) != Some("1") {
        bail!(
            "pgbench's select found {found:?} rows for patient {PATIENTS} of bench{k}, expected 1"
        );
    }
    util::ok(format!(
        "pgbench's SQL finds patient {PATIENTS} of bench{k} as {APP_ROLE}"
    ));
    Ok(())
}

// ---------------------------------------------------------------------------
// (a) pgbench

struct PgbenchResult {
    tps: f64,
    latency_ms: f64,
    cpu: Option<CpuUse>,
}

/// The pgbench script: the server's transaction. `BEGIN` and `set_tenant`
/// are pipelined (one round trip, as the server's one simple-protocol
/// message), the select is a prepared statement (as sqlx's), then `COMMIT`.
fn pgbench_script(k: u32) -> String {
    format!(
        "\\set t random(1, {k})
\\set p random(1, {PATIENTS})
\\startpipeline
BEGIN;
SELECT clinic.set_tenant({tenant});
\\endpipeline
{select};
COMMIT;
",
        tenant = tenant_uuid_sql(":t::int"),
        select = select_patient_sql(":t::int", ":p::int"),
    )
}

/// `tps = 12345.678901 (without initial connection time)`.
fn parse_pgbench(out: &str) -> Option<(f64, f64)> {
    let tps = out
        .lines()
        .filter_map(|l| l.trim().strip_prefix("tps = "))
        .find(|l| l.contains("without initial connection time"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let latency = out
        .lines()
        .filter_map(|l| l.trim().strip_prefix("latency average = "))
        .find_map(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN);
    Some((tps, latency))
}

fn run_pgbench(
    ctx: &Ctx,
    app: &PgUrl,
    clients: u32,
    k: u32,
    duration: Duration,
    cpu: &CpuProbe,
) -> Result<PgbenchResult> {
    util::step(format!(
        "(a) pgbench as {APP_ROLE}: {clients} clients, {} s after a {} s warm-up",
        duration.as_secs(),
        WARMUP.as_secs()
    ));
    let script = pgbench_script(k);
    let script_path = ctx.state_dir.join("bench-read-patient.pgbench");
    fs::write(&script_path, &script)
        .with_context(|| format!("cannot write {}", script_path.display()))?;
    for line in script.lines() {
        util::note(format!("| {line}"));
    }
    let run = |secs: u64| -> Result<String> {
        let mut cmd = app.tool("pgbench");
        cmd.args(["-n", "-M", "prepared", "-f"])
            .arg(&script_path)
            .args(["-c", &clients.to_string()])
            .args(["-j", &clients.min(2).to_string()])
            .args(["-T", &secs.to_string()]);
        println!("    $ {}", util::display_cmd(&cmd));
        util::flush();
        let out = util::capture(&mut cmd)?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let failed_tx = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("number of failed transactions: "))
            .find_map(|l| l.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0);
        if !out.status.success() || failed_tx > 0 {
            bail!(
                "pgbench failed with {}:\n{}",
                util::describe_status(out.status),
                text.trim()
            );
        }
        Ok(text)
    };
    run(WARMUP.as_secs()).context("pgbench warm-up")?;
    let before = cpu.snapshot();
    let text = run(duration.as_secs())?;
    let after = cpu.snapshot();
    let (tps, latency_ms) = parse_pgbench(&text).ok_or_else(|| {
        anyhow!("cannot find `tps = … (without initial connection time)` in:\n{text}")
    })?;
    let cpu = cpu.between(&before, &after);
    util::ok(format!("{tps:.0} tx/s, average latency {latency_ms:.3} ms"));
    Ok(PgbenchResult {
        tps,
        latency_ms,
        cpu,
    })
}

// ---------------------------------------------------------------------------
// (b) HTTP load

struct HttpResult {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    attempts: u64,
    errors: u64,
    cpu: Option<CpuUse>,
}

impl HttpResult {
    fn error_rate(&self) -> f64 {
        if self.attempts == 0 {
            0.0
        } else {
            self.errors as f64 / self.attempts as f64
        }
    }
}

#[derive(Default)]
struct WorkerResult {
    /// Latencies (µs) of the successful requests started in the measured window.
    latencies_us: Vec<u32>,
    /// Requests started in the measured window.
    measured: u64,
    /// All requests, warm-up included.
    attempts: u64,
    errors: u64,
    samples: Vec<String>,
}

impl WorkerResult {
    fn absorb(&mut self, r: WorkerResult) {
        self.latencies_us.extend_from_slice(&r.latencies_us);
        self.measured += r.measured;
        self.attempts += r.attempts;
        self.errors += r.errors;
        for s in r.samples {
            if self.samples.len() < 5 {
                self.samples.push(s);
            }
        }
    }
}

/// When a read client sends: as fast as it can (`None`), or on a fixed
/// schedule from its first due time. On a schedule, latency counts from when
/// a request was due (a client that falls behind sends at once until it has
/// caught up), so a server stall shows in every request it delays rather than
/// only in the one that was in flight.
type Schedule = Option<(Instant, Duration)>;

fn http_worker(
    target: &Endpoint,
    sessions: &[BenchSession],
    schedule: Schedule,
    measure_from: Instant,
    end: Instant,
) -> WorkerResult {
    let mut conn = HttpConn::new(target);
    let mut rng = rand::thread_rng();
    let mut out = WorkerResult {
        latencies_us: Vec::with_capacity(1 << 16),
        ..WorkerResult::default()
    };
    let mut form = String::with_capacity(64);
    let mut next_due = schedule.map(|(first, _)| first);
    loop {
        let t0 = match (next_due.as_mut(), schedule) {
            (Some(due), Some((_, interval))) => {
                let t = *due;
                std::thread::sleep(t.saturating_duration_since(Instant::now()));
                *due += interval;
                t
            }
            _ => Instant::now(),
        };
        if t0 >= end {
            break;
        }
        let s = &sessions[rng.gen_range(0..sessions.len())];
        let p = rng.gen_range(1..=PATIENTS);
        form.clear();
        form.push_str("id=");
        form.push_str(&patient_uuid(s.tenant, p));
        let result = conn.post_form(PATIENT_PATH, &form, Some(&s.cookie), false);
        let elapsed = t0.elapsed();
        out.attempts += 1;
        let measured = t0 >= measure_from;
        if measured {
            out.measured += 1;
        }
        let failure = match result {
            Ok(resp) if resp.status == 200 => None,
            Ok(resp) => Some(format!("HTTP {}: {}", resp.status, resp.body_text())),
            Err(e) => Some(format!("{e:#}")),
        };
        match failure {
            None if measured => {
                out.latencies_us
                    .push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
            }
            None => {}
            Some(msg) => {
                out.errors += 1;
                if out.samples.len() < 5 {
                    out.samples
                        .push(format!("bench{} patient {p}: {msg}", s.tenant));
                }
                if msg.contains("cannot connect") {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }
    out
}

fn percentile_ms(sorted_us: &[u32], pct: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted_us.len() as f64 * pct / 100.0) as usize).min(sorted_us.len() - 1);
    f64::from(sorted_us[idx]) / 1000.0
}

/// Logins hammered alongside the reads: `clients` threads, each signing in
/// again and again with the right password, taking turns over `tenants`.
struct LoginFlood {
    clients: u32,
    tenants: Vec<u32>,
    password: String,
}

struct LoginResult {
    /// Successful logins per second in the measured window.
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Answered 429 (throttled): should stay 0 with correct passwords.
    throttled: u64,
    attempts: u64,
    errors: u64,
}

#[derive(Default)]
struct LoginWorkerResult {
    reads: WorkerResult,
    throttled: u64,
}

fn login_worker(
    target: &Endpoint,
    flood: &LoginFlood,
    first: usize,
    measure_from: Instant,
    end: Instant,
) -> LoginWorkerResult {
    let mut conn = HttpConn::new(target);
    let mut out = LoginWorkerResult::default();
    let step = flood.clients as usize;
    let mut i = first;
    loop {
        let t0 = Instant::now();
        if t0 >= end {
            break;
        }
        let n = flood.tenants[i % flood.tenants.len()];
        i += step;
        let form = format!(
            "clinic_code=bench{n}&username={BENCH_USER}&password={}",
            flood.password
        );
        let result = conn.post_form(LOGIN_PATH, &form, None, false);
        let elapsed = t0.elapsed();
        let w = &mut out.reads;
        w.attempts += 1;
        let measured = t0 >= measure_from;
        match result {
            Ok(resp) if resp.status == 200 => {
                if measured {
                    w.measured += 1;
                    w.latencies_us
                        .push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
                }
            }
            Ok(resp) if resp.status == 429 => {
                out.throttled += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            failed => {
                w.errors += 1;
                if w.samples.len() < 5 {
                    let msg = match failed {
                        Ok(resp) => format!("HTTP {}: {}", resp.status, resp.body_text()),
                        Err(e) => format!("{e:#}"),
                    };
                    w.samples.push(format!("login to bench{n}: {msg}"));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    out
}

/// Runs `clients` read clients (at `rate` reads per second in total, or
/// flat out when `None`) for a warm-up and then `duration`, with `flood`
/// running alongside when given.
fn measure(
    target: &Endpoint,
    sessions: &[BenchSession],
    clients: u32,
    rate: Option<u32>,
    duration: Duration,
    cpu: &CpuProbe,
    flood: Option<LoginFlood>,
) -> Result<(HttpResult, Option<LoginResult>)> {
    let sessions: Arc<Vec<BenchSession>> = Arc::new(sessions.to_vec());
    let start = Instant::now();
    let measure_from = start + WARMUP;
    let end = measure_from + duration;
    let interval = rate.map(|r| Duration::from_secs_f64(f64::from(clients) / f64::from(r)));
    let readers: Vec<_> = (0..clients)
        .map(|i| {
            let sessions = Arc::clone(&sessions);
            let target = target.clone();
            // Clients start staggered, so the schedule is even.
            let schedule = interval.map(|iv| (start + iv * i / clients, iv));
            std::thread::Builder::new()
                .name(format!("bench-http-{i}"))
                .spawn(move || http_worker(&target, &sessions, schedule, measure_from, end))
        })
        .collect::<std::io::Result<_>>()
        .context("cannot start the load generator threads")?;
    let flood = flood.map(Arc::new);
    let logins: Vec<_> = match &flood {
        None => Vec::new(),
        Some(flood) => (0..flood.clients)
            .map(|i| {
                let flood = Arc::clone(flood);
                let target = target.clone();
                std::thread::Builder::new()
                    .name(format!("bench-login-{i}"))
                    .spawn(move || login_worker(&target, &flood, i as usize, measure_from, end))
            })
            .collect::<std::io::Result<_>>()
            .context("cannot start the login threads")?,
    };
    std::thread::sleep(measure_from.saturating_duration_since(Instant::now()));
    let before = cpu.snapshot();
    std::thread::sleep(end.saturating_duration_since(Instant::now()));
    let after = cpu.snapshot();
    let mut all = WorkerResult::default();
    for w in readers {
        all.absorb(
            w.join()
                .map_err(|_| anyhow!("a load generator thread panicked"))?,
        );
    }
    let login = if flood.is_some() {
        let mut sum = LoginWorkerResult::default();
        for w in logins {
            let r = w.join().map_err(|_| anyhow!("a login thread panicked"))?;
            sum.throttled += r.throttled;
            sum.reads.absorb(r.reads);
        }
        sum.reads.latencies_us.sort_unstable();
        for s in &sum.reads.samples {
            util::note(format!("login error: {s}"));
        }
        Some(LoginResult {
            rate: sum.reads.latencies_us.len() as f64 / duration.as_secs_f64(),
            p50_ms: percentile_ms(&sum.reads.latencies_us, 50.0),
            p99_ms: percentile_ms(&sum.reads.latencies_us, 99.0),
            throttled: sum.throttled,
            attempts: sum.reads.attempts,
            errors: sum.reads.errors,
        })
    } else {
        None
    };
    all.latencies_us.sort_unstable();
    let ok = all.latencies_us.len() as f64;
    let result = HttpResult {
        rps: ok / duration.as_secs_f64(),
        p50_ms: percentile_ms(&all.latencies_us, 50.0),
        p99_ms: percentile_ms(&all.latencies_us, 99.0),
        attempts: all.attempts,
        errors: all.errors,
        cpu: cpu.between(&before, &after),
    };
    for s in &all.samples {
        util::note(format!("error: {s}"));
    }
    util::ok(format!(
        "reads: {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms); {} requests, {} errors",
        result.rps, result.p50_ms, result.p99_ms, all.attempts, all.errors
    ));
    if let Some(l) = &login {
        util::ok(format!(
            "logins: {:.1}/s (p50 {:.0} ms, p99 {:.0} ms); {} attempts, {} throttled, {} errors",
            l.rate, l.p50_ms, l.p99_ms, l.attempts, l.throttled, l.errors
        ));
    }
    Ok((result, login))
}

fn run_http(
    target: &Endpoint,
    sessions: &[BenchSession],
    clients: u32,
    duration: Duration,
    cpu: &CpuProbe,
) -> Result<HttpResult> {
    util::step(format!(
        "(b) HTTP POST {PATIENT_PATH}: {clients} keep-alive clients over {} session(s), {} s after a {} s warm-up",
        sessions.len(),
        duration.as_secs(),
        WARMUP.as_secs()
    ));
    measure(target, sessions, clients, None, duration, cpu, None).map(|(reads, _)| reads)
}

// ---------------------------------------------------------------------------
// login

/// p99 of the reads under the login flood may be at most this multiple of
/// their p99 alone.
const LOGIN_BUDGET_RATIO: f64 = 2.0;

#[derive(Parser, Debug)]
#[command(
    name = "cargo xtask bench login",
    about = "Read-one-patient latency alone, then while clients flood POST /api/auth/login \
             with correct passwords (argon2id); budget p99(flood) <= 2 x p99(idle)"
)]
struct LoginArgs {
    /// Read-one-patient clients (connections), in both phases. Enough of them
    /// that a slow answer on one does not hold back the schedule.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=128))]
    read_clients: u32,
    /// Reads per second in total, on a fixed schedule: a steady load well
    /// below saturation, the same in both phases; latency counts from when a
    /// read was due. 0 = every read client as fast as it can.
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    read_rate: u32,
    /// Concurrent login clients in the flood phase.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    login_clients: u32,
    /// Distinct operator accounts the login clients take turns on (user
    /// `bench` of the tenants after the read tenants), so no per-account limit
    /// is what holds them back.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=500))]
    login_users: u32,
    /// Exit non-zero when the budget is missed (otherwise the verdict is only printed).
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    common: CommonArgs,
}

fn login(ctx: &Ctx, args: &[String]) -> Result<()> {
    let Some(opts) = parse_args::<LoginArgs>("login", args)? else {
        return Ok(());
    };
    let total = Instant::now();
    let common = &opts.common;
    let duration = Duration::from_secs(common.seconds);
    let readers = common.tenants;
    let users = readers + opts.login_users;
    if users > TENANTS {
        bail!(
            "--tenants ({readers}) + --login-users ({}) must not exceed the {TENANTS} bench tenants",
            opts.login_users
        );
    }
    let mut bench = prepare(ctx, common, users)?;
    let target = &bench.target;

    let sessions = login_all(target, 1..=readers, &bench.password)?;
    check_reads(&bench.app, target, &sessions, readers)?;
    // Every flood account once: each must sign in with the password alone.
    login_all(target, readers + 1..=users, &bench.password)?;

    let rate = (opts.read_rate > 0).then_some(opts.read_rate);
    let pace = rate.map_or_else(
        || "as fast as they can".to_string(),
        |r| format!("{r} reads/s in total"),
    );
    let cpu = CpuProbe::new(&bench.pg, bench.server.pid());
    util::step(format!(
        "(1) idle: {} read clients ({pace}), {} s after a {} s warm-up",
        opts.read_clients,
        duration.as_secs(),
        WARMUP.as_secs()
    ));
    let (idle, _) = measure(
        target,
        &sessions,
        opts.read_clients,
        rate,
        duration,
        &cpu,
        None,
    )?;
    util::step(format!(
        "(2) flood: the same reads + {} login clients over {} accounts (bench{}..bench{users})",
        opts.login_clients,
        opts.login_users,
        readers + 1
    ));
    let flood = LoginFlood {
        clients: opts.login_clients,
        tenants: (readers + 1..=users).collect(),
        password: bench.password.clone(),
    };
    let (busy, logins) = measure(
        target,
        &sessions,
        opts.read_clients,
        rate,
        duration,
        &cpu,
        Some(flood),
    )?;
    let logins = logins.ok_or_else(|| anyhow!("the login flood reported nothing"))?;
    let spinners = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_sub(1)
        .max(1);
    util::step(format!(
        "(3) control: the same reads + {spinners} busy loop(s) at idle CPU priority (no logins): \
         what merely keeping a core busy costs the reads on this machine"
    ));
    let control = {
        let _spin = IdleSpinners::start(spinners);
        measure(
            target,
            &sessions,
            opts.read_clients,
            rate,
            duration,
            &cpu,
            None,
        )?
        .0
    };
    bench.server.stop();

    let ratio = busy.p99_ms / idle.p99_ms;
    let budget_ok = ratio <= LOGIN_BUDGET_RATIO;
    let errors_ok = idle.error_rate() <= MAX_ERROR_RATE
        && busy.error_rate() <= MAX_ERROR_RATE
        && logins.errors == 0;
    let pass = |ok: bool| if ok { "PASS" } else { "FAIL" };
    println!();
    util::step(format!(
        "login ({} read clients, {pace}; {} login clients over {} accounts; {} s each; {} cores)",
        opts.read_clients,
        opts.login_clients,
        opts.login_users,
        common.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    ));
    println!(
        "  (1) reads alone      : {:>6.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
        idle.rps, idle.p50_ms, idle.p99_ms
    );
    println!(
        "  (2) reads + logins   : {:>6.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
        busy.rps, busy.p50_ms, busy.p99_ms
    );
    println!(
        "      logins           : {:>6.1} /s     p50 {:>6.0} ms  p99 {:>6.0} ms  ({} throttled, {} failed)",
        logins.rate, logins.p50_ms, logins.p99_ms, logins.throttled, logins.errors
    );
    println!(
        "  (3) reads + idle spin:  {:>6.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
        control.rps, control.p50_ms, control.p99_ms
    );
    println!(
        "  ratio p99(2)/p99(1): {ratio:.2}   budget <= {LOGIN_BUDGET_RATIO:.1}: {}",
        pass(budget_ok)
    );
    println!(
        "  ratio p99(2)/p99(3): {:.2}   (the logins against a do-nothing load of the same CPU priority)",
        busy.p99_ms / control.p99_ms
    );
    if !errors_ok {
        println!(
            "  errors: reads {} of {} alone, {} of {} with logins; logins {} of {}: FAIL",
            idle.errors, idle.attempts, busy.errors, busy.attempts, logins.errors, logins.attempts
        );
    }
    if let Some(cpu) = &idle.cpu {
        println!("  cpu during (1): {}", cpu.render("load generator (xtask)"));
    }
    if let Some(cpu) = &busy.cpu {
        println!("  cpu during (2): {}", cpu.render("load generator (xtask)"));
    }
    if let Some(cpu) = &control.cpu {
        println!("  cpu during (3): {}", cpu.render("load generator (xtask)"));
    }
    let noisy: Vec<String> = [("(1)", &idle.cpu), ("(2)", &busy.cpu)]
        .into_iter()
        .filter_map(|(side, cpu)| Some((side, cpu.as_ref()?.other())))
        .filter(|(_, other)| *other > NOISY_OTHER_PERCENT)
        .map(|(side, other)| format!("{other:.0} % of a core during {side}"))
        .collect();
    if !noisy.is_empty() {
        println!(
            "  note: other processes used {}: the numbers are noisy; rerun on an idle machine",
            noisy.join(" and ")
        );
    }
    println!("  total time {}", util::fmt_duration(total.elapsed()));
    bench.note_cluster();
    util::flush();

    if opts.strict && !(budget_ok && errors_ok) {
        bail!(
            "login: {}",
            if budget_ok {
                "requests failed (see above)".to_string()
            } else {
                format!("read p99 under the login flood is {ratio:.2} x its idle value, above {LOGIN_BUDGET_RATIO:.1}")
            }
        );
    }
    Ok(())
}

/// Threads that spin at idle CPU priority (Linux `SCHED_IDLE`, like the
/// server's hashing threads) until dropped: the control load of `bench login`.
struct IdleSpinners {
    stop: Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl IdleSpinners {
    fn start(n: usize) -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        use thread_priority::{
            set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy,
            ThreadPriority, ThreadSchedulePolicy,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|_| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
                    if set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle)
                        .is_err()
                    {
                        eprintln!("warning: the control spinner keeps normal priority");
                    }
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        Self { stop, threads }
    }
}

impl Drop for IdleSpinners {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------
// EXPLAIN

struct PlanCheck {
    ok: bool,
    summary: String,
}

fn uses_pkey(plan: &str) -> bool {
    plan.lines().any(|l| {
        let l = l.trim().trim_start_matches("->").trim();
        l.starts_with("Index Scan using patients_pkey")
            || l.starts_with("Index Only Scan using patients_pkey")
    })
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of the select as the runtime role with the
/// tenant set (row-level security applies), once as written and once as the
/// generic plan of the prepared statement the server keeps.
fn explain(app: &PgUrl) -> Result<PlanCheck> {
    util::step(format!(
        "EXPLAIN of the read under row-level security (as {APP_ROLE}, tenant bench1)"
    ));
    let tenant = tenant_uuid(1);
    let patient = patient_uuid(1, 500);
    const MARK: &str = "--- generic plan ---";
    let out = app.psql(&format!(
        "BEGIN;
SELECT clinic.set_tenant('{tenant}'::uuid) \\gset
EXPLAIN (ANALYZE, BUFFERS) SELECT {PATIENT_COLUMNS} FROM clinic.patients
 WHERE tenant_id = '{tenant}'::uuid AND id = '{patient}'::uuid;
\\echo '{MARK}'
SET LOCAL plan_cache_mode = force_generic_plan;
PREPARE bench_read(uuid, uuid) AS
 SELECT {PATIENT_COLUMNS} FROM clinic.patients WHERE tenant_id = $1 AND id = $2;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_read('{tenant}', '{patient}');
ROLLBACK;
"
    ))?;
    let (custom, generic) = out
        .split_once(MARK)
        .ok_or_else(|| anyhow!("unexpected EXPLAIN output:\n{out}"))?;
    let (custom, generic) = (custom.trim(), generic.trim());
    util::note(format!(
        "EXPLAIN (ANALYZE, BUFFERS) SELECT {PATIENT_COLUMNS} FROM clinic.patients WHERE tenant_id = '{tenant}' AND id = '{patient}'"
    ));
    for line in custom.lines() {
        util::note(format!("  {line}"));
    }
    util::note("the same as a prepared statement, generic plan (what a long-lived server connection may use):");
    for line in generic.lines() {
        util::note(format!("  {line}"));
    }
    let (custom_ok, generic_ok) = (uses_pkey(custom), uses_pkey(generic));
    let scan = custom
        .lines()
        .map(|l| l.trim().trim_start_matches("->").trim())
        .find(|l| l.starts_with("Index Scan") || l.starts_with("Index Only Scan"))
        .or_else(|| custom.lines().next())
        .unwrap_or("(no plan)");
    let scan = scan.split("  (").next().unwrap_or(scan).trim();
    let summary = format!(
        "{scan} (custom plan {}, generic plan {})",
        if custom_ok {
            "ok"
        } else {
            "NOT on patients_pkey"
        },
        if generic_ok {
            "ok"
        } else {
            "NOT on patients_pkey"
        }
    );
    Ok(PlanCheck {
        ok: custom_ok && generic_ok,
        summary,
    })
}

// ---------------------------------------------------------------------------
// CPU accounting from /proc (Linux): who used the 2 shared cores during a
// measured window. Best effort: `None` when /proc cannot be read.

struct CpuProbe {
    postmaster: Option<u32>,
    server: Option<u32>,
    ticks_per_sec: f64,
    cores: usize,
}

#[derive(Clone, Copy)]
struct CpuSnap {
    at: Instant,
    /// Busy and total jiffies of the whole machine (/proc/stat).
    machine_busy: u64,
    /// xtask itself: the HTTP load generator threads.
    this: u64,
    /// Finished children of xtask (pgbench once it has been waited for).
    children: u64,
    server: u64,
    /// The postmaster with its finished children, plus the live backends.
    postgres: u64,
}

struct CpuUse {
    cores: usize,
    machine: f64,
    this: f64,
    children: f64,
    server: f64,
    postgres: f64,
}

impl CpuProbe {
    fn new(pg: &Pg, server: Option<u32>) -> Self {
        let postmaster = fs::read_to_string(pg.data.join("postmaster.pid"))
            .ok()
            .and_then(|t| t.lines().next()?.trim().parse().ok());
        let ticks_per_sec = util::capture_stdout(Command::new("getconf").arg("CLK_TCK"))
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(100.0);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            postmaster,
            server,
            ticks_per_sec,
            cores,
        }
    }

    fn snapshot(&self) -> Option<CpuSnap> {
        let stat = fs::read_to_string("/proc/stat").ok()?;
        let cpu: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .take(8)
            .filter_map(|v| v.parse().ok())
            .collect();
        if cpu.len() < 5 {
            return None;
        }
        let machine_total: u64 = cpu.iter().sum();
        let machine_busy = machine_total - cpu[3] - cpu[4];
        let me = proc_stat("self")?;
        let server = self
            .server
            .and_then(|pid| proc_stat(&pid.to_string()))
            .map_or(0, |s| s.utime + s.stime);
        let postgres = match self.postmaster {
            Some(pm) => {
                let mut total = proc_stat(&pm.to_string())
                    .map_or(0, |s| s.utime + s.stime + s.cutime + s.cstime);
                for entry in fs::read_dir("/proc").ok()?.flatten() {
                    let name = entry.file_name();
                    let name = name.to_string_lossy();
                    if !name.bytes().all(|b| b.is_ascii_digit()) {
                        continue;
                    }
                    if let Some(s) = proc_stat(&name) {
                        if s.ppid == pm {
                            total += s.utime + s.stime;
                        }
                    }
                }
                total
            }
            None => 0,
        };
        Some(CpuSnap {
            at: Instant::now(),
            machine_busy,
            this: me.utime + me.stime,
            children: me.cutime + me.cstime,
            server,
            postgres,
        })
    }
}

impl CpuProbe {
    /// CPU used between two snapshots, in percent of one core.
    fn between(&self, before: &Option<CpuSnap>, after: &Option<CpuSnap>) -> Option<CpuUse> {
        let (b, a) = (before.as_ref()?, after.as_ref()?);
        let secs = a.at.duration_since(b.at).as_secs_f64();
        if secs <= 0.0 {
            return None;
        }
        let scale = 100.0 / self.ticks_per_sec / secs;
        let pct = |x: u64, y: u64| x.saturating_sub(y) as f64 * scale;
        Some(CpuUse {
            cores: self.cores,
            machine: pct(a.machine_busy, b.machine_busy),
            this: pct(a.this, b.this),
            children: pct(a.children, b.children),
            server: pct(a.server, b.server),
            postgres: pct(a.postgres, b.postgres),
        })
    }
}

impl CpuUse {
    /// Everything else that ran on the machine meanwhile (other builds,
    /// kernel work not charged to a process).
    fn other(&self) -> f64 {
        (self.machine - self.postgres - self.server - self.this - self.children).max(0.0)
    }

    /// `postgres 120 %, server 45 %, load generator 20 %, other 10 % of 200 %`.
    fn render(&self, client: &str) -> String {
        let client_pct = self.this + self.children;
        let other = self.other();
        let mut parts = vec![format!("postgres {:.0} %", self.postgres)];
        if self.server > 0.0 {
            parts.push(format!("server {:.0} %", self.server));
        }
        parts.push(format!("{client} {client_pct:.0} %"));
        parts.push(format!("other {other:.0} %"));
        let cores = if self.cores > 0 {
            format!(" of {} %", self.cores * 100)
        } else {
            String::new()
        };
        format!(
            "{} (machine busy {:.0} %{cores}; % of one core)",
            parts.join(", "),
            self.machine
        )
    }

    /// CPU time per operation at `rate` operations per second:
    /// `postgres 85 µs, server 150 µs, pgbench 110 µs`.
    fn per_op(&self, client: &str, rate: f64) -> String {
        let us = |pct: f64| pct / 100.0 * 1e6 / rate;
        let mut parts = vec![format!("postgres {:.0} µs", us(self.postgres))];
        if self.server > 0.0 {
            parts.push(format!("server {:.0} µs", us(self.server)));
        }
        parts.push(format!("{client} {:.0} µs", us(self.this + self.children)));
        parts.join(", ")
    }
}

struct ProcStat {
    ppid: u32,
    utime: u64,
    stime: u64,
    cutime: u64,
    cstime: u64,
}

/// Fields of `/proc/<pid>/stat` (the command name may contain spaces and
/// parentheses, so parsing starts after the last `)`).
fn proc_stat(pid: &str) -> Option<ProcStat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_proc_stat(&text)
}

fn parse_proc_stat(text: &str) -> Option<ProcStat> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // f[0] is field 3 (state); field N is f[N - 3].
    let num = |i: usize| f.get(i - 3)?.parse::<u64>().ok();
    Some(ProcStat {
        ppid: u32::try_from(num(4)?).ok()?,
        utime: num(14)?,
        stime: num(15)?,
        cutime: num(16)?,
        cstime: num(17)?,
    })
}

/// `1000000` → `1,000,000`.
fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids() {
        assert_eq!(tenant_uuid(1000), "00000000-0000-4000-8000-0000000003e8");
        assert_eq!(
            patient_uuid(1000, 1),
            "000003e8-0000-4000-8000-000000000001"
        );
        assert_eq!(
            tenant_uuid_sql("n"),
            "('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid"
        );
    }

    #[test]
    fn pgbench_output() {
        let out = "number of failed transactions: 0 (0.000%)\n\
                   latency average = 0.648 ms\n\
                   initial connection time = 12.345 ms\n\
                   tps = 12345.678901 (without initial connection time)\n";
        assert_eq!(parse_pgbench(out), Some((12345.678901, 0.648)));
        assert_eq!(parse_pgbench("nothing"), None);
    }

    #[test]
    fn urls() {
        let u = PgUrl::parse(
            "postgres://healipro_app:abc123@127.0.0.1:25433/healipro_bench",
            APP_ROLE,
        )
        .unwrap();
        assert_eq!(
            (
                u.user.as_str(),
                u.password.as_str(),
                u.host.as_str(),
                u.port,
                u.db.as_str()
            ),
            (
                "healipro_app",
                "abc123",
                "127.0.0.1",
                25433,
                "healipro_bench"
            )
        );
        assert!(PgUrl::parse("postgres://x:y@h:1/d", APP_ROLE).is_err());
    }

    /// A reader that hands out at most `step` bytes per call.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn http_content_length() {
        let raw = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nSet-Cookie: a=b; Path=/\r\n\r\nhello";
        let mut buf = ReadBuf::new();
        for step in [1, 3, raw.len()] {
            let mut r = Trickle { data: raw, step };
            let (resp, close) = read_response(&mut r, &mut buf, true).unwrap();
            assert_eq!(
                (resp.status, resp.body.as_slice(), close),
                (200, &b"hello"[..], false)
            );
            assert_eq!(resp.header_values("set-cookie").next(), Some("a=b; Path=/"));
        }
        let (resp, _) = read_response(&mut &raw[..], &mut buf, false).unwrap();
        assert!(resp.headers.is_empty());
    }

    #[test]
    fn http_chunked_close_and_eof() {
        let raw =
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                    3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        let mut buf = ReadBuf::new();
        for step in [1, 7, raw.len()] {
            let mut r = Trickle { data: raw, step };
            let (resp, close) = read_response(&mut r, &mut buf, false).unwrap();
            assert_eq!(
                (resp.status, resp.body.as_slice(), close),
                (404, &b"abcde"[..], true)
            );
        }
        let raw = b"HTTP/1.0 500 Oops\r\n\r\nbroken";
        let (resp, close) = read_response(&mut &raw[..], &mut buf, false).unwrap();
        assert_eq!(
            (resp.status, resp.body.as_slice(), close),
            (500, &b"broken"[..], true)
        );
        let mut empty: &[u8] = b"";
        let err = read_response(&mut empty, &mut buf, false).err().unwrap();
        assert!(err.downcast_ref::<Stale>().is_some());
        let mut cut: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nabc";
        let err = read_response(&mut cut, &mut buf, false).err().unwrap();
        assert!(err.downcast_ref::<Stale>().is_none());
    }

    #[test]
    fn proc_stat_fields() {
        let line = "1234 (my (odd) name) S 1 1234 1234 0 -1 4194304 100 0 0 0 \
                    250 50 7 3 20 0 1 0 100 1000 10";
        let s = parse_proc_stat(line).unwrap();
        assert_eq!(
            (s.ppid, s.utime, s.stime, s.cutime, s.cstime),
            (1, 250, 50, 7, 3)
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(group_thousands(1_000_000), "1,000,000");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(percentile_ms(&[1000, 2000, 3000, 4000], 50.0), 3.0);
        assert!(percentile_ms(&[], 50.0).is_nan());
    }

    #[test]
    fn plan_check() {
        let plan =
            "Index Scan using patients_pkey on patients  (cost=0.42..8.45 rows=1 width=70)\n  \
                    Index Cond: ((tenant_id = clinic.current_tenant()) AND (id = '…'::uuid))";
        assert!(uses_pkey(plan));
        assert!(!uses_pkey("Seq Scan on patients"));
        assert!(!uses_pkey(
            "Index Scan using patients_tenant_name_key on patients"
        ));
    }
}
