//! What the appointment pages receive: plain strings and flags, shared with
//! the WASM build (times are already in clinic time, as the desk shows them).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorDto {
    pub id: String,
    pub name: String,
    /// The signed-in user is this doctor (the queue opens on them).
    #[serde(default)]
    pub me: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentDto {
    pub id: String,
    pub patient_id: String,
    pub patient_name: String,
    pub mr_number: String,
    pub doctor_id: String,
    pub doctor_name: String,
    /// The clinic day, `YYYY-MM-DD`.
    pub day: String,
    /// `HH:MM` in clinic time; None for a walk-in.
    pub time: Option<String>,
    /// The stable status name (`booked`, `arrived`, …).
    pub status: String,
    pub status_label: String,
    pub token: Option<i32>,
    pub cancel_reason: String,
    /// The moves its state allows (the server checks again).
    pub can_arrive: bool,
    pub can_no_show: bool,
    pub can_cancel: bool,
    pub can_done: bool,
    /// Booked into a slot: it may move to another free slot.
    pub can_reschedule: bool,
}

/// A clinic day's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayDto {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub appointments: Vec<AppointmentDto>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotDto {
    /// RFC 3339, what `book` and `reschedule` take back.
    pub starts_at: String,
    /// `HH:MM` in clinic time.
    pub time: String,
    pub taken: bool,
}

/// Leave (one doctor) or a holiday (the whole clinic).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionDto {
    pub id: String,
    /// Empty for a clinic holiday.
    pub doctor_id: String,
    /// "Whole clinic" for a holiday.
    pub who: String,
    /// `YYYY-MM-DD`.
    pub first_day: String,
    pub last_day: String,
    pub reason: String,
}

/// A doctor's weekly hours, to prefill the hours form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoursDto {
    /// ISO weekday, 1 = Monday.
    pub weekday: u8,
    /// `HH:MM`.
    pub starts: String,
    pub ends: String,
    pub slot_minutes: u16,
    pub fee_pkr: Option<i32>,
}

/// One doctor's day in the "patients seen" report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenDto {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub doctor_id: String,
    pub doctor_name: String,
    pub done: i64,
    pub no_show: i64,
    pub cancelled: i64,
}

/// The report and the range it covers (`YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenReportDto {
    pub from: String,
    pub to: String,
    pub rows: Vec<SeenDto>,
}

#[cfg(feature = "ssr")]
mod from_core {
    use super::{AppointmentDto, ExceptionDto, HoursDto, SeenDto, SlotDto};
    use healipro_core::audit::clinic_offset;
    use healipro_core::scheduling::{
        Appointment, ListedException, SeenRow, Slot, Status, WeeklyHours,
    };

    impl From<ListedException> for ExceptionDto {
        fn from(e: ListedException) -> Self {
            ExceptionDto {
                id: e.id.to_string(),
                doctor_id: e.doctor.map(|d| d.to_string()).unwrap_or_default(),
                who: e.doctor_name.unwrap_or_else(|| "Whole clinic".to_owned()),
                first_day: e.first_day.format("%Y-%m-%d").to_string(),
                last_day: e.last_day.format("%Y-%m-%d").to_string(),
                reason: e.reason,
            }
        }
    }

    impl From<WeeklyHours> for HoursDto {
        fn from(h: WeeklyHours) -> Self {
            HoursDto {
                weekday: h.weekday,
                starts: h.starts.format("%H:%M").to_string(),
                ends: h.ends.format("%H:%M").to_string(),
                slot_minutes: h.slot_minutes,
                fee_pkr: h.fee_pkr,
            }
        }
    }

    impl From<SeenRow> for SeenDto {
        fn from(r: SeenRow) -> Self {
            SeenDto {
                day: r.day.format("%Y-%m-%d").to_string(),
                doctor_id: r.doctor_id.to_string(),
                doctor_name: r.doctor_name,
                done: r.done,
                no_show: r.no_show,
                cancelled: r.cancelled,
            }
        }
    }

    impl From<Appointment> for AppointmentDto {
        fn from(a: Appointment) -> Self {
            AppointmentDto {
                id: a.id.to_string(),
                patient_id: a.patient_id.to_string(),
                patient_name: a.patient_name,
                mr_number: a.mr_number,
                doctor_id: a.doctor_id.to_string(),
                doctor_name: a.doctor_name,
                day: a.day.format("%Y-%m-%d").to_string(),
                time: a.starts_at.map(|t| {
                    t.with_timezone(&clinic_offset())
                        .format("%H:%M")
                        .to_string()
                }),
                status: a.status.as_str().to_owned(),
                status_label: a.status.label().to_owned(),
                token: a.token,
                cancel_reason: a.cancel_reason,
                can_arrive: a.status.can_become(Status::Arrived),
                can_no_show: a.status.can_become(Status::NoShow),
                can_cancel: a.status.can_become(Status::Cancelled),
                can_done: a.status.can_become(Status::Done),
                can_reschedule: a.status == Status::Booked && a.starts_at.is_some(),
            }
        }
    }

    impl From<Slot> for SlotDto {
        fn from(s: Slot) -> Self {
            SlotDto {
                starts_at: s.starts_at.to_rfc3339(),
                time: s
                    .starts_at
                    .with_timezone(&clinic_offset())
                    .format("%H:%M")
                    .to_string(),
                taken: s.taken,
            }
        }
    }
}
