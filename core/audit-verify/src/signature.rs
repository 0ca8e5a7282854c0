//! Ed25519 signature checks with a public key given as hex (the signing side
//! lives in `healipro-core`, next to the key file).

use ed25519_dalek::{Verifier, VerifyingKey};

/// Checks a signature with a public key given as 64 hex characters.
pub fn verify(public_hex: &str, message: &[u8], signature: &[u8]) -> Result<(), String> {
    let public = hex::decode(public_hex.trim())
        .ok()
        .and_then(|v| <[u8; 32]>::try_from(v).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        .ok_or("the public key is not 64 hex characters of an Ed25519 key")?;
    let signature = <[u8; 64]>::try_from(signature).map_err(|_| "a signature is not 64 bytes")?;
    public
        .verify(message, &ed25519_dalek::Signature::from_bytes(&signature))
        .map_err(|_| "the signature does not verify with this public key".to_owned())
}

/// The id verifiers see for a public key: its first 8 bytes, hex.
pub fn key_id(public_hex: &str) -> String {
    public_hex.trim().chars().take(16).collect()
}
