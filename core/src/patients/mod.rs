//! Patients: registration data, list, search and the record open.

pub mod identifiers;
pub mod model;
pub mod names;
pub mod repo;
pub mod service;

pub use identifiers::{Address, Cnic, Phone};
pub use model::{Patient, PatientPage, PatientQuery, Sex};
