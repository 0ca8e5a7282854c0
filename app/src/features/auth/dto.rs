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
    /// Permission names (`patients.read`, …): the navigation shows only what
    /// the user may use. Hiding is convenience; the server check protects.
    pub permissions: Vec<String>,
}

impl MeDto {
    pub fn may(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
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
