//! `AppError`: what the browser sees. Serializable and user-safe: no SQL, no
//! stack, only a request id to quote to support.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Not found.")]
    NotFound,
    #[error("Your role does not allow this.")]
    Forbidden,
    #[error("{message}")]
    Validation { field: String, message: String },
    #[error("{message}")]
    Conflict { message: String },
    #[error("Your session has ended. Please sign in again.")]
    Unauthenticated,
    #[error("This screen is locked. Sign in again to continue.")]
    Locked,
    /// Password accepted, but a step is still due: go to `next`.
    #[error("Finish signing in first.")]
    SignInIncomplete { next: String },
    #[error("{message}")]
    TooManyAttempts { message: String },
    #[error(
        "Something went wrong on our side. If it keeps happening, quote reference {request_id}."
    )]
    Internal { request_id: String },
    #[error("Could not reach the server. Check the connection and try again.")]
    Transport { message: String },
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport {
            message: value.to_string(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<healipro_core::Error> for AppError {
    /// Maps a core error to what the user may see, sets the HTTP status, and
    /// logs internal failures with a request id (never their details to the user).
    fn from(e: healipro_core::Error) -> Self {
        use healipro_core::Error as E;
        use http::StatusCode;
        let (status, err) = match e {
            E::NotFound => (StatusCode::NOT_FOUND, AppError::NotFound),
            E::Unauthenticated => (StatusCode::UNAUTHORIZED, AppError::Unauthenticated),
            E::Forbidden => (StatusCode::FORBIDDEN, AppError::Forbidden),
            E::Validation { field, message } => (
                StatusCode::BAD_REQUEST,
                AppError::Validation {
                    field: field.to_owned(),
                    message,
                },
            ),
            E::Conflict(message) => (StatusCode::CONFLICT, AppError::Conflict { message }),
            E::SignInIncomplete(stage) => (
                StatusCode::FORBIDDEN,
                AppError::SignInIncomplete {
                    next: stage.path().to_owned(),
                },
            ),
            E::Throttled(message) => (
                StatusCode::TOO_MANY_REQUESTS,
                AppError::TooManyAttempts { message },
            ),
            other => {
                let request_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
                tracing::error!(%request_id, error = %other, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    AppError::Internal { request_id },
                )
            }
        };
        if let Some(resp) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(status);
        }
        err
    }
}
