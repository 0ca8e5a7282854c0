//! SQL for users, sessions, throttling, TOTP and sign-in events. Every query
//! also names the tenant (the planner uses the tenant-leading index; RLS stays
//! the guarantee underneath).

use crate::db::TenantTx;
use crate::ids::{SessionId, UserId, WorkstationId};
use crate::rbac::{Permission, PermissionSet, Role};
use crate::Result;
use std::sync::OnceLock;

pub(super) struct UserRow {
    pub id: UserId,
    pub password_hash: String,
    pub active: bool,
}

/// A user to create or update.
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
}

/// Built-in role names that make TOTP mandatory (doctor, admin); computed
/// once, bound on every request.
fn second_factor_roles() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        Role::ALL
            .into_iter()
            .filter(|r| r.requires_second_factor())
            .map(Role::as_str)
            .collect()
    })
}

/// Permission names that make TOTP mandatory when a custom role grants them.
fn second_factor_permissions() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        Permission::ALL
            .into_iter()
            .filter(|p| p.requires_second_factor())
            .map(Permission::as_str)
            .collect()
    })
}

/// The union of the built-in roles' permissions and the custom roles'
/// permission names (a name this build does not know grants nothing).
pub(super) fn effective_permissions(roles: &[Role], custom: &[String]) -> PermissionSet {
    PermissionSet::of_roles(roles)
        .union(custom.iter().filter_map(|n| Permission::parse(n)).collect())
}

pub(super) fn parse_roles(names: Vec<String>) -> Vec<Role> {
    names.iter().filter_map(|n| Role::parse(n)).collect()
}

type UserTuple = (UserId, String, bool);

fn user_row((id, password_hash, active): UserTuple) -> UserRow {
    UserRow {
        id,
        password_hash,
        active,
    }
}

pub(super) async fn find_user_by_username(
    tx: &mut TenantTx,
    username: &str,
) -> Result<Option<UserRow>> {
    let tenant = tx.tenant();
    let row: Option<UserTuple> = sqlx::query_as(
        "SELECT id, password_hash, active FROM clinic.users WHERE tenant_id = $1 AND username = $2",
    )
    .bind(tenant)
    .bind(username)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(user_row))
}

pub(super) async fn find_user(tx: &mut TenantTx, id: UserId) -> Result<Option<UserRow>> {
    let tenant = tx.tenant();
    let row: Option<UserTuple> = sqlx::query_as(
        "SELECT id, password_hash, active FROM clinic.users WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(user_row))
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

pub(super) async fn set_password(
    tx: &mut TenantTx,
    user: UserId,
    password_hash: &str,
    must_change: bool,
) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE clinic.users SET password_hash = $3, must_change_password = $4
          WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(user)
    .bind(password_hash)
    .bind(must_change)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Per-account throttle state: (failures, seconds since the last failure,
/// minutes of lock left — `None` when not locked).
pub(super) async fn throttle_state(
    tx: &mut TenantTx,
    username: &str,
) -> Result<Option<(i32, i64, Option<i64>)>> {
    let tenant = tx.tenant();
    Ok(sqlx::query_as(
        "SELECT failures,
                COALESCE(floor(EXTRACT(EPOCH FROM now() - last_failure_at))::bigint, 1000000),
                CASE WHEN locked_until > now()
                     THEN CEIL(EXTRACT(EPOCH FROM locked_until - now()) / 60)::bigint END
           FROM clinic.login_throttle
          WHERE tenant_id = $1 AND username = $2
          FOR UPDATE",
    )
    .bind(tenant)
    .bind(username)
    .fetch_optional(tx.conn())
    .await?)
}

/// Counts a failure; locks the account at the threshold. Returns the new count.
pub(super) async fn throttle_fail(
    tx: &mut TenantTx,
    username: &str,
    lock_at: i32,
    lock_minutes: i64,
) -> Result<i32> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "INSERT INTO clinic.login_throttle AS t (tenant_id, username, failures, last_failure_at)
         VALUES ($1, $2, 1, now())
         ON CONFLICT (tenant_id, username) DO UPDATE
            SET failures = t.failures + 1,
                last_failure_at = now(),
                locked_until = CASE WHEN t.failures + 1 >= $3
                                    THEN now() + make_interval(mins => $4::int)
                                    ELSE t.locked_until END
         RETURNING failures",
    )
    .bind(tenant)
    .bind(username)
    .bind(lock_at)
    .bind(i32::try_from(lock_minutes).unwrap_or(15))
    .fetch_one(tx.conn())
    .await?)
}

pub(super) async fn throttle_clear(tx: &mut TenantTx, username: &str) -> Result<bool> {
    let tenant = tx.tenant();
    let n = sqlx::query("DELETE FROM clinic.login_throttle WHERE tenant_id = $1 AND username = $2")
        .bind(tenant)
        .bind(username)
        .execute(tx.conn())
        .await?
        .rows_affected();
    Ok(n > 0)
}

pub(super) struct NewSession<'a> {
    pub user: UserId,
    pub workstation: Option<WorkstationId>,
    pub client_ip: Option<&'a str>,
    pub idle_timeout_secs: i32,
    pub max_hours: i64,
}

pub(super) async fn insert_session(tx: &mut TenantTx, s: &NewSession<'_>) -> Result<SessionId> {
    let tenant = tx.tenant();
    let id = sqlx::query_scalar(
        "INSERT INTO clinic.sessions
                (tenant_id, user_id, workstation_id, client_ip, idle_timeout_secs, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(hours => $6::int))
         RETURNING id",
    )
    .bind(tenant)
    .bind(s.user)
    .bind(s.workstation)
    .bind(s.client_ip)
    .bind(s.idle_timeout_secs)
    .bind(i32::try_from(s.max_hours).unwrap_or(12))
    .fetch_one(tx.conn())
    .await?;
    sqlx::query("UPDATE clinic.users SET last_login_at = now() WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(s.user)
        .execute(tx.conn())
        .await?;
    Ok(id)
}

pub(super) struct LiveRow {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub custom_roles: Vec<String>,
    pub permissions: PermissionSet,
    pub idle_timeout_secs: i32,
    pub workstation: Option<WorkstationId>,
    pub totp_verified: bool,
    pub totp_enrolled: bool,
    pub totp_required: bool,
    pub must_change_password: bool,
    /// `last_seen_at` is older than the touch interval: refresh it (writing on
    /// every request would turn each read into a write).
    pub touch_due: bool,
}

/// The session if it is live: not revoked, not past its absolute expiry, not
/// idle longer than its timeout (server clock), its user active.
pub(super) async fn find_live_session(
    tx: &mut TenantTx,
    id: SessionId,
    user: UserId,
    touch_after_secs: i32,
) -> Result<Option<LiveRow>> {
    let tenant = tx.tenant();
    type Row = (
        String,
        String,
        Vec<String>,
        Vec<String>,
        Vec<String>,
        i32,
        Option<WorkstationId>,
        bool,
        bool,
        bool,
        bool,
        bool,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT u.username, u.display_name, u.roles,
                COALESCE(cr.names, '{}'), COALESCE(cr.permissions, '{}'),
                s.idle_timeout_secs, s.workstation_id,
                s.totp_verified_at IS NOT NULL,
                u.totp_secret_enc IS NOT NULL,
                u.roles && $5::text[] OR COALESCE(ts.totp_all_roles, false)
                  OR COALESCE(cr.permissions && $6::text[], false),
                u.must_change_password,
                s.last_seen_at < now() - make_interval(secs => $4)
           FROM clinic.sessions s
           JOIN clinic.users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
           LEFT JOIN clinic.tenant_settings ts ON ts.tenant_id = s.tenant_id
           -- Custom roles (hospital tier), in one pass: their names and the
           -- union of their permissions.
           CROSS JOIN LATERAL (
                SELECT array_agg(DISTINCT r.name) AS names,
                       array_agg(DISTINCT p.permission) AS permissions
                  FROM clinic.user_roles ur
                  JOIN clinic.roles r ON r.tenant_id = ur.tenant_id AND r.id = ur.role_id
                 CROSS JOIN LATERAL unnest(r.permissions) AS p (permission)
                 WHERE ur.tenant_id = s.tenant_id AND ur.user_id = s.user_id) AS cr
          WHERE s.tenant_id = $1 AND s.id = $2 AND s.user_id = $3
            AND s.revoked_at IS NULL
            AND s.expires_at > now()
            AND s.last_seen_at + make_interval(secs => s.idle_timeout_secs) > now()
            AND u.active",
    )
    .bind(tenant)
    .bind(id)
    .bind(user)
    .bind(touch_after_secs)
    .bind(second_factor_roles())
    .bind(second_factor_permissions())
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(
        |(
            username,
            display_name,
            roles,
            custom_roles,
            custom_permissions,
            idle_timeout_secs,
            workstation,
            totp_verified,
            totp_enrolled,
            totp_required,
            must_change_password,
            touch_due,
        )| {
            let roles = parse_roles(roles);
            LiveRow {
                permissions: effective_permissions(&roles, &custom_permissions),
                roles,
                custom_roles,
                username,
                display_name,
                idle_timeout_secs,
                workstation,
                totp_verified,
                totp_enrolled,
                totp_required,
                must_change_password,
                touch_due,
            }
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

pub(super) async fn revoke_session(tx: &mut TenantTx, id: SessionId) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE clinic.sessions SET revoked_at = now()
          WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL",
    )
    .bind(tenant)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Revokes every live session of `user` except `keep`. Returns how many.
pub(super) async fn revoke_user_sessions(
    tx: &mut TenantTx,
    user: UserId,
    keep: Option<SessionId>,
) -> Result<u64> {
    let tenant = tx.tenant();
    Ok(sqlx::query(
        "UPDATE clinic.sessions SET revoked_at = now()
          WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL
            AND ($3::uuid IS NULL OR id <> $3)",
    )
    .bind(tenant)
    .bind(user)
    .bind(keep)
    .execute(tx.conn())
    .await?
    .rows_affected())
}

pub(super) async fn mark_totp_verified(tx: &mut TenantTx, id: SessionId) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE clinic.sessions SET totp_verified_at = now(), last_seen_at = now()
          WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// (sealed secret, sealed pending secret, last accepted step).
pub(super) async fn totp_state(
    tx: &mut TenantTx,
    user: UserId,
) -> Result<(Option<Vec<u8>>, Option<Vec<u8>>, i64)> {
    let tenant = tx.tenant();
    Ok(sqlx::query_as(
        "SELECT totp_secret_enc, totp_pending_enc, totp_last_step
           FROM clinic.users WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(tenant)
    .bind(user)
    .fetch_one(tx.conn())
    .await?)
}

pub(super) async fn set_totp_pending(tx: &mut TenantTx, user: UserId, sealed: &[u8]) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query("UPDATE clinic.users SET totp_pending_enc = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(user)
        .bind(sealed)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Makes `sealed` the user's TOTP secret, with `step` already used.
pub(super) async fn set_totp_secret(
    tx: &mut TenantTx,
    user: UserId,
    sealed: &[u8],
    step: i64,
) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE clinic.users
            SET totp_secret_enc = $3, totp_pending_enc = NULL, totp_enrolled_at = now(),
                totp_last_step = $4
          WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(user)
    .bind(sealed)
    .bind(step)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Records `step` as used if it is later than the last one (false: replay).
pub(super) async fn advance_totp_step(tx: &mut TenantTx, user: UserId, step: i64) -> Result<bool> {
    let tenant = tx.tenant();
    let n = sqlx::query(
        "UPDATE clinic.users SET totp_last_step = $3
          WHERE tenant_id = $1 AND id = $2 AND totp_last_step < $3",
    )
    .bind(tenant)
    .bind(user)
    .bind(step)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub(super) async fn replace_recovery_codes(
    tx: &mut TenantTx,
    user: UserId,
    hashes: &[[u8; 32]],
) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query("DELETE FROM clinic.recovery_codes WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant)
        .bind(user)
        .execute(tx.conn())
        .await?;
    let hashes: Vec<Vec<u8>> = hashes.iter().map(|h| h.to_vec()).collect();
    sqlx::query(
        "INSERT INTO clinic.recovery_codes (tenant_id, user_id, code_hash)
         SELECT $1, $2, h FROM unnest($3::bytea[]) AS h",
    )
    .bind(tenant)
    .bind(user)
    .bind(hashes)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Uses up a recovery code (false: unknown or already used).
pub(super) async fn use_recovery_code(
    tx: &mut TenantTx,
    user: UserId,
    hash: &[u8; 32],
) -> Result<bool> {
    let tenant = tx.tenant();
    let n = sqlx::query(
        "UPDATE clinic.recovery_codes SET used_at = now()
          WHERE tenant_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(tenant)
    .bind(user)
    .bind(hash.as_slice())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub(super) async fn remaining_recovery_codes(tx: &mut TenantTx, user: UserId) -> Result<i64> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM clinic.recovery_codes
          WHERE tenant_id = $1 AND user_id = $2 AND used_at IS NULL",
    )
    .bind(tenant)
    .bind(user)
    .fetch_one(tx.conn())
    .await?)
}

/// The clinic's (code, display name).
pub(super) async fn tenant_code_and_name(tx: &mut TenantTx) -> Result<(String, String)> {
    let tenant = tx.tenant();
    Ok(
        sqlx::query_as("SELECT code, name FROM platform.tenants WHERE id = $1")
            .bind(tenant)
            .fetch_one(tx.conn())
            .await?,
    )
}
