//! The audit signing key (Ed25519), held outside the database: a file of 64
//! hex characters (the seed), `HEALIPRO_AUDIT_KEY_FILE`, generated in
//! development. Anyone with the public key can check checkpoints and exports.

use crate::{Error, Result};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use secrecy::{ExposeSecret, SecretBox};
use std::path::Path;

pub struct AuditSigner {
    seed: SecretBox<[u8; 32]>,
    public: VerifyingKey,
}

impl std::fmt::Debug for AuditSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditSigner({})", self.key_id())
    }
}

impl AuditSigner {
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let public = SigningKey::from_bytes(&seed).verifying_key();
        Self {
            seed: SecretBox::new(Box::new(seed)),
            public,
        }
    }

    pub fn generate() -> Self {
        Self::from_seed(crate::crypto::random_bytes::<32>())
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!(
                "cannot read the audit signing key {} ({e}); create it with `healipro audit init-key --file {}`",
                path.display(),
                path.display()
            ))
        })?;
        let seed = hex::decode(text.trim())
            .ok()
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(|| {
                Error::Config(format!("{} must hold 64 hex characters", path.display()))
            })?;
        Ok(Self::from_seed(seed))
    }

    /// Creates a key file with a new key (mode 600); refuses to replace one,
    /// since checkpoints signed with it could no longer be re-signed.
    pub fn create_file(path: &Path) -> Result<Self> {
        if path.exists() {
            return Err(Error::Config(format!(
                "{} already exists; refusing to replace the audit signing key",
                path.display()
            )));
        }
        let seed = crate::crypto::random_bytes::<32>();
        crate::crypto::master::write_atomically(path, &format!("{}\n", hex::encode(seed)))?;
        Ok(Self::from_seed(seed))
    }

    /// The public key, hex (what verifiers are given).
    pub fn public_hex(&self) -> String {
        hex::encode(self.public.as_bytes())
    }

    /// A short id of the public key: its first 8 bytes, hex.
    pub fn key_id(&self) -> String {
        self.public_hex()[..16].to_owned()
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        SigningKey::from_bytes(self.seed.expose_secret())
            .sign(message)
            .to_bytes()
    }
}

pub use healipro_audit_verify::signature::verify;
