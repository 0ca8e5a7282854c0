//! `ensure_tools`: installs everything the build and the tests need, each step
//! idempotent (checked first) and announced. Works offline-ish: only crates.io,
//! npm and Debian's apt are reachable (see /work/shared/TOOLCHAIN.md).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{anyhow, bail, Context, Result};

use crate::util::{self, Ctx};

pub const CARGO_LEPTOS_VERSION: &str = "0.3.11";
/// Builds on stable with `--sanitizer none` (no `-Z` flag reaches rustc).
pub const CARGO_FUZZ_VERSION: &str = "0.13.2";
pub const PG_BIN_DIR: &str = "/usr/lib/postgresql/15/bin";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Installs (or verifies) every tool; tries all of them and reports every
/// failure at the end.
pub fn ensure_tools(ctx: &Ctx) -> Result<()> {
    util::step("checking tools");
    type Check = fn(&Ctx) -> Result<()>;
    let checks: [(&str, Check); 8] = [
        ("wasm32 target", ensure_wasm_target),
        ("cargo-leptos", ensure_cargo_leptos),
        ("wasm-bindgen-cli", ensure_wasm_bindgen),
        ("cargo-fuzz", ensure_cargo_fuzz),
        ("sass + wasm-opt", ensure_npm_tools),
        ("PostgreSQL 15", ensure_postgres),
        ("chromium", ensure_chromium),
        ("end2end npm packages", ensure_end2end_packages),
    ];
    let mut failed = Vec::new();
    for (name, check) in checks {
        if let Err(e) = check(ctx) {
            println!("    FAILED: {name}: {e:#}");
            failed.push(format!("{name}: {e:#}"));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        bail!(
            "{} tool step(s) failed:\n  - {}\nfix the cause above and rerun; every step is idempotent",
            failed.len(),
            failed.join("\n  - ")
        )
    }
}

// ---------------------------------------------------------------------------
// Rust side

fn ensure_wasm_target(_ctx: &Ctx) -> Result<()> {
    if util::which("rustup").is_none() {
        bail!("rustup not found on PATH; install Rust with rustup (https://rustup.rs) and rerun");
    }
    let installed =
        util::capture_stdout(Command::new("rustup").args(["target", "list", "--installed"]))?;
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        util::ok("wasm32 target already installed");
        return Ok(());
    }
    util::step("installing the wasm32-unknown-unknown target (< 1 min, once per toolchain)");
    util::run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// Version printed by `<program> <args>` (last word of the first line).
fn tool_version(program: &str, args: &[&str]) -> Option<String> {
    let out = util::capture(Command::new(program).args(args)).ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .next()?
        .split_whitespace()
        .last()
        .map(|v| v.trim_start_matches('v').to_string())
}

fn ensure_cargo_leptos(ctx: &Ctx) -> Result<()> {
    let want = CARGO_LEPTOS_VERSION;
    match tool_version("cargo", &["leptos", "--version"]) {
        Some(v) if v == want => {
            util::ok(format!("cargo-leptos {want} already installed"));
            return Ok(());
        }
        Some(v) => util::note(format!("cargo-leptos {v} found, need {want}")),
        None => {}
    }
    util::step(format!(
        "installing cargo-leptos {want} (≈16 min, once per machine)"
    ));
    install_from_source(
        ctx,
        &SourceInstall {
            krate: "cargo-leptos",
            version: want,
            // cargo-leptos 0.3.11's lock file pins cargo-util-schemas 0.14.2,
            // which needs rustc 1.96.
            fix: Some(("cargo-util-schemas", "0.14.1")),
        },
    )?;
    match tool_version("cargo", &["leptos", "--version"]) {
        Some(v) if v == want => {
            util::ok(format!("cargo-leptos {want} installed"));
            Ok(())
        }
        other => bail!(
            "cargo-leptos still reports {:?} after installing {want}; is another cargo-leptos earlier on PATH?",
            other
        ),
    }
}

/// cargo-fuzz, into `$CARGO_HOME/bin` beside cargo-leptos. Its published
/// lock file builds here as it is.
pub fn ensure_cargo_fuzz(ctx: &Ctx) -> Result<()> {
    let want = CARGO_FUZZ_VERSION;
    match tool_version("cargo", &["fuzz", "--version"]) {
        Some(v) if v == want => {
            util::ok(format!("cargo-fuzz {want} already installed"));
            return Ok(());
        }
        Some(v) => util::note(format!("cargo-fuzz {v} found, need {want}")),
        None => {}
    }
    util::step(format!(
        "installing cargo-fuzz {want} (≈1 min, once per machine)"
    ));
    let target = ctx.tools_dir.join("build/cargo-fuzz-target");
    util::run(install_cmd(&target).args([
        "install",
        "cargo-fuzz",
        "--version",
        want,
        "--locked",
        "--force",
    ]))?;
    let _ = fs::remove_dir_all(&target);
    match tool_version("cargo", &["fuzz", "--version"]) {
        Some(v) if v == want => {
            util::ok(format!("cargo-fuzz {want} installed"));
            Ok(())
        }
        other => bail!(
            "cargo-fuzz still reports {:?} after installing {want}; is another cargo-fuzz earlier on PATH?",
            other
        ),
    }
}

/// The `wasm-bindgen` version the workspace resolved to (Cargo.lock), or the
/// `=X` pin in the workspace Cargo.toml when there is no lock file yet.
pub fn wasm_bindgen_version(ctx: &Ctx) -> Result<String> {
    let lock = ctx.root.join("Cargo.lock");
    if let Ok(text) = fs::read_to_string(&lock) {
        let versions = lock_versions(&text, "wasm-bindgen");
        match versions.as_slice() {
            [one] => return Ok(one.clone()),
            [] => {}
            many => bail!(
                "Cargo.lock has several wasm-bindgen versions ({}); keep exactly one (`cargo update -p wasm-bindgen`)",
                many.join(", ")
            ),
        }
    }
    let manifest = fs::read_to_string(ctx.root.join("Cargo.toml"))?;
    for line in manifest.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("wasm-bindgen") {
            let rest = rest.trim_start();
            if let Some(rest) = rest.strip_prefix('=') {
                if let Some(pin) = rest.trim().trim_matches('"').strip_prefix('=') {
                    return Ok(pin.trim().to_string());
                }
            }
        }
    }
    bail!(
        "cannot tell which wasm-bindgen version the project uses: {} has no wasm-bindgen entry \
         and the workspace Cargo.toml pins none; run `cargo generate-lockfile`",
        lock.display()
    )
}

/// All versions of `name` in a Cargo.lock text.
fn lock_versions(lock: &str, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<&str> = None;
    for line in lock.lines() {
        let line = line.trim();
        if line == "[[package]]" {
            current = None;
        } else if let Some(n) = line.strip_prefix("name = ") {
            current = Some(n.trim_matches('"'));
        } else if let Some(v) = line.strip_prefix("version = ") {
            if current == Some(name) {
                out.push(v.trim_matches('"').to_string());
            }
        }
    }
    out
}

fn ensure_wasm_bindgen(ctx: &Ctx) -> Result<()> {
    let want = wasm_bindgen_version(ctx)?;
    match tool_version("wasm-bindgen", &["--version"]) {
        Some(v) if v == want => {
            util::ok(format!(
                "wasm-bindgen-cli {want} already installed (matches the project)"
            ));
            return Ok(());
        }
        Some(v) => util::note(format!(
            "wasm-bindgen-cli {v} found, the project needs {want}"
        )),
        None => {}
    }
    util::step(format!(
        "installing wasm-bindgen-cli {want} (≈3 min, once per wasm-bindgen version)"
    ));
    install_from_source(
        ctx,
        &SourceInstall {
            krate: "wasm-bindgen-cli",
            version: &want,
            // The published lock file pins a webpki-roots that does not build here.
            fix: Some(("webpki-roots", "1.0.10")),
        },
    )?;
    match tool_version("wasm-bindgen", &["--version"]) {
        Some(v) if v == want => {
            util::ok(format!("wasm-bindgen-cli {want} installed"));
            Ok(())
        }
        other => bail!(
            "wasm-bindgen still reports {:?} after installing {want}; is another wasm-bindgen earlier on PATH?",
            other
        ),
    }
}

struct SourceInstall<'a> {
    krate: &'a str,
    version: &'a str,
    /// `(package, version)` to pin with `cargo update --precise` before building.
    fix: Option<(&'a str, &'a str)>,
}

/// `cargo install --locked` from the published source, after pinning one
/// dependency in its lock file. The `.crate` comes from cargo's registry
/// cache; when it is not there, a plain `cargo install` downloads it (and, if
/// it happens to succeed, we are done).
fn install_from_source(ctx: &Ctx, spec: &SourceInstall) -> Result<()> {
    let SourceInstall { krate, version, .. } = *spec;
    let build_root = ctx.tools_dir.join("build");
    fs::create_dir_all(&build_root)
        .with_context(|| format!("cannot create {}", build_root.display()))?;

    let crate_file = match find_cached_crate(krate, version)? {
        Some(file) => file,
        None => {
            util::note(format!(
                "fetching the {krate} {version} source with a plain `cargo install` \
                 (expected to stop early on this toolchain; it leaves the source in cargo's cache)"
            ));
            let target = build_root.join(format!("{krate}-plain-target"));
            let status = util::run_status(install_cmd(&target).args([
                "install",
                krate,
                "--version",
                version,
                "--locked",
                "--force",
            ]))?;
            let _ = fs::remove_dir_all(&target);
            if status.success() {
                return Ok(());
            }
            util::note("plain install failed as expected; building from the cached source instead");
            find_cached_crate(krate, version)?.ok_or_else(|| {
                anyhow!(
                    "{krate}-{version}.crate is not in cargo's registry cache after `cargo install`; \
                     check that crates.io is reachable (`cargo search {krate}`) and rerun"
                )
            })?
        }
    };

    let src = build_root.join(format!("{krate}-{version}"));
    util::note(format!("unpacking {}", crate_file.display()));
    util::run(
        Command::new("tar")
            .arg("-xzf")
            .arg(&crate_file)
            .arg("-C")
            .arg(&build_root),
    )?;
    if !src.join("Cargo.toml").is_file() {
        bail!(
            "{} has no Cargo.toml after unpacking {}; delete it and rerun",
            src.display(),
            crate_file.display()
        );
    }

    if let Some((pkg, precise)) = spec.fix {
        let lock = fs::read_to_string(src.join("Cargo.lock")).unwrap_or_default();
        let locked = lock_versions(&lock, pkg);
        let target_spec = match locked.as_slice() {
            [] => None,
            [only] => (only != precise).then(|| pkg.to_string()),
            many => many
                .iter()
                .find(|v| semver_compatible(v, precise))
                .filter(|v| *v != precise)
                .map(|v| format!("{pkg}@{v}")),
        };
        match target_spec {
            Some(pkg_spec) => util::run(install_cmd(&src.join("target")).current_dir(&src).args([
                "update",
                "-p",
                &pkg_spec,
                "--precise",
                precise,
            ]))
            .with_context(|| format!("cannot pin {pkg} to {precise} in {}", src.display()))?,
            None => util::note(format!(
                "{pkg} needs no pin (locked: {})",
                locked.join(", ")
            )),
        }
    }

    util::run(
        install_cmd(&src.join("target"))
            .current_dir(&src)
            .args(["install", "--path", ".", "--locked", "--force"]),
    )
    .with_context(|| {
        format!(
            "building {krate} {version} failed; the unpacked source is kept in {} (rerun to resume)",
            src.display()
        )
    })?;
    util::note(format!("removing the build folder {}", src.display()));
    fs::remove_dir_all(&src).with_context(|| format!("cannot remove {}", src.display()))?;
    Ok(())
}

/// `cargo` for installs: never the project target dir.
fn install_cmd(target_dir: &Path) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.env_remove("CARGO_BUILD_TARGET_DIR")
        .env("CARGO_TARGET_DIR", target_dir);
    cmd
}

fn semver_compatible(a: &str, b: &str) -> bool {
    let parts = |v: &str| -> Vec<String> { v.split('.').map(str::to_string).collect() };
    let (a, b) = (parts(a), parts(b));
    match (a.first(), b.first()) {
        (Some(x), Some(y)) if x != y => false,
        (Some(x), _) if x == "0" => a.get(1) == b.get(1),
        _ => true,
    }
}

fn find_cached_crate(krate: &str, version: &str) -> Result<Option<PathBuf>> {
    let cache = util::cargo_home()?.join("registry/cache");
    let name = format!("{krate}-{version}.crate");
    let Ok(entries) = fs::read_dir(&cache) else {
        return Ok(None);
    };
    Ok(entries
        .flatten()
        .map(|e| e.path().join(&name))
        .find(|p| p.is_file()))
}

// ---------------------------------------------------------------------------
// npm side

fn ensure_node() -> Result<()> {
    if util::which("npm").is_some() && util::which("node").is_some() {
        return Ok(());
    }
    util::step("installing Node.js and npm from Debian (≈1 min, once per machine)");
    apt_install(&["nodejs", "npm"])
}

fn ensure_npm_tools(ctx: &Ctx) -> Result<()> {
    let bin = ctx.tools_dir.join("node_modules/.bin");
    if bin.join("sass").exists() && bin.join("wasm-opt").exists() {
        util::ok(format!("sass and wasm-opt already in {}", bin.display()));
        return Ok(());
    }
    ensure_node()?;
    util::step(format!(
        "installing npm packages sass and binaryen@132 into {} (≈1 min, once per machine)",
        ctx.tools_dir.display()
    ));
    fs::create_dir_all(&ctx.tools_dir)
        .with_context(|| format!("cannot create {}", ctx.tools_dir.display()))?;
    util::run(
        Command::new("npm")
            .arg("install")
            .arg("--prefix")
            .arg(&ctx.tools_dir)
            .args(["--no-audit", "--no-fund", "sass", "binaryen@132"]),
    )?;
    for tool in ["sass", "wasm-opt"] {
        if !bin.join(tool).exists() {
            bail!(
                "{} is still missing after npm install; look at the npm output above",
                bin.join(tool).display()
            );
        }
    }
    util::ok("sass and wasm-opt installed");
    Ok(())
}

fn mtime(path: &Path) -> Option<std::time::SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn ensure_end2end_packages(ctx: &Ctx) -> Result<()> {
    let dir = ctx.end2end_dir();
    let package_json = dir.join("package.json");
    if !package_json.is_file() {
        return Ok(());
    }
    let lock = dir.join("package-lock.json");
    let installed_lock = dir.join("node_modules/.package-lock.json");
    let playwright = dir.join("node_modules/@playwright/test");
    let reference = if lock.is_file() { &lock } else { &package_json };
    let stale = match (mtime(reference), mtime(&installed_lock)) {
        (Some(want), Some(have)) => want > have,
        _ => true,
    };
    if playwright.exists() && !stale {
        util::ok("end2end npm packages up to date");
        return Ok(());
    }
    ensure_node()?;
    let verb = if lock.is_file() { "ci" } else { "install" };
    util::step(format!(
        "installing end2end npm packages (`npm {verb}`, browsers are never downloaded)"
    ));
    util::run(
        Command::new("npm")
            .arg(verb)
            .args(["--no-audit", "--no-fund"])
            .current_dir(&dir)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
    )?;
    if !playwright.exists() {
        bail!(
            "{} is missing after `npm {verb}`; add @playwright/test to end2end/package.json",
            playwright.display()
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Debian packages

fn ensure_postgres(_ctx: &Ctx) -> Result<()> {
    let postgres = Path::new(PG_BIN_DIR).join("postgres");
    if postgres.is_file() {
        util::ok("PostgreSQL 15 server already installed");
        return Ok(());
    }
    util::step("installing PostgreSQL 15 from Debian (≈1 min, once per machine)");
    apt_install(&["postgresql-15"])?;
    if !postgres.is_file() {
        bail!(
            "{} is still missing after apt-get install postgresql-15",
            postgres.display()
        );
    }
    Ok(())
}

fn ensure_chromium(_ctx: &Ctx) -> Result<()> {
    if Path::new(CHROMIUM).is_file() {
        util::ok("chromium already installed");
        return Ok(());
    }
    util::step("installing chromium from Debian (≈1 min, once per machine)");
    apt_install(&["chromium"])?;
    if !Path::new(CHROMIUM).is_file() {
        bail!("{CHROMIUM} is still missing after apt-get install chromium");
    }
    Ok(())
}

static APT_UPDATED: AtomicBool = AtomicBool::new(false);

fn apt_cmd() -> Command {
    let mut cmd = util::root_cmd("env");
    cmd.args(["DEBIAN_FRONTEND=noninteractive", "apt-get"]);
    cmd
}

fn apt_install(packages: &[&str]) -> Result<()> {
    if util::which("apt-get").is_none() {
        bail!(
            "apt-get not found: install {} with your system's package manager and rerun",
            packages.join(" ")
        );
    }
    if !util::is_root() && util::which("sudo").is_none() {
        bail!(
            "installing {} needs root: run `sudo apt-get install -y {}` and rerun",
            packages.join(" "),
            packages.join(" ")
        );
    }
    // Keep package scripts from starting services (the Debian postgresql
    // package would start a system cluster we never use).
    let _guard = NoServiceStart::install();
    if !APT_UPDATED.swap(true, Ordering::SeqCst) {
        util::run(apt_cmd().arg("update")).context("apt-get update failed")?;
    }
    util::run(apt_cmd().args(["install", "-y"]).args(packages))
        .with_context(|| format!("apt-get install {} failed", packages.join(" ")))
}

/// A temporary `/usr/sbin/policy-rc.d` answering 101 ("action forbidden"),
/// removed again on drop. Only when we are root and none exists already.
struct NoServiceStart(Option<PathBuf>);

impl NoServiceStart {
    fn install() -> Self {
        let path = PathBuf::from("/usr/sbin/policy-rc.d");
        if !util::is_root() || path.exists() {
            return Self(None);
        }
        let written = fs::write(
            &path,
            "#!/bin/sh\n# written by healipro xtask during apt-get\nexit 101\n",
        )
        .and_then(|()| {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
        });
        match written {
            Ok(()) => {
                util::note("(service auto-start disabled while apt-get runs)");
                Self(Some(path))
            }
            Err(_) => Self(None),
        }
    }
}

impl Drop for NoServiceStart {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_parsing() {
        let lock = r#"
[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "wasm-bindgen-backend"
version = "0.2.130"

[[package]]
name = "webpki-roots"
version = "0.26.11"

[[package]]
name = "webpki-roots"
version = "1.0.12"
"#;
        assert_eq!(lock_versions(lock, "wasm-bindgen"), vec!["0.2.130"]);
        assert_eq!(
            lock_versions(lock, "webpki-roots"),
            vec!["0.26.11", "1.0.12"]
        );
        assert!(semver_compatible("1.0.12", "1.0.10"));
        assert!(!semver_compatible("0.26.11", "1.0.10"));
        assert!(semver_compatible("0.14.2", "0.14.1"));
        assert!(!semver_compatible("0.13.2", "0.14.1"));
    }
}
