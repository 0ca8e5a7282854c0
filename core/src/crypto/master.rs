//! The master keys (KEK): the only secrets the database never sees. They wrap
//! each tenant's data and index keys and the platform's own secrets (JWT private
//! keys); everything else is derived from what they unwrap.
//!
//! They come from configuration: a key file (mode 600; development keeps it in
//! `.healipro/server.key`) or the `HEALIPRO_MASTER_KEYS` variable, never the
//! database, git or a log (`Debug` prints only the ids). The file holds one key
//! per line, `<id> <64 hex characters>`; the **last** line is the active key,
//! which wraps everything new. Older lines stay readable until `healipro keys
//! rotate-kek` has rewrapped everything under the active key and `healipro keys
//! retire-kek` removes them. A bare line of 64 hex characters (the format before
//! key ids) is key `k0`.

use crate::{Error, Result};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

const NONCE_LEN: usize = 24;
/// The id a key file without ids gives its single key.
pub const LEGACY_ID: &str = "k0";

struct Kek {
    id: String,
    key: SecretBox<[u8; 32]>,
}

struct Inner {
    /// Oldest first; the last one is active.
    keys: RwLock<Vec<Arc<Kek>>>,
    /// Where the keys came from, to pick up a key added by `rotate-kek` while
    /// this process runs (None when they came from the environment).
    file: Option<PathBuf>,
}

#[derive(Clone)]
pub struct MasterKeys(Arc<Inner>);

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKeys({:?}, [REDACTED])", self.ids())
    }
}

fn random_key() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// A new key id: `kek-` and the UTC time to the second, so ids sort by age.
fn new_id() -> String {
    format!("kek-{}", chrono::Utc::now().format("%Y%m%d%H%M%S"))
}

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Parses key-file text; `origin` names the source in error messages (never a
/// key byte).
fn parse(text: &str, origin: &str) -> Result<Vec<Arc<Kek>>> {
    let bad = |n: usize, why: &str| {
        Error::Config(format!(
            "master keys {origin}, line {n}: {why} (expected `<id> <64 hex characters>`)"
        ))
    };
    let mut keys: Vec<Arc<Kek>> = Vec::new();
    for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (id, hex_key) = match (parts.next(), parts.next(), parts.next()) {
            (Some(hex_key), None, None) => (LEGACY_ID, hex_key),
            (Some(id), Some(hex_key), None) => (id, hex_key),
            _ => return Err(bad(n, "too many fields")),
        };
        if !valid_id(id) {
            return Err(bad(n, "the id may hold letters, digits, '.', '_' and '-'"));
        }
        let raw = hex::decode(hex_key)
            .ok()
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(|| bad(n, "the key must be 64 hex characters"))?;
        if keys.iter().any(|k| k.id == id) {
            return Err(bad(n, "this id appears twice"));
        }
        keys.push(Arc::new(Kek {
            id: id.to_owned(),
            key: SecretBox::new(Box::new(raw)),
        }));
    }
    if keys.is_empty() {
        return Err(Error::Config(format!("master keys {origin}: no key found")));
    }
    Ok(keys)
}

fn render(keys: &[Arc<Kek>]) -> String {
    let mut out = String::from(
        "# Healipro master keys (KEK). One `<id> <hex>` per line; the last line is active.\n\
         # Never commit, log or copy this file into the database.\n",
    );
    for k in keys {
        out.push_str(&format!(
            "{} {}\n",
            k.id,
            hex::encode(k.key.expose_secret())
        ));
    }
    out
}

/// Writes `text` to `path` atomically (temporary file, mode 600, then rename).
pub(crate) fn write_atomically(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let io = |e: std::io::Error| Error::Config(format!("cannot write {} ({e})", path.display()));
    let mut file = options.open(&tmp).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

impl MasterKeys {
    fn from_keys(keys: Vec<Arc<Kek>>, file: Option<PathBuf>) -> Self {
        Self(Arc::new(Inner {
            keys: RwLock::new(keys),
            file,
        }))
    }

    /// One fresh random key held only in memory (tests).
    pub fn generate() -> Self {
        Self::from_keys(
            vec![Arc::new(Kek {
                id: "test".into(),
                key: SecretBox::new(Box::new(random_key())),
            })],
            None,
        )
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<Self> {
        let keys = parse(&read_file(path)?, &path.display().to_string())?;
        Ok(Self::from_keys(keys, Some(path.to_owned())))
    }

    /// Keys given as text (the `HEALIPRO_MASTER_KEYS` variable): the key-file
    /// format, lines separated by newlines or `;`.
    pub fn from_text(text: &str) -> Result<Self> {
        let keys = parse(&text.replace(';', "\n"), "from the environment")?;
        Ok(Self::from_keys(keys, None))
    }

    /// Creates a key file with one new key; refuses to overwrite one, because
    /// everything wrapped under the old keys would become unreadable.
    pub fn create_file(path: &Path) -> Result<Self> {
        if path.exists() {
            return Err(Error::Config(format!(
                "{} already exists; refusing to replace master keys",
                path.display()
            )));
        }
        let keys = vec![Arc::new(Kek {
            id: new_id(),
            key: SecretBox::new(Box::new(random_key())),
        })];
        write_atomically(path, &render(&keys))?;
        Ok(Self::from_keys(keys, Some(path.to_owned())))
    }

    fn snapshot(&self) -> Vec<Arc<Kek>> {
        self.0
            .keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn active(&self) -> Arc<Kek> {
        self.snapshot()
            .last()
            .cloned()
            .expect("a key ring is never empty")
    }

    /// The key that wraps everything new.
    pub fn active_id(&self) -> String {
        self.active().id.clone()
    }

    /// Every key id, oldest first (the last is active).
    pub fn ids(&self) -> Vec<String> {
        self.snapshot().iter().map(|k| k.id.clone()).collect()
    }

    /// Re-reads the key file (a no-op for keys from the environment).
    pub fn reload(&self) -> Result<()> {
        if let Some(path) = &self.0.file {
            let keys = parse(&read_file(path)?, &path.display().to_string())?;
            *self
                .0
                .keys
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = keys;
        }
        Ok(())
    }

    fn find(&self, id: &str) -> Result<Arc<Kek>> {
        let lookup = |keys: Vec<Arc<Kek>>| keys.into_iter().find(|k| k.id == id);
        if let Some(k) = lookup(self.snapshot()) {
            return Ok(k);
        }
        // Another process may have added a key (rotate-kek) since we loaded.
        self.reload()?;
        lookup(self.snapshot()).ok_or_else(|| {
            Error::Config(format!(
                "master key `{id}` is not configured (configured: {}); a wrapped key \
                 needs it — restore it in the key file, or rotate with the old key present",
                self.ids().join(", ")
            ))
        })
    }

    /// Encrypts `plaintext` under the active key (re-read from the key file),
    /// bound to `context`: a wrapped value copied to another row does not
    /// unwrap. Returns the key id.
    pub fn wrap(&self, context: &[u8], plaintext: &[u8]) -> Result<(String, Vec<u8>)> {
        // Wrapping is rare (a new tenant, a rotation): read the file again so
        // a key added by `rotate-kek` in another process becomes active here.
        self.reload()?;
        let kek = self.active();
        let sealed = seal(kek.key.expose_secret(), context, plaintext)?;
        Ok((kek.id.clone(), sealed))
    }

    /// Decrypts a value wrapped under key `kek_id`.
    pub fn unwrap(&self, kek_id: &str, context: &[u8], wrapped: &[u8]) -> Result<Vec<u8>> {
        let kek = self.find(kek_id)?;
        open(kek.key.expose_secret(), context, wrapped).map_err(|()| {
            Error::Config(format!(
                "a wrapped key does not open with master key `{kek_id}`: the key file holds a \
                 different key under that id, or the wrapped value was altered"
            ))
        })
    }

    /// Adds a new active key to the key file (the first step of
    /// `rotate-kek`); the old keys stay until [`MasterKeys::retire`].
    pub fn add_key_to_file(&self) -> Result<String> {
        let path = self.0.file.clone().ok_or_else(|| {
            Error::Config(
                "the master keys come from HEALIPRO_MASTER_KEYS; rotate them with a key file"
                    .into(),
            )
        })?;
        self.reload()?;
        let mut keys = self.snapshot();
        let mut id = new_id();
        while keys.iter().any(|k| k.id == id) {
            id.push('a');
        }
        keys.push(Arc::new(Kek {
            id: id.clone(),
            key: SecretBox::new(Box::new(random_key())),
        }));
        write_atomically(&path, &render(&keys))?;
        self.reload()?;
        Ok(id)
    }

    /// Removes every key but the active one and those in `still_used` from the
    /// key file; returns the removed ids.
    pub fn retire(&self, still_used: &[String]) -> Result<Vec<String>> {
        let path = self
            .0
            .file
            .clone()
            .ok_or_else(|| Error::Config("the master keys come from the environment".into()))?;
        self.reload()?;
        let keys = self.snapshot();
        let active = self.active_id();
        let (keep, gone): (Vec<_>, Vec<_>) = keys
            .into_iter()
            .partition(|k| k.id == active || still_used.contains(&k.id));
        if !gone.is_empty() {
            write_atomically(&path, &render(&keep))?;
            self.reload()?;
        }
        Ok(gone.iter().map(|k| k.id.clone()).collect())
    }
}

fn read_file(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        Error::Config(format!(
            "cannot read the master key file {} ({e}); create it with `healipro keys init-server-key --file {}`",
            path.display(),
            path.display()
        ))
    })
}

/// XChaCha20-Poly1305 with a random nonce: `nonce | ciphertext+tag`.
pub(crate) fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let sealed = XChaCha20Poly1305::new(key.into())
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| Error::Internal("encryption failed".into()))?;
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// The inverse of [`seal`]; `Err(())` for a wrong key, AAD or altered bytes.
pub(crate) fn open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> std::result::Result<Vec<u8>, ()> {
    if sealed.len() < NONCE_LEN + 16 {
        return Err(());
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    XChaCha20Poly1305::new(key.into())
        .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
        .map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_opens_only_with_its_context_and_key() {
        let keys = MasterKeys::generate();
        let (id, sealed) = keys.wrap(b"tenant-a/1", b"secret").unwrap();
        assert_eq!(keys.unwrap(&id, b"tenant-a/1", &sealed).unwrap(), b"secret");
        assert!(keys.unwrap(&id, b"tenant-b/1", &sealed).is_err());
        let other = MasterKeys::generate();
        let err = other.unwrap(&id, b"tenant-a/1", &sealed).unwrap_err();
        assert!(err.to_string().contains("does not open"), "{err}");
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(keys.unwrap(&id, b"tenant-a/1", &tampered).is_err());
        let missing = keys.unwrap("kek-nope", b"tenant-a/1", &sealed).unwrap_err();
        assert!(missing.to_string().contains("not configured"), "{missing}");
    }

    #[test]
    fn key_file_rotation_keeps_old_keys_until_retired() {
        let dir = std::env::temp_dir().join(format!("hp-kek-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys");
        // The legacy format: one bare key.
        std::fs::write(&path, format!("{}\n", hex::encode([7u8; 32]))).unwrap();
        let keys = MasterKeys::load(&path).unwrap();
        assert_eq!(keys.ids(), vec![LEGACY_ID.to_owned()]);
        let (old, wrapped) = keys.wrap(b"c", b"v").unwrap();
        let running_server = MasterKeys::load(&path).unwrap();
        let new = keys.add_key_to_file().unwrap();
        assert_eq!(keys.active_id(), new);
        // A process loaded before the rotation wraps under the new key too.
        assert_eq!(running_server.wrap(b"c", b"v").unwrap().0, new);
        // Another process loading the file sees both keys.
        let other = MasterKeys::load(&path).unwrap();
        assert_eq!(other.unwrap(&old, b"c", &wrapped).unwrap(), b"v");
        assert_eq!(other.retire(&[]).unwrap(), vec![old.clone()]);
        let reloaded = MasterKeys::load(&path).unwrap();
        assert!(reloaded.unwrap(&old, b"c", &wrapped).is_err());
        assert!(format!("{keys:?}").contains(&new));
        assert!(!format!("{keys:?}").contains(&hex::encode([7u8; 32])));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_key_files_are_clear_errors() {
        for (text, says) in [
            ("", "no key found"),
            ("k1 abcd", "64 hex"),
            ("k1 a b", "too many"),
            (
                "k/1 0000000000000000000000000000000000000000000000000000000000000000",
                "id",
            ),
        ] {
            let err = MasterKeys::from_text(text).unwrap_err().to_string();
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }
}
