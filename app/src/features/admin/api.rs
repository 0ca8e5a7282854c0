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
}

#[server(prefix = "/api", endpoint = "admin/workstations/list")]
pub async fn list_workstations() -> Result<Vec<WorkstationDto>, AppError> {
    use crate::server::authed;
    use healipro_core::{auth::workstations, rbac::Permission};
    let (session, mut tx) = authed().await?;
    session.require(Permission::WorkstationsManage)?;
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
    let (session, mut tx) = authed().await?;
    session.require(Permission::WorkstationsManage)?;
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
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "admin/workstations/delete")]
pub async fn delete_workstation(id: String) -> Result<(), AppError> {
    use crate::server::authed;
    use healipro_core::{auth::workstations, ids::WorkstationId, rbac::Permission, Error};
    let (session, mut tx) = authed().await?;
    session.require(Permission::WorkstationsManage)?;
    let id: WorkstationId = id.parse().map_err(|_| Error::NotFound)?;
    workstations::delete(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}

/// Binds the calling browser to the workstation (a long-lived cookie); its
/// idle timeout applies from the next sign-in.
#[server(prefix = "/api", endpoint = "admin/workstations/bind")]
pub async fn bind_workstation(id: String) -> Result<(), AppError> {
    use crate::server::{authed, set_workstation_cookie};
    use healipro_core::{auth::workstations, ids::WorkstationId, rbac::Permission, Error};
    let (session, mut tx) = authed().await?;
    session.require(Permission::WorkstationsManage)?;
    let id: WorkstationId = id.parse().map_err(|_| Error::NotFound)?;
    let cookie = workstations::bind(&mut tx, id).await?;
    tx.commit().await?;
    set_workstation_cookie(&cookie);
    Ok(())
}

#[server(prefix = "/api", endpoint = "admin/settings/get")]
pub async fn get_settings() -> Result<SettingsDto, AppError> {
    use crate::server::authed;
    use healipro_core::{auth::workstations, rbac::Permission};
    let (session, mut tx) = authed().await?;
    session.require(Permission::SettingsManage)?;
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
    let (session, mut tx) = authed().await?;
    session.require(Permission::SettingsManage)?;
    let settings = Settings {
        totp_all_roles: totp_all_roles.is_some_and(|v| v == "on" || v == "true"),
        max_idle_secs: max_idle_minutes.saturating_mul(60),
        default_idle_secs: default_idle_minutes.saturating_mul(60),
    };
    workstations::update_settings(&mut tx, &settings).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "admin/security/overview")]
pub async fn security_overview() -> Result<SecurityDto, AppError> {
    use crate::server::authed;
    use healipro_core::{auth::events, rbac::Permission};
    let (session, mut tx) = authed().await?;
    session.require(Permission::UsersManage)?;
    let throttled = events::locked_accounts(&mut tx).await?;
    let recent = events::recent(&mut tx, 50).await?;
    tx.commit().await?;
    Ok(SecurityDto {
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
    let (session, mut tx) = authed().await?;
    session.require(Permission::UsersManage)?;
    services()?.auth.unlock(&mut tx, &username).await?;
    tx.commit().await?;
    Ok(())
}

/// Resets a user's password; returns the one-time password to hand over.
#[server(prefix = "/api", endpoint = "admin/users/reset-password")]
pub async fn reset_password(username: String) -> Result<String, AppError> {
    use crate::server::{authed, services};
    use healipro_core::rbac::Permission;
    let (session, mut tx) = authed().await?;
    session.require(Permission::UsersManage)?;
    let temporary = services()?
        .auth
        .admin_reset_password(&mut tx, &username)
        .await?;
    tx.commit().await?;
    Ok(temporary)
}

/// Ends every session of a user at once; returns how many.
#[server(prefix = "/api", endpoint = "admin/users/sign-out-everywhere")]
pub async fn sign_out_everywhere(username: String) -> Result<u64, AppError> {
    use crate::server::{authed, services};
    use healipro_core::rbac::Permission;
    let (session, mut tx) = authed().await?;
    session.require(Permission::UsersManage)?;
    let n = services()?
        .auth
        .sign_out_everywhere(&mut tx, &username)
        .await?;
    tx.commit().await?;
    Ok(n)
}
