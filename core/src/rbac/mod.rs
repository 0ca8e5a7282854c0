//! The permission table (DESIGN §4): one enum of permissions, one table of
//! built-in roles. A user's effective permissions are the union of their roles'.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    PatientsRead,
    PatientsWrite,
    AppointmentsRead,
    AppointmentsWrite,
    SchedulesManage,
    EncountersRead,
    EncountersWrite,
    EncountersSign,
    PrescriptionsRead,
    PrescriptionsWrite,
    DispensingWrite,
    LabOrdersWrite,
    LabResultsRead,
    LabResultsWrite,
    LabResultsRelease,
    UsersManage,
    RolesManage,
    WorkstationsManage,
    SettingsManage,
    AuditRead,
    AuditExport,
    TenantExport,
    ReportsRead,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Admin,
    Doctor,
    Operator,
    Pharmacist,
    LabTech,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Doctor,
        Role::Operator,
        Role::Pharmacist,
        Role::LabTech,
        Role::Auditor,
    ];

    /// The name stored in the database (`clinic.users.roles`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Doctor => "doctor",
            Role::Operator => "operator",
            Role::Pharmacist => "pharmacist",
            Role::LabTech => "lab_tech",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Clinic admin",
            Role::Doctor => "Doctor",
            Role::Operator => "Front desk",
            Role::Pharmacist => "Pharmacist",
            Role::LabTech => "Lab technician",
            Role::Auditor => "Auditor (read-only)",
        }
    }
}

use Permission as P;

/// The built-in role table, exactly as DESIGN §4.
pub const BUILTIN_ROLES: &[(Role, &[Permission])] = &[
    (
        Role::Admin,
        &[
            P::PatientsRead,
            P::PatientsWrite,
            P::AppointmentsRead,
            P::AppointmentsWrite,
            P::SchedulesManage,
            P::UsersManage,
            P::RolesManage,
            P::WorkstationsManage,
            P::SettingsManage,
            P::AuditRead,
            P::AuditExport,
            P::TenantExport,
            P::ReportsRead,
        ],
    ),
    (
        Role::Doctor,
        &[
            P::PatientsRead,
            P::PatientsWrite,
            P::AppointmentsRead,
            P::AppointmentsWrite,
            P::EncountersRead,
            P::EncountersWrite,
            P::EncountersSign,
            P::PrescriptionsRead,
            P::PrescriptionsWrite,
            P::LabOrdersWrite,
            P::LabResultsRead,
            P::ReportsRead,
        ],
    ),
    (
        Role::Operator,
        &[
            P::PatientsRead,
            P::PatientsWrite,
            P::AppointmentsRead,
            P::AppointmentsWrite,
            P::SchedulesManage,
            P::ReportsRead,
        ],
    ),
    (
        Role::Pharmacist,
        &[P::PatientsRead, P::PrescriptionsRead, P::DispensingWrite],
    ),
    (
        Role::LabTech,
        &[
            P::PatientsRead,
            P::LabResultsRead,
            P::LabResultsWrite,
            P::LabResultsRelease,
            P::ReportsRead,
        ],
    ),
    (
        Role::Auditor,
        &[
            P::PatientsRead,
            P::AppointmentsRead,
            P::EncountersRead,
            P::PrescriptionsRead,
            P::LabResultsRead,
            P::AuditRead,
            P::ReportsRead,
        ],
    ),
];

/// The permissions one built-in role grants.
pub fn permissions_of(role: Role) -> &'static [Permission] {
    BUILTIN_ROLES
        .iter()
        .find(|(r, _)| *r == role)
        .map(|(_, p)| *p)
        .unwrap_or(&[])
}

/// Whether any of `roles` grants `permission` (the union rule).
pub fn allows(roles: &[Role], permission: Permission) -> bool {
    roles
        .iter()
        .any(|r| permissions_of(*r).contains(&permission))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_is_in_the_table_once() {
        for role in Role::ALL {
            assert_eq!(
                BUILTIN_ROLES.iter().filter(|(r, _)| *r == role).count(),
                1,
                "{role:?}"
            );
        }
    }

    #[test]
    fn pharmacist_dispenses_but_cannot_prescribe() {
        assert!(allows(&[Role::Pharmacist], P::DispensingWrite));
        assert!(!allows(&[Role::Pharmacist], P::PrescriptionsWrite));
    }

    #[test]
    fn operator_cannot_read_clinical_notes_and_admin_is_not_clinical() {
        assert!(!allows(&[Role::Operator], P::EncountersRead));
        assert!(!allows(&[Role::Admin], P::EncountersRead));
        assert!(allows(&[Role::Admin, Role::Doctor], P::EncountersRead));
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("superuser"), None);
    }
}
