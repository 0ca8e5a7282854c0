//! The tamper-evident audit log (promise 3, DESIGN §6).
//!
//! * [`Action`] is the one list of what is logged; [`append`] is the one way
//!   to log it, inside the transaction of the action itself.
//! * [`chain`] defines an entry, its canonical JSON and hash (shared with the
//!   standalone export verifier).
//! * [`verify`] walks a tenant's chain and its signed checkpoints
//!   ([`signing`]) and reports the first broken seq and why.

pub mod chain;
pub mod signing;
pub mod verify;

use crate::auth::Session;
use crate::crypto::Field;
use crate::db::TenantTx;
use crate::ids::{PatientId, UserId, WorkstationId};
use crate::Result;
use chain::{Entry, GENESIS};

/// Everything the log records. Names are stable: they are stored and exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    LoginSucceeded,
    LoginFailed,
    AccountLocked,
    SecondFactorEnrolled,
    SecondFactorReset,
    SignedOut,
    PatientOpened,
    PatientsSearched,
    PatientCreated,
    PatientUpdated,
    UserCreated,
    UserChanged,
    RoleChanged,
    WorkstationChanged,
    SettingsChanged,
    PermissionDenied,
    Exported,
    KeysRotated,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::LoginSucceeded,
        Action::LoginFailed,
        Action::AccountLocked,
        Action::SecondFactorEnrolled,
        Action::SecondFactorReset,
        Action::SignedOut,
        Action::PatientOpened,
        Action::PatientsSearched,
        Action::PatientCreated,
        Action::PatientUpdated,
        Action::UserCreated,
        Action::UserChanged,
        Action::RoleChanged,
        Action::WorkstationChanged,
        Action::SettingsChanged,
        Action::PermissionDenied,
        Action::Exported,
        Action::KeysRotated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::LoginSucceeded => "login.succeeded",
            Action::LoginFailed => "login.failed",
            Action::AccountLocked => "account.locked",
            Action::SecondFactorEnrolled => "second_factor.enrolled",
            Action::SecondFactorReset => "second_factor.reset",
            Action::SignedOut => "session.ended",
            Action::PatientOpened => "patient.opened",
            Action::PatientsSearched => "patients.searched",
            Action::PatientCreated => "patient.created",
            Action::PatientUpdated => "patient.updated",
            Action::UserCreated => "user.created",
            Action::UserChanged => "user.changed",
            Action::RoleChanged => "role.changed",
            Action::WorkstationChanged => "workstation.changed",
            Action::SettingsChanged => "settings.changed",
            Action::PermissionDenied => "permission.denied",
            Action::Exported => "export.created",
            Action::KeysRotated => "keys.rotated",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.as_str() == s)
    }
}

/// Who did it and from where.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub username: String,
    pub roles: Vec<String>,
    pub ip: String,
    pub workstation_id: Option<WorkstationId>,
}

impl Actor {
    pub fn of(session: &Session) -> Actor {
        Actor {
            user_id: Some(session.user_id),
            username: session.username.clone(),
            roles: session
                .roles
                .iter()
                .map(|r| r.as_str().to_owned())
                .chain(session.custom_roles.iter().cloned())
                .collect(),
            ip: session.client_ip.clone(),
            workstation_id: session.workstation,
        }
    }
}

/// What an entry is about.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    pub patient: Option<PatientId>,
    pub object_type: &'static str,
    pub object_id: String,
}

impl Subject {
    pub fn patient(id: PatientId) -> Subject {
        Subject {
            patient: Some(id),
            object_type: "patient",
            object_id: id.to_string(),
        }
    }
}

/// Formats a time as the chain stores it (UTC, microseconds).
pub fn chain_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Appends an entry to the tenant's chain, in `tx` (the action's own
/// transaction: the entry commits or rolls back with it). Holds the tenant's
/// audit lock until the transaction ends, so call it last.
pub async fn append(
    tx: &mut TenantTx,
    actor: &Actor,
    action: Action,
    subject: &Subject,
    details: Option<&serde_json::Value>,
) -> Result<i64> {
    let tenant = tx.tenant();
    let (seq, prev_hash) = repo::lock_tail(tx).await?;
    let seq = seq + 1;
    let prev: [u8; 32] = prev_hash.unwrap_or(GENESIS);
    let at = chrono::DateTime::from_timestamp_micros(chrono::Utc::now().timestamp_micros())
        .unwrap_or_else(chrono::Utc::now);
    let details_enc = match details {
        Some(d) => {
            let plain = serde_json::to_vec(d)
                .map_err(|e| crate::Error::Internal(format!("audit details: {e}")))?;
            let row = audit_row_id(tenant, seq);
            Some(
                tx.audit_keys()
                    .await?
                    .encrypt(Field::AuditDetails, row, &plain)?,
            )
        }
        None => None,
    };
    let entry = Entry {
        tenant_id: tenant.to_string(),
        seq,
        at: chain_time(at),
        actor_user_id: actor.user_id.map(|u| u.to_string()),
        actor_username: actor.username.clone(),
        actor_roles: actor.roles.clone(),
        action: action.as_str().to_owned(),
        patient_id: subject.patient.map(|p| p.to_string()),
        object_type: subject.object_type.to_owned(),
        object_id: subject.object_id.clone(),
        ip: actor.ip.clone(),
        workstation_id: actor.workstation_id.map(|w| w.to_string()),
        details_enc: details_enc.as_ref().map(hex::encode),
        prev_hash: hex::encode(prev),
    };
    let hash = chain::hash(&prev, &entry);
    repo::insert(tx, &entry, at, details_enc, &prev, &hash).await?;
    Ok(seq)
}

/// The row id an entry's details are bound to: (tenant, seq) as a UUID.
pub fn audit_row_id(tenant: crate::ids::TenantId, seq: i64) -> uuid::Uuid {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("audit|{tenant}|{seq}"));
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    uuid::Uuid::from_bytes(b)
}

pub mod repo;

/// What `healipro audit verify` reports for one tenant.
#[derive(Debug, Clone)]
pub struct TenantReport {
    pub tenant: crate::ids::TenantId,
    pub entries: u64,
    pub last_seq: i64,
    pub checkpoints: usize,
    pub first_break: Option<verify::Break>,
}

/// Walks one tenant's chain (in pages) and its checkpoints. Without a public
/// key, checkpoint signatures are reported as unverifiable.
pub async fn verify_tenant(
    db: &crate::db::Db,
    tenant: crate::ids::TenantId,
    public_hex: &str,
) -> Result<TenantReport> {
    let mut walker = verify::Walker::default();
    let mut after = 0i64;
    loop {
        let mut tx = db.tenant_tx_for(tenant).await?;
        let page = repo::chain_page(&mut tx, after, 5_000).await?;
        tx.commit().await?;
        let Some(last) = page.last() else { break };
        after = last.entry.seq;
        for stored in &page {
            walker.push(&stored.entry, &stored.hash);
        }
    }
    let mut ptx = db.platform_tx().await?;
    let checkpoints: Vec<verify::SignedCheckpoint> = repo::checkpoints(&mut ptx, tenant)
        .await?
        .into_iter()
        .map(|c| verify::SignedCheckpoint {
            tenant_id: c.tenant_id.to_string(),
            seq: c.seq,
            hash: hex::encode(&c.hash),
            signed_at: chain_time(c.signed_at),
            key_id: c.key_id,
            signature: hex::encode(&c.signature),
        })
        .collect();
    ptx.commit().await?;
    walker.check_checkpoints(&checkpoints, public_hex);
    Ok(TenantReport {
        tenant,
        entries: walker.entries,
        last_seq: walker.last_seq(),
        checkpoints: checkpoints.len(),
        first_break: walker.first_break.clone(),
    })
}

/// Signs the tenant's current tail as a checkpoint (nothing to sign for an
/// empty chain). Returns the seq signed.
pub async fn checkpoint(
    db: &crate::db::Db,
    tenant: crate::ids::TenantId,
    signer: &signing::AuditSigner,
) -> Result<Option<i64>> {
    let mut tx = db.tenant_tx_for(tenant).await?;
    let (seq, hash) = repo::tail(&mut tx).await?;
    tx.commit().await?;
    let Some(hash) = hash else { return Ok(None) };
    let signed_at = chrono::DateTime::from_timestamp_micros(chrono::Utc::now().timestamp_micros())
        .unwrap_or_else(chrono::Utc::now);
    let message = chain::checkpoint_message(
        &tenant.to_string(),
        seq,
        &hex::encode(hash),
        &chain_time(signed_at),
    );
    let c = repo::Checkpoint {
        tenant_id: tenant.as_uuid(),
        seq,
        hash: hash.to_vec(),
        signed_at,
        key_id: signer.key_id(),
        signature: signer.sign(&message).to_vec(),
    };
    let mut ptx = db.platform_tx().await?;
    repo::insert_checkpoint(&mut ptx, &c).await?;
    ptx.commit().await?;
    Ok(Some(seq))
}

/// Signs a checkpoint for every tenant whose chain grew since its last one
/// (the server runs this periodically). Returns how many were signed.
pub async fn checkpoint_all(db: &crate::db::Db, signer: &signing::AuditSigner) -> Result<usize> {
    let mut signed = 0;
    for (tenant, _) in crate::crypto::rotation::tenants(db).await? {
        let mut tx = db.tenant_tx_for(tenant).await?;
        let (seq, _) = repo::tail(&mut tx).await?;
        tx.commit().await?;
        let mut ptx = db.platform_tx().await?;
        let last = repo::checkpoints(&mut ptx, tenant)
            .await?
            .last()
            .map_or(0, |c| c.seq);
        ptx.commit().await?;
        if seq > last && checkpoint(db, tenant, signer).await?.is_some() {
            signed += 1;
        }
    }
    Ok(signed)
}
