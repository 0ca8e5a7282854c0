//! Opening a section: the server's permission check behind the navigation.

use crate::error::AppError;
use leptos::prelude::*;

/// Checks that the signed-in user may use the placeholder section `section`
/// (a slug of [`super::SECTIONS`]) and returns its label; an unknown slug is
/// "not found", a missing permission "not allowed" (and recorded).
#[server(prefix = "/api", endpoint = "sections/open")]
pub async fn open_section(section: String) -> Result<String, AppError> {
    use super::Section;
    use healipro_core::{rbac::Permission, Error};
    let found = Section::placeholder(&section).ok_or(Error::NotFound)?;
    let permission = Permission::parse(found.permission)
        .ok_or_else(|| Error::Internal(format!("section {section}: no such permission")))?;
    let (_session, tx) = crate::server::authed(permission).await?;
    tx.commit().await?;
    Ok(found.label.to_owned())
}
