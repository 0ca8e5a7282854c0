//! Sign-in server functions.

use super::dto::MeDto;
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "auth/login")]
pub async fn login(
    clinic_code: String,
    username: String,
    password: String,
) -> Result<(), AppError> {
    use crate::server::{allow_unauthenticated, services, set_session_cookie};
    use healipro_core::auth::{self, Credentials};
    allow_unauthenticated();
    let services = services()?;
    let creds = Credentials {
        clinic_code,
        username,
        password: password.into(),
    };
    let (_session, token) = auth::login(&services.db, &services.passwords, &creds).await?;
    set_session_cookie(Some(&token));
    Ok(())
}

#[server(prefix = "/api", endpoint = "auth/logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::server::{allow_unauthenticated, services, session_token, set_session_cookie};
    allow_unauthenticated();
    if let Some(token) = session_token() {
        healipro_core::auth::logout(&services()?.db, &token).await?;
    }
    set_session_cookie(None);
    Ok(())
}

/// Who is signed in (`None` when nobody is).
#[server(prefix = "/api", endpoint = "auth/me")]
pub async fn current_user() -> Result<Option<MeDto>, AppError> {
    use crate::server::{allow_unauthenticated, authed};
    allow_unauthenticated();
    let (session, mut tx) = match authed().await {
        Ok(pair) => pair,
        Err(AppError::Unauthenticated) => {
            if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
                resp.set_status(http::StatusCode::OK);
            }
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let clinic_name = healipro_core::auth::clinic_name(&mut tx).await?;
    tx.commit().await?;
    Ok(Some(MeDto {
        display_name: session.display_name,
        username: session.username,
        clinic_name,
        roles: session.roles.iter().map(|r| r.label().to_owned()).collect(),
    }))
}
