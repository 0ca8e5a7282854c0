//! Searching a clinic's audit log (issue 7): by person, patient, action,
//! clinic dates and workstation, newest first, paged by `seq` (keyset, never
//! OFFSET), with each entry's details decrypted. The SQL of the search lives
//! here, beside the log's own repository.
//!
//! Every query is `WHERE tenant_id = $1 AND …` ordered by `seq DESC`: the
//! indexes led by `(tenant_id, patient_id | actor_user_id | action |
//! workstation_id, seq DESC)` and the primary key `(tenant_id, seq)` serve it
//! as an index range read backwards, so a page costs the same at a million
//! entries as at a hundred (dates become a seq range first: see
//! `seq_window`). RLS restricts the rows to the transaction's tenant anyway;
//! the predicate is there for the index.

use super::{audit_row_id, clinic_day_bounds, Action};
use crate::crypto::Field;
use crate::db::TenantTx;
use crate::ids::{PatientId, UserId, WorkstationId};
use crate::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};

/// The most entries one page may hold.
pub const MAX_LIMIT: i64 = 200;

/// What to look for; every part is optional and they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Entries by this user.
    pub user: Option<UserId>,
    /// Entries about this patient.
    pub patient: Option<PatientId>,
    pub action: Option<Action>,
    /// First clinic day (UTC+05:00) included.
    pub from: Option<NaiveDate>,
    /// Last clinic day included.
    pub to: Option<NaiveDate>,
    /// Entries made at this workstation.
    pub workstation: Option<WorkstationId>,
}

impl Filter {
    /// Refuses a date range that ends before it starts.
    pub fn check(&self) -> Result<()> {
        match (self.from, self.to) {
            (Some(from), Some(to)) if from > to => Err(Error::validation(
                "from",
                "“From” is after “to”. Swap the dates, or clear one of them.",
            )),
            _ => Ok(()),
        }
    }
}

/// A date typed into a filter (`YYYY-MM-DD`, as a date input sends it);
/// empty means none.
pub fn parse_date(field: &'static str, label: &str, raw: &str) -> Result<Option<NaiveDate>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| {
            Error::validation(
                field,
                format!("“{label}” is not a date: pick one from the calendar (YYYY-MM-DD)."),
            )
        })
}

/// An entry's details (JSON, encrypted at rest with the clinic's audit key).
#[derive(Debug, Clone, PartialEq)]
pub enum Details {
    /// The entry has none.
    None,
    Readable(serde_json::Value),
    /// The ciphertext does not decrypt: altered, moved from another entry, or
    /// the key is gone. Shown as such rather than failing the whole page.
    Unreadable,
}

/// One entry as the search shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_user_id: Option<UserId>,
    /// As recorded at the time (the user may since have been renamed).
    pub actor_username: String,
    /// The user's current display name, when the user still exists.
    pub actor_display_name: Option<String>,
    pub actor_roles: Vec<String>,
    /// The stored action name (`patient.opened`, …).
    pub action: String,
    pub patient_id: Option<PatientId>,
    /// The patient's MR number and name, when the entry names a patient of
    /// this clinic. No identifier (CNIC, phone) is ever part of a search.
    pub patient_mr_number: Option<String>,
    pub patient_name: Option<String>,
    pub object_type: String,
    pub object_id: String,
    pub ip: String,
    pub workstation_id: Option<WorkstationId>,
    /// The workstation's current name, when it still exists.
    pub workstation_name: Option<String>,
    pub details: Details,
}

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    at: DateTime<Utc>,
    actor_user_id: Option<UserId>,
    actor_username: String,
    actor_display_name: Option<String>,
    actor_roles: Vec<String>,
    action: String,
    patient_id: Option<PatientId>,
    patient_mr_number: Option<String>,
    patient_name: Option<String>,
    object_type: String,
    object_id: String,
    ip: String,
    workstation_id: Option<WorkstationId>,
    workstation_name: Option<String>,
    details_enc: Option<Vec<u8>>,
}

/// The clinic's entries matching `filter`, newest first: at most `limit`
/// (1 to [`MAX_LIMIT`]), all with `seq < before_seq` when given (the last seq
/// of the previous page).
#[tracing::instrument(level = "debug", skip_all, fields(?before_seq, limit = limit))]
pub async fn search(
    tx: &mut TenantTx,
    filter: &Filter,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<Found>> {
    filter.check()?;
    let tenant = tx.tenant();
    let Some((first, last)) = seq_window(tx, filter).await? else {
        return Ok(Vec::new());
    };
    let mut q = sqlx::QueryBuilder::<sqlx::Postgres>::new(
        "SELECT a.seq, a.at, a.actor_user_id, a.actor_username, u.display_name AS actor_display_name,
                a.actor_roles, a.action, a.patient_id, p.mr_number AS patient_mr_number,
                p.full_name AS patient_name, a.object_type, a.object_id, a.ip, a.workstation_id,
                w.name AS workstation_name, a.details_enc
           FROM clinic.audit_log a
           LEFT JOIN clinic.users u ON u.tenant_id = a.tenant_id AND u.id = a.actor_user_id
           LEFT JOIN clinic.patients p ON p.tenant_id = a.tenant_id AND p.id = a.patient_id
           LEFT JOIN clinic.workstations w ON w.tenant_id = a.tenant_id AND w.id = a.workstation_id
          WHERE a.tenant_id = ",
    );
    q.push_bind(tenant);
    if let Some(user) = filter.user {
        q.push(" AND a.actor_user_id = ").push_bind(user);
    }
    if let Some(patient) = filter.patient {
        q.push(" AND a.patient_id = ").push_bind(patient);
    }
    if let Some(action) = filter.action {
        q.push(" AND a.action = ").push_bind(action.as_str());
    }
    if let Some(workstation) = filter.workstation {
        q.push(" AND a.workstation_id = ").push_bind(workstation);
    }
    if let Some(first) = first {
        q.push(" AND a.seq >= ").push_bind(first);
    }
    if let Some(last) = last {
        q.push(" AND a.seq <= ").push_bind(last);
    }
    if let Some(before) = before_seq {
        q.push(" AND a.seq < ").push_bind(before);
    }
    q.push(" ORDER BY a.seq DESC LIMIT ")
        .push_bind(limit.clamp(1, MAX_LIMIT));
    let rows: Vec<Row> = q.build_query_as().fetch_all(tx.conn()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let details = match &r.details_enc {
            None => Details::None,
            Some(sealed) => open_details(tx, r.seq, sealed).await,
        };
        out.push(Found {
            seq: r.seq,
            at: r.at,
            actor_user_id: r.actor_user_id,
            actor_username: r.actor_username,
            actor_display_name: r.actor_display_name,
            actor_roles: r.actor_roles,
            action: r.action,
            patient_id: r.patient_id,
            patient_mr_number: r.patient_mr_number,
            patient_name: r.patient_name,
            object_type: r.object_type,
            object_id: r.object_id,
            ip: r.ip,
            workstation_id: r.workstation_id,
            workstation_name: r.workstation_name,
            details,
        });
    }
    Ok(out)
}

/// The dates of a filter as a seq range (either end open): from the first
/// entry stamped on or after the start of `from` to the last one stamped
/// before the end of `to`, each found with one step down the `(tenant_id,
/// at)` index. `None` when no entry can match. Times are taken under the
/// tenant's audit lock, so they follow seq order (up to clock skew between
/// servers, when the window holds the few entries appended out of time order
/// at its edges — as an export of the same dates does). Filtering on `at`
/// itself would let the planner read every entry of the range and sort them:
/// seconds, at a million entries.
async fn seq_window(
    tx: &mut TenantTx,
    filter: &Filter,
) -> Result<Option<(Option<i64>, Option<i64>)>> {
    let tenant = tx.tenant();
    let (start, end) = clinic_day_bounds(filter.from, filter.to);
    let first = match start {
        None => None,
        Some(start) => {
            let seq: Option<i64> = sqlx::query_scalar(
                "SELECT seq FROM clinic.audit_log WHERE tenant_id = $1 AND at >= $2
                  ORDER BY at LIMIT 1",
            )
            .bind(tenant)
            .bind(start)
            .fetch_optional(tx.conn())
            .await?;
            match seq {
                None => return Ok(None),
                some => some,
            }
        }
    };
    let last = match end {
        None => None,
        Some(end) => {
            let seq: Option<i64> = sqlx::query_scalar(
                "SELECT seq FROM clinic.audit_log WHERE tenant_id = $1 AND at < $2
                  ORDER BY at DESC LIMIT 1",
            )
            .bind(tenant)
            .bind(end)
            .fetch_optional(tx.conn())
            .await?;
            match seq {
                None => return Ok(None),
                some => some,
            }
        }
    };
    match (first, last) {
        (Some(f), Some(l)) if f > l => Ok(None),
        window => Ok(Some(window)),
    }
}

/// Decrypts one entry's details (bound to tenant and seq). A failure is
/// logged by seq only (never content) and shown as unreadable.
async fn open_details(tx: &mut TenantTx, seq: i64, sealed: &[u8]) -> Details {
    let row = audit_row_id(tx.tenant(), seq);
    let plain = match tx.decrypt(Field::AuditDetails, row, sealed).await {
        Ok(p) => secrecy::zeroize::Zeroizing::new(p),
        Err(e) => {
            tracing::warn!(seq, error = %e, "audit details do not decrypt");
            return Details::Unreadable;
        }
    };
    match serde_json::from_slice(&plain) {
        Ok(v) => Details::Readable(v),
        Err(_) => {
            tracing::warn!(seq, "audit details are not JSON");
            Details::Unreadable
        }
    }
}

/// A patient named in a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientRef {
    pub id: PatientId,
    pub mr_number: String,
    pub full_name: String,
}

/// The MR numbers `typed` may mean: as typed (upper case), and the clinic's
/// `MR-nnnnnn` form when only the number was typed (`123`, `mr123`, `MR-123`).
pub fn mr_candidates(typed: &str) -> Vec<String> {
    let upper = typed.trim().to_ascii_uppercase();
    let mut out = vec![upper.clone()];
    let number = upper
        .strip_prefix("MR")
        .map_or(upper.as_str(), |r| r.trim_start_matches('-'));
    if !number.is_empty() && number.len() <= 18 && number.chars().all(|c| c.is_ascii_digit()) {
        if let Ok(n) = number.parse::<u64>() {
            let canonical = format!("MR-{n:06}");
            if canonical != upper {
                out.push(canonical);
            }
        }
    }
    out
}

/// The patient of this clinic a filter names: by id (a link from the patient
/// page) or by MR number as typed. `None` when there is no such patient here.
pub async fn resolve_patient(tx: &mut TenantTx, typed: &str) -> Result<Option<PatientRef>> {
    let tenant = tx.tenant();
    let typed = typed.trim();
    if typed.is_empty() || typed.len() > 64 {
        return Ok(None);
    }
    let row: Option<(PatientId, String, String)> = if let Ok(id) = typed.parse::<PatientId>() {
        sqlx::query_as(
            "SELECT id, mr_number, full_name FROM clinic.patients WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?
    } else {
        let candidates = mr_candidates(typed);
        // The number as typed wins over its canonical form.
        sqlx::query_as(
            "SELECT id, mr_number, full_name FROM clinic.patients
              WHERE tenant_id = $1 AND mr_number = ANY($2)
              ORDER BY mr_number = $3 DESC LIMIT 1",
        )
        .bind(tenant)
        .bind(&candidates)
        .bind(&candidates[0])
        .fetch_optional(tx.conn())
        .await?
    };
    Ok(row.map(|(id, mr_number, full_name)| PatientRef {
        id,
        mr_number,
        full_name,
    }))
}

/// A user of the clinic, for the person filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserChoice {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub active: bool,
}

/// What the filters offer: the clinic's users (disabled ones too: their past
/// work is in the log), its workstations, and every action name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choices {
    pub users: Vec<UserChoice>,
    pub workstations: Vec<(WorkstationId, String)>,
    pub actions: Vec<&'static str>,
}

pub async fn choices(tx: &mut TenantTx) -> Result<Choices> {
    let tenant = tx.tenant();
    let users: Vec<(UserId, String, String, bool)> = sqlx::query_as(
        "SELECT id, username, display_name, active FROM clinic.users
          WHERE tenant_id = $1 ORDER BY username",
    )
    .bind(tenant)
    .fetch_all(tx.conn())
    .await?;
    let workstations: Vec<(WorkstationId, String)> = sqlx::query_as(
        "SELECT id, name FROM clinic.workstations WHERE tenant_id = $1 ORDER BY name",
    )
    .bind(tenant)
    .fetch_all(tx.conn())
    .await?;
    Ok(Choices {
        users: users
            .into_iter()
            .map(|(id, username, display_name, active)| UserChoice {
                id,
                username,
                display_name,
                active,
            })
            .collect(),
        workstations,
        actions: Action::ALL.iter().map(|a| a.as_str()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mr_numbers_as_typed_and_canonical() {
        assert_eq!(mr_candidates(" mr-000123 "), vec!["MR-000123"]);
        assert_eq!(mr_candidates("123"), vec!["123", "MR-000123"]);
        assert_eq!(mr_candidates("MR123"), vec!["MR123", "MR-000123"]);
        assert_eq!(mr_candidates("mr-12"), vec!["MR-12", "MR-000012"]);
        assert_eq!(mr_candidates("MR-1234567"), vec!["MR-1234567"]);
        assert_eq!(mr_candidates("ABC-9"), vec!["ABC-9"]);
        assert_eq!(mr_candidates("MR-"), vec!["MR-"]);
    }

    #[test]
    fn a_range_ending_before_it_starts_is_refused() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let f = Filter {
            from: d("2026-03-02"),
            to: d("2026-03-01"),
            ..Filter::default()
        };
        assert!(matches!(
            f.check(),
            Err(Error::Validation { field: "from", .. })
        ));
        let same_day = Filter {
            from: d("2026-03-01"),
            to: d("2026-03-01"),
            ..Filter::default()
        };
        assert!(same_day.check().is_ok());
        assert!(Filter::default().check().is_ok());
    }

    #[test]
    fn dates_are_parsed_or_refused_with_their_label() {
        assert_eq!(parse_date("from", "From", " ").unwrap(), None);
        assert_eq!(
            parse_date("from", "From", "2026-03-01").unwrap(),
            NaiveDate::from_ymd_opt(2026, 3, 1)
        );
        match parse_date("to", "To", "01/03/2026") {
            Err(Error::Validation {
                field: "to",
                message,
            }) => assert!(message.contains("“To”")),
            other => panic!("{other:?}"),
        }
    }
}
