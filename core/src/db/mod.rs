//! The only door to the database.
//!
//! * [`Db`] wraps the runtime pool (role `healipro_app`, subject to row-level
//!   security). Its pool is private: the only ways to run SQL are
//!   [`Db::tenant_tx_for`] (which sets the tenant inside the transaction before
//!   anything else can run) and [`Db::platform_tx`] (platform tables only; no
//!   tenant is set, so every `clinic` table reads as empty).
//! * [`OwnerDb`] wraps the owner role for migrations and operator commands. It is
//!   never used by the server at request time.
//!
//! Repositories take `&mut TenantTx` / `&mut PlatformTx` and reach the connection
//! through the crate-private `conn()`, so code outside `healipro_core` cannot run
//! SQL at all.

pub mod selftest;
#[cfg(feature = "testing")]
pub mod testing;

use crate::crypto::{MasterKeys, Vault};
use crate::ids::TenantId;
use crate::Result;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// The runtime database handle (role `healipro_app`).
#[derive(Clone)]
pub struct Db {
    pool: PgPool,
    /// Tenant keys and the master keys that unwrap them (None: this handle
    /// cannot encrypt or decrypt, e.g. a health check).
    vault: Option<Arc<Vault>>,
}

impl Db {
    /// Connects as the runtime role. `max_connections` bounds the pool.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let pool = pool_options(max_connections)
            .connect_with(connect_options(url)?)
            .await?;
        Ok(Self { pool, vault: None })
    }

    /// This handle with the master keys: its tenant transactions can reach the
    /// tenant key rings ([`TenantTx::keys`]).
    pub fn with_master_keys(mut self, master: MasterKeys) -> Self {
        self.vault = Some(Arc::new(Vault::new(master)));
        self
    }

    /// The key cache, when master keys are configured.
    pub fn vault(&self) -> Option<&Arc<Vault>> {
        self.vault.as_ref()
    }

    /// Opens a transaction scoped to `tenant`. `BEGIN` and `clinic.set_tenant`
    /// travel in one simple-protocol message (one round trip); the tenant is a
    /// parsed UUID, never user text. The setting is transaction-local, so the
    /// pooled connection carries nothing into its next use.
    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %tenant))]
    pub async fn tenant_tx_for(&self, tenant: TenantId) -> Result<TenantTx> {
        let begin = format!(
            "BEGIN; SELECT clinic.set_tenant('{}'::uuid)",
            tenant.as_uuid().hyphenated()
        );
        let tx = self.pool.begin_with(begin).await?;
        Ok(TenantTx {
            tx,
            tenant,
            db: self.clone(),
        })
    }

    /// Opens a transaction with no tenant: for `platform` tables only.
    pub async fn platform_tx(&self) -> Result<PlatformTx> {
        Ok(PlatformTx {
            tx: self.pool.begin().await?,
        })
    }

    /// Checks the database answers (health check; touches no tenant data).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The database role this pool logs in as (for the catalog checks).
    pub async fn role_name(&self) -> Result<String> {
        Ok(sqlx::query_scalar("SELECT current_user::text")
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The owner handle (role `healipro_owner`): migrations and operator commands.
#[derive(Clone)]
pub struct OwnerDb {
    pool: PgPool,
}

impl OwnerDb {
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = pool_options(4).connect_with(connect_options(url)?).await?;
        Ok(Self { pool })
    }

    /// Applies every pending migration. Safe to run repeatedly.
    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// A transaction on the owner connection (bypasses RLS: operator use only).
    pub async fn platform_tx(&self) -> Result<PlatformTx> {
        Ok(PlatformTx {
            tx: self.pool.begin().await?,
        })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A short fingerprint of the embedded migrations (used to name test templates).
pub fn migrations_fingerprint() -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for m in MIGRATOR.iter() {
        h.update(m.version.to_le_bytes());
        h.update(&*m.checksum);
    }
    hex::encode(&h.finalize()[..6])
}

fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
}

fn connect_options(url: &str) -> Result<PgConnectOptions> {
    PgConnectOptions::from_str(url)
        .map(|o| o.application_name("healipro"))
        .map_err(|e| crate::Error::Config(format!("invalid database URL: {e}")))
}

/// A transaction in which `app.tenant_id` is set to one tenant. Dropping it
/// without [`TenantTx::commit`] rolls back.
pub struct TenantTx {
    tx: Transaction<'static, Postgres>,
    tenant: TenantId,
    db: Db,
}

impl TenantTx {
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub(crate) fn vault_ref(&self) -> Option<&Arc<Vault>> {
        self.db.vault.as_ref()
    }

    /// A second, independent transaction for the same tenant (for what must
    /// commit on its own, such as a tenant's first keys).
    pub(crate) async fn sibling(&self) -> Result<TenantTx> {
        self.db.tenant_tx_for(self.tenant).await
    }

    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}

/// A transaction with no tenant set: `platform` tables only.
pub struct PlatformTx {
    tx: Transaction<'static, Postgres>,
}

impl PlatformTx {
    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}
