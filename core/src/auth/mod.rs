//! Sign-in and sessions (minimal; the authentication issue hardens it with TOTP,
//! JWTs, throttling and workstations).
//!
//! The session cookie is `<tenant uuid>.<random token>`. Only the token's SHA-256
//! is stored, in `clinic.sessions` under row-level security: a request is
//! authenticated *inside* the tenant transaction that then serves it, so a cookie
//! naming another tenant simply finds no session there.

pub mod passwords;
mod repo;

use crate::db::{Db, TenantTx};
use crate::ids::{SessionId, TenantId, UserId};
use crate::rbac::{self, Permission, Role};
use crate::{tenants, Error, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use passwords::Passwords;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

pub use repo::NewUser;

/// The cookie name. `__Host-` binds it to this host, path `/`, Secure.
pub const SESSION_COOKIE: &str = "__Host-healipro_session";
/// Absolute session lifetime; the idle timeout ends it sooner.
pub const SESSION_MAX_HOURS: i64 = 12;
/// Default idle timeout until workstations configure their own.
pub const DEFAULT_IDLE_TIMEOUT_SECS: i32 = 30 * 60;

/// An authenticated user acting in one tenant. Holding one is the proof of login.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: SessionId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
}

impl Session {
    /// The first line of every server function: fails with `Forbidden` unless one
    /// of the user's roles grants `permission`.
    pub fn require(&self, permission: Permission) -> Result<()> {
        if rbac::allows(&self.roles, permission) {
            Ok(())
        } else {
            tracing::info!(user = %self.user_id, tenant = %self.tenant_id, ?permission, "permission denied");
            Err(Error::Forbidden)
        }
    }
}

/// The secret half of a session cookie. `Debug` never shows the token.
pub struct SessionToken {
    tenant: TenantId,
    token: SecretString,
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionToken({}, [REDACTED])", self.tenant)
    }
}

impl SessionToken {
    fn generate(tenant: TenantId) -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self {
            tenant,
            token: SecretString::from(URL_SAFE_NO_PAD.encode(bytes)),
        }
    }

    /// Parses a cookie value; `None` for anything malformed.
    pub fn parse(cookie_value: &str) -> Option<Self> {
        let (tenant, token) = cookie_value.split_once('.')?;
        let tenant = tenant.parse::<TenantId>().ok()?;
        let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
        (raw.len() == 32).then(|| Self {
            tenant,
            token: SecretString::from(token.to_owned()),
        })
    }

    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The cookie value. Goes only into `Set-Cookie`, never into a log.
    pub fn cookie_value(&self) -> String {
        format!("{}.{}", self.tenant, self.token.expose_secret())
    }

    fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.token.expose_secret().as_bytes()).to_vec()
    }
}

/// What a login attempt supplies.
pub struct Credentials {
    pub clinic_code: String,
    pub username: String,
    pub password: SecretString,
}

/// One message for every failed login, so it reveals neither which clinics nor
/// which usernames exist.
pub const LOGIN_FAILED: &str = "Clinic code, username or password is not right.";

/// Signs in: resolves the clinic, verifies the password (same work whether or not
/// the user exists), and creates a server-side session.
#[tracing::instrument(skip_all)]
pub async fn login(
    db: &Db,
    passwords: &Passwords,
    creds: &Credentials,
) -> Result<(Session, SessionToken)> {
    let code = tenants::normalize_code(&creds.clinic_code);
    let username = creds.username.trim().to_ascii_lowercase();
    let tenant = match &code {
        Ok(code) => {
            let mut ptx = db.platform_tx().await?;
            let t = tenants::repo::find_by_code(&mut ptx, code).await?;
            ptx.commit().await?;
            t
        }
        Err(_) => None,
    };
    let Some(tenant) = tenant else {
        passwords.verify(&creds.password, None).await?;
        return Err(Error::validation("password", LOGIN_FAILED));
    };

    let mut tx = db.tenant_tx_for(tenant.id).await?;
    let user = repo::find_user_by_username(&mut tx, &username).await?;
    let stored = user
        .as_ref()
        .filter(|u| u.active)
        .map(|u| u.password_hash.clone());
    if !passwords.verify(&creds.password, stored).await? {
        tracing::info!(tenant = %tenant.id, "login failed");
        return Err(Error::validation("password", LOGIN_FAILED));
    }
    let user = user.ok_or_else(|| Error::Internal("verified a missing user".into()))?;
    let token = SessionToken::generate(tenant.id);
    let session_id = repo::insert_session(
        &mut tx,
        user.id,
        &token.hash(),
        DEFAULT_IDLE_TIMEOUT_SECS,
        SESSION_MAX_HOURS,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(tenant = %tenant.id, user = %user.id, "login succeeded");
    let session = Session {
        id: session_id,
        tenant_id: tenant.id,
        user_id: user.id,
        username: user.username,
        display_name: user.display_name,
        roles: user.roles,
    };
    Ok((session, token))
}

/// Authenticates a request inside the tenant transaction that will serve it.
/// Fails with `Unauthenticated` for an unknown, revoked, idle-expired or expired
/// session, or a disabled user.
pub async fn authenticate(tx: &mut TenantTx, token: &SessionToken) -> Result<Session> {
    if tx.tenant() != token.tenant {
        return Err(Error::Unauthenticated);
    }
    let row = repo::find_live_session(tx, &token.hash())
        .await?
        .ok_or(Error::Unauthenticated)?;
    if row.touch_due {
        repo::touch_session(tx, row.session.id).await?;
    }
    Ok(row.session)
}

/// Opens the tenant transaction for a request and authenticates it in one go.
pub async fn begin_authenticated(db: &Db, token: &SessionToken) -> Result<(Session, TenantTx)> {
    let mut tx = db.tenant_tx_for(token.tenant).await?;
    let session = authenticate(&mut tx, token).await?;
    Ok((session, tx))
}

/// The clinic's display name, for the page header.
pub async fn clinic_name(tx: &mut TenantTx) -> Result<String> {
    repo::tenant_name(tx).await
}

/// Revokes the session named by the cookie (idempotent).
pub async fn logout(db: &Db, token: &SessionToken) -> Result<()> {
    let mut tx = db.tenant_tx_for(token.tenant).await?;
    repo::revoke_session(&mut tx, &token.hash()).await?;
    tx.commit().await
}

/// Creates or updates a user (operator CLI and demo seed).
pub async fn upsert_user(
    tx: &mut TenantTx,
    passwords: &Passwords,
    user: &NewUser,
    password: &SecretString,
) -> Result<UserId> {
    let hash = passwords.hash(password).await?;
    repo::upsert_user(tx, user, &hash).await
}

pub async fn user_exists(tx: &mut TenantTx, username: &str) -> Result<bool> {
    Ok(repo::find_user_by_username(tx, username).await?.is_some())
}
