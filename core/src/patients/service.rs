//! Patient rules: what a list returns, what opening a record means.

use super::model::{Patient, PatientPage, PatientQuery, MAX_PAGE, PAGE_SIZE};
use super::repo;
use crate::auth::Session;
use crate::db::TenantTx;
use crate::ids::PatientId;
use crate::rbac::Permission;
use crate::{Error, Result};

/// Opens one patient's record. Another clinic's patient and a made-up id give
/// the same `NotFound`. (The audit issue adds the "record opened" entry here, in
/// the same transaction.)
#[tracing::instrument(level = "debug", skip_all, fields(user = %session.user_id, patient = %id))]
pub async fn open(tx: &mut TenantTx, session: &Session, id: PatientId) -> Result<Patient> {
    session.require(Permission::PatientsRead)?;
    repo::get(tx, id).await?.ok_or(Error::NotFound)
}

/// One page (0-based) of the clinic's patients matching what was typed.
#[tracing::instrument(level = "debug", skip_all, fields(user = %session.user_id, page))]
pub async fn list(
    tx: &mut TenantTx,
    session: &Session,
    raw_query: &str,
    page: u32,
) -> Result<PatientPage> {
    session.require(Permission::PatientsRead)?;
    if raw_query.len() > 200 {
        return Err(Error::validation(
            "query",
            "Search text is too long (200 characters at most).",
        ));
    }
    let page = page.min(MAX_PAGE);
    let query = PatientQuery::parse(raw_query);
    let mut patients = repo::search(tx, &query, PAGE_SIZE + 1, page * PAGE_SIZE).await?;
    let has_more = patients.len() > PAGE_SIZE as usize;
    patients.truncate(PAGE_SIZE as usize);
    Ok(PatientPage {
        patients,
        page,
        has_more,
    })
}
