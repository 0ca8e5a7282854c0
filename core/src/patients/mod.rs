//! Patients: registration data, list, search and the record open.

pub mod model;
pub mod repo;
pub mod service;

pub use model::{Patient, PatientPage, PatientQuery, Sex};
