//! `healipro audit …` as the real binary: init-key, checkpoint, verify — and
//! verify exits 1 naming the entry a malicious DBA edited.

use healipro_core::rbac::Role;
use healipro_core::testing::TestDb;
use std::path::Path;
use std::process::{Command, Output};

fn healipro(db: &TestDb, key_file: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_healipro"))
        .args(args)
        .env("DATABASE_URL", &db.app_url)
        .env("HEALIPRO_AUDIT_KEY_FILE", key_file)
        .output()
        .expect("run healipro")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn audit_commands_sign_verify_and_catch_an_edit() {
    let db = TestDb::new().await;
    let clinic = db.clinic("alpha", &[Role::Operator], 2).await;
    // Two sign-ins: two entries.
    db.login(&clinic, "operator").await;
    db.login(&clinic, "operator").await;
    let dir = std::env::temp_dir().join(format!("hp-cli-audit-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("audit.key");
    let out = healipro(&db, &key, &["audit", "init-key"]);
    assert!(out.status.success(), "{out:?}");
    let public = stdout(&healipro(&db, &key, &["audit", "public-key"]));
    assert_eq!(public.trim().len(), 64);
    let out = healipro(&db, &key, &["audit", "checkpoint", "--tenant", "alpha"]);
    assert!(
        stdout(&out).contains("alpha: signed checkpoint at entry"),
        "{out:?}"
    );
    let out = healipro(&db, &key, &["audit", "verify"]);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("alpha: OK"), "{out:?}");

    db.owner_exec(
        "ALTER TABLE clinic.audit_log DISABLE TRIGGER USER;
         UPDATE clinic.audit_log SET ip = '203.0.113.9' WHERE seq = 1;
         ALTER TABLE clinic.audit_log ENABLE TRIGGER USER",
    )
    .await;
    let out = healipro(
        &db,
        &key,
        &["audit", "verify", "--public-key", public.trim()],
    );
    assert!(!out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("alpha: BROKEN at entry 1: entry 1 was altered"),
        "{out:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
