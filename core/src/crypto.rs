//! The server-held secret key (until the crypto issue brings tenant key rings):
//! it seals small secrets at rest (TOTP secrets, JWT private keys) and keys the
//! hashes of one-time codes and workstation tokens.
//!
//! The key lives in a file of 64 hex characters, mode 600, never in the
//! database or git (`healipro keys init-server-key` creates one; development
//! keeps it in `.healipro/server.key`).

use crate::{Error, Result};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;
use std::path::Path;
use std::sync::Arc;

const NONCE_LEN: usize = 24;

#[derive(Clone)]
pub struct ServerKey(Arc<SecretBox<[u8; 32]>>);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey([REDACTED])")
    }
}

impl ServerKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Arc::new(SecretBox::new(Box::new(bytes))))
    }

    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    /// Reads a key file (64 hex characters).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!(
                "cannot read the server key {} ({e}); create it with `healipro keys init-server-key --file {}`",
                path.display(),
                path.display()
            ))
        })?;
        let raw = hex::decode(text.trim())
            .ok()
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(|| {
                Error::Config(format!(
                    "the server key {} must hold 64 hex characters",
                    path.display()
                ))
            })?;
        Ok(Self::from_bytes(raw))
    }

    /// Writes a new random key to `path` (mode 600); refuses to overwrite one,
    /// because everything sealed under the old key would become unreadable.
    pub fn create_file(path: &Path) -> Result<Self> {
        use std::io::Write as _;
        let key = Self::generate();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(path)
            .map_err(|e| Error::Config(format!("cannot create {} ({e})", path.display())))?;
        file.write_all(hex::encode(key.0.expose_secret()).as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .map_err(|e| Error::Config(format!("cannot write {} ({e})", path.display())))?;
        Ok(key)
    }

    /// Encrypts `plaintext`, bound to `context` (e.g. tenant + user ids): a
    /// sealed value copied to another row does not open.
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let cipher = XChaCha20Poly1305::new(self.0.expose_secret().into());
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .map_err(|_| Error::Internal("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return Err(Error::Internal("sealed value too short".into()));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        XChaCha20Poly1305::new(self.0.expose_secret().into())
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context,
                },
            )
            .map_err(|_| {
                Error::Internal("a sealed secret does not open with this server key".into())
            })
    }

    /// HMAC-SHA-256 of `data` under a key derived for `purpose`.
    pub fn mac(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.expose_secret())
            .expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data);
        mac.finalize().into_bytes().into()
    }
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
    fn seal_opens_only_with_its_context_and_key() {
        let key = ServerKey::generate();
        let sealed = key.seal(b"tenant-a/user-1", b"secret").unwrap();
        assert_eq!(key.open(b"tenant-a/user-1", &sealed).unwrap(), b"secret");
        assert!(key.open(b"tenant-b/user-1", &sealed).is_err());
        assert!(ServerKey::generate()
            .open(b"tenant-a/user-1", &sealed)
            .is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(key.open(b"tenant-a/user-1", &tampered).is_err());
    }

    #[test]
    fn mac_depends_on_purpose() {
        let key = ServerKey::generate();
        assert_ne!(key.mac("a", b"x"), key.mac("b", b"x"));
        assert_eq!(key.mac("a", b"x"), key.mac("a", b"x"));
    }
}
