//! Password hashing: argon2id (m = 19 MiB, t = 2, p = 1) on a small pool of
//! dedicated hashing threads — the semaphore: at most that many hashes run at
//! once, the rest queue without holding a database connection. The threads run
//! at idle CPU priority (Linux `SCHED_IDLE`), so a flood of sign-ins uses the
//! CPU the people already at work leave over and never delays their requests.

use crate::{Error, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::oneshot;

const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).expect("valid argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes and verifies passwords on the process-wide hashing pool.
#[derive(Clone)]
pub struct Passwords {
    pool: &'static HashingPool,
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}

impl Passwords {
    pub fn new() -> Self {
        static POOL: OnceLock<HashingPool> = OnceLock::new();
        let pool = POOL.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            HashingPool::start(hashing_threads(cores))
        });
        Self { pool }
    }

    pub async fn hash(&self, password: &SecretString) -> Result<String> {
        let password = password.clone();
        self.pool
            .run(move || {
                let salt = SaltString::generate(&mut rand::rngs::OsRng);
                argon2()
                    .hash_password(password.expose_secret().as_bytes(), &salt)
                    .map(|h| h.to_string())
                    .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
            })
            .await
    }

    /// Runs other sign-in work (signing the first session token) on the
    /// hashing threads: at idle priority, behind the hashes already queued,
    /// so a login flood's RSA signatures do not compete with requests either.
    pub async fn run_at_sign_in_priority<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.pool.run(f).await
    }

    /// Verifies `password` against `stored`, or against a fixed dummy hash when
    /// the user does not exist, so both cases take the same time.
    pub async fn verify(&self, password: &SecretString, stored: Option<String>) -> Result<bool> {
        let password = password.clone();
        let user_exists = stored.is_some();
        self.pool
            .run(move || {
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
}

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of OS threads that run argon2, fed by one queue.
struct HashingPool {
    queue: Mutex<mpsc::Sender<Job>>,
}

impl HashingPool {
    fn start(threads: usize) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..threads {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    lower_own_priority();
                    loop {
                        // Holding the lock only while waiting for the next job.
                        let job = rx
                            .lock()
                            .map_err(|_| ())
                            .and_then(|r| r.recv().map_err(|_| ()));
                        match job {
                            // A panicking job must not take the thread (and
                            // with it every later sign-in) down; its caller
                            // gets "job lost".
                            Ok(job) => {
                                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                            }
                            Err(()) => return,
                        }
                    }
                })
                .expect("cannot start a password hashing thread");
        }
        Self {
            queue: Mutex::new(tx),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The caller may have gone (a closed connection): nothing to do then.
            let _ = tx.send(f());
        });
        self.queue
            .lock()
            .map_err(|_| Error::Internal("password hashing queue poisoned".into()))?
            .send(job)
            .map_err(|_| Error::Internal("password hashing threads stopped".into()))?;
        rx.await
            .map_err(|_| Error::Internal("password hashing job lost".into()))?
    }
}

/// Puts the calling thread at idle CPU priority: any other runnable thread
/// (request handlers, PostgreSQL) preempts it at once. Where that is not
/// possible the thread keeps normal priority and the pool size still caps it.
fn lower_own_priority() {
    use thread_priority::{
        set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy,
        ThreadPriority, ThreadSchedulePolicy,
    };
    let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
    if let Err(e) = set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle) {
        tracing::warn!(error = ?e, "password hashing threads keep normal CPU priority");
    }
}

/// How many argon2 hashes may run at once: all cores but one (at least one).
/// A hash keeps a core busy for ≈ 20 ms; even at idle priority a hash that
/// owns a core evicts the caches the other requests use, so one core stays
/// free of them.
fn hashing_threads(cores: usize) -> usize {
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

    /// The hashing threads really run under `SCHED_IDLE` (policy 5): field 41
    /// of /proc/thread-self/stat, read from inside a hashing job.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_at_idle_priority() {
        let stat = Passwords::new()
            .pool
            .run(|| Ok(std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default()))
            .await
            .unwrap();
        let (_, after_name) = stat.rsplit_once(')').expect("stat has the thread name");
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        // `fields[0]` is field 3 (state), so field 41 (policy) is `fields[38]`.
        assert_eq!(fields.get(38), Some(&"5"), "{stat}");
    }

    #[test]
    fn one_core_is_left_to_other_requests() {
        assert_eq!(hashing_threads(1), 1);
        assert_eq!(hashing_threads(2), 1);
        assert_eq!(hashing_threads(8), 7);
    }
}
