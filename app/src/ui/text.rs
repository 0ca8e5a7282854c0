//! User-facing text in one place per feature, ready for translation.

pub const APP_NAME: &str = "Healipro";
pub const SIGN_OUT: &str = "Sign out";
pub const LOADING: &str = "Loading…";
