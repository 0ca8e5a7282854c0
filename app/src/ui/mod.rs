//! Shared widgets.

pub mod layout;
pub mod text;

pub use layout::{AppLayout, CurrentUser};

use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::components::Redirect;

/// What to show for an error: the sign-in step that is due, or the message.
pub fn error_view(e: AppError) -> AnyView {
    match e {
        AppError::Unauthenticated => view! { <Redirect path="/login"/> }.into_any(),
        AppError::SignInIncomplete { next } => view! { <Redirect path=next/> }.into_any(),
        other => view! { <p class="error" role="alert">{other.to_string()}</p> }.into_any(),
    }
}

/// The error of an action's last result, as text for an alert line.
pub fn action_error<T, S>(value: S) -> Signal<Option<String>>
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(Result::err).map(|e| e.to_string()))
}
