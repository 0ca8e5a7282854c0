//! Identifier newtypes. Parsing happens once, at the edge; a held id is a valid UUID.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! uuid_id {
    ($name:ident, $what:literal) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
        #[sqlx(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = crate::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self).map_err(|_| {
                    crate::Error::validation($what, concat!("is not a valid ", $what, " id"))
                })
            }
        }
    };
}

uuid_id!(TenantId, "tenant");
uuid_id!(AppointmentId, "appointment");
uuid_id!(UserId, "user");
uuid_id!(PatientId, "patient");
uuid_id!(SessionId, "session");
uuid_id!(WorkstationId, "workstation");
uuid_id!(RoleId, "role");
