//! The admin console's user and role management: users (create, disable,
//! assign roles, reset the second factor) and custom roles (hospital tier).
//!
//! Every function checks the acting session's permission itself, although
//! the server function already did (defence in depth), and the protections
//! that keep a clinic administrable live here: nobody removes their own admin
//! role or disables themselves, and the last active admin stays an admin.

use super::{normalize_username, repo, Auth, Session};
use crate::db::TenantTx;
use crate::ids::{RoleId, UserId};
use crate::rbac::{Permission, PermissionSet, Role};
use crate::{Error, Result};
use secrecy::SecretString;
use uuid::Uuid;

/// A row of the users page.
#[derive(Debug, Clone)]
pub struct UserSummary {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// Custom roles held: (id, name), by name.
    pub custom_roles: Vec<(RoleId, String)>,
    pub active: bool,
    pub totp_enrolled: bool,
    pub must_change_password: bool,
    pub last_login_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Failed sign-ins counted against the account now.
    pub failures: i32,
    /// Minutes left of a lockout, when locked.
    pub locked_minutes: Option<i64>,
}

/// What an admin gives a user: built-in roles and custom roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleAssignment {
    pub roles: Vec<Role>,
    pub custom_roles: Vec<RoleId>,
}

impl RoleAssignment {
    /// Parses the console's list: built-in role names (`doctor`) and custom
    /// role ids (`role:<uuid>`), separated by commas.
    pub fn parse(list: &str) -> Result<Self> {
        let mut out = Self::default();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if let Some(id) = item.strip_prefix("role:") {
                let id: RoleId = id.parse()?;
                if !out.custom_roles.contains(&id) {
                    out.custom_roles.push(id);
                }
            } else {
                let role = Role::parse(item)
                    .ok_or_else(|| Error::validation("roles", format!("unknown role “{item}”")))?;
                if !out.roles.contains(&role) {
                    out.roles.push(role);
                }
            }
        }
        if out.roles.is_empty() && out.custom_roles.is_empty() {
            return Err(Error::validation("roles", "choose at least one role"));
        }
        Ok(out)
    }

    fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }
}

/// A new user, as the admin typed it.
#[derive(Debug, Clone)]
pub struct NewUserInput {
    pub username: String,
    pub display_name: String,
    pub roles: RoleAssignment,
}

/// Every user of the clinic, with sign-in state (for the users page).
pub async fn list(tx: &mut TenantTx, session: &Session) -> Result<Vec<UserSummary>> {
    session.require(Permission::UsersManage)?;
    let tenant = tx.tenant();
    type Row = (
        UserId,
        String,
        String,
        Vec<String>,
        Vec<Uuid>,
        Vec<String>,
        bool,
        bool,
        bool,
        Option<chrono::DateTime<chrono::Utc>>,
        i32,
        Option<i64>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT u.id, u.username, u.display_name, u.roles,
                ARRAY(SELECT r.id FROM clinic.user_roles ur
                        JOIN clinic.roles r ON r.tenant_id = ur.tenant_id AND r.id = ur.role_id
                       WHERE ur.tenant_id = u.tenant_id AND ur.user_id = u.id ORDER BY r.name, r.id),
                ARRAY(SELECT r.name FROM clinic.user_roles ur
                        JOIN clinic.roles r ON r.tenant_id = ur.tenant_id AND r.id = ur.role_id
                       WHERE ur.tenant_id = u.tenant_id AND ur.user_id = u.id ORDER BY r.name, r.id),
                u.active, u.totp_secret_enc IS NOT NULL, u.must_change_password, u.last_login_at,
                COALESCE(t.failures, 0),
                CASE WHEN t.locked_until > now()
                     THEN CEIL(EXTRACT(EPOCH FROM t.locked_until - now()) / 60)::bigint END
           FROM clinic.users u
           LEFT JOIN clinic.login_throttle t ON t.tenant_id = u.tenant_id AND t.username = u.username
          WHERE u.tenant_id = $1
          ORDER BY u.active DESC, u.username",
    )
    .bind(tenant)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                username,
                display_name,
                roles,
                custom_ids,
                custom_names,
                active,
                totp_enrolled,
                must_change_password,
                last_login_at,
                failures,
                locked_minutes,
            )| UserSummary {
                id,
                username,
                display_name,
                roles: repo::parse_roles(roles),
                custom_roles: custom_ids
                    .into_iter()
                    .map(RoleId)
                    .zip(custom_names)
                    .collect(),
                active,
                totp_enrolled,
                must_change_password,
                last_login_at,
                failures,
                locked_minutes,
            },
        )
        .collect())
}

impl Auth {
    /// Creates a user with a one-time password (returned, shown once to the
    /// admin) that must be changed at the first sign-in.
    pub async fn create_user(
        &self,
        tx: &mut TenantTx,
        session: &Session,
        input: &NewUserInput,
    ) -> Result<(UserId, String)> {
        session.require(Permission::UsersManage)?;
        let username = normalize_username(&input.username);
        if !(2..=64).contains(&username.len())
            || !username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(Error::validation(
                "username",
                "use 2–64 letters, digits, dots, dashes or underscores",
            ));
        }
        let display_name = input.display_name.trim();
        if display_name.is_empty() || display_name.chars().count() > 200 {
            return Err(Error::validation(
                "display_name",
                "enter the person's name (up to 200 characters)",
            ));
        }
        if repo::find_user_by_username(tx, &username).await?.is_some() {
            return Err(Error::validation(
                "username",
                format!("“{username}” is already taken in this clinic"),
            ));
        }
        check_custom_roles(tx, &input.roles.custom_roles).await?;
        let temporary = crate::demo::generate_password();
        let hash = self
            .inner
            .passwords
            .hash(&SecretString::from(temporary.clone()))
            .await?;
        let tenant = tx.tenant();
        let id: UserId = sqlx::query_scalar(
            "INSERT INTO clinic.users
                    (tenant_id, username, display_name, password_hash, roles, must_change_password)
             VALUES ($1, $2, $3, $4, $5, true)
             RETURNING id",
        )
        .bind(tenant)
        .bind(&username)
        .bind(display_name)
        .bind(&hash)
        .bind(builtin_names(&input.roles.roles))
        .fetch_one(tx.conn())
        .await?;
        replace_custom_roles(tx, id, &input.roles.custom_roles).await?;
        Ok((id, temporary))
    }
}

/// Replaces a user's roles. Takes effect on the user's next request (the
/// session reads its permissions on every request).
pub async fn set_roles(
    tx: &mut TenantTx,
    session: &Session,
    user: UserId,
    roles: &RoleAssignment,
) -> Result<()> {
    session.require(Permission::UsersManage)?;
    let admins = lock_active_admins(tx).await?;
    let target = target_user(tx, user).await?;
    if target.is_admin && !roles.is_admin() {
        if user == session.user_id {
            return Err(Error::Conflict(
                "You cannot remove your own admin role; ask another admin to do it.".into(),
            ));
        }
        if target.active && admins.iter().all(|a| *a == user) {
            return Err(Error::Conflict(format!(
                "{} is the clinic's last admin: make someone else an admin first.",
                target.username
            )));
        }
    }
    check_custom_roles(tx, &roles.custom_roles).await?;
    let tenant = tx.tenant();
    sqlx::query("UPDATE clinic.users SET roles = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(user)
        .bind(builtin_names(&roles.roles))
        .execute(tx.conn())
        .await?;
    replace_custom_roles(tx, user, &roles.custom_roles).await
}

/// Disables (every session ends at once) or re-enables a user.
pub async fn set_active(
    tx: &mut TenantTx,
    session: &Session,
    user: UserId,
    active: bool,
) -> Result<()> {
    session.require(Permission::UsersManage)?;
    let admins = lock_active_admins(tx).await?;
    let target = target_user(tx, user).await?;
    if !active {
        if user == session.user_id {
            return Err(Error::Conflict(
                "You cannot disable your own account.".into(),
            ));
        }
        if target.is_admin && target.active && admins.iter().all(|a| *a == user) {
            return Err(Error::Conflict(format!(
                "{} is the clinic's last admin and cannot be disabled.",
                target.username
            )));
        }
    }
    let tenant = tx.tenant();
    sqlx::query("UPDATE clinic.users SET active = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(user)
        .bind(active)
        .execute(tx.conn())
        .await?;
    if !active {
        repo::revoke_user_sessions(tx, user, None).await?;
    }
    Ok(())
}

/// Removes a user's TOTP secret and recovery codes and ends their sessions:
/// at the next sign-in they enrol again (a lost phone). Not for oneself — a
/// stolen admin session must not be able to strip the admin's second factor.
pub async fn reset_second_factor(tx: &mut TenantTx, session: &Session, user: UserId) -> Result<()> {
    session.require(Permission::UsersManage)?;
    if user == session.user_id {
        return Err(Error::Conflict(
            "You cannot reset your own second factor; ask another admin.".into(),
        ));
    }
    target_user(tx, user).await?;
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE clinic.users
            SET totp_secret_enc = NULL, totp_pending_enc = NULL, totp_enrolled_at = NULL
          WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(user)
    .execute(tx.conn())
    .await?;
    sqlx::query("DELETE FROM clinic.recovery_codes WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant)
        .bind(user)
        .execute(tx.conn())
        .await?;
    repo::revoke_user_sessions(tx, user, None).await?;
    Ok(())
}

/// The clinic's plan: custom roles come with the hospital tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Clinic,
    Hospital,
}

pub async fn tier(tx: &mut TenantTx) -> Result<Tier> {
    let tenant = tx.tenant();
    let tier: String = sqlx::query_scalar("SELECT tier FROM platform.tenants WHERE id = $1")
        .bind(tenant)
        .fetch_one(tx.conn())
        .await?;
    Ok(if tier == "hospital" {
        Tier::Hospital
    } else {
        Tier::Clinic
    })
}

const CLINIC_TIER: &str = "Custom roles are part of the hospital plan. This clinic is on the \
                           clinic plan: use the built-in roles, or ask Healipro to upgrade.";

async fn require_hospital(tx: &mut TenantTx) -> Result<()> {
    match tier(tx).await? {
        Tier::Hospital => Ok(()),
        Tier::Clinic => Err(Error::Conflict(CLINIC_TIER.into())),
    }
}

/// The usernames holding custom role `r` (a fragment for queries over `clinic.roles r`).
const HOLDERS_OF_R: &str = "ARRAY(SELECT u.username FROM clinic.user_roles ur
                        JOIN clinic.users u ON u.tenant_id = ur.tenant_id AND u.id = ur.user_id
                       WHERE ur.tenant_id = r.tenant_id AND ur.role_id = r.id
                       ORDER BY u.username)";

/// A custom role with the usernames holding it.
#[derive(Debug, Clone)]
pub struct CustomRole {
    pub id: RoleId,
    pub name: String,
    pub permissions: PermissionSet,
    pub holders: Vec<String>,
}

pub async fn list_roles(tx: &mut TenantTx, session: &Session) -> Result<Vec<CustomRole>> {
    session.require(Permission::RolesManage)?;
    let tenant = tx.tenant();
    let sql = format!(
        "SELECT r.id, r.name, r.permissions, {HOLDERS_OF_R}
           FROM clinic.roles r
          WHERE r.tenant_id = $1
          ORDER BY lower(r.name)"
    );
    let rows: Vec<(RoleId, String, Vec<String>, Vec<String>)> = sqlx::query_as(&sql)
        .bind(tenant)
        .fetch_all(tx.conn())
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, permissions, holders)| CustomRole {
            id,
            name,
            permissions: permissions
                .iter()
                .filter_map(|p| Permission::parse(p))
                .collect(),
            holders,
        })
        .collect())
}

/// Creates (`id` = None) or edits a custom role. Hospital tier only.
pub async fn save_role(
    tx: &mut TenantTx,
    session: &Session,
    id: Option<RoleId>,
    name: &str,
    permissions: PermissionSet,
) -> Result<RoleId> {
    session.require(Permission::RolesManage)?;
    require_hospital(tx).await?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(Error::validation(
            "name",
            "enter a name of up to 60 characters",
        ));
    }
    let lower = name.to_lowercase();
    if Role::ALL
        .iter()
        .any(|r| r.as_str() == lower || r.label().to_lowercase() == lower)
    {
        return Err(Error::validation(
            "name",
            "that is the name of a built-in role; choose another",
        ));
    }
    if permissions.is_empty() {
        return Err(Error::validation(
            "permissions",
            "choose at least one permission",
        ));
    }
    let tenant = tx.tenant();
    // Checked first so the usual case does not abort the transaction; the
    // unique index still decides a race.
    let taken: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM clinic.roles
                         WHERE tenant_id = $1 AND lower(btrim(name)) = lower($2)
                           AND id IS DISTINCT FROM $3)",
    )
    .bind(tenant)
    .bind(name)
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    if taken {
        return Err(name_taken(name));
    }
    let names = permissions.names();
    let saved: std::result::Result<Option<RoleId>, sqlx::Error> = match id {
        None => {
            sqlx::query_scalar(
                "INSERT INTO clinic.roles (tenant_id, name, permissions) VALUES ($1, $2, $3)
             RETURNING id",
            )
            .bind(tenant)
            .bind(name)
            .bind(&names)
            .fetch_optional(tx.conn())
            .await
        }
        Some(id) => {
            sqlx::query_scalar(
                "UPDATE clinic.roles SET name = $3, permissions = $4
              WHERE tenant_id = $1 AND id = $2 RETURNING id",
            )
            .bind(tenant)
            .bind(id)
            .bind(name)
            .bind(&names)
            .fetch_optional(tx.conn())
            .await
        }
    };
    match saved {
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(Error::NotFound),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(name_taken(name)),
        Err(e) => Err(e.into()),
    }
}

fn name_taken(name: &str) -> Error {
    Error::validation("name", format!("a role named “{name}” already exists"))
}

/// Deletes a custom role nobody holds; otherwise says who holds it.
pub async fn delete_role(tx: &mut TenantTx, session: &Session, id: RoleId) -> Result<()> {
    session.require(Permission::RolesManage)?;
    let tenant = tx.tenant();
    let sql = format!(
        "SELECT r.name, {HOLDERS_OF_R}
           FROM clinic.roles r WHERE r.tenant_id = $1 AND r.id = $2
            FOR UPDATE OF r"
    );
    let role: Option<(String, Vec<String>)> = sqlx::query_as(&sql)
        .bind(tenant)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    let (name, holders) = role.ok_or(Error::NotFound)?;
    if !holders.is_empty() {
        return Err(Error::Conflict(format!(
            "The role “{name}” is held by {}; take it away from them first.",
            holders.join(", ")
        )));
    }
    sqlx::query("DELETE FROM clinic.roles WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

struct Target {
    username: String,
    active: bool,
    is_admin: bool,
}

async fn target_user(tx: &mut TenantTx, user: UserId) -> Result<Target> {
    let tenant = tx.tenant();
    let row: Option<(String, bool, bool)> = sqlx::query_as(
        "SELECT username, active, 'admin' = ANY (roles) FROM clinic.users
          WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(user)
    .fetch_optional(tx.conn())
    .await?;
    let (username, active, is_admin) = row.ok_or(Error::NotFound)?;
    Ok(Target {
        username,
        active,
        is_admin,
    })
}

/// The active admins, locked until the transaction ends, so two admins
/// demoting each other at the same moment cannot leave the clinic without one.
async fn lock_active_admins(tx: &mut TenantTx) -> Result<Vec<UserId>> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "SELECT id FROM clinic.users
          WHERE tenant_id = $1 AND active AND 'admin' = ANY (roles)
          ORDER BY id FOR UPDATE",
    )
    .bind(tenant)
    .fetch_all(tx.conn())
    .await?)
}

/// Custom roles may be given only on the hospital tier, and must exist here.
async fn check_custom_roles(tx: &mut TenantTx, ids: &[RoleId]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    require_hospital(tx).await?;
    let tenant = tx.tenant();
    let uuids: Vec<Uuid> = ids.iter().map(RoleId::as_uuid).collect();
    let found: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM clinic.roles WHERE tenant_id = $1 AND id = ANY ($2)",
    )
    .bind(tenant)
    .bind(&uuids)
    .fetch_one(tx.conn())
    .await?;
    if usize::try_from(found).ok() != Some(uuids.len()) {
        return Err(Error::validation("roles", "a chosen role no longer exists"));
    }
    Ok(())
}

async fn replace_custom_roles(tx: &mut TenantTx, user: UserId, ids: &[RoleId]) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query("DELETE FROM clinic.user_roles WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant)
        .bind(user)
        .execute(tx.conn())
        .await?;
    let uuids: Vec<Uuid> = ids.iter().map(RoleId::as_uuid).collect();
    sqlx::query(
        "INSERT INTO clinic.user_roles (tenant_id, user_id, role_id)
         SELECT $1, $2, unnest($3::uuid[])",
    )
    .bind(tenant)
    .bind(user)
    .bind(&uuids)
    .execute(tx.conn())
    .await?;
    Ok(())
}

fn builtin_names(roles: &[Role]) -> Vec<&'static str> {
    roles.iter().map(|r| r.as_str()).collect()
}

/// (built-in role name, username) of every active user, for the roles page.
pub async fn builtin_role_holders(tx: &mut TenantTx) -> Result<Vec<(String, String)>> {
    let tenant = tx.tenant();
    Ok(sqlx::query_as(
        "SELECT r, username FROM clinic.users, unnest(roles) AS r
          WHERE tenant_id = $1 AND active ORDER BY username",
    )
    .bind(tenant)
    .fetch_all(tx.conn())
    .await?)
}
