//! SQL for schedules, appointments and tokens (migration 0010), withdrawn
//! exceptions (0013) and the "patients seen" report.

use super::model::{Appointment, Exception, ListedException, SeenRow, Status, WeeklyHours};
use crate::db::TenantTx;
use crate::ids::{AppointmentId, PatientId, UserId};
use crate::{Error, Result};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;

/// SQLSTATE 23P01: an exclusion constraint refused the row.
fn is_overlap(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "23P01")
}

/// Replaces a doctor's weekly hours. Overlapping blocks on one weekday are
/// refused by the database (`Error::Validation`).
pub async fn replace_hours(tx: &mut TenantTx, doctor: UserId, hours: &[WeeklyHours]) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query("DELETE FROM clinic.doctor_hours WHERE tenant_id = $1 AND doctor_id = $2")
        .bind(tenant)
        .bind(doctor)
        .execute(tx.conn())
        .await?;
    for h in hours {
        let done = sqlx::query(
            "INSERT INTO clinic.doctor_hours (tenant_id, doctor_id, weekday, starts, ends, slot_minutes, fee_pkr)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(tenant)
        .bind(doctor)
        .bind(i16::from(h.weekday))
        .bind(h.starts)
        .bind(h.ends)
        .bind(h.slot_minutes as i16)
        .bind(h.fee_pkr)
        .execute(tx.conn())
        .await;
        match done {
            Err(e) if is_overlap(&e) => {
                return Err(Error::validation(
                    "hours",
                    "Two blocks of hours overlap on the same day. Make them follow each other.",
                ))
            }
            other => {
                other?;
            }
        }
    }
    Ok(())
}

type HoursRow = (i16, NaiveTime, NaiveTime, i16, Option<i32>);

/// A doctor's weekly hours, by weekday then start.
pub async fn hours(tx: &mut TenantTx, doctor: UserId) -> Result<Vec<WeeklyHours>> {
    let tenant = tx.tenant();
    let rows: Vec<HoursRow> = sqlx::query_as(
        "SELECT weekday, starts, ends, slot_minutes, fee_pkr FROM clinic.doctor_hours
          WHERE tenant_id = $1 AND doctor_id = $2 ORDER BY weekday, starts",
    )
    .bind(tenant)
    .bind(doctor)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(weekday, starts, ends, slot, fee)| WeeklyHours {
            weekday: weekday as u8,
            starts,
            ends,
            slot_minutes: slot as u16,
            fee_pkr: fee,
        })
        .collect())
}

/// Records leave or a holiday; returns its id.
pub async fn add_exception(tx: &mut TenantTx, e: &Exception) -> Result<Uuid> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "INSERT INTO clinic.schedule_exceptions (tenant_id, doctor_id, first_day, last_day, reason)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(tenant)
    .bind(e.doctor)
    .bind(e.first_day)
    .bind(e.last_day)
    .bind(e.reason.trim())
    .fetch_one(tx.conn())
    .await?)
}

const SELECT_EXCEPTION: &str =
    "SELECT e.id, e.doctor_id, u.display_name, e.first_day, e.last_day, e.reason
       FROM clinic.schedule_exceptions e
       LEFT JOIN clinic.users u ON u.tenant_id = e.tenant_id AND u.id = e.doctor_id";

type ExceptionRow = (
    Uuid,
    Option<UserId>,
    Option<String>,
    NaiveDate,
    NaiveDate,
    String,
);

fn to_exception(
    (id, doctor, doctor_name, first_day, last_day, reason): ExceptionRow,
) -> ListedException {
    ListedException {
        id,
        doctor,
        doctor_name,
        first_day,
        last_day,
        reason,
    }
}

/// The exceptions still in force that touch `[from, to]`, by first day.
pub async fn exceptions(
    tx: &mut TenantTx,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ListedException>> {
    let tenant = tx.tenant();
    let rows: Vec<ExceptionRow> = sqlx::query_as(&format!(
        "{SELECT_EXCEPTION} WHERE e.tenant_id = $1 AND e.withdrawn_at IS NULL
            AND e.first_day <= $3 AND e.last_day >= $2
          ORDER BY e.first_day, u.display_name NULLS FIRST, e.id"
    ))
    .bind(tenant)
    .bind(from)
    .bind(to)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(to_exception).collect())
}

/// Withdraws an exception still in force; returns it, or None when there is
/// no such exception (or it was already withdrawn).
pub async fn withdraw_exception(
    tx: &mut TenantTx,
    id: Uuid,
    by: UserId,
) -> Result<Option<ListedException>> {
    let tenant = tx.tenant();
    let done = sqlx::query(
        "UPDATE clinic.schedule_exceptions SET withdrawn_at = now(), withdrawn_by = $3
          WHERE tenant_id = $1 AND id = $2 AND withdrawn_at IS NULL",
    )
    .bind(tenant)
    .bind(id)
    .bind(by)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    let row: Option<ExceptionRow> = sqlx::query_as(&format!(
        "{SELECT_EXCEPTION} WHERE e.tenant_id = $1 AND e.id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(to_exception))
}

/// Why the doctor is away on `day` (their leave, or a clinic holiday), if so.
pub async fn away_reason(
    tx: &mut TenantTx,
    doctor: UserId,
    day: NaiveDate,
) -> Result<Option<String>> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "SELECT reason FROM clinic.schedule_exceptions
          WHERE tenant_id = $1 AND (doctor_id = $2 OR doctor_id IS NULL)
            AND first_day <= $3 AND last_day >= $3 AND withdrawn_at IS NULL
          ORDER BY doctor_id NULLS LAST LIMIT 1",
    )
    .bind(tenant)
    .bind(doctor)
    .bind(day)
    .fetch_optional(tx.conn())
    .await?)
}

/// The user's display name, if they are an active doctor of this clinic.
pub async fn doctor_name(tx: &mut TenantTx, doctor: UserId) -> Result<Option<String>> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "SELECT display_name FROM clinic.users
          WHERE tenant_id = $1 AND id = $2 AND 'doctor' = ANY (roles) AND active",
    )
    .bind(tenant)
    .bind(doctor)
    .fetch_optional(tx.conn())
    .await?)
}

/// The clinic's active doctors (id, display name), by name.
pub async fn doctors(tx: &mut TenantTx) -> Result<Vec<(UserId, String)>> {
    let tenant = tx.tenant();
    Ok(sqlx::query_as(
        "SELECT id, display_name FROM clinic.users
          WHERE tenant_id = $1 AND 'doctor' = ANY (roles) AND active
          ORDER BY display_name, id",
    )
    .bind(tenant)
    .fetch_all(tx.conn())
    .await?)
}

/// What a new appointment row holds.
#[derive(Debug, Clone)]
pub struct NewAppointment {
    pub patient: PatientId,
    pub doctor: UserId,
    pub day: NaiveDate,
    pub slot: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub status: Status,
    pub token: Option<i32>,
    pub created_by: UserId,
}

/// Inserts an appointment. When its slot overlaps one that still holds it
/// (the exclusion constraint, also under a race), returns that appointment
/// instead: the insert runs under a savepoint so the transaction goes on.
pub async fn insert(
    tx: &mut TenantTx,
    a: &NewAppointment,
) -> Result<std::result::Result<AppointmentId, Option<Appointment>>> {
    let tenant = tx.tenant();
    sqlx::query("SAVEPOINT slot").execute(tx.conn()).await?;
    let inserted = sqlx::query_scalar(
        "INSERT INTO clinic.appointments (tenant_id, patient_id, doctor_id, day, starts_at, ends_at,
                                          status, token, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(tenant)
    .bind(a.patient)
    .bind(a.doctor)
    .bind(a.day)
    .bind(a.slot.map(|s| s.0))
    .bind(a.slot.map(|s| s.1))
    .bind(a.status.as_str())
    .bind(a.token)
    .bind(a.created_by)
    .fetch_one(tx.conn())
    .await;
    match settle(tx, inserted).await? {
        Some(id) => Ok(Ok(id)),
        None => {
            let (starts, ends) = a.slot.expect("only a slot can overlap");
            Ok(Err(overlapping(tx, a.doctor, starts, ends, None).await?))
        }
    }
}

/// Ends the savepoint `slot` around one statement: released when it
/// succeeded; rolled back to when an exclusion constraint refused it (None:
/// the transaction goes on); any other error is returned.
async fn settle<T>(
    tx: &mut TenantTx,
    done: std::result::Result<T, sqlx::Error>,
) -> Result<Option<T>> {
    match done {
        Ok(v) => {
            sqlx::query("RELEASE SAVEPOINT slot")
                .execute(tx.conn())
                .await?;
            Ok(Some(v))
        }
        Err(e) if is_overlap(&e) => {
            sqlx::query("ROLLBACK TO SAVEPOINT slot")
                .execute(tx.conn())
                .await?;
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Moves an appointment to another slot; like [`insert`], returns the
/// appointment in the way instead when the new slot is taken.
pub async fn move_slot(
    tx: &mut TenantTx,
    id: AppointmentId,
    day: NaiveDate,
    (starts, ends): (DateTime<Utc>, DateTime<Utc>),
) -> Result<std::result::Result<(), Option<Appointment>>> {
    let tenant = tx.tenant();
    sqlx::query("SAVEPOINT slot").execute(tx.conn()).await?;
    let moved = sqlx::query(
        "UPDATE clinic.appointments SET day = $3, starts_at = $4, ends_at = $5, updated_at = now()
          WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(day)
    .bind(starts)
    .bind(ends)
    .execute(tx.conn())
    .await;
    match settle(tx, moved).await? {
        Some(_) => Ok(Ok(())),
        None => {
            let doctor = get(tx, id)
                .await?
                .map(|a| a.doctor_id)
                .ok_or(Error::NotFound)?;
            Ok(Err(overlapping(tx, doctor, starts, ends, Some(id)).await?))
        }
    }
}

const SELECT: &str =
    "SELECT a.id, a.patient_id, p.full_name, p.mr_number, a.doctor_id, u.display_name,
                             a.day, a.starts_at, a.ends_at, a.status, a.token, a.cancel_reason
                        FROM clinic.appointments a
                        JOIN clinic.patients p ON p.tenant_id = a.tenant_id AND p.id = a.patient_id
                        JOIN clinic.users u ON u.tenant_id = a.tenant_id AND u.id = a.doctor_id";

type Row = (
    AppointmentId,
    PatientId,
    String,
    String,
    UserId,
    String,
    NaiveDate,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    String,
    Option<i32>,
    String,
);

fn to_appointment(r: Row) -> Result<Appointment> {
    let (
        id,
        patient_id,
        patient_name,
        mr_number,
        doctor_id,
        doctor_name,
        day,
        starts_at,
        ends_at,
        status,
        token,
        cancel_reason,
    ) = r;
    Ok(Appointment {
        id,
        patient_id,
        patient_name,
        mr_number,
        doctor_id,
        doctor_name,
        day,
        starts_at,
        ends_at,
        status: Status::parse(&status)
            .ok_or_else(|| Error::Internal(format!("unknown appointment status {status}")))?,
        token,
        cancel_reason,
    })
}

/// The appointment holding part of `[starts, ends)` for the doctor, if any.
pub async fn overlapping(
    tx: &mut TenantTx,
    doctor: UserId,
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
    except: Option<AppointmentId>,
) -> Result<Option<Appointment>> {
    let tenant = tx.tenant();
    let row: Option<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE a.tenant_id = $1 AND a.doctor_id = $2
            AND a.starts_at IS NOT NULL
            AND tstzrange(a.starts_at, a.ends_at) && tstzrange($3, $4)
            AND a.status IN ('booked', 'arrived', 'in_consultation', 'done')
            AND ($5::uuid IS NULL OR a.id <> $5)
          LIMIT 1"
    ))
    .bind(tenant)
    .bind(doctor)
    .bind(starts)
    .bind(ends)
    .bind(except)
    .fetch_optional(tx.conn())
    .await?;
    row.map(to_appointment).transpose()
}

pub async fn get(tx: &mut TenantTx, id: AppointmentId) -> Result<Option<Appointment>> {
    let tenant = tx.tenant();
    let row: Option<Row> =
        sqlx::query_as(&format!("{SELECT} WHERE a.tenant_id = $1 AND a.id = $2"))
            .bind(tenant)
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    row.map(to_appointment).transpose()
}

/// A clinic day's appointments (one doctor's, or all), by doctor, then slot
/// time, then token.
pub async fn day(
    tx: &mut TenantTx,
    day: NaiveDate,
    doctor: Option<UserId>,
) -> Result<Vec<Appointment>> {
    let tenant = tx.tenant();
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE a.tenant_id = $1 AND a.day = $2 AND ($3::uuid IS NULL OR a.doctor_id = $3)
          ORDER BY u.display_name, a.doctor_id, a.starts_at NULLS LAST, a.token NULLS LAST, a.created_at"
    ))
    .bind(tenant)
    .bind(day)
    .bind(doctor)
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter().map(to_appointment).collect()
}

/// The next token of the doctor's day: gap-free, since the counter row is
/// locked and incremented in the arrival's own transaction.
pub async fn next_token(tx: &mut TenantTx, doctor: UserId, day: NaiveDate) -> Result<i32> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "INSERT INTO clinic.token_counters (tenant_id, doctor_id, day, last_token) VALUES ($1, $2, $3, 1)
         ON CONFLICT (tenant_id, doctor_id, day)
         DO UPDATE SET last_token = clinic.token_counters.last_token + 1
         RETURNING last_token",
    )
    .bind(tenant)
    .bind(doctor)
    .bind(day)
    .fetch_one(tx.conn())
    .await?)
}

/// Reads the appointment and locks its row (status changes are
/// read-modify-write).
pub async fn lock(tx: &mut TenantTx, id: AppointmentId) -> Result<Option<Appointment>> {
    let tenant = tx.tenant();
    let row: Option<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE a.tenant_id = $1 AND a.id = $2 FOR UPDATE OF a"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    row.map(to_appointment).transpose()
}

pub async fn set_status(
    tx: &mut TenantTx,
    id: AppointmentId,
    status: Status,
    token: Option<i32>,
    cancel_reason: &str,
) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE clinic.appointments
            SET status = $3, token = coalesce($4, token), cancel_reason = $5, updated_at = now()
          WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(status.as_str())
    .bind(token)
    .bind(cancel_reason)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Records who moved an appointment to `status`, and why.
pub async fn add_event(
    tx: &mut TenantTx,
    id: AppointmentId,
    status: Status,
    by: UserId,
    note: &str,
) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query(
        "INSERT INTO clinic.appointment_events (tenant_id, appointment_id, status, by_user, note)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant)
    .bind(id)
    .bind(status.as_str())
    .bind(by)
    .bind(note)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// An appointment's history: (status, when, by whom, note), oldest first.
pub async fn events(
    tx: &mut TenantTx,
    id: AppointmentId,
) -> Result<Vec<(String, DateTime<Utc>, UserId, String)>> {
    let tenant = tx.tenant();
    Ok(sqlx::query_as(
        "SELECT status, at, by_user, note FROM clinic.appointment_events
          WHERE tenant_id = $1 AND appointment_id = $2 ORDER BY at, id",
    )
    .bind(tenant)
    .bind(id)
    .fetch_all(tx.conn())
    .await?)
}

type SeenSqlRow = (NaiveDate, UserId, String, i64, i64, i64);

/// Per doctor per clinic day in `[from, to]`: appointments and walk-ins
/// that ended done, no-show or cancelled (days with none are left out).
pub async fn seen_per_doctor_day(
    tx: &mut TenantTx,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<SeenRow>> {
    let tenant = tx.tenant();
    let rows: Vec<SeenSqlRow> = sqlx::query_as(
        "SELECT a.day, a.doctor_id, u.display_name,
                count(*) FILTER (WHERE a.status = 'done'),
                count(*) FILTER (WHERE a.status = 'no_show'),
                count(*) FILTER (WHERE a.status = 'cancelled')
           FROM clinic.appointments a
           JOIN clinic.users u ON u.tenant_id = a.tenant_id AND u.id = a.doctor_id
          WHERE a.tenant_id = $1 AND a.day BETWEEN $2 AND $3
            AND a.status IN ('done', 'no_show', 'cancelled')
          GROUP BY a.day, a.doctor_id, u.display_name
          ORDER BY a.day, u.display_name, a.doctor_id",
    )
    .bind(tenant)
    .bind(from)
    .bind(to)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(day, doctor_id, doctor_name, done, no_show, cancelled)| SeenRow {
                day,
                doctor_id,
                doctor_name,
                done,
                no_show,
                cancelled,
            },
        )
        .collect())
}
