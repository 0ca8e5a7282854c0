//! The `healipro` command line: serve, migrate and operator commands. Every
//! command has `--help`; errors exit non-zero with a message saying what to do.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use healipro_core::auth::{jwt, Auth};
use healipro_core::crypto::ServerKey;
use healipro_core::db::{selftest, Db, OwnerDb};
use healipro_core::demo::{self, DemoLogin};
use healipro_core::ids::TenantId;
use healipro_core::tenants;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "healipro",
    version,
    about = "Healipro clinic management: server and operator commands"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Connection settings, from the environment (`.healipro/dev.env` in development).
#[derive(clap::Args, Clone)]
pub struct DbArgs {
    /// Runtime role URL (healipro_app: no BYPASSRLS).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
}

/// The server key file (seals TOTP secrets and JWT private keys).
#[derive(clap::Args, Clone)]
pub struct KeyArgs {
    /// 64 hex characters, mode 600 (create with `healipro keys init-server-key`).
    #[arg(
        long,
        env = "HEALIPRO_SERVER_KEY_FILE",
        default_value = ".healipro/server.key"
    )]
    pub server_key_file: PathBuf,
}

impl KeyArgs {
    pub fn load(&self) -> anyhow::Result<ServerKey> {
        ServerKey::load(&self.server_key_file).map_err(|e| anyhow::anyhow!("{e}"))
    }
}

#[derive(clap::Args, Clone)]
pub struct OwnerArgs {
    /// Owner role URL (healipro_owner): migrations and operator commands only.
    #[arg(long, env = "DATABASE_OWNER_URL", hide_env_values = true)]
    pub database_owner_url: String,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the web application.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: KeyArgs,
        /// Address to listen on.
        #[arg(long, env = "HEALIPRO_ADDR", default_value = "127.0.0.1:3000")]
        addr: SocketAddr,
        /// Database connections in the runtime pool.
        #[arg(long, env = "HEALIPRO_DB_POOL", default_value_t = 16)]
        pool: u32,
        #[command(flatten)]
        tls: crate::tls::TlsArgs,
    },
    /// Apply pending database migrations (as the owner role).
    Migrate {
        #[command(flatten)]
        owner: OwnerArgs,
    },
    /// Demo data for trying every role.
    #[command(subcommand)]
    Demo(DemoCmd),
    /// Create and list tenants (clinics).
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// Create users.
    #[command(subcommand)]
    User(UserCmd),
    /// The server key and the JWT signing keys.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Checks to run against a deployment; they change nothing.
    #[command(subcommand)]
    Selftest(SelftestCmd),
}

#[derive(Subcommand)]
pub enum DemoCmd {
    /// Create the two demo clinics (Al-Noor Clinic, Shifa Medical Centre) with one
    /// user per role and a few hundred patients; print the logins.
    Seed {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        owner: OwnerArgs,
        #[command(flatten)]
        key: KeyArgs,
        /// Where to write the logins as JSON (kept private: mode 600).
        #[arg(long)]
        logins: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum TenantCmd {
    /// Create a tenant.
    Create {
        #[command(flatten)]
        owner: OwnerArgs,
        /// Clinic code used at sign-in, e.g. `alnoor`.
        #[arg(long)]
        code: String,
        /// Display name, e.g. "Al-Noor Clinic".
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "clinic", value_parser = ["clinic", "hospital"])]
        tier: String,
    },
    /// List tenants.
    List {
        #[command(flatten)]
        owner: OwnerArgs,
    },
}

#[derive(Subcommand)]
pub enum UserCmd {
    /// Create a user in a clinic (or update an existing user's name, roles and
    /// password). Without --password-stdin a password is generated and printed once.
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// Clinic code, e.g. `alnoor`.
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// Built-in role; repeat for several (admin, doctor, operator, pharmacist, lab_tech, auditor).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Read the password from standard input (first line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Reset a user's password: prints a one-time password that must be
    /// changed at the next sign-in; the user's sessions end and any lock lifts.
    ResetPassword {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: KeyArgs,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        username: String,
    },
    /// End every session of a user at once.
    SignOutEverywhere {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: KeyArgs,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand)]
pub enum KeysCmd {
    /// Create the server key file (refuses to overwrite one: secrets sealed
    /// under it would become unreadable).
    InitServerKey {
        #[arg(
            long,
            env = "HEALIPRO_SERVER_KEY_FILE",
            default_value = ".healipro/server.key"
        )]
        file: PathBuf,
    },
    /// Add a new RSA-2048 JWT signing key. It signs from now on (running
    /// servers pick it up within seconds); older keys still verify, so nobody
    /// is signed out.
    RotateJwt {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// List the JWT signing keys, newest (the signing one) first.
    ListJwt {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
pub enum SelftestCmd {
    /// Catalog, fail-closed, pool and cross-tenant isolation checks. Exits 1 on
    /// any failure. Every probe is rolled back.
    Isolation {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        owner: OwnerArgs,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            db,
            key,
            addr,
            pool,
            tls,
        } => serve(&db.database_url, &key, addr, pool, &tls).await,
        Command::Migrate { owner } => {
            let owner = connect_owner(&owner).await?;
            owner.migrate().await.context("migrations failed")?;
            println!("migrations applied");
            Ok(())
        }
        Command::Demo(DemoCmd::Seed {
            db,
            owner,
            key,
            logins,
        }) => seed(&db, &owner, &key, &logins).await,
        Command::Keys(cmd) => keys(cmd).await,
        Command::User(UserCmd::ResetPassword {
            db,
            key,
            clinic,
            username,
        }) => {
            let (auth, mut tx) = clinic_auth(&db, &key, &clinic).await?;
            let temporary = auth
                .admin_reset_password(&mut tx, &username)
                .await
                .map_err(|e| anyhow::anyhow!("cannot reset `{username}`: {e}"))?;
            tx.commit().await?;
            println!("one-time password for {username} (shown once; must be changed at sign-in): {temporary}");
            Ok(())
        }
        Command::User(UserCmd::SignOutEverywhere {
            db,
            key,
            clinic,
            username,
        }) => {
            let (auth, mut tx) = clinic_auth(&db, &key, &clinic).await?;
            let n = auth
                .sign_out_everywhere(&mut tx, &username)
                .await
                .map_err(|e| anyhow::anyhow!("cannot sign out `{username}`: {e}"))?;
            tx.commit().await?;
            println!("ended {n} session(s) of {username}");
            Ok(())
        }
        Command::Tenant(cmd) => tenant(cmd).await,
        Command::User(UserCmd::Create {
            db,
            clinic,
            username,
            display_name,
            roles,
            password_stdin,
        }) => {
            create_user(
                &db,
                &clinic,
                &username,
                &display_name,
                &roles,
                password_stdin,
            )
            .await
        }
        Command::Selftest(SelftestCmd::Isolation { db, owner }) => isolation(&db, &owner).await,
    }
}

async fn connect_owner(args: &OwnerArgs) -> anyhow::Result<OwnerDb> {
    OwnerDb::connect(&args.database_owner_url)
        .await
        .context("cannot connect as the owner role (check DATABASE_OWNER_URL; in development run `cargo xtask db start`)")
}

async fn connect_app(args: &DbArgs, pool: u32) -> anyhow::Result<Db> {
    Db::connect(&args.database_url, pool)
        .await
        .context("cannot connect as the runtime role (check DATABASE_URL; in development run `cargo xtask db start`)")
}

async fn serve(
    database_url: &str,
    key: &KeyArgs,
    addr: SocketAddr,
    pool: u32,
    tls: &crate::tls::TlsArgs,
) -> anyhow::Result<()> {
    // Certificate problems are reported before anything else starts.
    let listen = tls.resolve()?;
    let services = crate::services(database_url, pool, key.load()?)
        .await
        .context("cannot connect to the database (check DATABASE_URL)")?;
    let state = crate::AppState {
        leptos_options: crate::leptos_options(addr),
        services,
    };
    let listener = std::net::TcpListener::bind(addr)
        .with_context(|| format!("cannot listen on {addr} (is another server running?)"))?;
    crate::tls::serve(listener, listen, crate::router(state), shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

async fn seed(db: &DbArgs, owner: &OwnerArgs, key: &KeyArgs, path: &PathBuf) -> anyhow::Result<()> {
    let existing: Vec<DemoLogin> = match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let owner = connect_owner(owner).await?;
    let app = connect_app(db, 4).await?;
    let auth = Auth::new(&app, key.load()?, std::time::Duration::from_secs(10)).await?;
    let logins = demo::seed(&owner, &app, &auth, &existing)
        .await
        .context("seeding the demo clinics failed")?;
    write_private(path, &serde_json::to_string_pretty(&logins)?)?;
    println!("Demo clinics ready. Sign in with clinic code, username and password:");
    println!();
    println!("  clinic   username    password                           role         name");
    for l in &logins {
        println!(
            "  {:<8} {:<11} {:<34} {:<12} {}",
            l.clinic_code,
            l.username,
            l.password,
            l.roles.join("+"),
            l.display_name
        );
    }
    println!();
    println!("  Doctors and admins also need a TOTP code. Add the secret to any authenticator");
    println!("  app (or run `oathtool --totp -b SECRET`):");
    for l in logins.iter().filter(|l| l.totp_secret.is_some()) {
        println!(
            "  {:<8} {:<11} {}",
            l.clinic_code,
            l.username,
            l.totp_secret.as_deref().unwrap_or_default()
        );
    }
    println!();
    println!("  (also in {})", path.display());
    Ok(())
}

fn write_private(path: &PathBuf, contents: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

async fn tenant(cmd: TenantCmd) -> anyhow::Result<()> {
    match cmd {
        TenantCmd::Create {
            owner,
            code,
            name,
            tier,
        } => {
            let code = tenants::normalize_code(&code).map_err(|e| anyhow::anyhow!("{e}"))?;
            let owner = connect_owner(&owner).await?;
            let mut tx = owner.platform_tx().await?;
            if tenants::repo::find_by_code(&mut tx, &code).await?.is_some() {
                bail!("a tenant with code `{code}` already exists");
            }
            let t =
                tenants::repo::create(&mut tx, TenantId::new_random(), &code, name.trim(), &tier)
                    .await?;
            tx.commit().await?;
            println!("created tenant {} ({}) id {}", t.code, t.name, t.id);
            Ok(())
        }
        TenantCmd::List { owner } => {
            let owner = connect_owner(&owner).await?;
            let mut tx = owner.platform_tx().await?;
            for t in tenants::repo::list(&mut tx).await? {
                println!("{:<12} {:<9} {}  {}", t.code, t.tier, t.id, t.name);
            }
            tx.commit().await?;
            Ok(())
        }
    }
}

async fn create_user(
    db: &DbArgs,
    clinic: &str,
    username: &str,
    display_name: &str,
    roles: &[String],
    password_stdin: bool,
) -> anyhow::Result<()> {
    use healipro_core::auth::{self, passwords::Passwords, NewUser};
    use healipro_core::rbac::Role;
    let roles = roles
        .iter()
        .map(|r| {
            Role::parse(r).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown role `{r}` (admin, doctor, operator, pharmacist, lab_tech, auditor)"
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let username = username.trim().to_ascii_lowercase();
    let (password, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        (line.trim_end_matches(['\r', '\n']).to_owned(), false)
    } else {
        (demo::generate_password(), true)
    };
    auth::policy::check(&password, &[&username, display_name])
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let code = tenants::normalize_code(clinic).map_err(|e| anyhow::anyhow!("{e}"))?;
    let app = connect_app(db, 2).await?;
    let mut ptx = app.platform_tx().await?;
    let tenant = tenants::repo::find_by_code(&mut ptx, &code)
        .await?
        .ok_or_else(|| {
            anyhow::anyhow!("no clinic with code `{code}` (see `healipro tenant list`)")
        })?;
    ptx.commit().await?;
    let mut tx = app.tenant_tx_for(tenant.id).await?;
    let existed = auth::user_exists(&mut tx, &username).await?;
    let user = NewUser {
        username: username.clone(),
        display_name: display_name.trim().to_owned(),
        roles,
    };
    auth::upsert_user(&mut tx, &Passwords::new(), &user, &password.clone().into())
        .await
        .context("could not save the user (usernames are 2-64 of a-z, 0-9, . _ -)")?;
    tx.commit().await?;
    println!(
        "{} user {username} in {} ({})",
        if existed { "updated" } else { "created" },
        tenant.name,
        tenant.code
    );
    if generated {
        println!("password (shown once): {password}");
    }
    Ok(())
}

async fn keys(cmd: KeysCmd) -> anyhow::Result<()> {
    match cmd {
        KeysCmd::InitServerKey { file } => {
            if file.exists() {
                println!("server key {} already exists (kept)", file.display());
                return Ok(());
            }
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            ServerKey::create_file(&file).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "created server key {} (mode 600; back it up with the database)",
                file.display()
            );
            Ok(())
        }
        KeysCmd::RotateJwt { db, key } => {
            let app = connect_app(&db, 2).await?;
            let kid = jwt::rotate(&app, &key.load()?)
                .await
                .context("could not add a JWT signing key")?;
            println!("new JWT signing key {kid}: signs from now on; older keys keep verifying");
            Ok(())
        }
        KeysCmd::ListJwt { db } => {
            let app = connect_app(&db, 2).await?;
            for (i, (kid, created)) in jwt::list(&app).await?.into_iter().enumerate() {
                let role = if i == 0 {
                    "signs + verifies"
                } else {
                    "verifies"
                };
                println!("{kid}  {}  {role}", created.format("%Y-%m-%d %H:%M:%S UTC"));
            }
            Ok(())
        }
    }
}

/// Auth services and a tenant transaction for a clinic code (operator commands).
async fn clinic_auth(
    db: &DbArgs,
    key: &KeyArgs,
    clinic: &str,
) -> anyhow::Result<(Auth, healipro_core::db::TenantTx)> {
    let code = tenants::normalize_code(clinic).map_err(|e| anyhow::anyhow!("{e}"))?;
    let app = connect_app(db, 2).await?;
    let auth = Auth::new(&app, key.load()?, std::time::Duration::from_secs(10)).await?;
    let mut ptx = app.platform_tx().await?;
    let tenant = tenants::repo::find_by_code(&mut ptx, &code)
        .await?
        .ok_or_else(|| {
            anyhow::anyhow!("no clinic with code `{code}` (see `healipro tenant list`)")
        })?;
    ptx.commit().await?;
    let tx = app.tenant_tx_for(tenant.id).await?;
    Ok((auth, tx))
}

async fn isolation(db: &DbArgs, owner: &OwnerArgs) -> anyhow::Result<()> {
    let owner = connect_owner(owner).await?;
    let app = connect_app(db, 4).await?;
    let report = selftest::run(&app, &owner)
        .await
        .context("self-test could not run")?;
    for c in &report.checks {
        println!(
            "{} {} — {}",
            if c.ok { "PASS" } else { "FAIL" },
            c.name,
            c.detail
        );
    }
    let failed = report.failures().len();
    println!(
        "selftest isolation: {} passed, {failed} failed",
        report.checks.len() - failed
    );
    if failed > 0 {
        bail!("{failed} isolation check(s) failed");
    }
    Ok(())
}
