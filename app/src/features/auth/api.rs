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
    use crate::server::{allow_unauthenticated, services, session_token};
    use healipro_core::{auth, Error};
    allow_unauthenticated();
    // "Nobody" is an answer here, not an error: no status is set, so a page
    // rendering this header keeps its own status (e.g. the 302 to /login).
    let Some(token) = session_token() else {
        return Ok(None);
    };
    let (session, mut tx) = match auth::begin_authenticated(&services()?.db, &token).await {
        Ok(pair) => pair,
        Err(Error::Unauthenticated) => return Ok(None),
        Err(e) => return Err(e.into()),
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
