//! Admin server functions; each checks its permission first.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkstationDto {
    pub id: String,
    pub name: String,
    pub location: String,
    pub idle_minutes: i32,
    pub bound: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsDto {
    pub totp_all_roles: bool,
    pub max_idle_minutes: i32,
    pub default_idle_minutes: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityDto {
    /// (username, failures, minutes of lock left)
    pub throttled: Vec<(String, i32, Option<i64>)>,
    /// (when, username, address, outcome)
    pub events: Vec<(String, String, String, String)>,
    /// Refused permission checks: (when, username, permission)
    pub denials: Vec<(String, String, String)>,
}

#[server(prefix = "/api", endpoint = "admin/workstations/list")]
pub async fn list_workstations() -> Result<Vec<WorkstationDto>, AppError> {
    use crate::server::authed;
    use healipro_core::{auth::workstations, rbac::Permission};
    let (_session, mut tx) = authed(Permission::WorkstationsManage).await?;
    let list = workstations::list(&mut tx).await?;
    tx.commit().await?;
    Ok(list
        .into_iter()
        .map(|w| WorkstationDto {
            id: w.id.to_string(),
            name: w.name,
            location: w.location,
            idle_minutes: w.idle_timeout_secs / 60,
            bound: w.bound,
        })
        .collect())
}

/// Creates (empty `id`) or updates a workstation.
#[server(prefix = "/api", endpoint = "admin/workstations/save")]
pub async fn save_workstation(
    id: String,
    name: String,
    location: String,
    idle_minutes: i32,
) -> Result<(), AppError> {
    use crate::server::authed;
    use healipro_core::auth::workstations::{self, WorkstationInput};
    use healipro_core::{ids::WorkstationId, rbac::Permission, Error};
    let (session, mut tx) = authed(Permission::WorkstationsManage).await?;
    let input = WorkstationInput {
        name,
        location,
        idle_timeout_secs: idle_minutes.saturating_mul(60),
    };
    if id.trim().is_empty() {
        workstations::create(&mut tx, &input).await?;
    } else {
        let id: WorkstationId = id.parse().map_err(|_| Error::NotFound)?;
        workstations::update(&mut tx, id, &input).await?;
    }
    let ws_id = if id.trim().is_empty() {
        "new".to_owned()
    } else {
        id.trim().to_owned()
    };
    crate::server::commit_audited(
        tx,
        &session,
        healipro_core::audit::Action::WorkstationChanged,
        "workstation",
        ws_id,
        Some(serde_json::json!({ "change": "saved" })),
    )
    .await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "admin/workstations/delete")]
pub async fn delete_workstation(id: String) -> Result<(), AppError> {
    use crate::server::authed;
    use healipro_core::{auth::workstations, ids::WorkstationId, rbac::Permission, Error};
    let (session, mut tx) = authed(Permission::WorkstationsManage).await?;
    let id: WorkstationId = id.parse().map_err(|_| Error::NotFound)?;
    workstations::delete(&mut tx, id).await?;
    crate::server::commit_audited(
        tx,
        &session,
        healipro_core::audit::Action::WorkstationChanged,
        "workstation",
        id.to_string(),
        Some(serde_json::json!({ "change": "deleted" })),
    )
    .await?;
    Ok(())
}

/// Binds the calling browser to the workstation (a long-lived cookie); its
/// idle timeout applies from the next sign-in.
#[server(prefix = "/api", endpoint = "admin/workstations/bind")]
pub async fn bind_workstation(id: String) -> Result<(), AppError> {
    use crate::server::{authed, set_workstation_cookie};
    use healipro_core::{auth::workstations, ids::WorkstationId, rbac::Permission, Error};
    let (session, mut tx) = authed(Permission::WorkstationsManage).await?;
    let id: WorkstationId = id.parse().map_err(|_| Error::NotFound)?;
    let cookie = workstations::bind(&mut tx, id).await?;
    crate::server::commit_audited(
        tx,
        &session,
        healipro_core::audit::Action::WorkstationChanged,
        "workstation",
        id.to_string(),
        Some(serde_json::json!({ "change": "browser bound" })),
    )
    .await?;
    set_workstation_cookie(&cookie);
    Ok(())
}

#[server(prefix = "/api", endpoint = "admin/settings/get")]
pub async fn get_settings() -> Result<SettingsDto, AppError> {
    use crate::server::authed;
    use healipro_core::{auth::workstations, rbac::Permission};
    let (_session, mut tx) = authed(Permission::SettingsManage).await?;
    let s = workstations::settings(&mut tx).await?;
    tx.commit().await?;
    Ok(SettingsDto {
        totp_all_roles: s.totp_all_roles,
        max_idle_minutes: s.max_idle_secs / 60,
        default_idle_minutes: s.default_idle_secs / 60,
    })
}

#[server(prefix = "/api", endpoint = "admin/settings/save")]
pub async fn save_settings(
    totp_all_roles: Option<String>,
    max_idle_minutes: i32,
    default_idle_minutes: i32,
) -> Result<(), AppError> {
    use crate::server::authed;
    use healipro_core::auth::workstations::{self, Settings};
    use healipro_core::rbac::Permission;
    let (session, mut tx) = authed(Permission::SettingsManage).await?;
    let settings = Settings {
        totp_all_roles: totp_all_roles.is_some_and(|v| v == "on" || v == "true"),
        max_idle_secs: max_idle_minutes.saturating_mul(60),
        default_idle_secs: default_idle_minutes.saturating_mul(60),
    };
    workstations::update_settings(&mut tx, &settings).await?;
    crate::server::commit_audited(tx, &session, healipro_core::audit::Action::SettingsChanged, "settings", String::new(), Some(serde_json::json!({ "totp_all_roles": settings.totp_all_roles, "max_idle_secs": settings.max_idle_secs, "default_idle_secs": settings.default_idle_secs }))).await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "admin/security/overview")]
pub async fn security_overview() -> Result<SecurityDto, AppError> {
    use crate::server::authed;
    use healipro_core::{auth::events, rbac::Permission};
    let (_session, mut tx) = authed(Permission::UsersManage).await?;
    let throttled = events::locked_accounts(&mut tx).await?;
    let recent = events::recent(&mut tx, 50).await?;
    let denials = events::recent_denials(&mut tx, 50).await?;
    tx.commit().await?;
    Ok(SecurityDto {
        denials: denials
            .into_iter()
            .map(|d| {
                (
                    d.at.format("%d %b %H:%M:%S UTC").to_string(),
                    d.username,
                    d.permission,
                )
            })
            .collect(),
        throttled,
        events: recent
            .into_iter()
            .map(|e| {
                (
                    e.at.format("%d %b %H:%M:%S UTC").to_string(),
                    e.username,
                    e.client_ip.unwrap_or_default(),
                    e.outcome,
                )
            })
            .collect(),
    })
}

#[server(prefix = "/api", endpoint = "admin/users/unlock")]
pub async fn unlock_user(username: String) -> Result<(), AppError> {
    use crate::server::{authed, services};
    use healipro_core::rbac::Permission;
    let (session, mut tx) = authed(Permission::UsersManage).await?;
    services()?.auth.unlock(&mut tx, &username).await?;
    crate::server::commit_audited(
        tx,
        &session,
        healipro_core::audit::Action::UserChanged,
        "user",
        username.clone(),
        Some(serde_json::json!({ "change": "unlocked" })),
    )
    .await?;
    Ok(())
}

/// Resets a user's password; returns the one-time password to hand over.
#[server(prefix = "/api", endpoint = "admin/users/reset-password")]
pub async fn reset_password(username: String) -> Result<String, AppError> {
    use crate::server::{authed, services};
    use healipro_core::rbac::Permission;
    let (session, mut tx) = authed(Permission::UsersManage).await?;
    let temporary = services()?
        .auth
        .admin_reset_password(&mut tx, &username)
        .await?;
    crate::server::commit_audited(
        tx,
        &session,
        healipro_core::audit::Action::UserChanged,
        "user",
        username.clone(),
        Some(serde_json::json!({ "change": "password reset" })),
    )
    .await?;
    Ok(temporary)
}

/// Ends every session of a user at once; returns how many.
#[server(prefix = "/api", endpoint = "admin/users/sign-out-everywhere")]
pub async fn sign_out_everywhere(username: String) -> Result<u64, AppError> {
    use crate::server::{authed, services};
    use healipro_core::rbac::Permission;
    let (session, mut tx) = authed(Permission::UsersManage).await?;
    let n = services()?
        .auth
        .sign_out_everywhere(&mut tx, &username)
        .await?;
    crate::server::commit_audited(
        tx,
        &session,
        healipro_core::audit::Action::UserChanged,
        "user",
        username.clone(),
        Some(serde_json::json!({ "change": "signed out everywhere", "sessions": n })),
    )
    .await?;
    Ok(n)
}

/// A row of the users page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDto {
    pub id: String,
    pub username: String,
    pub display_name: String,
    /// Built-in role names (`doctor`) and custom role ids (`role:<uuid>`).
    pub roles: Vec<String>,
    /// The same, readable ("Doctor", "Ward supervisor").
    pub role_labels: Vec<String>,
    pub active: bool,
    pub totp_enrolled: bool,
    pub must_change_password: bool,
    pub last_login: String,
    /// "locked 12 min", "3 failed sign-ins" or "".
    pub lock_state: String,
}

/// A role as the console shows it: a built-in one (read-only) or a custom one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDto {
    /// `doctor` for built-in roles, `role:<uuid>` for custom ones.
    pub key: String,
    pub name: String,
    pub builtin: bool,
    /// Permission names.
    pub permissions: Vec<String>,
    pub holders: Vec<String>,
}

/// Everything the roles page and the role pickers need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolesDto {
    /// Custom roles can be created (hospital tier).
    pub custom_allowed: bool,
    pub roles: Vec<RoleDto>,
    /// Every permission: (name, label).
    pub permissions: Vec<(String, String)>,
}

#[server(prefix = "/api", endpoint = "admin/users/list")]
pub async fn list_users() -> Result<Vec<UserDto>, AppError> {
    use crate::server::authed;
    use healipro_core::auth::users;
    use healipro_core::rbac::Permission;
    let (session, mut tx) = authed(Permission::UsersManage).await?;
    let list = users::list(&mut tx, &session).await?;
    tx.commit().await?;
    Ok(list
        .into_iter()
        .map(|u| {
            let mut roles: Vec<String> = u.roles.iter().map(|r| r.as_str().to_owned()).collect();
            let mut role_labels: Vec<String> =
                u.roles.iter().map(|r| r.label().to_owned()).collect();
            for (id, name) in u.custom_roles {
                roles.push(format!("role:{id}"));
                role_labels.push(name);
            }
            let lock_state = match (u.locked_minutes, u.failures) {
                (Some(m), _) => format!("locked {m} min"),
                (None, n) if n > 0 => format!("{n} failed sign-in(s)"),
                _ => String::new(),
            };
            UserDto {
                id: u.id.to_string(),
                username: u.username,
                display_name: u.display_name,
                roles,
                role_labels,
                active: u.active,
                totp_enrolled: u.totp_enrolled,
                must_change_password: u.must_change_password,
                last_login: u
                    .last_login_at
                    .map(|t| t.format("%d %b %Y %H:%M UTC").to_string())
                    .unwrap_or_else(|| "never".to_owned()),
                lock_state,
            }
        })
        .collect())
}

/// Creates a user; returns the one-time password to hand over (changed at
/// the first sign-in).
#[server(prefix = "/api", endpoint = "admin/users/create")]
pub async fn create_user(
    username: String,
    display_name: String,
    roles: String,
) -> Result<String, AppError> {
    use crate::server::{authed, services};
    use healipro_core::auth::users::{NewUserInput, RoleAssignment};
    use healipro_core::rbac::Permission;
    let (session, mut tx) = authed(Permission::UsersManage).await?;
    let (username_for_log, roles_for_log) = (username.clone(), roles.clone());
    let input = NewUserInput {
        username,
        display_name,
        roles: RoleAssignment::parse(&roles)?,
    };
    let (created, temporary) = services()?
        .auth
        .create_user(&mut tx, &session, &input)
        .await?;
    crate::server::commit_audited(
        tx,
        &session,
        healipro_core::audit::Action::UserCreated,
        "user",
        created.to_string(),
        Some(serde_json::json!({ "username": username_for_log, "roles": roles_for_log })),
    )
    .await?;
    Ok(temporary)
}

#[server(prefix = "/api", endpoint = "admin/users/set-roles")]
pub async fn set_user_roles(id: String, roles: String) -> Result<(), AppError> {
    use crate::server::authed;
    use healipro_core::auth::users::{self, RoleAssignment};
    use healipro_core::{ids::UserId, rbac::Permission, Error};
    let (session, mut tx) = authed(Permission::UsersManage).await?;
    let id: UserId = id.parse().map_err(|_| Error::NotFound)?;
    users::set_roles(&mut tx, &session, id, &RoleAssignment::parse(&roles)?).await?;
    crate::server::commit_audited(
        tx,
        &session,
        healipro_core::audit::Action::UserChanged,
        "user",
        id.to_string(),
        Some(serde_json::json!({ "change": "roles", "roles": roles })),
    )
    .await?;
    Ok(())
}

/// Disables (`active` = "false"; the user's sessions end at once) or enables a user.
#[server(prefix = "/api", endpoint = "admin/users/set-active")]
pub async fn set_user_active(id: String, active: String) -> Result<(), AppError> {
    use crate::server::authed;
    use healipro_core::auth::users;
    use healipro_core::{ids::UserId, rbac::Permission, Error};
    let (session, mut tx) = authed(Permission::UsersManage).await?;
    let id: UserId = id.parse().map_err(|_| Error::NotFound)?;
    let active = match active.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(Error::validation("active", "must be true or false").into()),
    };
    users::set_active(&mut tx, &session, id, active).await?;
    crate::server::commit_audited(
        tx,
        &session,
        healipro_core::audit::Action::UserChanged,
        "user",
        id.to_string(),
        Some(serde_json::json!({ "change": if active { "enabled" } else { "disabled" } })),
    )
    .await?;
    Ok(())
}

/// Removes a user's TOTP secret (lost phone): they enrol again at the next sign-in.
#[server(prefix = "/api", endpoint = "admin/users/reset-second-factor")]
pub async fn reset_second_factor(id: String) -> Result<(), AppError> {
    use crate::server::authed;
    use healipro_core::auth::users;
    use healipro_core::{ids::UserId, rbac::Permission, Error};
    let (session, mut tx) = authed(Permission::UsersManage).await?;
    let id: UserId = id.parse().map_err(|_| Error::NotFound)?;
    users::reset_second_factor(&mut tx, &session, id).await?;
    crate::server::commit_audited(
        tx,
        &session,
        healipro_core::audit::Action::SecondFactorReset,
        "user",
        id.to_string(),
        None,
    )
    .await?;
    Ok(())
}

/// Built-in and custom roles, and the permission list (roles page, matrix, pickers).
#[server(prefix = "/api", endpoint = "admin/roles/list")]
pub async fn list_roles() -> Result<RolesDto, AppError> {
    use crate::server::authed;
    use healipro_core::auth::users::{self, Tier};
    use healipro_core::rbac::{self, Permission};
    let (session, mut tx) = authed(Permission::RolesManage).await?;
    let custom = users::list_roles(&mut tx, &session).await?;
    let tier = users::tier(&mut tx).await?;
    let holders = users::builtin_role_holders(&mut tx).await?;
    tx.commit().await?;
    let mut roles: Vec<RoleDto> = rbac::BUILTIN_ROLES
        .iter()
        .map(|(role, perms)| RoleDto {
            key: role.as_str().to_owned(),
            name: role.label().to_owned(),
            builtin: true,
            permissions: perms.iter().map(|p| p.as_str().to_owned()).collect(),
            holders: holders
                .iter()
                .filter(|(r, _)| r == role.as_str())
                .map(|(_, u)| u.clone())
                .collect(),
        })
        .collect();
    roles.extend(custom.into_iter().map(|r| RoleDto {
        key: format!("role:{}", r.id),
        name: r.name,
        builtin: false,
        permissions: r.permissions.names(),
        holders: r.holders,
    }));
    Ok(RolesDto {
        custom_allowed: tier == Tier::Hospital,
        roles,
        permissions: Permission::ALL
            .iter()
            .map(|p| (p.as_str().to_owned(), p.label().to_owned()))
            .collect(),
    })
}

/// Creates (empty `id`) or edits a custom role; `permissions` is a
/// comma-separated list of permission names. Hospital tier only.
#[server(prefix = "/api", endpoint = "admin/roles/save")]
pub async fn save_role(id: String, name: String, permissions: String) -> Result<String, AppError> {
    use crate::server::authed;
    use healipro_core::auth::users;
    use healipro_core::rbac::{Permission, PermissionSet};
    use healipro_core::{ids::RoleId, Error};
    let (session, mut tx) = authed(Permission::RolesManage).await?;
    let id: Option<RoleId> = match id.trim() {
        "" => None,
        s => Some(s.parse().map_err(|_| Error::NotFound)?),
    };
    let mut set = PermissionSet::default();
    for name in permissions
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let p = Permission::parse(name).ok_or_else(|| {
            Error::validation("permissions", format!("unknown permission “{name}”"))
        })?;
        set.insert(p);
    }
    let saved = users::save_role(&mut tx, &session, id, &name, set).await?;
    crate::server::commit_audited(
        tx,
        &session,
        healipro_core::audit::Action::RoleChanged,
        "role",
        saved.to_string(),
        Some(serde_json::json!({ "change": "saved", "name": name, "permissions": permissions })),
    )
    .await?;
    Ok(saved.to_string())
}

/// Deletes a custom role nobody holds (otherwise the error names the holders).
#[server(prefix = "/api", endpoint = "admin/roles/delete")]
pub async fn delete_role(id: String) -> Result<(), AppError> {
    use crate::server::authed;
    use healipro_core::auth::users;
    use healipro_core::{ids::RoleId, rbac::Permission, Error};
    let (session, mut tx) = authed(Permission::RolesManage).await?;
    let id: RoleId = id.parse().map_err(|_| Error::NotFound)?;
    users::delete_role(&mut tx, &session, id).await?;
    crate::server::commit_audited(
        tx,
        &session,
        healipro_core::audit::Action::RoleChanged,
        "role",
        id.to_string(),
        Some(serde_json::json!({ "change": "deleted" })),
    )
    .await?;
    Ok(())
}
