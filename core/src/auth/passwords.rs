//! Password hashing: argon2id (m = 19 MiB, t = 2, p = 1), on a blocking thread,
//! behind a semaphore of cores − 1 permits so a burst of logins cannot starve
//! the other requests or exhaust memory.

use crate::{Error, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).expect("valid argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}

impl Passwords {
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            permits: Arc::new(Semaphore::new(hashing_permits(cores))),
        }
    }

    pub async fn hash(&self, password: &SecretString) -> Result<String> {
        let password = password.clone();
        self.blocking(move || {
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            argon2()
                .hash_password(password.expose_secret().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
        })
        .await
    }

    /// Verifies `password` against `stored`, or against a fixed dummy hash when
    /// the user does not exist, so both cases take the same time.
    pub async fn verify(&self, password: &SecretString, stored: Option<String>) -> Result<bool> {
        let password = password.clone();
        let user_exists = stored.is_some();
        self.blocking(move || {
            let stored = stored.unwrap_or_else(|| dummy_hash().to_owned());
            let ok = PasswordHash::new(&stored)
                .map(|h| {
                    argon2()
                        .verify_password(password.expose_secret().as_bytes(), &h)
                        .is_ok()
                })
                .unwrap_or(false);
            Ok(ok && user_exists)
        })
        .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Internal("password semaphore closed".into()))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| Error::Internal(format!("password task failed: {e}")))?
    }
}

/// How many argon2 hashes may run at once: all cores but one (at least one).
/// A hash keeps a core busy for ≈ 20 ms; with one per core a flood of
/// sign-ins takes every core, and the requests of people already at work
/// queue behind it. Leaving a core free makes the sign-ins queue instead
/// (`cargo xtask bench login` on 2 cores: read p99 under a login flood ≈ 4×
/// its idle value with 2 permits, ≈ 2.7–3× with 1; logins 60/s → 36/s).
fn hashing_permits(cores: usize) -> usize {
    cores.saturating_sub(1).max(1)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        argon2()
            .hash_password(b"not a real password, used to equalise timing", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let p = Passwords::new();
        let pw = SecretString::from("correct horse battery staple");
        let h = p.hash(&pw).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(p.verify(&pw, Some(h.clone())).await.unwrap());
        assert!(!p
            .verify(&SecretString::from("wrong"), Some(h))
            .await
            .unwrap());
        assert!(!p.verify(&pw, None).await.unwrap());
    }

    #[test]
    fn one_core_is_left_to_other_requests() {
        assert_eq!(hashing_permits(1), 1);
        assert_eq!(hashing_permits(2), 1);
        assert_eq!(hashing_permits(8), 7);
    }
}
