//! SQL for `clinic.tenant_keys`, `clinic.key_rotations` and the re-encryption
//! of listed columns. The only place key rows are queried.

use super::Column;
use crate::db::TenantTx;
use crate::Result;

/// A row of `clinic.tenant_keys`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub key_id: i32,
    pub purpose: String,
    pub state: String,
    pub kek_id: String,
    pub wrapped: Option<Vec<u8>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub rewrapped_at: Option<chrono::DateTime<chrono::Utc>>,
    pub destroyed_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub(crate) async fn rows(tx: &mut TenantTx) -> Result<Vec<KeyRow>> {
    let tenant = tx.tenant();
    Ok(sqlx::query_as(
        "SELECT key_id, purpose, state, kek_id, wrapped, created_at, rewrapped_at, destroyed_at
           FROM clinic.tenant_keys WHERE tenant_id = $1 ORDER BY key_id",
    )
    .bind(tenant)
    .fetch_all(tx.conn())
    .await?)
}

/// How many keys the tenant has, destroyed ones included.
pub(crate) async fn count(tx: &mut TenantTx) -> Result<i64> {
    let tenant = tx.tenant();
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM clinic.tenant_keys WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_one(tx.conn())
            .await?,
    )
}

/// Serialises changes to a tenant's keys (creation, rotation) until the
/// transaction ends.
pub(crate) async fn lock_key_changes(tx: &mut TenantTx) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtext('healipro.tenant_keys'), hashtext($1::text))",
    )
    .bind(tenant)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The id the next key of the tenant gets.
pub(crate) async fn next_key_id(tx: &mut TenantTx) -> Result<i32> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "SELECT coalesce(max(key_id), 0) + 1 FROM clinic.tenant_keys WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_one(tx.conn())
    .await?)
}

/// Whether the tenant has an audit key.
pub(crate) async fn has_audit_key(tx: &mut TenantTx) -> Result<bool> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM clinic.tenant_keys WHERE tenant_id = $1 AND purpose = 'audit')",
    )
    .bind(tenant)
    .fetch_one(tx.conn())
    .await?)
}

pub(crate) async fn insert_active(
    tx: &mut TenantTx,
    key_id: i32,
    purpose: &str,
    kek_id: &str,
    wrapped: &[u8],
) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query(
        "INSERT INTO clinic.tenant_keys (tenant_id, key_id, purpose, state, kek_id, wrapped)
         VALUES ($1, $2, $3, 'active', $4, $5)",
    )
    .bind(tenant)
    .bind(key_id)
    .bind(purpose)
    .bind(kek_id)
    .bind(wrapped)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The active data key's id, read under a share lock (see `keys_for_write`).
pub(crate) async fn active_data_key_for_share(tx: &mut TenantTx) -> Result<Option<i32>> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "SELECT key_id FROM clinic.tenant_keys
          WHERE tenant_id = $1 AND purpose = 'data' AND state = 'active' FOR SHARE",
    )
    .bind(tenant)
    .fetch_optional(tx.conn())
    .await?)
}

/// Live keys not wrapped under `kek_id`, locked: (key id, purpose, kek id, wrapped).
pub(crate) async fn wrapped_not_under(
    tx: &mut TenantTx,
    kek_id: &str,
) -> Result<Vec<(i32, String, String, Vec<u8>)>> {
    let tenant = tx.tenant();
    Ok(sqlx::query_as(
        "SELECT key_id, purpose, kek_id, wrapped FROM clinic.tenant_keys
          WHERE tenant_id = $1 AND wrapped IS NOT NULL AND kek_id <> $2 FOR UPDATE",
    )
    .bind(tenant)
    .bind(kek_id)
    .fetch_all(tx.conn())
    .await?)
}

pub(crate) async fn set_wrapped(
    tx: &mut TenantTx,
    key_id: i32,
    kek_id: &str,
    wrapped: &[u8],
) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE clinic.tenant_keys SET wrapped = $3, kek_id = $4, rewrapped_at = now()
          WHERE tenant_id = $1 AND key_id = $2",
    )
    .bind(tenant)
    .bind(key_id)
    .bind(wrapped)
    .bind(kek_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Marks the active data key retiring; returns its id.
pub(crate) async fn retire_active_data_key(tx: &mut TenantTx) -> Result<Option<i32>> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "UPDATE clinic.tenant_keys SET state = 'retiring'
          WHERE tenant_id = $1 AND purpose = 'data' AND state = 'active' RETURNING key_id",
    )
    .bind(tenant)
    .fetch_optional(tx.conn())
    .await?)
}

/// Erases the wrapped bytes of the retiring data keys (`only_retiring`) or of
/// every live key (the shred); returns how many.
pub(crate) async fn destroy(tx: &mut TenantTx, only_retiring: bool) -> Result<u64> {
    let tenant = tx.tenant();
    let which = if only_retiring {
        "purpose = 'data' AND state = 'retiring'"
    } else {
        "state <> 'destroyed'"
    };
    Ok(sqlx::query(&format!(
        "UPDATE clinic.tenant_keys SET state = 'destroyed', wrapped = NULL, destroyed_at = now()
          WHERE tenant_id = $1 AND {which}"
    ))
    .bind(tenant)
    .execute(tx.conn())
    .await?
    .rows_affected())
}

/// A running DEK rotation: (id, from key, to key, values done).
pub(crate) async fn running_rotation(
    tx: &mut TenantTx,
) -> Result<Option<(uuid::Uuid, i32, i32, i64)>> {
    let tenant = tx.tenant();
    Ok(sqlx::query_as(
        "SELECT id, from_key_id, to_key_id, rows_done FROM clinic.key_rotations
          WHERE tenant_id = $1 AND finished_at IS NULL",
    )
    .bind(tenant)
    .fetch_optional(tx.conn())
    .await?)
}

pub(crate) async fn insert_rotation(tx: &mut TenantTx, from: i32, to: i32) -> Result<uuid::Uuid> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "INSERT INTO clinic.key_rotations (tenant_id, from_key_id, to_key_id)
         VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(tenant)
    .bind(from)
    .bind(to)
    .fetch_one(tx.conn())
    .await?)
}

pub(crate) async fn add_rotation_progress(tx: &mut TenantTx, id: uuid::Uuid, n: i64) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE clinic.key_rotations SET rows_done = rows_done + $3
          WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(n)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub(crate) async fn finish_rotation(tx: &mut TenantTx, id: uuid::Uuid) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE clinic.key_rotations SET finished_at = now() WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Rows of `column` whose value is under another key than `key_id` (4 bytes,
/// big-endian), in id order after `after`, locked, at most `limit`. The table
/// and column names come from `ENCRYPTED_COLUMNS`, never from input.
pub(crate) async fn values_not_under(
    tx: &mut TenantTx,
    column: &Column,
    key_id: &[u8; 4],
    after: uuid::Uuid,
    limit: i64,
) -> Result<Vec<(uuid::Uuid, Vec<u8>)>> {
    let tenant = tx.tenant();
    let sql = format!(
        "SELECT id, {col} FROM clinic.{table}
          WHERE tenant_id = $1 AND id > $2 AND {col} IS NOT NULL
            AND substring({col} from 2 for 4) <> $3
          ORDER BY id LIMIT $4 FOR UPDATE",
        col = column.column,
        table = column.table
    );
    Ok(sqlx::query_as(&sql)
        .bind(tenant)
        .bind(after)
        .bind(&key_id[..])
        .bind(limit)
        .fetch_all(tx.conn())
        .await?)
}

/// How many values of `column` are under another key than `key_id`.
pub(crate) async fn count_not_under(
    tx: &mut TenantTx,
    column: &Column,
    key_id: &[u8; 4],
) -> Result<i64> {
    let tenant = tx.tenant();
    let sql = format!(
        "SELECT count(*) FROM clinic.{table}
          WHERE tenant_id = $1 AND {col} IS NOT NULL AND substring({col} from 2 for 4) <> $2",
        col = column.column,
        table = column.table
    );
    Ok(sqlx::query_scalar(&sql)
        .bind(tenant)
        .bind(&key_id[..])
        .fetch_one(tx.conn())
        .await?)
}

pub(crate) async fn set_value(
    tx: &mut TenantTx,
    column: &Column,
    id: uuid::Uuid,
    ciphertext: &[u8],
) -> Result<()> {
    let tenant = tx.tenant();
    let sql = format!(
        "UPDATE clinic.{table} SET {col} = $3 WHERE tenant_id = $1 AND id = $2",
        col = column.column,
        table = column.table
    );
    sqlx::query(&sql)
        .bind(tenant)
        .bind(id)
        .bind(ciphertext)
        .execute(tx.conn())
        .await?;
    Ok(())
}
