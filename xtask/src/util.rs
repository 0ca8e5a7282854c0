//! Shared helpers: project paths, running child processes, `.env`-style files,
//! free ports and a tiny HTTPS probe.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

use crate::tls::{self, DevCert};

/// Name of the server binary built by cargo-leptos (the `server` crate's `[[bin]]`).
pub const SERVER_BIN: &str = "healipro";

/// Every path xtask works with.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Workspace root (the parent of `xtask/`).
    pub root: PathBuf,
    /// Cargo target dir: `$CARGO_TARGET_DIR` or `<root>/target`.
    pub target_dir: PathBuf,
    /// Tools folder outside the repo: `$HOME/.cache/healipro/tools`.
    pub tools_dir: PathBuf,
    /// Project-private state: `<root>/.healipro` (gitignored).
    pub state_dir: PathBuf,
}

impl Ctx {
    pub fn new() -> Result<Self> {
        let root = workspace_root()?;
        let target_dir = match std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
            Some(dir) => absolute(Path::new(&dir))?,
            None => root.join("target"),
        };
        let tools_dir = home_dir()?.join(".cache/healipro/tools");
        let state_dir = root.join(".healipro");
        Ok(Self {
            root,
            target_dir,
            tools_dir,
            state_dir,
        })
    }

    /// `<target>/debug/healipro`, built by `cargo leptos build`.
    pub fn server_bin(&self) -> PathBuf {
        self.target_dir.join("debug").join(SERVER_BIN)
    }

    /// Where cargo-leptos writes the site (`site-root = "target/site"` is
    /// relative to the workspace root, not to `CARGO_TARGET_DIR`).
    pub fn site_root(&self) -> PathBuf {
        self.root.join("target").join("site")
    }

    pub fn dev_env_path(&self) -> PathBuf {
        self.state_dir.join("dev.env")
    }

    pub fn end2end_dir(&self) -> PathBuf {
        self.root.join("end2end")
    }

    /// Creates `<root>/.healipro` (mode 0755 so that the `postgres` OS user
    /// can traverse into `pg/`; the secrets inside are mode 0600).
    pub fn ensure_state_dir(&self) -> Result<()> {
        fs::create_dir_all(&self.state_dir)
            .with_context(|| format!("cannot create {}", self.state_dir.display()))
    }
}

fn workspace_root() -> Result<PathBuf> {
    // `cargo run` sets CARGO_MANIFEST_DIR for the running binary too; prefer it
    // over the compile-time value so that a shared CARGO_TARGET_DIR reused by
    // clones at different paths (CI) never points at another checkout.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.join("Cargo.toml").is_file() && dir.join("src/main.rs").is_file())
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let root = manifest_dir.parent().ok_or_else(|| {
        anyhow!(
            "xtask manifest dir {} has no parent",
            manifest_dir.display()
        )
    })?;
    if !root.join("Cargo.toml").is_file() {
        bail!(
            "workspace root {} has no Cargo.toml; run xtask through `cargo xtask …` from the repository",
            root.display()
        );
    }
    Ok(root.to_path_buf())
}

pub fn home_dir() -> Result<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| anyhow!("$HOME is not set; set it to your home directory"))
}

/// `$CARGO_HOME` or `$HOME/.cargo`.
pub fn cargo_home() -> Result<PathBuf> {
    match std::env::var_os("CARGO_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => absolute(Path::new(&dir)),
        None => Ok(home_dir()?.join(".cargo")),
    }
}

pub fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        Ok(path.to_path_buf())
    } else {
        Ok(std::env::current_dir()
            .context("cannot read the current directory")?
            .join(path))
    }
}

/// Prepends `<tools>/node_modules/.bin` and `$CARGO_HOME/bin` to PATH for this
/// process, so every child process inherits it. Called once at the very start
/// of `main`, before any thread exists.
pub fn setup_env(ctx: &Ctx) -> Result<()> {
    let mut dirs = vec![
        ctx.tools_dir.join("node_modules/.bin"),
        cargo_home()?.join("bin"),
    ];
    if let Some(existing) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&existing) {
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
    }
    let joined = std::env::join_paths(dirs).context("a PATH entry contains ':'")?;
    std::env::set_var("PATH", joined);
    // Child cargo processes run in the workspace root: hand them an absolute
    // target dir so a relative CARGO_TARGET_DIR keeps meaning the same folder.
    if std::env::var_os("CARGO_TARGET_DIR").is_some_and(|v| !v.is_empty()) {
        std::env::set_var("CARGO_TARGET_DIR", &ctx.target_dir);
    }
    // `cargo run` gave xtask its own CARGO_MANIFEST_DIR, CARGO_PKG_NAME…
    // (already read into `ctx`). ring's build script tracks those, so passing
    // them on to child cargo processes rebuilt ring and everything above it
    // (minutes) whenever they differed from the previous build's: every new
    // CI clone, or plain `cargo` after `cargo xtask`.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_MANIFEST_")
            || matches!(
                &*key,
                "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE"
            )
        {
            std::env::remove_var(&*key);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Output

/// A top-level step: `==> message`.
pub fn step(msg: impl AsRef<str>) {
    println!("==> {}", msg.as_ref());
    flush();
}

/// Something that was already fine: `    ok: message`.
pub fn ok(msg: impl AsRef<str>) {
    println!("    ok: {}", msg.as_ref());
    flush();
}

/// An indented detail line.
pub fn note(msg: impl AsRef<str>) {
    println!("    {}", msg.as_ref());
    flush();
}

pub fn flush() {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

pub fn fmt_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let total = d.as_secs();
        format!("{}m{:02}s", total / 60, total % 60)
    }
}

// ---------------------------------------------------------------------------
// Processes

/// Shell-like rendering of a command (program and arguments; not the env).
pub fn display_cmd(cmd: &Command) -> String {
    let mut parts = vec![quote(cmd.get_program())];
    parts.extend(cmd.get_args().map(quote));
    parts.join(" ")
}

fn quote(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

pub fn describe_status(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(sig)) => format!("signal {sig}"),
        _ => "unknown status".to_string(),
    }
}

/// Runs a command with inherited stdio (output streams live), after printing
/// it. Fails with the command line and its exit code.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = run_status(cmd)?;
    if !status.success() {
        bail!(
            "`{}` failed with {}",
            display_cmd(cmd),
            describe_status(status)
        );
    }
    Ok(())
}

/// Like [`run`] but returns the exit status instead of failing on non-zero.
pub fn run_status(cmd: &mut Command) -> Result<ExitStatus> {
    println!("    $ {}", display_cmd(cmd));
    flush();
    cmd.status()
        .with_context(|| format!("cannot start `{}`", display_cmd(cmd)))
}

/// Runs a command quietly and captures its output (for probes such as
/// `--version`). An error only when the program cannot be started.
pub fn capture(cmd: &mut Command) -> Result<Output> {
    cmd.stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot start `{}`", display_cmd(cmd)))
}

/// Captured stdout of a successful command, trimmed.
pub fn capture_stdout(cmd: &mut Command) -> Result<String> {
    let out = capture(cmd)?;
    if !out.status.success() {
        bail!(
            "`{}` failed with {}: {}",
            display_cmd(cmd),
            describe_status(out.status),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Finds an executable on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            candidate
                .metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

pub fn is_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        capture_stdout(Command::new("id").arg("-u"))
            .map(|uid| uid == "0")
            .unwrap_or(false)
    })
}

pub fn current_user() -> Result<String> {
    capture_stdout(Command::new("id").arg("-un")).context("cannot determine the current user")
}

/// Builds a command that runs as root: directly when we are root, else via sudo.
pub fn root_cmd(program: &str) -> Command {
    if is_root() {
        Command::new(program)
    } else {
        let mut cmd = Command::new("sudo");
        cmd.arg(program);
        cmd
    }
}

/// Last `lines` lines of a text file (for server logs in error messages).
pub fn tail(path: &Path, lines: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            let start = all.len().saturating_sub(lines);
            all[start..]
                .iter()
                .map(|l| format!("      | {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        }
        Err(e) => format!("      (cannot read {}: {e})", path.display()),
    }
}

// ---------------------------------------------------------------------------
// KEY=VALUE files

/// Parses a KEY=VALUE file (blank lines and `#` comments ignored). Order kept.
pub fn read_env_file(path: &Path) -> Result<Vec<(String, String)>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (key, value) = line.split_once('=').ok_or_else(|| {
            anyhow!(
                "{}:{}: expected KEY=VALUE; fix or delete the file",
                path.display(),
                n + 1
            )
        })?;
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        out.push((key.trim().to_string(), value.to_string()));
    }
    Ok(out)
}

/// Writes a KEY=VALUE file atomically with mode 0600.
pub fn write_env_file(path: &Path, entries: &[(String, String)], header: &str) -> Result<()> {
    let mut text = String::new();
    for line in header.lines() {
        text.push_str("# ");
        text.push_str(line);
        text.push('\n');
    }
    for (k, v) in entries {
        text.push_str(&format!("{k}={v}\n"));
    }
    write_private(path, text.as_bytes())
}

/// Writes a file atomically (temp file + rename) with mode 0600.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o600))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Loads `.healipro/dev.env` as a map; fails with a hint when it is missing.
pub fn load_dev_env(ctx: &Ctx) -> Result<BTreeMap<String, String>> {
    let path = ctx.dev_env_path();
    if !path.is_file() {
        bail!(
            "{} does not exist yet; run `cargo xtask db start` to create the dev database",
            path.display()
        );
    }
    Ok(read_env_file(&path)?.into_iter().collect())
}

/// Environment for running the server binary: the dev.env variables plus the
/// Leptos runtime settings (site root, pkg dir, output name, address).
pub fn server_env(ctx: &Ctx) -> Result<BTreeMap<String, String>> {
    let mut env = load_dev_env(ctx)?;
    let addr = env
        .get("HEALIPRO_ADDR")
        .cloned()
        .ok_or_else(|| anyhow!("HEALIPRO_ADDR missing from dev.env; run `cargo xtask db start`"))?;
    env.insert(
        "LEPTOS_SITE_ROOT".into(),
        ctx.site_root().to_string_lossy().into_owned(),
    );
    env.insert("LEPTOS_SITE_PKG_DIR".into(), "pkg".into());
    env.insert("LEPTOS_OUTPUT_NAME".into(), SERVER_BIN.into());
    env.insert("LEPTOS_SITE_ADDR".into(), addr);
    let key = ensure_server_key(ctx)?;
    env.insert(
        "HEALIPRO_SERVER_KEY_FILE".into(),
        key.to_string_lossy().into_owned(),
    );
    let audit_key = ensure_audit_key(ctx)?;
    env.insert(
        "HEALIPRO_AUDIT_KEY_FILE".into(),
        audit_key.to_string_lossy().into_owned(),
    );
    Ok(env)
}

/// The development master key file (`.healipro/server.key`, mode 600: one
/// `<id> <64 hex>` line per key, the last active), created on first use. It
/// wraps every tenant's keys and the JWT private keys in the dev database, so
/// it is never replaced once it exists (`healipro keys rotate-kek` adds keys).
pub fn ensure_server_key(ctx: &Ctx) -> Result<PathBuf> {
    ensure_key_file(ctx, "server.key", "master key", |hex| {
        format!(
            "# Healipro master keys (development). Never commit or copy into the database.\n\
             kek-dev-1 {hex}\n"
        )
    })
}

/// The development audit signing key (`.healipro/audit.key`: an Ed25519 seed
/// as 64 hex characters, mode 600), created on first use and kept: it signs
/// the audit checkpoints.
pub fn ensure_audit_key(ctx: &Ctx) -> Result<PathBuf> {
    ensure_key_file(ctx, "audit.key", "audit signing key", |hex| {
        format!("{hex}\n")
    })
}

/// Creates `.healipro/<name>` from 32 random bytes (as hex, through
/// `render`) unless it exists; never replaces one.
fn ensure_key_file(
    ctx: &Ctx,
    name: &str,
    what: &str,
    render: impl Fn(&str) -> String,
) -> Result<PathBuf> {
    use rand::RngCore;
    let path = ctx.state_dir.join(name);
    if path.is_file() {
        return Ok(path);
    }
    println!("==> generating the development {what} {}", path.display());
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| anyhow!("cannot create {}: {e}", path.display()))?;
    file.write_all(render(&hex).as_bytes())?;
    Ok(path)
}

/// A command for the server binary with [`server_env`] applied.
pub fn server_cmd(ctx: &Ctx, env: &BTreeMap<String, String>) -> Result<Command> {
    let bin = ctx.server_bin();
    if !bin.is_file() {
        bail!(
            "server binary {} not found; `cargo leptos build` should have produced it \
             (is the server crate's [[bin]] named `{SERVER_BIN}`?)",
            bin.display()
        );
    }
    let mut cmd = Command::new(bin);
    cmd.current_dir(&ctx.root).envs(env);
    Ok(cmd)
}

/// [`server_env`] plus the development certificate (`HEALIPRO_TLS_CERT`,
/// `HEALIPRO_TLS_KEY`, created if needed): the environment for
/// `healipro serve`, which speaks HTTPS only.
pub fn serve_env(ctx: &Ctx) -> Result<(BTreeMap<String, String>, DevCert)> {
    let mut env = server_env(ctx)?;
    let dev = tls::ensure_dev_cert(ctx)?;
    env.insert(
        "HEALIPRO_TLS_CERT".into(),
        dev.cert.to_string_lossy().into_owned(),
    );
    env.insert(
        "HEALIPRO_TLS_KEY".into(),
        dev.key.to_string_lossy().into_owned(),
    );
    Ok((env, dev))
}

/// `cargo leptos build` (debug) in the workspace root. LEPTOS_* variables are
/// removed: cargo-leptos reads them as config overrides, and different values
/// would change the compile-time environment and force rebuilds.
pub fn cargo_leptos_build(ctx: &Ctx) -> Result<()> {
    step("building with `cargo leptos build` (debug)");
    let mut cmd = Command::new("cargo");
    cmd.args(["leptos", "build"]).current_dir(&ctx.root);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("LEPTOS_") {
            cmd.env_remove(key);
        }
    }
    run(&mut cmd).context(
        "the build failed; fix the errors above (`cargo xtask tools` installs missing tools)",
    )?;
    let bin = ctx.server_bin();
    if !bin.is_file() {
        bail!(
            "`cargo leptos build` succeeded but {} is missing; the server crate's binary must be named `{SERVER_BIN}`",
            bin.display()
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Network

pub fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// First free TCP port on 127.0.0.1 in `range`, skipping `exclude`.
pub fn free_port(range: std::ops::Range<u16>, exclude: &[u16]) -> Result<u16> {
    let (start, end) = (range.start, range.end);
    range
        .filter(|p| !exclude.contains(p))
        .find(|&p| port_is_free(p))
        .ok_or_else(|| anyhow!("no free TCP port on 127.0.0.1 between {start} and {end}"))
}

/// A free port below 32768, starting the scan at a random point (so that
/// concurrent runs rarely race for the same port).
pub fn fresh_port(exclude: &[u16]) -> Result<u16> {
    const LOW: u16 = 20000;
    const HIGH: u16 = 32768;
    let start = LOW + rand::random::<u16>() % (HIGH - LOW);
    free_port(start..HIGH, exclude).or_else(|_| free_port(LOW..start, exclude))
}

/// `GET https://<addr><path>` (trusting only the certificate `tls` pins) and
/// returns the status code.
pub fn https_status(addr: &str, path: &str, tls: &Arc<rustls::ClientConfig>) -> Result<u16> {
    let sock: SocketAddr = addr
        .parse()
        .with_context(|| format!("bad address {addr}"))?;
    let mut stream = tls::connect(sock, tls, Duration::from_secs(5))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: xtask\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = [0u8; 64];
    let mut got = Vec::new();
    while !got.contains(&b'\n') && got.len() < 256 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&got);
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            anyhow!(
                "not an HTTP response: {:?}",
                line.lines().next().unwrap_or("")
            )
        })
}

/// 32 random hex characters.
pub fn random_hex32() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs a psql command whose script is fed on stdin (so passwords never show in
/// the process list); returns stdout, or an error naming `who` and `db` with
/// psql's message.
pub fn psql_stdin(mut cmd: Command, who: &str, db: &str, sql: &str) -> Result<String> {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", display_cmd(&cmd)))?;
    // Written from another thread while this one reads: psql answers as it
    // reads, and a large answer would fill the output pipe while we still
    // wrote, leaving both sides waiting for ever.
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| anyhow!("no stdin for psql"))?;
    let input = sql.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output()?;
    writer
        .join()
        .map_err(|_| anyhow!("the thread writing to psql panicked"))?
        .context("writing the SQL to psql")?;
    if !out.status.success() {
        bail!(
            "psql as {who} on database {db} failed with {}: {}",
            describe_status(out.status),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Waits up to 60 s for `GET https://{addr}/healthz` to answer 200, failing
/// early (with the tail of `log_path`) if the server process exits.
pub fn wait_healthy(
    child: &mut std::process::Child,
    addr: &str,
    tls: &Arc<rustls::ClientConfig>,
    log_path: &Path,
) -> Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait()? {
            bail!(
                "the server exited early with {}. Last lines of {}:\n{}",
                describe_status(status),
                log_path.display(),
                tail(log_path, 30)
            );
        }
        match https_status(addr, "/healthz", tls) {
            Ok(200) => return Ok(()),
            Ok(_) | Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(200))
            }
            last => bail!(
                "https://{addr}/healthz did not answer 200 within 60 s (last: {}). Last lines of {}:\n{}",
                match last {
                    Ok(code) => format!("HTTP {code}"),
                    Err(e) => e.to_string(),
                },
                log_path.display(),
                tail(log_path, 30)
            ),
        }
    }
}

/// Spawns `cmd` with stdin closed and stdout/stderr going to `log_path`
/// (created afresh), announcing the command line and the log's place.
pub fn spawn_logged(cmd: &mut Command, log_path: &Path) -> Result<std::process::Child> {
    let log = fs::File::create(log_path)
        .with_context(|| format!("cannot create {}", log_path.display()))?;
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    println!("    $ {} (log: {})", display_cmd(cmd), log_path.display());
    cmd.spawn()
        .with_context(|| format!("cannot start {}", display_cmd(cmd)))
}

/// Stops a server we spawned: SIGTERM (graceful shutdown), then SIGKILL if it
/// is still running after 10 s. Does nothing if it already exited.
pub fn terminate(child: &mut std::process::Child, what: &str) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let pid = child.id();
    note(format!("stopping the {what} (pid {pid})"));
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .stderr(Stdio::null())
        .status();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psql_stdin_reads_while_it_writes() {
        // `cat` answers as it reads, like psql: 4 MB through 64 KB pipes
        // deadlocks unless the input is written while the output is read.
        let big: String = (0..200_000).map(|i| format!("line {i:012}\n")).collect();
        let (done, result) = std::sync::mpsc::channel();
        let input = big.clone();
        std::thread::spawn(move || {
            let _ = done.send(psql_stdin(Command::new("cat"), "test", "none", &input));
        });
        let out = result
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("psql_stdin hung: it must read the output while writing the input")
            .unwrap();
        assert_eq!(out, big.trim());
    }

    #[test]
    fn env_file_roundtrip() {
        let dir = std::env::temp_dir().join(format!("xtask-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.env");
        let entries = vec![
            ("A".to_string(), "postgres://u:p@h:1/db".to_string()),
            ("B".to_string(), "x=y".to_string()),
        ];
        write_env_file(&path, &entries, "header\nsecond").unwrap();
        assert_eq!(read_env_file(&path).unwrap(), entries);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn quoting() {
        let mut cmd = Command::new("psql");
        cmd.args(["-c", "select 1", "a'b", "--x=y"]);
        assert_eq!(display_cmd(&cmd), r"psql -c 'select 1' 'a'\''b' --x=y");
    }

    #[test]
    fn hex() {
        let h = random_hex32();
        assert_eq!(h.len(), 32);
        assert!(h.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
