//! The audit log for admins and auditors (issue 7): search by person,
//! patient, action, clinic dates and workstation, newest first, paged by seq,
//! each entry's details decrypted; the patient record's "Who accessed this
//! record"; and the admin's signed JSON Lines export. Searching is in
//! `healipro_core::audit::search`, the export in `healipro_core::audit::export`.

pub mod api;
pub mod dto;
pub mod pages;

/// The feature's text, in one place for translation.
pub mod text {
    pub const TITLE: &str = "Audit log";
    pub const INTRO: &str =
        "Everything done in this clinic, newest first. Times are clinic time (PKT, UTC+5).";
    pub const FILTERS: &str = "Audit log filters";
    pub const PERSON: &str = "Person";
    pub const ANYONE: &str = "Anyone";
    pub const PATIENT_MR: &str = "Patient MR number";
    pub const ACTION: &str = "Action";
    pub const ANY_ACTION: &str = "Any action";
    pub const FROM: &str = "From";
    pub const TO: &str = "To";
    pub const WORKSTATION: &str = "Workstation";
    pub const ANY_WORKSTATION: &str = "Any workstation";
    pub const SEARCH: &str = "Search";
    pub const CLEAR: &str = "Clear filters";
    pub const ABOUT_PATIENT: &str = "Entries about patient";
    pub const ENTRIES: &str = "Audit entries";
    pub const NO_ENTRIES: &str =
        "No entries match these filters. Widen the dates or clear a filter.";
    pub const NO_OLDER: &str = "No older entries. Go back to newer ones.";
    pub const NEWER: &str = "Newer entries";
    pub const OLDER: &str = "Older entries";
    pub const WHEN: &str = "When (PKT)";
    pub const WHO: &str = "Who";
    pub const PATIENT: &str = "Patient";
    pub const WHERE: &str = "Where";
    pub const DETAILS: &str = "Details";
    pub const DETAILS_OF: &str = "Details of entry";
    pub const HIDE: &str = "Hide";
    pub const ENTRY: &str = "Entry";
    pub const ROLES: &str = "Roles";
    pub const OBJECT: &str = "Object";
    pub const ADDRESS: &str = "Address";
    pub const UNKNOWN_PATIENT: &str = "Unknown patient";
    pub const NO_WORKSTATION: &str = "No workstation";
    pub const DELETED_WORKSTATION: &str = "Deleted workstation";
    pub const NO_DETAILS: &str = "None recorded.";
    pub const UNREADABLE: &str =
        "These details cannot be decrypted: the entry may have been altered. Run `healipro audit verify`.";
    pub const EXPORT_TITLE: &str = "Export";
    pub const EXPORT_HINT: &str = "A signed JSON Lines file of the log between two clinic dates (leave a date empty for no limit), checkable with the clinic's public key. The export itself is logged.";
    pub const EXPORT_FROM: &str = "Export from";
    pub const EXPORT_TO: &str = "Export to";
    pub const EXPORT: &str = "Download export";
    pub const EXPORTING: &str = "Preparing export…";
    pub const ACCESS_TITLE: &str = "Who accessed this record";
    pub const ACCESS_NONE: &str = "No audit entries about this patient yet.";
    pub const ACCESS_MORE: &str = "All audit entries about this patient";
}
