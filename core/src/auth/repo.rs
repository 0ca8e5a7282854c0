//! SQL for users and sessions. Every query also names the tenant (the planner
//! uses the tenant-leading index; RLS stays the guarantee underneath).

use super::Session;
use crate::db::TenantTx;
use crate::ids::{SessionId, UserId};
use crate::rbac::Role;
use crate::Result;

pub(super) struct UserRow {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub active: bool,
}

/// A user to create or update.
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
}

fn parse_roles(names: Vec<String>) -> Vec<Role> {
    names.iter().filter_map(|n| Role::parse(n)).collect()
}

pub(super) async fn find_user_by_username(
    tx: &mut TenantTx,
    username: &str,
) -> Result<Option<UserRow>> {
    let tenant = tx.tenant();
    let row: Option<(UserId, String, String, String, Vec<String>, bool)> = sqlx::query_as(
        "SELECT id, username, display_name, password_hash, roles, active
           FROM clinic.users WHERE tenant_id = $1 AND username = $2",
    )
    .bind(tenant)
    .bind(username)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(
        |(id, username, display_name, password_hash, roles, active)| UserRow {
            id,
            username,
            display_name,
            password_hash,
            roles: parse_roles(roles),
            active,
        },
    ))
}

pub(super) async fn upsert_user(
    tx: &mut TenantTx,
    user: &NewUser,
    password_hash: &str,
) -> Result<UserId> {
    let tenant = tx.tenant();
    let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
    Ok(sqlx::query_scalar(
        "INSERT INTO clinic.users (tenant_id, username, display_name, password_hash, roles)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, username) DO UPDATE
            SET display_name = EXCLUDED.display_name,
                password_hash = EXCLUDED.password_hash,
                roles = EXCLUDED.roles,
                active = true
         RETURNING id",
    )
    .bind(tenant)
    .bind(&user.username)
    .bind(&user.display_name)
    .bind(password_hash)
    .bind(roles)
    .fetch_one(tx.conn())
    .await?)
}

pub(super) async fn insert_session(
    tx: &mut TenantTx,
    user: UserId,
    token_hash: &[u8],
    idle_timeout_secs: i32,
    max_hours: i64,
) -> Result<SessionId> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "INSERT INTO clinic.sessions (tenant_id, user_id, token_hash, idle_timeout_secs, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(hours => $5::int))
         RETURNING id",
    )
    .bind(tenant)
    .bind(user)
    .bind(token_hash)
    .bind(idle_timeout_secs)
    .bind(i32::try_from(max_hours).unwrap_or(12))
    .fetch_one(tx.conn())
    .await?)
}

pub(super) struct LiveSession {
    pub session: Session,
    /// `last_seen_at` is older than the touch interval: refresh it (writing on
    /// every request would turn each read into a write).
    pub touch_due: bool,
}

pub(super) async fn find_live_session(
    tx: &mut TenantTx,
    token_hash: &[u8],
) -> Result<Option<LiveSession>> {
    let tenant = tx.tenant();
    type Row = (SessionId, UserId, String, String, Vec<String>, bool);
    let row: Option<Row> = sqlx::query_as(
        "SELECT s.id, s.user_id, u.username, u.display_name, u.roles,
                s.last_seen_at < now() - interval '30 seconds'
           FROM clinic.sessions s
           JOIN clinic.users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
          WHERE s.tenant_id = $1 AND s.token_hash = $2
            AND s.revoked_at IS NULL
            AND s.expires_at > now()
            AND s.last_seen_at + make_interval(secs => s.idle_timeout_secs) > now()
            AND u.active",
    )
    .bind(tenant)
    .bind(token_hash)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(
        |(id, user_id, username, display_name, roles, touch_due)| LiveSession {
            session: Session {
                id,
                tenant_id: tenant,
                user_id,
                username,
                display_name,
                roles: parse_roles(roles),
            },
            touch_due,
        },
    ))
}

pub(super) async fn touch_session(tx: &mut TenantTx, id: SessionId) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query("UPDATE clinic.sessions SET last_seen_at = now() WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub(super) async fn revoke_session(tx: &mut TenantTx, token_hash: &[u8]) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE clinic.sessions SET revoked_at = now()
          WHERE tenant_id = $1 AND token_hash = $2 AND revoked_at IS NULL",
    )
    .bind(tenant)
    .bind(token_hash)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The clinic's display name (only the page header needs it, so it is not part
/// of the per-request session lookup).
pub(super) async fn tenant_name(tx: &mut TenantTx) -> Result<String> {
    let tenant = tx.tenant();
    Ok(
        sqlx::query_scalar("SELECT name FROM platform.tenants WHERE id = $1")
            .bind(tenant)
            .fetch_one(tx.conn())
            .await?,
    )
}
