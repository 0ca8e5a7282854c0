//! The tamper-evident audit log (promise 3, DESIGN §6).
//!
//! * [`Action`] is the one list of what is logged; [`append`] is the one way
//!   to log it, inside the transaction of the action itself.
//! * [`chain`] defines an entry, its canonical JSON and hash (shared with the
//!   standalone export verifier).
//! * [`verify`] walks a tenant's chain and its signed checkpoints
//!   ([`signing`]) and reports the first broken seq and why.

pub mod archive;
pub mod export;
pub mod search;
pub mod signing;
pub use healipro_audit_verify::{chain, verify};

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
    ScheduleChanged,
    AppointmentBooked,
    AppointmentChanged,
    ReportViewed,
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
        Action::ScheduleChanged,
        Action::AppointmentBooked,
        Action::AppointmentChanged,
        Action::ReportViewed,
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
            Action::ScheduleChanged => "schedule.changed",
            Action::AppointmentBooked => "appointment.booked",
            Action::AppointmentChanged => "appointment.changed",
            Action::ReportViewed => "report.viewed",
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
    /// Us, on the command line (key operations, CLI exports, archival).
    pub fn platform_operator() -> Actor {
        Actor {
            username: "platform operator".into(),
            roles: vec!["platform".into()],
            ..Actor::default()
        }
    }

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
    let Some(details) = details else {
        // One round trip (`clinic.audit_append`, migration 0009): the
        // database takes the lock, reads the tail, stamps the time and hashes
        // the canonical JSON built here around those values.
        let pieces = chain::canonical_pieces(&entry_of(tenant, actor, action, subject));
        return repo::append_in_database(tx, actor, action, subject, pieces).await;
    };
    // Details are bound to the seq, so it must be known (locked) first.
    let (seq, prev_hash) = repo::lock_tail(tx).await?;
    let seq = seq + 1;
    let prev: [u8; 32] = prev_hash.unwrap_or(GENESIS);
    let at = chrono::DateTime::from_timestamp_micros(chrono::Utc::now().timestamp_micros())
        .unwrap_or_else(chrono::Utc::now);
    let plain = serde_json::to_vec(details)
        .map_err(|e| crate::Error::Internal(format!("audit details: {e}")))?;
    let details_enc =
        tx.audit_keys()
            .await?
            .encrypt(Field::AuditDetails, audit_row_id(tenant, seq), &plain)?;
    let entry = Entry {
        seq,
        at: chain_time(at),
        details_enc: Some(hex::encode(&details_enc)),
        prev_hash: hex::encode(prev),
        ..entry_of(tenant, actor, action, subject)
    };
    let hash = chain::hash(&prev, &entry);
    repo::insert(tx, &entry, at, Some(details_enc), &prev, &hash).await?;
    Ok(seq)
}

/// An entry's who/what/where; seq, time, details and link left empty.
fn entry_of(
    tenant: crate::ids::TenantId,
    actor: &Actor,
    action: Action,
    subject: &Subject,
) -> Entry {
    Entry {
        tenant_id: tenant.to_string(),
        seq: 0,
        at: String::new(),
        actor_user_id: actor.user_id.map(|u| u.to_string()),
        actor_username: actor.username.clone(),
        actor_roles: actor.roles.clone(),
        action: action.as_str().to_owned(),
        patient_id: subject.patient.map(|p| p.to_string()),
        object_type: subject.object_type.to_owned(),
        object_id: subject.object_id.clone(),
        ip: actor.ip.clone(),
        workstation_id: actor.workstation_id.map(|w| w.to_string()),
        details_enc: None,
        prev_hash: String::new(),
    }
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
    /// The last entry moved out to a signed archive, if any.
    pub archived_through: Option<i64>,
    pub first_break: Option<verify::Break>,
}

/// Walks one tenant's chain (in pages) and its checkpoints, starting after
/// its latest signed archive if old segments were archived. Without a public
/// key, signatures are reported as unverifiable.
pub async fn verify_tenant(
    db: &crate::db::Db,
    tenant: crate::ids::TenantId,
    public_hex: &str,
) -> Result<TenantReport> {
    let mut ptx = db.platform_tx().await?;
    let archives = repo::archives(&mut ptx, tenant).await?;
    let checkpoints: Vec<verify::SignedCheckpoint> = repo::checkpoints(&mut ptx, tenant)
        .await?
        .iter()
        .map(repo::Checkpoint::signed)
        .collect();
    ptx.commit().await?;

    let (mut walker, mut after) = (verify::Walker::default(), 0i64);
    if let Some(last) = archives.last() {
        match <[u8; 32]>::try_from(last.through_hash.as_slice()) {
            Ok(h) => {
                walker = verify::Walker::starting_after(last.through_seq, h);
                after = last.through_seq;
            }
            Err(_) => walker.fail(
                last.through_seq,
                "an archive's last hash is not 32 bytes".into(),
            ),
        }
    }
    let mut expected_first = 1;
    for a in &archives {
        if a.first_seq != expected_first {
            walker.fail(
                expected_first,
                format!(
                    "entries {expected_first}..{} are neither in the log nor in an archive",
                    a.first_seq
                ),
            );
        }
        if let Err(why) = signing::verify(public_hex, &a.message(), &a.signature) {
            walker.fail(
                a.through_seq,
                format!(
                    "archive of entries {}..={} ({}): {why}",
                    a.first_seq, a.through_seq, a.file_name
                ),
            );
        }
        expected_first = a.through_seq + 1;
    }
    if let Some(through) = archives.last().map(|a| a.through_seq) {
        let mut tx = db.tenant_tx_for(tenant).await?;
        let first = repo::chain_page(&mut tx, 0, 1).await?;
        tx.commit().await?;
        if let Some(e) = first.first().filter(|e| e.entry.seq <= through) {
            walker.fail(
                e.entry.seq,
                format!(
                    "entry {} is in the log although entries up to {through} were archived (re-inserted?)",
                    e.entry.seq
                ),
            );
        }
    }
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
    walker.check_checkpoints(&checkpoints, public_hex);
    Ok(TenantReport {
        tenant,
        entries: walker.entries,
        last_seq: walker.last_seq(),
        checkpoints: checkpoints.len(),
        archived_through: archives.last().map(|a| a.through_seq),
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
    sign_checkpoint(db, tenant, seq, &hash, signer).await?;
    Ok(Some(seq))
}

/// Signs `(tenant, seq, hash, now)` and stores it (a checkpoint already at
/// that seq is kept).
pub(crate) async fn sign_checkpoint(
    db: &crate::db::Db,
    tenant: crate::ids::TenantId,
    seq: i64,
    hash: &[u8],
    signer: &signing::AuditSigner,
) -> Result<()> {
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
    Ok(())
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

/// Clinics keep Pakistan Standard Time (UTC+05:00, no daylight saving): a
/// date typed in a filter or an export means that day there.
pub fn clinic_offset() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(5 * 3600).expect("a valid offset")
}

/// The half-open UTC interval `[start of from, start of the day after to)`
/// for clinic dates (either end open when absent).
pub fn clinic_day_bounds(
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
) -> (
    Option<chrono::DateTime<chrono::Utc>>,
    Option<chrono::DateTime<chrono::Utc>>,
) {
    let start = |d: chrono::NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(clinic_offset()).single())
            .map(|t| t.with_timezone(&chrono::Utc))
    };
    (
        from.and_then(start),
        to.and_then(|d| d.succ_opt()).and_then(start),
    )
}
