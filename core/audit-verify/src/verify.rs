//! Verification of a chain and its checkpoints: pure over the entries, so the
//! database walk and the export verifier report the same way.

use crate::chain::{self, Entry, GENESIS};
use std::collections::HashMap;

/// A checkpoint as verified (hex fields, as exported).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignedCheckpoint {
    pub tenant_id: String,
    pub seq: i64,
    pub hash: String,
    pub signed_at: String,
    pub key_id: String,
    pub signature: String,
}

/// The first problem found, at which seq, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub seq: i64,
    pub reason: String,
}

/// Walks entries in the order given, keeping what it needs to check links.
#[derive(Default)]
pub struct Walker {
    last_seq: i64,
    last_hash: Option<[u8; 32]>,
    seen: HashMap<[u8; 32], i64>,
    hashes_at: HashMap<i64, [u8; 32]>,
    pub entries: u64,
    pub first_break: Option<Break>,
}

impl Walker {
    /// Starts after a known entry (an export that begins mid-chain).
    pub fn starting_after(seq: i64, hash: [u8; 32]) -> Self {
        Walker {
            last_seq: seq,
            last_hash: Some(hash),
            ..Walker::default()
        }
    }

    /// Records a problem found outside the walk (kept only if it is the first).
    pub fn fail(&mut self, seq: i64, reason: String) {
        if self.first_break.is_none() {
            self.first_break = Some(Break { seq, reason });
        }
    }

    /// Checks one entry against the previous one and its stored hash.
    pub fn push(&mut self, entry: &Entry, stored_hash: &[u8]) {
        self.entries += 1;
        let seq = entry.seq;
        let expected_seq = self.last_seq + 1;
        if seq != expected_seq {
            let why = if seq > expected_seq {
                format!("entry {expected_seq} is missing (deleted?); the chain jumps to {seq}")
            } else {
                format!(
                    "entry {seq} appears after entry {} (reordered or duplicated)",
                    self.last_seq
                )
            };
            self.fail(expected_seq.min(seq), why);
        }
        let prev = hex::decode(&entry.prev_hash)
            .ok()
            .and_then(|v| <[u8; 32]>::try_from(v).ok());
        let expected_prev = self.last_hash.unwrap_or(GENESIS);
        match prev {
            None => self.fail(seq, "prev_hash is not 32 bytes of hex".into()),
            Some(p) if p != expected_prev => {
                let why = match self.seen.get(&p) {
                    Some(&other) => format!(
                        "forked: entry {seq} continues from entry {other}, not from entry {}",
                        self.last_seq
                    ),
                    None => format!(
                        "entry {seq} does not link to entry {} (inserted or altered)",
                        self.last_seq
                    ),
                };
                self.fail(seq, why);
            }
            Some(p) => {
                let recomputed = chain::hash(&p, entry);
                if recomputed[..] != *stored_hash {
                    self.fail(
                        seq,
                        format!("entry {seq} was altered: its hash does not match its content"),
                    );
                }
            }
        }
        let stored: [u8; 32] = <[u8; 32]>::try_from(stored_hash).unwrap_or([0u8; 32]);
        if let Some(&other) = self.seen.get(&stored) {
            self.fail(
                seq,
                format!("entry {seq} repeats the hash of entry {other}"),
            );
        }
        self.seen.insert(stored, seq);
        self.hashes_at.insert(seq, stored);
        self.last_seq = seq;
        self.last_hash = Some(stored);
    }

    /// Checks checkpoints against the walked chain: each signature verifies
    /// with `public_hex`, each names a hash the chain has at that seq, and
    /// the chain reaches the latest one (else its tail was cut off).
    pub fn check_checkpoints(&mut self, checkpoints: &[SignedCheckpoint], public_hex: &str) {
        for c in checkpoints {
            let message = chain::checkpoint_message(&c.tenant_id, c.seq, &c.hash, &c.signed_at);
            let signature = hex::decode(&c.signature).unwrap_or_default();
            if let Err(why) = crate::signature::verify(public_hex, &message, &signature) {
                self.fail(c.seq, format!("checkpoint at entry {}: {why}", c.seq));
                continue;
            }
            if c.seq > self.last_seq {
                self.fail(
                    self.last_seq + 1,
                    format!(
                        "the chain ends at entry {} but a signed checkpoint covers entry {}: the tail was truncated",
                        self.last_seq, c.seq
                    ),
                );
                continue;
            }
            match self.hashes_at.get(&c.seq) {
                Some(h) if hex::encode(h) == c.hash => {}
                Some(_) => self.fail(
                    c.seq,
                    format!(
                        "entry {} differs from the signed checkpoint (history rewritten)",
                        c.seq
                    ),
                ),
                // Before the first entry this walk saw (an export from mid-chain).
                None => {}
            }
        }
    }

    pub fn last_seq(&self) -> i64 {
        self.last_seq
    }
}
