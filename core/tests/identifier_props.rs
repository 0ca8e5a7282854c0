//! Property tests for the identifier parsers (CNIC, phone, address, search
//! box). The invariants every input must keep live in `core/fuzz/src/lib.rs`,
//! shared with the fuzz target; this file adds the properties that need to
//! know how an input was built (the same number written five ways).

use std::fs;
use std::path::Path;

use healipro_core::patients::{Cnic, PatientQuery, Phone};
use proptest::prelude::*;

#[path = "../fuzz/src/lib.rs"]
mod invariants;

/// Small enough for a few seconds in a debug build, across all properties.
const CASES: u32 = 1000;

/// What people type between digit groups (possibly nothing).
fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", "", "-", " ", "  ", " - ", "\t", "\u{a0}"])
}

/// `digits` with a random separator after each digit but the last, and
/// stray spaces around the whole.
fn spaced(digits: &str) -> impl Strategy<Value = String> {
    let gaps = digits.len().saturating_sub(1);
    let digits = digits.to_owned();
    (
        prop::collection::vec(separator(), gaps),
        prop::sample::select(vec!["", " ", "  "]),
        prop::sample::select(vec!["", " ", "\n"]),
    )
        .prop_map(move |(seps, lead, trail)| {
            let mut out = lead.to_owned();
            for (i, d) in digits.chars().enumerate() {
                out.push(d);
                if let Some(sep) = seps.get(i) {
                    out.push_str(sep);
                }
            }
            out.push_str(trail);
            out
        })
}

fn cnic_digits() -> impl Strategy<Value = String> {
    "[1-9][0-9]{12}"
}

/// Strings near the parsers' edges: digits, separators, `+`, a few letters
/// and non-ASCII look-alikes (Arabic-Indic digits, full-width plus).
fn identifier_like() -> impl Strategy<Value = String> {
    "[+]?[0-9 \\-+()./٣۳＋a-zMR\u{a0}\u{200b}\n]{0,24}"
}

/// The ways a valid phone number gets typed, with its E.164 form.
fn any_phone() -> impl Strategy<Value = (String, String)> {
    let mobile = "3[0-9]{9}".prop_map(|m| (format!("0{}-{}", &m[..3], &m[3..]), format!("+92{m}")));
    let landline = "[1245-9][0-9]{8,9}".prop_map(|n| (format!("0{n}"), format!("+92{n}")));
    let foreign = "[1-9][0-9]{7,14}"
        .prop_filter("Pakistani numbers are covered above", |d| {
            !d.starts_with("92")
        })
        .prop_flat_map(|d| {
            let e164 = format!("+{d}");
            prop_oneof![Just(format!("+{d}")), Just(format!("00{d}"))]
                .prop_map(move |raw| (raw, e164.clone()))
        });
    prop_oneof![mobile, landline, foreign]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn any_text_keeps_the_invariants(s in any::<String>()) {
        invariants::check(&s);
    }

    #[test]
    fn identifier_like_text_keeps_the_invariants(s in identifier_like()) {
        invariants::check(&s);
    }

    #[test]
    fn cnic_accepts_any_spacing(
        (digits, written) in cnic_digits().prop_flat_map(|d| (Just(d.clone()), spaced(&d)))
    ) {
        let cnic = Cnic::parse(&written);
        prop_assert!(cnic.is_ok(), "{written:?}: {cnic:?}");
        let cnic = cnic.unwrap();
        prop_assert_eq!(cnic.digits(), digits.as_str());
        prop_assert_eq!(Cnic::parse(&cnic.formatted()), Ok(cnic.clone()));
        let formatted = cnic.formatted();
        prop_assert_eq!(
            formatted.split('-').map(str::len).collect::<Vec<_>>(),
            vec![5, 7, 1]
        );
        prop_assert_eq!(PatientQuery::parse(&formatted), PatientQuery::Cnic(cnic.clone()));
        prop_assert_eq!(PatientQuery::parse(&written), PatientQuery::Cnic(cnic));
    }

    #[test]
    fn cnic_refuses_other_digit_counts(
        written in prop::collection::vec(prop::char::range('0', '9'), 0..=30)
            .prop_filter("13 digits is a CNIC", |d| d.len() != 13)
            .prop_flat_map(|d| spaced(&d.into_iter().collect::<String>()))
    ) {
        let refused = Cnic::parse(&written);
        prop_assert!(refused.is_err(), "accepted {:?}", written);
        prop_assert!(!refused.unwrap_err().is_empty());
    }

    #[test]
    fn cnic_refuses_a_leading_zero(rest in "[0-9]{12}") {
        let written = format!("0{rest}");
        prop_assert!(Cnic::parse(&written).is_err(), "accepted {written:?}");
    }

    #[test]
    fn a_mobile_written_five_ways_is_one_number(m in "3[0-9]{9}") {
        let e164 = format!("+92{m}");
        let (code, line) = m.split_at(3);
        for written in [
            format!("0{code}-{line}"),
            format!("0{m}"),
            format!("+92 {code} {line}"),
            format!("+92-{code}-{line}"),
            format!("0092 {code} {line}"),
            format!("0092{m}"),
            format!("92{m}"),
            format!(" 0{code} {line} "),
        ] {
            let phone = Phone::parse(&written);
            prop_assert!(phone.is_ok(), "{written:?}: {phone:?}");
            let phone = phone.unwrap();
            prop_assert_eq!(phone.e164(), e164.as_str(), "{:?}", written);
            prop_assert_eq!(phone.display(), format!("0{code}-{line}"));
        }
        let formatted = format!("0{code}-{line}");
        prop_assert_eq!(
            PatientQuery::parse(&formatted),
            PatientQuery::Phone(Phone::parse(&e164).unwrap())
        );
    }

    #[test]
    fn a_mobile_with_a_digit_too_many_or_few_is_refused(m in "3[0-9]{7,8}|3[0-9]{10,11}") {
        for written in [format!("0{m}"), format!("+92{m}"), format!("0092{m}")] {
            let refused = Phone::parse(&written);
            prop_assert!(refused.is_err(), "accepted {:?}", written);
        }
    }

    #[test]
    fn every_valid_phone_round_trips((written, e164) in any_phone()) {
        let phone = Phone::parse(&written);
        prop_assert!(phone.is_ok(), "{written:?}: {phone:?}");
        let phone = phone.unwrap();
        prop_assert_eq!(phone.e164(), e164.as_str());
        prop_assert_eq!(Phone::parse(phone.e164()), Ok(phone.clone()));
        prop_assert_eq!(Phone::parse(&phone.display()), Ok(phone.clone()));
        prop_assert_eq!(PatientQuery::parse(&phone.display()), PatientQuery::Phone(phone.clone()));
        // Stored as E.164 text and read back.
        let json = serde_json::to_string(&phone).unwrap();
        prop_assert_eq!(serde_json::from_str::<Phone>(&json).unwrap(), phone);
    }

    #[test]
    fn mr_numbers_search_mr_numbers(
        prefix in "[A-Z]{1,6}-?",
        n in "[0-9]{1,9}",
        lower in any::<bool>(),
    ) {
        let upper = format!("{prefix}{n}");
        let written = if lower { upper.to_lowercase() } else { upper.clone() };
        prop_assert_eq!(PatientQuery::parse(&written), PatientQuery::MrPrefix(upper));
        // Digits alone (too few for a CNIC or phone) are the clinic's own prefix's.
        prop_assert_eq!(PatientQuery::parse(&n), PatientQuery::MrDigits(n.clone()));
    }
}

#[test]
fn the_mr_example_is_an_mr_prefix() {
    assert_eq!(
        PatientQuery::parse("MR-000123"),
        PatientQuery::MrPrefix("MR-000123".into())
    );
}

/// The fuzz corpus is committed: replaying it here keeps its seeds (and any
/// reproducer added to it after a crash) in every `cargo test`.
#[test]
fn fuzz_corpus_keeps_the_invariants() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/identifiers");
    let mut replayed = 0;
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let bytes = fs::read(&path).unwrap();
        if let Ok(text) = std::str::from_utf8(&bytes) {
            invariants::check(text);
            replayed += 1;
        }
    }
    assert!(replayed >= 5, "only {replayed} seeds in {}", dir.display());
}
