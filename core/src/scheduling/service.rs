//! Front-desk rules: every function checks its permission first, refuses bad
//! requests with a message the operator can act on, and logs an audit entry
//! in the same transaction. The database has the last word on overlaps
//! (migration 0010); these rules make the common mistakes clear earlier.

use super::model::{Appointment, Exception, ListedException, Slot, Status, WeeklyHours};
use super::repo::{self, NewAppointment};
use crate::audit::{self, clinic_offset, Action, Actor, Subject};
use crate::auth::Session;
use crate::db::TenantTx;
use crate::ids::{AppointmentId, PatientId, UserId};
use crate::rbac::Permission;
use crate::{Error, Result};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};

/// The clinic day (Pakistan time) an instant falls on.
pub fn clinic_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&clinic_offset()).date_naive()
}

/// A clinic wall-clock time on a clinic day, as an instant.
pub fn clinic_instant(day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    day.and_time(time)
        .and_local_timezone(clinic_offset())
        .single()
        .expect("a fixed offset has no gaps")
        .with_timezone(&Utc)
}

/// The clinic day `n` days after `day` (before it when `n` is negative).
pub fn days_after(day: NaiveDate, n: i64) -> NaiveDate {
    day + Duration::days(n)
}

fn hhmm(at: DateTime<Utc>) -> String {
    at.with_timezone(&clinic_offset())
        .format("%H:%M")
        .to_string()
}

fn day_text(day: NaiveDate) -> String {
    day.format("%a %-d %b %Y").to_string()
}

async fn doctor(tx: &mut TenantTx, id: UserId) -> Result<String> {
    repo::doctor_name(tx, id)
        .await?
        .ok_or_else(|| Error::validation("doctor", "Choose a doctor of this clinic."))
}

async fn log(
    tx: &mut TenantTx,
    session: &Session,
    action: Action,
    subject: Subject,
    details: serde_json::Value,
) -> Result<()> {
    audit::append(tx, &Actor::of(session), action, &subject, Some(&details)).await?;
    Ok(())
}

fn appointment_subject(a: &Appointment) -> Subject {
    Subject {
        patient: Some(a.patient_id),
        object_type: "appointment",
        object_id: a.id.to_string(),
    }
}

/// Replaces a doctor's weekly hours.
pub async fn set_hours(
    tx: &mut TenantTx,
    session: &Session,
    doctor_id: UserId,
    hours: &[WeeklyHours],
) -> Result<()> {
    session.require(Permission::SchedulesManage)?;
    doctor(tx, doctor_id).await?;
    for h in hours {
        if !(1..=7).contains(&h.weekday) {
            return Err(Error::validation("weekday", "Choose a day of the week."));
        }
        if h.ends <= h.starts {
            return Err(Error::validation(
                "hours",
                "Hours must end after they start.",
            ));
        }
        if !(5..=240).contains(&h.slot_minutes) {
            return Err(Error::validation(
                "slot_minutes",
                "A slot is between 5 and 240 minutes.",
            ));
        }
        if h.fee_pkr.is_some_and(|f| f < 0) {
            return Err(Error::validation("fee", "A fee cannot be negative."));
        }
    }
    repo::replace_hours(tx, doctor_id, hours).await?;
    let subject = Subject {
        patient: None,
        object_type: "doctor_hours",
        object_id: doctor_id.to_string(),
    };
    log(
        tx,
        session,
        Action::ScheduleChanged,
        subject,
        serde_json::json!({ "blocks": hours.len() }),
    )
    .await
}

/// A doctor's weekly hours, by weekday then start (the hours form loads
/// them).
pub async fn hours(
    tx: &mut TenantTx,
    session: &Session,
    doctor_id: UserId,
) -> Result<Vec<WeeklyHours>> {
    session.require(Permission::SchedulesManage)?;
    doctor(tx, doctor_id).await?;
    repo::hours(tx, doctor_id).await
}

/// The longest range of days a list or report covers at once.
pub const MAX_RANGE_DAYS: i64 = 366;

/// Refuses `to` before `from` and ranges longer than [`MAX_RANGE_DAYS`].
pub(crate) fn check_range(from: NaiveDate, to: NaiveDate) -> Result<()> {
    if to < from {
        return Err(Error::validation("to", "The last day is before the first."));
    }
    if (to - from).num_days() >= MAX_RANGE_DAYS {
        return Err(Error::validation(
            "to",
            "Choose at most a year of days at once.",
        ));
    }
    Ok(())
}

/// Leave and holidays still in force that touch `[from, to]`.
pub async fn exceptions(
    tx: &mut TenantTx,
    session: &Session,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ListedException>> {
    session.require(Permission::AppointmentsRead)?;
    check_range(from, to)?;
    repo::exceptions(tx, from, to).await
}

/// Withdraws leave or a holiday: its days are bookable again. Withdrawn
/// exceptions stay on file (never deleted).
pub async fn withdraw_exception(
    tx: &mut TenantTx,
    session: &Session,
    id: uuid::Uuid,
) -> Result<ListedException> {
    session.require(Permission::SchedulesManage)?;
    let e = repo::withdraw_exception(tx, id, session.user_id)
        .await?
        .ok_or(Error::NotFound)?;
    let subject = Subject {
        patient: None,
        object_type: "schedule_exception",
        object_id: id.to_string(),
    };
    let details = serde_json::json!({
        "withdrawn": true, "doctor": e.doctor, "first_day": e.first_day,
        "last_day": e.last_day, "reason": e.reason,
    });
    log(tx, session, Action::ScheduleChanged, subject, details).await?;
    Ok(e)
}

/// Records leave for a doctor, or (no doctor) a clinic holiday; returns its
/// id.
pub async fn add_exception(
    tx: &mut TenantTx,
    session: &Session,
    e: &Exception,
) -> Result<uuid::Uuid> {
    session.require(Permission::SchedulesManage)?;
    if let Some(d) = e.doctor {
        doctor(tx, d).await?;
    }
    if e.last_day < e.first_day {
        return Err(Error::validation(
            "last_day",
            "The last day is before the first.",
        ));
    }
    if e.reason.trim().is_empty() {
        return Err(Error::validation("reason", "Say why (leave, holiday, …)."));
    }
    if (e.last_day - e.first_day).num_days() >= MAX_RANGE_DAYS {
        return Err(Error::validation(
            "last_day",
            "Leave or a holiday lasts at most a year.",
        ));
    }
    if e.reason.trim().chars().count() > 200 {
        return Err(Error::validation(
            "reason",
            "Keep the reason under 200 characters.",
        ));
    }
    let id = repo::add_exception(tx, e).await?;
    let subject = Subject {
        patient: None,
        object_type: "schedule_exception",
        object_id: id.to_string(),
    };
    let details = serde_json::json!({
        "doctor": e.doctor, "first_day": e.first_day, "last_day": e.last_day,
        "reason": e.reason.trim(),
    });
    log(tx, session, Action::ScheduleChanged, subject, details).await?;
    Ok(id)
}

/// The doctor's slots on a clinic day (none when away), each marked taken or
/// free.
pub async fn slots(
    tx: &mut TenantTx,
    session: &Session,
    doctor_id: UserId,
    day: NaiveDate,
) -> Result<Vec<Slot>> {
    session.require(Permission::AppointmentsRead)?;
    if repo::away_reason(tx, doctor_id, day).await?.is_some() {
        return Ok(Vec::new());
    }
    let weekday = day.weekday().number_from_monday() as u8;
    let booked: Vec<(DateTime<Utc>, DateTime<Utc>)> = repo::day(tx, day, Some(doctor_id))
        .await?
        .into_iter()
        .filter(|a| holds_slot(a.status))
        .filter_map(|a| a.starts_at.zip(a.ends_at))
        .collect();
    let mut slots = Vec::new();
    for h in repo::hours(tx, doctor_id)
        .await?
        .into_iter()
        .filter(|h| h.weekday == weekday)
    {
        let step = Duration::minutes(i64::from(h.slot_minutes));
        let (mut t, end) = (clinic_instant(day, h.starts), clinic_instant(day, h.ends));
        while t + step <= end {
            let taken = booked.iter().any(|(s, e)| *s < t + step && t < *e);
            slots.push(Slot {
                starts_at: t,
                ends_at: t + step,
                taken,
            });
            t += step;
        }
    }
    Ok(slots)
}

fn holds_slot(s: Status) -> bool {
    matches!(
        s,
        Status::Booked | Status::Arrived | Status::InConsultation | Status::Done
    )
}

/// The slot `[starts, ends)` of the doctor's hours that begins at `starts`,
/// or why there is none.
async fn slot_at(
    tx: &mut TenantTx,
    doctor_id: UserId,
    name: &str,
    starts: DateTime<Utc>,
) -> Result<(NaiveDate, DateTime<Utc>, DateTime<Utc>)> {
    let day = clinic_day(starts);
    if starts < Utc::now() - Duration::minutes(5) {
        return Err(Error::validation(
            "starts_at",
            "That time has already passed.",
        ));
    }
    if let Some(reason) = repo::away_reason(tx, doctor_id, day).await? {
        return Err(Error::validation(
            "starts_at",
            format!(
                "{name} is away on {} ({reason}). Choose another day.",
                day_text(day)
            ),
        ));
    }
    let weekday = day.weekday().number_from_monday() as u8;
    let hours: Vec<WeeklyHours> = repo::hours(tx, doctor_id)
        .await?
        .into_iter()
        .filter(|h| h.weekday == weekday)
        .collect();
    for h in &hours {
        let step = Duration::minutes(i64::from(h.slot_minutes));
        let (first, end) = (clinic_instant(day, h.starts), clinic_instant(day, h.ends));
        if starts >= first
            && starts + step <= end
            && (starts - first).num_minutes() % i64::from(h.slot_minutes) == 0
        {
            return Ok((day, starts, starts + step));
        }
    }
    let seen: Vec<String> = hours
        .iter()
        .map(|h| format!("{}–{}", h.starts.format("%H:%M"), h.ends.format("%H:%M")))
        .collect();
    Err(Error::validation(
        "starts_at",
        if seen.is_empty() {
            format!(
                "{name} does not see patients on {}s. Choose another day.",
                day.format("%A")
            )
        } else {
            format!(
                "{} is not one of {name}'s slots on {}s ({}). Choose a free slot.",
                hhmm(starts),
                day.format("%A"),
                seen.join(", ")
            )
        },
    ))
}

fn double_booked(name: &str, other: Option<Appointment>) -> Error {
    match other {
        Some(o) => Error::Conflict(format!(
            "{name} already has {} ({}) at {}–{} on {}. Choose another slot.",
            o.patient_name,
            o.mr_number,
            o.starts_at.map(hhmm).unwrap_or_default(),
            o.ends_at.map(hhmm).unwrap_or_default(),
            day_text(o.day)
        )),
        None => Error::Conflict(format!(
            "That slot with {name} was just taken. Choose another slot."
        )),
    }
}

async fn patient_exists(tx: &mut TenantTx, patient: PatientId) -> Result<()> {
    if crate::patients::repo::exists(tx, patient).await? {
        Ok(())
    } else {
        Err(Error::validation("patient", "Choose a registered patient."))
    }
}

/// Books a patient into one of a doctor's free slots.
pub async fn book(
    tx: &mut TenantTx,
    session: &Session,
    patient: PatientId,
    doctor_id: UserId,
    starts_at: DateTime<Utc>,
) -> Result<Appointment> {
    session.require(Permission::AppointmentsWrite)?;
    let name = doctor(tx, doctor_id).await?;
    patient_exists(tx, patient).await?;
    let (day, starts, ends) = slot_at(tx, doctor_id, &name, starts_at).await?;
    let new = NewAppointment {
        patient,
        doctor: doctor_id,
        day,
        slot: Some((starts, ends)),
        status: Status::Booked,
        token: None,
        created_by: session.user_id,
    };
    let details =
        serde_json::json!({ "doctor": doctor_id, "starts_at": starts, "status": "booked" });
    create(tx, session, &name, &new, "", details).await
}

/// Inserts a booking or walk-in (a slot already held is answered with who
/// holds it), records its first event and logs it.
async fn create(
    tx: &mut TenantTx,
    session: &Session,
    doctor_name: &str,
    new: &NewAppointment,
    note: &str,
    details: serde_json::Value,
) -> Result<Appointment> {
    let id = repo::insert(tx, new)
        .await?
        .map_err(|other| double_booked(doctor_name, other))?;
    repo::add_event(tx, id, new.status, session.user_id, note).await?;
    let a = repo::get(tx, id).await?.ok_or(Error::NotFound)?;
    log(
        tx,
        session,
        Action::AppointmentBooked,
        appointment_subject(&a),
        details,
    )
    .await?;
    Ok(a)
}

/// A walk-in: no slot, arrived at once with the doctor's next token today.
pub async fn walk_in(
    tx: &mut TenantTx,
    session: &Session,
    patient: PatientId,
    doctor_id: UserId,
) -> Result<Appointment> {
    session.require(Permission::AppointmentsWrite)?;
    let name = doctor(tx, doctor_id).await?;
    patient_exists(tx, patient).await?;
    let day = clinic_day(Utc::now());
    if let Some(reason) = repo::away_reason(tx, doctor_id, day).await? {
        return Err(Error::validation(
            "doctor",
            format!("{name} is away today ({reason}). Choose another doctor."),
        ));
    }
    let token = repo::next_token(tx, doctor_id, day).await?;
    let new = NewAppointment {
        patient,
        doctor: doctor_id,
        day,
        slot: None,
        status: Status::Arrived,
        token: Some(token),
        created_by: session.user_id,
    };
    let details = serde_json::json!({ "doctor": doctor_id, "walk_in": true, "token": token });
    create(tx, session, &name, &new, "walk-in", details).await
}

/// Moves an appointment along (arrived gets the next token of its doctor's
/// day); refuses a move its state does not allow.
pub async fn change_status(
    tx: &mut TenantTx,
    session: &Session,
    id: AppointmentId,
    next: Status,
    note: &str,
) -> Result<Appointment> {
    session.require(Permission::AppointmentsWrite)?;
    let current = repo::lock(tx, id).await?.ok_or(Error::NotFound)?;
    let now = current.status;
    if !now.can_become(next) {
        return Err(Error::Conflict(format!(
            "This appointment is {}; it cannot become {}.",
            now.label(),
            next.label()
        )));
    }
    let note = note.trim();
    if next == Status::Cancelled && note.is_empty() {
        return Err(Error::validation(
            "reason",
            "Say why the appointment is cancelled.",
        ));
    }
    let token = match next {
        Status::Arrived => Some(repo::next_token(tx, current.doctor_id, current.day).await?),
        _ => None,
    };
    let reason = if next == Status::Cancelled { note } else { "" };
    repo::set_status(tx, id, next, token, reason).await?;
    repo::add_event(tx, id, next, session.user_id, note).await?;
    let a = repo::get(tx, id).await?.ok_or(Error::NotFound)?;
    let details =
        serde_json::json!({ "from": now.as_str(), "to": next.as_str(), "token": a.token });
    log(
        tx,
        session,
        Action::AppointmentChanged,
        appointment_subject(&a),
        details,
    )
    .await?;
    Ok(a)
}

/// Moves a booked appointment to another of the doctor's free slots.
pub async fn reschedule(
    tx: &mut TenantTx,
    session: &Session,
    id: AppointmentId,
    starts_at: DateTime<Utc>,
) -> Result<Appointment> {
    session.require(Permission::AppointmentsWrite)?;
    let current = repo::lock(tx, id).await?.ok_or(Error::NotFound)?;
    if current.status != Status::Booked {
        return Err(Error::Conflict(format!(
            "This appointment is {}; only a booked one can be moved.",
            current.status.label()
        )));
    }
    let (day, starts, ends) =
        slot_at(tx, current.doctor_id, &current.doctor_name, starts_at).await?;
    repo::move_slot(tx, id, day, (starts, ends))
        .await?
        .map_err(|other| double_booked(&current.doctor_name, other))?;
    repo::add_event(tx, id, Status::Booked, session.user_id, "rescheduled").await?;
    let a = repo::get(tx, id).await?.ok_or(Error::NotFound)?;
    let details = serde_json::json!({ "rescheduled_to": starts, "from": current.starts_at });
    log(
        tx,
        session,
        Action::AppointmentChanged,
        appointment_subject(&a),
        details,
    )
    .await?;
    Ok(a)
}

/// The doctor calls the next patient: the lowest token still waiting goes
/// into consultation. None when nobody is waiting.
pub async fn call_next(
    tx: &mut TenantTx,
    session: &Session,
    doctor_id: UserId,
    day: NaiveDate,
) -> Result<Option<Appointment>> {
    session.require(Permission::AppointmentsWrite)?;
    let waiting = repo::day(tx, day, Some(doctor_id))
        .await?
        .into_iter()
        .filter(|a| a.status == Status::Arrived)
        .min_by_key(|a| a.token.unwrap_or(i32::MAX));
    match waiting {
        Some(a) => Ok(Some(
            change_status(tx, session, a.id, Status::InConsultation, "called").await?,
        )),
        None => Ok(None),
    }
}

/// A clinic day's appointments and walk-ins (one doctor's, or everyone's).
pub async fn day_list(
    tx: &mut TenantTx,
    session: &Session,
    day: NaiveDate,
    doctor_id: Option<UserId>,
) -> Result<Vec<Appointment>> {
    session.require(Permission::AppointmentsRead)?;
    repo::day(tx, day, doctor_id).await
}
