//! TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, ±1 step of clock skew),
//! the enrolment QR code (SVG, rendered on the server) and recovery codes.

use crate::crypto::{random_bytes, TenantKeys};
use crate::ids::UserId;
use crate::Result;
use totp_rs::{Algorithm, Builder, Secret, Totp};

pub const STEP_SECS: u64 = 30;
/// 160-bit secrets (RFC 4226's recommended length).
pub const SECRET_BYTES: usize = 20;
pub const RECOVERY_CODES: usize = 10;
const ISSUER: &str = "Healipro";
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

pub fn new_secret() -> [u8; SECRET_BYTES] {
    random_bytes::<SECRET_BYTES>()
}

fn totp(secret: &[u8]) -> Result<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP_SECS)
        .with_secret(Secret::from(secret.to_vec()))
        .build()
        .map_err(|e| crate::Error::Internal(format!("TOTP setup failed: {e}")))
}

/// The time step a code matches (now ±1 step), if any.
pub fn matching_step(secret: &[u8], code: &str, unix_time: u64) -> Result<Option<u64>> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Ok(None);
    }
    Ok(totp(secret)?.check(&code, unix_time))
}

/// The code for `unix_time` (demo output and tests).
pub fn code_at(secret: &[u8], unix_time: u64) -> Result<String> {
    Ok(totp(secret)?.generate(unix_time).to_string())
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub fn base32(secret: &[u8]) -> String {
    Secret::from(secret.to_vec()).to_base32()
}

pub fn parse_base32(text: &str) -> Option<Vec<u8>> {
    Secret::try_from_base32(text.trim().to_ascii_uppercase())
        .ok()
        .map(|s| s.as_ref().to_vec())
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `otpauth://` URL authenticator apps read from the QR code.
pub fn otpauth_url(secret: &[u8], clinic_code: &str, username: &str) -> String {
    let label = format!("{ISSUER}:{username}@{clinic_code}");
    format!(
        "otpauth://totp/{}?secret={}&issuer={ISSUER}&algorithm=SHA1&digits=6&period={STEP_SECS}",
        url_escape(&label),
        base32(secret)
    )
}

/// The QR code of `url` as an SVG document (no scripts, no external refs).
pub fn qr_svg(url: &str) -> Result<String> {
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| crate::Error::Internal(format!("QR encoding failed: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build())
}

/// Ten fresh recovery codes, `xxxxx-xxxxx` (50 bits each), for showing once.
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let bytes = random_bytes::<10>();
            let chars: String = bytes
                .iter()
                .map(|b| RECOVERY_ALPHABET[usize::from(*b) % RECOVERY_ALPHABET.len()] as char)
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// Canonical form of a typed recovery code (case, spaces and dashes ignored).
pub fn normalize_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Looks like a recovery code rather than a 6-digit TOTP code.
pub fn is_recovery_code(code: &str) -> bool {
    normalize_recovery_code(code).len() == 10
}

/// A recovery code's keyed hash: under the tenant's index-derived key (stable
/// across DEK and KEK rotations), bound to the user.
pub fn recovery_code_hash(keys: &TenantKeys, user: UserId, code: &str) -> [u8; 32] {
    let data = format!("{user}/{}", normalize_recovery_code(code));
    keys.mac("recovery-code", data.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 s -> 94287082 (8 digits); 6 digits = 287082.
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, 59).unwrap(), "287082");
        assert_eq!(matching_step(secret, "287082", 59).unwrap(), Some(1));
        // ±1 step accepted, 2 steps off refused.
        assert_eq!(matching_step(secret, "287082", 89).unwrap(), Some(1));
        assert_eq!(matching_step(secret, "287082", 120).unwrap(), None);
        assert_eq!(matching_step(secret, "28708", 59).unwrap(), None);
    }

    #[test]
    fn recovery_codes_are_distinct_and_recognised() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        assert!(codes.iter().all(|c| is_recovery_code(c)));
        assert!(is_recovery_code(&codes[0].to_uppercase().replace('-', " ")));
        assert!(!is_recovery_code("123456"));
    }

    #[test]
    fn base32_round_trips_and_svg_renders() {
        let s = new_secret();
        assert_eq!(parse_base32(&base32(&s)).unwrap(), s.to_vec());
        let svg = qr_svg(&otpauth_url(&s, "alnoor", "doctor")).unwrap();
        assert!(svg.contains("<svg") && !svg.contains("<script"));
    }
}
