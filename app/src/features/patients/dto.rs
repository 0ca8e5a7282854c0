use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientDto {
    pub id: String,
    pub mr_number: String,
    pub full_name: String,
    pub father_or_husband_name: String,
    pub sex: String,
    pub date_of_birth: Option<String>,
    pub age_years: Option<u32>,
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
    /// Nothing saved: patients of this clinic with the same CNIC or phone.
    PossibleDuplicates(Vec<PatientDto>),
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
        PatientDto {
            id: p.id.to_string(),
            age_years: p.age_years(today),
            mr_number: p.mr_number,
            full_name: p.full_name,
            father_or_husband_name: p.father_or_husband_name,
            sex: p.sex.label().to_owned(),
            sex_code: p.sex.as_str().to_owned(),
            date_of_birth_iso: p
                .date_of_birth
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            date_of_birth: p.date_of_birth.map(|d| d.format("%d %b %Y").to_string()),
            cnic: p.cnic.map(|c| c.formatted()).unwrap_or_default(),
            phone: p.phone.map(|p| p.display()).unwrap_or_default(),
            address: p.address.map(|a| a.as_str().to_owned()).unwrap_or_default(),
        }
    }
}
