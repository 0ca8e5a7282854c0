//! The audit log on real PostgreSQL: the chain verifies; a malicious DBA (the
//! owner, disabling the triggers) editing, deleting, inserting, reordering,
//! truncating after a checkpoint or forking is found at the right seq; the
//! runtime role cannot change the log at all; concurrent writers keep one
//! gap-free chain; one clinic never sees another's entries.

use healipro_core::audit::{self, chain, repo, signing::AuditSigner, Action, Actor, Subject};
use healipro_core::db::Db;
use healipro_core::ids::TenantId;
use healipro_core::rbac::Role;
use healipro_core::testing::{TestClinic, TestDb};
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

async fn clinic_with_chain(db: &TestDb, n: usize) -> TestClinic {
    let clinic = db.clinic("alpha", &[Role::Admin], 0).await;
    append_n(&db.app, clinic.id, n).await;
    clinic
}

/// The owner as a malicious DBA: triggers off, then `sql`.
async fn tamper(db: &TestDb, sql: &str) {
    db.owner_exec(&format!(
        "ALTER TABLE clinic.audit_log DISABLE TRIGGER USER; {sql}; ALTER TABLE clinic.audit_log ENABLE TRIGGER USER"
    ))
    .await;
}

async fn verify(db: &TestDb, tenant: TenantId, signer: &AuditSigner) -> audit::TenantReport {
    audit::verify_tenant(&db.app, tenant, &signer.public_hex())
        .await
        .unwrap()
}

fn broken_at(report: &audit::TenantReport, seq: i64, says: &str) {
    let b = report
        .first_break
        .as_ref()
        .unwrap_or_else(|| panic!("no break found; expected {says:?} at {seq}"));
    assert_eq!(b.seq, seq, "{b:?}");
    assert!(b.reason.contains(says), "{b:?}");
}

/// The stored entry `seq` of a tenant, as the chain hashes it.
async fn stored(app: &Db, tenant: TenantId, seq: i64) -> repo::StoredEntry {
    let mut tx = app.tenant_tx_for(tenant).await.unwrap();
    let page = repo::chain_page(&mut tx, seq - 1, 1).await.unwrap();
    tx.commit().await.unwrap();
    page.into_iter().next().unwrap()
}

#[tokio::test]
async fn an_untouched_chain_verifies_with_its_checkpoints() {
    let db = TestDb::new().await;
    let signer = AuditSigner::generate();
    let clinic = clinic_with_chain(&db, 5).await;
    assert_eq!(
        audit::checkpoint(&db.app, clinic.id, &signer)
            .await
            .unwrap(),
        Some(5)
    );
    append_n(&db.app, clinic.id, 3).await;
    let report = verify(&db, clinic.id, &signer).await;
    assert_eq!(report.first_break, None, "{report:?}");
    assert_eq!(
        (report.entries, report.last_seq, report.checkpoints),
        (8, 8, 1)
    );
    // The same checkpoints with another public key do not verify.
    let other = AuditSigner::generate();
    let report = verify(&db, clinic.id, &other).await;
    broken_at(&report, 5, "does not verify");
}

#[tokio::test]
async fn an_edited_field_is_found() {
    let db = TestDb::new().await;
    let signer = AuditSigner::generate();
    let clinic = clinic_with_chain(&db, 6).await;
    tamper(
        &db,
        "UPDATE clinic.audit_log SET actor_username = 'someone else' WHERE seq = 3",
    )
    .await;
    broken_at(&verify(&db, clinic.id, &signer).await, 3, "altered");
}

#[tokio::test]
async fn a_deleted_entry_is_found() {
    let db = TestDb::new().await;
    let signer = AuditSigner::generate();
    let clinic = clinic_with_chain(&db, 6).await;
    tamper(&db, "DELETE FROM clinic.audit_log WHERE seq = 4").await;
    broken_at(&verify(&db, clinic.id, &signer).await, 4, "missing");
}

#[tokio::test]
async fn an_inserted_entry_is_found_even_when_the_attacker_rehashes_the_rest() {
    let db = TestDb::new().await;
    let signer = AuditSigner::generate();
    let clinic = clinic_with_chain(&db, 6).await;
    audit::checkpoint(&db.app, clinic.id, &signer)
        .await
        .unwrap();
    // Make room at seq 3 and insert a forged entry that links to seq 2.
    let two = stored(&db.app, clinic.id, 2).await;
    let mut forged = stored(&db.app, clinic.id, 3).await.entry;
    forged.actor_username = "forger".into();
    forged.prev_hash = hex::encode(&two.hash);
    let forged_hash = chain::hash(&<[u8; 32]>::try_from(two.hash.as_slice()).unwrap(), &forged);
    tamper(
        &db,
        &format!(
            "ALTER TABLE clinic.audit_log DROP CONSTRAINT audit_log_tenant_id_prev_hash_key;
             UPDATE clinic.audit_log SET seq = seq + 1000 WHERE seq >= 3;
             UPDATE clinic.audit_log SET seq = seq - 999 WHERE seq >= 1003;
             INSERT INTO clinic.audit_log (tenant_id, seq, at, actor_username, actor_roles, action,
                                           object_type, object_id, ip, prev_hash, hash)
             SELECT tenant_id, 3, at, 'forger', actor_roles, action, object_type, object_id, ip,
                    '\\x{}', '\\x{}' FROM clinic.audit_log WHERE seq = 2",
            hex::encode(&two.hash),
            hex::encode(forged_hash)
        ),
    )
    .await;
    let report = verify(&db, clinic.id, &signer).await;
    let b = report.first_break.clone().expect("the insertion is found");
    assert!((3..=4).contains(&b.seq), "{b:?}");

    // A thorough attacker recomputes every later hash: only the signed
    // checkpoint (at the old seq 6, now 7) can tell.
    let db2 = TestDb::new().await;
    let clinic2 = clinic_with_chain(&db2, 6).await;
    audit::checkpoint(&db2.app, clinic2.id, &signer)
        .await
        .unwrap();
    let mut prev =
        <[u8; 32]>::try_from(stored(&db2.app, clinic2.id, 2).await.hash.as_slice()).unwrap();
    let mut statements = vec![
        "ALTER TABLE clinic.audit_log DROP CONSTRAINT audit_log_tenant_id_prev_hash_key".to_owned(),
    ];
    for seq in 3..=6 {
        let mut e = stored(&db2.app, clinic2.id, seq).await.entry;
        if seq == 3 {
            e.actor_username = "rewritten".into();
        }
        e.prev_hash = hex::encode(prev);
        let h = chain::hash(&prev, &e);
        statements.push(format!(
            "UPDATE clinic.audit_log SET actor_username = '{}', prev_hash = '\\x{}', hash = '\\x{}' WHERE seq = {seq}",
            e.actor_username,
            hex::encode(prev),
            hex::encode(h)
        ));
        prev = h;
    }
    tamper(&db2, &statements.join(";\n")).await;
    broken_at(
        &verify(&db2, clinic2.id, &signer).await,
        6,
        "differs from the signed checkpoint",
    );
}

#[tokio::test]
async fn reordered_entries_are_found() {
    let db = TestDb::new().await;
    let signer = AuditSigner::generate();
    let clinic = clinic_with_chain(&db, 6).await;
    tamper(
        &db,
        "UPDATE clinic.audit_log SET seq = 1000 WHERE seq = 3;
         UPDATE clinic.audit_log SET seq = 3 WHERE seq = 4;
         UPDATE clinic.audit_log SET seq = 4 WHERE seq = 1000",
    )
    .await;
    let report = verify(&db, clinic.id, &signer).await;
    broken_at(&report, 3, "");
}

#[tokio::test]
async fn a_truncated_tail_after_a_checkpoint_is_found() {
    let db = TestDb::new().await;
    let signer = AuditSigner::generate();
    let clinic = clinic_with_chain(&db, 6).await;
    audit::checkpoint(&db.app, clinic.id, &signer)
        .await
        .unwrap();
    tamper(&db, "DELETE FROM clinic.audit_log WHERE seq > 4").await;
    broken_at(&verify(&db, clinic.id, &signer).await, 5, "truncated");
}

#[tokio::test]
async fn a_forked_chain_is_found() {
    let db = TestDb::new().await;
    let signer = AuditSigner::generate();
    let clinic = clinic_with_chain(&db, 5).await;
    // A second entry continuing from entry 2, appended at the end.
    let two = stored(&db.app, clinic.id, 2).await;
    let mut fork = stored(&db.app, clinic.id, 3).await.entry;
    fork.seq = 6;
    fork.prev_hash = hex::encode(&two.hash);
    let h = chain::hash(&<[u8; 32]>::try_from(two.hash.as_slice()).unwrap(), &fork);
    tamper(
        &db,
        &format!(
            "ALTER TABLE clinic.audit_log DROP CONSTRAINT audit_log_tenant_id_prev_hash_key;
             INSERT INTO clinic.audit_log (tenant_id, seq, at, actor_user_id, actor_username, actor_roles,
                 action, patient_id, object_type, object_id, ip, workstation_id, details_enc, prev_hash, hash)
             SELECT tenant_id, 6, at, actor_user_id, actor_username, actor_roles, action, patient_id,
                    object_type, object_id, ip, workstation_id, details_enc, prev_hash, '\\x{}'
               FROM clinic.audit_log WHERE seq = 3",
            hex::encode(h)
        ),
    )
    .await;
    broken_at(
        &verify(&db, clinic.id, &signer).await,
        6,
        "forked: entry 6 continues from entry 2",
    );
}

#[tokio::test]
async fn the_runtime_role_cannot_update_delete_or_truncate_the_log() {
    let db = TestDb::new().await;
    let clinic = clinic_with_chain(&db, 3).await;
    for sql in [
        "UPDATE clinic.audit_log SET actor_username = 'x'",
        "DELETE FROM clinic.audit_log",
        "TRUNCATE clinic.audit_log",
    ] {
        let mut conn = sqlx::PgConnection::connect(&db.app_url).await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("SELECT clinic.set_tenant($1)")
            .bind(clinic.id)
            .execute(&mut *tx)
            .await
            .unwrap();
        let err = sqlx::query(sql).execute(&mut *tx).await.unwrap_err();
        let code = err
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.into_owned());
        assert_eq!(code.as_deref(), Some("42501"), "{sql}: {err}");
    }
    // Even the owner is stopped by the triggers unless it disables them.
    let mut owner = sqlx::PgConnection::connect(&db.owner_url).await.unwrap();
    for sql in [
        "UPDATE clinic.audit_log SET ip = ''",
        "DELETE FROM clinic.audit_log",
        "TRUNCATE clinic.audit_log",
    ] {
        let err = sqlx::query(sql).execute(&mut owner).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let report = audit::verify_tenant(&db.app, clinic.id, &AuditSigner::generate().public_hex())
        .await
        .unwrap();
    assert_eq!((report.first_break, report.last_seq), (None, 3));
}

#[tokio::test]
async fn eight_concurrent_writers_make_one_gap_free_chain() {
    let db = TestDb::new().await;
    let clinic = db.clinic("alpha", &[Role::Admin], 0).await;
    let before = audit::verify_tenant(&db.app, clinic.id, &AuditSigner::generate().public_hex())
        .await
        .unwrap()
        .last_seq;
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let app = db.app.clone();
            tokio::spawn(async move { append_n(&app, clinic.id, 25).await })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let report = audit::verify_tenant(&db.app, clinic.id, &AuditSigner::generate().public_hex())
        .await
        .unwrap();
    assert_eq!(report.first_break, None, "{report:?}");
    assert_eq!(report.last_seq, before + 200);
    assert_eq!(report.entries as i64, report.last_seq);
}

#[tokio::test]
async fn a_clinic_never_sees_another_clinics_entries() {
    let db = TestDb::new().await;
    let a = clinic_with_chain(&db, 4).await;
    let b = db.clinic("bravo", &[Role::Admin], 0).await;
    append_n(&db.app, b.id, 7).await;
    let mut tx = db.app.tenant_tx_for(a.id).await.unwrap();
    let seen = repo::chain_page(&mut tx, 0, 1000).await.unwrap();
    tx.commit().await.unwrap();
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|e| e.entry.tenant_id == a.id.to_string()));
    // Each chain starts at 1 and verifies on its own.
    let public = AuditSigner::generate().public_hex();
    for t in [a.id, b.id] {
        let r = audit::verify_tenant(&db.app, t, &public).await.unwrap();
        assert_eq!(r.first_break, None);
    }
}

#[tokio::test]
async fn patient_actions_and_sign_ins_are_logged_by_the_real_actions() {
    use healipro_core::patients::service;
    let db = TestDb::new().await;
    let clinic = db.clinic("alpha", &[Role::Operator], 3).await;
    let (session, _) = db.login(&clinic, "operator").await;
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let page = service::list(&mut tx, &session, "", 0).await.unwrap();
    let id = page.patients[0].id;
    service::open(&mut tx, &session, id).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let all = repo::chain_page(&mut tx, 0, 1000).await.unwrap();
    let keys = tx.keys().await.unwrap();
    tx.commit().await.unwrap();
    let actions: Vec<&str> = all.iter().map(|e| e.entry.action.as_str()).collect();
    assert!(actions.contains(&"login.succeeded"), "{actions:?}");
    assert!(actions.contains(&"patients.searched"), "{actions:?}");
    let opened = all
        .iter()
        .find(|e| e.entry.action == "patient.opened")
        .expect("patient.opened");
    assert_eq!(opened.entry.patient_id, Some(id.to_string()));
    assert_eq!(opened.entry.actor_username, "operator");
    assert!(opened.entry.actor_roles.contains(&"operator".to_owned()));
    // Details are encrypted and bound to (tenant, seq).
    let searched = all
        .iter()
        .find(|e| e.entry.action == "patients.searched")
        .unwrap();
    let row = audit::audit_row_id(clinic.id, searched.entry.seq);
    let plain = keys
        .decrypt(
            healipro_core::crypto::Field::AuditDetails,
            row,
            searched.details_enc.as_deref().unwrap(),
        )
        .unwrap();
    let details: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(details["kind"], "all");
    // A made-up patient id is not found and logs nothing.
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let before = repo::chain_page(&mut tx, 0, 1000).await.unwrap().len();
    let missing = healipro_core::ids::PatientId::new_random();
    assert!(service::open(&mut tx, &session, missing).await.is_err());
    let after = repo::chain_page(&mut tx, 0, 1000).await.unwrap().len();
    assert_eq!(before, after);
}

#[tokio::test]
async fn periodic_checkpoints_sign_only_chains_that_grew() {
    let db = TestDb::new().await;
    let signer = AuditSigner::generate();
    let a = clinic_with_chain(&db, 3).await;
    let b = db.clinic("bravo", &[Role::Admin], 0).await;
    append_n(&db.app, b.id, 2).await;
    assert_eq!(audit::checkpoint_all(&db.app, &signer).await.unwrap(), 2);
    assert_eq!(audit::checkpoint_all(&db.app, &signer).await.unwrap(), 0);
    append_n(&db.app, a.id, 1).await;
    assert_eq!(audit::checkpoint_all(&db.app, &signer).await.unwrap(), 1);
    let report = verify(&db, a.id, &signer).await;
    assert_eq!((report.first_break, report.checkpoints), (None, 2));
}
