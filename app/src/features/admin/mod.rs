//! Clinic admin: workstations (and binding this browser), security settings,
//! the sign-in log and locked accounts, password resets and "sign out
//! everywhere". (The full admin console — users and roles — is issue 5.)

pub mod api;
pub mod pages;
