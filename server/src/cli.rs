//! The `healipro` command line: serve, migrate and operator commands. Every
//! command has `--help`; errors exit non-zero with a message saying what to do.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use healipro_core::auth::{jwt, Auth};
use healipro_core::crypto::{rotation, MasterKeys};
use healipro_core::db::{selftest, Db, OwnerDb};
use healipro_core::demo::{self, DemoLogin};
use healipro_core::ids::TenantId;
use healipro_core::patients::{self, Address, Cnic, Phone};
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

/// The master keys (KEK): they wrap every tenant's keys and the JWT private
/// keys. Never in the database, git or a log.
#[derive(clap::Args, Clone)]
pub struct KeyArgs {
    /// Key file: `<id> <64 hex>` per line, the last is active; mode 600
    /// (create with `healipro keys init-server-key`).
    #[arg(
        long,
        env = "HEALIPRO_SERVER_KEY_FILE",
        default_value = ".healipro/server.key"
    )]
    pub server_key_file: PathBuf,
    /// The keys themselves, in the key-file format with `;` between keys
    /// (for secret stores that inject variables); wins over the file.
    #[arg(long, env = "HEALIPRO_MASTER_KEYS", hide_env_values = true)]
    pub master_keys: Option<String>,
}

impl KeyArgs {
    pub fn load(&self) -> anyhow::Result<MasterKeys> {
        match &self.master_keys {
            Some(text) => MasterKeys::from_text(text),
            None => MasterKeys::load(&self.server_key_file),
        }
        .map_err(|e| anyhow::anyhow!("{e}"))
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
        #[command(flatten)]
        audit: AuditKeyArgs,
        /// How often each clinic's audit chain is signed (when it grew).
        #[arg(long, env = "HEALIPRO_AUDIT_CHECKPOINT_SECS", default_value_t = 300)]
        audit_checkpoint_secs: u64,
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
    /// The tamper-evident audit log: signing key, checkpoints, verification.
    #[command(subcommand)]
    Audit(AuditCmd),
}

/// The audit signing key (Ed25519 seed, 64 hex characters, mode 600).
#[derive(clap::Args, Clone)]
pub struct AuditKeyArgs {
    #[arg(
        long = "audit-key-file",
        env = "HEALIPRO_AUDIT_KEY_FILE",
        default_value = ".healipro/audit.key"
    )]
    pub file: PathBuf,
}

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Create the audit signing key file and print its public key (refuses to
    /// replace an existing one).
    InitKey {
        #[command(flatten)]
        key: AuditKeyArgs,
    },
    /// Print the public key verifiers need.
    PublicKey {
        #[command(flatten)]
        key: AuditKeyArgs,
    },
    /// Sign a checkpoint of each clinic's chain as it stands now.
    Checkpoint {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: AuditKeyArgs,
        /// Only this clinic code.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Walk each clinic's chain and its signed checkpoints; report the first
    /// broken entry and why. Exits 1 when any chain is broken.
    Verify {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: AuditKeyArgs,
        /// Verify with this public key (hex) instead of the key file's.
        #[arg(long)]
        public_key: Option<String>,
        /// Only this clinic code.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Write one clinic's entries between two clinic dates (PKT, both
    /// included) as signed JSON Lines, checkable with `healipro-audit-verify`
    /// and the public key alone. Logged in the clinic's chain.
    Export {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        master: KeyArgs,
        #[command(flatten)]
        key: AuditKeyArgs,
        /// The clinic code.
        #[arg(long)]
        tenant: String,
        /// First clinic date (YYYY-MM-DD); from the start when absent.
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last clinic date (YYYY-MM-DD); up to now when absent.
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// Write here (refuses to replace a file) instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Move one clinic's entries older than a clinic date out of the database
    /// into a signed export file in DIR, keeping the chain verifiable (see
    /// docs/ARCHITECTURE.md, "Audit log growth"). Runs as the owner role.
    Archive {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        owner: OwnerArgs,
        #[command(flatten)]
        master: KeyArgs,
        #[command(flatten)]
        key: AuditKeyArgs,
        /// The clinic code.
        #[arg(long)]
        tenant: String,
        /// Archive entries before this clinic date (YYYY-MM-DD).
        #[arg(long)]
        before: chrono::NaiveDate,
        /// Directory for the archive file (kept: it is the only copy).
        #[arg(long)]
        dir: PathBuf,
    },
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
    /// Load tool for `cargo xtask bench search` (hidden: it writes made-up
    /// identifiers): in every clinic whose code is PREFIX<n>, gives each
    /// patient without a CNIC the CNIC, mobile number and address derived from
    /// n and the number in its MR number (see `bench_identifiers`), in
    /// batches. Patients that have a CNIC are left alone, so it resumes.
    #[command(hide = true)]
    FillIdentifiers {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: KeyArgs,
        /// Clinic code prefix, e.g. `bench` for bench1..bench1000.
        #[arg(long)]
        tenant_prefix: String,
        /// Patients per transaction.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        batch_size: u32,
    },
    /// Load tool for `cargo xtask bench audit` (hidden: it rewrites patient
    /// records, unchanged, and appends audit entries): patient updates with
    /// and without their audit entry, then 8 writers in one clinic.
    #[command(hide = true)]
    BenchAudit {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: KeyArgs,
        /// Clinic code prefix, e.g. `bench` for bench1..benchN.
        #[arg(long)]
        tenant_prefix: String,
        /// How many of those clinics to spread writes over.
        #[arg(long, default_value_t = 100)]
        clinics: usize,
        #[arg(long, default_value_t = 8)]
        writers: usize,
        /// Seconds per measured phase.
        #[arg(long, default_value_t = 8.0)]
        seconds: f64,
    },
}

#[derive(Subcommand)]
pub enum TenantCmd {
    /// Create a tenant.
    Create {
        #[command(flatten)]
        owner: OwnerArgs,
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: KeyArgs,
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
    /// Create the master key file with one key (refuses to overwrite one:
    /// everything wrapped under it would become unreadable).
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
    /// Master key ids, and each clinic's keys: ids, purpose, state, which
    /// master key wraps them, ages, and any DEK rotation in progress.
    Status {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Add a new master key to the key file and rewrap every tenant key and
    /// JWT key under it. Old master keys keep working until this finishes;
    /// then `retire-kek` removes them. Safe to run again after an interruption.
    RotateKek {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Remove from the key file every master key that no longer wraps anything.
    RetireKek {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Give a clinic a new data key and re-encrypt its fields in batches while
    /// the app keeps serving; the old key is destroyed at the end. Interrupted,
    /// run it again: it resumes.
    RotateDek {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: KeyArgs,
        /// Clinic code, e.g. `alnoor`.
        #[arg(long)]
        tenant: String,
        /// Rows per transaction.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        batch_size: i64,
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
            audit,
            audit_checkpoint_secs,
        } => {
            let checkpoints = (
                audit,
                std::time::Duration::from_secs(audit_checkpoint_secs.max(1)),
            );
            serve(&db.database_url, &key, addr, pool, &tls, checkpoints).await
        }
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
        Command::Demo(DemoCmd::FillIdentifiers {
            db,
            key,
            tenant_prefix,
            batch_size,
        }) => fill_identifiers(&db, &key, &tenant_prefix, batch_size).await,
        Command::Demo(DemoCmd::BenchAudit {
            db,
            key,
            tenant_prefix,
            clinics,
            writers,
            seconds,
        }) => {
            let app = connect_app_with_keys(&db, &key, writers as u32 + 2).await?;
            let mut selected: Vec<(u32, TenantId)> = rotation::tenants(&app)
                .await?
                .into_iter()
                .filter_map(|(id, code)| {
                    Some((code.strip_prefix(tenant_prefix.as_str())?.parse().ok()?, id))
                })
                .collect();
            selected.sort_unstable_by_key(|c| c.0);
            selected.truncate(clinics.max(1));
            if selected.is_empty() {
                bail!("no clinic code is `{tenant_prefix}` followed by a number");
            }
            let clinics: Vec<(TenantId, String)> = selected
                .into_iter()
                .map(|(n, id)| (id, format!("{tenant_prefix}{n}")))
                .collect();
            let auth = Auth::new(&app, key.load()?, std::time::Duration::from_secs(10)).await?;
            crate::bench_audit::run(&app, &auth, &clinics, writers.max(1), seconds).await
        }
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
        Command::Audit(cmd) => audit_cmd(cmd).await,
    }
}

async fn connect_owner(args: &OwnerArgs) -> anyhow::Result<OwnerDb> {
    OwnerDb::connect(&args.database_owner_url)
        .await
        .context("cannot connect as the owner role (check DATABASE_OWNER_URL; in development run `cargo xtask db start`)")
}

async fn audit_cmd(cmd: AuditCmd) -> anyhow::Result<()> {
    use healipro_core::audit::{self, signing::AuditSigner};
    let load =
        |key: &AuditKeyArgs| AuditSigner::load(&key.file).map_err(|e| anyhow::anyhow!("{e}"));
    match cmd {
        AuditCmd::InitKey { key } => {
            if let Some(dir) = key.file.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let signer = AuditSigner::create_file(&key.file).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "created audit signing key {} (mode 600); public key: {}",
                key.file.display(),
                signer.public_hex()
            );
            Ok(())
        }
        AuditCmd::PublicKey { key } => {
            println!("{}", load(&key)?.public_hex());
            Ok(())
        }
        AuditCmd::Checkpoint { db, key, tenant } => {
            let signer = load(&key)?;
            let app = connect_app(&db, 2).await?;
            for (id, code) in selected_tenants(&app, tenant.as_deref()).await? {
                match audit::checkpoint(&app, id, &signer).await? {
                    Some(seq) => println!("{code}: signed checkpoint at entry {seq}"),
                    None => println!("{code}: no entries yet"),
                }
            }
            Ok(())
        }
        AuditCmd::Verify {
            db,
            key,
            public_key,
            tenant,
        } => {
            let public = match public_key {
                Some(hex) => hex,
                None => load(&key)?.public_hex(),
            };
            let app = connect_app(&db, 2).await?;
            let mut broken = 0;
            for (id, code) in selected_tenants(&app, tenant.as_deref()).await? {
                let r = audit::verify_tenant(&app, id, &public).await?;
                match &r.first_break {
                    None => println!(
                        "{code}: OK, {} entries, {} signed checkpoint(s){}",
                        r.entries,
                        r.checkpoints,
                        r.archived_through
                            .map(|s| format!(", entries 1..={s} in signed archives"))
                            .unwrap_or_default()
                    ),
                    Some(b) => {
                        broken += 1;
                        println!("{code}: BROKEN at entry {}: {}", b.seq, b.reason);
                    }
                }
            }
            if broken > 0 {
                bail!("{broken} audit chain(s) failed verification");
            }
            Ok(())
        }
        AuditCmd::Export {
            db,
            master,
            key,
            tenant,
            from,
            to,
            out,
        } => {
            let signer = load(&key)?;
            let app = connect_app_with_keys(&db, &master, 2).await?;
            let tenant = tenant_by_code(
                &app,
                &tenants::normalize_code(&tenant).map_err(|e| anyhow::anyhow!("{e}"))?,
            )
            .await?;
            let mut tx = app.tenant_tx_for(tenant.id).await?;
            let range = audit::export::ExportRange { from, to };
            let export = audit::export::export(
                &mut tx,
                &app,
                &signer,
                &audit::Actor::platform_operator(),
                &range,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            match &out {
                Some(path) => {
                    use std::io::Write;
                    let mut f = std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(path)
                        .with_context(|| format!("cannot create {}", path.display()))?;
                    f.write_all(export.jsonl.as_bytes())?;
                    f.sync_all()?;
                }
                None => print!("{}", export.jsonl),
            }
            tx.commit().await?;
            eprintln!(
                "{}: exported entries {}..={} ({} entries){}; check with `healipro-audit-verify --public-key {} <file>`",
                tenant.code,
                export.first_seq,
                export.last_seq,
                export.entries,
                out.as_ref().map(|p| format!(" to {}", p.display())).unwrap_or_default(),
                signer.public_hex()
            );
            Ok(())
        }
        AuditCmd::Archive {
            db,
            owner,
            master,
            key,
            tenant,
            before,
            dir,
        } => {
            let signer = load(&key)?;
            let app = connect_app_with_keys(&db, &master, 2).await?;
            let owner = connect_owner(&owner).await?;
            let tenant = tenant_by_code(
                &app,
                &tenants::normalize_code(&tenant).map_err(|e| anyhow::anyhow!("{e}"))?,
            )
            .await?;
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            match audit::archive::archive(&app, &owner, tenant.id, &signer, before, &dir)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                Some(a) => println!(
                    "{}: archived entries {}..={} to {}; they are no longer in the database, keep the file",
                    tenant.code,
                    a.first_seq,
                    a.through_seq,
                    a.file.display()
                ),
                None => println!("{}: nothing before {before} left to archive", tenant.code),
            }
            Ok(())
        }
    }
}

/// The clinic with `code` (already normalised), or a clear error.
async fn tenant_by_code(app: &Db, code: &str) -> anyhow::Result<tenants::Tenant> {
    let mut ptx = app.platform_tx().await?;
    let tenant = tenants::repo::find_by_code(&mut ptx, code).await?;
    ptx.commit().await?;
    tenant
        .ok_or_else(|| anyhow::anyhow!("no clinic with code `{code}` (see `healipro tenant list`)"))
}

/// Every tenant, or the one with `code`.
async fn selected_tenants(app: &Db, code: Option<&str>) -> anyhow::Result<Vec<(TenantId, String)>> {
    let all = rotation::tenants(app).await?;
    match code {
        None => Ok(all),
        Some(code) => {
            let code = tenants::normalize_code(code).map_err(|e| anyhow::anyhow!("{e}"))?;
            let one: Vec<_> = all.into_iter().filter(|(_, c)| *c == code).collect();
            if one.is_empty() {
                bail!("no clinic with code `{code}` (see `healipro tenant list`)");
            }
            Ok(one)
        }
    }
}

/// The runtime role with the master keys (for anything that encrypts).
async fn connect_app_with_keys(args: &DbArgs, key: &KeyArgs, pool: u32) -> anyhow::Result<Db> {
    Ok(connect_app(args, pool).await?.with_master_keys(key.load()?))
}

async fn keys_status(db: &DbArgs, key: &KeyArgs) -> anyhow::Result<()> {
    let master = key.load()?;
    let app = connect_app_with_keys(db, key, 2).await?;
    let ids = master.ids();
    println!(
        "master keys (configured; the last is active): {}",
        ids.join(", ")
    );
    let now = chrono::Utc::now();
    for t in rotation::status(&app).await? {
        println!("{} ({})", t.code, t.tenant);
        if t.keys.is_empty() {
            println!("  no keys yet (created on first use)");
        }
        for k in &t.keys {
            let days = (now - k.created_at).num_days();
            let known = if k.wrapped.is_none() || ids.contains(&k.kek_id) {
                ""
            } else {
                "  MASTER KEY MISSING"
            };
            println!(
                "  key {:<3} {:<5} {:<9} wrapped by {:<20} created {} ({days} days){known}",
                k.key_id,
                k.purpose,
                k.state,
                if k.wrapped.is_some() {
                    k.kek_id.as_str()
                } else {
                    "-"
                },
                k.created_at.format("%Y-%m-%d"),
            );
        }
        if let Some((from, to, done)) = t.rotation {
            println!("  DEK rotation {from} -> {to} in progress ({done} values done): run `healipro keys rotate-dek --tenant {}` to finish", t.code);
        }
    }
    Ok(())
}

async fn rotate_kek(db: &DbArgs, key: &KeyArgs) -> anyhow::Result<()> {
    let master = key.load()?;
    let old = master.ids();
    let new = master
        .add_key_to_file()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "added master key {new} to {} (old keys kept: {})",
        key.server_key_file.display(),
        old.join(", ")
    );
    let app = connect_app(db, 2).await?.with_master_keys(master.clone());
    let tenants = rotation::tenants(&app).await?;
    for (i, (tenant, code)) in tenants.iter().enumerate() {
        let n = rotation::rewrap_tenant(&app, &master, *tenant)
            .await
            .with_context(|| {
                format!("rewrapping the keys of {code} failed; run rotate-kek again")
            })?;
        println!(
            "  [{}/{}] {code}: {n} key(s) rewrapped",
            i + 1,
            tenants.len()
        );
    }
    let n = jwt::rewrap(&app, &master)
        .await
        .context("rewrapping the JWT keys failed")?;
    println!("  JWT signing keys: {n} rewrapped");
    let used = rotation::kek_ids_in_use(&app).await?;
    let unused: Vec<_> = master
        .ids()
        .into_iter()
        .filter(|id| !used.contains(id))
        .collect();
    println!(
        "done: everything is wrapped by {new}. No longer used: {}. Remove them with `healipro keys retire-kek` (after backing up the key file).",
        if unused.is_empty() { "none".to_owned() } else { unused.join(", ") }
    );
    Ok(())
}

async fn rotate_dek(db: &DbArgs, key: &KeyArgs, code: &str, batch_size: i64) -> anyhow::Result<()> {
    let code = tenants::normalize_code(code).map_err(|e| anyhow::anyhow!("{e}"))?;
    let app = connect_app_with_keys(db, key, 2).await?;
    let tenant = tenant_by_code(&app, &code).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "  {bar:40} {pos}/{len} values re-encrypted ({eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let options = rotation::RotateOptions {
        batch_size,
        max_batches: None,
    };
    let outcome = rotation::rotate_dek(&app, tenant.id, options, |p| {
        bar.set_length(p.total);
        bar.set_position(p.done);
    })
    .await;
    bar.finish_and_clear();
    match outcome.with_context(|| format!("rotation of {code} stopped; run the same command again to resume"))? {
        rotation::RotateOutcome::Finished { from_key, to_key, rows } => println!(
            "{code}: data key {from_key} -> {to_key}; {rows} values re-encrypted; key {from_key} destroyed"
        ),
        rotation::RotateOutcome::Paused { rows } => println!("{code}: paused after {rows} values; run again to resume"),
    }
    Ok(())
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
    (audit, every): (AuditKeyArgs, std::time::Duration),
) -> anyhow::Result<()> {
    // Certificate problems are reported before anything else starts.
    let listen = tls.resolve()?;
    let services = crate::services(database_url, pool, key.load()?, load_audit_signer(&audit)?)
        .await
        .context("cannot connect to the database (check DATABASE_URL)")?;
    if let Some(signer) = &services.audit_signer {
        spawn_audit_checkpoints(&services.db, signer.clone(), every);
    }
    let state = crate::AppState {
        leptos_options: crate::leptos_options(addr),
        services,
    };
    let listener = std::net::TcpListener::bind(addr)
        .with_context(|| format!("cannot listen on {addr} (is another server running?)"))?;
    crate::tls::serve(listener, listen, crate::router(state), shutdown_signal()).await?;
    Ok(())
}

/// Loads the audit signing key from `audit`, if its file exists. Without one
/// the server still serves, and says what is off.
fn load_audit_signer(
    audit: &AuditKeyArgs,
) -> anyhow::Result<Option<healipro_core::audit::signing::AuditSigner>> {
    if !audit.file.exists() {
        tracing::warn!(
            file = %audit.file.display(),
            "no audit signing key: periodic audit checkpoints and exports are off (create one with `healipro audit init-key`)"
        );
        return Ok(None);
    }
    let signer = healipro_core::audit::signing::AuditSigner::load(&audit.file)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Some(signer))
}

/// Signs each clinic's audit chain every `every` (when it grew).
fn spawn_audit_checkpoints(
    db: &Db,
    signer: std::sync::Arc<healipro_core::audit::signing::AuditSigner>,
    every: std::time::Duration,
) {
    tracing::info!(key = %signer.key_id(), every_secs = every.as_secs(), "audit checkpoints on");
    let db = db.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match healipro_core::audit::checkpoint_all(&db, &signer).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(signed = n, "audit checkpoints signed"),
                Err(e) => {
                    tracing::warn!(error = %e, "audit checkpoints failed; retrying next round")
                }
            }
        }
    });
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
    let app = connect_app_with_keys(db, key, 4).await?;
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
    println!("  Search by CNIC or phone (stored encrypted, found through blind indexes), e.g.:");
    for (code, _, _, _) in demo::CLINICS {
        let mut ptx = app.platform_tx().await?;
        let tenant = tenants::repo::find_by_code(&mut ptx, code).await?;
        ptx.commit().await?;
        let Some(tenant) = tenant else { continue };
        let mut tx = app.tenant_tx_for(tenant.id).await?;
        let page = patients::repo::search(&mut tx, &patients::PatientQuery::All, 25, 0).await?;
        tx.commit().await?;
        if let Some(p) = page.iter().find(|p| p.cnic.is_some() && p.phone.is_some()) {
            println!(
                "  {code:<8} {} ({}): CNIC {}, phone {}",
                p.full_name,
                p.mr_number,
                p.cnic.as_ref().map(|c| c.formatted()).unwrap_or_default(),
                p.phone.as_ref().map(|p| p.display()).unwrap_or_default()
            );
        }
    }
    println!();
    println!("  (also in {})", path.display());
    Ok(())
}

/// The made-up identifiers of patient `p` of clinic `PREFIX<n>`, unique per
/// (n, p): CNIC `3{n:05}{p:07}`, mobile `03{n:04}{p:05}` (`03{n:03}{p:06}`
/// from p = 100,000 on, for the bench's large clinic: still unique within a
/// clinic) and an address. `cargo xtask bench search` searches for them
/// (xtask/src/bench.rs, `search_cnic` and `search_phone`: keep the two in
/// step). `None` when n or p has too many digits.
fn bench_identifiers(n: u32, p: u32) -> Option<(Cnic, Phone, Address)> {
    let phone = match p {
        _ if n > 9_999 => return None,
        0..=99_999 => format!("03{n:04}{p:05}"),
        100_000..=999_999 if n <= 999 => format!("03{n:03}{p:06}"),
        _ => return None,
    };
    Some((
        Cnic::parse(&format!("3{n:05}{p:07}")).ok()?,
        Phone::parse(&phone).ok()?,
        Address::parse(&format!(
            "House {p}, Street {}\nBench Town {n}, Lahore",
            n % 50 + 1
        ))
        .ok()?,
    ))
}

/// `MR-000123` → 123.
fn mr_serial(mr: &str) -> Option<u32> {
    mr.strip_prefix("MR-")?.parse().ok()
}

async fn fill_identifiers(
    db: &DbArgs,
    key: &KeyArgs,
    prefix: &str,
    batch_size: u32,
) -> anyhow::Result<()> {
    if prefix.is_empty() {
        bail!("--tenant-prefix must not be empty");
    }
    let app = connect_app_with_keys(db, key, 2).await?;
    let mut clinics: Vec<(u32, TenantId, String)> = rotation::tenants(&app)
        .await?
        .into_iter()
        .filter_map(|(id, code)| Some((code.strip_prefix(prefix)?.parse().ok()?, id, code)))
        .collect();
    clinics.sort_unstable_by_key(|c| c.0);
    if clinics.is_empty() {
        bail!("no clinic code is `{prefix}` followed by a number (see `healipro tenant list`)");
    }
    let start = std::time::Instant::now();
    let (mut filled, mut skipped) = (0usize, 0usize);
    for (i, (n, tenant, code)) in clinics.iter().enumerate() {
        let mut after = None;
        loop {
            let mut tx = app.tenant_tx_for(*tenant).await?;
            let page = patients::repo::without_cnic(&mut tx, after, batch_size).await?;
            let Some(last) = page.last() else {
                break;
            };
            after = Some(last.0);
            let rows: Vec<_> = page
                .iter()
                .filter_map(|(id, mr)| {
                    let (cnic, phone, address) = bench_identifiers(*n, mr_serial(mr)?)?;
                    Some((*id, Some(cnic), Some(phone), Some(address)))
                })
                .collect();
            patients::repo::set_identifiers_many(&mut tx, &rows)
                .await
                .with_context(|| format!("filling the patients of {code} failed"))?;
            tx.commit().await?;
            filled += rows.len();
            skipped += page.len() - rows.len();
            if page.len() < batch_size as usize {
                break;
            }
        }
        let done = i + 1;
        if done % 100 == 0 || done == clinics.len() {
            println!(
                "  {done}/{} clinics, {filled} patients filled ({:.0} s)",
                clinics.len(),
                start.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "filled {filled} patients in {} clinics `{prefix}<n>`{}",
        clinics.len(),
        if skipped > 0 {
            format!("; {skipped} skipped (MR number not MR-<n>, or n too large)")
        } else {
            String::new()
        }
    );
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
            db,
            key,
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
            // Its data and index keys now, wrapped by the active master key.
            let app = connect_app_with_keys(&db, &key, 2).await?;
            rotation::ensure_tenant_keys(&app, t.id)
                .await
                .context("the tenant was created but its keys were not; run `healipro keys status` to create them")?;
            println!(
                "created tenant {} ({}) id {} with its encryption keys",
                t.code, t.name, t.id
            );
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
    let tenant = tenant_by_code(&app, &code).await?;
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
            let keys = MasterKeys::create_file(&file).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "created master key {} in {} (mode 600; back it up apart from the database)",
                keys.active_id(),
                file.display()
            );
            Ok(())
        }
        KeysCmd::Status { db, key } => keys_status(&db, &key).await,
        KeysCmd::RotateKek { db, key } => rotate_kek(&db, &key).await,
        KeysCmd::RetireKek { db, key } => {
            let app = connect_app_with_keys(&db, &key, 2).await?;
            let master = key.load()?;
            let used = rotation::kek_ids_in_use(&app).await?;
            let removed = master.retire(&used).map_err(|e| anyhow::anyhow!("{e}"))?;
            if removed.is_empty() {
                println!(
                    "nothing to retire: every master key still wraps something ({})",
                    used.join(", ")
                );
            } else {
                println!(
                    "retired master key(s) {}; active: {}",
                    removed.join(", "),
                    master.active_id()
                );
            }
            Ok(())
        }
        KeysCmd::RotateDek {
            db,
            key,
            tenant,
            batch_size,
        } => rotate_dek(&db, &key, &tenant, batch_size).await,
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
    let app = connect_app_with_keys(db, key, 2).await?;
    let auth = Auth::new(&app, key.load()?, std::time::Duration::from_secs(10)).await?;
    let tenant = tenant_by_code(&app, &code).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// xtask/src/bench.rs searches for exactly these (its test `search_identifiers`).
    #[test]
    fn bench_identifiers_are_what_the_bench_searches() {
        let (cnic, phone, address) = bench_identifiers(1000, 1).unwrap();
        assert_eq!(cnic.digits(), "3010000000001");
        assert_eq!(phone.e164(), "+923100000001");
        assert_eq!(
            address.as_str(),
            "House 1, Street 1\nBench Town 1000, Lahore"
        );
        let (cnic, phone, _) = bench_identifiers(7, 999).unwrap();
        assert_eq!(
            (cnic.digits(), phone.e164()),
            ("3000070000999", "+923000700999")
        );
        // The large clinic's patients past 99,999.
        let (cnic, phone, _) = bench_identifiers(1, 200_000).unwrap();
        assert_eq!(
            (cnic.digits(), phone.e164()),
            ("3000010200000", "+923001200000")
        );
        assert!(bench_identifiers(10_000, 1).is_none());
        assert!(bench_identifiers(1_000, 100_000).is_none());
        assert!(bench_identifiers(1, 1_000_000).is_none());
        assert_eq!(mr_serial("MR-000123"), Some(123));
        assert_eq!(mr_serial("X-1"), None);
    }
}
