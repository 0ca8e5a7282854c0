//! The standalone verifier as an auditor runs it: only the binary, a file and
//! the public key. It accepts an intact export and rejects a modified line, a
//! removed line and the wrong key, naming the line.

use ed25519_dalek::{Signer, SigningKey};
use healipro_audit_verify::chain::{self, Entry, GENESIS};
use healipro_audit_verify::export::{Header, Writer, FORMAT};
use healipro_audit_verify::verify::SignedCheckpoint;
use std::process::Command;

const TENANT: &str = "6f1c2b1e-0000-4000-8000-000000000001";

fn export(key: &SigningKey) -> String {
    let public = hex::encode(key.verifying_key().as_bytes());
    let key_id = public[..16].to_owned();
    let mut entries = Vec::new();
    let mut prev = GENESIS;
    for seq in 1..=4 {
        let e = Entry {
            tenant_id: TENANT.into(),
            seq,
            at: format!("2026-11-29T10:00:0{seq}.000000Z"),
            actor_user_id: None,
            actor_username: format!("user{seq}"),
            actor_roles: vec!["admin".into()],
            action: "patient.opened".into(),
            patient_id: Some("6f1c2b1e-0000-4000-8000-00000000beef".into()),
            object_type: "patient".into(),
            object_id: "6f1c2b1e-0000-4000-8000-00000000beef".into(),
            ip: "10.0.0.7".into(),
            workstation_id: None,
            details_enc: Some("01deadbeef".into()),
            prev_hash: hex::encode(prev),
        };
        prev = chain::hash(&prev, &e);
        entries.push((e, prev));
    }
    let mut w = Writer::new(&Header {
        format: FORMAT.into(),
        tenant_id: TENANT.into(),
        clinic_code: "alpha".into(),
        from: None,
        to: None,
        first_seq: 1,
        last_seq: 4,
        anchor_hash: hex::encode(GENESIS),
        exported_at: "2026-11-29T10:00:05.000000Z".into(),
        key_id: key_id.clone(),
    });
    for (e, h) in &entries {
        w.entry(e, h);
    }
    let signed_at = "2026-11-29T10:00:05.000000Z";
    let message = chain::checkpoint_message(TENANT, 4, &hex::encode(prev), signed_at);
    w.checkpoint(&SignedCheckpoint {
        tenant_id: TENANT.into(),
        seq: 4,
        hash: hex::encode(prev),
        signed_at: signed_at.into(),
        key_id: key_id.clone(),
        signature: hex::encode(key.sign(&message).to_bytes()),
    });
    w.finish(&key_id, |m| key.sign(m).to_bytes())
}

fn run(text: &str, public: &str) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!("hav-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("export.jsonl");
    std::fs::write(&file, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_healipro-audit-verify"))
        .args(["--public-key", public])
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn edit_line(text: &str, no: usize, f: impl Fn(&str) -> Option<String>) -> String {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            if i + 1 == no {
                f(l)
            } else {
                Some(l.to_owned())
            }
        })
        .map(|l| l + "\n")
        .collect()
}

#[test]
fn an_intact_export_verifies_with_the_public_key_alone() {
    let key = SigningKey::from_bytes(&[3u8; 32]);
    let public = hex::encode(key.verifying_key().as_bytes());
    let (code, out) = run(&export(&key), &public);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("OK: clinic alpha") && out.contains("entries 1..=4"),
        "{out}"
    );
}

#[test]
fn a_modified_line_is_rejected() {
    let key = SigningKey::from_bytes(&[3u8; 32]);
    let public = hex::encode(key.verifying_key().as_bytes());
    let text = edit_line(&export(&key), 3, |l| Some(l.replace("user2", "user9")));
    let (code, out) = run(&text, &public);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAILED") && out.contains("changed, added or removed"),
        "{out}"
    );
}

#[test]
fn a_removed_line_is_rejected() {
    let key = SigningKey::from_bytes(&[3u8; 32]);
    let public = hex::encode(key.verifying_key().as_bytes());
    let text = edit_line(&export(&key), 3, |_| None);
    let (code, out) = run(&text, &public);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAILED"), "{out}");
}

#[test]
fn the_wrong_key_is_rejected() {
    let key = SigningKey::from_bytes(&[3u8; 32]);
    let other = hex::encode(
        SigningKey::from_bytes(&[4u8; 32])
            .verifying_key()
            .as_bytes(),
    );
    let (code, out) = run(&export(&key), &other);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("does not verify with this public key"),
        "{out}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_healipro-audit-verify"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
