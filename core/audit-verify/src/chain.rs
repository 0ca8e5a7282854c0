//! The hash chain: what an entry is, its canonical JSON (RFC 8785) and hash.
//! Pure code shared by the database side and the standalone export verifier.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The previous hash of a tenant's first entry.
pub const GENESIS: [u8; 32] = [0u8; 32];

/// One audit entry as hashed (everything but `hash`). Times are UTC with
/// microseconds (what PostgreSQL stores), ids are lower-case hyphenated UUIDs,
/// byte strings are lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub tenant_id: String,
    pub seq: i64,
    pub at: String,
    pub actor_user_id: Option<String>,
    pub actor_username: String,
    pub actor_roles: Vec<String>,
    pub action: String,
    pub patient_id: Option<String>,
    pub object_type: String,
    pub object_id: String,
    pub ip: String,
    pub workstation_id: Option<String>,
    /// Hex of the details ciphertext, if any.
    pub details_enc: Option<String>,
    /// Hex of the previous entry's hash.
    pub prev_hash: String,
}

/// RFC 8785 canonical JSON of an entry. The values are strings, integers
/// below 2^53, null and arrays of strings, and the keys are ASCII, so
/// serde_json's compact output of a key-sorted map is the canonical form
/// (same escapes: `\"`, `\\`, `\b\f\n\r\t`, `\u00xx` for other controls; no
/// escaping of `/` or non-ASCII).
pub fn canonical_json(entry: &Entry) -> Vec<u8> {
    canonical_value(&serde_json::to_value(entry).expect("an entry serialises"))
}

/// Canonical JSON of a value of the same kinds (objects are key-sorted at
/// every level; serde_json's compact output does the rest).
pub fn canonical_value(value: &serde_json::Value) -> Vec<u8> {
    fn sorted(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(map) => {
                let ordered: BTreeMap<&String, serde_json::Value> =
                    map.iter().map(|(k, v)| (k, sorted(v))).collect();
                serde_json::to_value(ordered).expect("a map serialises")
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(sorted).collect())
            }
            other => other.clone(),
        }
    }
    serde_json::to_vec(&sorted(value)).expect("a value serialises")
}

/// `SHA-256(prev_hash || canonical_json(entry))`.
pub fn hash(prev_hash: &[u8; 32], entry: &Entry) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev_hash);
    h.update(canonical_json(entry));
    h.finalize().into()
}

/// An entry's canonical JSON in three pieces around the values only known
/// under the tenant's audit lock: `head + at + mid + prev_hash hex +
/// "\",\"seq\":" + seq + tail` is `canonical_json(entry)` (the database
/// fills them in when it appends an entry without details in one round trip).
/// The entry's own `at`, `prev_hash` and `seq` are ignored.
pub fn canonical_pieces(entry: &Entry) -> (String, String, String) {
    let mut e = entry.clone();
    e.at = String::new();
    e.prev_hash = String::new();
    e.seq = 0;
    let json = String::from_utf8(canonical_json(&e)).expect("JSON is UTF-8");
    // Inside a JSON string every `"` is escaped, so these keys are found only
    // where they are keys.
    const AT: &str = ",\"at\":\"";
    const PREV: &str = "\"prev_hash\":\"";
    const SEQ: &str = "\",\"seq\":0";
    let i = json.find(AT).expect("an entry has `at`") + AT.len();
    let j = i + json[i..].find(PREV).expect("an entry has `prev_hash`") + PREV.len();
    debug_assert!(json[j..].starts_with(SEQ));
    (
        json[..i].to_owned(),
        json[i..j].to_owned(),
        json[j + SEQ.len()..].to_owned(),
    )
}

/// The message a checkpoint signs: `healipro-audit-checkpoint/v1|tenant|seq|hash hex|time`.
pub fn checkpoint_message(tenant_id: &str, seq: i64, hash_hex: &str, signed_at: &str) -> Vec<u8> {
    format!("healipro-audit-checkpoint/v1|{tenant_id}|{seq}|{hash_hex}|{signed_at}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            tenant_id: "6f1c2b1e-0000-4000-8000-000000000000".into(),
            seq: 1,
            at: "2026-11-29T10:00:00.123456Z".into(),
            actor_user_id: None,
            actor_username: "a\"b\\c\n\u{1}é/".into(),
            actor_roles: vec!["admin".into()],
            action: "login.succeeded".into(),
            patient_id: None,
            object_type: String::new(),
            object_id: String::new(),
            ip: "127.0.0.1".into(),
            workstation_id: None,
            details_enc: None,
            prev_hash: hex::encode(GENESIS),
        }
    }

    #[test]
    fn canonical_json_sorts_keys_and_escapes_like_rfc8785() {
        let json = String::from_utf8(canonical_json(&entry())).unwrap();
        assert!(json.starts_with(r#"{"action":"login.succeeded","actor_roles":["admin"],"actor_user_id":null,"actor_username":"a\"b\\c\n\u0001é/","at":"#), "{json}");
        assert!(!json.contains(' '));
    }

    #[test]
    fn the_pieces_reassemble_to_the_canonical_json() {
        for name in [
            "plain",
            "a\",\"at\":\"x",
            "\"prev_hash\":\"",
            "back\\",
            "é\u{1}",
        ] {
            let mut e = entry();
            e.actor_username = name.into();
            e.object_id = name.into();
            e.seq = 42;
            e.prev_hash = hex::encode([7u8; 32]);
            e.details_enc = None;
            e.workstation_id = Some("6f1c2b1e-0000-4000-8000-000000000009".into());
            let (head, mid, tail) = canonical_pieces(&e);
            let joined = format!(
                "{head}{}{mid}{}\",\"seq\":{}{tail}",
                e.at, e.prev_hash, e.seq
            );
            assert_eq!(joined.as_bytes(), canonical_json(&e).as_slice(), "{name}");
        }
    }

    #[test]
    fn any_change_changes_the_hash() {
        let e = entry();
        let h = hash(&GENESIS, &e);
        let mut other = e.clone();
        other.seq = 2;
        assert_ne!(hash(&GENESIS, &other), h);
        assert_ne!(hash(&[1u8; 32], &e), h);
    }
}
