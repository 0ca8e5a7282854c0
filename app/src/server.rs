//! Server-side request context for server functions (ssr only): the services
//! the server provides, the cookies, and `authed()`, which verifies the session
//! token, opens the request's tenant transaction and loads the session in it.

use crate::error::AppError;
use healipro_core::auth::workstations::WORKSTATION_COOKIE;
use healipro_core::auth::{events, Auth, ClientInfo, Session, Stage, SESSION_COOKIE};
use healipro_core::db::{Db, TenantTx};
use healipro_core::rbac::Permission;
use healipro_core::Error;
use leptos::prelude::*;
use secrecy::{ExposeSecret, SecretString};

/// What the server hands every request (provided as Leptos context).
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub auth: Auth,
    /// The audit signing key (checkpoints and exports), when configured.
    pub audit_signer: Option<std::sync::Arc<healipro_core::audit::signing::AuditSigner>>,
}

pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| Error::Internal("services not provided".into()).into())
}

fn cookie(name: &str) -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The session token (a JWT) from the request's cookie, if any.
pub fn session_token() -> Option<String> {
    cookie(SESSION_COOKIE).filter(|v| !v.is_empty())
}

/// The client address (for throttling) and workstation binding of the request.
pub fn client_info() -> ClientInfo {
    let ip = use_context::<http::request::Parts>().and_then(|p| {
        p.extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
    });
    ClientInfo {
        ip,
        workstation_cookie: cookie(WORKSTATION_COOKIE),
    }
}

/// Authenticates the request at any sign-in stage (only the sign-in steps
/// themselves use this; they check the stage they serve).
pub async fn authed_any_stage() -> Result<(Session, TenantTx), AppError> {
    let token = session_token().ok_or_else(|| AppError::from(Error::Unauthenticated))?;
    let services = services()?;
    let authed = services
        .auth
        .begin_authenticated(&services.db, &token)
        .await?;
    if let Some(renewed) = &authed.renewed_token {
        set_session_cookie(Some(renewed));
    }
    let mut session = authed.session;
    session.client_ip = client_info().ip_text().unwrap_or_default();
    Ok((session, authed.tx))
}

/// Appends the audit entry of an administrative action and commits: the
/// entry and the change land together or not at all.
pub async fn commit_audited(
    mut tx: TenantTx,
    session: &Session,
    action: healipro_core::audit::Action,
    object_type: &'static str,
    object_id: String,
    details: Option<serde_json::Value>,
) -> Result<(), AppError> {
    use healipro_core::audit::{self, Actor, Subject};
    let subject = Subject {
        patient: None,
        object_type,
        object_id,
    };
    audit::append(
        &mut tx,
        &Actor::of(session),
        action,
        &subject,
        details.as_ref(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The first line of every server function that touches clinic data:
/// authenticates a fully signed-in session that holds `permission` and
/// returns it with the tenant transaction that will serve the request (one
/// transaction, one tenant). A session still owing its second factor or a
/// password change is refused; so is a user none of whose roles grants
/// `permission` — that refusal is recorded (`clinic.access_denials`) and
/// answered 403 "not allowed". There is no way to get the transaction
/// without naming a permission, except [`authed_any_role`].
pub async fn authed(permission: Permission) -> Result<(Session, TenantTx), AppError> {
    let (session, mut tx) = authed_any_role().await?;
    if let Err(denied) = session.require(permission) {
        events::record_denial(&mut tx, &session, permission).await?;
        tx.commit().await?;
        return Err(denied.into());
    }
    Ok((session, tx))
}

/// A fully signed-in session, no permission: for the few functions every
/// signed-in user may call whatever their roles (keep-alive), and the first
/// half of [`authed`].
pub async fn authed_any_role() -> Result<(Session, TenantTx), AppError> {
    let (session, tx) = authed_any_stage().await?;
    if session.stage != Stage::Full {
        return Err(Error::SignInIncomplete(session.stage).into());
    }
    Ok((session, tx))
}

/// Marks a server function that deliberately runs before sign-in (login,
/// logout, "who am I"). Every other server function starts with `authed`.
pub fn allow_unauthenticated() {}

/// `Set-Cookie` for a session token, or to clear it (`None`). `__Host-` +
/// Secure + HttpOnly + SameSite=Strict.
pub fn set_session_cookie(token: Option<&SecretString>) {
    let value = match token {
        Some(t) => format!("{SESSION_COOKIE}={}; {COOKIE_ATTRS}", t.expose_secret()),
        None => format!("{SESSION_COOKIE}=; Max-Age=0; {COOKIE_ATTRS}"),
    };
    append_set_cookie(&value);
}

/// `Set-Cookie` binding this browser to a workstation (400 days, the longest
/// browsers keep a cookie).
pub fn set_workstation_cookie(value: &str) {
    append_set_cookie(&format!(
        "{WORKSTATION_COOKIE}={value}; Max-Age=34560000; {COOKIE_ATTRS}"
    ));
}

const COOKIE_ATTRS: &str = "Path=/; Secure; HttpOnly; SameSite=Strict";

fn append_set_cookie(value: &str) {
    if let (Some(resp), Ok(v)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(value),
    ) {
        resp.append_header(http::header::SET_COOKIE, v);
    }
}
