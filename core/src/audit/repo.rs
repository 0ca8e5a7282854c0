//! SQL for `clinic.audit_log` and `platform.audit_checkpoints`.

use super::chain::Entry;
use crate::db::{PlatformTx, TenantTx};
use crate::{Error, Result};

/// After archival the table may be empty: the chain then goes on from the
/// latest archive's last entry.
const TAIL_SQL: &str = "SELECT seq, hash FROM (
     (SELECT seq, hash FROM clinic.audit_log WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1)
     UNION ALL
     (SELECT through_seq, through_hash FROM platform.audit_archives
       WHERE tenant_id = $1 ORDER BY through_seq DESC LIMIT 1)
 ) t ORDER BY seq DESC LIMIT 1";

/// Takes the tenant's audit lock (until the transaction ends) and returns the
/// last seq and hash (0 and None for an empty chain), in one prepared round
/// trip: `clinic.audit_tail` (migration 0009) locks, then reads with a
/// snapshot taken after the lock was granted.
pub(super) async fn lock_tail(tx: &mut TenantTx) -> Result<(i64, Option<[u8; 32]>)> {
    let tenant = tx.tenant();
    let tail: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash FROM clinic.audit_tail($1)")
            .bind(tenant)
            .fetch_optional(tx.conn())
            .await?;
    to_tail(tail)
}

fn to_tail(tail: Option<(i64, Vec<u8>)>) -> Result<(i64, Option<[u8; 32]>)> {
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

/// The last seq and hash (0 and None for an empty chain), archived entries
/// included.
pub(super) async fn tail(tx: &mut TenantTx) -> Result<(i64, Option<[u8; 32]>)> {
    let tenant = tx.tenant();
    let tail: Option<(i64, Vec<u8>)> = sqlx::query_as(TAIL_SQL)
        .bind(tenant)
        .fetch_optional(tx.conn())
        .await?;
    to_tail(tail)
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

/// Appends an entry without details in one round trip
/// (`clinic.audit_append`); returns its seq.
pub(super) async fn append_in_database(
    tx: &mut TenantTx,
    actor: &super::Actor,
    action: super::Action,
    subject: &super::Subject,
    (head, mid, tail): (String, String, String),
) -> Result<i64> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "SELECT clinic.audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(tenant)
    .bind(actor.user_id)
    .bind(&actor.username)
    .bind(&actor.roles)
    .bind(action.as_str())
    .bind(subject.patient)
    .bind(subject.object_type)
    .bind(&subject.object_id)
    .bind(&actor.ip)
    .bind(actor.workstation_id)
    .bind(head)
    .bind(mid)
    .bind(tail)
    .fetch_one(tx.conn())
    .await?)
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

impl Checkpoint {
    /// The checkpoint as verified and exported (hex fields).
    pub fn signed(&self) -> super::verify::SignedCheckpoint {
        super::verify::SignedCheckpoint {
            tenant_id: self.tenant_id.to_string(),
            seq: self.seq,
            hash: hex::encode(&self.hash),
            signed_at: super::chain_time(self.signed_at),
            key_id: self.key_id.clone(),
            signature: hex::encode(&self.signature),
        }
    }
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

/// The first and last seq of entries with `start <= at < end` (open ends when
/// absent), or None when there are none.
pub(super) async fn seq_range(
    tx: &mut TenantTx,
    start: Option<chrono::DateTime<chrono::Utc>>,
    end: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Option<(i64, i64)>> {
    let tenant = tx.tenant();
    let row: (Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT min(seq), max(seq) FROM clinic.audit_log
          WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR at >= $2)
            AND ($3::timestamptz IS NULL OR at < $3)",
    )
    .bind(tenant)
    .bind(start)
    .bind(end)
    .fetch_one(tx.conn())
    .await?;
    Ok(row.0.zip(row.1))
}

/// The stored hash of entry `seq`, if it is in the table.
pub(super) async fn hash_at(tx: &mut TenantTx, seq: i64) -> Result<Option<Vec<u8>>> {
    let tenant = tx.tenant();
    Ok(
        sqlx::query_scalar("SELECT hash FROM clinic.audit_log WHERE tenant_id = $1 AND seq = $2")
            .bind(tenant)
            .bind(seq)
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// An archived segment of a chain (`platform.audit_archives`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Archive {
    pub tenant_id: uuid::Uuid,
    pub first_seq: i64,
    pub through_seq: i64,
    pub through_hash: Vec<u8>,
    pub file_name: String,
    pub file_sha256: Vec<u8>,
    pub archived_at: chrono::DateTime<chrono::Utc>,
    pub key_id: String,
    pub signature: Vec<u8>,
}

impl Archive {
    /// What the archive signature covers.
    pub fn message(&self) -> Vec<u8> {
        format!(
            "healipro-audit-archive/v1|{}|{}|{}|{}|{}|{}|{}",
            self.tenant_id,
            self.first_seq,
            self.through_seq,
            hex::encode(&self.through_hash),
            self.file_name,
            hex::encode(&self.file_sha256),
            super::chain_time(self.archived_at)
        )
        .into_bytes()
    }
}

/// The tenant's archives, oldest first.
pub async fn archives(ptx: &mut PlatformTx, tenant: crate::ids::TenantId) -> Result<Vec<Archive>> {
    Ok(sqlx::query_as(
        "SELECT tenant_id, first_seq, through_seq, through_hash, file_name, file_sha256,
                archived_at, key_id, signature
           FROM platform.audit_archives WHERE tenant_id = $1 ORDER BY through_seq",
    )
    .bind(tenant)
    .fetch_all(ptx.conn())
    .await?)
}

/// The last hash of the archive ending exactly at `seq`, if any.
pub(super) async fn archive_through(
    ptx: &mut PlatformTx,
    tenant: crate::ids::TenantId,
    seq: i64,
) -> Result<Option<Vec<u8>>> {
    Ok(sqlx::query_scalar(
        "SELECT through_hash FROM platform.audit_archives WHERE tenant_id = $1 AND through_seq = $2",
    )
    .bind(tenant)
    .bind(seq)
    .fetch_optional(ptx.conn())
    .await?)
}

/// Records an archive and deletes the entries it covers, as the owner (the
/// trigger lets through only deletes an archive row covers).
pub(super) async fn insert_archive_and_delete(ptx: &mut PlatformTx, a: &Archive) -> Result<()> {
    sqlx::query(
        "INSERT INTO platform.audit_archives (tenant_id, first_seq, through_seq, through_hash,
                 file_name, file_sha256, archived_at, key_id, signature)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(a.tenant_id)
    .bind(a.first_seq)
    .bind(a.through_seq)
    .bind(&a.through_hash)
    .bind(&a.file_name)
    .bind(&a.file_sha256)
    .bind(a.archived_at)
    .bind(&a.key_id)
    .bind(&a.signature)
    .execute(ptx.conn())
    .await?;
    let deleted =
        sqlx::query("DELETE FROM clinic.audit_log WHERE tenant_id = $1 AND seq BETWEEN $2 AND $3")
            .bind(a.tenant_id)
            .bind(a.first_seq)
            .bind(a.through_seq)
            .execute(ptx.conn())
            .await?
            .rows_affected();
    let expected = (a.through_seq - a.first_seq + 1) as u64;
    if deleted != expected {
        return Err(Error::Internal(format!(
            "archiving entries {}..={} deleted {deleted} rows, not {expected}; rolled back",
            a.first_seq, a.through_seq
        )));
    }
    Ok(())
}
