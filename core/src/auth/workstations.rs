//! Workstations (named devices with their own idle timeout, bound to a browser
//! by a cookie) and the clinic's security settings.

use crate::crypto::random_bytes;
use crate::db::TenantTx;
use crate::ids::{TenantId, WorkstationId};
use crate::{Error, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The binding cookie: `<tenant>.<workstation>.<secret>`. Long-lived, HttpOnly.
pub const WORKSTATION_COOKIE: &str = "__Host-healipro_ws";
pub const MIN_IDLE_SECS: i32 = 60;
pub const LIMIT_IDLE_SECS: i32 = 12 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub totp_all_roles: bool,
    pub max_idle_secs: i32,
    pub default_idle_secs: i32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            totp_all_roles: false,
            max_idle_secs: 1800,
            default_idle_secs: 900,
        }
    }
}

pub async fn settings(tx: &mut TenantTx) -> Result<Settings> {
    let tenant = tx.tenant();
    let row: Option<(bool, i32, i32)> = sqlx::query_as(
        "SELECT totp_all_roles, max_idle_secs, default_idle_secs
           FROM clinic.tenant_settings WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map_or_else(Settings::default, |(a, m, d)| Settings {
        totp_all_roles: a,
        max_idle_secs: m,
        default_idle_secs: d,
    }))
}

fn check_idle(field: &'static str, secs: i32) -> Result<()> {
    if (MIN_IDLE_SECS..=LIMIT_IDLE_SECS).contains(&secs) {
        Ok(())
    } else {
        Err(Error::validation(
            field,
            "The idle timeout must be between 1 minute and 12 hours.",
        ))
    }
}

/// Saves the settings; lowering the maximum shortens longer workstation timeouts.
pub async fn update_settings(tx: &mut TenantTx, s: &Settings) -> Result<()> {
    check_idle("max_idle_secs", s.max_idle_secs)?;
    check_idle("default_idle_secs", s.default_idle_secs)?;
    if s.default_idle_secs > s.max_idle_secs {
        return Err(Error::validation(
            "default_idle_secs",
            "The default idle timeout cannot be longer than the maximum.",
        ));
    }
    let tenant = tx.tenant();
    sqlx::query(
        "INSERT INTO clinic.tenant_settings (tenant_id, totp_all_roles, max_idle_secs, default_idle_secs)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id) DO UPDATE
            SET totp_all_roles = EXCLUDED.totp_all_roles,
                max_idle_secs = EXCLUDED.max_idle_secs,
                default_idle_secs = EXCLUDED.default_idle_secs,
                updated_at = now()",
    )
    .bind(tenant)
    .bind(s.totp_all_roles)
    .bind(s.max_idle_secs)
    .bind(s.default_idle_secs)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE clinic.workstations SET idle_timeout_secs = $2
          WHERE tenant_id = $1 AND idle_timeout_secs > $2",
    )
    .bind(tenant)
    .bind(s.max_idle_secs)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workstation {
    pub id: WorkstationId,
    pub name: String,
    pub location: String,
    pub idle_timeout_secs: i32,
    pub bound: bool,
}

#[derive(Debug, Clone)]
pub struct WorkstationInput {
    pub name: String,
    pub location: String,
    pub idle_timeout_secs: i32,
}

async fn validate(tx: &mut TenantTx, input: &WorkstationInput) -> Result<()> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::validation(
            "name",
            "Give the workstation a name (up to 100 characters), e.g. \"Room 3 tablet\".",
        ));
    }
    if input.location.chars().count() > 200 {
        return Err(Error::validation(
            "location",
            "The location is too long (200 characters at most).",
        ));
    }
    check_idle("idle_timeout_secs", input.idle_timeout_secs)?;
    let max = settings(tx).await?.max_idle_secs;
    if input.idle_timeout_secs > max {
        return Err(Error::validation(
            "idle_timeout_secs",
            format!(
                "This clinic allows at most {} minutes of idle time.",
                max / 60
            ),
        ));
    }
    Ok(())
}

fn name_conflict(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
            Error::Conflict("A workstation with this name already exists.".into())
        }
        _ => Error::Database(e),
    }
}

pub async fn list(tx: &mut TenantTx) -> Result<Vec<Workstation>> {
    let tenant = tx.tenant();
    let rows: Vec<(WorkstationId, String, String, i32, bool)> = sqlx::query_as(
        "SELECT id, name, location, idle_timeout_secs, bind_token_hash IS NOT NULL
           FROM clinic.workstations WHERE tenant_id = $1 ORDER BY name",
    )
    .bind(tenant)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, location, idle_timeout_secs, bound)| Workstation {
                id,
                name,
                location,
                idle_timeout_secs,
                bound,
            },
        )
        .collect())
}

pub async fn create(tx: &mut TenantTx, input: &WorkstationInput) -> Result<WorkstationId> {
    validate(tx, input).await?;
    let tenant = tx.tenant();
    sqlx::query_scalar(
        "INSERT INTO clinic.workstations (tenant_id, name, location, idle_timeout_secs)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(tenant)
    .bind(input.name.trim())
    .bind(input.location.trim())
    .bind(input.idle_timeout_secs)
    .fetch_one(tx.conn())
    .await
    .map_err(name_conflict)
}

pub async fn update(tx: &mut TenantTx, id: WorkstationId, input: &WorkstationInput) -> Result<()> {
    validate(tx, input).await?;
    let tenant = tx.tenant();
    let n = sqlx::query(
        "UPDATE clinic.workstations SET name = $3, location = $4, idle_timeout_secs = $5
          WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(input.name.trim())
    .bind(input.location.trim())
    .bind(input.idle_timeout_secs)
    .execute(tx.conn())
    .await
    .map_err(name_conflict)?
    .rows_affected();
    if n == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

pub async fn delete(tx: &mut TenantTx, id: WorkstationId) -> Result<()> {
    let tenant = tx.tenant();
    let n = sqlx::query("DELETE FROM clinic.workstations WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected();
    if n == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// Binds the calling browser to a workstation: returns the cookie value. A
/// browser bound earlier to the same workstation loses the binding.
pub async fn bind(tx: &mut TenantTx, id: WorkstationId) -> Result<String> {
    let secret = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    let tenant = tx.tenant();
    let n = sqlx::query(
        "UPDATE clinic.workstations SET bind_token_hash = $3 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(Sha256::digest(secret.as_bytes()).to_vec())
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n == 0 {
        return Err(Error::NotFound);
    }
    Ok(format!("{tenant}.{id}.{secret}"))
}

/// The tenant a binding cookie belongs to (the login page pre-fills its code).
pub fn cookie_tenant(cookie: &str) -> Option<TenantId> {
    cookie.split('.').next()?.parse().ok()
}

/// Resolves a binding cookie inside its tenant: (workstation, its idle timeout).
pub async fn resolve(
    tx: &mut TenantTx,
    cookie: &str,
) -> Result<Option<(WorkstationId, String, i32)>> {
    let mut parts = cookie.splitn(3, '.');
    let (Some(tenant), Some(id), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
        return Ok(None);
    };
    let (Ok(tenant), Ok(id)) = (tenant.parse::<TenantId>(), id.parse::<WorkstationId>()) else {
        return Ok(None);
    };
    if tenant != tx.tenant() {
        return Ok(None);
    }
    Ok(sqlx::query_as(
        "SELECT id, name, idle_timeout_secs FROM clinic.workstations
          WHERE tenant_id = $1 AND id = $2 AND bind_token_hash = $3",
    )
    .bind(tenant)
    .bind(id)
    .bind(Sha256::digest(secret.as_bytes()).to_vec())
    .fetch_optional(tx.conn())
    .await?)
}
