use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientDto {
    pub id: String,
    pub mr_number: String,
    pub full_name: String,
    pub father_or_husband_name: String,
    pub sex: String,
    /// `27 Mar 1984`; None when unknown or estimated from an age.
    pub date_of_birth: Option<String>,
    pub age_years: Option<u32>,
    /// `34 years`, or `8 months` under two years.
    pub age_label: Option<String>,
    /// The age was given instead of a date of birth.
    pub age_estimated: bool,
    /// What the edit form's age field shows for an estimated date of birth
    /// (`34`, or `8m` under two years); empty otherwise.
    pub age_input: String,
    /// `female` / `male` / `other`, for the edit form.
    pub sex_code: String,
    /// `YYYY-MM-DD` or empty, for the edit form.
    pub date_of_birth_iso: String,
    /// `12345-1234567-1`, or empty.
    pub cnic: String,
    /// As the front desk writes it (`0300-1234567`), or empty.
    pub phone: String,
    pub address: String,
}

/// The answer to a registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegistrationDto {
    /// Boxed: a patient is far larger than the other variant.
    Registered(Box<PatientDto>),
    /// Nothing saved: patients of this clinic who may be the same person.
    PossibleDuplicates(Vec<DuplicateDto>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateDto {
    pub patient: PatientDto,
    /// Why it may be the same person: "Same CNIC", "Same phone", "Similar
    /// name, father's name and age".
    pub reason: String,
}

#[cfg(feature = "ssr")]
impl From<healipro_core::patients::service::PossibleDuplicate> for DuplicateDto {
    fn from(d: healipro_core::patients::service::PossibleDuplicate) -> Self {
        DuplicateDto {
            reason: d.reason.label().to_owned(),
            patient: d.patient.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientPageDto {
    pub patients: Vec<PatientDto>,
    pub page: u32,
    pub has_more: bool,
}

#[cfg(feature = "ssr")]
impl From<healipro_core::patients::Patient> for PatientDto {
    fn from(p: healipro_core::patients::Patient) -> Self {
        let today = healipro_core::patients::model::today();
        let estimated = p.date_of_birth_estimated;
        let months = p.age_months(today);
        let age_input = match months {
            Some(m) if estimated && m < 24 => format!("{m}m"),
            Some(m) if estimated => (m / 12).to_string(),
            _ => String::new(),
        };
        let age_label = months.map(|m| match m {
            1 => "1 month".to_owned(),
            m if m < 24 => format!("{m} months"),
            m => format!("{} years", m / 12),
        });
        PatientDto {
            id: p.id.to_string(),
            age_years: p.age_years(today),
            age_label,
            age_estimated: estimated,
            age_input,
            mr_number: p.mr_number,
            full_name: p.full_name,
            father_or_husband_name: p.father_or_husband_name,
            sex: p.sex.label().to_owned(),
            sex_code: p.sex.as_str().to_owned(),
            date_of_birth_iso: p
                .date_of_birth
                .filter(|_| !estimated)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            date_of_birth: p
                .date_of_birth
                .filter(|_| !estimated)
                .map(|d| d.format("%d %b %Y").to_string()),
            cnic: p.cnic.map(|c| c.formatted()).unwrap_or_default(),
            phone: p.phone.map(|p| p.display()).unwrap_or_default(),
            address: p.address.map(|a| a.as_str().to_owned()).unwrap_or_default(),
        }
    }
}
