//! Tenant key rings: the data keys (DEK) and index key of one clinic, stored
//! wrapped in `clinic.tenant_keys` and cached in memory by the [`Vault`].

use super::master::{self, MasterKeys};
use super::repo::{self, KeyRow};
use super::{key_id_of, Field, BLIND_INDEX_LEN, FORMAT_V1};
use crate::db::TenantTx;
use crate::ids::TenantId;
use crate::{Error, Result};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a process trusts its cached copy of a tenant's keys: a key
/// destroyed by another process (crypto-shred, the end of a DEK rotation)
/// stops working here within this time.
pub const CACHE_TTL: Duration = Duration::from_secs(300);

pub(crate) type Key = SecretBox<[u8; 32]>;

fn key_from(bytes: Vec<u8>) -> Result<Key> {
    let mut bytes = secrecy::zeroize::Zeroizing::new(bytes);
    let arr = <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| Error::KeyUnavailable("a tenant key has the wrong length".into()))?;
    secrecy::zeroize::Zeroize::zeroize(&mut *bytes);
    Ok(SecretBox::new(Box::new(arr)))
}

/// The AAD a tenant key is wrapped with: a wrapped key copied to another
/// tenant, id or purpose does not unwrap.
pub(crate) fn wrap_context(tenant: TenantId, key_id: i32, purpose: &str) -> Vec<u8> {
    format!("healipro/tenant-key|v1|{tenant}|{key_id}|{purpose}").into_bytes()
}

fn field_aad(tenant: TenantId, field: Field, row: uuid::Uuid) -> Vec<u8> {
    let c = field.column();
    format!("v1|{tenant}|{}|{}|{row}", c.table, c.column).into_bytes()
}

/// One tenant's unwrapped keys.
pub struct TenantKeys {
    tenant: TenantId,
    /// Readable data keys (active and retiring) by id.
    data: HashMap<u32, Key>,
    /// Key ids that were destroyed (crypto-shred or finished rotation).
    destroyed: HashSet<u32>,
    active: u32,
    /// The key of new audit details (audit keys are in `data` too: key ids
    /// are unique per tenant).
    audit_active: Option<u32>,
    index: Key,
    loaded_at: Instant,
}

impl std::fmt::Debug for TenantKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TenantKeys(tenant {}, active {}, [REDACTED])",
            self.tenant, self.active
        )
    }
}

impl TenantKeys {
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub fn active_key_id(&self) -> u32 {
        self.active
    }

    /// Encrypts `plaintext` as `field` of row `row` under the active DEK.
    pub fn encrypt(&self, field: Field, row: uuid::Uuid, plaintext: &[u8]) -> Result<Vec<u8>> {
        let key_id = if field.column().rotates {
            self.active
        } else {
            self.audit_active.ok_or_else(|| {
                Error::KeyUnavailable(format!("tenant {}: no audit key", self.tenant))
            })?
        };
        let key = self.data.get(&key_id).ok_or_else(|| {
            Error::KeyUnavailable(format!("tenant {}: no active data key", self.tenant))
        })?;
        let sealed = master::seal(
            key.expose_secret(),
            &field_aad(self.tenant, field, row),
            plaintext,
        )?;
        let mut out = Vec::with_capacity(5 + sealed.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&key_id.to_be_bytes());
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts `field` of row `row`. A value of another row, column or tenant,
    /// an altered byte, or a destroyed key give a clear error.
    pub fn decrypt(&self, field: Field, row: uuid::Uuid, ciphertext: &[u8]) -> Result<Vec<u8>> {
        let column = field.column();
        let key_id = key_id_of(ciphertext).ok_or_else(|| {
            Error::KeyUnavailable(format!(
                "{}.{}: not a v1 ciphertext",
                column.table, column.column
            ))
        })?;
        let key = self.data.get(&key_id).ok_or_else(|| {
            Error::KeyUnavailable(if self.destroyed.contains(&key_id) {
                format!(
                    "tenant {}: data key {key_id} was destroyed; {}.{} cannot be read",
                    self.tenant, column.table, column.column
                )
            } else {
                format!("tenant {}: data key {key_id} is unknown", self.tenant)
            })
        })?;
        master::open(
            key.expose_secret(),
            &field_aad(self.tenant, field, row),
            &ciphertext[5..],
        )
        .map_err(|()| {
            Error::KeyUnavailable(format!(
                "{}.{} of a row in tenant {} does not decrypt (altered, or moved from another row)",
                column.table, column.column, self.tenant
            ))
        })
    }

    /// Whether this ring can read a ciphertext's key (else reload and retry).
    pub fn knows(&self, ciphertext: &[u8]) -> bool {
        key_id_of(ciphertext).is_some_and(|id| self.data.contains_key(&id))
    }

    /// The blind index of an already normalised value of `field`.
    pub fn blind_index(&self, field: Field, normalised: &str) -> [u8; BLIND_INDEX_LEN] {
        let column = field.column();
        let column_key = self.mac(&format!("bidx|{}|{}", column.table, column.column), b"");
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&column_key).expect("HMAC takes any key length");
        mac.update(normalised.as_bytes());
        let full: [u8; 32] = mac.finalize().into_bytes().into();
        let mut out = [0u8; BLIND_INDEX_LEN];
        out.copy_from_slice(&full[..BLIND_INDEX_LEN]);
        out
    }

    /// HMAC-SHA256 of `data` under a key derived from the tenant index key for
    /// `purpose` (recovery codes, blind-index column keys). Not rotated with the
    /// DEK, so these stay valid across a DEK rotation.
    pub fn mac(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.index.expose_secret())
            .expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data);
        mac.finalize().into_bytes().into()
    }
}

/// The process-wide cache of tenant keys, and the master keys that unwrap them.
pub struct Vault {
    master: MasterKeys,
    cache: Mutex<HashMap<TenantId, Arc<TenantKeys>>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Vault({:?})", self.master)
    }
}

impl Vault {
    pub fn new(master: MasterKeys) -> Self {
        Self {
            master,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn master(&self) -> &MasterKeys {
        &self.master
    }

    fn cached(&self, tenant: TenantId) -> Option<Arc<TenantKeys>> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(&tenant)
            .filter(|k| k.loaded_at.elapsed() < CACHE_TTL)
            .cloned()
    }

    /// Drops a tenant's cached keys (after a rotation or a shred).
    pub fn forget(&self, tenant: TenantId) {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&tenant);
    }

    fn store(&self, keys: Arc<TenantKeys>) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        // Cached keys are small; a deployment's tenants fit, but bound it anyway.
        if cache.len() >= 100_000 {
            cache.retain(|_, k| k.loaded_at.elapsed() < CACHE_TTL);
        }
        cache.insert(keys.tenant, keys);
    }
}

/// Unwraps a tenant's key rows into a ring; `None` when the tenant has no keys yet.
fn unwrap_ring(
    master: &MasterKeys,
    tenant: TenantId,
    rows: &[KeyRow],
) -> Result<Option<TenantKeys>> {
    if rows.is_empty() {
        return Ok(None);
    }
    let unwrap = |r: &KeyRow| -> Result<Key> {
        let wrapped = r.wrapped.as_deref().ok_or_else(|| {
            Error::KeyUnavailable(format!("tenant {tenant}: key {} was destroyed", r.key_id))
        })?;
        key_from(master.unwrap(
            &r.kek_id,
            &wrap_context(tenant, r.key_id, &r.purpose),
            wrapped,
        )?)
    };
    let mut data = HashMap::new();
    let mut destroyed = HashSet::new();
    let mut active = None;
    let mut audit_active = None;
    let mut index = None;
    for r in rows {
        let id = u32::try_from(r.key_id).unwrap_or(0);
        match (r.purpose.as_str(), r.state.as_str()) {
            (_, "destroyed") => {
                destroyed.insert(id);
            }
            ("index", "active") => index = Some(unwrap(r)?),
            ("data", state) => {
                data.insert(id, unwrap(r)?);
                if state == "active" {
                    active = Some(id);
                }
            }
            ("audit", state) => {
                data.insert(id, unwrap(r)?);
                if state == "active" {
                    audit_active = Some(id);
                }
            }
            _ => {}
        }
    }
    let shredded = || {
        Error::KeyUnavailable(format!(
            "tenant {tenant}: its keys were destroyed (crypto-shred); its encrypted data is gone"
        ))
    };
    Ok(Some(TenantKeys {
        tenant,
        data,
        destroyed,
        active: active.ok_or_else(shredded)?,
        audit_active,
        index: index.ok_or_else(shredded)?,
        loaded_at: Instant::now(),
    }))
}

/// Creates a tenant's first data, index and audit keys, committed on their own (a
/// key must never vanish with a rolled-back request that used it). Does
/// nothing when the tenant has keys, destroyed ones included.
pub(crate) async fn create_first(tx: &mut TenantTx, master: &MasterKeys) -> Result<()> {
    repo::lock_key_changes(tx).await?;
    if repo::count(tx).await? > 0 {
        return Ok(());
    }
    for (key_id, purpose) in [(1, "data"), (2, "index"), (3, "audit")] {
        insert_key(tx, master, key_id, purpose).await?;
    }
    Ok(())
}

/// Creates the tenant's audit key unless it has one.
async fn create_audit_key(tx: &mut TenantTx, master: &MasterKeys) -> Result<()> {
    repo::lock_key_changes(tx).await?;
    if !repo::has_audit_key(tx).await? {
        let next = repo::next_key_id(tx).await?;
        insert_key(tx, master, next, "audit").await?;
    }
    Ok(())
}

/// Inserts a new random key, active, wrapped under the active master key.
pub(crate) async fn insert_key(
    tx: &mut TenantTx,
    master: &MasterKeys,
    key_id: i32,
    purpose: &str,
) -> Result<()> {
    let tenant = tx.tenant();
    let key = secrecy::zeroize::Zeroizing::new(super::random_bytes::<32>());
    let (kek_id, wrapped) = master.wrap(&wrap_context(tenant, key_id, purpose), &*key)?;
    repo::insert_active(tx, key_id, purpose, &kek_id, &wrapped).await
}

impl TenantTx {
    fn vault(&self) -> Result<&Arc<Vault>> {
        self.vault_ref().ok_or_else(|| {
            Error::Config("no master key is configured for this database handle".into())
        })
    }

    /// This tenant's keys for reading (cached).
    pub async fn keys(&mut self) -> Result<Arc<TenantKeys>> {
        if let Some(k) = self.vault()?.cached(self.tenant()) {
            return Ok(k);
        }
        self.reload_keys().await
    }

    /// Reads the tenant's keys afresh (creating the first ones if it has none).
    pub async fn reload_keys(&mut self) -> Result<Arc<TenantKeys>> {
        let vault = self.vault()?.clone();
        let tenant = self.tenant();
        let found = repo::rows(self).await?;
        let ring = match unwrap_ring(vault.master(), tenant, &found)? {
            Some(ring) => ring,
            None => {
                let mut own = self.sibling().await?;
                create_first(&mut own, vault.master()).await?;
                own.commit().await?;
                unwrap_ring(vault.master(), tenant, &repo::rows(self).await?)?
                    .ok_or_else(|| Error::Internal("tenant keys were not created".into()))?
            }
        };
        let ring = Arc::new(ring);
        vault.store(ring.clone());
        Ok(ring)
    }

    /// The keys to encrypt with. Reads the active data key's id under a share
    /// lock, so a DEK rotation (which updates that row) waits for this
    /// transaction, and nothing is written under a key it has started to retire.
    pub async fn keys_for_write(&mut self) -> Result<Arc<TenantKeys>> {
        let tenant = self.tenant();
        for _ in 0..3 {
            let keys = match repo::active_data_key_for_share(self).await? {
                // A rotation committed while we waited: the new key row was not
                // in this statement's snapshot. Read again.
                None if repo::count(self).await? > 0 => continue,
                // A new tenant: create its keys, then take the lock as usual.
                None => {
                    self.reload_keys().await?;
                    continue;
                }
                Some(id) => {
                    let keys = self.keys().await?;
                    if keys.active as i32 == id {
                        keys
                    } else {
                        self.reload_keys().await?
                    }
                }
            };
            return Ok(keys);
        }
        Err(Error::KeyUnavailable(format!(
            "tenant {tenant} has no active data key (its keys were destroyed?)"
        )))
    }

    /// The keys to encrypt audit details with, creating the tenant's audit
    /// key (in its own committed transaction) the first time.
    pub async fn audit_keys(&mut self) -> Result<Arc<TenantKeys>> {
        let keys = self.keys().await?;
        if keys.audit_active.is_some() {
            return Ok(keys);
        }
        let vault = self.vault()?.clone();
        let mut own = self.sibling().await?;
        create_audit_key(&mut own, vault.master()).await?;
        own.commit().await?;
        self.reload_keys().await
    }

    /// Decrypts with the cached keys, reloading once when the ciphertext names
    /// a key this process has not seen (rotated by another process).
    pub async fn decrypt(
        &mut self,
        field: Field,
        row: uuid::Uuid,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>> {
        let mut keys = self.keys().await?;
        if !keys.knows(ciphertext) {
            keys = self.reload_keys().await?;
        }
        keys.decrypt(field, row, ciphertext)
    }
}
