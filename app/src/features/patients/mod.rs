pub mod api;
pub mod dto;
pub mod pages;

/// The registration form's draft key. Draft keys are `kind:id` and only
/// known kinds are accepted (`healipro_core::drafts`), so the new-patient
/// form keeps its draft under the patient form's kind with the id `new`,
/// which no patient id can be.
pub const NEW_PATIENT_DRAFT: &str = "patient-edit:new";
