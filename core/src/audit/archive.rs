//! Growth: moving an old segment of a chain out of the database without
//! losing verifiability (`healipro audit archive`, migration 0008).
//!
//! 1. The segment after the last archive, up to the day given, is written as
//!    a signed export and checked with the public key, exactly as an auditor
//!    would check it.
//! 2. The file is written (mode 600, fsynced) and its SHA-256 recorded.
//! 3. As the owner role (the privileged maintenance role; the runtime role has
//!    no DELETE), one transaction records the archive — signed over
//!    (tenant, seqs, last hash, file digest, time) — and deletes the segment.
//!    The append-only trigger refuses the DELETE of any entry no archive
//!    covers, so nothing unarchived can go this way.
//!
//! Verification then starts from the latest archive's signed last hash.

use super::export::{write_segment, ExportRange};
use super::{chain_time, clinic_day_bounds, repo, Action, Actor, Subject};
use crate::audit::signing::AuditSigner;
use crate::db::{Db, OwnerDb};
use crate::ids::TenantId;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// What one archive run did.
#[derive(Debug, Clone)]
pub struct Archived {
    pub file: PathBuf,
    pub first_seq: i64,
    pub through_seq: i64,
}

/// Archives the tenant's entries older than clinic day `before` into `dir`.
/// Returns None when there is nothing (new) to archive.
pub async fn archive(
    db: &Db,
    owner: &OwnerDb,
    tenant: TenantId,
    signer: &AuditSigner,
    before: chrono::NaiveDate,
    dir: &Path,
) -> Result<Option<Archived>> {
    let mut ptx = db.platform_tx().await?;
    let first_seq = repo::archives(&mut ptx, tenant)
        .await?
        .last()
        .map_or(1, |a| a.through_seq + 1);
    ptx.commit().await?;

    let mut tx = db.tenant_tx_for(tenant).await?;
    let (_, end) = clinic_day_bounds(None, before.pred_opt());
    let Some((_, through_seq)) = repo::seq_range(&mut tx, None, end).await? else {
        tx.commit().await?;
        return Ok(None);
    };
    if through_seq < first_seq {
        tx.commit().await?;
        return Ok(None);
    }
    let range = ExportRange {
        from: None,
        to: before.pred_opt(),
    };
    let segment = write_segment(&mut tx, db, signer, (first_seq, through_seq), &range).await?;
    tx.commit().await?;

    // Check the file the way an auditor will, before anything is deleted.
    healipro_audit_verify::export::verify_export(&segment.jsonl, &signer.public_hex()).map_err(
        |p| {
            Error::Internal(format!(
                "the archive does not verify ({p}); nothing was deleted"
            ))
        },
    )?;
    let through_hash = last_hash(&segment.jsonl)?;
    let mut ptx = db.platform_tx().await?;
    let code = crate::tenants::repo::list(&mut ptx)
        .await?
        .into_iter()
        .find(|t| t.id == tenant)
        .map_or_else(|| tenant.to_string(), |t| t.code);
    ptx.commit().await?;
    let file_name = format!("audit-{code}-{first_seq:012}-{through_seq:012}.jsonl");
    let file = dir.join(&file_name);
    write_synced(&file, segment.jsonl.as_bytes())?;

    use sha2::{Digest, Sha256};
    let mut row = repo::Archive {
        tenant_id: tenant.as_uuid(),
        first_seq,
        through_seq,
        through_hash: through_hash.to_vec(),
        file_name,
        file_sha256: Sha256::digest(segment.jsonl.as_bytes()).to_vec(),
        archived_at: chrono::DateTime::from_timestamp_micros(chrono::Utc::now().timestamp_micros())
            .unwrap_or_else(chrono::Utc::now),
        key_id: signer.key_id(),
        signature: Vec::new(),
    };
    row.signature = signer.sign(&row.message()).to_vec();

    let mut otx = owner.platform_tx().await?;
    repo::insert_archive_and_delete(&mut otx, &row).await?;
    otx.commit().await?;

    let mut tx = db.tenant_tx_for(tenant).await?;
    let details = serde_json::json!({
        "archived": true,
        "first_seq": first_seq,
        "last_seq": through_seq,
        "file": row.file_name,
        "archived_at": chain_time(row.archived_at),
    });
    let subject = Subject {
        patient: None,
        object_type: "audit_log",
        object_id: format!("{first_seq}-{through_seq}"),
    };
    super::append(
        &mut tx,
        &Actor::platform_operator(),
        Action::Exported,
        &subject,
        Some(&details),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(Archived {
        file,
        first_seq,
        through_seq,
    }))
}

/// The hash of the last entry line of an export.
fn last_hash(jsonl: &str) -> Result<[u8; 32]> {
    jsonl
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v.get("seq").is_some())
        .and_then(|v| v.get("hash").and_then(|h| h.as_str()).map(str::to_owned))
        .and_then(|h| hex::decode(h).ok())
        .and_then(|h| <[u8; 32]>::try_from(h).ok())
        .ok_or_else(|| Error::Internal("an archive without entries".into()))
}

/// Writes a new file (refusing to replace one), mode 600, and fsyncs it and
/// its directory.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let io = |e: std::io::Error| Error::Config(format!("cannot write {}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}
