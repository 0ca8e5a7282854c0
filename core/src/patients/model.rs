//! Patient types. `PatientQuery` parses what the front desk types into the
//! search box once, so the repository receives a decided search.

use super::identifiers::{Address, Cnic, Phone};
use crate::ids::PatientId;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sex {
    Female,
    Male,
    Other,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Sex> {
        match s {
            "female" => Some(Sex::Female),
            "male" => Some(Sex::Male),
            "other" => Some(Sex::Other),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Patient {
    pub id: PatientId,
    pub mr_number: String,
    pub full_name: String,
    pub father_or_husband_name: String,
    pub sex: Sex,
    pub date_of_birth: Option<NaiveDate>,
    /// The date of birth was worked out from an age the patient gave: show
    /// the age, not the date.
    pub date_of_birth_estimated: bool,
    /// Decrypted on read; stored encrypted with a blind index.
    pub cnic: Option<Cnic>,
    pub phone: Option<Phone>,
    pub address: Option<Address>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PatientPage {
    pub patients: Vec<Patient>,
    pub page: u32,
    pub has_more: bool,
}

pub const PAGE_SIZE: u32 = 25;
/// Deep paging is a symptom of a missing search; cap it.
pub const MAX_PAGE: u32 = 400;

/// A decided search: everything, a name, an MR-number prefix, or an exact
/// CNIC or phone number (through their blind indexes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientQuery {
    All,
    /// A name as typed (lowercase, spaces collapsed): names starting with it
    /// and, tolerant of typos and spelling variants, names similar to it
    /// (`repo::search_names`). The variant keeps its first name, which the
    /// fuzz target matches on.
    NamePrefix(String),
    /// The start of an MR number with its prefix (`MR-0001`, `hp12`), upper-cased.
    MrPrefix(String),
    /// Digits only (`000123`): the start of the number after the clinic's
    /// own prefix, which the repository adds.
    MrDigits(String),
    Cnic(Cnic),
    Phone(Phone),
}

impl PatientQuery {
    /// A CNIC (13 digits, dashes optional) or a phone number (`03…`, `+…`,
    /// `0092…`) searches that identifier exactly; `MR-000123`, `mr-12`,
    /// `000123` search MR numbers; anything else is a name, case-insensitive,
    /// with inner spaces collapsed.
    pub fn parse(raw: &str) -> PatientQuery {
        let q = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if q.is_empty() {
            return PatientQuery::All;
        }
        let digits = q.chars().filter(char::is_ascii_digit).count();
        if digits == 13 {
            if let Ok(cnic) = Cnic::parse(&q) {
                return PatientQuery::Cnic(cnic);
            }
        }
        // MR numbers never start with `+`, so any length `Phone` accepts (8
        // digits abroad) is a phone; `0…` needs 10 digits to not be an MR number.
        if q.starts_with('+') || (q.starts_with('0') && digits >= 10) {
            if let Ok(phone) = Phone::parse(&q) {
                return PatientQuery::Phone(phone);
            }
        }
        let upper = q.to_ascii_uppercase();
        let letters = upper.len()
            - upper
                .trim_start_matches(|c: char| c.is_ascii_uppercase())
                .len();
        let number = upper[letters..]
            .strip_prefix('-')
            .unwrap_or(&upper[letters..]);
        let all_digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
        if letters == 0 && all_digits(&upper) {
            PatientQuery::MrDigits(upper)
        } else if (1..=6).contains(&letters) && all_digits(number) {
            // Names have no digits, so letters then digits is an MR number.
            PatientQuery::MrPrefix(upper)
        } else {
            PatientQuery::NamePrefix(q.to_lowercase())
        }
    }
}

/// The half-open range `[prefix, prefix + U+10FFFF)` that selects every string
/// starting with `prefix` under `COLLATE "C"`: an index range, unlike LIKE.
pub fn prefix_range(prefix: &str) -> (String, String) {
    (prefix.to_owned(), format!("{prefix}\u{10FFFF}"))
}

/// Today's date (server clock, UTC; the clinic's timezone arrives with settings).
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// Whole months from `from` to `to` (0 if `to` is earlier).
pub fn months_between(from: NaiveDate, to: NaiveDate) -> u32 {
    use chrono::Datelike;
    let months = (to.year() - from.year()) * 12 + to.month() as i32
        - from.month() as i32
        - i32::from(to.day() < from.day());
    u32::try_from(months).unwrap_or(0)
}

impl Sex {
    pub fn label(self) -> &'static str {
        match self {
            Sex::Female => "Female",
            Sex::Male => "Male",
            Sex::Other => "Other",
        }
    }
}

impl Patient {
    /// Completed years on `today`, if the date of birth is known.
    pub fn age_years(&self, today: NaiveDate) -> Option<u32> {
        self.date_of_birth.and_then(|dob| today.years_since(dob))
    }

    /// Completed months on `today`, if the date of birth is known.
    pub fn age_months(&self, today: NaiveDate) -> Option<u32> {
        self.date_of_birth.map(|dob| months_between(dob, today))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_queries() {
        let cases = [
            ("", PatientQuery::All),
            ("   ", PatientQuery::All),
            ("Ali", PatientQuery::NamePrefix("ali".into())),
            (
                "  muhammad   ali ",
                PatientQuery::NamePrefix("muhammad ali".into()),
            ),
            ("MR-000123", PatientQuery::MrPrefix("MR-000123".into())),
            ("mr-12", PatientQuery::MrPrefix("MR-12".into())),
            ("000123", PatientQuery::MrDigits("000123".into())),
            ("hp-000123", PatientQuery::MrPrefix("HP-000123".into())),
            ("HP12", PatientQuery::MrPrefix("HP12".into())),
            ("Ali 2", PatientQuery::NamePrefix("ali 2".into())),
            ("MR-", PatientQuery::NamePrefix("mr-".into())),
            ("Mrs Khan", PatientQuery::NamePrefix("mrs khan".into())),
            (
                "35202-1234567-1",
                PatientQuery::Cnic(Cnic::parse("3520212345671").unwrap()),
            ),
            (
                "3520212345671",
                PatientQuery::Cnic(Cnic::parse("3520212345671").unwrap()),
            ),
            (
                "0300-1234567",
                PatientQuery::Phone(Phone::parse("+923001234567").unwrap()),
            ),
            (
                "+92 300 1234567",
                PatientQuery::Phone(Phone::parse("+923001234567").unwrap()),
            ),
            // Too short for a phone: an MR number.
            ("0300123", PatientQuery::MrDigits("0300123".into())),
            // The shortest numbers abroad are still phones.
            (
                "+1234 5678",
                PatientQuery::Phone(Phone::parse("+12345678").unwrap()),
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(PatientQuery::parse(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn prefix_range_brackets_extensions_only() {
        let (lo, hi) = prefix_range("ali");
        for s in ["ali", "ali raza", "aliya"] {
            assert!(s >= lo.as_str() && s < hi.as_str(), "{s}");
        }
        for s in ["al", "alj", "bali"] {
            assert!(!(s >= lo.as_str() && s < hi.as_str()), "{s}");
        }
    }
}
