//! "Patients seen": per doctor per clinic day, how many appointments and
//! walk-ins ended done, no-show or cancelled. Counts only, no patient names;
//! still tenant data, so reading it needs appointments.read and is audited.

use super::model::SeenRow;
use super::repo;
use super::service::check_range;
use crate::audit::{self, Action, Actor, Subject};
use crate::auth::Session;
use crate::db::TenantTx;
use crate::rbac::Permission;
use crate::Result;
use chrono::NaiveDate;

/// The report for clinic days `[from, to]` (at most a year), by day then
/// doctor; logs who viewed which range.
pub async fn patients_seen(
    tx: &mut TenantTx,
    session: &Session,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<SeenRow>> {
    session.require(Permission::AppointmentsRead)?;
    check_range(from, to)?;
    let rows = repo::seen_per_doctor_day(tx, from, to).await?;
    let subject = Subject {
        patient: None,
        object_type: "report",
        object_id: "patients_seen".to_owned(),
    };
    let details = serde_json::json!({ "from": from, "to": to, "rows": rows.len() });
    audit::append(
        tx,
        &Actor::of(session),
        Action::ReportViewed,
        &subject,
        Some(&details),
    )
    .await?;
    Ok(rows)
}
