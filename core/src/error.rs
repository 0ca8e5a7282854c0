//! The core error type. It keeps the cause for the log; what the browser sees is
//! decided by `app::AppError`, which never carries these details.

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    /// The thing asked for does not exist *for this tenant* (another clinic's
    /// row is indistinguishable from a made-up id).
    #[error("not found")]
    NotFound,
    /// No valid session.
    #[error("not signed in")]
    Unauthenticated,
    /// Signed in, but the role does not allow it.
    #[error("not allowed")]
    Forbidden,
    /// Bad input, with a message a receptionist understands.
    #[error("{field}: {message}")]
    Validation {
        field: &'static str,
        message: String,
    },
    /// Signed in with a password, but a step is still due (second factor,
    /// enrolment or a forced password change).
    #[error("sign-in incomplete: {0:?}")]
    SignInIncomplete(crate::auth::Stage),
    /// Too many failed attempts; the message says how long to wait.
    #[error("{0}")]
    Throttled(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A key needed to encrypt or decrypt is missing, destroyed or wrong
    /// (never a panic; the message names ids, never key material or PHI).
    #[error("key unavailable: {0}")]
    KeyUnavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    pub fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Error::Validation {
            field,
            message: message.into(),
        }
    }
}
