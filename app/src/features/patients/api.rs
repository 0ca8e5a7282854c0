//! Patient server functions: thin — authenticate, require, call the service.

use super::dto::{PatientDto, PatientPageDto};
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

/// Saves edited demographics; on success the form's draft is discarded.
#[server(prefix = "/api", endpoint = "patients/update")]
pub async fn update_patient(
    id: String,
    full_name: String,
    father_or_husband_name: String,
    sex: String,
    date_of_birth: String,
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
    };
    let patient = service::update(&mut tx, &session, id, &edit).await?;
    drafts::discard(&mut tx, &session, &format!("patient-edit:{id}")).await?;
    tx.commit().await?;
    Ok(patient.into())
}
