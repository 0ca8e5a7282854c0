//! Server-side request context for server functions (ssr only): the services
//! the server provides, the session cookie, and `authed()`, which opens the
//! request's tenant transaction and authenticates the session inside it.

use crate::error::AppError;
use healipro_core::auth::{self, passwords::Passwords, Session, SessionToken, SESSION_COOKIE};
use healipro_core::db::{Db, TenantTx};
use leptos::prelude::*;

/// What the server hands every request (provided as Leptos context).
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub passwords: Passwords,
}

pub fn services() -> Result<Services, AppError> {
    use_context::<Services>()
        .ok_or_else(|| healipro_core::Error::Internal("services not provided".into()).into())
}

/// The session token from the request's cookie, if any.
pub fn session_token() -> Option<SessionToken> {
    let parts = use_context::<http::request::Parts>()?;
    parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .and_then(|(_, v)| SessionToken::parse(v))
}

/// Authenticates the request and returns its session with the tenant
/// transaction that will serve it (one transaction, one tenant).
pub async fn authed() -> Result<(Session, TenantTx), AppError> {
    let token =
        session_token().ok_or_else(|| AppError::from(healipro_core::Error::Unauthenticated))?;
    let services = services()?;
    Ok(auth::begin_authenticated(&services.db, &token).await?)
}

/// Marks a server function that deliberately runs before sign-in (login,
/// logout, "who am I"). Every other server function calls `session.require`.
pub fn allow_unauthenticated() {}

/// `Set-Cookie` for a new session, or to clear it (`None`). `__Host-` + Secure +
/// HttpOnly + SameSite=Strict (browsers accept Secure cookies on loopback HTTP,
/// so development needs no weaker variant).
pub fn set_session_cookie(token: Option<&SessionToken>) {
    const ATTRS: &str = "Path=/; Secure; HttpOnly; SameSite=Strict";
    let value = match token {
        Some(t) => format!("{SESSION_COOKIE}={}; {ATTRS}", t.cookie_value()),
        None => format!("{SESSION_COOKIE}=; Max-Age=0; {ATTRS}"),
    };
    if let (Some(resp), Ok(v)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&value),
    ) {
        resp.append_header(http::header::SET_COOKIE, v);
    }
}
