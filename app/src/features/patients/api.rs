//! Patient server functions: thin — authenticate, require, call the service.
// One argument per form field. Module-wide: the `#[server]` macro does not
// carry an item's `allow` over to the client stub of the hydrate build.
#![allow(clippy::too_many_arguments)]

use super::dto::{PatientDto, PatientPageDto, RegistrationDto};
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "patients/list")]
pub async fn list_patients(query: String, page: u32) -> Result<PatientPageDto, AppError> {
    use crate::server::authed;
    use healipro_core::{patients, rbac::Permission};
    let (session, mut tx) = authed(Permission::PatientsRead).await?;
    let found = patients::service::list(&mut tx, &session, &query, page).await?;
    tx.commit().await?;
    Ok(PatientPageDto {
        patients: found.patients.into_iter().map(Into::into).collect(),
        page: found.page,
        has_more: found.has_more,
    })
}

#[server(prefix = "/api", endpoint = "patients/get")]
pub async fn get_patient(id: String) -> Result<PatientDto, AppError> {
    use crate::server::authed;
    use healipro_core::{ids::PatientId, patients, rbac::Permission, Error};
    let (session, mut tx) = authed(Permission::PatientsRead).await?;
    // A malformed id is as unknown as another clinic's id.
    let id: PatientId = id.parse().map_err(|_| Error::NotFound)?;
    let patient = patients::service::open(&mut tx, &session, id).await?;
    tx.commit().await?;
    Ok(patient.into())
}

/// Saves edited demographics and identifiers; on success the form's draft is
/// discarded.
#[server(prefix = "/api", endpoint = "patients/update")]
pub async fn update_patient(
    id: String,
    full_name: String,
    father_or_husband_name: String,
    sex: String,
    date_of_birth: String,
    #[server(default)] age: String,
    #[server(default)] cnic: String,
    #[server(default)] phone: String,
    #[server(default)] address: String,
) -> Result<PatientDto, AppError> {
    use crate::server::authed;
    use healipro_core::patients::service::{self, PatientEdit};
    use healipro_core::{drafts, ids::PatientId, rbac::Permission, Error};
    let (session, mut tx) = authed(Permission::PatientsWrite).await?;
    let id: PatientId = id.parse().map_err(|_| Error::NotFound)?;
    let edit = PatientEdit {
        full_name,
        father_or_husband_name,
        sex,
        date_of_birth,
        age,
        cnic,
        phone,
        address,
    };
    let patient = service::update(&mut tx, &session, id, &edit).await?;
    drafts::discard(&mut tx, &session, &format!("patient-edit:{id}")).await?;
    tx.commit().await?;
    Ok(patient.into())
}

/// Registers a new patient. When someone on file may be the same person (same
/// CNIC or phone, or a very similar name, father's name and age) and
/// `register_anyway` is false, nothing is saved and they come back so the
/// operator can open one of them instead.
#[server(prefix = "/api", endpoint = "patients/register")]
pub async fn register_patient(
    full_name: String,
    father_or_husband_name: String,
    sex: String,
    date_of_birth: String,
    #[server(default)] age: String,
    #[server(default)] cnic: String,
    #[server(default)] phone: String,
    #[server(default)] address: String,
    #[server(default)] register_anyway: bool,
) -> Result<RegistrationDto, AppError> {
    use crate::server::authed;
    use healipro_core::patients::service::{self, PatientEdit, Registration};
    use healipro_core::{drafts, rbac::Permission};
    let (session, mut tx) = authed(Permission::PatientsWrite).await?;
    let edit = PatientEdit {
        full_name,
        father_or_husband_name,
        sex,
        date_of_birth,
        age,
        cnic,
        phone,
        address,
    };
    let outcome = match service::register(&mut tx, &session, &edit, register_anyway).await? {
        Registration::Registered(p) => {
            drafts::discard(&mut tx, &session, super::NEW_PATIENT_DRAFT).await?;
            RegistrationDto::Registered(Box::new(p.into()))
        }
        Registration::PossibleDuplicates(same) => {
            RegistrationDto::PossibleDuplicates(same.into_iter().map(Into::into).collect())
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// The prefix of the clinic's MR numbers (clinic settings).
#[server(prefix = "/api", endpoint = "patients/mr-prefix/get")]
pub async fn get_mr_prefix() -> Result<String, AppError> {
    use crate::server::authed;
    use healipro_core::{patients, rbac::Permission};
    let (session, mut tx) = authed(Permission::SettingsManage).await?;
    let prefix = patients::service::mr_prefix(&mut tx, &session).await?;
    tx.commit().await?;
    Ok(prefix)
}

/// Sets the prefix of the clinic's future MR numbers; returns it as saved.
#[server(prefix = "/api", endpoint = "patients/mr-prefix/save")]
pub async fn save_mr_prefix(mr_prefix: String) -> Result<String, AppError> {
    use crate::server::authed;
    use healipro_core::{patients, rbac::Permission};
    let (session, mut tx) = authed(Permission::SettingsManage).await?;
    let prefix = patients::service::set_mr_prefix(&mut tx, &session, &mr_prefix).await?;
    tx.commit().await?;
    Ok(prefix)
}
