//! Patients' identifiers as the front desk types them: CNIC, phone, address.
//! Each parses once, at the edge, into a normalised value (what the blind index
//! hashes) with a message a receptionist understands when it is wrong.
//!
//! Pure functions, no I/O: the fuzz target `core/fuzz` and the property tests
//! drive them directly.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Characters people type between the digits of a number.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '.' | '(' | ')' | '/')
}

/// A Pakistani CNIC: 13 digits, shown as `12345-1234567-1`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cnic(String);

impl Cnic {
    /// Accepts `12345-1234567-1`, `1234512345671` and spaces or dashes
    /// anywhere between digits.
    pub fn parse(raw: &str) -> Result<Cnic, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("Enter the CNIC (13 digits, like 35202-1234567-1).".into());
        }
        if let Some(c) = raw
            .chars()
            .find(|c| !c.is_ascii_digit() && !is_separator(*c))
        {
            return Err(format!(
                "A CNIC has only digits and dashes; remove {c:?} (like 35202-1234567-1)."
            ));
        }
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        if digits.len() != 13 {
            return Err(format!(
                "A CNIC has 13 digits, like 35202-1234567-1; this one has {}.",
                digits.len()
            ));
        }
        if digits.starts_with('0') {
            return Err("A CNIC does not start with 0; check the first digit.".into());
        }
        Ok(Cnic(digits))
    }

    /// The 13 digits (what the blind index hashes).
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// `12345-1234567-1`.
    pub fn formatted(&self) -> String {
        format!("{}-{}-{}", &self.0[..5], &self.0[5..12], &self.0[12..])
    }
}

impl fmt::Display for Cnic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.formatted())
    }
}

/// CNICs are PHI: `Debug` never prints one (logs, panics).
impl fmt::Debug for Cnic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cnic([REDACTED])")
    }
}

impl TryFrom<String> for Cnic {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Cnic::parse(&s)
    }
}

impl From<Cnic> for String {
    fn from(c: Cnic) -> String {
        c.formatted()
    }
}

/// A phone number in E.164 (`+923001234567`).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

const PHONE_EXAMPLE: &str = "like 0300-1234567 or +92 300 1234567";

impl Phone {
    /// Accepts Pakistani numbers written nationally (`0300-1234567`,
    /// `042-35761234`) or internationally (`+92 300 1234567`, `0092…`,
    /// `92300…`), and other countries' numbers with `+` or `00`.
    pub fn parse(raw: &str) -> Result<Phone, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(format!("Enter the phone number ({PHONE_EXAMPLE})."));
        }
        let (plus, rest) = match raw.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        if let Some(c) = rest
            .chars()
            .find(|c| !c.is_ascii_digit() && !is_separator(*c))
        {
            return Err(format!(
                "A phone number has only digits, spaces and dashes; remove {c:?} ({PHONE_EXAMPLE})."
            ));
        }
        let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
        let international = if plus {
            digits
        } else if let Some(d) = digits.strip_prefix("00") {
            d.to_owned()
        } else if let Some(national) = digits.strip_prefix('0') {
            format!("92{national}")
        } else if digits.starts_with("92") && digits.len() >= 11 {
            digits
        } else {
            return Err(format!("Start the number with 0 or +92 ({PHONE_EXAMPLE})."));
        };
        if let Some(national) = international.strip_prefix("92") {
            if national.starts_with('3') {
                if national.len() != 10 {
                    return Err(format!(
                        "A mobile number has 11 digits, {PHONE_EXAMPLE}; this one has {}.",
                        national.len() + 1
                    ));
                }
            } else if !(9..=10).contains(&national.len()) || national.starts_with('0') {
                return Err(format!(
                    "A landline has 10 or 11 digits with the area code, like 042-35761234 ({PHONE_EXAMPLE})."
                ));
            }
        } else if !(8..=15).contains(&international.len()) || international.starts_with('0') {
            return Err(format!(
                "An international number has a country code and 8 to 15 digits ({PHONE_EXAMPLE})."
            ));
        }
        Ok(Phone(format!("+{international}")))
    }

    /// E.164, `+923001234567` (what the blind index hashes).
    pub fn e164(&self) -> &str {
        &self.0
    }

    /// How the front desk writes it: `0300-1234567` for Pakistani mobiles,
    /// `042-35761234`-style is not attempted for landlines (E.164 instead).
    pub fn display(&self) -> String {
        match self.0.strip_prefix("+92") {
            Some(n) if n.starts_with('3') && n.len() == 10 => format!("0{}-{}", &n[..3], &n[3..]),
            Some(n) => format!("0{n}"),
            None => self.0.clone(),
        }
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Phone([REDACTED])")
    }
}

impl TryFrom<String> for Phone {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Phone::parse(&s)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

pub const ADDRESS_MAX_CHARS: usize = 300;

/// A postal address: free text, lines kept, spaces within a line collapsed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Address(String);

impl Address {
    pub fn parse(raw: &str) -> Result<Address, String> {
        let text = raw
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        if text.is_empty() {
            return Err("Enter the address, or leave the field empty.".into());
        }
        if text.chars().count() > ADDRESS_MAX_CHARS {
            return Err(format!(
                "The address is too long ({ADDRESS_MAX_CHARS} characters at most)."
            ));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err("The address contains a control character; retype it.".into());
        }
        Ok(Address(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Address([REDACTED])")
    }
}

impl TryFrom<String> for Address {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Address::parse(&s)
    }
}

impl From<Address> for String {
    fn from(a: Address) -> String {
        a.0
    }
}

/// Parses an optional field: empty means "not given".
pub fn optional<T>(raw: &str, parse: fn(&str) -> Result<T, String>) -> Result<Option<T>, String> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        parse(raw).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cnic_examples() {
        for ok in ["35202-1234567-1", "3520212345671", " 35202 1234567 1 "] {
            let c = Cnic::parse(ok).unwrap();
            assert_eq!(c.digits(), "3520212345671");
            assert_eq!(c.formatted(), "35202-1234567-1");
        }
        for (bad, says) in [
            ("35202-123456-1", "13 digits"),
            ("35202-12345678-1", "13 digits"),
            ("35202-1234567-X", "only digits"),
            ("05202-1234567-1", "start with 0"),
            ("", "Enter the CNIC"),
        ] {
            let err = Cnic::parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
        assert_eq!(
            format!("{:?}", Cnic::parse("35202-1234567-1").unwrap()),
            "Cnic([REDACTED])"
        );
    }

    #[test]
    fn phone_examples() {
        for (raw, e164) in [
            ("0300-1234567", "+923001234567"),
            ("03001234567", "+923001234567"),
            ("+92 300 1234567", "+923001234567"),
            ("+92-300-1234567", "+923001234567"),
            ("0092 300 1234567", "+923001234567"),
            ("923001234567", "+923001234567"),
            ("042-35761234", "+924235761234"),
            ("051 2345678", "+92512345678"),
            ("+44 20 7946 0958", "+442079460958"),
        ] {
            assert_eq!(Phone::parse(raw).unwrap().e164(), e164, "{raw}");
        }
        assert_eq!(
            Phone::parse("+923001234567").unwrap().display(),
            "0300-1234567"
        );
        for (bad, says) in [
            ("0300-123456", "11 digits"),
            ("0300-12345678", "11 digits"),
            ("300-1234567", "Start the number"),
            ("0300-12345a7", "only digits"),
            ("+0300", "international"),
            ("", "Enter the phone"),
        ] {
            let err = Phone::parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
    }

    #[test]
    fn address_examples() {
        let a = Address::parse("  House 12,  Street 4 \n\n G-9/2, Islamabad ").unwrap();
        assert_eq!(a.as_str(), "House 12, Street 4\nG-9/2, Islamabad");
        assert!(Address::parse(&"x".repeat(301)).is_err());
        assert!(Address::parse("a\u{7}b").is_err());
        assert_eq!(optional("  ", Address::parse).unwrap(), None);
    }
}
