//! Schedule and appointment types.

use crate::ids::{AppointmentId, PatientId, UserId};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An appointment's state. Booked → arrived → in consultation → done; a
/// booking can also end as no-show or cancelled; a walk-in starts arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Booked,
    Arrived,
    InConsultation,
    Done,
    NoShow,
    Cancelled,
}

impl Status {
    pub const ALL: &'static [Status] = &[
        Status::Booked,
        Status::Arrived,
        Status::InConsultation,
        Status::Done,
        Status::NoShow,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Booked => "booked",
            Status::Arrived => "arrived",
            Status::InConsultation => "in_consultation",
            Status::Done => "done",
            Status::NoShow => "no_show",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.iter().copied().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Booked => "booked",
            Status::Arrived => "arrived",
            Status::InConsultation => "in consultation",
            Status::Done => "done",
            Status::NoShow => "no-show",
            Status::Cancelled => "cancelled",
        }
    }

    /// Whether an appointment in this state may move to `next`.
    pub fn can_become(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (Booked, Arrived | NoShow | Cancelled)
                | (Arrived, InConsultation | Cancelled)
                | (InConsultation, Done)
        )
    }
}

/// One block of a doctor's weekly hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyHours {
    /// ISO weekday, 1 = Monday … 7 = Sunday.
    pub weekday: u8,
    pub starts: NaiveTime,
    pub ends: NaiveTime,
    pub slot_minutes: u16,
    pub fee_pkr: Option<i32>,
}

/// Leave or a holiday: one doctor, or (`doctor` None) the whole clinic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    pub doctor: Option<UserId>,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub reason: String,
}

/// Leave or a holiday as listed: its id (to withdraw it) and the doctor's
/// name (None: the whole clinic).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedException {
    pub id: Uuid,
    pub doctor: Option<UserId>,
    pub doctor_name: Option<String>,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub reason: String,
}

/// One doctor's day in the "patients seen" report: how their appointments
/// and walk-ins ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenRow {
    pub day: NaiveDate,
    pub doctor_id: UserId,
    pub doctor_name: String,
    pub done: i64,
    pub no_show: i64,
    pub cancelled: i64,
}

/// A bookable slot of a doctor's day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Taken by an appointment that still holds it.
    pub taken: bool,
}

/// An appointment or walk-in, with the names the front desk shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub id: AppointmentId,
    pub patient_id: PatientId,
    pub patient_name: String,
    pub mr_number: String,
    pub doctor_id: UserId,
    pub doctor_name: String,
    /// The clinic day.
    pub day: NaiveDate,
    /// None for a walk-in.
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub status: Status,
    pub token: Option<i32>,
    pub cancel_reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_only_move_forward() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(*s));
        }
        assert!(Status::Booked.can_become(Status::Arrived));
        assert!(!Status::Done.can_become(Status::Booked));
        assert!(!Status::Cancelled.can_become(Status::Arrived));
        assert!(!Status::Booked.can_become(Status::Done));
    }
}
