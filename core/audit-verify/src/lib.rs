//! The audit log's hash chain and its verification, with no database.
//!
//! * [`chain`]: what an entry is, its canonical JSON (RFC 8785) and hash.
//! * [`verify`]: walks entries and signed checkpoints, reporting the first
//!   broken seq and why.
//! * [`export`]: the signed JSON Lines export — writing one (for the server)
//!   and checking one with only the public key (for the standalone
//!   `healipro-audit-verify` binary).
//! * [`signature`]: Ed25519 signature checks with a public key given as hex.

pub mod chain;
pub mod export;
pub mod signature;
pub mod verify;
