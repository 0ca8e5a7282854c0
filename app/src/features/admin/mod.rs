//! The clinic admin console: users (roles, disabling, password and second-
//! factor resets), roles (custom roles on the hospital plan, and the matrix of
//! who may do what), workstations (and binding this browser), and security
//! settings with the sign-in log, locked accounts and refused actions.

pub mod api;
pub mod pages;
