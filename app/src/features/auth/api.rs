//! Sign-in server functions: password, second factor, enrolment, password
//! change, keep-alive, sign-out. Everything except these refuses a session
//! that has not finished signing in (`server::authed`).

use super::dto::{EnrolmentDto, MeDto, NextStepDto};
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "auth/login")]
pub async fn login(
    clinic_code: String,
    username: String,
    password: String,
) -> Result<NextStepDto, AppError> {
    use crate::server::{allow_unauthenticated, client_info, services, set_session_cookie};
    use healipro_core::auth::Credentials;
    allow_unauthenticated();
    let services = services()?;
    let creds = Credentials {
        clinic_code,
        username,
        password: password.into(),
    };
    let signed_in = services
        .auth
        .login(&services.db, &creds, &client_info())
        .await?;
    set_session_cookie(Some(&signed_in.token));
    Ok(NextStepDto {
        next: signed_in.session.stage.path().to_owned(),
    })
}

/// The second factor: a 6-digit TOTP code or a recovery code.
#[server(prefix = "/api", endpoint = "auth/totp/verify")]
pub async fn verify_code(code: String) -> Result<NextStepDto, AppError> {
    use crate::server::{authed_any_stage, client_info, services};
    use healipro_core::auth::Stage;
    let (session, tx) = authed_any_stage().await?;
    session.require_stage(&[Stage::Totp])?;
    let services = services()?;
    services
        .auth
        .verify_second_factor(tx, &session, &code, &client_info())
        .await?;
    next_step().await
}

/// Starts TOTP set-up: the QR code and the secret as text.
#[server(prefix = "/api", endpoint = "auth/totp/enrolment")]
pub async fn enrolment() -> Result<EnrolmentDto, AppError> {
    use crate::server::{authed_any_stage, services};
    use healipro_core::auth::Stage;
    let (session, mut tx) = authed_any_stage().await?;
    session.require_stage(&[Stage::TotpEnrolment])?;
    let e = services()?.auth.enrolment(&mut tx, &session).await?;
    tx.commit().await?;
    Ok(EnrolmentDto {
        secret: e.secret_base32,
        qr_svg: e.qr_svg,
    })
}

/// Confirms TOTP set-up with a first code; returns the ten recovery codes.
#[server(prefix = "/api", endpoint = "auth/totp/confirm")]
pub async fn confirm_enrolment(code: String) -> Result<Vec<String>, AppError> {
    use crate::server::{authed_any_stage, client_info, services};
    use healipro_core::auth::Stage;
    let (session, tx) = authed_any_stage().await?;
    session.require_stage(&[Stage::TotpEnrolment])?;
    Ok(services()?
        .auth
        .confirm_enrolment(tx, &session, &code, &client_info())
        .await?)
}

/// Changes the signed-in user's password (also the forced change).
#[server(prefix = "/api", endpoint = "auth/password/change")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<NextStepDto, AppError> {
    use crate::server::{authed_any_stage, client_info, services};
    use healipro_core::auth::Stage;
    use healipro_core::Error;
    let (session, tx) = authed_any_stage().await?;
    session.require_stage(&[Stage::Full, Stage::PasswordChange])?;
    if new_password != confirm_password {
        return Err(Error::validation(
            "confirm_password",
            "The two new passwords are not the same.",
        )
        .into());
    }
    services()?
        .auth
        .change_password(
            tx,
            &session,
            &current_password.into(),
            &new_password.into(),
            &client_info(),
        )
        .await?;
    next_step().await
}

/// Where the session goes next (after a step that changed its stage).
#[cfg(feature = "ssr")]
async fn next_step() -> Result<NextStepDto, AppError> {
    let (session, tx) = crate::server::authed_any_stage().await?;
    tx.commit().await?;
    Ok(NextStepDto {
        next: session.stage.path().to_owned(),
    })
}

/// Keep-alive: user activity without other requests (reading, typing) keeps
/// the server-side session as alive as the client's idle timer.
#[server(prefix = "/api", endpoint = "auth/ping")]
pub async fn ping() -> Result<(), AppError> {
    let (_session, tx) = crate::server::authed_any_role().await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "auth/logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::server::{allow_unauthenticated, services, session_token, set_session_cookie};
    allow_unauthenticated();
    if let Some(token) = session_token() {
        let services = services()?;
        services.auth.logout(&services.db, &token).await?;
    }
    set_session_cookie(None);
    Ok(())
}

/// The lock screen ends the idle session on the server (it is idle-expired
/// there already, or about to be). Unlike logout it leaves the cookie alone,
/// so a late answer can never clear the session the unlock has just created.
#[server(prefix = "/api", endpoint = "auth/lock")]
pub async fn lock_session() -> Result<(), AppError> {
    use crate::server::{allow_unauthenticated, services, session_token};
    allow_unauthenticated();
    if let Some(token) = session_token() {
        let services = services()?;
        services.auth.lock(&services.db, &token).await?;
    }
    Ok(())
}

/// Who is signed in (`None` when nobody is).
#[server(prefix = "/api", endpoint = "auth/me")]
pub async fn current_user() -> Result<Option<MeDto>, AppError> {
    use crate::server::{allow_unauthenticated, services, session_token, set_session_cookie};
    use healipro_core::auth::Stage;
    use healipro_core::Error;
    allow_unauthenticated();
    // "Nobody" is an answer here, not an error: no status is set, so a page
    // rendering this header keeps its own status (e.g. the 302 to /login).
    let Some(token) = session_token() else {
        return Ok(None);
    };
    let services = services()?;
    let authed = match services
        .auth
        .begin_authenticated(&services.db, &token)
        .await
    {
        Ok(a) => a,
        Err(Error::Unauthenticated) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if let Some(renewed) = &authed.renewed_token {
        set_session_cookie(Some(renewed));
    }
    let (session, mut tx) = (authed.session, authed.tx);
    let (clinic_code, clinic_name) = healipro_core::auth::clinic_code_and_name(&mut tx).await?;
    tx.commit().await?;
    Ok(Some(MeDto {
        display_name: session.display_name,
        username: session.username,
        clinic_code,
        clinic_name,
        roles: session
            .roles
            .iter()
            .map(|r| r.label().to_owned())
            .chain(session.custom_roles.iter().cloned())
            .collect(),
        // Only for showing and hiding navigation: every server function checks.
        permissions: if session.stage == Stage::Full {
            session.permissions.names()
        } else {
            Vec::new()
        },
        idle_timeout_secs: session.idle_timeout_secs,
        pending_step: (session.stage != Stage::Full).then(|| session.stage.path().to_owned()),
    }))
}
