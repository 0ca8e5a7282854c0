//! `healipro audit export` and the admin's export button: a signed JSON Lines
//! file of a tenant's chain between two clinic dates (format in
//! [`healipro_audit_verify::export`]), checkable with only the public key.

use super::{chain_time, clinic_day_bounds, repo, Action, Actor, Subject};
use crate::audit::signing::AuditSigner;
use crate::audit::verify::SignedCheckpoint;
use crate::db::{Db, TenantTx};
use crate::{Error, Result};
use healipro_audit_verify::export::{Header, Writer, FORMAT};

/// Clinic dates, both ends included; an open end means "from the start" /
/// "up to now".
#[derive(Debug, Clone, Default)]
pub struct ExportRange {
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
}

/// A finished export.
#[derive(Debug, Clone)]
pub struct Export {
    pub jsonl: String,
    pub entries: u64,
    pub first_seq: i64,
    pub last_seq: i64,
}

/// Exports the entries of `range` read in `tx`, signs a checkpoint at the last
/// one, and appends the `Exported` entry to `tx` (the caller commits it).
pub async fn export(
    tx: &mut TenantTx,
    db: &Db,
    signer: &AuditSigner,
    actor: &Actor,
    range: &ExportRange,
) -> Result<Export> {
    if let (Some(from), Some(to)) = (range.from, range.to) {
        if from > to {
            return Err(Error::validation(
                "from",
                "The start date is after the end date.",
            ));
        }
    }
    let (start, end) = clinic_day_bounds(range.from, range.to);
    let Some((first_seq, last_seq)) = repo::seq_range(tx, start, end).await? else {
        return Err(Error::validation(
            "from",
            "There are no audit entries between those dates.",
        ));
    };
    let segment = write_segment(tx, db, signer, (first_seq, last_seq), range).await?;
    let details = serde_json::json!({
        "from": range.from.map(|d| d.to_string()),
        "to": range.to.map(|d| d.to_string()),
        "first_seq": first_seq,
        "last_seq": last_seq,
        "entries": segment.entries,
    });
    let subject = Subject {
        patient: None,
        object_type: "audit_log",
        object_id: format!("{first_seq}-{last_seq}"),
    };
    super::append(tx, actor, Action::Exported, &subject, Some(&details)).await?;
    Ok(segment)
}

/// Writes entries `first..=last` as a signed export (signing a checkpoint at
/// `last` first, so the file carries one that covers its end).
pub(super) async fn write_segment(
    tx: &mut TenantTx,
    db: &Db,
    signer: &AuditSigner,
    (first_seq, last_seq): (i64, i64),
    range: &ExportRange,
) -> Result<Export> {
    let tenant = tx.tenant();
    let anchor_hash = anchor(tx, db, first_seq).await?;
    let mut ptx = db.platform_tx().await?;
    let clinic_code = crate::tenants::repo::list(&mut ptx)
        .await?
        .into_iter()
        .find(|t| t.id == tenant)
        .map(|t| t.code)
        .unwrap_or_default();
    ptx.commit().await?;

    let mut writer = Writer::new(&Header {
        format: FORMAT.into(),
        tenant_id: tenant.to_string(),
        clinic_code,
        from: range.from.map(|d| d.to_string()),
        to: range.to.map(|d| d.to_string()),
        first_seq,
        last_seq,
        anchor_hash: hex::encode(anchor_hash),
        exported_at: chain_time(now_micros()),
        key_id: signer.key_id(),
    });
    let mut after = first_seq - 1;
    let mut last_hash = None;
    let mut entries = 0u64;
    while after < last_seq {
        let page = repo::chain_page(tx, after, 5_000).await?;
        let Some(tail) = page.last() else { break };
        after = tail.entry.seq;
        for stored in page.iter().filter(|s| s.entry.seq <= last_seq) {
            writer.entry(&stored.entry, &stored.hash);
            last_hash = Some(stored.hash.clone());
            entries += 1;
        }
    }
    let last_hash = last_hash
        .ok_or_else(|| Error::Internal("the exported range vanished while reading".into()))?;
    super::sign_checkpoint(db, tenant, last_seq, &last_hash, signer).await?;
    for c in covering_checkpoints(db, tenant, first_seq, last_seq).await? {
        writer.checkpoint(&c);
    }
    Ok(Export {
        jsonl: writer.finish(&signer.key_id(), |m| signer.sign(m)),
        entries,
        first_seq,
        last_seq,
    })
}

fn now_micros() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(chrono::Utc::now().timestamp_micros())
        .unwrap_or_else(chrono::Utc::now)
}

/// The hash an export starting at `first_seq` links to: genesis, the entry
/// before it, or (when that entry was archived) the archive's last hash.
async fn anchor(tx: &mut TenantTx, db: &Db, first_seq: i64) -> Result<[u8; 32]> {
    if first_seq == 1 {
        return Ok(super::chain::GENESIS);
    }
    let hash = match repo::hash_at(tx, first_seq - 1).await? {
        Some(h) => Some(h),
        None => {
            let mut ptx = db.platform_tx().await?;
            let archived = repo::archive_through(&mut ptx, tx.tenant(), first_seq - 1).await?;
            ptx.commit().await?;
            archived
        }
    };
    hash.and_then(|h| <[u8; 32]>::try_from(h.as_slice()).ok())
        .ok_or_else(|| {
            Error::Internal(format!(
                "entry {} (the one before the export) is neither stored nor archived",
                first_seq - 1
            ))
        })
}

async fn covering_checkpoints(
    db: &Db,
    tenant: crate::ids::TenantId,
    first_seq: i64,
    last_seq: i64,
) -> Result<Vec<SignedCheckpoint>> {
    let mut ptx = db.platform_tx().await?;
    let all = repo::checkpoints(&mut ptx, tenant).await?;
    ptx.commit().await?;
    Ok(all
        .into_iter()
        .filter(|c| (first_seq..=last_seq).contains(&c.seq))
        .map(|c| c.signed())
        .collect())
}
