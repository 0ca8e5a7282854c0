//! Session tokens: short-lived JWTs (RS256, `kid` in the header, algorithm
//! pinned, iss/aud/exp/nbf checked) naming a server-side session row.
//!
//! Keys live in `platform.jwt_keys`, private halves sealed under the server
//! key. The newest key signs; every stored key verifies, so `healipro keys
//! rotate-jwt` logs nobody out. Running servers pick a new key up within
//! `refresh_every` (and at once when they meet a token with an unknown `kid`).

use crate::crypto::{random_bytes, MasterKeys};
use crate::db::Db;
use crate::ids::{SessionId, TenantId, UserId};
use crate::{Error, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::zeroize::Zeroizing;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

pub const ISSUER: &str = "healipro";
pub const AUDIENCE: &str = "healipro-web";
const LEEWAY_SECS: u64 = 5;
/// How many verified tokens [`KeyRing::verify`] remembers (≈ 200 bytes each).
const VERIFIED_CACHE_MAX: usize = 50_000;
/// Context the private keys are sealed under.
const SEAL_CONTEXT: &[u8] = b"healipro/jwt-private-key";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user.
    pub sub: UserId,
    pub tid: TenantId,
    pub sid: SessionId,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

impl Claims {
    pub fn new(tenant: TenantId, user: UserId, session: SessionId, lifetime_secs: i64) -> Self {
        let now = chrono::Utc::now().timestamp();
        Self {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: user,
            tid: tenant,
            sid: session,
            iat: now,
            nbf: now,
            exp: now + lifetime_secs,
        }
    }
}

struct Loaded {
    verifiers: HashMap<String, DecodingKey>,
    signer_kid: String,
    signer: EncodingKey,
    loaded_at: Instant,
}

/// The deployment's signing and verifying keys, cached in memory.
pub struct KeyRing {
    db: Db,
    master: MasterKeys,
    refresh_every: Duration,
    loaded: RwLock<Arc<Loaded>>,
    /// Unknown-`kid` reloads are rate-limited so junk tokens cannot hammer the DB.
    last_miss_reload: Mutex<Option<Instant>>,
    /// Tokens whose signature already verified, by the SHA-256 of the whole
    /// token: every request carries the same token for up to 15 s, and an RSA
    /// verification costs ≈ 0.3 ms of CPU, a hash lookup ≈ 1 µs. Only tokens
    /// that passed the full check get in; exp/nbf and the `kid` are checked
    /// again on every hit.
    verified: Mutex<HashMap<[u8; 32], Verified>>,
}

#[derive(Clone)]
struct Verified {
    kid: String,
    claims: Claims,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyRing")
    }
}

impl KeyRing {
    /// Loads the ring, creating the first key if the deployment has none.
    pub async fn load(db: Db, master: MasterKeys, refresh_every: Duration) -> Result<Arc<Self>> {
        ensure_key(&db, &master).await?;
        let loaded = read_keys(&db, &master).await?;
        Ok(Arc::new(Self {
            db,
            master,
            refresh_every,
            loaded: RwLock::new(Arc::new(loaded)),
            last_miss_reload: Mutex::new(None),
            verified: Mutex::new(HashMap::new()),
        }))
    }

    fn current(&self) -> Arc<Loaded> {
        self.loaded.read().expect("key ring lock").clone()
    }

    pub async fn reload(&self) -> Result<()> {
        let fresh = read_keys(&self.db, &self.master).await?;
        *self.loaded.write().expect("key ring lock") = Arc::new(fresh);
        Ok(())
    }

    async fn refresh_if_stale(&self) -> Result<()> {
        if self.current().loaded_at.elapsed() >= self.refresh_every {
            self.reload().await?;
        }
        Ok(())
    }

    /// Signs `claims` with the newest key. RSA signing takes ~2 ms of CPU, so
    /// it runs on a blocking thread, not on an async worker other requests need.
    pub async fn sign(&self, claims: &Claims) -> Result<String> {
        let signer = self.signer().await?;
        let claims = claims.clone();
        tokio::task::spawn_blocking(move || signer.sign(&claims))
            .await
            .map_err(|e| Error::Internal(format!("signing task failed: {e}")))?
    }

    /// The newest key, to sign with on a thread of the caller's choosing.
    pub async fn signer(&self) -> Result<Signer> {
        self.refresh_if_stale().await?;
        Ok(Signer(self.current()))
    }

    /// The `kid` new tokens carry.
    pub async fn signing_kid(&self) -> Result<String> {
        self.refresh_if_stale().await?;
        Ok(self.current().signer_kid.clone())
    }

    /// Verifies a token: RS256 only, a known `kid`, iss/aud/exp/nbf. `None`
    /// for anything else — the caller treats it as "not signed in".
    pub async fn verify(&self, token: &str) -> Option<Claims> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = chrono::Utc::now().timestamp();
        let seen = self.verified_cache().get(&digest).cloned();
        if let Some(seen) = seen {
            if in_time(&seen.claims, now) && self.current().verifiers.contains_key(&seen.kid) {
                return Some(seen.claims);
            }
        }
        let (kid, claims) = self.verify_signature(token).await?;
        let mut cache = self.verified_cache();
        if cache.len() >= VERIFIED_CACHE_MAX {
            cache.retain(|_, v| in_time(&v.claims, now));
            if cache.len() >= VERIFIED_CACHE_MAX {
                cache.clear();
            }
        }
        cache.insert(
            digest,
            Verified {
                kid,
                claims: claims.clone(),
            },
        );
        Some(claims)
    }

    fn verified_cache(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Verified>> {
        // A panic while holding the lock cannot leave a half-checked entry:
        // entries are inserted whole, so a poisoned map is still sound.
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn verify_signature(&self, token: &str) -> Option<(String, Claims)> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::RS256 {
            return None;
        }
        let kid = header.kid?;
        let mut loaded = self.current();
        if !loaded.verifiers.contains_key(&kid) && self.miss_reload_allowed() {
            if let Err(e) = self.reload().await {
                tracing::warn!(error = %e, "cannot reload the JWT key ring");
            }
            loaded = self.current();
        }
        let key = loaded.verifiers.get(&kid)?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation())
            .ok()?
            .claims;
        Some((kid, claims))
    }

    fn miss_reload_allowed(&self) -> bool {
        let mut last = self.last_miss_reload.lock().expect("key ring lock");
        let allowed = last.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if allowed {
            *last = Some(Instant::now());
        }
        allowed
    }
}

/// The time checks of [`validation`], for a token whose signature is known good.
fn in_time(claims: &Claims, now: i64) -> bool {
    let leeway = LEEWAY_SECS as i64;
    claims.exp >= now - leeway && claims.nbf <= now + leeway
}

/// A signing key, detached from the ring (see [`KeyRing::signer`]).
pub struct Signer(Arc<Loaded>);

impl Signer {
    /// Signs on the calling thread: ≈ 2 ms of CPU, keep it off async workers.
    pub fn sign(&self, claims: &Claims) -> Result<String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.0.signer_kid.clone());
        jsonwebtoken::encode(&header, claims, &self.0.signer)
            .map_err(|e| Error::Internal(format!("cannot sign a session token: {e}")))
    }
}

fn validation() -> Validation {
    let mut v = Validation::new(Algorithm::RS256);
    v.algorithms = vec![Algorithm::RS256];
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[AUDIENCE]);
    v.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    v.validate_exp = true;
    v.validate_nbf = true;
    v.leeway = LEEWAY_SECS;
    v
}

async fn read_keys(db: &Db, master: &MasterKeys) -> Result<Loaded> {
    let mut tx = db.platform_tx().await?;
    let rows: Vec<(String, String, Vec<u8>, String)> = sqlx::query_as(
        "SELECT kid, public_pem, private_key_enc, kek_id FROM platform.jwt_keys
          ORDER BY created_at DESC, kid",
    )
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    let Some((signer_kid, _, sealed, kek_id)) = rows.first() else {
        return Err(Error::Config(
            "no JWT signing key (run `healipro keys rotate-jwt`)".into(),
        ));
    };
    let private_pem = Zeroizing::new(master.unwrap(kek_id, SEAL_CONTEXT, sealed)?);
    let signer = EncodingKey::from_rsa_pem(&private_pem)
        .map_err(|e| Error::Internal(format!("bad JWT private key {signer_kid}: {e}")))?;
    let mut verifiers = HashMap::new();
    for (kid, public_pem, _, _) in &rows {
        let key = DecodingKey::from_rsa_pem(public_pem.as_bytes())
            .map_err(|e| Error::Internal(format!("bad JWT public key {kid}: {e}")))?;
        verifiers.insert(kid.clone(), key);
    }
    Ok(Loaded {
        verifiers,
        signer_kid: signer_kid.clone(),
        signer,
        loaded_at: Instant::now(),
    })
}

/// A fresh RSA-2048 key pair: (public SPKI PEM, private PKCS#8 PEM).
async fn generate_pair() -> Result<(String, Vec<u8>)> {
    tokio::task::spawn_blocking(|| {
        use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
            .map_err(|e| Error::Internal(format!("RSA key generation failed: {e}")))?;
        let public_pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| Error::Internal(format!("RSA public key encoding failed: {e}")))?;
        let private_pem = private
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::Internal(format!("RSA private key encoding failed: {e}")))?;
        Ok((public_pem, private_pem.as_bytes().to_vec()))
    })
    .await
    .map_err(|e| Error::Internal(format!("key generation task failed: {e}")))?
}

async fn insert_key(db: &Db, master: &MasterKeys, only_if_none: bool) -> Result<Option<String>> {
    let (public_pem, private_pem) = generate_pair().await?;
    let (kek_id, sealed) = master.wrap(SEAL_CONTEXT, &private_pem)?;
    let kid = URL_SAFE_NO_PAD.encode(random_bytes::<12>());
    let mut tx = db.platform_tx().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('healipro.jwt_keys'))")
        .execute(tx.conn())
        .await?;
    if only_if_none {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM platform.jwt_keys")
            .fetch_one(tx.conn())
            .await?;
        if n > 0 {
            return Ok(None);
        }
    }
    sqlx::query(
        "INSERT INTO platform.jwt_keys (kid, public_pem, private_key_enc, kek_id)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&kid)
    .bind(&public_pem)
    .bind(&sealed)
    .bind(&kek_id)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(Some(kid))
}

async fn ensure_key(db: &Db, master: &MasterKeys) -> Result<()> {
    let mut tx = db.platform_tx().await?;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM platform.jwt_keys")
        .fetch_one(tx.conn())
        .await?;
    tx.commit().await?;
    if n == 0 {
        if let Some(kid) = insert_key(db, master, true).await? {
            tracing::info!(%kid, "created the first JWT signing key");
        }
    }
    Ok(())
}

/// Adds a new signing key (`healipro keys rotate-jwt`). Returns its `kid`.
pub async fn rotate(db: &Db, master: &MasterKeys) -> Result<String> {
    insert_key(db, master, false)
        .await?
        .ok_or_else(|| Error::Internal("key not inserted".into()))
}

/// Rewraps every private key not under the active master key (part of
/// `healipro keys rotate-kek`); returns how many were rewrapped.
pub async fn rewrap(db: &Db, master: &MasterKeys) -> Result<usize> {
    let active = master.active_id();
    let mut tx = db.platform_tx().await?;
    let rows: Vec<(String, Vec<u8>, String)> = sqlx::query_as(
        "SELECT kid, private_key_enc, kek_id FROM platform.jwt_keys WHERE kek_id <> $1 FOR UPDATE",
    )
    .bind(&active)
    .fetch_all(tx.conn())
    .await?;
    for (kid, sealed, kek_id) in &rows {
        let pem = Zeroizing::new(master.unwrap(kek_id, SEAL_CONTEXT, sealed)?);
        let (new_kek, resealed) = master.wrap(SEAL_CONTEXT, &pem)?;
        sqlx::query(
            "UPDATE platform.jwt_keys SET private_key_enc = $2, kek_id = $3 WHERE kid = $1",
        )
        .bind(kid)
        .bind(resealed)
        .bind(new_kek)
        .execute(tx.conn())
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// The master key ids JWT private keys are wrapped under.
pub async fn kek_ids_in_use(db: &Db) -> Result<Vec<String>> {
    let mut tx = db.platform_tx().await?;
    let ids = sqlx::query_scalar("SELECT DISTINCT kek_id FROM platform.jwt_keys")
        .fetch_all(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(ids)
}

/// Keys and when they were created (newest first), for `healipro keys list`.
pub async fn list(db: &Db) -> Result<Vec<(String, chrono::DateTime<chrono::Utc>)>> {
    let mut tx = db.platform_tx().await?;
    let rows =
        sqlx::query_as("SELECT kid, created_at FROM platform.jwt_keys ORDER BY created_at DESC")
            .fetch_all(tx.conn())
            .await?;
    tx.commit().await?;
    Ok(rows)
}
