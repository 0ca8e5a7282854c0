//! The tenant list (`platform.tenants`): no PHI, readable by the runtime role for
//! login, writable only by the owner (operator CLI).

pub mod repo;

use crate::ids::TenantId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct Tenant {
    pub id: TenantId,
    pub code: String,
    pub name: String,
    pub tier: String,
}

/// A clinic code as typed at login: trimmed, lower-case, `[a-z][a-z0-9-]{1,31}`.
pub fn normalize_code(raw: &str) -> crate::Result<String> {
    let code = raw.trim().to_ascii_lowercase();
    let valid = (2..=32).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(code)
    } else {
        Err(crate::Error::validation(
            "clinic_code",
            "Clinic code is 2–32 letters, digits or dashes, e.g. alnoor",
        ))
    }
}
