//! Patient rules: what a list returns, what opening a record means.

use super::identifiers::{optional, Address, Cnic, Phone};
use super::model::{Patient, PatientPage, PatientQuery, MAX_PAGE, PAGE_SIZE};
use super::repo;
use crate::audit::{self, Action, Actor, Subject};
use crate::auth::Session;
use crate::db::TenantTx;
use crate::ids::PatientId;
use crate::rbac::Permission;
use crate::{Error, Result};

/// Opens one patient's record and logs it in the same transaction. Another
/// clinic's patient and a made-up id give the same `NotFound` (and no entry).
#[tracing::instrument(level = "debug", skip_all, fields(user = %session.user_id, patient = %id))]
pub async fn open(tx: &mut TenantTx, session: &Session, id: PatientId) -> Result<Patient> {
    session.require(Permission::PatientsRead)?;
    let patient = repo::get(tx, id).await?.ok_or(Error::NotFound)?;
    log(tx, session, Action::PatientOpened, Some(id), None).await?;
    Ok(patient)
}

/// Appends the audit entry of a patient action (last in the transaction).
async fn log(
    tx: &mut TenantTx,
    session: &Session,
    action: Action,
    patient: Option<PatientId>,
    details: Option<serde_json::Value>,
) -> Result<()> {
    let subject = patient.map(Subject::patient).unwrap_or_default();
    audit::append(tx, &Actor::of(session), action, &subject, details.as_ref()).await?;
    Ok(())
}

/// Which index a search used (logged; the text itself goes into the
/// encrypted details, as it may be a CNIC or phone number).
fn query_kind(q: &PatientQuery) -> &'static str {
    match q {
        PatientQuery::All => "all",
        PatientQuery::NamePrefix(_) => "name",
        PatientQuery::MrPrefix(_) => "mr_number",
        PatientQuery::Cnic(_) => "cnic",
        PatientQuery::Phone(_) => "phone",
    }
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
    let details = serde_json::json!({
        "kind": query_kind(&query),
        "query": raw_query,
        "page": page,
        "results": patients.len(),
    });
    log(tx, session, Action::PatientsSearched, None, Some(details)).await?;
    Ok(PatientPage {
        patients,
        page,
        has_more,
    })
}

/// Demographics and identifiers as typed into the registration or edit form.
#[derive(Debug, Clone, Default)]
pub struct PatientEdit {
    pub full_name: String,
    pub father_or_husband_name: String,
    pub sex: String,
    /// `YYYY-MM-DD` or empty.
    pub date_of_birth: String,
    /// Empty when not given.
    pub cnic: String,
    pub phone: String,
    pub address: String,
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks every field; errors name the field and say what to fix (nothing is
/// saved until all are right).
fn validate(edit: &PatientEdit) -> Result<repo::PatientUpdate> {
    let full_name = collapse(&edit.full_name);
    if full_name.is_empty() || full_name.chars().count() > 200 {
        return Err(Error::validation(
            "full_name",
            "Enter the patient's full name (up to 200 characters).",
        ));
    }
    let guardian = collapse(&edit.father_or_husband_name);
    if guardian.chars().count() > 200 {
        return Err(Error::validation(
            "father_or_husband_name",
            "The name is too long (200 characters at most).",
        ));
    }
    let sex = super::Sex::parse(edit.sex.trim())
        .ok_or_else(|| Error::validation("sex", "Choose female, male or other."))?;
    let dob = edit.date_of_birth.trim();
    let date_of_birth = if dob.is_empty() {
        None
    } else {
        let d = chrono::NaiveDate::parse_from_str(dob, "%Y-%m-%d").map_err(|_| {
            Error::validation(
                "date_of_birth",
                "Enter the date of birth as YYYY-MM-DD, e.g. 1984-03-27.",
            )
        })?;
        let today = super::model::today();
        if d > today || d < today - chrono::Days::new(130 * 366) {
            return Err(Error::validation(
                "date_of_birth",
                "The date of birth must be in the past 130 years.",
            ));
        }
        Some(d)
    };
    Ok(repo::PatientUpdate {
        full_name,
        father_or_husband_name: guardian,
        sex,
        date_of_birth,
        cnic: optional(&edit.cnic, Cnic::parse).map_err(|m| Error::validation("cnic", m))?,
        phone: optional(&edit.phone, Phone::parse).map_err(|m| Error::validation("phone", m))?,
        address: optional(&edit.address, Address::parse)
            .map_err(|m| Error::validation("address", m))?,
    })
}

/// Saves an edit after checking every field.
#[tracing::instrument(level = "debug", skip_all, fields(user = %session.user_id, patient = %id))]
pub async fn update(
    tx: &mut TenantTx,
    session: &Session,
    id: PatientId,
    edit: &PatientEdit,
) -> Result<Patient> {
    session.require(Permission::PatientsWrite)?;
    let update = validate(edit)?;
    if !repo::update(tx, id, &update).await? {
        return Err(Error::NotFound);
    }
    let patient = repo::get(tx, id).await?.ok_or(Error::NotFound)?;
    log(tx, session, Action::PatientUpdated, Some(id), None).await?;
    Ok(patient)
}

/// What registering a patient did.
#[derive(Debug, Clone)]
pub enum Registration {
    Registered(Patient),
    /// Nothing was saved: these patients of the clinic have the same CNIC or
    /// phone. The operator opens one of them or registers anyway.
    PossibleDuplicates(Vec<Patient>),
}

/// Registers a new patient with the clinic's next MR number. Unless
/// `register_anyway`, a CNIC or phone already on file stops it with the
/// matching patients (families often share a phone, so it is a warning).
#[tracing::instrument(level = "debug", skip_all, fields(user = %session.user_id))]
pub async fn register(
    tx: &mut TenantTx,
    session: &Session,
    edit: &PatientEdit,
    register_anyway: bool,
) -> Result<Registration> {
    session.require(Permission::PatientsWrite)?;
    let p = validate(edit)?;
    if !register_anyway {
        let same = repo::with_same_identifiers(tx, p.cnic.as_ref(), p.phone.as_ref(), 5).await?;
        if !same.is_empty() {
            // The answer shows other patients' details: log it as a search.
            let details = serde_json::json!({ "kind": "duplicate_check", "results": same.len() });
            log(tx, session, Action::PatientsSearched, None, Some(details)).await?;
            return Ok(Registration::PossibleDuplicates(same));
        }
    }
    let new = repo::NewPatient {
        mr_number: repo::next_mr_number(tx).await?,
        full_name: p.full_name,
        father_or_husband_name: p.father_or_husband_name,
        sex: p.sex,
        date_of_birth: p.date_of_birth,
        cnic: p.cnic,
        phone: p.phone,
        address: p.address,
    };
    let ids = repo::insert_many(tx, std::slice::from_ref(&new)).await?;
    let id = ids.first().copied().ok_or(Error::NotFound)?;
    let patient = repo::get(tx, id).await?.ok_or(Error::NotFound)?;
    let details =
        serde_json::json!({ "mr_number": patient.mr_number, "register_anyway": register_anyway });
    log(tx, session, Action::PatientCreated, Some(id), Some(details)).await?;
    Ok(Registration::Registered(patient))
}
