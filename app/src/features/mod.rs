pub mod admin;
pub mod appointments;
pub mod audit;
pub mod auth;
pub mod drafts;
pub mod patients;
pub mod sections;
