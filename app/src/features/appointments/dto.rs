//! What the appointment pages receive: plain strings and flags, shared with
//! the WASM build (times are already in clinic time, as the desk shows them).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorDto {
    pub id: String,
    pub name: String,
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

#[cfg(feature = "ssr")]
mod from_core {
    use super::{AppointmentDto, SlotDto};
    use healipro_core::audit::clinic_offset;
    use healipro_core::scheduling::{Appointment, Slot, Status};

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
