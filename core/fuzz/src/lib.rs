//! The identifier parsers' invariants, written once as assertions.
//!
//! The fuzz target (`fuzz_targets/identifiers.rs`) runs every input libFuzzer
//! makes through [`check`]; the property tests (`core/tests/identifier_props.rs`)
//! include this file and run it on their generated strings and on the committed
//! corpus, so a plain `cargo test` exercises the same oracle.

use healipro_core::patients::identifiers::ADDRESS_MAX_CHARS;
use healipro_core::patients::{Address, Cnic, PatientQuery, Phone};

/// Every parser on one input: never panics; what it accepts is normalised,
/// re-parses to itself, and its display forms re-parse; what it refuses comes
/// with a message.
pub fn check(input: &str) {
    check_cnic(input);
    check_phone(input);
    check_address(input);
    check_query(input);
}

fn ascii_digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn refusal_is_explained(parser: &str, input: &str, message: &str) {
    assert!(
        !message.trim().is_empty(),
        "{parser} refused {input:?} without a message"
    );
}

pub fn check_cnic(input: &str) {
    let parsed = Cnic::parse(input);
    if ascii_digits(input).len() != 13 {
        assert!(parsed.is_err(), "Cnic accepted {input:?} (not 13 digits)");
    }
    match parsed {
        Ok(c) => {
            let digits = c.digits();
            assert!(
                digits.len() == 13
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && !digits.starts_with('0'),
                "Cnic::parse({input:?}) gave digits {digits:?}"
            );
            assert_eq!(digits, ascii_digits(input), "digits lost from {input:?}");
            assert_eq!(Cnic::parse(digits), Ok(c.clone()), "{input:?}");
            assert_eq!(Cnic::parse(&c.formatted()), Ok(c.clone()), "{input:?}");
            assert!(
                !format!("{c:?}").contains(digits),
                "Debug of a CNIC prints its digits"
            );
        }
        Err(message) => refusal_is_explained("Cnic", input, &message),
    }
}

pub fn check_phone(input: &str) {
    match Phone::parse(input) {
        Ok(p) => {
            let e164 = p.e164();
            let number = e164
                .strip_prefix('+')
                .unwrap_or_else(|| panic!("{input:?} gave {e164:?}, not +digits"));
            assert!(
                (8..=15).contains(&number.len())
                    && number.bytes().all(|b| b.is_ascii_digit())
                    && !number.starts_with('0'),
                "Phone::parse({input:?}) gave {e164:?}, not E.164"
            );
            if let Some(national) = number.strip_prefix("92") {
                let mobile = national.starts_with('3') && national.len() == 10;
                let landline =
                    !national.starts_with(['0', '3']) && (9..=10).contains(&national.len());
                assert!(mobile || landline, "{input:?} gave {e164:?}");
            }
            assert_eq!(Phone::parse(e164), Ok(p.clone()), "{input:?}");
            let display = p.display();
            assert_eq!(Phone::parse(&display), Ok(p.clone()), "{display:?}");
            assert_eq!(
                PatientQuery::parse(&display),
                PatientQuery::Phone(p.clone()),
                "searching for {display:?}"
            );
            assert_eq!(
                PatientQuery::parse(e164),
                PatientQuery::Phone(p.clone()),
                "searching for {e164:?}"
            );
            assert!(
                !format!("{p:?}").contains(number),
                "Debug of a phone prints its number"
            );
        }
        Err(message) => refusal_is_explained("Phone", input, &message),
    }
}

pub fn check_address(input: &str) {
    match Address::parse(input) {
        Ok(a) => {
            let text = a.as_str();
            assert!(!text.is_empty() && text.chars().count() <= ADDRESS_MAX_CHARS);
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "control character kept from {input:?}"
            );
            for line in text.split('\n') {
                assert!(
                    !line.is_empty()
                        && line.split_whitespace().collect::<Vec<_>>().join(" ") == line,
                    "line {line:?} of {input:?} is not normalised"
                );
            }
            assert_eq!(Address::parse(text), Ok(a.clone()), "{input:?}");
        }
        Err(message) => refusal_is_explained("Address", input, &message),
    }
}

pub fn check_query(input: &str) {
    match PatientQuery::parse(input) {
        PatientQuery::All => assert!(input.trim().is_empty(), "{input:?} searched everything"),
        // The search decides on the same parsers the registration form uses.
        PatientQuery::Cnic(c) => assert_eq!(Cnic::parse(input), Ok(c), "{input:?}"),
        PatientQuery::Phone(p) => assert_eq!(Phone::parse(input), Ok(p), "{input:?}"),
        // Letters, an optional dash, digits: upper-cased, never a name.
        PatientQuery::MrPrefix(mr) => assert!(
            mr.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && mr.ends_with(|c: char| c.is_ascii_digit())
                && mr
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-'),
            "{input:?} gave {mr:?}"
        ),
        PatientQuery::MrDigits(d) => assert!(
            !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()),
            "{input:?} gave {d:?}"
        ),
        PatientQuery::NamePrefix(name) => assert!(
            !name.is_empty() && name.trim() == name,
            "{input:?} gave name {name:?}"
        ),
    }
}
