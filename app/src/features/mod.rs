pub mod admin;
pub mod auth;
pub mod drafts;
pub mod patients;
pub mod sections;
