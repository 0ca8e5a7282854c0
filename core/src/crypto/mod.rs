//! Field-level encryption (promise 5, DESIGN §5).
//!
//! * [`MasterKeys`] (KEK) come from configuration and never reach the database.
//! * Each tenant has data keys (DEK) and one index key, stored in
//!   `clinic.tenant_keys` wrapped by a KEK ([`keys`]), cached per tenant in
//!   memory ([`Vault`], zeroized on drop) and reached through a `TenantTx`.
//! * [`ENCRYPTED_COLUMNS`] is the one list of encrypted columns: encryption
//!   takes a [`Field`] from it, so nothing encrypts ad hoc, and the catalog test
//!   checks the list against the schema.
//! * Ciphertext: `0x01 | key id (u32 BE) | nonce (24) | ciphertext+tag`, AAD
//!   `v1|tenant|table|column|row`: a value moved to another row, column or
//!   tenant does not decrypt.
//! * Blind index: `HMAC-SHA256(column key, normalised value)[..16]`, the column
//!   key being `HMAC-SHA256(tenant index key, "bidx|table|column")`.

pub mod keys;
pub mod master;
pub mod repo;
pub mod rotation;

pub use keys::{TenantKeys, Vault};
pub use master::MasterKeys;
pub use repo::KeyRow;

use rand::RngCore;

/// Every encrypted field. Adding one means adding its [`Column`] below and a
/// `bytea` column named `*_enc` in a migration (the catalog test checks both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    PatientCnic,
    PatientPhone,
    PatientAddress,
    UserTotpSecret,
    UserTotpPending,
    DraftPayload,
    AuditDetails,
}

/// Where a field is stored. Every table whose column rotates keys its rows by
/// `id` (the audit log is keyed by `seq` and never rewritten).
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub field: Field,
    pub table: &'static str,
    pub column: &'static str,
    /// The blind-index column beside it, for fields searched by exact value.
    pub blind_index: Option<&'static str>,
    /// Encrypted with the data key and re-encrypted by a DEK rotation. False
    /// only for the append-only audit log, whose hash chain covers the
    /// ciphertext: it has its own audit key, kept for as long as the log.
    pub rotates: bool,
}

/// The one list of encrypted columns (DESIGN §5).
pub const ENCRYPTED_COLUMNS: &[Column] = &[
    Column {
        field: Field::PatientCnic,
        table: "patients",
        column: "cnic_enc",
        blind_index: Some("cnic_bidx"),
        rotates: true,
    },
    Column {
        field: Field::PatientPhone,
        table: "patients",
        column: "phone_enc",
        blind_index: Some("phone_bidx"),
        rotates: true,
    },
    Column {
        field: Field::PatientAddress,
        table: "patients",
        column: "address_enc",
        blind_index: None,
        rotates: true,
    },
    Column {
        field: Field::UserTotpSecret,
        table: "users",
        column: "totp_secret_enc",
        blind_index: None,
        rotates: true,
    },
    Column {
        field: Field::UserTotpPending,
        table: "users",
        column: "totp_pending_enc",
        blind_index: None,
        rotates: true,
    },
    Column {
        field: Field::DraftPayload,
        table: "drafts",
        column: "payload_enc",
        blind_index: None,
        rotates: true,
    },
    Column {
        field: Field::AuditDetails,
        table: "audit_log",
        column: "details_enc",
        blind_index: None,
        rotates: false,
    },
];

impl Field {
    pub fn column(self) -> &'static Column {
        ENCRYPTED_COLUMNS
            .iter()
            .find(|c| c.field == self)
            .expect("every Field is in ENCRYPTED_COLUMNS")
    }
}

/// Format version byte of field ciphertexts.
pub const FORMAT_V1: u8 = 1;
/// version + key id + nonce.
pub const HEADER_LEN: usize = 1 + 4 + 24;
/// Bytes of a blind index.
pub const BLIND_INDEX_LEN: usize = 16;

/// The key id a field ciphertext names, if it is one.
pub fn key_id_of(ciphertext: &[u8]) -> Option<u32> {
    if ciphertext.len() < HEADER_LEN + 16 || ciphertext[0] != FORMAT_V1 {
        return None;
    }
    Some(u32::from_be_bytes([
        ciphertext[1],
        ciphertext[2],
        ciphertext[3],
        ciphertext[4],
    ]))
}

/// Random bytes from the OS.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_exactly_one_column() {
        for f in [
            Field::PatientCnic,
            Field::PatientPhone,
            Field::PatientAddress,
            Field::UserTotpSecret,
            Field::UserTotpPending,
            Field::DraftPayload,
            Field::AuditDetails,
        ] {
            assert_eq!(ENCRYPTED_COLUMNS.iter().filter(|c| c.field == f).count(), 1);
            assert!(f.column().column.ends_with("_enc"));
        }
    }
}
