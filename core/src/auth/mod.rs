//! Sign-in, second factor, sessions (DESIGN §7).
//!
//! A session is a row in `clinic.sessions` (user, workstation, idle timeout,
//! second-factor time, revocation) named by a short-lived RS256 JWT in a
//! `__Host-` cookie. Every request verifies the JWT, then loads the row *inside*
//! the tenant transaction that serves the request: a token naming another
//! tenant finds nothing, a revoked or idle session is refused at once, and the
//! JWT is re-issued whenever `last_seen_at` moves (its expiry is the idle
//! timeout, so a stolen cookie dies with the session's idleness).

pub mod events;
pub mod jwt;
pub mod passwords;
pub mod policy;
mod repo;
pub mod throttle;
pub mod totp;
pub mod users;
pub mod workstations;

use crate::crypto::{Field, MasterKeys};
use crate::db::{Db, TenantTx};
use crate::ids::{SessionId, TenantId, UserId, WorkstationId};
use crate::rbac::{Permission, PermissionSet, Role};
use crate::{tenants, Error, Result};
use events::Outcome;
use jwt::{Claims, KeyRing};
use passwords::Passwords;
use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use throttle::{IpThrottle, Verdict};

pub use repo::NewUser;

/// The session cookie (holds the JWT). `__Host-`: this host, path `/`, Secure.
pub const SESSION_COOKIE: &str = "__Host-healipro_session";
/// Absolute session lifetime; the idle timeout ends it sooner.
pub const SESSION_MAX_HOURS: i64 = 12;
/// `last_seen_at` (and the JWT) are refreshed at most this often.
pub const TOUCH_AFTER_SECS: i32 = 15;

/// Where a session stands in the sign-in sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Stage {
    /// Password accepted; a TOTP or recovery code is due.
    Totp,
    /// Password accepted; TOTP is mandatory and not set up yet.
    TotpEnrolment,
    /// An admin reset the password: choose a new one first.
    PasswordChange,
    /// Fully signed in.
    Full,
}

impl Stage {
    fn of(totp_required: bool, enrolled: bool, verified: bool, must_change: bool) -> Self {
        if (totp_required || enrolled) && !verified {
            if enrolled {
                Stage::Totp
            } else {
                Stage::TotpEnrolment
            }
        } else if must_change {
            Stage::PasswordChange
        } else {
            Stage::Full
        }
    }

    /// The page that completes this stage.
    pub fn path(self) -> &'static str {
        match self {
            Stage::Totp => "/signin/code",
            Stage::TotpEnrolment => "/signin/enrol",
            Stage::PasswordChange => "/account/password",
            Stage::Full => "/patients",
        }
    }
}

/// An authenticated user acting in one tenant. Holding one is the proof of login.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: SessionId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    /// Built-in roles.
    pub roles: Vec<Role>,
    /// Names of the custom roles the user holds (hospital tier).
    pub custom_roles: Vec<String>,
    /// The union of every role's permissions, read with the session on each
    /// request: a role taken away applies to the very next request.
    pub permissions: PermissionSet,
    pub stage: Stage,
    pub workstation: Option<WorkstationId>,
    pub idle_timeout_secs: i32,
    /// The address the current request came from (set by the web layer; for
    /// the audit log), empty when unknown.
    pub client_ip: String,
}

impl Session {
    /// The first line of every server function: fails unless the session is
    /// fully signed in and one of the user's roles grants `permission`.
    pub fn require(&self, permission: Permission) -> Result<()> {
        if self.stage != Stage::Full {
            return Err(Error::SignInIncomplete(self.stage));
        }
        if self.permissions.contains(permission) {
            Ok(())
        } else {
            tracing::info!(user = %self.user_id, tenant = %self.tenant_id, ?permission, "permission denied");
            Err(Error::Forbidden)
        }
    }

    /// For the sign-in steps themselves: the session must be at `stage`.
    pub fn require_stage(&self, stages: &[Stage]) -> Result<()> {
        if stages.contains(&self.stage) {
            Ok(())
        } else if self.stage == Stage::Full {
            Err(Error::Conflict("You are already signed in.".into()))
        } else {
            Err(Error::SignInIncomplete(self.stage))
        }
    }
}

/// What a login attempt supplies.
pub struct Credentials {
    pub clinic_code: String,
    pub username: String,
    pub password: SecretString,
}

/// Where a request comes from (for throttling, the sign-in log and workstations).
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<IpAddr>,
    /// The workstation binding cookie, if the browser has one.
    pub workstation_cookie: Option<String>,
}

impl ClientInfo {
    pub fn ip_text(&self) -> Option<String> {
        self.ip.map(|ip| ip.to_string())
    }
}

/// One message for every failed login, so it reveals neither which clinics nor
/// which usernames exist.
pub const LOGIN_FAILED: &str = "Clinic code, username or password is not right.";
pub const CODE_FAILED: &str =
    "That code is not right or was already used. Wait for the next code and try again.";

/// A freshly signed-in session and its cookie value (a JWT).
#[derive(Debug)]
pub struct SignedIn {
    pub session: Session,
    pub token: SecretString,
}

/// A request's session, its tenant transaction, and a renewed token to send
/// back when the old one was refreshed.
pub struct Authenticated {
    pub session: Session,
    pub tx: TenantTx,
    pub renewed_token: Option<SecretString>,
}

/// Authentication services: password hashing, the JWT key ring, the server key
/// and the per-IP throttle. Cheap to clone.
#[derive(Clone)]
pub struct Auth {
    inner: Arc<Inner>,
}

struct Inner {
    passwords: Passwords,
    keys: Arc<KeyRing>,
    ip_throttle: IpThrottle,
}

/// Usernames as typed are normalised like stored ones (and bounded).
fn normalize_username(raw: &str) -> String {
    raw.trim().to_ascii_lowercase().chars().take(64).collect()
}

impl Auth {
    /// Loads (or on first start creates) the JWT key ring.
    pub async fn new(db: &Db, master: MasterKeys, key_refresh: Duration) -> Result<Self> {
        let keys = KeyRing::load(db.clone(), master, key_refresh).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                passwords: Passwords::new(),
                keys,
                ip_throttle: IpThrottle::default(),
            }),
        })
    }

    pub fn passwords(&self) -> &Passwords {
        &self.inner.passwords
    }

    pub fn keys(&self) -> &KeyRing {
        &self.inner.keys
    }

    /// The token for a session renewed while the user works (normal priority).
    async fn token_for(&self, session: &Session) -> Result<SecretString> {
        Ok(SecretString::from(
            self.inner.keys.sign(&claims_for(session)).await?,
        ))
    }

    /// The first token of a new session: signed on the sign-in threads at idle
    /// priority, like the password hash before it.
    async fn first_token_for(&self, session: &Session) -> Result<SecretString> {
        let signer = self.inner.keys.signer().await?;
        let claims = claims_for(session);
        let token = self
            .inner
            .passwords
            .run_at_sign_in_priority(move || signer.sign(&claims))
            .await?;
        Ok(SecretString::from(token))
    }

    /// Signs in with a password: per-IP and per-account throttling, the same
    /// work and message for unknown users and wrong passwords, a session row,
    /// and a sign-in log entry either way.
    #[tracing::instrument(skip_all)]
    pub async fn login(
        &self,
        db: &Db,
        creds: &Credentials,
        client: &ClientInfo,
    ) -> Result<SignedIn> {
        let ip_verdict = self.inner.ip_throttle.check(client.ip);
        if ip_verdict != Verdict::Proceed {
            tracing::warn!(ip = ?client.ip, "sign-in refused by the per-address throttle");
            return Err(Error::Throttled(throttle::refused_message(ip_verdict)));
        }
        let code = tenants::normalize_code(&creds.clinic_code);
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
            self.inner.passwords.verify(&creds.password, None).await?;
            self.inner.ip_throttle.failed(client.ip);
            return Err(Error::validation("password", LOGIN_FAILED));
        };
        let username = normalize_username(&creds.username);
        let ip = client.ip_text();
        // No transaction (and so no pooled connection) is held while argon2
        // runs: a flood of sign-ins queueing for the hashing permits must not
        // take the connections that everyone else's requests need.
        let mut tx = db.tenant_tx_for(tenant.id).await?;
        if let Some(refusal) = self
            .account_refusal(&mut tx, &username, ip.as_deref())
            .await?
        {
            tx.commit().await?;
            self.inner.ip_throttle.failed(client.ip);
            return Err(refusal);
        }
        let user = repo::find_user_by_username(&mut tx, &username).await?;
        tx.commit().await?;
        let stored = user
            .as_ref()
            .filter(|u| u.active)
            .map(|u| u.password_hash.clone());
        let verified = self.inner.passwords.verify(&creds.password, stored).await?;
        let mut tx = db.tenant_tx_for(tenant.id).await?;
        if !verified {
            count_failure(
                &mut tx,
                &username,
                user.map(|u| u.id),
                ip.as_deref(),
                Outcome::PasswordFailed,
            )
            .await?;
            tx.commit().await?;
            self.inner.ip_throttle.failed(client.ip);
            return Err(Error::validation("password", LOGIN_FAILED));
        }
        let user = user.ok_or_else(|| Error::Internal("verified a missing user".into()))?;
        repo::throttle_clear(&mut tx, &username).await?;

        let settings = workstations::settings(&mut tx).await?;
        let bound = match &client.workstation_cookie {
            Some(cookie) => workstations::resolve(&mut tx, cookie).await?,
            None => None,
        };
        let idle_timeout_secs = bound
            .as_ref()
            .map_or(settings.default_idle_secs, |(_, _, idle)| *idle)
            .min(settings.max_idle_secs);
        let workstation = bound.map(|(id, _, _)| id);
        let session_id = repo::insert_session(
            &mut tx,
            &repo::NewSession {
                user: user.id,
                workstation,
                client_ip: ip.as_deref(),
                idle_timeout_secs,
                max_hours: SESSION_MAX_HOURS,
            },
        )
        .await?;
        events::record(
            &mut tx,
            &username,
            Some(user.id),
            ip.as_deref(),
            Outcome::PasswordOk,
        )
        .await?;
        let live = repo::find_live_session(&mut tx, session_id, user.id, TOUCH_AFTER_SECS)
            .await?
            .ok_or_else(|| Error::Internal("new session not found".into()))?;
        tx.commit().await?;
        let session = session_from(session_id, tenant.id, user.id, live);
        let token = self.first_token_for(&session).await?;
        Ok(SignedIn { session, token })
    }

    /// Per-account throttle check before any password or code is looked at.
    /// A refused attempt still counts (and is logged).
    async fn account_refusal(
        &self,
        tx: &mut TenantTx,
        username: &str,
        ip: Option<&str>,
    ) -> Result<Option<Error>> {
        let Some((failures, since_last, locked_minutes)) =
            repo::throttle_state(tx, username).await?
        else {
            return Ok(None);
        };
        let verdict = match locked_minutes {
            Some(m) => Verdict::Locked(m),
            None => {
                let delay = throttle::account_delay_secs(failures);
                if since_last < delay {
                    Verdict::Wait(delay - since_last)
                } else {
                    Verdict::Proceed
                }
            }
        };
        if verdict == Verdict::Proceed {
            return Ok(None);
        }
        let failures = repo::throttle_fail(
            tx,
            username,
            throttle::ACCOUNT_LOCK_FAILURES,
            throttle::LOCK_MINUTES,
        )
        .await?;
        let (verdict, outcome) = match verdict {
            Verdict::Wait(_) if failures >= throttle::ACCOUNT_LOCK_FAILURES => {
                (Verdict::Locked(throttle::LOCK_MINUTES), Outcome::Locked)
            }
            Verdict::Locked(m) => (Verdict::Locked(m), Outcome::Locked),
            other => (other, Outcome::Throttled),
        };
        events::record(tx, username, None, ip, outcome).await?;
        Ok(Some(Error::Throttled(throttle::refused_message(verdict))))
    }

    /// Verifies a session token and opens the request's tenant transaction with
    /// the live session loaded (any stage: callers check `require`).
    pub async fn begin_authenticated(&self, db: &Db, token: &str) -> Result<Authenticated> {
        let claims = self
            .inner
            .keys
            .verify(token)
            .await
            .ok_or(Error::Unauthenticated)?;
        let mut tx = db.tenant_tx_for(claims.tid).await?;
        let live = repo::find_live_session(&mut tx, claims.sid, claims.sub, TOUCH_AFTER_SECS)
            .await?
            .ok_or(Error::Unauthenticated)?;
        let touch_due = live.touch_due;
        let session = session_from(claims.sid, claims.tid, claims.sub, live);
        let renewed_token = if touch_due {
            repo::touch_session(&mut tx, session.id).await?;
            Some(self.token_for(&session).await?)
        } else {
            None
        };
        Ok(Authenticated {
            session,
            tx,
            renewed_token,
        })
    }

    /// Revokes the session named by the token (idempotent; an invalid token is
    /// simply nothing to revoke).
    pub async fn logout(&self, db: &Db, token: &str) -> Result<()> {
        self.end_session(db, token, Outcome::SignedOut).await
    }

    /// The idle lock screen ends the session: the same as [`Auth::logout`],
    /// logged as `screen_locked`.
    pub async fn lock(&self, db: &Db, token: &str) -> Result<()> {
        self.end_session(db, token, Outcome::ScreenLocked).await
    }

    async fn end_session(&self, db: &Db, token: &str, outcome: Outcome) -> Result<()> {
        let Some(claims) = self.inner.keys.verify(token).await else {
            return Ok(());
        };
        let mut tx = db.tenant_tx_for(claims.tid).await?;
        if let Some(live) =
            repo::find_live_session(&mut tx, claims.sid, claims.sub, TOUCH_AFTER_SECS).await?
        {
            events::record(&mut tx, &live.username, Some(claims.sub), None, outcome).await?;
        }
        repo::revoke_session(&mut tx, claims.sid).await?;
        tx.commit().await
    }

    /// Second factor for a session at `Stage::Totp`: a TOTP code for a step
    /// later than the last accepted one, or an unused recovery code. Commits
    /// either way (failures count towards the account throttle).
    pub async fn verify_second_factor(
        &self,
        mut tx: TenantTx,
        session: &Session,
        code: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        session.require_stage(&[Stage::Totp])?;
        let ip = client.ip_text();
        if let Some(refusal) = self
            .account_refusal(&mut tx, &session.username, ip.as_deref())
            .await?
        {
            tx.commit().await?;
            return Err(refusal);
        }
        let outcome = if totp::is_recovery_code(code) {
            let keys = tx.keys().await?;
            let hash = totp::recovery_code_hash(&keys, session.user_id, code);
            repo::use_recovery_code(&mut tx, session.user_id, &hash)
                .await?
                .then_some(Outcome::RecoveryCodeUsed)
        } else {
            let (sealed, _, _) = repo::totp_state(&mut tx, session.user_id).await?;
            let sealed =
                sealed.ok_or_else(|| Error::Internal("TOTP stage without a secret".into()))?;
            let secret = secrecy::zeroize::Zeroizing::new(
                tx.decrypt(Field::UserTotpSecret, session.user_id.as_uuid(), &sealed)
                    .await?,
            );
            match totp::matching_step(&secret, code, totp::unix_now())? {
                Some(step) => repo::advance_totp_step(&mut tx, session.user_id, step_i64(step))
                    .await?
                    .then_some(Outcome::TotpOk),
                None => None,
            }
        };
        self.finish_second_factor(tx, session, outcome, ip.as_deref())
            .await
    }

    async fn finish_second_factor(
        &self,
        mut tx: TenantTx,
        session: &Session,
        outcome: Option<Outcome>,
        ip: Option<&str>,
    ) -> Result<()> {
        match outcome {
            Some(outcome) => {
                repo::mark_totp_verified(&mut tx, session.id).await?;
                repo::throttle_clear(&mut tx, &session.username).await?;
                events::record(
                    &mut tx,
                    &session.username,
                    Some(session.user_id),
                    ip,
                    outcome,
                )
                .await?;
                tx.commit().await
            }
            None => {
                count_failure(
                    &mut tx,
                    &session.username,
                    Some(session.user_id),
                    ip,
                    Outcome::TotpFailed,
                )
                .await?;
                tx.commit().await?;
                Err(Error::validation("code", CODE_FAILED))
            }
        }
    }

    /// Starts (or resumes) TOTP enrolment: a new 160-bit secret, kept sealed as
    /// "pending" until a first code confirms it.
    pub async fn enrolment(&self, tx: &mut TenantTx, session: &Session) -> Result<Enrolment> {
        session.require_stage(&[Stage::TotpEnrolment])?;
        let user = session.user_id.as_uuid();
        let (_, pending, _) = repo::totp_state(tx, session.user_id).await?;
        let secret = secrecy::zeroize::Zeroizing::new(match pending {
            Some(sealed) => tx.decrypt(Field::UserTotpPending, user, &sealed).await?,
            None => {
                let secret = totp::new_secret().to_vec();
                let sealed =
                    tx.keys_for_write()
                        .await?
                        .encrypt(Field::UserTotpPending, user, &secret)?;
                repo::set_totp_pending(tx, session.user_id, &sealed).await?;
                secret
            }
        });
        let (clinic_code, _) = repo::tenant_code_and_name(tx).await?;
        let url = totp::otpauth_url(&secret, &clinic_code, &session.username);
        Ok(Enrolment {
            secret_base32: totp::base32(&secret),
            qr_svg: totp::qr_svg(&url)?,
            otpauth_url: url,
        })
    }

    /// Confirms enrolment with a first code; returns the ten recovery codes
    /// (shown once, stored hashed). The session is then past its second factor.
    pub async fn confirm_enrolment(
        &self,
        mut tx: TenantTx,
        session: &Session,
        code: &str,
        client: &ClientInfo,
    ) -> Result<Vec<String>> {
        session.require_stage(&[Stage::TotpEnrolment])?;
        let ip = client.ip_text();
        if let Some(refusal) = self
            .account_refusal(&mut tx, &session.username, ip.as_deref())
            .await?
        {
            tx.commit().await?;
            return Err(refusal);
        }
        let user = session.user_id.as_uuid();
        let (_, pending, _) = repo::totp_state(&mut tx, session.user_id).await?;
        let pending = pending.ok_or_else(|| {
            Error::Conflict("Open the set-up page again to get a new QR code.".into())
        })?;
        let secret = secrecy::zeroize::Zeroizing::new(
            tx.decrypt(Field::UserTotpPending, user, &pending).await?,
        );
        let Some(step) = totp::matching_step(&secret, code, totp::unix_now())? else {
            // Records the failure and answers with CODE_FAILED.
            return self
                .finish_second_factor(tx, session, None, ip.as_deref())
                .await
                .map(|()| Vec::new());
        };
        // The AAD names the column, so the secret is encrypted again as the
        // confirmed one rather than copied.
        let keys = tx.keys_for_write().await?;
        let sealed = keys.encrypt(Field::UserTotpSecret, user, &secret)?;
        repo::set_totp_secret(&mut tx, session.user_id, &sealed, step_i64(step)).await?;
        let codes = totp::new_recovery_codes();
        let hashes: Vec<[u8; 32]> = codes
            .iter()
            .map(|c| totp::recovery_code_hash(&keys, session.user_id, c))
            .collect();
        repo::replace_recovery_codes(&mut tx, session.user_id, &hashes).await?;
        self.finish_second_factor(tx, session, Some(Outcome::TotpEnrolled), ip.as_deref())
            .await?;
        Ok(codes)
    }

    /// Sets up TOTP for a user directly with a known secret (demo seed and
    /// tests; a real user enrols on the enrolment page).
    pub async fn enrol_with_secret(
        &self,
        tx: &mut TenantTx,
        user: UserId,
        secret: &[u8],
    ) -> Result<()> {
        let sealed =
            tx.keys_for_write()
                .await?
                .encrypt(Field::UserTotpSecret, user.as_uuid(), secret)?;
        repo::set_totp_secret(tx, user, &sealed, 0).await
    }

    /// Changes the signed-in user's own password (also the forced change after
    /// an admin reset). Other sessions of the user end.
    pub async fn change_password(
        &self,
        mut tx: TenantTx,
        session: &Session,
        current: &SecretString,
        new: &SecretString,
        client: &ClientInfo,
    ) -> Result<()> {
        session.require_stage(&[Stage::Full, Stage::PasswordChange])?;
        let ip = client.ip_text();
        if let Some(refusal) = self
            .account_refusal(&mut tx, &session.username, ip.as_deref())
            .await?
        {
            tx.commit().await?;
            return Err(refusal);
        }
        let (clinic_code, _) = repo::tenant_code_and_name(&mut tx).await?;
        policy::check(
            new.expose_secret(),
            &[
                &session.username,
                &session.display_name,
                &clinic_code,
                "healipro",
            ],
        )?;
        if new.expose_secret() == current.expose_secret() {
            return Err(Error::validation(
                "new_password",
                "Choose a password different from the current one.",
            ));
        }
        let user = repo::find_user(&mut tx, session.user_id)
            .await?
            .ok_or(Error::Unauthenticated)?;
        if !self
            .inner
            .passwords
            .verify(current, Some(user.password_hash))
            .await?
        {
            count_failure(
                &mut tx,
                &session.username,
                Some(session.user_id),
                ip.as_deref(),
                Outcome::PasswordFailed,
            )
            .await?;
            tx.commit().await?;
            return Err(Error::validation(
                "current_password",
                "The current password is not right.",
            ));
        }
        let hash = self.inner.passwords.hash(new).await?;
        repo::set_password(&mut tx, session.user_id, &hash, false).await?;
        repo::revoke_user_sessions(&mut tx, session.user_id, Some(session.id)).await?;
        events::record(
            &mut tx,
            &session.username,
            Some(session.user_id),
            ip.as_deref(),
            Outcome::PasswordChanged,
        )
        .await?;
        tx.commit().await
    }

    /// An admin resets a user's password: a one-time password (returned, shown
    /// once) that must be changed at the next sign-in; the user's sessions end
    /// and any lock is lifted. The caller has checked `UsersManage`.
    pub async fn admin_reset_password(&self, tx: &mut TenantTx, username: &str) -> Result<String> {
        let username = normalize_username(username);
        let user = repo::find_user_by_username(tx, &username)
            .await?
            .ok_or(Error::NotFound)?;
        let temporary = crate::demo::generate_password();
        let hash = self
            .inner
            .passwords
            .hash(&SecretString::from(temporary.clone()))
            .await?;
        repo::set_password(tx, user.id, &hash, true).await?;
        repo::revoke_user_sessions(tx, user.id, None).await?;
        repo::throttle_clear(tx, &username).await?;
        events::record(tx, &username, Some(user.id), None, Outcome::PasswordReset).await?;
        Ok(temporary)
    }

    /// Ends every session of a user at once. The caller has checked `UsersManage`.
    pub async fn sign_out_everywhere(&self, tx: &mut TenantTx, username: &str) -> Result<u64> {
        let username = normalize_username(username);
        let user = repo::find_user_by_username(tx, &username)
            .await?
            .ok_or(Error::NotFound)?;
        let n = repo::revoke_user_sessions(tx, user.id, None).await?;
        events::record(
            tx,
            &username,
            Some(user.id),
            None,
            Outcome::SignedOutEverywhere,
        )
        .await?;
        Ok(n)
    }

    /// Lifts a throttle or lock on an account. The caller has checked `UsersManage`.
    pub async fn unlock(&self, tx: &mut TenantTx, username: &str) -> Result<()> {
        let username = normalize_username(username);
        if !repo::throttle_clear(tx, &username).await? {
            return Err(Error::NotFound);
        }
        events::record(tx, &username, None, None, Outcome::Unlocked).await
    }
}

/// A failed password or code: counts towards the account throttle and goes
/// into the sign-in log.
async fn count_failure(
    tx: &mut TenantTx,
    username: &str,
    user: Option<UserId>,
    ip: Option<&str>,
    outcome: Outcome,
) -> Result<()> {
    repo::throttle_fail(
        tx,
        username,
        throttle::ACCOUNT_LOCK_FAILURES,
        throttle::LOCK_MINUTES,
    )
    .await?;
    events::record(tx, username, user, ip, outcome).await
}

fn claims_for(session: &Session) -> Claims {
    Claims::new(
        session.tenant_id,
        session.user_id,
        session.id,
        i64::from(session.idle_timeout_secs),
    )
}

fn step_i64(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

fn session_from(id: SessionId, tenant: TenantId, user: UserId, live: repo::LiveRow) -> Session {
    Session {
        id,
        tenant_id: tenant,
        user_id: user,
        stage: Stage::of(
            live.totp_required,
            live.totp_enrolled,
            live.totp_verified,
            live.must_change_password,
        ),
        username: live.username,
        display_name: live.display_name,
        roles: live.roles,
        custom_roles: live.custom_roles,
        permissions: live.permissions,
        workstation: live.workstation,
        idle_timeout_secs: live.idle_timeout_secs,
        client_ip: String::new(),
    }
}

/// What the enrolment page shows.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub secret_base32: String,
    pub qr_svg: String,
    pub otpauth_url: String,
}

/// The clinic's (code, display name), for the page header and lock screen.
pub async fn clinic_code_and_name(tx: &mut TenantTx) -> Result<(String, String)> {
    repo::tenant_code_and_name(tx).await
}

/// Unused recovery codes of the signed-in user.
pub async fn remaining_recovery_codes(tx: &mut TenantTx, session: &Session) -> Result<i64> {
    repo::remaining_recovery_codes(tx, session.user_id).await
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

/// A user's id by username.
pub async fn user_id(tx: &mut TenantTx, username: &str) -> Result<UserId> {
    Ok(repo::find_user_by_username(tx, username)
        .await?
        .ok_or(Error::NotFound)?
        .id)
}

pub async fn user_exists(tx: &mut TenantTx, username: &str) -> Result<bool> {
    Ok(repo::find_user_by_username(tx, username).await?.is_some())
}

/// Whether the user has a confirmed TOTP secret.
pub async fn totp_enrolled(tx: &mut TenantTx, username: &str) -> Result<bool> {
    let id = user_id(tx, username).await?;
    Ok(repo::totp_state(tx, id).await?.0.is_some())
}

#[cfg(test)]
mod tests {
    use super::Stage;

    #[test]
    fn stages() {
        assert_eq!(Stage::of(true, false, false, false), Stage::TotpEnrolment);
        assert_eq!(Stage::of(true, true, false, true), Stage::Totp);
        assert_eq!(Stage::of(false, true, false, false), Stage::Totp);
        assert_eq!(Stage::of(true, true, true, true), Stage::PasswordChange);
        assert_eq!(Stage::of(false, false, false, false), Stage::Full);
        assert_eq!(Stage::of(true, true, true, false), Stage::Full);
    }
}
