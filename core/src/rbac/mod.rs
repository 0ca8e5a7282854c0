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

impl Permission {
    /// Every permission, in the order of DESIGN §4 (and of the matrix view).
    pub const ALL: [Permission; 23] = [
        Permission::PatientsRead,
        Permission::PatientsWrite,
        Permission::AppointmentsRead,
        Permission::AppointmentsWrite,
        Permission::SchedulesManage,
        Permission::EncountersRead,
        Permission::EncountersWrite,
        Permission::EncountersSign,
        Permission::PrescriptionsRead,
        Permission::PrescriptionsWrite,
        Permission::DispensingWrite,
        Permission::LabOrdersWrite,
        Permission::LabResultsRead,
        Permission::LabResultsWrite,
        Permission::LabResultsRelease,
        Permission::UsersManage,
        Permission::RolesManage,
        Permission::WorkstationsManage,
        Permission::SettingsManage,
        Permission::AuditRead,
        Permission::AuditExport,
        Permission::TenantExport,
        Permission::ReportsRead,
    ];

    /// The stable name (stored in custom roles, shown in the matrix).
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::PatientsRead => "patients.read",
            Permission::PatientsWrite => "patients.write",
            Permission::AppointmentsRead => "appointments.read",
            Permission::AppointmentsWrite => "appointments.write",
            Permission::SchedulesManage => "schedules.manage",
            Permission::EncountersRead => "encounters.read",
            Permission::EncountersWrite => "encounters.write",
            Permission::EncountersSign => "encounters.sign",
            Permission::PrescriptionsRead => "prescriptions.read",
            Permission::PrescriptionsWrite => "prescriptions.write",
            Permission::DispensingWrite => "dispensing.write",
            Permission::LabOrdersWrite => "lab.orders.write",
            Permission::LabResultsRead => "lab.results.read",
            Permission::LabResultsWrite => "lab.results.write",
            Permission::LabResultsRelease => "lab.results.release",
            Permission::UsersManage => "users.manage",
            Permission::RolesManage => "roles.manage",
            Permission::WorkstationsManage => "workstations.manage",
            Permission::SettingsManage => "settings.manage",
            Permission::AuditRead => "audit.read",
            Permission::AuditExport => "audit.export",
            Permission::TenantExport => "tenant.export",
            Permission::ReportsRead => "reports.read",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// What the permission lets a user do, for the admin console.
    pub fn label(self) -> &'static str {
        match self {
            Permission::PatientsRead => "Read patient demographics",
            Permission::PatientsWrite => "Register and edit patients",
            Permission::AppointmentsRead => "See appointments",
            Permission::AppointmentsWrite => "Book and change appointments",
            Permission::SchedulesManage => "Manage doctors' schedules",
            Permission::EncountersRead => "Read clinical notes",
            Permission::EncountersWrite => "Write clinical notes",
            Permission::EncountersSign => "Sign clinical notes",
            Permission::PrescriptionsRead => "Read prescriptions",
            Permission::PrescriptionsWrite => "Prescribe",
            Permission::DispensingWrite => "Dispense medicines",
            Permission::LabOrdersWrite => "Order lab tests",
            Permission::LabResultsRead => "Read lab results",
            Permission::LabResultsWrite => "Enter lab results",
            Permission::LabResultsRelease => "Release lab results",
            Permission::UsersManage => "Manage users",
            Permission::RolesManage => "Manage roles",
            Permission::WorkstationsManage => "Manage workstations",
            Permission::SettingsManage => "Manage clinic settings",
            Permission::AuditRead => "Read the audit log",
            Permission::AuditExport => "Export the audit log",
            Permission::TenantExport => "Export all clinic data",
            Permission::ReportsRead => "See reports",
        }
    }

    /// Whether holding this permission makes TOTP mandatory: exactly the
    /// permissions no role outside the doctor and admin roles holds (those
    /// two must always use a second factor), so a custom role that can do
    /// what only a doctor or an admin can also needs it.
    pub fn requires_second_factor(self) -> bool {
        !BUILTIN_ROLES
            .iter()
            .filter(|(r, _)| !r.requires_second_factor())
            .any(|(_, perms)| perms.contains(&self))
    }

    fn bit(self) -> u64 {
        1 << (self as u32)
    }
}

/// A set of permissions (a bit set: cheap to copy into every session).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PermissionSet(u64);

impl PermissionSet {
    /// The union of the built-in roles' permissions.
    pub fn of_roles(roles: &[Role]) -> Self {
        roles
            .iter()
            .flat_map(|r| permissions_of(*r).iter().copied())
            .collect()
    }

    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    pub fn insert(&mut self, p: Permission) {
        self.0 |= p.bit();
    }

    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The permissions in the set, in [`Permission::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }

    /// Stable names, e.g. for a custom role row or the browser.
    pub fn names(self) -> Vec<String> {
        self.iter().map(|p| p.as_str().to_owned()).collect()
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = Self::default();
        for p in iter {
            set.insert(p);
        }
        set
    }
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

    /// Doctors and clinic admins must always sign in with a second factor.
    pub fn requires_second_factor(self) -> bool {
        matches!(self, Role::Admin | Role::Doctor)
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
        assert!(PermissionSet::of_roles(&[Role::Pharmacist]).contains(P::DispensingWrite));
        assert!(!PermissionSet::of_roles(&[Role::Pharmacist]).contains(P::PrescriptionsWrite));
    }

    #[test]
    fn operator_cannot_read_clinical_notes_and_admin_is_not_clinical() {
        assert!(!PermissionSet::of_roles(&[Role::Operator]).contains(P::EncountersRead));
        assert!(!PermissionSet::of_roles(&[Role::Admin]).contains(P::EncountersRead));
        assert!(PermissionSet::of_roles(&[Role::Admin, Role::Doctor]).contains(P::EncountersRead));
    }

    #[test]
    fn permission_names_round_trip_and_bits_are_distinct() {
        let mut all = PermissionSet::default();
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
            assert!(!all.contains(p), "{p:?} shares a bit");
            all.insert(p);
        }
        assert_eq!(all.iter().count(), Permission::ALL.len());
        assert_eq!(Permission::parse("patients.delete"), None);
    }

    #[test]
    fn union_of_roles() {
        let both = PermissionSet::of_roles(&[Role::Doctor, Role::Admin]);
        assert!(both.contains(P::EncountersSign) && both.contains(P::UsersManage));
        assert!(!both.contains(P::DispensingWrite));
    }

    #[test]
    fn second_factor_permissions_are_those_only_doctors_and_admins_hold() {
        assert!(P::PrescriptionsWrite.requires_second_factor());
        assert!(P::UsersManage.requires_second_factor());
        assert!(!P::PatientsWrite.requires_second_factor());
        assert!(!P::DispensingWrite.requires_second_factor());
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("superuser"), None);
    }
}
