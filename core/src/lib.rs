//! Healipro's server-only core: everything that touches the database or secrets.
//!
//! The rule this crate exists to enforce: clinical tables are reachable only
//! through a [`db::TenantTx`], which sets the tenant inside its transaction
//! before any statement runs. Nothing outside [`db`] can name the pool.

pub mod audit;
pub mod auth;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod drafts;
pub mod error;
pub mod ids;
pub mod patients;
pub mod rbac;
pub mod scheduling;
pub mod tenants;
pub use db::selftest;

#[cfg(feature = "testing")]
pub use db::testing;

pub use error::{Error, Result};
