use serde::{Deserialize, Serialize};

/// The signed-in user, for the header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeDto {
    pub display_name: String,
    pub username: String,
    pub clinic_name: String,
    pub roles: Vec<String>,
}
