//! The signed JSON Lines export of an audit chain segment.
//!
//! ```text
//! {"anchor_hash":…,"clinic_code":…,"first_seq":…,"format":"healipro-audit-export/v1",…}   header
//! {"action":…,"hash":…,"prev_hash":…,"seq":…,…}                                              one line per entry
//! {"checkpoint":{"hash":…,"key_id":…,"seq":…,"signature":…,"signed_at":…,"tenant_id":…}}    covering checkpoints
//! {"signature":{"ed25519":…,"key_id":…,"sha256":…}}                                          last line
//! ```
//!
//! Every line is canonical JSON (RFC 8785) and ends with `\n`. An entry line
//! is the entry as hashed plus its `hash`; its details stay encrypted (the
//! chain hashes the ciphertext), so an export carries no PHI beyond ids. The
//! last line signs `healipro-audit-export/v1|<SHA-256 hex of every byte
//! before it>`. The header's `anchor_hash` is the hash of entry
//! `first_seq - 1` (32 zero bytes when the export starts at entry 1), so a
//! segment verifies on its own, and the checkpoint signed at `last_seq` when
//! the export was made commits to every entry back to the anchor.

use crate::chain::{self, Entry, GENESIS};
use crate::verify::{SignedCheckpoint, Walker};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const FORMAT: &str = "healipro-audit-export/v1";

/// The first line of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub format: String,
    pub tenant_id: String,
    pub clinic_code: String,
    /// The clinic dates asked for (`YYYY-MM-DD`), if any.
    pub from: Option<String>,
    pub to: Option<String>,
    pub first_seq: i64,
    pub last_seq: i64,
    /// Hex of the hash of entry `first_seq - 1`.
    pub anchor_hash: String,
    pub exported_at: String,
    /// Id of the key that signs the file (first 8 bytes of the public key).
    pub key_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSignature {
    key_id: String,
    sha256: String,
    ed25519: String,
}

fn line(value: &serde_json::Value) -> String {
    let mut s = String::from_utf8(chain::canonical_value(value)).expect("JSON is UTF-8");
    s.push('\n');
    s
}

/// The message the last line signs.
pub fn file_message(body_sha256_hex: &str) -> Vec<u8> {
    format!("{FORMAT}|{body_sha256_hex}").into_bytes()
}

/// Builds an export line by line.
pub struct Writer {
    text: String,
}

impl Writer {
    pub fn new(header: &Header) -> Writer {
        Writer {
            text: line(&serde_json::to_value(header).expect("a header serialises")),
        }
    }

    pub fn entry(&mut self, entry: &Entry, hash: &[u8]) {
        let mut value = serde_json::to_value(entry).expect("an entry serialises");
        value
            .as_object_mut()
            .expect("an entry is an object")
            .insert("hash".into(), hex::encode(hash).into());
        self.text.push_str(&line(&value));
    }

    pub fn checkpoint(&mut self, c: &SignedCheckpoint) {
        self.text
            .push_str(&line(&serde_json::json!({ "checkpoint": c })));
    }

    /// Appends the signature line: `sign` signs [`file_message`].
    pub fn finish(mut self, key_id: &str, sign: impl FnOnce(&[u8]) -> [u8; 64]) -> String {
        let digest = hex::encode(Sha256::digest(self.text.as_bytes()));
        let signature = sign(&file_message(&digest));
        let last = FileSignature {
            key_id: key_id.to_owned(),
            sha256: digest,
            ed25519: hex::encode(signature),
        };
        self.text
            .push_str(&line(&serde_json::json!({ "signature": last })));
        self.text
    }
}

/// What a verified export holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub tenant_id: String,
    pub clinic_code: String,
    pub first_seq: i64,
    pub last_seq: i64,
    pub entries: u64,
    pub checkpoints: usize,
    pub key_id: String,
}

/// The first problem in an export: the line (1-based) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

fn problem<T>(line: usize, reason: impl Into<String>) -> Result<T, Problem> {
    Err(Problem {
        line,
        reason: reason.into(),
    })
}

/// Checks an export with only the public key (hex): the file signature, the
/// header, the chain from the anchor, and the checkpoints (one must sign the
/// last entry). Reports the first problem.
pub fn verify_export(text: &str, public_hex: &str) -> Result<Summary, Problem> {
    if !text.ends_with('\n') {
        return problem(
            text.lines().count(),
            "the file is cut short (no final newline)",
        );
    }
    let lines: Vec<&str> = text[..text.len() - 1].split('\n').collect();
    if lines.len() < 3 {
        return problem(
            lines.len(),
            "too short: an export has a header, entries and a signature",
        );
    }
    let last_no = lines.len();
    let body_len = text.len() - 1 - lines[last_no - 1].len();
    let signature: FileSignature =
        match serde_json::from_str::<serde_json::Value>(lines[last_no - 1])
            .ok()
            .and_then(|mut v| v.get_mut("signature").map(serde_json::Value::take))
            .and_then(|v| serde_json::from_value(v).ok())
        {
            Some(s) => s,
            None => return problem(last_no, "the last line is not the file signature"),
        };
    let digest = hex::encode(Sha256::digest(&text.as_bytes()[..body_len]));
    if digest != signature.sha256 {
        return problem(
            last_no,
            "the file does not match the digest it was signed with: a line was changed, added or removed after signing",
        );
    }
    let sig = hex::decode(&signature.ed25519).unwrap_or_default();
    if let Err(why) = crate::signature::verify(public_hex, &file_message(&digest), &sig) {
        return problem(
            last_no,
            format!("file signature: {why} (wrong key, or a forged file)"),
        );
    }

    let header: Header = match serde_json::from_str(lines[0]) {
        Ok(h) => h,
        Err(e) => return problem(1, format!("not an export header ({e})")),
    };
    if header.format != FORMAT {
        return problem(
            1,
            format!("unknown format `{}` (expected {FORMAT})", header.format),
        );
    }
    let anchor = match hex::decode(&header.anchor_hash)
        .ok()
        .and_then(|v| <[u8; 32]>::try_from(v).ok())
    {
        Some(a) => a,
        None => return problem(1, "anchor_hash is not 32 bytes of hex"),
    };
    if header.first_seq < 1 || (header.first_seq == 1 && anchor != GENESIS) {
        return problem(
            1,
            "an export from entry 1 must be anchored at the genesis hash",
        );
    }
    let mut walker = Walker::starting_after(header.first_seq - 1, anchor);
    let mut checkpoints = Vec::new();
    for (i, text_line) in lines[1..last_no - 1].iter().enumerate() {
        let no = i + 2;
        let mut value: serde_json::Value = match serde_json::from_str(text_line) {
            Ok(v) => v,
            Err(e) => return problem(no, format!("not JSON ({e})")),
        };
        if let Some(c) = value.get_mut("checkpoint").map(serde_json::Value::take) {
            match serde_json::from_value::<SignedCheckpoint>(c) {
                Ok(c) if c.tenant_id == header.tenant_id => checkpoints.push((no, c)),
                Ok(_) => return problem(no, "a checkpoint of another clinic"),
                Err(e) => return problem(no, format!("not a checkpoint ({e})")),
            }
            continue;
        }
        if !checkpoints.is_empty() {
            return problem(no, "an entry after the checkpoints");
        }
        let hash = value
            .as_object_mut()
            .and_then(|m| m.remove("hash"))
            .and_then(|h| h.as_str().and_then(|h| hex::decode(h).ok()));
        let Some(hash) = hash else {
            return problem(no, "an entry without a hex `hash`");
        };
        let entry: Entry = match serde_json::from_value(value) {
            Ok(e) => e,
            Err(e) => return problem(no, format!("not an audit entry ({e})")),
        };
        if entry.tenant_id != header.tenant_id {
            return problem(no, format!("entry {} belongs to another clinic", entry.seq));
        }
        walker.push(&entry, &hash);
        if let Some(b) = &walker.first_break {
            return problem(no, b.reason.clone());
        }
    }
    let entries = walker.entries;
    if entries == 0 || walker.last_seq() != header.last_seq {
        return problem(
            last_no - 1,
            format!(
                "the header promises entries {}..={} but the file ends at entry {}",
                header.first_seq,
                header.last_seq,
                walker.last_seq()
            ),
        );
    }
    for (no, c) in &checkpoints {
        walker.check_checkpoints(std::slice::from_ref(c), public_hex);
        if let Some(b) = &walker.first_break {
            return problem(*no, b.reason.clone());
        }
    }
    if !checkpoints.iter().any(|(_, c)| c.seq == header.last_seq) {
        return problem(
            last_no - 1,
            format!(
                "no signed checkpoint covers the last entry ({})",
                header.last_seq
            ),
        );
    }
    Ok(Summary {
        tenant_id: header.tenant_id,
        clinic_code: header.clinic_code,
        first_seq: header.first_seq,
        last_seq: header.last_seq,
        entries,
        checkpoints: checkpoints.len(),
        key_id: signature.key_id,
    })
}
