//! The sign-in log: every password, TOTP, lock and sign-out event of a clinic,
//! in one table and through this one function, so the audit issue can route
//! them into the audit log in one place. No passwords, no codes, no PHI.

use crate::db::TenantTx;
use crate::ids::UserId;
use crate::Result;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    PasswordOk,
    PasswordFailed,
    Throttled,
    Locked,
    TotpOk,
    TotpFailed,
    RecoveryCodeUsed,
    TotpEnrolled,
    PasswordChanged,
    PasswordReset,
    SignedOut,
    SignedOutEverywhere,
    Unlocked,
    /// The idle timeout locked the screen (the session ends like a sign-out).
    ScreenLocked,
}

impl Outcome {
    /// The audit action a sign-in event is logged as (the outcome itself
    /// goes into the entry's details).
    pub fn audit_action(self) -> crate::audit::Action {
        use crate::audit::Action as A;
        match self {
            Outcome::PasswordOk | Outcome::TotpOk | Outcome::RecoveryCodeUsed => A::LoginSucceeded,
            Outcome::PasswordFailed | Outcome::TotpFailed | Outcome::Throttled => A::LoginFailed,
            Outcome::Locked => A::AccountLocked,
            Outcome::TotpEnrolled => A::SecondFactorEnrolled,
            Outcome::PasswordChanged | Outcome::PasswordReset | Outcome::Unlocked => A::UserChanged,
            Outcome::SignedOut | Outcome::SignedOutEverywhere | Outcome::ScreenLocked => {
                A::SignedOut
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::PasswordOk => "password_ok",
            Outcome::PasswordFailed => "password_failed",
            Outcome::Throttled => "throttled",
            Outcome::Locked => "locked",
            Outcome::TotpOk => "totp_ok",
            Outcome::TotpFailed => "totp_failed",
            Outcome::RecoveryCodeUsed => "recovery_code_used",
            Outcome::TotpEnrolled => "totp_enrolled",
            Outcome::PasswordChanged => "password_changed",
            Outcome::PasswordReset => "password_reset",
            Outcome::SignedOut => "signed_out",
            Outcome::SignedOutEverywhere => "signed_out_everywhere",
            Outcome::Unlocked => "unlocked",
            Outcome::ScreenLocked => "screen_locked",
        }
    }
}

/// Records one event in the tenant's sign-in log (same transaction as the
/// change it describes) and as a structured log line.
pub async fn record(
    tx: &mut TenantTx,
    username: &str,
    user: Option<UserId>,
    client_ip: Option<&str>,
    outcome: Outcome,
) -> Result<()> {
    let tenant = tx.tenant();
    let username: String = username.chars().take(64).collect();
    tracing::info!(%tenant, user = ?user.map(|u| u.to_string()), outcome = outcome.as_str(), "sign-in event");
    sqlx::query(
        "INSERT INTO clinic.login_events (tenant_id, username, user_id, client_ip, outcome)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant)
    .bind(&username)
    .bind(user)
    .bind(client_ip)
    .bind(outcome.as_str())
    .execute(tx.conn())
    .await?;
    let actor = crate::audit::Actor {
        user_id: user,
        username,
        ip: client_ip.unwrap_or_default().to_owned(),
        ..Default::default()
    };
    let details = serde_json::json!({ "outcome": outcome.as_str() });
    crate::audit::append(
        tx,
        &actor,
        outcome.audit_action(),
        &Default::default(),
        Some(&details),
    )
    .await?;
    Ok(())
}

/// One row of the sign-in log, for admins.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub at: chrono::DateTime<chrono::Utc>,
    pub username: String,
    pub client_ip: Option<String>,
    pub outcome: String,
}

pub async fn recent(tx: &mut TenantTx, limit: i64) -> Result<Vec<Event>> {
    let tenant = tx.tenant();
    let rows: Vec<(
        chrono::DateTime<chrono::Utc>,
        String,
        Option<String>,
        String,
    )> = sqlx::query_as(
        "SELECT at, username, client_ip, outcome FROM clinic.login_events
          WHERE tenant_id = $1 ORDER BY at DESC LIMIT $2",
    )
    .bind(tenant)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(at, username, client_ip, outcome)| Event {
            at,
            username,
            client_ip,
            outcome,
        })
        .collect())
}

/// Accounts locked now or throttled: (username, failures, minutes of lock left).
pub async fn locked_accounts(tx: &mut TenantTx) -> Result<Vec<(String, i32, Option<i64>)>> {
    let tenant = tx.tenant();
    Ok(sqlx::query_as(
        "SELECT username, failures,
                CASE WHEN locked_until > now()
                     THEN CEIL(EXTRACT(EPOCH FROM locked_until - now()) / 60)::bigint END
           FROM clinic.login_throttle
          WHERE tenant_id = $1 AND failures > 0
          ORDER BY locked_until DESC NULLS LAST, failures DESC
          LIMIT 200",
    )
    .bind(tenant)
    .fetch_all(tx.conn())
    .await?)
}

/// Records a refused permission check (same place as the sign-in log, for the
/// audit issue to route). The caller commits it and answers "not allowed".
pub async fn record_denial(
    tx: &mut TenantTx,
    session: &super::Session,
    permission: crate::rbac::Permission,
) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query(
        "INSERT INTO clinic.access_denials (tenant_id, user_id, session_id, permission)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(tenant)
    .bind(session.user_id)
    .bind(session.id)
    .bind(permission.as_str())
    .execute(tx.conn())
    .await?;
    let details = serde_json::json!({ "permission": permission.as_str() });
    crate::audit::append(
        tx,
        &crate::audit::Actor::of(session),
        crate::audit::Action::PermissionDenied,
        &Default::default(),
        Some(&details),
    )
    .await?;
    Ok(())
}

/// One refused permission check, for admins.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Denial {
    pub at: chrono::DateTime<chrono::Utc>,
    pub username: String,
    pub permission: String,
}

pub async fn recent_denials(tx: &mut TenantTx, limit: i64) -> Result<Vec<Denial>> {
    let tenant = tx.tenant();
    let rows: Vec<(chrono::DateTime<chrono::Utc>, String, String)> = sqlx::query_as(
        "SELECT d.at, u.username, d.permission
           FROM clinic.access_denials d
           JOIN clinic.users u ON u.tenant_id = d.tenant_id AND u.id = d.user_id
          WHERE d.tenant_id = $1 ORDER BY d.at DESC LIMIT $2",
    )
    .bind(tenant)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(at, username, permission)| Denial {
            at,
            username,
            permission,
        })
        .collect())
}
