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
//! - `search`: on the same data and in one clinic of 200,000 patients
//!   (`benchxl0`), CNIC and phone lookups through the blind indexes and name
//!   lookups typed with other spellings, initials and typos: pgbench running
//!   the server's search SQL with real values against the server's
//!   `POST /api/patients/list`, p50/p95/p99 of both side by side; budget:
//!   server p95 < 50 ms.
//!
//! - `audit`: on the same data, the patient-update transaction the server
//!   runs for a request (verify the session token and load the live session
//!   in the tenant transaction, read, re-encrypt, write, read back), by 8 writers
//!   spread over 100 clinics, without and then with its audit entry
//!   (alternated twice; budget: with ≥ 75 % of without), then 8 writers all
//!   in one clinic, where the per-tenant audit lock serialises them (budget:
//!   ≥ 500 appends/s). For comparison it also prints the ratio for the bare
//!   update without the request's authentication (the measure until
//!   2026-11-29). The workload runs inside the release binary (hidden
//!   `healipro demo bench-audit`), which holds the keys.
//!
//! The data is loaded by SQL (names from `core/data/pk_names.csv`, see
//! `bench_names.rs`), except the patients' CNIC, phone and address:
//! they are encrypted and blind-indexed under keys only the server can
//! unwrap, so `healipro demo fill-identifiers` (a hidden load tool of the
//! release binary) fills them.

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
use strsim::levenshtein;

use crate::pg::{self, Pg, APP_ROLE, OWNER_ROLE};

#[path = "bench_names.rs"]
mod names;
use crate::tls::{self, TlsStream};
use crate::tools::{self, PG_BIN_DIR};
use crate::util::{self, Ctx, SERVER_BIN};
use names::NameList;

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
    (
        "search",
        "CNIC, phone and name lookups, at 1,000 x 1,000 and in a clinic of 200,000: pgbench \
         running the same SQL vs the server's POST /api/patients/list, p50/p95/p99; budget \
         server p95 < 50 ms",
    ),
    (
        "audit",
        "patient updates with vs without their audit entry (budget >= 75 %), and 8 writers \
         appending in one clinic (budget >= 500 appends/s)",
    ),
];

/// Runs the benchmark called `name` with extra `args`.
pub fn run(ctx: &Ctx, name: &str, args: &[String]) -> Result<()> {
    match name {
        "read-patient" => read_patient(ctx, args),
        "login" => login(ctx, args),
        "search" => search(ctx, args),
        "audit" => audit(ctx, args),
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
    println!("Benchmarks (`cargo xtask bench <name> --help` for options):");
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
/// Markers of older loads (database comments): their rows are kept, their
/// patients renamed from the names list (v1 also lacks identifiers).
const OLD_MARKERS: [&str; 2] = [
    "healipro bench read-patient: 1000 tenants x 1000 patients (v1)",
    "healipro bench: 1000 tenants x 1000 patients with CNIC, phone, address (v2)",
];
/// Written as the database comment once every row is loaded, so an
/// interrupted load is never mistaken for a complete one; identifiers may
/// still be missing (the fill resumes).
const ROWS_MARKER: &str = "healipro bench: 1000 tenants x 1000 patients and one clinic of \
                           200000, names from pk_names.csv (v3 rows)";
/// The comment once every patient also has a CNIC, phone and address.
const IDENTIFIERS_MARKER: &str = "healipro bench: 1000 tenants x 1000 patients and one clinic of \
                                  200000, names from pk_names.csv, with CNIC, phone, address (v3)";
/// The clinic codes are `bench1`..`bench1000`.
const TENANT_PREFIX: &str = "bench";
/// The one large clinic, `benchxl0`: tenant number 0 (uuids `tenant_uuid(0)`,
/// `patient_uuid(0, p)`; `healipro demo fill-identifiers --tenant-prefix
/// benchxl` gives it the identifiers of n = 0).
const LARGE: u32 = 0;
const LARGE_PREFIX: &str = "benchxl";
const LARGE_PATIENTS: u32 = 200_000;
const BENCH_USER: &str = "bench";
const WARMUP: Duration = Duration::from_secs(2);
/// (b) must reach this share of (a).
const BUDGET_PERCENT: f64 = 60.0;
/// Above this CPU use by other processes (percent of one core) during a
/// measured window, the results are flagged as noisy.
const NOISY_OTHER_PERCENT: f64 = 20.0;
/// Largest share of failed HTTP requests tolerated.
const MAX_ERROR_RATE: f64 = 0.001;
/// The columns the server selects (`COLUMNS` in core/src/patients/repo.rs).
const PATIENT_COLUMNS: &str = "id, mr_number, full_name, father_or_husband_name, sex, \
                               date_of_birth, date_of_birth_estimated, cnic_enc, phone_enc, \
                               address_enc";
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
    #[command(flatten)]
    load: Clients,
    #[command(flatten)]
    common: CommonArgs,
}

/// The load of a pgbench-against-HTTP benchmark.
#[derive(clap::Args, Debug)]
struct Clients {
    /// Concurrent clients, for pgbench and for the HTTP load generator alike.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=128))]
    clients: u32,
}

/// Options every HTTP benchmark on the `healipro_bench` data shares.
#[derive(clap::Args, Debug)]
struct CommonArgs {
    /// Measured seconds for each side or phase (each after a 2 s warm-up that is not counted).
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    seconds: u64,
    /// How many tenants (the first K of the 1,000) get a logged-in session;
    /// every read is in one of them (`search`: its 128 patients are spread
    /// over them).
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
    /// The owner role on `healipro_bench` (bypasses row-level security).
    owner: PgUrl,
    target: Endpoint,
    server: Server,
    password: String,
}

impl Prepared {
    /// The last lines of a report.
    fn finish(&self, total: Instant) {
        println!("  total time {}", util::fmt_duration(total.elapsed()));
        if self.started_cluster {
            util::note(format!(
                "PostgreSQL (port {}) was started for this run and is left running; \
                 `cargo xtask db stop` stops it",
                self.port
            ));
        }
        util::flush();
    }
}

/// Flags the phases in which other processes took a noticeable share of the
/// shared cores.
fn print_noise(phases: &[(&str, &Option<CpuUse>)]) {
    let busy: Vec<String> = phases
        .iter()
        .filter_map(|(phase, cpu)| Some((phase, cpu.as_ref()?.other())))
        .filter(|(_, other)| *other > NOISY_OTHER_PERCENT)
        .map(|(phase, other)| format!("{other:.0} % of a core during {phase}"))
        .collect();
    if !busy.is_empty() {
        println!(
            "  note: other processes used {}: everything shares the cores with them, so the \
             numbers are noisy; rerun on an idle machine to confirm",
            busy.join(" and ")
        );
    }
}

/// The release binary (built unless `no_build`), the running dev cluster and
/// the benchmark database, loaded or reused, with the environment pointing at it.
struct BenchData {
    bin: PathBuf,
    pg: Pg,
    port: u16,
    started_cluster: bool,
    env: BTreeMap<String, String>,
    dev_cert: tls::DevCert,
    /// The owner role on `healipro_bench`.
    owner: PgUrl,
}

fn bench_data(ctx: &Ctx, no_build: bool, reload: bool) -> Result<BenchData> {
    if no_build {
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
    let owner = PgUrl::parse(&env["DATABASE_OWNER_URL"], OWNER_ROLE)?;
    prepare_database(ctx, &pg, port, &bin, &env, &owner, reload)?;
    Ok(BenchData {
        bin,
        pg,
        port,
        started_cluster,
        env,
        dev_cert,
        owner,
    })
}

/// Builds (unless `--no-build`), loads or reuses the data, prepares the
/// users and starts the release server over HTTPS on a fresh port.
fn prepare(ctx: &Ctx, opts: &CommonArgs, users: u32) -> Result<Prepared> {
    let data = bench_data(ctx, opts.no_build, opts.reload)?;
    let BenchData {
        bin,
        pg,
        port,
        started_cluster,
        mut env,
        dev_cert,
        owner,
    } = data;
    let app = PgUrl::parse(&env["DATABASE_URL"], APP_ROLE)?;
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
        owner,
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

    let clients = opts.load.clients;
    let sessions = login_all(target, 1..=common.tenants, &bench.password)?;
    check_reads(app, target, &sessions, common.tenants)?;

    let cpu = CpuProbe::new(&bench.pg, bench.server.pid());
    let script = pgbench_script(common.tenants);
    let a = run_pgbench(ctx, app, "read-patient", &[script], clients, duration, &cpu)?;
    let reads = Arc::new(Reads {
        sessions,
        kind: ReadKind::Patient,
    });
    let b = run_http(target, &reads, clients, duration, &cpu)?;
    bench.server.stop();

    let (tenant, patient) = (tenant_uuid(1), patient_uuid(1, 500));
    let plan = explain(
        app,
        &PlanProbe {
            tenant: &tenant,
            sql: format!(
                "SELECT {PATIENT_COLUMNS} FROM clinic.patients WHERE tenant_id = $1 AND id = $2"
            ),
            types: "uuid, uuid",
            args: format!("'{tenant}', '{patient}'"),
            index: "patients_pkey",
            role: None,
        },
    )?;

    let ratio = 100.0 * b.rps / a.tps;
    let budget_ok = ratio >= BUDGET_PERCENT;
    let pass = |ok: bool| if ok { "PASS" } else { "FAIL" };
    println!();
    util::step(format!(
        "read-patient ({TENANTS} tenants x {PATIENTS} patients, {} tenants logged in, {} clients, {} s)",
        common.tenants, clients, common.seconds
    ));
    let a_num = format!("{:.0}", a.tps);
    let b_num = format!("{:.0}", b.rps);
    let width = a_num.len().max(b_num.len());
    println!(
        "  (a) pgbench  set_tenant + select by pk : {a_num:>width$} tx/s   (p50 {:.2} ms, p99 {:.2} ms)",
        a.p50_ms, a.p99_ms
    );
    println!(
        "  (b) HTTP     POST {PATIENT_PATH}    : {b_num:>width$} req/s  (p50 {:.2} ms, p99 {:.2} ms)",
        b.p50_ms, b.p99_ms
    );
    let errors_ok = b.report_errors("      ");
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
    print_noise(&[("(a)", &a.cpu), ("(b)", &b.cpu)]);
    bench.finish(total);

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
    /// password travels in the environment, never on the command line. The
    /// database too: `-d` names it for psql but turns on debug output in
    /// pgbench.
    fn tool(&self, tool: &str) -> Command {
        let mut cmd = Command::new(Path::new(PG_BIN_DIR).join(tool));
        cmd.args(["-h", &self.host, "-p", &self.port.to_string()])
            .args(["-U", &self.user])
            .env("PGDATABASE", &self.db)
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

/// Vacuums the tables the load fills, so that the measured runs see the
/// steady state autovacuum keeps (visibility map for index-only scans of the
/// name vocabulary, statistics).
const VACUUM_LOADED: &str =
    "VACUUM (ANALYZE) platform.tenants, clinic.patients, clinic.patient_name_words;";

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

/// What [`inspect_database`] found.
enum Found {
    /// Load from scratch, for this reason.
    Reload(String),
    /// The 1,000 clinics' rows are there (and migrated).
    Rows(Counts),
}

/// The state of a loaded benchmark database.
#[derive(Debug, PartialEq)]
struct Counts {
    marker: String,
    /// Patients of bench1..bench1000 without a CNIC yet.
    missing: u64,
    /// Patients of the large clinic, and those without a CNIC yet.
    large: u64,
    large_missing: u64,
}

impl Counts {
    fn complete(&self) -> bool {
        self.marker == IDENTIFIERS_MARKER
            && self.missing == 0
            && self.large == u64::from(LARGE_PATIENTS)
            && self.large_missing == 0
    }
}

/// `1000 1000000 0 200000 0` (bench tenants, their patients, those without
/// CNIC, the large clinic's patients, those without CNIC) → the counts, when
/// the 1,000 clinics are complete.
fn parse_counts(marker: &str, line: &str) -> Option<Counts> {
    let f: Vec<u64> = line
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let [tenants, rows, missing, large, large_missing] = f[..] else {
        return None;
    };
    (tenants == u64::from(TENANTS) && rows == u64::from(TENANTS) * u64::from(PATIENTS)).then(|| {
        Counts {
            marker: marker.to_string(),
            missing,
            large,
            large_missing,
        }
    })
}

/// Makes sure `healipro_bench` holds exactly the benchmark data, with
/// identifiers, and the current schema; loads or completes it otherwise.
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
    let found = if force_reload {
        Found::Reload("--reload".to_string())
    } else {
        inspect_database(ctx, pg, port, bin, env)?
    };
    let list = NameList::load()?;
    match found {
        Found::Rows(c) if c.complete() => {
            util::ok(format!(
                "{BENCH_DB} holds {TENANTS} tenants x {PATIENTS} patients and {LARGE_PREFIX}{LARGE} \
                 with {} patients, with identifiers (reused; --reload reloads)",
                group_thousands(u64::from(LARGE_PATIENTS))
            ));
            Ok(())
        }
        Found::Rows(c) => {
            let start = Instant::now();
            if OLD_MARKERS.contains(&c.marker.as_str()) {
                util::note(format!(
                    "{BENCH_DB} predates the names list: renaming its patients (identifiers kept)"
                ));
                rename_patients(owner, &list)?;
            }
            if c.large != u64::from(LARGE_PATIENTS) {
                load_large(owner, &list)?;
            }
            mark_database(owner, ROWS_MARKER)?;
            if c.missing + c.large_missing > 0 || c.large != u64::from(LARGE_PATIENTS) {
                util::note(format!(
                    "{} patients have no CNIC/phone/address yet (an older load, the large clinic \
                     or an interrupted fill): adding them",
                    group_thousands(c.missing + c.large_missing)
                ));
            }
            fill_identifiers(ctx, bin, env, owner)?;
            util::ok(format!(
                "{BENCH_DB} completed in {}",
                util::fmt_duration(start.elapsed())
            ));
            Ok(())
        }
        Found::Reload(why) => {
            util::note(format!("(re)loading: {why}"));
            load_database(ctx, pg, port, bin, env, owner, &list)
        }
    }
}

fn inspect_database(
    ctx: &Ctx,
    pg: &Pg,
    port: u16,
    bin: &Path,
    env: &BTreeMap<String, String>,
) -> Result<Found> {
    let marker = pg.exec_sql(
        port,
        "postgres",
        &format!(
            "SELECT coalesce(shobj_description(oid, 'pg_database'), '') \
             FROM pg_database WHERE datname = '{BENCH_DB}';"
        ),
    )?;
    if marker.is_empty() {
        return Ok(Found::Reload(format!(
            "{BENCH_DB} does not exist or its load never finished"
        )));
    }
    if !OLD_MARKERS.contains(&marker.as_str())
        && marker != ROWS_MARKER
        && marker != IDENTIFIERS_MARKER
    {
        return Ok(Found::Reload(format!(
            "{BENCH_DB} holds other data ({marker:?})"
        )));
    }
    if let Err(e) = migrate(bin, ctx, env) {
        return Ok(Found::Reload(format!(
            "migrating the existing data failed ({e:#})"
        )));
    }
    // Quick when nothing changed; after a new migration it does what
    // autovacuum would do before long.
    pg.exec_sql(port, BENCH_DB, VACUUM_LOADED)?;
    let large = format!("{LARGE_PREFIX}{LARGE}");
    let counts = pg.exec_sql(
        port,
        BENCH_DB,
        &format!(
            "SELECT (SELECT count(*) FROM platform.tenants WHERE code ~ '^{TENANT_PREFIX}[0-9]+$') \
                 || ' ' || count(*) FILTER (WHERE t.code <> '{large}') \
                 || ' ' || count(*) FILTER (WHERE t.code <> '{large}' AND p.cnic_bidx IS NULL) \
                 || ' ' || count(*) FILTER (WHERE t.code = '{large}') \
                 || ' ' || count(*) FILTER (WHERE t.code = '{large}' AND p.cnic_bidx IS NULL) \
               FROM clinic.patients p JOIN platform.tenants t ON t.id = p.tenant_id \
              WHERE t.code ~ '^{TENANT_PREFIX}[0-9]+$' OR t.code = '{large}';"
        ),
    )?;
    Ok(match parse_counts(&marker, &counts) {
        Some(c) => Found::Rows(c),
        None => Found::Reload(format!(
            "{BENCH_DB} has {counts:?} bench tenants/patients/without CNIC/large clinic/without \
             CNIC, expected {TENANTS} {} and any",
            TENANTS * PATIENTS
        )),
    })
}

/// `SELECT n, p` (bigint) of the patients `1..=patients` of the clinics `lo..=hi`.
fn patients_source(lo: u32, hi: u32, patients: u32) -> String {
    format!(
        "SELECT n::bigint AS n, p::bigint AS p \
           FROM generate_series({lo}, {hi}) AS n, generate_series(1, {patients}) AS p"
    )
}

/// Inserts the patients of `source` ([`patients_source`]), named from the list.
fn insert_patients_sql(list: &NameList, source: &str) -> String {
    format!(
        "INSERT INTO clinic.patients
       (tenant_id, id, mr_number, full_name, father_or_husband_name, sex, date_of_birth)
SELECT {tenant}, {patient}, 'MR-' || lpad(nm.p::text, 6, '0'),
       nm.full_name, nm.relative, nm.sex, nm.date_of_birth
  FROM ({select}) AS nm;
",
        tenant = tenant_uuid_sql("nm.n"),
        patient = patient_uuid_sql("nm.n", "nm.p"),
        select = names::names_select_sql(list, source),
    )
}

/// One chunk of the load: tenants `lo..=hi` and their patients.
fn load_chunk_sql(list: &NameList, lo: u32, hi: u32) -> String {
    format!(
        "BEGIN;
{names}INSERT INTO platform.tenants (id, code, name)
SELECT {tenant}, '{TENANT_PREFIX}' || n, 'Bench Clinic ' || n
  FROM generate_series({lo}, {hi}) AS n;
{insert}COMMIT;
",
        names = names::names_table_sql(list),
        tenant = tenant_uuid_sql("n"),
        insert = insert_patients_sql(list, &patients_source(lo, hi, PATIENTS)),
    )
}

/// Gives the patients of bench`lo`..bench`hi` the names of the list, as a
/// fresh load would (for databases loaded before it).
fn rename_chunk_sql(list: &NameList, lo: u32, hi: u32) -> String {
    format!(
        "BEGIN;
{names}UPDATE clinic.patients pt
   SET full_name = nm.full_name, father_or_husband_name = nm.relative
  FROM ({select}) AS nm
 WHERE pt.tenant_id = {tenant} AND pt.id = {patient}
   AND (pt.full_name, pt.father_or_husband_name) IS DISTINCT FROM (nm.full_name, nm.relative);
COMMIT;
",
        names = names::names_table_sql(list),
        select = names::names_select_sql(list, &patients_source(lo, hi, PATIENTS)),
        tenant = tenant_uuid_sql("nm.n"),
        patient = patient_uuid_sql("nm.n", "nm.p"),
    )
}

/// The large clinic `benchxl0` and its patients, replacing any partial load.
fn load_large_sql(list: &NameList) -> String {
    let tenant = tenant_uuid(LARGE);
    format!(
        "BEGIN;
{names}DELETE FROM clinic.patients WHERE tenant_id = '{tenant}';
INSERT INTO platform.tenants (id, code, name)
VALUES ('{tenant}', '{LARGE_PREFIX}{LARGE}', 'Bench Large Clinic')
ON CONFLICT (id) DO NOTHING;
{insert}COMMIT;
",
        names = names::names_table_sql(list),
        insert = insert_patients_sql(list, &patients_source(LARGE, LARGE, LARGE_PATIENTS)),
    )
}

/// Chunks of 100 clinics through `sql`, with progress.
fn by_chunks(owner: &PgUrl, what: &str, sql: impl Fn(u32, u32) -> String) -> Result<()> {
    const CHUNK: u32 = 100;
    let start = Instant::now();
    let mut lo = 1;
    while lo <= TENANTS {
        let hi = (lo + CHUNK - 1).min(TENANTS);
        let t = Instant::now();
        owner
            .psql(&sql(lo, hi))
            .with_context(|| format!("{what} tenants {lo}-{hi} failed"))?;
        util::note(format!(
            "  tenants {lo:>4}-{hi:<4} {:>9} patients  ({}; {} so far)",
            group_thousands(u64::from(hi) * u64::from(PATIENTS)),
            util::fmt_duration(t.elapsed()),
            util::fmt_duration(start.elapsed())
        ));
        lo = hi + 1;
    }
    Ok(())
}

fn rename_patients(owner: &PgUrl, list: &NameList) -> Result<()> {
    by_chunks(owner, "renaming the patients of", |lo, hi| {
        rename_chunk_sql(list, lo, hi)
    })
}

fn load_large(owner: &PgUrl, list: &NameList) -> Result<()> {
    let t = Instant::now();
    util::note(format!(
        "loading the large clinic {LARGE_PREFIX}{LARGE} with {} patients…",
        group_thousands(u64::from(LARGE_PATIENTS))
    ));
    owner
        .psql(&load_large_sql(list))
        .context("loading the large clinic failed")?;
    util::ok(format!(
        "large clinic loaded in {}",
        util::fmt_duration(t.elapsed())
    ));
    Ok(())
}

fn load_database(
    ctx: &Ctx,
    pg: &Pg,
    port: u16,
    bin: &Path,
    env: &BTreeMap<String, String>,
    owner: &PgUrl,
    list: &NameList,
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
    by_chunks(owner, "loading", |lo, hi| load_chunk_sql(list, lo, hi))?;
    load_large(owner, list)?;
    // Rows complete: an interrupted fill resumes instead of reloading.
    mark_database(owner, ROWS_MARKER)?;
    util::ok(format!(
        "rows loaded in {}",
        util::fmt_duration(start.elapsed())
    ));
    fill_identifiers(ctx, bin, env, owner)?;
    util::ok(format!(
        "{BENCH_DB} loaded in {}",
        util::fmt_duration(start.elapsed())
    ));
    Ok(())
}

/// Gives every bench patient without one a CNIC, phone and address (see
/// [`search_cnic`]) through the release binary, which holds the keys, in
/// bench1..bench1000 and in the large clinic; then VACUUM (ANALYZE), since
/// rows were rewritten, and the final marker.
fn fill_identifiers(
    ctx: &Ctx,
    bin: &Path,
    env: &BTreeMap<String, String>,
    owner: &PgUrl,
) -> Result<()> {
    let start = Instant::now();
    util::note(
        "encrypting CNIC, phone and address with `healipro demo fill-identifiers` \
         (the blind indexes need the server's keys)…",
    );
    for prefix in [TENANT_PREFIX, LARGE_PREFIX] {
        let mut cmd = server_cmd(ctx, bin, env);
        cmd.args(["demo", "fill-identifiers", "--tenant-prefix", prefix]);
        util::run(&mut cmd).context(
            "filling the identifiers failed; run the bench again to resume, or with --reload \
             (a replaced .healipro/server.key cannot unwrap the keys of existing bench data)",
        )?;
    }
    let filled = start.elapsed();
    let t = Instant::now();
    util::note("VACUUM (ANALYZE) on the loaded tables…");
    owner.psql(VACUUM_LOADED)?;
    mark_database(owner, IDENTIFIERS_MARKER)?;
    util::ok(format!(
        "identifiers filled in {} (vacuum/analyze {})",
        util::fmt_duration(filled),
        util::fmt_duration(t.elapsed())
    ));
    Ok(())
}

/// Records in the database comment how far the load got.
fn mark_database(owner: &PgUrl, marker: &str) -> Result<()> {
    owner
        .psql(&format!("COMMENT ON DATABASE {BENCH_DB} IS '{marker}';"))
        .map(drop)
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
        "preparing user `{BENCH_USER}` (operator) in tenants bench1..bench{k} and {}",
        clinic_code(LARGE)
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
    let large = tenant_uuid(LARGE);
    let bench_tenants = tenant_uuid_sql("n");
    let copied = owner.psql(&format!(
        "BEGIN;
DELETE FROM clinic.sessions
 WHERE tenant_id IN (SELECT {bench_tenants} FROM generate_series(1, {TENANTS}) AS n)
    OR tenant_id = '{large}';
WITH src AS (
    SELECT username, display_name, password_hash, roles
      FROM clinic.users WHERE tenant_id = '{first}' AND username = '{BENCH_USER}'
), up AS (
    INSERT INTO clinic.users (tenant_id, username, display_name, password_hash, roles, active)
    SELECT {bench_tenants}, src.username, src.display_name, src.password_hash, src.roles, true
      FROM (SELECT n FROM generate_series(2, {k}) AS n UNION ALL SELECT {LARGE}) AS t(n), src
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

/// The clinic code of bench clinic `n`: `bench<n>`, or the large clinic's.
fn clinic_code(n: u32) -> String {
    if n == LARGE {
        format!("{LARGE_PREFIX}{n}")
    } else {
        format!("{TENANT_PREFIX}{n}")
    }
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
    login_each(target, tenants, password)
}

/// Signs `bench` in once in each of the bench clinics `tenants`.
fn login_each(
    target: &Endpoint,
    tenants: impl IntoIterator<Item = u32>,
    password: &str,
) -> Result<Vec<BenchSession>> {
    let start = Instant::now();
    let mut conn = HttpConn::new(target);
    let mut sessions = Vec::new();
    for n in tenants {
        let code = clinic_code(n);
        let form = format!("clinic_code={code}&username={BENCH_USER}&password={password}");
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
                "login to {code} answered HTTP {}: {}",
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
                    "login to {code} answered HTTP {} without a {SESSION_COOKIE} cookie",
                    resp.status
                )
            })?;
        sessions.push(BenchSession {
            tenant: n,
            cookie: format!("{SESSION_COOKIE}={value}"),
        });
    }
    util::ok(format!(
        "{} session(s) in {}",
        sessions.len(),
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
    let found = rows_found(
        app,
        &tenant_uuid_sql(&k.to_string()),
        &select_patient_sql(&k.to_string(), &PATIENTS.to_string()),
    )?;
    if found != "1" {
        bail!(
            "pgbench's select found {found:?} rows for patient {PATIENTS} of bench{k}, expected 1"
        );
    }
    util::ok(format!(
        "pgbench's SQL finds patient {PATIENTS} of bench{k} as {APP_ROLE}"
    ));
    Ok(())
}

/// How many rows `select` returns as the runtime role in a transaction of
/// `tenant` (an SQL expression), as psql prints the count.
fn rows_found(app: &PgUrl, tenant: &str, select: &str) -> Result<String> {
    let out = app.psql(&format!(
        "BEGIN;\nSELECT clinic.set_tenant({tenant}) \\gset\nSELECT count(*) FROM ({select}) AS x;\nROLLBACK;\n"
    ))?;
    Ok(out.lines().last().unwrap_or_default().trim().to_string())
}

// ---------------------------------------------------------------------------
// (a) pgbench

struct PgbenchResult {
    tps: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    cpu: Option<CpuUse>,
}

/// The pgbench script: the server's transaction. `BEGIN` and `set_tenant`
/// are pipelined (one round trip, as the server's one simple-protocol
/// message), the select is a prepared statement (as sqlx's), then `COMMIT`.
fn pgbench_script(k: u32) -> String {
    format!(
        "\\set t random(1, {k})
\\set p random(1, {PATIENTS})
{}",
        pgbench_transaction(
            &tenant_uuid_sql(":t::int"),
            &select_patient_sql(":t::int", ":p::int")
        )
    )
}

/// The server's transaction around `select`, for tenant `tenant` (SQL).
fn pgbench_transaction(tenant: &str, select: &str) -> String {
    format!(
        "\\startpipeline
BEGIN;
SELECT clinic.set_tenant({tenant});
\\endpipeline
{select};
COMMIT;
"
    )
}

/// Latencies (µs) of the transactions in a pgbench per-transaction log
/// (`client_id transaction_no time script_no time_epoch time_us [...]`)
/// that ended in `window` (µs since the Unix epoch), appended to `out`;
/// returns how many of those failed or were skipped.
fn parse_pgbench_log(log: &str, window: &std::ops::Range<u64>, out: &mut Vec<u32>) -> u64 {
    let mut failed = 0;
    for line in log.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(time), Some(Ok(secs)), Some(Ok(us))) = (
            f.get(2),
            f.get(4).map(|v| v.parse::<u64>()),
            f.get(5).map(|v| v.parse::<u64>()),
        ) else {
            continue;
        };
        if !window.contains(&(secs * 1_000_000 + us)) {
            continue;
        }
        match time.parse::<u32>() {
            Ok(latency) => out.push(latency),
            Err(_) => failed += 1,
        }
    }
    failed
}

/// Runs pgbench as the runtime role for the warm-up plus `duration`, each
/// transaction one of `scripts` at random, and takes the throughput and the
/// latency percentiles from its per-transaction log, counting only what ended
/// in the measured window (so connections and prepared statements are warm).
fn run_pgbench(
    ctx: &Ctx,
    app: &PgUrl,
    name: &str,
    scripts: &[String],
    clients: u32,
    duration: Duration,
    cpu: &CpuProbe,
) -> Result<PgbenchResult> {
    util::step(format!(
        "(a) pgbench as {APP_ROLE}: {clients} clients, {} s after a {} s warm-up",
        duration.as_secs(),
        WARMUP.as_secs()
    ));
    let dir = ctx.state_dir.join(format!("bench-{name}"));
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("cannot empty {}", dir.display()))?;
    }
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let first = scripts
        .first()
        .ok_or_else(|| anyhow!("no pgbench script"))?;
    for line in first.lines() {
        util::note(format!("| {line}"));
    }
    let mut cmd = app.tool("pgbench");
    cmd.args(["-n", "-M", "prepared"])
        .args(["-c", &clients.to_string()])
        .args(["-j", &clients.min(2).to_string()])
        .args(["-T", &(WARMUP + duration).as_secs().to_string()])
        .arg("-l")
        .arg(format!("--log-prefix={}", dir.join("log").display()));
    let shown = format!(
        "{} -f {}",
        util::display_cmd(&cmd),
        dir.join("script-*.pgbench").display()
    );
    for (i, script) in scripts.iter().enumerate() {
        let path = dir.join(format!("script-{i}.pgbench"));
        fs::write(&path, script).with_context(|| format!("cannot write {}", path.display()))?;
        cmd.arg("-f").arg(&path);
    }
    if scripts.len() > 1 {
        util::note(format!(
            "(and {} more scripts like it; pgbench picks one at random per transaction)",
            scripts.len() - 1
        ));
    }
    println!("    $ {shown}");
    util::flush();
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the clock is before 1970")?;
    let start = Instant::now();
    // Its report goes to a file: a pipe nobody reads during the run could
    // fill up and stall it.
    let report = dir.join("report.txt");
    let file =
        fs::File::create(&report).with_context(|| format!("cannot create {}", report.display()))?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .spawn()
        .with_context(|| format!("cannot start {shown}"))?;
    std::thread::sleep((start + WARMUP).saturating_duration_since(Instant::now()));
    let before = cpu.snapshot(Some(child.id()));
    std::thread::sleep((start + WARMUP + duration).saturating_duration_since(Instant::now()));
    let after = cpu.snapshot(Some(child.id()));
    let status = child.wait()?;
    let text = fs::read_to_string(&report).unwrap_or_default();
    let failed_tx = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("number of failed transactions: "))
        .find_map(|l| l.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0);
    if !status.success() || failed_tx > 0 {
        bail!(
            "pgbench failed with {}:\n{}",
            util::describe_status(status),
            text.trim()
        );
    }
    let from = u64::try_from((since_epoch + WARMUP).as_micros())?;
    let window = from..from + u64::try_from(duration.as_micros())?;
    let mut latencies = Vec::new();
    for entry in fs::read_dir(&dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with("log.") {
            let log = fs::read_to_string(entry.path())?;
            if parse_pgbench_log(&log, &window, &mut latencies) > 0 {
                bail!("pgbench logged failed transactions in {}", dir.display());
            }
        }
    }
    if latencies.is_empty() {
        bail!(
            "pgbench logged no transaction in the measured window ({}):\n{}",
            dir.display(),
            text.trim()
        );
    }
    latencies.sort_unstable();
    let result = PgbenchResult {
        tps: latencies.len() as f64 / duration.as_secs_f64(),
        p50_ms: percentile_ms(&latencies, 50.0),
        p95_ms: percentile_ms(&latencies, 95.0),
        p99_ms: percentile_ms(&latencies, 99.0),
        cpu: cpu.between(&before, &after),
    };
    util::ok(format!(
        "{:.0} tx/s (p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms)",
        result.tps, result.p50_ms, result.p95_ms, result.p99_ms
    ));
    Ok(result)
}

// ---------------------------------------------------------------------------
// (b) HTTP load

struct HttpResult {
    rps: f64,
    p50_ms: f64,
    p95_ms: f64,
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

    /// Whether few enough requests failed; prints how many did, if any.
    fn report_errors(&self, indent: &str) -> bool {
        let ok = self.error_rate() <= MAX_ERROR_RATE;
        if self.errors > 0 || !ok {
            println!(
                "{indent}HTTP errors: {} of {} ({:.3} %; at most {:.1} % allowed): {}",
                self.errors,
                self.attempts,
                100.0 * self.error_rate(),
                100.0 * MAX_ERROR_RATE,
                if ok { "PASS" } else { "FAIL" }
            );
        }
        ok
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

/// What the read clients send, and with which sessions.
struct Reads {
    sessions: Vec<BenchSession>,
    kind: ReadKind,
}

enum ReadKind {
    /// `POST /api/patients/get` for a random patient of a random session's tenant.
    Patient,
    /// `POST /api/patients/list` with one of these searches at random.
    Search(Vec<SearchProbe>),
}

impl ReadKind {
    fn path(&self) -> &'static str {
        match self {
            ReadKind::Patient => PATIENT_PATH,
            ReadKind::Search(_) => SEARCH_PATH,
        }
    }
}

/// One search and the patient that must come back.
struct SearchProbe {
    /// Index into [`Reads::sessions`].
    session: usize,
    form: String,
    /// The patient's id, which the answer must contain.
    expect: String,
    /// For error messages: `bench3 patient 17 by CNIC`.
    label: String,
}

/// When a read client sends: as fast as it can (`None`), or on a fixed
/// schedule from its first due time. On a schedule, latency counts from when
/// a request was due (a client that falls behind sends at once until it has
/// caught up), so a server stall shows in every request it delays rather than
/// only in the one that was in flight.
type Schedule = Option<(Instant, Duration)>;

fn http_worker(
    target: &Endpoint,
    reads: &Reads,
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
    let path = reads.kind.path();
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
        let (s, patient, probe) = match &reads.kind {
            ReadKind::Patient => {
                let s = &reads.sessions[rng.gen_range(0..reads.sessions.len())];
                let p = rng.gen_range(1..=PATIENTS);
                form.clear();
                form.push_str("id=");
                form.push_str(&patient_uuid(s.tenant, p));
                (s, p, None)
            }
            ReadKind::Search(probes) => {
                let probe = &probes[rng.gen_range(0..probes.len())];
                form.clone_from(&probe.form);
                (&reads.sessions[probe.session], 0, Some(probe))
            }
        };
        let result = conn.post_form(path, &form, Some(&s.cookie), false);
        let elapsed = t0.elapsed();
        out.attempts += 1;
        let measured = t0 >= measure_from;
        if measured {
            out.measured += 1;
        }
        let failure = match result {
            Ok(resp) if resp.status == 200 => probe
                .filter(|p| memchr::memmem::find(&resp.body, p.expect.as_bytes()).is_none())
                .map(|_| format!("the answer lacks the patient: {}", resp.body_text())),
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
                    let what = probe.map_or_else(
                        || format!("bench{} patient {patient}", s.tenant),
                        |p| p.label.clone(),
                    );
                    out.samples.push(format!("{what}: {msg}"));
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
    reads: &Arc<Reads>,
    clients: u32,
    rate: Option<u32>,
    duration: Duration,
    cpu: &CpuProbe,
    flood: Option<LoginFlood>,
) -> Result<(HttpResult, Option<LoginResult>)> {
    let start = Instant::now();
    let measure_from = start + WARMUP;
    let end = measure_from + duration;
    let interval = rate.map(|r| Duration::from_secs_f64(f64::from(clients) / f64::from(r)));
    let readers: Vec<_> = (0..clients)
        .map(|i| {
            let reads = Arc::clone(reads);
            let target = target.clone();
            // Clients start staggered, so the schedule is even.
            let schedule = interval.map(|iv| (start + iv * i / clients, iv));
            std::thread::Builder::new()
                .name(format!("bench-http-{i}"))
                .spawn(move || http_worker(&target, &reads, schedule, measure_from, end))
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
    let before = cpu.snapshot(None);
    std::thread::sleep(end.saturating_duration_since(Instant::now()));
    let after = cpu.snapshot(None);
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
        p95_ms: percentile_ms(&all.latencies_us, 95.0),
        p99_ms: percentile_ms(&all.latencies_us, 99.0),
        attempts: all.attempts,
        errors: all.errors,
        cpu: cpu.between(&before, &after),
    };
    for s in &all.samples {
        util::note(format!("error: {s}"));
    }
    util::ok(format!(
        "reads: {:.0} req/s (p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms); {} requests, {} errors",
        result.rps, result.p50_ms, result.p95_ms, result.p99_ms, all.attempts, all.errors
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
    reads: &Arc<Reads>,
    clients: u32,
    duration: Duration,
    cpu: &CpuProbe,
) -> Result<HttpResult> {
    util::step(format!(
        "(b) HTTP POST {}: {clients} keep-alive clients over {} session(s), {} s after a {} s warm-up",
        reads.kind.path(),
        reads.sessions.len(),
        duration.as_secs(),
        WARMUP.as_secs()
    ));
    measure(target, reads, clients, None, duration, cpu, None).map(|(reads, _)| reads)
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
    let reads = Arc::new(Reads {
        sessions,
        kind: ReadKind::Patient,
    });
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
        &reads,
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
        &reads,
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
            &reads,
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
    print_noise(&[("(1)", &idle.cpu), ("(2)", &busy.cpu)]);
    bench.finish(total);

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
// search

const SEARCH_PATH: &str = "/api/patients/list";
/// The rows the server's search fetches: a page of 25 and one more, to know
/// whether another page exists (`PAGE_SIZE` in core/src/patients/model.rs).
const SEARCH_LIMIT: u32 = 26;
/// The patients the server returns per page.
const SEARCH_PAGE: usize = 25;
/// Patients searched for, each by CNIC, by phone and by name: pgbench runs
/// one script per patient (literal values: its variables hold only numbers)
/// and takes at most 128 scripts. The HTTP side searches the same patients.
const SEARCH_SAMPLE: u32 = 128;
/// The server's p95 (measured at the client, TLS included) must stay below this.
const SEARCH_BUDGET_MS: f64 = 50.0;
/// The index the fuzzy tier of a name search must use (migration 0016).
const NAME_INDEX: &str = "patients_tenant_name_words";

#[derive(Parser, Debug)]
#[command(
    name = "cargo xtask bench search",
    about = "CNIC, phone and name lookups at 1,000 tenants x 1,000 patients and in one \
             clinic of 200,000 patients: pgbench running the server's search SQL with real \
             values against the server's POST /api/patients/list; p50/p95/p99 of both; \
             budget server p95 < 50 ms. 128 patients of the logged-in tenants (and 128 of \
             the large clinic) are searched for, each by CNIC, by phone and by a name typed \
             with another spelling, an initial or a typo"
)]
struct SearchArgs {
    #[command(flatten)]
    load: Clients,
    #[command(flatten)]
    common: CommonArgs,
    /// Which data: `clinics` (1,000 x 1,000), `large` (the 200,000-patient clinic) or `all`.
    #[arg(long, default_value = "all", value_parser = ["all", "clinics", "large"])]
    data: String,
    /// Which lookups: a comma-separated list of `cnic`, `phone`, `name`.
    #[arg(long, default_value = "cnic,phone,name")]
    lookups: String,
}

/// A search the front desk makes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Lookup {
    /// Exactly, through the blind index.
    Cnic,
    Phone,
    /// By name, forgiving spelling (`clinic.patient_name_matches`).
    Name,
}

impl Lookup {
    const ALL: [Lookup; 3] = [Lookup::Cnic, Lookup::Phone, Lookup::Name];

    fn label(self) -> &'static str {
        match self {
            Lookup::Cnic => "CNIC",
            Lookup::Phone => "phone",
            Lookup::Name => "name",
        }
    }

    /// What the front desk types to find `s`.
    fn query(self, s: &Sampled) -> String {
        match self {
            Lookup::Cnic => search_cnic(s.tenant, s.patient),
            Lookup::Phone => search_phone(s.tenant, s.patient),
            Lookup::Name => s.typed.clone(),
        }
    }

    fn column(self) -> &'static str {
        match self {
            Lookup::Cnic => "cnic_bidx",
            Lookup::Phone | Lookup::Name => "phone_bidx",
        }
    }

    fn index(self) -> &'static str {
        match self {
            Lookup::Cnic => "patients_tenant_cnic_bidx",
            Lookup::Phone => "patients_tenant_phone_bidx",
            Lookup::Name => NAME_INDEX,
        }
    }
}

/// `cnic,phone` → the lookups, in the order of [`Lookup::ALL`].
fn parse_lookups(list: &str) -> Result<Vec<Lookup>> {
    let wanted: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    for w in &wanted {
        if !Lookup::ALL
            .iter()
            .any(|l| l.label().eq_ignore_ascii_case(w))
        {
            bail!("unknown lookup {w:?} (cnic, phone, name)");
        }
    }
    let out: Vec<Lookup> = Lookup::ALL
        .into_iter()
        .filter(|l| wanted.iter().any(|w| l.label().eq_ignore_ascii_case(w)))
        .collect();
    if out.is_empty() {
        bail!("no lookups chosen (cnic, phone, name)");
    }
    Ok(out)
}

/// The CNIC (13 digits) `healipro demo fill-identifiers` gives patient `p`
/// of bench`n`: `bench_identifiers` in server/src/cli.rs, whose test pins
/// the same values as this file's.
fn search_cnic(n: u32, p: u32) -> String {
    format!("3{n:05}{p:07}")
}

/// The mobile number (national, 11 digits) of patient `p` of bench`n`; from
/// p = 100,000 on (the large clinic) the clinic gets one digit less.
fn search_phone(n: u32, p: u32) -> String {
    if p <= 99_999 {
        format!("03{n:04}{p:05}")
    } else {
        format!("03{n:03}{p:06}")
    }
}

/// A patient searched for: blind indexes (hex) and name read from the
/// database, and the name the front desk types for them.
#[derive(Clone)]
struct Sampled {
    tenant: u32,
    patient: u32,
    cnic_bidx: String,
    phone_bidx: String,
    full_name: String,
    /// `clinic.normalize_name(full_name)`.
    name_norm: String,
    /// Typed, lowercase (as `PatientQuery::parse` hands it on).
    typed: String,
    /// `clinic.normalize_name(typed)`, what the server's `names::normalize` gives.
    typed_norm: String,
    typed_kind: Typed,
}

use names::Typed;

impl Sampled {
    fn bidx(&self, lookup: Lookup) -> &str {
        match lookup {
            Lookup::Cnic => &self.cnic_bidx,
            Lookup::Phone | Lookup::Name => &self.phone_bidx,
        }
    }

    fn label(&self) -> String {
        format!("{} patient {}", clinic_code(self.tenant), self.patient)
    }
}

/// [`SEARCH_SAMPLE`] patients: `tenants` in turn, a random patient (of
/// `1..=patients`) of each.
fn sample_patients(tenants: &[u32], patients: u32) -> Vec<(u32, u32)> {
    let mut rng = rand::thread_rng();
    (0..SEARCH_SAMPLE as usize)
        .map(|i| (tenants[i % tenants.len()], rng.gen_range(1..=patients)))
        .collect()
}

/// The sampled patients' blind indexes and names, read as the owner (the
/// bench cannot compute blind indexes: the keys are the server's), and the
/// names typed for them, with their canonical forms by the database's
/// `clinic.normalize_name` (the twin of the server's `names::normalize`).
fn read_sample(owner: &PgUrl, list: &NameList, sample: &[(u32, u32)]) -> Result<Vec<Sampled>> {
    let values: Vec<String> = sample
        .iter()
        .enumerate()
        .map(|(i, (n, p))| format!("({i}, {n}, {p})"))
        .collect();
    let out = owner.psql(&format!(
        "SELECT v.i, encode(p.cnic_bidx, 'hex'), encode(p.phone_bidx, 'hex'), p.full_name,
                p.name_norm
           FROM (VALUES {}) AS v(i, n, p)
           JOIN clinic.patients p ON p.tenant_id = {} AND p.id = {}
          WHERE p.cnic_bidx IS NOT NULL AND p.phone_bidx IS NOT NULL
          ORDER BY v.i;",
        values.join(", "),
        tenant_uuid_sql("v.n"),
        patient_uuid_sql("v.n", "v.p")
    ))?;
    let mut rows: Vec<Sampled> = out
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split('|').collect();
            let [i, cnic, phone, full_name, name_norm] = f[..] else {
                return None;
            };
            let i: usize = i.trim().parse().ok()?;
            let (n, p) = *sample.get(i)?;
            let (typed, typed_kind) =
                names::typed_name(list, full_name, Typed::ALL[i % Typed::ALL.len()]);
            Some(Sampled {
                tenant: n,
                patient: p,
                cnic_bidx: cnic.trim().to_string(),
                phone_bidx: phone.trim().to_string(),
                full_name: full_name.to_string(),
                name_norm: name_norm.to_string(),
                typed,
                typed_norm: String::new(),
                typed_kind,
            })
        })
        .collect();
    if rows.len() != sample.len() {
        bail!(
            "{} of the {} sampled patients have a CNIC and phone blind index; \
             run with --reload",
            rows.len(),
            sample.len()
        );
    }
    normalize_typed(owner, &mut rows, |_| true)?;
    // A spelling of the names list that the product deliberately keeps apart
    // ("Shabnam" is not "Shabana", "Rida" is not "Raza": core's variant map)
    // is another name, not a variant: such patients are typed with a typo.
    let mut other_names = 0;
    for s in &mut rows {
        if s.typed_kind == Typed::Variant && s.typed_norm != s.name_norm {
            (s.typed, s.typed_kind) = [Typed::Typo, Typed::Partial]
                .into_iter()
                .map(|want| names::typed_name(list, &s.full_name, want))
                .find(|(_, kind)| *kind != Typed::Variant)
                .unwrap_or_else(|| (s.full_name.to_lowercase(), Typed::Variant));
            s.typed_norm.clear();
            other_names += 1;
        }
    }
    if other_names > 0 {
        util::note(format!(
            "{other_names} sampled variant spelling(s) are other names for the product \
             (core's variant map keeps them apart); typed with a typo or in part instead"
        ));
        normalize_typed(owner, &mut rows, |s| s.typed_norm.is_empty())?;
    }
    Ok(rows)
}

/// Sets `typed_norm` of the rows picked by `which`, by the database's
/// `clinic.normalize_name`.
fn normalize_typed(
    owner: &PgUrl,
    rows: &mut [Sampled],
    which: impl Fn(&Sampled) -> bool,
) -> Result<()> {
    let typed: Vec<String> = rows
        .iter()
        .enumerate()
        .filter(|(_, s)| which(s))
        .map(|(i, s)| format!("({i}, {})", names::sql_quote(&s.typed)))
        .collect();
    if typed.is_empty() {
        return Ok(());
    }
    let out = owner.psql(&format!(
        "SELECT v.i, clinic.normalize_name(v.t) FROM (VALUES {}) AS v(i, t) ORDER BY v.i;",
        typed.join(", ")
    ))?;
    for line in out.lines() {
        if let Some((i, norm)) = line.split_once('|') {
            if let Some(s) = i.trim().parse().ok().and_then(|i: usize| rows.get_mut(i)) {
                s.typed_norm = norm.to_string();
            }
        }
    }
    Ok(())
}

/// The server's search select (repo::search, an exact CNIC or phone match),
/// with its four parameters given as SQL.
fn search_select(lookup: Lookup, tenant: &str, limit: &str, offset: &str, bidx: &str) -> String {
    format!(
        "SELECT {PATIENT_COLUMNS} FROM clinic.patients WHERE tenant_id = {tenant} \
         AND {} = {bidx} ORDER BY name_key, id LIMIT {limit} OFFSET {offset}",
        lookup.column()
    )
}

/// The server's name search (repo::search_names), its parameters given as SQL.
fn name_select(tenant: &str, typed: &str, norm: &str, limit: &str, offset: &str) -> String {
    format!(
        "SELECT {PATIENT_COLUMNS} FROM clinic.patient_name_matches({typed}, {norm}, {limit}, \
         {offset}) AS m JOIN clinic.patients ON tenant_id = {tenant} AND id = m.patient_id \
         ORDER BY m.rank"
    )
}

/// The select pgbench runs to search `s` by `lookup`, with real values.
fn lookup_select(lookup: Lookup, s: &Sampled) -> String {
    let tenant = format!("'{}'::uuid", tenant_uuid(s.tenant));
    match lookup {
        Lookup::Name => name_select(
            &tenant,
            &names::sql_quote(&s.typed),
            &names::sql_quote(&s.typed_norm),
            &SEARCH_LIMIT.to_string(),
            "0",
        ),
        _ => {
            let bidx = format!("'\\x{}'::bytea", s.bidx(lookup));
            search_select(lookup, &tenant, &SEARCH_LIMIT.to_string(), "0", &bidx)
        }
    }
}

/// The pgbench script searching for one patient: the server's transaction
/// with the real values.
fn search_script(lookup: Lookup, s: &Sampled) -> String {
    let tenant = format!("'{}'::uuid", tenant_uuid(s.tenant));
    pgbench_transaction(&tenant, &lookup_select(lookup, s))
}

/// The HTTP requests searching for the sampled patients; `expect[i]` is the
/// id the answer for `sample[i]` must contain (the patient itself, or for
/// names the first patient the SQL ranks).
fn search_probes(
    lookup: Lookup,
    sample: &[Sampled],
    expect: &[String],
    sessions: &[BenchSession],
) -> Result<Vec<SearchProbe>> {
    sample
        .iter()
        .zip(expect)
        .map(|(s, expect)| {
            let session = sessions
                .iter()
                .position(|x| x.tenant == s.tenant)
                .ok_or_else(|| anyhow!("no session in {}", clinic_code(s.tenant)))?;
            Ok(SearchProbe {
                session,
                form: format!("query={}&page=0", names::form_encode(&lookup.query(s))),
                expect: expect.clone(),
                label: format!("{} by {} {:?}", s.label(), lookup.label(), lookup.query(s)),
            })
        })
        .collect()
}

/// Functional checks of the CNIC and phone searches before measuring: every
/// search finds exactly its patient with the identifiers decrypted, another
/// tenant's CNIC finds nothing, and pgbench's select finds the row as the
/// runtime role.
fn check_searches(
    app: &PgUrl,
    target: &Endpoint,
    sessions: &[BenchSession],
    sample: &[Sampled],
    lookups: &[Lookup],
) -> Result<()> {
    util::step("checking the CNIC and phone searches before measuring");
    let mut conn = HttpConn::new(target);
    let mut checked = 0;
    let session_of = |n: u32| {
        sessions
            .iter()
            .find(|x| x.tenant == n)
            .ok_or_else(|| anyhow!("no session in {}", clinic_code(n)))
    };
    for lookup in lookups.iter().filter(|l| **l != Lookup::Name) {
        for s in sample {
            let session = session_of(s.tenant)?;
            let query = lookup.query(s);
            let form = format!("query={query}&page=0");
            let resp = conn.post_form(SEARCH_PATH, &form, Some(&session.cookie), false)?;
            let json: serde_json::Value = serde_json::from_slice(&resp.body)
                .ok()
                .filter(|_| resp.status == 200)
                .ok_or_else(|| {
                    anyhow!(
                        "searching {} by {} answered HTTP {}: {} (a replaced .healipro/server.key \
                         cannot read existing bench data: --reload)",
                        s.label(),
                        lookup.label(),
                        resp.status,
                        resp.body_text()
                    )
                })?;
            let cnic = search_cnic(s.tenant, s.patient);
            let phone = search_phone(s.tenant, s.patient);
            let want = (
                patient_uuid(s.tenant, s.patient),
                format!("{}-{}-{}", &cnic[..5], &cnic[5..12], &cnic[12..]),
                format!("{}-{}", &phone[..4], &phone[4..]),
            );
            let found = json["patients"].as_array().map(|found| {
                found
                    .iter()
                    .map(|p| {
                        (
                            p["id"].as_str().unwrap_or_default().to_string(),
                            p["cnic"].as_str().unwrap_or_default().to_string(),
                            p["phone"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect::<Vec<_>>()
            });
            if found.as_deref() != Some(std::slice::from_ref(&want)) {
                bail!(
                    "searching {} by {} ({query}) did not answer exactly that patient: {}",
                    s.label(),
                    lookup.label(),
                    resp.body_text()
                );
            }
            checked += 1;
        }
    }
    if checked == 0 {
        return Ok(());
    }
    util::ok(format!(
        "{checked} searches each found exactly their patient, identifiers decrypted"
    ));

    let first = sample
        .first()
        .ok_or_else(|| anyhow!("no patients sampled"))?;
    let session = session_of(first.tenant)?;
    let other = first.tenant % TENANTS + 1;
    let form = format!("query={}&page=0", search_cnic(other, first.patient));
    let resp = conn.post_form(SEARCH_PATH, &form, Some(&session.cookie), false)?;
    let json: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
    if resp.status != 200 || json["patients"].as_array().map(Vec::len) != Some(0) {
        bail!(
            "{}'s search for a CNIC of bench{other} answered HTTP {}: {} (expected no patient)",
            clinic_code(first.tenant),
            resp.status,
            resp.body_text()
        );
    }
    util::ok(format!(
        "{}'s search for a CNIC of bench{other} finds nobody",
        clinic_code(first.tenant)
    ));

    for lookup in lookups.iter().filter(|l| **l != Lookup::Name) {
        let tenant = format!("'{}'::uuid", tenant_uuid(first.tenant));
        let found = rows_found(app, &tenant, &lookup_select(*lookup, first))?;
        if found != "1" {
            bail!(
                "pgbench's {} select found {found:?} rows for {}, expected 1",
                lookup.label(),
                first.label()
            );
        }
    }
    util::ok(format!(
        "pgbench's selects find {} as {APP_ROLE}",
        first.label()
    ));
    Ok(())
}

/// What pgbench's name search returns for one sampled patient: the ids in
/// rank order, their canonical names and their lowercased names.
#[derive(Debug, Default, Clone)]
struct NameAnswer {
    ids: Vec<String>,
    norms: Vec<String>,
    keys: Vec<String>,
}

/// Whether a name search found the intended patient: the first answer has
/// the patient's canonical name (for a partial name: starts with what was
/// typed, as typed or canonically), and the patient is on the page unless
/// the page is full of equally good names (a common name in a large clinic).
/// A typo may be as close to another name ("naseen": Nasreen or Naseem), so
/// there the patient's name need only be on the page, or the page be full of
/// names no more edits away from what was typed than the patient's. `None` when it did,
/// else why not.
fn name_guard(s: &Sampled, a: &NameAnswer) -> Option<String> {
    if s.typed_kind == Typed::Typo {
        return match a.norms.first() {
            None => Some("nobody found".to_string()),
            Some(_) if a.norms.contains(&s.name_norm) => None,
            // A full page of names at most as far from what was typed as
            // the patient's ("naseen": Naseem as near as Nasreen; "amna"
            // for Amina is another patient's name, at no distance at all).
            Some(_)
                if a.norms.len() >= SEARCH_PAGE
                    && a.norms.iter().all(|n| {
                        levenshtein(n, &s.typed_norm) <= levenshtein(&s.name_norm, &s.typed_norm)
                    }) =>
            {
                None
            }
            Some(first) => Some(format!(
                "the patient's name is not among the {} answers (the first is {first:?})",
                a.norms.len()
            )),
        };
    }
    let good = |i: usize| {
        let norm = a.norms.get(i).map_or("", String::as_str);
        let key = a.keys.get(i).map_or("", String::as_str);
        match s.typed_kind {
            Typed::Partial => norm.starts_with(&s.typed_norm) || key.starts_with(&s.typed),
            Typed::Variant | Typed::Typo => norm == s.name_norm,
        }
    };
    let me = patient_uuid(s.tenant, s.patient);
    let Some(first) = a.norms.first() else {
        return Some("nobody found".to_string());
    };
    let problem = if !good(0) {
        format!("the first answer is {first:?}")
    } else if a.ids.contains(&me) || (0..a.ids.len()).all(good) {
        return None;
    } else {
        format!("the patient is not among the first {} answers", a.ids.len())
    };
    Some(problem)
}

/// Runs pgbench's name selects once as the runtime role and returns each
/// answer (one transaction per search; a few searches per psql session, so
/// that neither psql's input nor its output outgrows a pipe: `psql` writes
/// all of its input before it reads the output).
fn name_answers(app: &PgUrl, sample: &[Sampled]) -> Result<Vec<NameAnswer>> {
    const BATCH: usize = 8;
    let mut answers = vec![NameAnswer::default(); sample.len()];
    for from in (0..sample.len()).step_by(BATCH) {
        let to = (from + BATCH).min(sample.len());
        name_answers_of(app, sample, from..to, &mut answers)?;
    }
    Ok(answers)
}

fn name_answers_of(
    app: &PgUrl,
    sample: &[Sampled],
    range: std::ops::Range<usize>,
    answers: &mut [NameAnswer],
) -> Result<()> {
    let mut script = String::new();
    for (i, s) in sample.iter().enumerate().take(range.end).skip(range.start) {
        let tenant = format!("'{}'::uuid", tenant_uuid(s.tenant));
        script.push_str(&format!(
            "BEGIN;
SELECT clinic.set_tenant({tenant}) \\gset
SELECT {i} || '|' || coalesce(string_agg(id::text, ',' ORDER BY ord), '') || '|'
       || coalesce(string_agg(name_norm, ';' ORDER BY ord), '') || '|'
       || coalesce(string_agg(name_key, ';' ORDER BY ord), '')
  FROM (SELECT q.id, q.ord, p.name_norm, p.name_key
          FROM (SELECT id, row_number() OVER () AS ord FROM ({select}) AS s) AS q
          JOIN clinic.patients p ON p.tenant_id = {tenant} AND p.id = q.id) AS x;
COMMIT;
",
            select = lookup_select(Lookup::Name, s)
        ));
    }
    let out = app.psql(&script)?;
    for line in out.lines() {
        let f: Vec<&str> = line.splitn(4, '|').collect();
        let [i, ids, norms, keys] = f[..] else {
            continue;
        };
        let Some(a) = i
            .trim()
            .parse()
            .ok()
            .and_then(|i: usize| answers.get_mut(i))
        else {
            continue;
        };
        a.ids = ids
            .split(',')
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect();
        let list = |text: &str| -> Vec<String> {
            text.split(';')
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        a.norms = list(norms);
        a.keys = list(keys);
    }
    Ok(())
}

/// The name searches checked before measuring.
struct NameCheck {
    /// Per sampled patient, the id its HTTP answer must contain (the first
    /// of the SQL answer).
    expect: Vec<String>,
    /// Searches that did not find their patient, or whose HTTP answer was
    /// not the SQL's.
    problems: Vec<String>,
    /// The sample index of the slowest search in the check (for EXPLAIN).
    slowest: usize,
    /// Answers by kind of typing: (kind, searches, found).
    by_kind: Vec<(Typed, usize, usize)>,
}

/// Name searches before measuring: pgbench's SQL finds the intended patient
/// ([`name_guard`]), and the server answers the same patients in the same
/// order (so both sides run the same search).
fn check_names(
    app: &PgUrl,
    target: &Endpoint,
    sessions: &[BenchSession],
    sample: &[Sampled],
) -> Result<NameCheck> {
    util::step("checking the name searches before measuring");
    let answers = name_answers(app, sample)?;
    let mut problems = Vec::new();
    let mut by_kind: Vec<(Typed, usize, usize)> = Typed::ALL.iter().map(|t| (*t, 0, 0)).collect();
    let mut conn = HttpConn::new(target);
    let mut slowest = (Duration::ZERO, 0);
    for (i, (s, a)) in sample.iter().zip(&answers).enumerate() {
        let guard = name_guard(s, a);
        if let Some(k) = by_kind.iter_mut().find(|k| k.0 == s.typed_kind) {
            k.1 += 1;
            k.2 += usize::from(guard.is_none());
        }
        if let Some(why) = guard {
            problems.push(format!(
                "{} ({:?}, norm {:?}) typed {:?} ({}, norm {:?}): {why}",
                s.label(),
                s.full_name,
                s.name_norm,
                s.typed,
                s.typed_kind.label(),
                s.typed_norm
            ));
        }
        let session = sessions
            .iter()
            .find(|x| x.tenant == s.tenant)
            .ok_or_else(|| anyhow!("no session in {}", clinic_code(s.tenant)))?;
        let form = format!("query={}&page=0", names::form_encode(&s.typed));
        let t = Instant::now();
        let resp = conn.post_form(SEARCH_PATH, &form, Some(&session.cookie), false)?;
        let took = t.elapsed();
        if took > slowest.0 {
            slowest = (took, i);
        }
        let json: serde_json::Value = serde_json::from_slice(&resp.body)
            .ok()
            .filter(|_| resp.status == 200)
            .ok_or_else(|| {
                anyhow!(
                    "searching {} by name {:?} answered HTTP {}: {}",
                    s.label(),
                    s.typed,
                    resp.status,
                    resp.body_text()
                )
            })?;
        let ids: Vec<String> = json["patients"]
            .as_array()
            .map(|found| {
                found
                    .iter()
                    .map(|p| p["id"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        let sql: Vec<String> = a.ids.iter().take(SEARCH_PAGE).cloned().collect();
        if ids != sql {
            problems.push(format!(
                "{} typed {:?}: the server answered {} patients {:?}…, pgbench's SQL {} {:?}…",
                s.label(),
                s.typed,
                ids.len(),
                ids.first(),
                sql.len(),
                sql.first()
            ));
        }
    }
    for (kind, n, found) in &by_kind {
        if *n > 0 {
            util::note(format!(
                "  typed as {:<8} {found:>3} of {n:>3} found the patient (or as good a name)",
                kind.label()
            ));
        }
    }
    if problems.is_empty() {
        util::ok(format!(
            "{} name searches found their patient; the server answers what pgbench's SQL does",
            sample.len()
        ));
    } else {
        for p in problems.iter().take(10) {
            util::note(format!("  NOT OK: {p}"));
        }
        util::note(format!(
            "{} of {} name searches have a problem (measured all the same)",
            problems.len(),
            sample.len()
        ));
    }
    Ok(NameCheck {
        expect: answers
            .iter()
            .map(|a| a.ids.first().cloned().unwrap_or_default())
            .collect(),
        problems,
        slowest: slowest.1,
        by_kind,
    })
}

/// Replaces the SQL identifier `word` (not part of a longer name or a
/// qualified one) by `with`: a SQL function's parameter names by `$n`.
fn replace_identifier(sql: &str, word: &str, with: &str) -> String {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$';
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + word.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(ident) || after.is_some_and(ident) {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// The role `clinic.patient_name_matches` runs as and its body (as
/// installed), with its parameters as `$1`..`$4`: what the name search runs
/// inside the function, where EXPLAIN of the caller cannot see.
fn name_matches_body(owner: &PgUrl) -> Result<(String, String)> {
    let out = owner.psql(
        "SELECT proowner::regrole::text || E'\\x01' || proargnames::text || E'\\x01' || prosrc
           FROM pg_proc
          WHERE oid = 'clinic.patient_name_matches(text, text, bigint, bigint)'::regprocedure;",
    )?;
    let mut parts = out.splitn(3, '\u{1}');
    let (Some(role), Some(args), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
        bail!("clinic.patient_name_matches not found: {out}");
    };
    let args: Vec<&str> = args
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .split(',')
        .collect();
    let mut sql = body.trim().trim_end_matches(';').to_string();
    for (i, a) in args.iter().take(4).enumerate() {
        sql = replace_identifier(&sql, a.trim(), &format!("${}", i + 1));
    }
    Ok((role.trim().to_string(), sql))
}

/// One data set of the search benchmark.
struct SearchData {
    label: String,
    sessions: Vec<BenchSession>,
    sample: Vec<Sampled>,
}

/// One measured lookup.
struct SearchResult {
    data: usize,
    lookup: Lookup,
    a: PgbenchResult,
    b: HttpResult,
    plan: PlanCheck,
}

fn search(ctx: &Ctx, args: &[String]) -> Result<()> {
    let Some(opts) = parse_args::<SearchArgs>("search", args)? else {
        return Ok(());
    };
    let lookups = parse_lookups(&opts.lookups)?;
    let total = Instant::now();
    let common = &opts.common;
    let clients = opts.load.clients;
    let duration = Duration::from_secs(common.seconds);
    let mut bench = prepare(ctx, common, common.tenants)?;
    let (app, owner, target) = (&bench.app, &bench.owner, &bench.target);
    let list = NameList::load()?;

    let mut data = Vec::new();
    if opts.data != "large" {
        let sessions = login_all(target, 1..=common.tenants, &bench.password)?;
        let tenants: Vec<u32> = (1..=common.tenants).collect();
        let sample = read_sample(owner, &list, &sample_patients(&tenants, PATIENTS))?;
        data.push(SearchData {
            label: format!(
                "{TENANTS} tenants x {PATIENTS} patients ({} patients of {} logged-in tenants)",
                sample.len(),
                common.tenants
            ),
            sessions,
            sample,
        });
    }
    if opts.data != "clinics" {
        util::step(format!(
            "logging in `{BENCH_USER}` in {}",
            clinic_code(LARGE)
        ));
        let sessions = login_each(target, [LARGE], &bench.password)?;
        let sample = read_sample(owner, &list, &sample_patients(&[LARGE], LARGE_PATIENTS))?;
        data.push(SearchData {
            label: format!(
                "one clinic of {} patients ({}; {} of its patients)",
                group_thousands(u64::from(LARGE_PATIENTS)),
                clinic_code(LARGE),
                sample.len()
            ),
            sessions,
            sample,
        });
    }

    let name_body = if lookups.contains(&Lookup::Name) {
        Some(name_matches_body(owner)?)
    } else {
        None
    };
    let cpu = CpuProbe::new(&bench.pg, bench.server.pid());
    let mut results: Vec<SearchResult> = Vec::new();
    let mut name_checks: Vec<(usize, NameCheck)> = Vec::new();
    let mut probes_for_plans = Vec::new();
    for (d, set) in data.iter().enumerate() {
        util::step(format!("data: {}", set.label));
        check_searches(app, target, &set.sessions, &set.sample, &lookups)?;
        let names = if lookups.contains(&Lookup::Name) {
            Some(check_names(app, target, &set.sessions, &set.sample)?)
        } else {
            None
        };
        for lookup in &lookups {
            util::step(format!("{} lookups, {}", lookup.label(), set.label));
            let expect: Vec<String> = match (lookup, &names) {
                (Lookup::Name, Some(check)) => check.expect.clone(),
                _ => set
                    .sample
                    .iter()
                    .map(|s| patient_uuid(s.tenant, s.patient))
                    .collect(),
            };
            let reads = Arc::new(Reads {
                sessions: set.sessions.clone(),
                kind: ReadKind::Search(search_probes(
                    *lookup,
                    &set.sample,
                    &expect,
                    &set.sessions,
                )?),
            });
            let scripts: Vec<String> = set
                .sample
                .iter()
                .map(|s| search_script(*lookup, s))
                .collect();
            let name = format!(
                "search-{}{}",
                lookup.label().to_ascii_lowercase(),
                if set.sessions.iter().any(|s| s.tenant == LARGE) {
                    "-large"
                } else {
                    ""
                }
            );
            let a = run_pgbench(ctx, app, &name, &scripts, clients, duration, &cpu)?;
            let b = run_http(target, &reads, clients, duration, &cpu)?;
            // EXPLAIN the slowest name search of the check, else the first patient.
            let s = match (lookup, &names) {
                (Lookup::Name, Some(check)) => &set.sample[check.slowest],
                _ => &set.sample[0],
            };
            probes_for_plans.push((results.len(), *lookup, d, s.tenant, s.patient));
            results.push(SearchResult {
                data: d,
                lookup: *lookup,
                a,
                b,
                plan: PlanCheck {
                    ok: false,
                    summary: String::new(),
                },
            });
        }
        if let Some(check) = names {
            name_checks.push((d, check));
        }
    }
    bench.server.stop();

    for (r, lookup, d, n, p) in probes_for_plans {
        let s = data[d]
            .sample
            .iter()
            .find(|s| s.tenant == n && s.patient == p)
            .ok_or_else(|| anyhow!("sampled patient lost"))?;
        let tenant = tenant_uuid(s.tenant);
        results[r].plan = match (lookup, &name_body) {
            (Lookup::Name, Some((definer, body))) => {
                util::note(format!(
                    "{}: the name search for {:?} ({}), inside clinic.patient_name_matches \
                     (as the role it runs as, {definer})",
                    data[d].label, s.typed, s.full_name
                ));
                explain(
                    owner,
                    &PlanProbe {
                        tenant: &tenant,
                        sql: body.clone(),
                        types: "text, text, bigint, bigint",
                        args: format!(
                            "{}, {}, {SEARCH_LIMIT}, 0",
                            names::sql_quote(&s.typed),
                            names::sql_quote(&s.typed_norm)
                        ),
                        index: NAME_INDEX,
                        role: Some(definer),
                    },
                )?
            }
            _ => explain(
                app,
                &PlanProbe {
                    tenant: &tenant,
                    sql: search_select(lookup, "$1", "$2", "$3", "$4"),
                    types: "uuid, bigint, bigint, bytea",
                    args: format!("'{tenant}', {SEARCH_LIMIT}, 0, '\\x{}'", s.bidx(lookup)),
                    index: lookup.index(),
                    role: None,
                },
            )?,
        };
    }

    let pass = |ok: bool| if ok { "PASS" } else { "FAIL" };
    let mut failed = Vec::new();
    let ms = |p50: f64, p95: f64, p99: f64| {
        format!("p50 {p50:>7.2} ms  p95 {p95:>7.2} ms  p99 {p99:>7.2} ms")
    };
    let (a_side, b_side) = (
        "(a) pgbench, the same SQL",
        "(b) HTTP POST /api/patients/list",
    );
    for (d, set) in data.iter().enumerate() {
        println!();
        util::step(format!(
            "search, {}; {clients} clients, {} s per side",
            set.label, common.seconds
        ));
        for r in results.iter().filter(|r| r.data == d) {
            let label = r.lookup.label();
            let (a, b) = (&r.a, &r.b);
            let budget_ok = b.p95_ms < SEARCH_BUDGET_MS;
            println!(
                "  {label:<5} {a_side:<32} : {:>6.0} tx/s   {}",
                a.tps,
                ms(a.p50_ms, a.p95_ms, a.p99_ms)
            );
            println!(
                "        {b_side:<32} : {:>6.0} req/s  {}",
                b.rps,
                ms(b.p50_ms, b.p95_ms, b.p99_ms)
            );
            println!(
                "        p95 (b)/(a): {:.1} x   budget server p95 < {SEARCH_BUDGET_MS:.0} ms: {}",
                b.p95_ms / a.p95_ms,
                pass(budget_ok)
            );
            let errors_ok = b.report_errors("        ");
            println!("        plan: {} : {}", r.plan.summary, pass(r.plan.ok));
            let what = format!("{} {label}", set.label);
            if !budget_ok {
                failed.push(format!(
                    "{what}: p95 is {:.2} ms, not below {SEARCH_BUDGET_MS:.0} ms",
                    b.p95_ms
                ));
            }
            if !errors_ok {
                failed.push(format!(
                    "{what}: {} of {} searches failed",
                    b.errors, b.attempts
                ));
            }
            if !r.plan.ok {
                failed.push(format!(
                    "{what}: the plan does not use {} (see EXPLAIN above)",
                    r.lookup.index()
                ));
            }
        }
        if let Some((_, check)) = name_checks.iter().find(|(i, _)| *i == d) {
            let kinds: Vec<String> = check
                .by_kind
                .iter()
                .filter(|(_, n, _)| *n > 0)
                .map(|(k, n, found)| format!("{} {found}/{n}", k.label()))
                .collect();
            println!(
                "  name searches finding their patient: {} : {}",
                kinds.join(", "),
                pass(check.problems.is_empty())
            );
            if !check.problems.is_empty() {
                failed.push(format!(
                    "{}: {} name searches did not find their patient or differ from the SQL",
                    set.label,
                    check.problems.len()
                ));
            }
        }
    }
    let mut phases = Vec::new();
    for r in &results {
        let label = format!(
            "{} {}",
            r.lookup.label(),
            if data[r.data].sessions.iter().any(|s| s.tenant == LARGE) {
                "(large)"
            } else {
                ""
            }
        );
        if let Some(cpu) = &r.a.cpu {
            println!("  cpu during {label} (a): {}", cpu.render("pgbench"));
            println!("    per transaction: {}", cpu.per_op("pgbench", r.a.tps));
        }
        if let Some(cpu) = &r.b.cpu {
            println!(
                "  cpu during {label} (b): {}",
                cpu.render("load generator (xtask)")
            );
            println!(
                "    per request:     {}",
                cpu.per_op("load generator", r.b.rps)
            );
        }
        phases.push((format!("{label} (a)"), &r.a.cpu));
        phases.push((format!("{label} (b)"), &r.b.cpu));
    }
    let phases: Vec<(&str, &Option<CpuUse>)> =
        phases.iter().map(|(p, cpu)| (p.as_str(), *cpu)).collect();
    print_noise(&phases);
    bench.finish(total);

    if !failed.is_empty() {
        bail!("search: {}", failed.join("; "));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// EXPLAIN

struct PlanCheck {
    ok: bool,
    summary: String,
}

/// Whether `plan` reads through the index `index`.
fn uses_index(plan: &str, index: &str) -> bool {
    plan.lines().any(|l| {
        let l = l.trim().trim_start_matches("->").trim();
        [
            "Index Scan using ",
            "Index Only Scan using ",
            "Bitmap Index Scan on ",
        ]
        .iter()
        .any(|scan| {
            l.strip_prefix(scan)
                .and_then(|rest| rest.strip_prefix(index))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
        })
    })
}

/// A statement of the server's, to EXPLAIN the way the server runs it: as
/// a prepared statement with parameters.
struct PlanProbe<'a> {
    /// The tenant set in the transaction (row-level security applies).
    tenant: &'a str,
    /// The statement, with `$n` parameters.
    sql: String,
    /// The parameters' SQL types, e.g. `uuid, uuid`.
    types: &'a str,
    /// The parameters' values as SQL literals.
    args: String,
    /// The index the plan must use.
    index: &'a str,
    /// A role to run the statement as (after setting the tenant), such as the
    /// one a SECURITY DEFINER function runs as.
    role: Option<&'a str>,
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of the statement as the runtime role with
/// the tenant set, once with a custom plan and once with the generic plan
/// that a long-lived server connection may settle on.
fn explain(app: &PgUrl, probe: &PlanProbe) -> Result<PlanCheck> {
    let PlanProbe {
        tenant,
        sql,
        types,
        args,
        index,
        role,
    } = probe;
    let set_role = role.map_or_else(String::new, |r| format!("SET LOCAL ROLE {r};\n"));
    util::step(format!(
        "EXPLAIN as {}, tenant {tenant}",
        role.unwrap_or(app.user.as_str())
    ));
    const MARK: &str = "--- generic plan ---";
    let out = app.psql(&format!(
        "BEGIN;
SELECT clinic.set_tenant('{tenant}'::uuid) \\gset
{set_role}PREPARE bench_probe({types}) AS {sql};
SET LOCAL plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_probe({args});
\\echo '{MARK}'
SET LOCAL plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_probe({args});
ROLLBACK;
"
    ))?;
    let (custom, generic) = out
        .split_once(MARK)
        .ok_or_else(|| anyhow!("unexpected EXPLAIN output:\n{out}"))?;
    let (custom, generic) = (custom.trim(), generic.trim());
    util::note(format!("EXPLAIN (ANALYZE, BUFFERS) {sql}  -- ({args})"));
    for line in custom.lines() {
        util::note(format!("  {line}"));
    }
    util::note("the generic plan (what a long-lived server connection may use):");
    for line in generic.lines() {
        util::note(format!("  {line}"));
    }
    let (custom_ok, generic_ok) = (uses_index(custom, index), uses_index(generic, index));
    let scans = || {
        custom
            .lines()
            .map(|l| l.trim().trim_start_matches("->").trim())
            .filter(|l| l.contains("Index Scan") || l.starts_with("Index Only Scan"))
    };
    let scan = scans()
        .find(|l| uses_index(l, index))
        .or_else(|| scans().next())
        .or_else(|| custom.lines().next())
        .unwrap_or("(no plan)");
    let scan = scan.split("  (").next().unwrap_or(scan).trim();
    let verdict = |ok: bool| {
        if ok {
            "ok".to_string()
        } else {
            format!("NOT on {index}")
        }
    };
    Ok(PlanCheck {
        ok: custom_ok && generic_ok,
        summary: format!(
            "{scan} (custom plan {}, generic plan {})",
            verdict(custom_ok),
            verdict(generic_ok)
        ),
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
    /// Children of xtask: finished ones, and the running pgbench.
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

    /// A snapshot; `client` is a running child (pgbench) whose CPU counts
    /// as the load generator's (a finished child's counts once reaped).
    fn snapshot(&self, client: Option<u32>) -> Option<CpuSnap> {
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
        let client = client
            .and_then(|pid| proc_stat(&pid.to_string()))
            .map_or(0, |s| s.utime + s.stime);
        Some(CpuSnap {
            at: Instant::now(),
            machine_busy,
            this: me.utime + me.stime,
            children: me.cutime + me.cstime + client,
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
    fn pgbench_log() {
        // client_id transaction_no time script_no time_epoch time_us
        let log = "0 1 812 0 1700000000 999999\n\
                   0 2 1510 3 1700000001 000200\n\
                   1 1 failed 0 1700000001 500000\n\
                   1 2 2048 127 1700000002 000000\n\
                   garbage\n";
        let window = 1_700_000_001_000_000..1_700_000_002_000_000;
        let mut out = vec![7];
        assert_eq!(parse_pgbench_log(log, &window, &mut out), 1);
        assert_eq!(out, [7, 1510]);
    }

    fn sampled() -> Sampled {
        Sampled {
            tenant: 2,
            patient: 5,
            cnic_bidx: "00ff".into(),
            phone_bidx: "abcd".into(),
            full_name: "Muhammad Ali Khan".into(),
            name_norm: "muhammad ali khan".into(),
            typed: "m. ali".into(),
            typed_norm: "muhammad ali".into(),
            typed_kind: Typed::Partial,
        }
    }

    #[test]
    fn search_identifiers() {
        // The same values as server/src/cli.rs `bench_identifiers_are_what_the_bench_searches`.
        assert_eq!(search_cnic(1000, 1), "3010000000001");
        assert_eq!(search_phone(1000, 1), "03100000001");
        assert_eq!(search_cnic(7, 999), "3000070000999");
        assert_eq!(search_phone(7, 999), "03000700999");
        assert_eq!(search_phone(1, 200_000), "03001200000");
        assert_eq!(search_phone(LARGE, 99_999), "03000099999");
        assert_eq!(search_phone(LARGE, 100_000), "03000100000");
        let s = Sampled {
            tenant: 7,
            patient: 999,
            ..sampled()
        };
        assert_eq!(Lookup::Phone.query(&s), "03000700999");
        assert_eq!(Lookup::Name.query(&s), "m. ali");
        assert_eq!(clinic_code(LARGE), "benchxl0");
        assert_eq!(clinic_code(12), "bench12");
    }

    #[test]
    fn search_transaction() {
        let s = sampled();
        let script = search_script(Lookup::Phone, &s);
        assert!(script.starts_with("\\startpipeline\nBEGIN;\nSELECT clinic.set_tenant("));
        assert!(script.contains(
            "WHERE tenant_id = '00000000-0000-4000-8000-000000000002'::uuid \
             AND phone_bidx = '\\xabcd'::bytea ORDER BY name_key, id LIMIT 26 OFFSET 0;\nCOMMIT;"
        ));
        assert_eq!(
            search_select(Lookup::Cnic, "$1", "$2", "$3", "$4"),
            format!(
                "SELECT {PATIENT_COLUMNS} FROM clinic.patients WHERE tenant_id = $1 \
                 AND cnic_bidx = $4 ORDER BY name_key, id LIMIT $2 OFFSET $3"
            )
        );
        let script = search_script(Lookup::Name, &s);
        assert!(script.contains(&format!(
            "SELECT {PATIENT_COLUMNS} FROM clinic.patient_name_matches('m. ali', \
             'muhammad ali', 26, 0) AS m JOIN clinic.patients ON tenant_id = \
             '00000000-0000-4000-8000-000000000002'::uuid AND id = m.patient_id \
             ORDER BY m.rank;\nCOMMIT;"
        )));
    }

    #[test]
    fn lookups_and_names() {
        assert_eq!(
            parse_lookups("name, CNIC").unwrap(),
            [Lookup::Cnic, Lookup::Name]
        );
        assert!(parse_lookups("email").is_err());
        assert!(parse_lookups(",").is_err());
        assert_eq!(
            replace_identifier(
                "SELECT p.norm, name_norm FROM t WHERE x = norm AND norm_x <% norm LIMIT lim OFFSET off",
                "norm",
                "$2"
            ),
            "SELECT p.norm, name_norm FROM t WHERE x = $2 AND norm_x <% $2 LIMIT lim OFFSET off"
        );
        let c = parse_counts(IDENTIFIERS_MARKER, "1000 1000000 0 200000 0").unwrap();
        assert!(c.complete());
        let c = parse_counts(OLD_MARKERS[1], "1000 1000000 0 0 0").unwrap();
        assert!(!c.complete() && c.large == 0);
        assert!(parse_counts(IDENTIFIERS_MARKER, "999 1000000 0 200000 0").is_none());
        assert!(parse_counts(IDENTIFIERS_MARKER, "1000 1000000 0").is_none());
    }

    #[test]
    fn name_guards() {
        let s = sampled();
        let me = patient_uuid(2, 5);
        let answer = |ids: &[&str], norms: &[&str]| NameAnswer {
            ids: ids.iter().map(|x| x.to_string()).collect(),
            norms: norms.iter().map(|x| x.to_string()).collect(),
            keys: norms.iter().map(|x| x.to_string()).collect(),
        };
        // Partial: the first starts with what was typed, the patient is on the page.
        let a = answer(&["x", &me], &["muhammad ali abbasi", "muhammad ali khan"]);
        assert_eq!(name_guard(&s, &a), None);
        // Not on the page, but every answer is as good.
        let a = answer(&["x", "y"], &["muhammad ali abbasi", "muhammad ali khan"]);
        assert_eq!(name_guard(&s, &a), None);
        let a = answer(&["x", "y"], &["muhammad ali abbasi", "muhammad usman"]);
        assert!(name_guard(&s, &a).is_some());
        let a = answer(&[&me], &["ali muhammad"]);
        assert!(name_guard(&s, &a).unwrap().contains("first answer"));
        assert!(name_guard(&s, &NameAnswer::default()).is_some());
        // "nadia ch" is canonically "nadia chaudhry" (Ch. is Chaudhry), but
        // Nadia Cheema starts with what was typed.
        let p = Sampled {
            full_name: "Nadia Cheema".into(),
            name_norm: "nadia cheema".into(),
            typed: "nadia ch".into(),
            typed_norm: "nadia chaudhry".into(),
            ..sampled()
        };
        let a = NameAnswer {
            ids: vec![me.clone()],
            norms: vec!["nadia cheema".into()],
            keys: vec!["nadia cheema".into()],
        };
        assert_eq!(name_guard(&p, &a), None);
        // A variant must find the patient's canonical name first.
        let v = Sampled {
            typed: "mohamad ali khan".into(),
            typed_norm: "muhammad ali khan".into(),
            typed_kind: Typed::Variant,
            ..sampled()
        };
        let a = answer(&["x", &me], &["muhammad ali khan", "muhammad ali khan"]);
        assert_eq!(name_guard(&v, &a), None);
        let a = answer(&[&me], &["muhammad ali abbasi"]);
        assert!(name_guard(&v, &a).is_some());
        // A typo: the name on the page will do.
        let t = Sampled {
            typed: "naseen shah".into(),
            typed_norm: "naseen shah".into(),
            full_name: "Nasreen Shah".into(),
            name_norm: "nasreen shah".into(),
            typed_kind: Typed::Typo,
            ..sampled()
        };
        let a = answer(&["x", "y"], &["naseem shah", "nasreen shah"]);
        assert_eq!(name_guard(&t, &a), None);
        let a = answer(&["x"], &["naseem shah"]);
        assert!(name_guard(&t, &a).is_some());
        assert!(name_guard(&t, &NameAnswer::default()).is_some());
        // A typo that is another patient's name: a full page of that name
        // will do, a short one will not.
        let other = Sampled {
            typed: "amna khan".into(),
            typed_norm: "amna khan".into(),
            full_name: "Amina Khan".into(),
            name_norm: "amina khan".into(),
            ..t.clone()
        };
        let full: Vec<String> = (0..SEARCH_PAGE).map(|i| format!("id{i}")).collect();
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        let a = answer(&full, &vec!["amna khan"; SEARCH_PAGE]);
        assert_eq!(name_guard(&other, &a), None);
        let a = answer(&["x"], &["amna khan"]);
        assert!(name_guard(&other, &a).is_some());
        // As near: a full page of Naseem Shah for "naseen shah" will do; one
        // farther name on it will not.
        let mut norms = vec!["naseem shah"; SEARCH_PAGE];
        let a = answer(&full, &norms);
        assert_eq!(name_guard(&t, &a), None);
        norms[SEARCH_PAGE - 1] = "nasir shah";
        let a = answer(&full, &norms);
        assert!(name_guard(&t, &a).is_some());
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
        assert!(uses_index(plan, "patients_pkey"));
        assert!(!uses_index("Seq Scan on patients", "patients_pkey"));
        assert!(!uses_index(
            "Index Scan using patients_tenant_name_key on patients",
            "patients_pkey"
        ));
        let search = "Limit  (cost=8.45..8.46 rows=1 width=120)\n  \
                      ->  Sort  (cost=8.45..8.46 rows=1 width=120)\n        \
                      ->  Index Scan using patients_tenant_cnic_bidx on patients  (cost=0.42..8.44)";
        assert!(uses_index(search, "patients_tenant_cnic_bidx"));
        assert!(!uses_index(search, "patients_tenant_cnic"));
        assert!(uses_index(
            "->  Bitmap Index Scan on patients_tenant_phone_bidx  (cost=0.00..4.43 rows=1 width=0)",
            "patients_tenant_phone_bidx"
        ));
    }
}

// ---------------------------------------------------------------------------
// audit

/// With-audit writes must reach this share of writes without.
const AUDIT_BUDGET_PERCENT: f64 = 75.0;
/// Appends per second for 8 writers in one clinic.
const AUDIT_APPENDS_BUDGET: f64 = 500.0;

#[derive(Parser, Debug)]
#[command(
    name = "cargo xtask bench audit",
    about = "Patient updates with vs without their audit entry, and 8 writers appending in one clinic"
)]
struct AuditArgs {
    /// Measured seconds per phase (five phases, after a 2 s warm-up).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=600))]
    seconds: u64,
    /// Clinics the writes are spread over (the first K of the 1,000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    clinics: u32,
    /// Concurrent writers.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=64))]
    writers: u32,
    /// Drop and reload the benchmark database even when it looks complete.
    #[arg(long)]
    reload: bool,
    /// Skip `cargo leptos build --release` and use the existing release binary.
    #[arg(long)]
    no_build: bool,
}

fn audit(ctx: &Ctx, args: &[String]) -> Result<()> {
    let Some(opts) = parse_args::<AuditArgs>("audit", args)? else {
        return Ok(());
    };
    let total = Instant::now();
    let BenchData {
        bin,
        port,
        started_cluster,
        env,
        ..
    } = bench_data(ctx, opts.no_build, opts.reload)?;

    util::step(format!(
        "patient updates by {} writers over {} clinics, {} s per phase",
        opts.writers, opts.clinics, opts.seconds
    ));
    let mut cmd = server_cmd(ctx, &bin, &env);
    cmd.args(["demo", "bench-audit", "--tenant-prefix", TENANT_PREFIX])
        .args(["--clinics", &opts.clinics.to_string()])
        .args(["--writers", &opts.writers.to_string()])
        .args(["--seconds", &opts.seconds.to_string()]);
    let out = util::capture(&mut cmd)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in stdout.lines().filter(|l| !l.starts_with("RESULT")) {
        println!("  {line}");
    }
    if !out.status.success() {
        bail!(
            "`healipro demo bench-audit` failed with {}: {}",
            util::describe_status(out.status),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let result: BTreeMap<String, f64> = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or_else(|| anyhow!("no RESULT line from `healipro demo bench-audit`"))?
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
        .collect();
    let get = |k: &str| {
        result
            .get(k)
            .copied()
            .ok_or_else(|| anyhow!("RESULT lacks {k}"))
    };
    let (plain, audited, one, failures) = (
        get("plain")?,
        get("audited")?,
        get("one_clinic")?,
        get("failures")?,
    );
    let (bare_plain, bare_audited) = (get("bare_plain")?, get("bare_audited")?);

    let pass = |ok: bool| if ok { "PASS" } else { "FAIL" };
    let ratio = 100.0 * audited / plain;
    let mut failed = Vec::new();
    println!();
    util::step(format!(
        "audit ({TENANTS} tenants x {PATIENTS} patients; {} writers)",
        opts.writers
    ));
    println!("  (a) patient updates without audit : {plain:>7.0} /s");
    println!("  (b) patient updates with audit    : {audited:>7.0} /s");
    println!(
        "      (b)/(a): {ratio:.1} %   budget >= {AUDIT_BUDGET_PERCENT:.0} %: {}",
        pass(ratio >= AUDIT_BUDGET_PERCENT)
    );
    println!(
        "  (c) one clinic, {} writers, audited: {one:>7.0} appends/s   budget >= {AUDIT_APPENDS_BUDGET:.0}/s: {}",
        opts.writers,
        pass(one >= AUDIT_APPENDS_BUDGET)
    );
    println!(
        "  (info) the bare update, without the request's authentication (the measure before \
         2026-11-29): {bare_plain:.0} /s without, {bare_audited:.0} /s with audit, {:.1} %",
        100.0 * bare_audited / bare_plain
    );
    println!("  failed transactions: {failures:.0}");
    if ratio < AUDIT_BUDGET_PERCENT {
        failed.push(format!(
            "with audit is {ratio:.1} % of without, below {AUDIT_BUDGET_PERCENT:.0} %"
        ));
    }
    if one < AUDIT_APPENDS_BUDGET {
        failed.push(format!(
            "{one:.0} appends/s in one clinic, below {AUDIT_APPENDS_BUDGET:.0}"
        ));
    }
    if failures > 0.0 {
        failed.push(format!("{failures:.0} transactions failed"));
    }
    println!("  total time {}", util::fmt_duration(total.elapsed()));
    if started_cluster {
        util::note(format!(
            "PostgreSQL (port {port}) was started for this run and is left running; `cargo xtask db stop` stops it"
        ));
    }
    util::flush();
    if !failed.is_empty() {
        bail!("bench audit: {}", failed.join("; "));
    }
    Ok(())
}
