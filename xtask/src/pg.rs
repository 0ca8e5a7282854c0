//! The project's private PostgreSQL 15 cluster in `<root>/.healipro/pg`, and
//! the dev database bootstrap (roles, database, `.healipro/dev.env`).

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

use crate::tools::PG_BIN_DIR;
use crate::util::{self, Ctx};

pub const DB_NAME: &str = "healipro";
pub const OWNER_ROLE: &str = "healipro_owner";
pub const APP_ROLE: &str = "healipro_app";
/// The NOLOGIN role SECURITY DEFINER functions run as (migration 0014): past
/// row-level security, but able to read only what those functions need.
pub const DEFINER_ROLE: &str = "healipro_definer";
const PG_PORT_RANGE: std::ops::Range<u16> = 25432..32768;
const WEB_PORT_DEFAULT: u16 = 3000;
const WEB_PORT_RANGE: std::ops::Range<u16> = 23000..25432;
/// `sun_path` is 108 bytes including the NUL.
const MAX_SOCKET_PATH: usize = 107;

/// Layout and identity of the private cluster.
pub struct Pg {
    pub dir: PathBuf,
    pub data: PathBuf,
    pub socket_dir: PathBuf,
    pub port_file: PathBuf,
    pub log: PathBuf,
    /// When root: initdb/pg_ctl run as the `postgres` OS user via runuser.
    pub as_root: bool,
    /// Database superuser (`postgres` when root, else the current user).
    pub superuser: String,
}

impl Pg {
    pub fn new(ctx: &Ctx) -> Result<Self> {
        let dir = ctx.state_dir.join("pg");
        let as_root = util::is_root();
        let superuser = if as_root {
            "postgres".to_string()
        } else {
            util::current_user()?
        };
        let mut socket_dir = dir.join("run");
        if socket_dir.as_os_str().len() + "/.s.PGSQL.NNNNN".len() > MAX_SOCKET_PATH {
            // The repo lives too deep for a unix socket path; use a private
            // folder under /tmp named after the repo path instead.
            let mut h = DefaultHasher::new();
            ctx.root.hash(&mut h);
            socket_dir = PathBuf::from(format!("/tmp/healipro-pg-{:016x}", h.finish()));
        }
        Ok(Self {
            data: dir.join("data"),
            port_file: dir.join("port"),
            log: dir.join("server.log"),
            socket_dir,
            dir,
            as_root,
            superuser,
        })
    }

    fn bin(tool: &str) -> PathBuf {
        Path::new(PG_BIN_DIR).join(tool)
    }

    /// A PostgreSQL server tool run as the cluster's OS user.
    fn server_tool(&self, tool: &str) -> Command {
        let mut cmd = if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(Self::bin(tool));
            c
        } else {
            Command::new(Self::bin(tool))
        };
        // A cwd the postgres user can enter (avoids "could not change directory").
        cmd.current_dir(&self.dir);
        cmd
    }

    /// psql as the database superuser over the unix socket (trust auth).
    fn psql_super(&self, port: u16, db: &str) -> Command {
        let mut cmd = Command::new(Self::bin("psql"));
        cmd.arg("-X")
            .args(["-v", "ON_ERROR_STOP=1", "-q"])
            .arg("-h")
            .arg(&self.socket_dir)
            .args(["-p", &port.to_string(), "-U", &self.superuser, "-d", db])
            .env_remove("PGPASSWORD")
            .env_remove("PGSERVICE")
            .current_dir(&self.dir);
        cmd
    }

    /// Runs SQL (psql script, `\gexec` allowed) as superuser, fed on stdin so
    /// that passwords never appear in the process list. Returns stdout.
    pub fn exec_sql(&self, port: u16, db: &str, sql: &str) -> Result<String> {
        let mut cmd = self.psql_super(port, db);
        cmd.args(["-A", "-t", "-f", "-"]);
        util::psql_stdin(cmd, &self.superuser, db, sql)
    }

    fn check_installed(&self) -> Result<()> {
        for tool in ["postgres", "initdb", "pg_ctl", "psql", "pg_isready"] {
            if !Self::bin(tool).is_file() {
                bail!(
                    "{} not found: PostgreSQL 15 is not installed; run `cargo xtask tools` \
                     (or `apt-get install -y postgresql-15`)",
                    Self::bin(tool).display()
                );
            }
        }
        Ok(())
    }

    /// `Some(port)` when the cluster is running.
    pub fn running_port(&self) -> Result<Option<u16>> {
        if !self.data.join("PG_VERSION").is_file() {
            return Ok(None);
        }
        let out = util::capture(
            self.server_tool("pg_ctl")
                .arg("status")
                .arg("-D")
                .arg(&self.data),
        )?;
        match out.status.code() {
            Some(0) => {
                // postmaster.pid line 4 is the port.
                let pid_file =
                    fs::read_to_string(self.data.join("postmaster.pid")).unwrap_or_default();
                let port = pid_file
                    .lines()
                    .nth(3)
                    .and_then(|l| l.trim().parse().ok())
                    .or_else(|| self.stored_port())
                    .ok_or_else(|| anyhow!("cluster is running but its port is unknown"))?;
                Ok(Some(port))
            }
            Some(3) | Some(4) => Ok(None),
            _ => bail!(
                "`pg_ctl status` failed with {}: {}",
                util::describe_status(out.status),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        }
    }

    fn stored_port(&self) -> Option<u16> {
        fs::read_to_string(&self.port_file)
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    fn postgres_uid(&self) -> Result<u32> {
        util::capture_stdout(Command::new("id").args(["-u", "postgres"]))
            .map_err(|_| {
                anyhow!(
                    "the `postgres` OS user does not exist; install postgresql-15 with `cargo xtask tools`"
                )
            })?
            .parse()
            .context("cannot parse the postgres uid")
    }

    /// Creates `pg/` and `run/`; when root, hands them to the postgres user
    /// and makes sure it can traverse every parent folder.
    fn prepare_dirs(&self, ctx: &Ctx) -> Result<()> {
        ctx.ensure_state_dir()?;
        for dir in [&self.dir, &self.socket_dir] {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        fs::set_permissions(&self.socket_dir, fs::Permissions::from_mode(0o700))?;
        if !self.as_root {
            return Ok(());
        }
        let uid = self.postgres_uid()?;
        for dir in [&self.dir, &self.socket_dir] {
            if fs::metadata(dir)?.uid() != uid {
                util::note(format!("giving {} to the postgres OS user", dir.display()));
                util::run(Command::new("chown").args(["-R", "postgres:"]).arg(dir))?;
            }
        }
        // The postgres user must be able to traverse down to pg/.
        let mut ancestors: Vec<&Path> = self.dir.ancestors().skip(1).collect();
        if let Some(parent) = self.socket_dir.parent() {
            ancestors.extend(parent.ancestors());
        }
        for dir in ancestors {
            let meta = fs::metadata(dir)?;
            if meta.uid() != uid && meta.mode() & 0o001 == 0 {
                util::note(format!(
                    "chmod o+x {} (so the postgres user can reach the cluster)",
                    dir.display()
                ));
                fs::set_permissions(
                    dir,
                    fs::Permissions::from_mode((meta.mode() & 0o7777) | 0o001),
                )?;
            }
        }
        Ok(())
    }

    fn initdb(&self) -> Result<()> {
        if self.data.join("PG_VERSION").is_file() {
            return Ok(());
        }
        if self.data.exists() && fs::read_dir(&self.data)?.next().is_some() {
            bail!(
                "{} exists but is not a PostgreSQL cluster; move it away (or delete it) and rerun",
                self.data.display()
            );
        }
        util::step(format!(
            "creating the PostgreSQL cluster in {}",
            self.data.display()
        ));
        let locales = util::capture_stdout(Command::new("locale").arg("-a")).unwrap_or_default();
        let has_c_utf8 = locales
            .lines()
            .any(|l| l.trim().to_ascii_lowercase().replace('-', "") == "c.utf8");
        let mut cmd = self.server_tool("initdb");
        cmd.arg("-D")
            .arg(&self.data)
            .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
            .args(["-U", &self.superuser, "-E", "UTF8"]);
        if has_c_utf8 {
            cmd.arg("--locale=C.UTF-8");
        } else {
            util::note("locale C.UTF-8 is not available; using --no-locale");
            cmd.arg("--no-locale");
        }
        println!("    $ {}", util::display_cmd(&cmd));
        let out = util::capture(&mut cmd)?;
        if !out.status.success() {
            bail!(
                "initdb failed with {}:\n{}{}",
                util::describe_status(out.status),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        util::ok("cluster created");
        Ok(())
    }

    /// Writes our settings to `data/healipro.conf` and includes it once from
    /// postgresql.conf.
    fn configure(&self, port: u16) -> Result<()> {
        let quote = |p: &Path| format!("'{}'", p.to_string_lossy().replace('\'', "''"));
        let conf = format!(
            "# Written by `cargo xtask db start` on every start; edit xtask/src/pg.rs instead.\n\
             listen_addresses = '127.0.0.1'\n\
             port = {port}\n\
             unix_socket_directories = {}\n\
             unix_socket_permissions = 0700\n\
             shared_buffers = 512MB\n\
             max_connections = 200\n\
             synchronous_commit = off\n",
            quote(&self.socket_dir)
        );
        let conf_path = self.data.join("healipro.conf");
        fs::write(&conf_path, conf)
            .with_context(|| format!("cannot write {}", conf_path.display()))?;
        let main_conf = self.data.join("postgresql.conf");
        let text = fs::read_to_string(&main_conf)
            .with_context(|| format!("cannot read {}", main_conf.display()))?;
        let include = "include_if_exists = 'healipro.conf'";
        if !text.lines().any(|l| l.trim() == include) {
            let mut f = fs::OpenOptions::new().append(true).open(&main_conf)?;
            writeln!(f, "\n# Healipro dev settings (xtask)\n{include}")?;
        }
        if self.as_root {
            util::run(
                Command::new("chown")
                    .arg("postgres:")
                    .arg(&conf_path)
                    .arg(&main_conf),
            )?;
        }
        fs::write(&self.port_file, format!("{port}\n"))?;
        Ok(())
    }

    fn choose_port(&self) -> Result<u16> {
        if let Some(port) = self.stored_port() {
            if util::port_is_free(port) {
                return Ok(port);
            }
            util::note(format!(
                "port {port} is taken by another program; choosing a new one"
            ));
        }
        let port = util::free_port(PG_PORT_RANGE, &[])?;
        util::note(format!("using port {port} for PostgreSQL"));
        Ok(port)
    }

    /// Starts the cluster (creating it the first time). Returns the port and
    /// whether this call started it.
    pub fn start(&self, ctx: &Ctx) -> Result<(u16, bool)> {
        self.check_installed()?;
        if let Some(port) = self.running_port()? {
            util::ok(format!("PostgreSQL already running on port {port}"));
            return Ok((port, false));
        }
        util::step("starting the private PostgreSQL cluster");
        self.prepare_dirs(ctx)?;
        self.initdb()?;
        let port = self.choose_port()?;
        self.configure(port)?;
        let status = util::run_status(
            self.server_tool("pg_ctl")
                .arg("start")
                .arg("-D")
                .arg(&self.data)
                .arg("-l")
                .arg(&self.log)
                .args(["-w", "-t", "60", "-s"]),
        )?;
        if !status.success() {
            bail!(
                "PostgreSQL did not start ({}). Last lines of {}:\n{}",
                util::describe_status(status),
                self.log.display(),
                util::tail(&self.log, 20)
            );
        }
        self.wait_ready(port)?;
        util::ok(format!("PostgreSQL running on port {port}"));
        Ok((port, true))
    }

    fn wait_ready(&self, port: u16) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = util::capture(
                Command::new(Self::bin("pg_isready"))
                    .arg("-h")
                    .arg(&self.socket_dir)
                    .args(["-p", &port.to_string(), "-t", "2"]),
            )?;
            if out.status.success() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "PostgreSQL is not ready after 60 s (pg_isready: {}). Last lines of {}:\n{}",
                    String::from_utf8_lossy(&out.stdout).trim(),
                    self.log.display(),
                    util::tail(&self.log, 20)
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    pub fn stop(&self) -> Result<()> {
        self.check_installed()?;
        if self.running_port()?.is_none() {
            util::ok("PostgreSQL is not running");
            return Ok(());
        }
        util::step("stopping the private PostgreSQL cluster");
        util::run(
            self.server_tool("pg_ctl")
                .arg("stop")
                .arg("-D")
                .arg(&self.data)
                .args(["-m", "fast", "-w", "-t", "60", "-s"]),
        )?;
        util::ok("PostgreSQL stopped");
        Ok(())
    }

    pub fn status(&self, ctx: &Ctx) -> Result<()> {
        self.check_installed()?;
        let running = self.running_port()?;
        util::step("private PostgreSQL cluster");
        match running {
            Some(_) => util::note("status:   running"),
            None => util::note("status:   stopped"),
        }
        match running.or_else(|| self.stored_port()) {
            Some(port) => util::note(format!("port:     {port}")),
            None => util::note("port:     (not chosen yet)"),
        }
        let initialised = self.data.join("PG_VERSION").is_file();
        util::note(format!(
            "data dir: {}{}",
            self.data.display(),
            if initialised {
                ""
            } else {
                " (not created yet)"
            }
        ));
        util::note(format!("socket:   {}", self.socket_dir.display()));
        util::note(format!("log:      {}", self.log.display()));
        let env = ctx.dev_env_path();
        util::note(format!(
            "dev.env:  {}{}",
            env.display(),
            if env.is_file() {
                ""
            } else {
                " (not written yet)"
            }
        ));
        Ok(())
    }

    /// Creates/updates the roles and the `healipro` database and writes
    /// `.healipro/dev.env`. Idempotent. With `recheck_web_port`, a stored web
    /// port that is now taken is replaced.
    pub fn bootstrap(&self, ctx: &Ctx, port: u16, recheck_web_port: bool) -> Result<()> {
        util::step("bootstrapping roles and database");
        let path = ctx.dev_env_path();
        let mut entries = util::read_env_file(&path)?;
        let get = |entries: &[(String, String)], key: &str| {
            entries
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        let owner_pw = get(&entries, "DATABASE_OWNER_URL")
            .and_then(|u| url_password(&u, OWNER_ROLE))
            .unwrap_or_else(|| {
                util::note(format!("generating a password for {OWNER_ROLE}"));
                util::random_hex32()
            });
        let app_pw = get(&entries, "DATABASE_URL")
            .and_then(|u| url_password(&u, APP_ROLE))
            .unwrap_or_else(|| {
                util::note(format!("generating a password for {APP_ROLE}"));
                util::random_hex32()
            });
        let stored_web = get(&entries, "HEALIPRO_ADDR")
            .and_then(|a| a.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()));
        let web_port = match stored_web {
            Some(p) if p != port && (!recheck_web_port || util::port_is_free(p)) => p,
            other => {
                if let Some(p) = other {
                    util::note(format!("web port {p} is taken; choosing another"));
                }
                if WEB_PORT_DEFAULT != port && util::port_is_free(WEB_PORT_DEFAULT) {
                    WEB_PORT_DEFAULT
                } else {
                    util::free_port(WEB_PORT_RANGE, &[port])?
                }
            }
        };
        let wanted = [
            (
                "DATABASE_URL",
                format!("postgres://{APP_ROLE}:{app_pw}@127.0.0.1:{port}/{DB_NAME}"),
            ),
            (
                "DATABASE_OWNER_URL",
                format!("postgres://{OWNER_ROLE}:{owner_pw}@127.0.0.1:{port}/{DB_NAME}"),
            ),
            ("HEALIPRO_URL", format!("https://127.0.0.1:{web_port}")),
            ("HEALIPRO_ADDR", format!("127.0.0.1:{web_port}")),
        ];
        for (key, value) in wanted {
            match entries.iter_mut().find(|(k, _)| k == key) {
                Some(entry) => entry.1 = value,
                None => entries.push((key.to_string(), value)),
            }
        }
        // Persist the passwords before using them, so a failure below never
        // leaves roles with passwords nobody knows.
        ctx.ensure_state_dir()?;
        util::write_env_file(
            &path,
            &entries,
            "Healipro dev environment, written by `cargo xtask db start` (private: mode 0600).\n\
             Passwords are generated once; other keys you add here are kept.",
        )?;

        let sql = format!(
            "SELECT 'CREATE ROLE {OWNER_ROLE}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OWNER_ROLE}')\\gexec\n\
             SELECT 'CREATE ROLE {APP_ROLE}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}')\\gexec\n\
             SELECT 'CREATE ROLE {DEFINER_ROLE}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{DEFINER_ROLE}')\\gexec\n\
             ALTER ROLE {OWNER_ROLE} WITH LOGIN CREATEDB BYPASSRLS NOSUPERUSER NOCREATEROLE PASSWORD '{owner_pw}';\n\
             ALTER ROLE {APP_ROLE} WITH LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD '{app_pw}';\n\
             ALTER ROLE {DEFINER_ROLE} WITH NOLOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;\n\
             GRANT {DEFINER_ROLE} TO {OWNER_ROLE};\n\
             SELECT 'CREATE DATABASE {DB_NAME} OWNER {OWNER_ROLE}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{DB_NAME}')\\gexec\n\
             ALTER DATABASE {DB_NAME} OWNER TO {OWNER_ROLE};\n"
        );
        self.exec_sql(port, "postgres", &sql)
            .context("bootstrapping the roles and database failed")?;
        util::ok(format!(
            "roles {OWNER_ROLE}/{APP_ROLE}/{DEFINER_ROLE} and database {DB_NAME} ready; settings in {}",
            path.display()
        ));
        Ok(())
    }

    /// Drops the databases left over by Rust tests (`t_…`).
    pub fn drop_test_databases(&self, port: u16) -> Result<()> {
        let names = self.exec_sql(
            port,
            "postgres",
            "SELECT datname FROM pg_database WHERE datname LIKE 't\\_%' ORDER BY 1;",
        )?;
        let names: Vec<&str> = names
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if names.is_empty() {
            util::ok("no leftover test databases");
            return Ok(());
        }
        util::note(format!(
            "dropping {} leftover test database(s)",
            names.len()
        ));
        let sql: String = names
            .iter()
            .map(|n| format!("DROP DATABASE IF EXISTS {} WITH (FORCE);\n", quote_ident(n)))
            .collect();
        self.exec_sql(port, "postgres", &sql)?;
        Ok(())
    }

    /// Drops and recreates a database owned by the owner role.
    pub fn recreate_database(&self, port: u16, name: &str) -> Result<()> {
        let ident = quote_ident(name);
        self.exec_sql(
            port,
            "postgres",
            &format!(
                "DROP DATABASE IF EXISTS {ident} WITH (FORCE);\nCREATE DATABASE {ident} OWNER {OWNER_ROLE};\n"
            ),
        )?;
        Ok(())
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The password in `postgres://<user>:<pw>@…` when the user matches and the
/// password looks like one we generated.
fn url_password(url: &str, user: &str) -> Option<String> {
    let rest = url.strip_prefix("postgres://")?;
    let (userinfo, _) = rest.split_once('@')?;
    let (u, pw) = userinfo.split_once(':')?;
    (u == user && pw.len() >= 16 && pw.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| pw.to_string())
}

/// Replaces the database name at the end of a postgres URL.
pub fn with_database(url: &str, db: &str) -> String {
    let base = match url.rsplit_once('/') {
        Some((base, _)) if base.contains('@') => base,
        _ => url,
    };
    format!("{base}/{db}")
}

/// Starts the cluster and bootstraps it. Returns the port and whether this
/// call started the cluster.
pub fn ensure_dev_db(ctx: &Ctx, recheck_web_port: bool) -> Result<(Pg, u16, bool)> {
    let pg = Pg::new(ctx)?;
    let (port, started) = pg.start(ctx)?;
    pg.bootstrap(ctx, port, recheck_web_port)?;
    Ok((pg, port, started))
}

/// `cargo xtask db psql`: psql as the owner role on the dev database
/// (replaces this process, so Ctrl-C and the exit code are psql's).
pub fn psql_owner(ctx: &Ctx, args: &[String]) -> Result<()> {
    let (_pg, port, _) = ensure_dev_db(ctx, false)?;
    let env = util::load_dev_env(ctx)?;
    let pw = env
        .get("DATABASE_OWNER_URL")
        .and_then(|u| url_password(u, OWNER_ROLE))
        .ok_or_else(|| {
            anyhow!("DATABASE_OWNER_URL missing from dev.env; run `cargo xtask db start`")
        })?;
    let mut cmd = Command::new(Pg::bin("psql"));
    cmd.args([
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-U",
        OWNER_ROLE,
        "-d",
        DB_NAME,
    ])
    .args(args)
    .env("PGPASSWORD", pw);
    util::note(format!("$ {}", util::display_cmd(&cmd)));
    util::flush();
    let err = cmd.exec();
    Err(err).context("cannot start psql")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let url =
            "postgres://healipro_app:0123456789abcdef0123456789abcdef@127.0.0.1:25432/healipro";
        assert_eq!(
            url_password(url, APP_ROLE).as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        assert_eq!(url_password(url, OWNER_ROLE), None);
        assert_eq!(
            with_database(url, "healipro_e2e"),
            "postgres://healipro_app:0123456789abcdef0123456789abcdef@127.0.0.1:25432/healipro_e2e"
        );
        assert_eq!(quote_ident("t_a\"b"), "\"t_a\"\"b\"");
    }
}
