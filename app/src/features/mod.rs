pub mod auth;
pub mod patients;
