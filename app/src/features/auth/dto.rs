use serde::{Deserialize, Serialize};

/// The signed-in user, for the header, the idle timer and the lock screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeDto {
    pub display_name: String,
    pub username: String,
    pub clinic_code: String,
    pub clinic_name: String,
    pub roles: Vec<String>,
    /// Seconds of inactivity after which the screen locks (the server refuses
    /// the session after the same time).
    pub idle_timeout_secs: i32,
    /// Where the user still has to go (`None` when fully signed in).
    pub pending_step: Option<String>,
    /// May manage workstations, settings and sign-in security.
    pub is_admin: bool,
}

/// Where to go after a sign-in step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextStepDto {
    pub next: String,
}

/// The TOTP set-up page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentDto {
    pub secret: String,
    pub qr_svg: String,
}
