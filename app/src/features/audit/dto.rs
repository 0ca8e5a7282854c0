//! What the audit pages and the server exchange (shared with the WASM).

use serde::{Deserialize, Serialize};

/// The filters as the form holds them (empty = any).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilterDto {
    /// A user id from [`AuditChoicesDto::users`].
    pub user: String,
    /// An MR number as typed, or a patient id (links from the patient page).
    pub patient: String,
    /// An action name (`patient.opened`).
    pub action: String,
    /// `YYYY-MM-DD`, clinic time.
    pub from: String,
    pub to: String,
    /// A workstation id from [`AuditChoicesDto::workstations`].
    pub workstation: String,
}

/// An entry's details, decrypted on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditDetailsDto {
    None,
    /// Pretty-printed JSON.
    Json(String),
    /// The stored details do not decrypt (altered, or the key is gone).
    Unreadable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntryDto {
    pub seq: i64,
    /// Clinic time (UTC+05:00), e.g. `05 Mar 2026 14:03:22`.
    pub at: String,
    /// RFC 3339 with the clinic offset, for `<time datetime>`.
    pub at_iso: String,
    /// `None` for the platform operator (key rotations).
    pub actor_user_id: Option<String>,
    pub actor_username: String,
    /// The user's current name; empty when the user no longer exists (or
    /// for the platform operator).
    pub actor_display_name: String,
    pub actor_roles: Vec<String>,
    pub action: String,
    pub patient_id: Option<String>,
    pub patient_mr_number: Option<String>,
    pub patient_name: Option<String>,
    pub object_type: String,
    pub object_id: String,
    pub ip: String,
    pub workstation_id: Option<String>,
    /// The workstation's name; empty when none or deleted since.
    pub workstation_name: String,
    pub details: AuditDetailsDto,
}

/// A patient a filter names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPatientDto {
    pub id: String,
    pub mr_number: String,
    pub full_name: String,
}

/// One page of a search, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPageDto {
    pub entries: Vec<AuditEntryDto>,
    /// Pass as `before_seq` for the next (older) page; `None` on the last.
    pub older: Option<i64>,
    /// The patient the filter named, resolved.
    pub patient: Option<AuditPatientDto>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditUserDto {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub active: bool,
}

/// What the filters offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditChoicesDto {
    pub users: Vec<AuditUserDto>,
    /// (id, name)
    pub workstations: Vec<(String, String)>,
    pub actions: Vec<String>,
}

/// A signed JSON Lines export, for the browser to save.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditExportDto {
    /// `audit-<clinic>-<from>-<to>.jsonl`
    pub filename: String,
    pub jsonl: String,
    pub entries: u64,
    pub first_seq: i64,
    pub last_seq: i64,
}

#[cfg(feature = "ssr")]
impl From<healipro_core::audit::search::Found> for AuditEntryDto {
    fn from(f: healipro_core::audit::search::Found) -> Self {
        use healipro_core::audit::{clinic_offset, search::Details};
        let local = f.at.with_timezone(&clinic_offset());
        AuditEntryDto {
            seq: f.seq,
            at: local.format("%d %b %Y %H:%M:%S").to_string(),
            at_iso: local.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            actor_user_id: f.actor_user_id.map(|u| u.to_string()),
            actor_username: f.actor_username,
            actor_display_name: f.actor_display_name.unwrap_or_default(),
            actor_roles: f.actor_roles,
            action: f.action,
            patient_id: f.patient_id.map(|p| p.to_string()),
            patient_mr_number: f.patient_mr_number,
            patient_name: f.patient_name,
            object_type: f.object_type,
            object_id: f.object_id,
            ip: f.ip,
            workstation_id: f.workstation_id.map(|w| w.to_string()),
            workstation_name: f.workstation_name.unwrap_or_default(),
            details: match f.details {
                Details::None => AuditDetailsDto::None,
                Details::Readable(v) => AuditDetailsDto::Json(
                    serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string()),
                ),
                Details::Unreadable => AuditDetailsDto::Unreadable,
            },
        }
    }
}
