//! Signed exports and archival on real PostgreSQL: an export verifies with
//! the public key alone and fails on a changed line, a removed line, a wrong
//! key or an entry altered and re-signed; archiving moves a segment out
//! while every remaining entry and the archive file still verify, and only
//! archived entries can ever be deleted.

use healipro_audit_verify::export::verify_export;
use healipro_core::audit::{self, archive, export, signing::AuditSigner, Action, Actor, Subject};
use healipro_core::db::Db;
use healipro_core::ids::TenantId;
use healipro_core::rbac::Role;
use healipro_core::testing::TestDb;
use sqlx::Connection;

async fn append_n(app: &Db, tenant: TenantId, n: usize) {
    for i in 0..n {
        let mut tx = app.tenant_tx_for(tenant).await.unwrap();
        let actor = Actor {
            username: format!("tester{i}"),
            roles: vec!["admin".into()],
            ip: "10.0.0.7".into(),
            ..Default::default()
        };
        let details = serde_json::json!({ "i": i });
        audit::append(
            &mut tx,
            &actor,
            Action::SettingsChanged,
            &Subject::default(),
            Some(&details),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
}

async fn export_all(db: &TestDb, tenant: TenantId, signer: &AuditSigner) -> export::Export {
    let mut tx = db.app.tenant_tx_for(tenant).await.unwrap();
    let out = export::export(
        &mut tx,
        &db.app,
        signer,
        &Actor::platform_operator(),
        &export::ExportRange::default(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    out
}

fn replace_line(text: &str, no: usize, f: impl Fn(&str) -> String) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == no { f(l) } else { l.to_owned() })
        .filter(|l| !l.is_empty())
        .map(|l| l + "\n")
        .collect()
}

/// Re-signs a body as someone holding the key would (to show the chain and
/// checkpoints catch what the file signature alone would not).
fn resign(text: &str, signer: &AuditSigner) -> String {
    use sha2::{Digest, Sha256};
    let lines: Vec<&str> = text.lines().collect();
    let body: String = lines[..lines.len() - 1]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    let digest = hex::encode(Sha256::digest(body.as_bytes()));
    let sig = signer.sign(&healipro_audit_verify::export::file_message(&digest));
    format!(
        "{body}{{\"signature\":{{\"ed25519\":\"{}\",\"key_id\":\"{}\",\"sha256\":\"{digest}\"}}}}\n",
        hex::encode(sig),
        signer.key_id()
    )
}

#[tokio::test]
async fn an_export_verifies_alone_and_any_change_is_refused() {
    let db = TestDb::new().await;
    let signer = AuditSigner::generate();
    let clinic = db.clinic("alpha", &[Role::Admin], 0).await;
    append_n(&db.app, clinic.id, 6).await;
    let before = audit::verify_tenant(&db.app, clinic.id, &signer.public_hex())
        .await
        .unwrap();
    let out = export_all(&db, clinic.id, &signer).await;
    assert_eq!((out.first_seq, out.entries), (1, before.last_seq as u64));

    let ok = verify_export(&out.jsonl, &signer.public_hex()).expect("the export verifies");
    assert_eq!(
        (ok.first_seq, ok.last_seq, ok.clinic_code.as_str()),
        (1, out.last_seq, "alpha")
    );
    assert!(
        ok.checkpoints >= 1,
        "the export carries the checkpoint signed at its end"
    );

    // The export itself is logged, after the exported range.
    let after = audit::verify_tenant(&db.app, clinic.id, &signer.public_hex())
        .await
        .unwrap();
    assert_eq!(after.last_seq, out.last_seq + 1);
    assert_eq!(after.first_break, None);

    // A changed line (entry 3 is line 4).
    let changed = replace_line(&out.jsonl, 4, |l| l.replace("10.0.0.7", "10.0.0.8"));
    assert_ne!(changed, out.jsonl);
    let p = verify_export(&changed, &signer.public_hex()).unwrap_err();
    assert!(p.reason.contains("changed, added or removed"), "{p}");

    // A removed line.
    let removed = replace_line(&out.jsonl, 4, |_| String::new());
    let p = verify_export(&removed, &signer.public_hex()).unwrap_err();
    assert!(p.reason.contains("changed, added or removed"), "{p}");

    // The wrong public key.
    let p = verify_export(&out.jsonl, &AuditSigner::generate().public_hex()).unwrap_err();
    assert!(p.reason.contains("does not verify"), "{p}");

    // Changed and re-signed with the right key: the chain still catches it,
    // at the entry's line.
    let p = verify_export(&resign(&changed, &signer), &signer.public_hex()).unwrap_err();
    assert_eq!(p.line, 4, "{p}");
    assert!(p.reason.contains("altered"), "{p}");
    // Removed and re-signed: the gap is found.
    let p = verify_export(&resign(&removed, &signer), &signer.public_hex()).unwrap_err();
    assert!(p.reason.contains("missing"), "{p}");
    // The untouched body re-signed verifies (so the checks above are about the change).
    verify_export(&resign(&out.jsonl, &signer), &signer.public_hex()).unwrap();
}

#[tokio::test]
async fn an_export_of_a_date_range_is_anchored_and_bad_ranges_are_clear_errors() {
    let db = TestDb::new().await;
    let signer = AuditSigner::generate();
    let clinic = db.clinic("alpha", &[Role::Admin], 0).await;
    append_n(&db.app, clinic.id, 3).await;
    let today = chrono::Utc::now()
        .with_timezone(&audit::clinic_offset())
        .date_naive();
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let err = export::export(
        &mut tx,
        &db.app,
        &signer,
        &Actor::platform_operator(),
        &export::ExportRange {
            from: today.succ_opt(),
            to: today.succ_opt(),
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("no audit entries"), "{err}");
    let err = export::export(
        &mut tx,
        &db.app,
        &signer,
        &Actor::platform_operator(),
        &export::ExportRange {
            from: today.succ_opt(),
            to: Some(today),
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("after the end date"), "{err}");
    tx.commit().await.unwrap();

    let first = export_all(&db, clinic.id, &signer).await;
    append_n(&db.app, clinic.id, 2).await;
    // The same dates later cover the first export's own entry and the new
    // ones (a segment starting mid-chain is checked through archival below).
    let second = export_all(&db, clinic.id, &signer).await;
    assert_eq!(second.first_seq, 1);
    assert!(second.last_seq > first.last_seq);
    verify_export(&second.jsonl, &signer.public_hex()).unwrap();
}

#[tokio::test]
async fn archiving_keeps_every_entry_verifiable_and_only_archived_entries_can_go() {
    let db = TestDb::new().await;
    let signer = AuditSigner::generate();
    let clinic = db.clinic("alpha", &[Role::Admin], 0).await;
    let other = db.clinic("beta", &[Role::Admin], 0).await;
    append_n(&db.app, clinic.id, 5).await;
    append_n(&db.app, other.id, 2).await;
    let dir = std::env::temp_dir().join(format!("healipro-archive-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();

    // Before any archive, even the owner cannot delete an entry.
    let mut owner = sqlx::PgConnection::connect(&db.owner_url).await.unwrap();
    let err = sqlx::query("DELETE FROM clinic.audit_log WHERE seq = 1")
        .execute(&mut owner)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not archived"), "{err}");

    let tomorrow = chrono::Utc::now()
        .with_timezone(&audit::clinic_offset())
        .date_naive()
        .succ_opt()
        .unwrap();
    let done = archive::archive(&db.app, &db.owner, clinic.id, &signer, tomorrow, &dir)
        .await
        .unwrap()
        .expect("something to archive");
    let report_after = audit::verify_tenant(&db.app, clinic.id, &signer.public_hex())
        .await
        .unwrap();
    assert_eq!(done.first_seq, 1);
    assert!(done.through_seq >= 5);

    // The file verifies alone; the database keeps only what came after it.
    let text = std::fs::read_to_string(&done.file).unwrap();
    let s = verify_export(&text, &signer.public_hex()).unwrap();
    assert_eq!((s.first_seq, s.last_seq), (1, done.through_seq));
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM clinic.audit_log WHERE tenant_id = $1")
            .bind(clinic.id)
            .fetch_one(&mut owner)
            .await
            .unwrap();
    assert_eq!(left, 1, "only the archival's own entry is left");
    assert_eq!(
        report_after.first_break, None,
        "{:?}",
        report_after.first_break
    );
    assert_eq!(report_after.archived_through, Some(done.through_seq));
    // The other clinic is untouched.
    let b = audit::verify_tenant(&db.app, other.id, &signer.public_hex())
        .await
        .unwrap();
    assert_eq!((b.entries, b.first_break), (2, None));

    // The chain goes on from the archive; an export of it is anchored there.
    append_n(&db.app, clinic.id, 2).await;
    let report = audit::verify_tenant(&db.app, clinic.id, &signer.public_hex())
        .await
        .unwrap();
    assert_eq!(report.first_break, None, "{:?}", report.first_break);
    let out = export_all(&db, clinic.id, &signer).await;
    assert_eq!(out.first_seq, done.through_seq + 1);
    verify_export(&out.jsonl, &signer.public_hex()).unwrap();

    // The runtime role still cannot delete anything, archived or not.
    let mut app = sqlx::PgConnection::connect(&db.app_url).await.unwrap();
    let err = sqlx::query("DELETE FROM clinic.audit_log")
        .execute(&mut app)
        .await
        .unwrap_err();
    assert_eq!(
        err.as_database_error().and_then(|e| e.code()).as_deref(),
        Some("42501")
    );
    // The owner still cannot delete an entry no archive covers.
    let err = sqlx::query("DELETE FROM clinic.audit_log WHERE tenant_id = $1")
        .bind(clinic.id)
        .execute(&mut owner)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not archived"), "{err}");

    // A forged archive row (wrong signature) is reported.
    sqlx::query(
        "UPDATE platform.audit_archives SET file_name = 'forged.jsonl' WHERE tenant_id = $1",
    )
    .bind(clinic.id)
    .execute(&mut owner)
    .await
    .unwrap();
    let report = audit::verify_tenant(&db.app, clinic.id, &signer.public_hex())
        .await
        .unwrap();
    let b = report.first_break.expect("a forged archive is found");
    assert!(b.reason.contains("archive of entries"), "{b:?}");
    // A removed archive row leaves a gap that is reported.
    sqlx::query("DELETE FROM platform.audit_archives WHERE tenant_id = $1")
        .bind(clinic.id)
        .execute(&mut owner)
        .await
        .unwrap();
    let report = audit::verify_tenant(&db.app, clinic.id, &signer.public_hex())
        .await
        .unwrap();
    let b = report.first_break.expect("a missing archive is found");
    assert_eq!(b.seq, 1, "{b:?}");
    std::fs::remove_dir_all(&dir).ok();
}
