//! Every server function, the permission it needs (DESIGN §4) and arguments
//! that decode. The stage test and the role × function matrix test both walk
//! this table, and both fail when a registered server function is missing.

use healipro_core::rbac::Permission as P;

pub const SOME_ID: &str = "6f1c2b1e-0000-4000-8000-000000000000";

/// What a server function requires of a fully signed-in session.
#[derive(Debug, Clone, Copy)]
pub enum Need {
    Permission(P),
    /// Any signed-in user whatever their roles (keep-alive).
    AnyRole,
}

/// A server function's path, what it needs, and form arguments that decode.
pub type Endpoint = (&'static str, Need, &'static [(&'static str, &'static str)]);

/// Arguments are chosen so that an allowed call changes nothing that matters
/// (unknown ids and usernames): the matrix test calls each one as every role.
pub const ENDPOINTS: &[Endpoint] = &[
    ("/api/auth/ping", Need::AnyRole, &[]),
    (
        "/api/patients/list",
        Need::Permission(P::PatientsRead),
        &[("query", ""), ("page", "0")],
    ),
    (
        "/api/patients/get",
        Need::Permission(P::PatientsRead),
        &[("id", SOME_ID)],
    ),
    (
        "/api/patients/update",
        Need::Permission(P::PatientsWrite),
        &[
            ("id", SOME_ID),
            ("full_name", "Ayesha Bibi"),
            ("father_or_husband_name", ""),
            ("sex", "female"),
            ("date_of_birth", ""),
            ("cnic", "35202-1234567-1"),
            ("phone", "0300-1234567"),
            ("address", "House 1, Lahore"),
        ],
    ),
    (
        // An empty name: an allowed call is refused by validation (400) and
        // registers nobody.
        "/api/patients/register",
        Need::Permission(P::PatientsWrite),
        &[
            ("full_name", ""),
            ("father_or_husband_name", ""),
            ("sex", "female"),
            ("date_of_birth", ""),
            ("cnic", "35202-1234567-1"),
            ("phone", ""),
            ("address", ""),
            ("register_anyway", "false"),
        ],
    ),
    (
        "/api/drafts/get",
        Need::Permission(P::PatientsWrite),
        &[("form_key", "patient-edit:x1")],
    ),
    (
        "/api/drafts/save",
        Need::Permission(P::PatientsWrite),
        &[("form_key", "patient-edit:x1"), ("payload", "{}")],
    ),
    (
        "/api/drafts/discard",
        Need::Permission(P::PatientsWrite),
        &[("form_key", "patient-edit:x1")],
    ),
    (
        "/api/admin/workstations/list",
        Need::Permission(P::WorkstationsManage),
        &[],
    ),
    (
        "/api/admin/workstations/save",
        Need::Permission(P::WorkstationsManage),
        &[
            ("id", SOME_ID),
            ("name", "Room 9"),
            ("location", ""),
            ("idle_minutes", "10"),
        ],
    ),
    (
        "/api/admin/workstations/delete",
        Need::Permission(P::WorkstationsManage),
        &[("id", SOME_ID)],
    ),
    (
        "/api/admin/workstations/bind",
        Need::Permission(P::WorkstationsManage),
        &[("id", SOME_ID)],
    ),
    (
        "/api/admin/settings/get",
        Need::Permission(P::SettingsManage),
        &[],
    ),
    (
        "/api/admin/settings/save",
        Need::Permission(P::SettingsManage),
        &[("max_idle_minutes", "0"), ("default_idle_minutes", "15")],
    ),
    (
        "/api/patients/mr-prefix/get",
        Need::Permission(P::SettingsManage),
        &[],
    ),
    (
        "/api/patients/mr-prefix/save",
        Need::Permission(P::SettingsManage),
        &[("mr_prefix", "1")],
    ),
    (
        "/api/admin/security/overview",
        Need::Permission(P::UsersManage),
        &[],
    ),
    (
        "/api/admin/users/unlock",
        Need::Permission(P::UsersManage),
        &[("username", "nobody")],
    ),
    (
        "/api/admin/users/reset-password",
        Need::Permission(P::UsersManage),
        &[("username", "nobody")],
    ),
    (
        "/api/admin/users/sign-out-everywhere",
        Need::Permission(P::UsersManage),
        &[("username", "nobody")],
    ),
    (
        "/api/admin/users/list",
        Need::Permission(P::UsersManage),
        &[],
    ),
    (
        "/api/admin/users/create",
        Need::Permission(P::UsersManage),
        &[
            ("username", "x"),
            ("display_name", ""),
            ("roles", "operator"),
        ],
    ),
    (
        "/api/admin/users/set-roles",
        Need::Permission(P::UsersManage),
        &[("id", SOME_ID), ("roles", "operator")],
    ),
    (
        "/api/admin/users/set-active",
        Need::Permission(P::UsersManage),
        &[("id", SOME_ID), ("active", "true")],
    ),
    (
        "/api/admin/users/reset-second-factor",
        Need::Permission(P::UsersManage),
        &[("id", SOME_ID)],
    ),
    (
        "/api/admin/roles/list",
        Need::Permission(P::RolesManage),
        &[],
    ),
    (
        "/api/sections/open",
        Need::Permission(P::DispensingWrite),
        &[("section", "pharmacy")],
    ),
    (
        "/api/admin/roles/save",
        Need::Permission(P::RolesManage),
        &[("id", SOME_ID), ("name", "Clerk"), ("permissions", "")],
    ),
    (
        "/api/admin/roles/delete",
        Need::Permission(P::RolesManage),
        &[("id", SOME_ID)],
    ),
    (
        "/api/audit/search",
        Need::Permission(P::AuditRead),
        &[
            ("user", ""),
            ("patient", ""),
            ("action", "patient.opened"),
            ("from", ""),
            ("to", ""),
            ("workstation", ""),
            ("before_seq", "0"),
        ],
    ),
    ("/api/audit/choices", Need::Permission(P::AuditRead), &[]),
    (
        "/api/audit/patient",
        Need::Permission(P::AuditRead),
        &[("patient_id", SOME_ID)],
    ),
    (
        // A range with no entries: an allowed call is refused by validation
        // (400), exports nothing and logs nothing.
        "/api/audit/export",
        Need::Permission(P::AuditExport),
        &[("from", "2001-01-01"), ("to", "2001-01-02")],
    ),
    (
        "/api/appointments/doctors",
        Need::Permission(P::AppointmentsRead),
        &[],
    ),
    (
        "/api/appointments/day",
        Need::Permission(P::AppointmentsRead),
        &[("day", "2001-01-01"), ("doctor", "")],
    ),
    (
        "/api/appointments/slots",
        Need::Permission(P::AppointmentsRead),
        &[("doctor", SOME_ID), ("day", "2001-01-01")],
    ),
    (
        // An unknown doctor and patient: an allowed call is refused by
        // validation (400) and books nothing; the same for the walk-in.
        "/api/appointments/book",
        Need::Permission(P::AppointmentsWrite),
        &[
            ("patient", SOME_ID),
            ("doctor", SOME_ID),
            ("starts_at", "2001-01-01T10:00:00+05:00"),
        ],
    ),
    (
        "/api/appointments/walk-in",
        Need::Permission(P::AppointmentsWrite),
        &[("patient", SOME_ID), ("doctor", SOME_ID)],
    ),
    (
        "/api/appointments/status",
        Need::Permission(P::AppointmentsWrite),
        &[("id", SOME_ID), ("status", "arrived"), ("note", "")],
    ),
    (
        "/api/appointments/reschedule",
        Need::Permission(P::AppointmentsWrite),
        &[("id", SOME_ID), ("starts_at", "2001-01-01T10:00:00+05:00")],
    ),
    (
        // Nobody waits for an unknown doctor: nothing changes.
        "/api/appointments/call-next",
        Need::Permission(P::AppointmentsWrite),
        &[("doctor", SOME_ID)],
    ),
    (
        "/api/appointments/hours",
        Need::Permission(P::SchedulesManage),
        &[
            ("doctor", SOME_ID),
            ("weekdays", "1"),
            ("starts", "09:00"),
            ("ends", "13:00"),
            ("slot_minutes", "15"),
            ("fee", ""),
        ],
    ),
    (
        "/api/appointments/hours/get",
        Need::Permission(P::SchedulesManage),
        &[("doctor", SOME_ID)],
    ),
    (
        "/api/appointments/exceptions",
        Need::Permission(P::AppointmentsRead),
        &[("from", "2001-01-01"), ("to", "2001-01-02")],
    ),
    (
        // An unknown doctor: an allowed call is refused (400), adds nothing.
        "/api/appointments/exceptions/add",
        Need::Permission(P::SchedulesManage),
        &[
            ("doctor", SOME_ID),
            ("first_day", "2001-01-01"),
            ("last_day", ""),
            ("reason", "Leave"),
        ],
    ),
    (
        "/api/appointments/exceptions/withdraw",
        Need::Permission(P::SchedulesManage),
        &[("id", SOME_ID)],
    ),
    (
        // A reversed range: an allowed call is refused (400) before the view
        // is logged.
        "/api/appointments/report",
        Need::Permission(P::AppointmentsRead),
        &[("from", "2001-01-02"), ("to", "2001-01-01")],
    ),
];

/// The sign-in steps themselves (and who-am-I / logout / lock), callable
/// before the session is fully signed in.
pub const SIGN_IN_STEPS: &[&str] = &[
    "/api/auth/login",
    "/api/auth/logout",
    "/api/auth/lock",
    "/api/auth/me",
    "/api/auth/totp/verify",
    "/api/auth/totp/enrolment",
    "/api/auth/totp/confirm",
    "/api/auth/password/change",
];

/// Registered server functions that are in neither table.
pub fn unclassified() -> Vec<&'static str> {
    leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .filter(|path| {
            !ENDPOINTS.iter().any(|(p, _, _)| p == path) && !SIGN_IN_STEPS.contains(path)
        })
        .collect()
}
