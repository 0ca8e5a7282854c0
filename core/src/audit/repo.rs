//! SQL for `clinic.audit_log` and `platform.audit_checkpoints`.

use super::chain::Entry;
use crate::db::{PlatformTx, TenantTx};
use crate::{Error, Result};

/// Takes the tenant's audit lock (until the transaction ends) and returns the
/// last seq and hash (0 and None for an empty chain).
pub(super) async fn lock_tail(tx: &mut TenantTx) -> Result<(i64, Option<[u8; 32]>)> {
    let tenant = tx.tenant();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('healipro.audit'), hashtext($1::text))")
        .bind(tenant)
        .execute(tx.conn())
        .await?;
    tail(tx).await
}

/// The last seq and hash (0 and None for an empty chain).
pub(super) async fn tail(tx: &mut TenantTx) -> Result<(i64, Option<[u8; 32]>)> {
    let tenant = tx.tenant();
    let tail: Option<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT seq, hash FROM clinic.audit_log WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(tenant)
    .fetch_optional(tx.conn())
    .await?;
    match tail {
        None => Ok((0, None)),
        Some((seq, hash)) => Ok((
            seq,
            Some(
                <[u8; 32]>::try_from(hash.as_slice())
                    .map_err(|_| Error::Internal("an audit hash is not 32 bytes".into()))?,
            ),
        )),
    }
}

pub(super) async fn insert(
    tx: &mut TenantTx,
    e: &Entry,
    at: chrono::DateTime<chrono::Utc>,
    details_enc: Option<Vec<u8>>,
    prev: &[u8; 32],
    hash: &[u8; 32],
) -> Result<()> {
    let tenant = tx.tenant();
    let uuid = |s: &Option<String>| s.as_deref().and_then(|v| uuid::Uuid::parse_str(v).ok());
    sqlx::query(
        "INSERT INTO clinic.audit_log (tenant_id, seq, at, actor_user_id, actor_username, actor_roles,
                                       action, patient_id, object_type, object_id, ip, workstation_id,
                                       details_enc, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(tenant)
    .bind(e.seq)
    .bind(at)
    .bind(uuid(&e.actor_user_id))
    .bind(&e.actor_username)
    .bind(&e.actor_roles)
    .bind(&e.action)
    .bind(uuid(&e.patient_id))
    .bind(&e.object_type)
    .bind(&e.object_id)
    .bind(&e.ip)
    .bind(uuid(&e.workstation_id))
    .bind(details_enc)
    .bind(&prev[..])
    .bind(&hash[..])
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A stored row: the entry as hashed, plus the stored hash.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub entry: Entry,
    pub hash: Vec<u8>,
    pub prev_hash: Vec<u8>,
    pub details_enc: Option<Vec<u8>>,
}

type Row = (
    i64,
    chrono::DateTime<chrono::Utc>,
    Option<uuid::Uuid>,
    String,
    Vec<String>,
    String,
    Option<uuid::Uuid>,
    String,
    String,
    String,
    Option<uuid::Uuid>,
    Option<Vec<u8>>,
    Vec<u8>,
    Vec<u8>,
);

const COLUMNS: &str = "seq, at, actor_user_id, actor_username, actor_roles, action, patient_id, \
                       object_type, object_id, ip, workstation_id, details_enc, prev_hash, hash";

fn to_stored(tenant: &str, r: Row) -> StoredEntry {
    let (seq, at, actor, username, roles, action, patient, otype, oid, ip, ws, details, prev, hash) =
        r;
    StoredEntry {
        entry: Entry {
            tenant_id: tenant.to_owned(),
            seq,
            at: super::chain_time(at),
            actor_user_id: actor.map(|u| u.to_string()),
            actor_username: username,
            actor_roles: roles,
            action,
            patient_id: patient.map(|p| p.to_string()),
            object_type: otype,
            object_id: oid,
            ip,
            workstation_id: ws.map(|w| w.to_string()),
            details_enc: details.as_ref().map(hex::encode),
            prev_hash: hex::encode(&prev),
        },
        hash,
        prev_hash: prev,
        details_enc: details,
    }
}

/// Entries with `after < seq`, in seq order, at most `limit`.
pub async fn chain_page(tx: &mut TenantTx, after: i64, limit: i64) -> Result<Vec<StoredEntry>> {
    let tenant = tx.tenant();
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM clinic.audit_log WHERE tenant_id = $1 AND seq > $2
          ORDER BY seq LIMIT $3"
    ))
    .bind(tenant)
    .bind(after)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    let t = tenant.to_string();
    Ok(rows.into_iter().map(|r| to_stored(&t, r)).collect())
}

/// A signed checkpoint.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Checkpoint {
    pub tenant_id: uuid::Uuid,
    pub seq: i64,
    pub hash: Vec<u8>,
    pub signed_at: chrono::DateTime<chrono::Utc>,
    pub key_id: String,
    pub signature: Vec<u8>,
}

pub async fn checkpoints(
    ptx: &mut PlatformTx,
    tenant: crate::ids::TenantId,
) -> Result<Vec<Checkpoint>> {
    Ok(sqlx::query_as(
        "SELECT tenant_id, seq, hash, signed_at, key_id, signature FROM platform.audit_checkpoints
          WHERE tenant_id = $1 ORDER BY seq",
    )
    .bind(tenant)
    .fetch_all(ptx.conn())
    .await?)
}

pub async fn insert_checkpoint(ptx: &mut PlatformTx, c: &Checkpoint) -> Result<()> {
    sqlx::query(
        "INSERT INTO platform.audit_checkpoints (tenant_id, seq, hash, signed_at, key_id, signature)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(c.tenant_id)
    .bind(c.seq)
    .bind(&c.hash)
    .bind(c.signed_at)
    .bind(&c.key_id)
    .bind(&c.signature)
    .execute(ptx.conn())
    .await?;
    Ok(())
}
