//! Draft server functions. Each form kind needs the permission of the form
//! itself (`healipro_core::drafts::permission_for`), checked first.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftDto {
    pub payload: String,
    /// When it was saved, e.g. "14:05 UTC".
    pub saved_at: String,
}

#[server(prefix = "/api", endpoint = "drafts/get")]
pub async fn get_draft(form_key: String) -> Result<Option<DraftDto>, AppError> {
    use crate::server::authed;
    use healipro_core::drafts;
    let (session, mut tx) = authed(drafts::permission_for(&form_key)?).await?;
    let draft = drafts::get(&mut tx, &session, &form_key).await?;
    tx.commit().await?;
    Ok(draft.map(|d| DraftDto {
        payload: d.payload,
        saved_at: d.updated_at.format("%d %b %H:%M UTC").to_string(),
    }))
}

#[server(prefix = "/api", endpoint = "drafts/save")]
pub async fn save_draft(form_key: String, payload: String) -> Result<(), AppError> {
    use crate::server::authed;
    use healipro_core::drafts;
    let (session, mut tx) = authed(drafts::permission_for(&form_key)?).await?;
    drafts::save(&mut tx, &session, &form_key, &payload).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "drafts/discard")]
pub async fn discard_draft(form_key: String) -> Result<(), AppError> {
    use crate::server::authed;
    use healipro_core::drafts;
    let (session, mut tx) = authed(drafts::permission_for(&form_key)?).await?;
    drafts::discard(&mut tx, &session, &form_key).await?;
    tx.commit().await?;
    Ok(())
}
