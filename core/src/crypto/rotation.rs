//! Key operations for the operator CLI (`healipro keys …`): KEK rotation and
//! retirement, DEK rotation in resumable batches, status, and the crypto-shred.
//!
//! Everything runs through the runtime role and `TenantTx`, so row-level
//! security applies to the operator's tools as to the app, and the app keeps
//! serving: each batch is its own short transaction.

use super::keys::{insert_key, wrap_context};
use super::repo::{self, KeyRow};
use super::{MasterKeys, ENCRYPTED_COLUMNS};
use crate::db::{Db, TenantTx};
use crate::ids::TenantId;
use crate::{Error, Result};
use secrecy::zeroize::Zeroizing;

/// Rewraps every key of `tenant` not under the active master key; returns how
/// many were rewrapped. Key material does not change, so nothing else does.
pub async fn rewrap_tenant(db: &Db, master: &MasterKeys, tenant: TenantId) -> Result<usize> {
    let active = master.active_id();
    let mut tx = db.tenant_tx_for(tenant).await?;
    let rows = repo::wrapped_not_under(&mut tx, &active).await?;
    for (key_id, purpose, kek_id, wrapped) in &rows {
        let context = wrap_context(tenant, *key_id, purpose);
        let key = Zeroizing::new(master.unwrap(kek_id, &context, wrapped)?);
        let (new_kek, rewrapped) = master.wrap(&context, &key)?;
        repo::set_wrapped(&mut tx, *key_id, &new_kek, &rewrapped).await?;
    }
    if !rows.is_empty() {
        let details = serde_json::json!({ "kind": "kek", "rewrapped": rows.len(), "kek": active });
        log_key_event(&mut tx, Some(details)).await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// Key operations are the platform operator's (the CLI), logged in the
/// tenant's audit chain with the operation's transaction.
async fn log_key_event(tx: &mut TenantTx, details: Option<serde_json::Value>) -> Result<()> {
    use crate::audit::{self, Action, Actor, Subject};
    let actor = Actor::platform_operator();
    let subject = Subject {
        patient: None,
        object_type: "tenant_keys",
        object_id: String::new(),
    };
    audit::append(tx, &actor, Action::KeysRotated, &subject, details.as_ref()).await?;
    Ok(())
}

/// Every tenant's id and code (the runtime role may read the tenant list).
pub async fn tenants(db: &Db) -> Result<Vec<(TenantId, String)>> {
    let mut ptx = db.platform_tx().await?;
    let list = crate::tenants::repo::list(&mut ptx).await?;
    ptx.commit().await?;
    Ok(list.into_iter().map(|t| (t.id, t.code)).collect())
}

/// Master key ids still wrapping something (tenant keys or JWT keys).
pub async fn kek_ids_in_use(db: &Db) -> Result<Vec<String>> {
    let mut used = crate::auth::jwt::kek_ids_in_use(db).await?;
    for (tenant, _) in tenants(db).await? {
        let mut tx = db.tenant_tx_for(tenant).await?;
        for row in repo::rows(&mut tx).await? {
            if row.wrapped.is_some() && !used.contains(&row.kek_id) {
                used.push(row.kek_id);
            }
        }
        tx.commit().await?;
    }
    Ok(used)
}

/// One tenant's keys and rotation state, for `healipro keys status`.
#[derive(Debug, Clone)]
pub struct TenantKeyStatus {
    pub tenant: TenantId,
    pub code: String,
    pub keys: Vec<KeyRow>,
    /// A DEK rotation in progress: (from key, to key, rows done).
    pub rotation: Option<(i32, i32, i64)>,
}

pub async fn status(db: &Db) -> Result<Vec<TenantKeyStatus>> {
    let mut out = Vec::new();
    for (tenant, code) in tenants(db).await? {
        let mut tx = db.tenant_tx_for(tenant).await?;
        let keys = repo::rows(&mut tx).await?;
        let rotation = running_rotation(&mut tx).await?;
        tx.commit().await?;
        out.push(TenantKeyStatus {
            tenant,
            code,
            keys,
            rotation: rotation.map(|r| (r.from_key, r.to_key, r.rows_done)),
        });
    }
    Ok(out)
}

struct Rotation {
    id: uuid::Uuid,
    from_key: i32,
    to_key: i32,
    rows_done: i64,
}

async fn running_rotation(tx: &mut TenantTx) -> Result<Option<Rotation>> {
    let row = repo::running_rotation(tx).await?;
    Ok(row.map(|(id, from_key, to_key, rows_done)| Rotation {
        id,
        from_key,
        to_key,
        rows_done,
    }))
}

/// What a DEK rotation reports as it goes.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

/// Options of [`rotate_dek`].
#[derive(Debug, Clone, Copy)]
pub struct RotateOptions {
    pub batch_size: i64,
    /// Stop after this many batches (tests simulate an interruption with it).
    pub max_batches: Option<u64>,
}

impl Default for RotateOptions {
    fn default() -> Self {
        Self {
            batch_size: 500,
            max_batches: None,
        }
    }
}

/// How a rotation call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotateOutcome {
    /// Every field is under the new key; the old key is destroyed.
    Finished {
        from_key: i32,
        to_key: i32,
        rows: u64,
    },
    /// Stopped early (`max_batches`); run again to resume.
    Paused { rows: u64 },
}

/// Starts (or resumes) a rotation of `tenant`'s data key: a new DEK becomes
/// active at once (new writes use it), then every encrypted field still under
/// the old key is re-encrypted in batches of short transactions, and finally
/// the old key is destroyed. Interrupted, it resumes from the rows still under
/// the old key; the old key stays readable until the end.
pub async fn rotate_dek(
    db: &Db,
    tenant: TenantId,
    options: RotateOptions,
    mut progress: impl FnMut(Progress),
) -> Result<RotateOutcome> {
    let vault = db
        .vault()
        .ok_or_else(|| Error::Config("no master key is configured".into()))?
        .clone();
    let rotation = {
        let mut tx = db.tenant_tx_for(tenant).await?;
        // Make sure the tenant has keys at all.
        tx.keys().await?;
        let rotation = match running_rotation(&mut tx).await? {
            Some(r) => r,
            None => begin(&mut tx, vault.master()).await?,
        };
        tx.commit().await?;
        vault.forget(tenant);
        rotation
    };
    let to_key_bytes = u32::try_from(rotation.to_key).unwrap_or(0).to_be_bytes();
    let total = count_not_under(db, tenant, &to_key_bytes).await? + rotation.rows_done as u64;
    let mut done = rotation.rows_done as u64;
    progress(Progress { done, total });
    let mut batches = 0u64;
    for column in ENCRYPTED_COLUMNS.iter().filter(|c| c.rotates) {
        let mut after = uuid::Uuid::nil();
        loop {
            if options.max_batches.is_some_and(|max| batches >= max) {
                return Ok(RotateOutcome::Paused { rows: done });
            }
            let mut tx = db.tenant_tx_for(tenant).await?;
            // Rows still under another key, in id order from where the last
            // batch stopped; locked so an edit in the app waits or goes first.
            let rows =
                repo::values_not_under(&mut tx, column, &to_key_bytes, after, options.batch_size)
                    .await?;
            let Some(last) = rows.last().map(|r| r.0) else {
                tx.commit().await?;
                break;
            };
            let keys = tx.keys_for_write().await?;
            for (id, ciphertext) in &rows {
                let plain = Zeroizing::new(tx.decrypt(column.field, *id, ciphertext).await?);
                let fresh = keys.encrypt(column.field, *id, &plain)?;
                repo::set_value(&mut tx, column, *id, &fresh).await?;
            }
            repo::add_rotation_progress(&mut tx, rotation.id, rows.len() as i64).await?;
            tx.commit().await?;
            done += rows.len() as u64;
            batches += 1;
            after = last;
            progress(Progress { done, total });
        }
    }
    finish(db, tenant, &rotation).await?;
    vault.forget(tenant);
    Ok(RotateOutcome::Finished {
        from_key: rotation.from_key,
        to_key: rotation.to_key,
        rows: done,
    })
}

/// Retires the active DEK and creates its successor, in one transaction.
/// Writers hold a share lock on the active key row while they encrypt, so this
/// waits for them; writers after it see the new key.
async fn begin(tx: &mut TenantTx, master: &MasterKeys) -> Result<Rotation> {
    let tenant = tx.tenant();
    repo::lock_key_changes(tx).await?;
    let from_key = repo::retire_active_data_key(tx)
        .await?
        .ok_or_else(|| Error::KeyUnavailable(format!("tenant {tenant} has no active data key")))?;
    let to_key = repo::next_key_id(tx).await?;
    insert_key(tx, master, to_key, "data").await?;
    let id = repo::insert_rotation(tx, from_key, to_key).await?;
    let details =
        serde_json::json!({ "kind": "dek", "stage": "started", "from": from_key, "to": to_key });
    log_key_event(tx, Some(details)).await?;
    Ok(Rotation {
        id,
        from_key,
        to_key,
        rows_done: 0,
    })
}

/// Encrypted values of `tenant` not under the key `key_id_bytes`.
async fn count_not_under(db: &Db, tenant: TenantId, key_id_bytes: &[u8; 4]) -> Result<u64> {
    let mut tx = db.tenant_tx_for(tenant).await?;
    let mut n = 0i64;
    for column in ENCRYPTED_COLUMNS.iter().filter(|c| c.rotates) {
        n += repo::count_not_under(&mut tx, column, key_id_bytes).await?;
    }
    tx.commit().await?;
    Ok(n as u64)
}

/// Checks nothing is left under the old key, then destroys it. Every retiring
/// key goes, so a rotation interrupted before this point is completed too.
async fn finish(db: &Db, tenant: TenantId, rotation: &Rotation) -> Result<()> {
    let to_key = u32::try_from(rotation.to_key).unwrap_or(0).to_be_bytes();
    let left = count_not_under(db, tenant, &to_key).await?;
    if left > 0 {
        return Err(Error::Conflict(format!(
            "{left} values are still under an old key; run the rotation again to resume"
        )));
    }
    let mut tx = db.tenant_tx_for(tenant).await?;
    repo::destroy(&mut tx, true).await?;
    repo::finish_rotation(&mut tx, rotation.id).await?;
    let details = serde_json::json!({
        "kind": "dek", "stage": "finished", "from": rotation.from_key, "to": rotation.to_key,
        "destroyed": rotation.from_key,
    });
    log_key_event(&mut tx, Some(details)).await?;
    tx.commit().await
}

/// Crypto-shred: destroys every key of the tenant (data, index, audit). All of its
/// ciphertexts, in the database and in every backup, become unreadable; its
/// blind indexes can no longer be computed. Irreversible. (The tenant purge of
/// a later issue calls this; it is not reachable from the app.)
pub async fn shred(db: &Db, tenant: TenantId) -> Result<u64> {
    let mut tx = db.tenant_tx_for(tenant).await?;
    let n = repo::destroy(&mut tx, false).await?;
    // No details: the audit key itself is gone.
    log_key_event(&mut tx, None).await?;
    tx.commit().await?;
    if let Some(vault) = db.vault() {
        vault.forget(tenant);
    }
    Ok(n)
}

/// Creates a tenant's keys now (tenant creation and the demo seed), rather
/// than on first use (which needs a second pooled connection).
pub async fn ensure_tenant_keys(db: &Db, tenant: TenantId) -> Result<()> {
    let mut tx = db.tenant_tx_for(tenant).await?;
    // The audit key too (tenants from before the audit log have none yet).
    tx.audit_keys().await?;
    tx.commit().await
}
