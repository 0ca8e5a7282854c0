//! The main navigation's sections, and a placeholder page for each section
//! that has not been built yet.
//!
//! [`SECTIONS`] is the one table both sides use: the navigation shows an entry
//! when the signed-in user holds its permission (convenience only), and the
//! placeholder page's server function refuses a user who does not (the check
//! that protects). A section gets its own page by setting `page`.

pub mod api;
pub mod pages;

/// One entry of the main navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    /// The URL segment: `/section/<slug>` while the section is a placeholder.
    pub slug: &'static str,
    /// The navigation text and the page heading.
    pub label: &'static str,
    /// The permission needed to use the section, by its stable name
    /// (`healipro_core::rbac::Permission::as_str`).
    pub permission: &'static str,
    /// The section's own page, once it exists; `None` for a placeholder.
    pub page: Option<&'static str>,
}

/// The main navigation, in order.
pub const SECTIONS: &[Section] = &[
    Section {
        slug: "patients",
        label: "Patients",
        permission: "patients.read",
        page: Some("/patients"),
    },
    Section {
        slug: "appointments",
        label: "Appointments",
        permission: "appointments.read",
        page: Some("/appointments"),
    },
    Section {
        slug: "notes",
        label: "Clinical notes",
        permission: "encounters.read",
        page: None,
    },
    Section {
        slug: "prescribe",
        label: "Prescribe",
        permission: "prescriptions.write",
        page: None,
    },
    Section {
        slug: "pharmacy",
        label: "Pharmacy",
        permission: "dispensing.write",
        page: None,
    },
    Section {
        slug: "lab",
        label: "Lab",
        permission: "lab.results.read",
        page: None,
    },
    Section {
        slug: "reports",
        label: "Reports",
        permission: "reports.read",
        page: None,
    },
    Section {
        slug: "audit",
        label: "Audit log",
        permission: "audit.read",
        // Beside the admin pages, but its own section: auditors use it too.
        page: Some("/admin/audit"),
    },
    Section {
        slug: "admin",
        label: "Admin",
        permission: "users.manage",
        page: Some("/admin/users"),
    },
];

/// Whether `path` is `base` or a path below it (whole segments).
fn under(path: &str, base: &str) -> bool {
    path == base
        || path
            .strip_prefix(base)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl Section {
    /// Where the navigation entry links to.
    pub fn href(&self) -> String {
        self.page
            .map_or_else(|| format!("/section/{}", self.slug), str::to_owned)
    }

    /// The path the section's pages live under: `/<slug>`, or its page
    /// when that lies elsewhere (the audit log under `/admin`).
    fn base(&self) -> String {
        let slug = format!("/{}", self.slug);
        match self.page {
            Some(page) if !under(page, &slug) => page.to_owned(),
            Some(_) => slug,
            None => self.href(),
        }
    }

    /// Whether `path` is this section's page or one below it (and not a
    /// page of a section nested inside this one's path).
    pub fn is_current(&self, path: &str) -> bool {
        let base = self.base();
        under(path, &base)
            && !SECTIONS.iter().any(|other| {
                let b = other.base();
                b.len() > base.len() && under(path, &b)
            })
    }

    /// The placeholder section at `/section/<slug>` (sections with their own
    /// page are not served there).
    pub fn placeholder(slug: &str) -> Option<&'static Section> {
        SECTIONS.iter().find(|s| s.page.is_none() && s.slug == slug)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_unique_and_pages_live_under_their_slug() {
        for (i, s) in SECTIONS.iter().enumerate() {
            assert!(
                SECTIONS[..i].iter().all(|o| o.slug != s.slug),
                "duplicate slug {}",
                s.slug
            );
            assert!(
                s.is_current(&s.href()),
                "{} is not current on its own page",
                s.slug
            );
        }
        assert_eq!(
            Section::placeholder("pharmacy").map(|s| s.label),
            Some("Pharmacy")
        );
        assert_eq!(Section::placeholder("patients"), None);
        assert_eq!(Section::placeholder("nope"), None);
    }

    #[test]
    fn current_section_matches_whole_path_segments() {
        let patients = &SECTIONS[0];
        assert!(patients.is_current("/patients/42/edit"));
        assert!(!patients.is_current("/patientsx"));
        let lab = Section::placeholder("lab").unwrap();
        assert!(lab.is_current("/section/lab"));
        assert!(!lab.is_current("/section/labels"));
    }

    #[test]
    fn the_audit_log_is_its_own_section_inside_admin_paths() {
        let section = |slug: &str| SECTIONS.iter().find(|s| s.slug == slug).unwrap();
        let (audit, admin) = (section("audit"), section("admin"));
        assert_eq!(audit.href(), "/admin/audit");
        assert!(audit.is_current("/admin/audit"));
        assert!(!admin.is_current("/admin/audit"));
        assert!(admin.is_current("/admin/users"));
        assert!(admin.is_current("/admin"));
        assert!(!audit.is_current("/admin/users"));
        assert_eq!(Section::placeholder("audit"), None);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn every_permission_name_is_a_permission() {
        for s in SECTIONS {
            assert!(
                healipro_core::rbac::Permission::parse(s.permission).is_some(),
                "{}: unknown permission {}",
                s.slug,
                s.permission
            );
        }
    }
}
