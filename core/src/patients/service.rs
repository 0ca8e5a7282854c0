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
        PatientQuery::MrPrefix(_) | PatientQuery::MrDigits(_) => "mr_number",
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
    /// When the date of birth is not known: the age as the patient gives it,
    /// in years (`34`, `34y`) or, for infants, months (`8m`). Empty otherwise.
    pub age: String,
    /// Empty when not given.
    pub cnic: String,
    pub phone: String,
    pub address: String,
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An age as the patient gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Age {
    Years(u32),
    /// For babies.
    Months(u32),
}

impl Age {
    /// Years (`34`, `34y`, `34 years`) or months (`8m`, `8 months`).
    pub fn parse(typed: &str) -> std::result::Result<Age, &'static str> {
        const HELP: &str = "Enter the age in years (e.g. 34), or in months for a baby (e.g. 8m).";
        let t = typed.trim().to_ascii_lowercase();
        let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (number, unit) = t.split_at(digits);
        let n: u32 = number.parse().map_err(|_| HELP)?;
        let age = match unit.trim() {
            "" | "y" | "yr" | "yrs" | "year" | "years" => Age::Years(n),
            "m" | "mo" | "month" | "months" => Age::Months(n),
            _ => return Err(HELP),
        };
        if age.months() > 130 * 12 {
            return Err("The age must be 130 years or less.");
        }
        Ok(age)
    }

    fn months(self) -> u32 {
        match self {
            Age::Years(y) => y.saturating_mul(12),
            Age::Months(m) => m,
        }
    }

    /// The age, in the same unit, of someone born on `dob`.
    fn of(self, dob: chrono::NaiveDate, today: chrono::NaiveDate) -> Age {
        let months = super::model::months_between(dob, today);
        match self {
            Age::Years(_) => Age::Years(months / 12),
            Age::Months(_) => Age::Months(months),
        }
    }
}

/// The date of birth the form gives, and whether it is estimated from an age
/// (`today` minus the age). With both, the age must agree with the date: a
/// mismatch is a typo in one of them.
fn birth(
    edit: &PatientEdit,
    today: chrono::NaiveDate,
) -> Result<(Option<chrono::NaiveDate>, bool)> {
    let age = match edit.age.trim() {
        "" => None,
        typed => Some(Age::parse(typed).map_err(|m| Error::validation("age", m))?),
    };
    let dob = edit.date_of_birth.trim();
    if dob.is_empty() {
        let Some(age) = age else {
            return Ok((None, false));
        };
        let estimated = today
            .checked_sub_months(chrono::Months::new(age.months()))
            .ok_or_else(|| Error::validation("age", "The age must be 130 years or less."))?;
        return Ok((Some(estimated), true));
    }
    let d = chrono::NaiveDate::parse_from_str(dob, "%Y-%m-%d").map_err(|_| {
        Error::validation(
            "date_of_birth",
            "Enter the date of birth as YYYY-MM-DD, e.g. 1984-03-27.",
        )
    })?;
    if d > today || d < today - chrono::Days::new(130 * 366) {
        return Err(Error::validation(
            "date_of_birth",
            "The date of birth must be in the past 130 years.",
        ));
    }
    if let Some(age) = age {
        let actual = age.of(d, today);
        if actual != age {
            let said = match actual {
                Age::Years(y) => format!("{y} years"),
                Age::Months(m) => format!("{m} months"),
            };
            return Err(Error::validation(
                "age",
                format!("The date of birth makes the patient {said}: correct the age or the date, or clear one of them."),
            ));
        }
    }
    Ok((Some(d), false))
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
    let (date_of_birth, date_of_birth_estimated) = birth(edit, super::model::today())?;
    Ok(repo::PatientUpdate {
        full_name,
        father_or_husband_name: guardian,
        sex,
        date_of_birth,
        date_of_birth_estimated,
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
    /// Nothing was saved: these patients of the clinic may be the same
    /// person. The operator opens one of them or registers anyway.
    PossibleDuplicates(Vec<PossibleDuplicate>),
}

/// A patient on file who may be the one being registered, and why.
#[derive(Debug, Clone)]
pub struct PossibleDuplicate {
    pub patient: Patient,
    pub reason: DuplicateReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateReason {
    SameCnic,
    SamePhone,
    /// A very similar name and father's or husband's name, and an age that
    /// fits (`repo::with_similar_name`).
    SimilarName,
}

impl DuplicateReason {
    pub fn label(self) -> &'static str {
        match self {
            DuplicateReason::SameCnic => "Same CNIC",
            DuplicateReason::SamePhone => "Same phone",
            DuplicateReason::SimilarName => "Similar name, father's name and age",
        }
    }
}

/// At most this many possible duplicates are shown.
const DUPLICATES_SHOWN: u32 = 5;

/// Patients on file who may be the person in `p`: the same CNIC or phone
/// first, then a very similar name, father's name and age.
async fn possible_duplicates(
    tx: &mut TenantTx,
    p: &repo::PatientUpdate,
) -> Result<Vec<PossibleDuplicate>> {
    let same = repo::with_same_identifiers(tx, p.cnic.as_ref(), p.phone.as_ref(), DUPLICATES_SHOWN)
        .await?;
    let mut found: Vec<PossibleDuplicate> = same
        .into_iter()
        .map(|patient| {
            let reason = if p.cnic.is_some() && patient.cnic == p.cnic {
                DuplicateReason::SameCnic
            } else {
                DuplicateReason::SamePhone
            };
            PossibleDuplicate { patient, reason }
        })
        .collect();
    let similar = repo::with_similar_name(
        tx,
        &p.full_name,
        &p.father_or_husband_name,
        p.date_of_birth,
        DUPLICATES_SHOWN,
    )
    .await?;
    for patient in similar {
        if found.len() >= DUPLICATES_SHOWN as usize {
            break;
        }
        if !found.iter().any(|d| d.patient.id == patient.id) {
            found.push(PossibleDuplicate {
                patient,
                reason: DuplicateReason::SimilarName,
            });
        }
    }
    Ok(found)
}

/// Registers a new patient with the clinic's next MR number. Unless
/// `register_anyway`, a possible duplicate on file (same CNIC or phone, or a
/// very similar name, father's name and age) stops it with the matching
/// patients (families often share a phone, so it is a warning).
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
        let same = possible_duplicates(tx, &p).await?;
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
        date_of_birth_estimated: p.date_of_birth_estimated,
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

/// The clinic's MR-number prefix (for the settings page).
pub async fn mr_prefix(tx: &mut TenantTx, session: &Session) -> Result<String> {
    session.require(Permission::SettingsManage)?;
    repo::mr_prefix(tx).await
}

/// Sets the prefix of the clinic's future MR numbers: 1 to 6 capital
/// letters and an optional dash (`MR-`, `HP`, `ANC-`). Numbers already given
/// keep theirs; the count continues.
pub async fn set_mr_prefix(tx: &mut TenantTx, session: &Session, typed: &str) -> Result<String> {
    session.require(Permission::SettingsManage)?;
    let prefix = typed.trim().to_ascii_uppercase();
    let letters = prefix.strip_suffix('-').unwrap_or(&prefix);
    if letters.is_empty() || letters.len() > 6 || !letters.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(Error::validation(
            "mr_prefix",
            "Use 1 to 6 letters, optionally followed by a dash, e.g. MR- or HP.",
        ));
    }
    repo::set_mr_prefix(tx, &prefix).await?;
    let subject = Subject {
        patient: None,
        object_type: "settings",
        object_id: String::new(),
    };
    let details = serde_json::json!({ "mr_prefix": prefix });
    audit::append(
        tx,
        &Actor::of(session),
        Action::SettingsChanged,
        &subject,
        Some(&details),
    )
    .await?;
    Ok(prefix)
}
