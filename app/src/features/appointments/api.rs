//! Appointment server functions: thin — authenticate, require, parse, call
//! `healipro_core::scheduling::service`, commit. Dates are `YYYY-MM-DD`
//! (empty: today in the clinic), instants RFC 3339 as the slot list sends
//! them, ids as listed.

use super::dto::{
    AppointmentDto, DayDto, DoctorDto, ExceptionDto, HoursDto, SeenReportDto, SlotDto,
};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod parse {
    use healipro_core::ids::{AppointmentId, PatientId, UserId};
    use healipro_core::scheduling::Status;
    use healipro_core::{Error, Result};

    pub fn doctor(raw: &str) -> Result<UserId> {
        raw.trim()
            .parse()
            .map_err(|_| Error::validation("doctor", "Choose a doctor from the list."))
    }

    pub fn patient(raw: &str) -> Result<PatientId> {
        raw.trim().parse().map_err(|_| {
            Error::validation(
                "patient",
                "Choose a patient: search by MR number or name, then pick one.",
            )
        })
    }

    /// A malformed id is as unknown as another clinic's.
    pub fn appointment(raw: &str) -> Result<AppointmentId> {
        raw.trim().parse().map_err(|_| Error::NotFound)
    }

    pub fn status(raw: &str) -> Result<Status> {
        Status::parse(raw.trim())
            .ok_or_else(|| Error::validation("status", "Choose one of the status buttons."))
    }

    /// `HH:MM` (a time input) or `HH:MM:SS`.
    pub fn time<T: std::str::FromStr>(field: &'static str, raw: &str) -> Result<T> {
        let raw = raw.trim();
        let full = if raw.len() == 5 {
            format!("{raw}:00")
        } else {
            raw.to_owned()
        };
        full.parse()
            .map_err(|_| Error::validation(field, "Enter a time as HH:MM, e.g. 09:00."))
    }

    /// A malformed id is as unknown as another clinic's.
    pub fn exception(raw: &str) -> Result<uuid::Uuid> {
        uuid::Uuid::parse_str(raw.trim()).map_err(|_| Error::NotFound)
    }

    pub fn instant<T: std::str::FromStr>(raw: &str) -> Result<T> {
        raw.trim()
            .parse()
            .map_err(|_| Error::validation("starts_at", "Choose a free slot from the list."))
    }
}

/// The clinic day typed (`YYYY-MM-DD`), or today in the clinic when empty.
#[cfg(feature = "ssr")]
macro_rules! clinic_day {
    ($raw:expr) => {
        healipro_core::audit::search::parse_date("day", "Date", $raw)?.unwrap_or_else(|| {
            healipro_core::scheduling::service::clinic_day(std::time::SystemTime::now().into())
        })
    };
}

/// The clinic's doctors, for the pickers.
#[server(prefix = "/api", endpoint = "appointments/doctors")]
pub async fn list_doctors() -> Result<Vec<DoctorDto>, AppError> {
    use crate::server::authed;
    use healipro_core::{rbac::Permission, scheduling::repo};
    let (session, mut tx) = authed(Permission::AppointmentsRead).await?;
    let doctors = repo::doctors(&mut tx).await?;
    tx.commit().await?;
    Ok(doctors
        .into_iter()
        .map(|(id, name)| DoctorDto {
            id: id.to_string(),
            name,
            me: id == session.user_id,
        })
        .collect())
}

/// A clinic day's appointments and walk-ins: one doctor's, or everyone's
/// (`doctor` empty).
#[server(prefix = "/api", endpoint = "appointments/day")]
pub async fn day_list(
    #[server(default)] day: String,
    #[server(default)] doctor: String,
) -> Result<DayDto, AppError> {
    use crate::server::authed;
    use healipro_core::{rbac::Permission, scheduling::service};
    let (session, mut tx) = authed(Permission::AppointmentsRead).await?;
    let day = clinic_day!(&day);
    let doctor = match doctor.trim() {
        "" => None,
        id => Some(parse::doctor(id)?),
    };
    let list = service::day_list(&mut tx, &session, day, doctor).await?;
    tx.commit().await?;
    Ok(DayDto {
        day: day.format("%Y-%m-%d").to_string(),
        appointments: list.into_iter().map(Into::into).collect(),
    })
}

/// A doctor's slots on a day, each free or taken.
#[server(prefix = "/api", endpoint = "appointments/slots")]
pub async fn slots(
    doctor: String,
    #[server(default)] day: String,
) -> Result<Vec<SlotDto>, AppError> {
    use crate::server::authed;
    use healipro_core::{rbac::Permission, scheduling::service};
    let (session, mut tx) = authed(Permission::AppointmentsRead).await?;
    let day = clinic_day!(&day);
    let doctor = parse::doctor(&doctor)?;
    let slots = service::slots(&mut tx, &session, doctor, day).await?;
    tx.commit().await?;
    Ok(slots.into_iter().map(Into::into).collect())
}

/// Books a patient into a doctor's free slot. A taken slot is a conflict
/// (409) naming the booking in the way.
#[server(prefix = "/api", endpoint = "appointments/book")]
pub async fn book(
    patient: String,
    doctor: String,
    starts_at: String,
) -> Result<AppointmentDto, AppError> {
    use crate::server::authed;
    use healipro_core::{rbac::Permission, scheduling::service};
    let (session, mut tx) = authed(Permission::AppointmentsWrite).await?;
    let patient = parse::patient(&patient)?;
    let doctor = parse::doctor(&doctor)?;
    let starts_at = parse::instant(&starts_at)?;
    let a = service::book(&mut tx, &session, patient, doctor, starts_at).await?;
    tx.commit().await?;
    Ok(a.into())
}

/// A walk-in for today: arrived at once, with the doctor's next token.
#[server(prefix = "/api", endpoint = "appointments/walk-in")]
pub async fn walk_in(patient: String, doctor: String) -> Result<AppointmentDto, AppError> {
    use crate::server::authed;
    use healipro_core::{rbac::Permission, scheduling::service};
    let (session, mut tx) = authed(Permission::AppointmentsWrite).await?;
    let patient = parse::patient(&patient)?;
    let doctor = parse::doctor(&doctor)?;
    let a = service::walk_in(&mut tx, &session, patient, doctor).await?;
    tx.commit().await?;
    Ok(a.into())
}

/// Arrived (gives the token), no-show, cancelled (needs a reason in `note`),
/// done.
#[server(prefix = "/api", endpoint = "appointments/status")]
pub async fn change_status(
    id: String,
    status: String,
    #[server(default)] note: String,
) -> Result<AppointmentDto, AppError> {
    use crate::server::authed;
    use healipro_core::{rbac::Permission, scheduling::service};
    let (session, mut tx) = authed(Permission::AppointmentsWrite).await?;
    let id = parse::appointment(&id)?;
    let status = parse::status(&status)?;
    let a = service::change_status(&mut tx, &session, id, status, &note).await?;
    tx.commit().await?;
    Ok(a.into())
}

/// Moves a booked appointment to another free slot of its doctor.
#[server(prefix = "/api", endpoint = "appointments/reschedule")]
pub async fn reschedule(id: String, starts_at: String) -> Result<AppointmentDto, AppError> {
    use crate::server::authed;
    use healipro_core::{rbac::Permission, scheduling::service};
    let (session, mut tx) = authed(Permission::AppointmentsWrite).await?;
    let id = parse::appointment(&id)?;
    let starts_at = parse::instant(&starts_at)?;
    let a = service::reschedule(&mut tx, &session, id, starts_at).await?;
    tx.commit().await?;
    Ok(a.into())
}

/// The lowest waiting token of the doctor's day goes in; None when nobody
/// waits.
#[server(prefix = "/api", endpoint = "appointments/call-next")]
pub async fn call_next(doctor: String) -> Result<Option<AppointmentDto>, AppError> {
    use crate::server::authed;
    use healipro_core::{rbac::Permission, scheduling::service};
    let (session, mut tx) = authed(Permission::AppointmentsWrite).await?;
    let doctor = parse::doctor(&doctor)?;
    let day = clinic_day!("");
    let a = service::call_next(&mut tx, &session, doctor, day).await?;
    tx.commit().await?;
    Ok(a.map(Into::into))
}

/// Replaces a doctor's weekly hours with one block (`starts`–`ends`, slots of
/// `slot_minutes`) on each listed ISO weekday (`1,2,…`, 1 = Monday); no
/// weekdays clears them.
#[server(prefix = "/api", endpoint = "appointments/hours")]
pub async fn set_hours(
    doctor: String,
    #[server(default)] weekdays: String,
    starts: String,
    ends: String,
    slot_minutes: String,
    #[server(default)] fee: String,
) -> Result<(), AppError> {
    use crate::server::authed;
    use healipro_core::scheduling::{service, WeeklyHours};
    use healipro_core::{rbac::Permission, Error};
    let (session, mut tx) = authed(Permission::SchedulesManage).await?;
    let doctor = parse::doctor(&doctor)?;
    let slot_minutes: u16 = slot_minutes.trim().parse().map_err(|_| {
        Error::validation("slot_minutes", "Enter the slot length in minutes, e.g. 15.")
    })?;
    let fee_pkr: Option<i32> = match fee.trim() {
        "" => None,
        f => Some(f.parse().map_err(|_| {
            Error::validation(
                "fee",
                "Enter the fee in whole rupees, e.g. 1500, or leave it empty.",
            )
        })?),
    };
    let (starts, ends) = (parse::time("starts", &starts)?, parse::time("ends", &ends)?);
    let mut hours = Vec::new();
    for day in weekdays.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let weekday: u8 = day
            .parse()
            .map_err(|_| Error::validation("weekday", "Choose days of the week (1 = Monday)."))?;
        hours.push(WeeklyHours {
            weekday,
            starts,
            ends,
            slot_minutes,
            fee_pkr,
        });
    }
    service::set_hours(&mut tx, &session, doctor, &hours).await?;
    tx.commit().await?;
    Ok(())
}

/// A doctor's weekly hours, for the hours form.
#[server(prefix = "/api", endpoint = "appointments/hours/get")]
pub async fn doctor_hours(doctor: String) -> Result<Vec<HoursDto>, AppError> {
    use crate::server::authed;
    use healipro_core::{rbac::Permission, scheduling::service};
    let (session, mut tx) = authed(Permission::SchedulesManage).await?;
    let doctor = parse::doctor(&doctor)?;
    let hours = service::hours(&mut tx, &session, doctor).await?;
    tx.commit().await?;
    Ok(hours.into_iter().map(Into::into).collect())
}

/// Leave and holidays in force touching `from`–`to` (empty `from`: today in
/// the clinic; empty `to`: a year on).
#[server(prefix = "/api", endpoint = "appointments/exceptions")]
pub async fn list_exceptions(
    #[server(default)] from: String,
    #[server(default)] to: String,
) -> Result<Vec<ExceptionDto>, AppError> {
    use crate::server::authed;
    use healipro_core::{rbac::Permission, scheduling::service};
    let (session, mut tx) = authed(Permission::AppointmentsRead).await?;
    let from = clinic_day!(&from);
    let to = healipro_core::audit::search::parse_date("to", "To", &to)?
        .unwrap_or_else(|| service::days_after(from, service::MAX_RANGE_DAYS - 1));
    let list = service::exceptions(&mut tx, &session, from, to).await?;
    tx.commit().await?;
    Ok(list.into_iter().map(Into::into).collect())
}

/// Leave for `doctor` (empty: a holiday for the whole clinic) from
/// `first_day` to `last_day` (empty: the first day only).
#[server(prefix = "/api", endpoint = "appointments/exceptions/add")]
pub async fn add_exception(
    #[server(default)] doctor: String,
    first_day: String,
    #[server(default)] last_day: String,
    reason: String,
) -> Result<String, AppError> {
    use crate::server::authed;
    use healipro_core::rbac::Permission;
    use healipro_core::scheduling::{service, Exception};
    let (session, mut tx) = authed(Permission::SchedulesManage).await?;
    let doctor = match doctor.trim() {
        "" => None,
        id => Some(parse::doctor(id)?),
    };
    let first_day = healipro_core::audit::search::parse_date("first_day", "First day", &first_day)?
        .ok_or_else(|| healipro_core::Error::validation("first_day", "Choose the first day."))?;
    let last_day = healipro_core::audit::search::parse_date("last_day", "Last day", &last_day)?
        .unwrap_or(first_day);
    let e = Exception {
        doctor,
        first_day,
        last_day,
        reason,
    };
    let id = service::add_exception(&mut tx, &session, &e).await?;
    tx.commit().await?;
    Ok(id.to_string())
}

/// Withdraws leave or a holiday: its days are bookable again.
#[server(prefix = "/api", endpoint = "appointments/exceptions/withdraw")]
pub async fn withdraw_exception(id: String) -> Result<ExceptionDto, AppError> {
    use crate::server::authed;
    use healipro_core::{rbac::Permission, scheduling::service};
    let (session, mut tx) = authed(Permission::SchedulesManage).await?;
    let id = parse::exception(&id)?;
    let e = service::withdraw_exception(&mut tx, &session, id).await?;
    tx.commit().await?;
    Ok(e.into())
}

/// Patients seen per doctor per day, `from`–`to` (empty `to`: today in the
/// clinic; empty `from`: a week before `to`). Viewing it is audited.
#[server(prefix = "/api", endpoint = "appointments/report")]
pub async fn patients_seen(
    #[server(default)] from: String,
    #[server(default)] to: String,
) -> Result<SeenReportDto, AppError> {
    use crate::server::authed;
    use healipro_core::rbac::Permission;
    use healipro_core::scheduling::{report, service};
    let (session, mut tx) = authed(Permission::AppointmentsRead).await?;
    let to = clinic_day!(&to);
    let from = healipro_core::audit::search::parse_date("from", "From", &from)?
        .unwrap_or_else(|| service::days_after(to, -6));
    let rows = report::patients_seen(&mut tx, &session, from, to).await?;
    tx.commit().await?;
    Ok(SeenReportDto {
        from: from.format("%Y-%m-%d").to_string(),
        to: to.format("%Y-%m-%d").to_string(),
        rows: rows.into_iter().map(Into::into).collect(),
    })
}
