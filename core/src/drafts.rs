//! Autosaved form drafts: one per user and form key, saved every few seconds
//! while someone types and when the screen locks, offered back after sign-in.
//! Any form can use them; each form kind names the permission it needs, so a
//! draft is only as reachable as the form itself. Payloads hold whatever was
//! typed (identifiers included), so they are encrypted like any field.

use crate::auth::Session;
use crate::crypto::Field;
use crate::db::TenantTx;
use crate::rbac::Permission;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

pub const MAX_PAYLOAD_BYTES: usize = 200_000;

/// The form kinds that keep drafts, and what each needs.
const FORMS: &[(&str, Permission)] = &[("patient-edit", Permission::PatientsWrite)];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub form_key: String,
    pub payload: String,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// The permission a form key (`kind:id`) needs; unknown kinds are refused.
pub fn permission_for(form_key: &str) -> Result<Permission> {
    let (kind, id) = form_key
        .split_once(':')
        .ok_or_else(|| Error::validation("form_key", "unknown form"))?;
    let id_ok =
        (1..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    FORMS
        .iter()
        .find(|(k, _)| *k == kind)
        .filter(|_| id_ok)
        .map(|(_, p)| *p)
        .ok_or_else(|| Error::validation("form_key", "unknown form"))
}

fn authorize(session: &Session, form_key: &str) -> Result<()> {
    session.require(permission_for(form_key)?)
}

pub async fn save(
    tx: &mut TenantTx,
    session: &Session,
    form_key: &str,
    payload: &str,
) -> Result<()> {
    authorize(session, form_key)?;
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(Error::validation(
            "payload",
            "This draft is too large to keep.",
        ));
    }
    // Every save is a new row id, so the id and the ciphertext bound to it
    // are replaced together.
    let id = uuid::Uuid::new_v4();
    let sealed = tx
        .keys_for_write()
        .await?
        .encrypt(Field::DraftPayload, id, payload.as_bytes())?;
    sqlx::query(
        "INSERT INTO clinic.drafts (tenant_id, user_id, form_key, id, payload_enc)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, user_id, form_key) DO UPDATE
            SET id = EXCLUDED.id, payload_enc = EXCLUDED.payload_enc, updated_at = now()",
    )
    .bind(tx.tenant())
    .bind(session.user_id)
    .bind(form_key)
    .bind(id)
    .bind(sealed)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn get(tx: &mut TenantTx, session: &Session, form_key: &str) -> Result<Option<Draft>> {
    authorize(session, form_key)?;
    let row: Option<(uuid::Uuid, Vec<u8>, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT id, payload_enc, updated_at FROM clinic.drafts
          WHERE tenant_id = $1 AND user_id = $2 AND form_key = $3",
    )
    .bind(tx.tenant())
    .bind(session.user_id)
    .bind(form_key)
    .fetch_optional(tx.conn())
    .await?;
    let Some((id, sealed, updated_at)) = row else {
        return Ok(None);
    };
    let plain = tx.decrypt(Field::DraftPayload, id, &sealed).await?;
    let payload = String::from_utf8(plain)
        .map_err(|_| Error::Internal("a draft payload is not text".into()))?;
    Ok(Some(Draft {
        form_key: form_key.to_owned(),
        payload,
        updated_at,
    }))
}

pub async fn discard(tx: &mut TenantTx, session: &Session, form_key: &str) -> Result<()> {
    authorize(session, form_key)?;
    sqlx::query(
        "DELETE FROM clinic.drafts WHERE tenant_id = $1 AND user_id = $2 AND form_key = $3",
    )
    .bind(tx.tenant())
    .bind(session.user_id)
    .bind(form_key)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_keys() {
        assert_eq!(
            permission_for("patient-edit:6f1c2b1e-0000-4000-8000-000000000000").unwrap(),
            Permission::PatientsWrite
        );
        assert!(permission_for("patient-edit").is_err());
        assert!(permission_for("unknown:1").is_err());
        assert!(permission_for("patient-edit:a b").is_err());
    }
}
