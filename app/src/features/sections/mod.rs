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
        page: None,
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
        page: None,
    },
    Section {
        slug: "admin",
        label: "Admin",
        permission: "users.manage",
        page: Some("/admin/users"),
    },
];

impl Section {
    /// Where the navigation entry links to.
    pub fn href(&self) -> String {
        self.page
            .map_or_else(|| format!("/section/{}", self.slug), str::to_owned)
    }

    /// Whether `path` is this section's page or one below it.
    pub fn is_current(&self, path: &str) -> bool {
        let base = match self.page {
            Some(_) => format!("/{}", self.slug),
            None => self.href(),
        };
        path == base
            || path
                .strip_prefix(&base)
                .is_some_and(|rest| rest.starts_with('/'))
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
