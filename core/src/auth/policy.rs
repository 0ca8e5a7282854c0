//! Password rules per NIST SP 800-63B: at least 12 characters, at most 128, no
//! composition rules, and no common, breached-list or guessable passwords
//! (zxcvbn's dictionaries: common passwords, names, words, keyboard patterns;
//! the user's own username, name and clinic count as guessable).

use crate::{Error, Result};
use zxcvbn::Score;

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 128;

/// Checks a new password; the error says what to do, in plain words.
pub fn check(password: &str, user_inputs: &[&str]) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(Error::validation(
            "new_password",
            format!("Use at least {MIN_CHARS} characters (a short sentence is easy to remember)."),
        ));
    }
    if chars > MAX_CHARS {
        return Err(Error::validation(
            "new_password",
            format!("Use at most {MAX_CHARS} characters."),
        ));
    }
    // zxcvbn's matching is super-linear in length; beyond 64 characters the
    // prefix decides (a 64-character prefix that is guessable still is).
    let probe: String = password.chars().take(64).collect();
    let estimate = zxcvbn::zxcvbn(&probe, user_inputs);
    if estimate.score() < Score::Three {
        let hint = estimate
            .feedback()
            .and_then(|f| f.warning())
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        return Err(Error::validation(
            "new_password",
            format!("This password is too easy to guess{hint}. Try a few unrelated words."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(check("short", &[]).is_err());
        assert!(check("password1234", &[]).is_err(), "common password");
        assert!(check("qwertyuiop123", &[]).is_err(), "keyboard pattern");
        assert!(
            check("alnoordoctor1", &["alnoor", "doctor"]).is_err(),
            "user inputs"
        );
        assert!(check(&"x".repeat(129), &[]).is_err());
        assert!(check("mango lantern riverbank", &[]).is_ok());
        assert!(check("Kabootar udta 7 baje", &[]).is_ok());
        // No composition rules: all lower case, no digits, is fine if long and rare.
        assert!(check("tamarind orbit velvet", &[]).is_ok());
    }
}
