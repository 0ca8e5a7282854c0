//! The front desk's schedule (issue 8): doctors' weekly hours and exceptions,
//! appointments that the database never lets overlap, and each doctor's
//! token queue for the day.
//!
//! * [`model`]: the types and the status machine.
//! * [`repo`]: the only SQL (migrations 0010 and 0013).
//! * [`report`]: patients seen per doctor per day.
//! * [`service`]: the rules — permission first, hours and leave, clear
//!   messages for conflicts — and an audit entry for every change.

pub mod model;
pub mod repo;
pub mod report;
pub mod service;

pub use model::{Appointment, Exception, ListedException, SeenRow, Slot, Status, WeeklyHours};
