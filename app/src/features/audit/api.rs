//! Audit log server functions: search and the patient's access history
//! (`AuditRead`: admins and auditors), the signed export (`AuditExport`:
//! admins). Each checks its permission first.

use super::dto::{AuditChoicesDto, AuditEntryDto, AuditExportDto, AuditPageDto};
use crate::error::AppError;
use leptos::prelude::*;

/// Entries per page of the audit search.
pub const PAGE_SIZE: i64 = 50;
/// Entries in a patient record's "Who accessed this record".
pub const PATIENT_ACCESS_SIZE: i64 = 20;

/// One page of the clinic's audit log, newest first. Every filter is
/// optional (empty); `patient` is an MR number as typed or a patient id;
/// `before_seq` is the `older` of the previous page (0 for the newest).
#[server(prefix = "/api", endpoint = "audit/search")]
pub async fn search_audit(
    #[server(default)] user: String,
    #[server(default)] patient: String,
    #[server(default)] action: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
    #[server(default)] workstation: String,
    #[server(default)] before_seq: i64,
) -> Result<AuditPageDto, AppError> {
    use super::dto::AuditPatientDto;
    use crate::server::authed;
    use healipro_core::audit::{search, Action};
    use healipro_core::{rbac::Permission, Error};
    let (_session, mut tx) = authed(Permission::AuditRead).await?;
    let patient = match patient.trim() {
        "" => None,
        typed => Some(
            search::resolve_patient(&mut tx, typed)
                .await?
                .ok_or_else(|| Error::validation("patient", unknown_patient_message(typed)))?,
        ),
    };
    let filter =
        search::Filter {
            user: optional_id(&user, "user", "Choose a person from the list.")?,
            patient: patient.as_ref().map(|p| p.id),
            action: match action.trim() {
                "" => None,
                name => Some(Action::parse(name).ok_or_else(|| {
                    Error::validation("action", "Choose an action from the list.")
                })?),
            },
            from: search::parse_date("from", "From", &from)?,
            to: search::parse_date("to", "To", &to)?,
            workstation: optional_id(
                &workstation,
                "workstation",
                "Choose a workstation from the list.",
            )?,
        };
    let before = (before_seq > 0).then_some(before_seq);
    let mut found = search::search(&mut tx, &filter, before, PAGE_SIZE + 1).await?;
    tx.commit().await?;
    let older = if found.len() > PAGE_SIZE as usize {
        found.truncate(PAGE_SIZE as usize);
        found.last().map(|f| f.seq)
    } else {
        None
    };
    Ok(AuditPageDto {
        entries: found.into_iter().map(Into::into).collect(),
        older,
        patient: patient.map(|p| AuditPatientDto {
            id: p.id.to_string(),
            mr_number: p.mr_number,
            full_name: p.full_name,
        }),
    })
}

/// An id chosen from a list (empty: any). A malformed one is a bad request.
#[cfg(feature = "ssr")]
fn optional_id<T: std::str::FromStr>(
    raw: &str,
    field: &'static str,
    message: &str,
) -> Result<Option<T>, healipro_core::Error> {
    match raw.trim() {
        "" => Ok(None),
        id => id
            .parse()
            .map(Some)
            .map_err(|_| healipro_core::Error::validation(field, message)),
    }
}

/// What to say when the patient filter names nobody in this clinic.
#[cfg(feature = "ssr")]
fn unknown_patient_message(typed: &str) -> String {
    if typed.parse::<healipro_core::ids::PatientId>().is_ok() {
        "No patient with this id in your clinic. Open the patient's record and follow its audit link, or type the MR number.".to_owned()
    } else if typed.chars().count() > 30 {
        "That is not an MR number. Type it as on the patient's record, e.g. MR-000123.".to_owned()
    } else {
        format!(
            "No patient with MR number “{typed}” in this clinic. Check the number on the patient's record (e.g. MR-000123)."
        )
    }
}

/// What the search filters offer: the clinic's users, workstations and the
/// action names.
#[server(prefix = "/api", endpoint = "audit/choices")]
pub async fn audit_choices() -> Result<AuditChoicesDto, AppError> {
    use super::dto::AuditUserDto;
    use crate::server::authed;
    use healipro_core::{audit::search, rbac::Permission};
    let (_session, mut tx) = authed(Permission::AuditRead).await?;
    let c = search::choices(&mut tx).await?;
    tx.commit().await?;
    Ok(AuditChoicesDto {
        users: c
            .users
            .into_iter()
            .map(|u| AuditUserDto {
                id: u.id.to_string(),
                username: u.username,
                display_name: u.display_name,
                active: u.active,
            })
            .collect(),
        workstations: c
            .workstations
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect(),
        actions: c.actions.into_iter().map(str::to_owned).collect(),
    })
}

/// The latest entries about one patient ("Who accessed this record").
#[server(prefix = "/api", endpoint = "audit/patient")]
pub async fn patient_access(patient_id: String) -> Result<Vec<AuditEntryDto>, AppError> {
    use crate::server::authed;
    use healipro_core::{audit::search, ids::PatientId, rbac::Permission, Error};
    let (_session, mut tx) = authed(Permission::AuditRead).await?;
    // A malformed id is as unknown as another clinic's.
    let id: PatientId = patient_id.parse().map_err(|_| Error::NotFound)?;
    let filter = search::Filter {
        patient: Some(id),
        ..search::Filter::default()
    };
    let found = search::search(&mut tx, &filter, None, PATIENT_ACCESS_SIZE).await?;
    tx.commit().await?;
    Ok(found.into_iter().map(Into::into).collect())
}

/// The clinic's audit log between two clinic dates (either open) as signed
/// JSON Lines, verifiable with only the public key. The export is itself
/// logged, in the same transaction.
#[server(prefix = "/api", endpoint = "audit/export")]
pub async fn export_audit(
    #[server(default)] from: String,
    #[server(default)] to: String,
) -> Result<AuditExportDto, AppError> {
    use crate::server::{authed, services};
    use healipro_core::audit::export::{export, ExportRange};
    use healipro_core::audit::{search, Actor};
    use healipro_core::{auth, rbac::Permission, Error};
    let (session, mut tx) = authed(Permission::AuditExport).await?;
    let services = services()?;
    let signer = services.audit_signer.clone().ok_or_else(|| {
        Error::Conflict(
            "Exports are off: the server has no audit signing key. Ask whoever runs the server \
             to create one (healipro audit init-key) and restart it."
                .to_owned(),
        )
    })?;
    let range = ExportRange {
        from: search::parse_date("from", "Export from", &from)?,
        to: search::parse_date("to", "Export to", &to)?,
    };
    let (clinic_code, _) = auth::clinic_code_and_name(&mut tx).await?;
    let done = export(&mut tx, &services.db, &signer, &Actor::of(&session), &range).await?;
    tx.commit().await?;
    let date = |d: Option<String>, open: &str| d.unwrap_or_else(|| open.to_owned());
    let filename = format!(
        "audit-{}-{}-{}.jsonl",
        file_safe(&clinic_code),
        date(range.from.map(|d| d.to_string()), "start"),
        date(range.to.map(|d| d.to_string()), "now"),
    );
    Ok(AuditExportDto {
        filename,
        jsonl: done.jsonl,
        entries: done.entries,
        first_seq: done.first_seq,
        last_seq: done.last_seq,
    })
}

/// A clinic code as part of a file name.
#[cfg(feature = "ssr")]
fn file_safe(code: &str) -> String {
    code.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
