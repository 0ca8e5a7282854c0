//! Every audited action, done for real over HTTP, leaves its entry — with who,
//! what, from which address — and the chain still verifies afterwards.

mod common;

use common::TestServer;
use healipro_core::audit::{self, repo, signing::AuditSigner, Action};
use healipro_core::rbac::Role;
use std::collections::HashSet;

#[tokio::test]
async fn each_action_in_the_list_is_logged_by_the_real_action() {
    let s = TestServer::start().await;
    let clinic =
        s.db.clinic(
            "alpha",
            &[Role::Admin, Role::Operator, Role::Pharmacist, Role::Doctor],
            3,
        )
        .await;
    s.db.owner_exec(&format!(
        "UPDATE platform.tenants SET tier = 'hospital' WHERE id = '{}'",
        clinic.id
    ))
    .await;
    let (_, admin_token) = s.db.login(&clinic, "admin").await;
    let admin = TestServer::cookie(&admin_token);
    let operator = s.login(&clinic, "operator").await;
    let pharmacist = s.login(&clinic, "pharmacist").await;
    // A failed sign-in and a sign-out.
    s.login_attempt("alpha", "operator", "not the password")
        .await;
    let call = |cookie: &str, path: &'static str, args: Vec<(&'static str, String)>| {
        let cookie = cookie.to_owned();
        let s = &s;
        async move {
            let form: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let resp = s.post(path, Some(&cookie), &form).await;
            let status = resp.status();
            let body = resp.text().await.unwrap();
            assert!(status.is_success(), "{path}: {status} {body}");
            body
        }
    };
    let ids = s.patient_ids(&clinic).await;
    call(
        &operator,
        "/api/patients/list",
        vec![("query", "".into()), ("page", "0".into())],
    )
    .await;
    call(&operator, "/api/patients/get", vec![("id", ids[0].clone())]).await;
    let patient = |name: &str| {
        vec![
            ("full_name", name.to_owned()),
            ("father_or_husband_name", String::new()),
            ("sex", "female".into()),
            ("date_of_birth", String::new()),
            ("cnic", "35202-1234567-2".into()),
            ("phone", String::new()),
            ("address", String::new()),
        ]
    };
    let mut register = patient("Ayesha Siddiqui");
    register.push(("register_anyway", "true".into()));
    call(&operator, "/api/patients/register", register).await;
    let mut update = patient("Ayesha Bibi");
    update.insert(0, ("id", ids[0].clone()));
    call(&operator, "/api/patients/update", update).await;
    // A refused action.
    let resp = s
        .post("/api/admin/users/list", Some(&pharmacist), &[])
        .await;
    assert_eq!(resp.status(), 403);
    // Administration.
    call(
        &admin,
        "/api/admin/workstations/save",
        vec![
            ("id", String::new()),
            ("name", "Desk 2".into()),
            ("location", String::new()),
            ("idle_minutes", "10".into()),
        ],
    )
    .await;
    call(
        &admin,
        "/api/admin/settings/save",
        vec![
            ("max_idle_minutes", "30".into()),
            ("default_idle_minutes", "15".into()),
        ],
    )
    .await;
    call(
        &admin,
        "/api/admin/users/create",
        vec![
            ("username", "clerk".into()),
            ("display_name", "Ward Clerk".into()),
            ("roles", "operator".into()),
        ],
    )
    .await;
    let role_id = call(
        &admin,
        "/api/admin/roles/save",
        vec![
            ("id", String::new()),
            ("name", "Reader".into()),
            ("permissions", "patients.read".into()),
        ],
    )
    .await;
    let role_id: String = serde_json::from_str(&role_id).unwrap();
    call(&admin, "/api/admin/roles/delete", vec![("id", role_id)]).await;
    call(
        &admin,
        "/api/admin/users/unlock",
        vec![("username", "operator".into())],
    )
    .await;
    let mut tx = s.db.app.tenant_tx_for(clinic.id).await.unwrap();
    let doctor_like = healipro_core::auth::user_id(&mut tx, "pharmacist")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    call(
        &admin,
        "/api/admin/users/reset-second-factor",
        vec![("id", doctor_like.to_string())],
    )
    .await;
    // The admin's export button.
    call(
        &admin,
        "/api/audit/export",
        vec![("from", String::new()), ("to", String::new())],
    )
    .await;
    // The front desk: the doctor's hours, a walk-in's booking, a booking
    // that arrives.
    let doctors = call(&operator, "/api/appointments/doctors", vec![]).await;
    let doctors: serde_json::Value = serde_json::from_str(&doctors).unwrap();
    let doctor = doctors[0]["id"].as_str().unwrap().to_owned();
    call(
        &operator,
        "/api/appointments/hours",
        vec![
            ("doctor", doctor.clone()),
            ("weekdays", "1,2,3,4,5,6,7".into()),
            ("starts", "00:00".into()),
            ("ends", "23:45".into()),
            ("slot_minutes", "15".into()),
        ],
    )
    .await;
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .with_timezone(&healipro_core::audit::clinic_offset())
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    let slots = call(
        &operator,
        "/api/appointments/slots",
        vec![("doctor", doctor.clone()), ("day", tomorrow)],
    )
    .await;
    let slots: serde_json::Value = serde_json::from_str(&slots).unwrap();
    let starts_at = slots[0]["starts_at"].as_str().unwrap().to_owned();
    let booked = call(
        &operator,
        "/api/appointments/book",
        vec![
            ("patient", ids[1].clone()),
            ("doctor", doctor.clone()),
            ("starts_at", starts_at),
        ],
    )
    .await;
    let booked: serde_json::Value = serde_json::from_str(&booked).unwrap();
    call(
        &operator,
        "/api/appointments/status",
        vec![
            ("id", booked["id"].as_str().unwrap().to_owned()),
            ("status", "arrived".into()),
            ("note", String::new()),
        ],
    )
    .await;
    // The "patients seen" report: each view is logged.
    call(
        &operator,
        "/api/appointments/report",
        vec![("from", String::new()), ("to", String::new())],
    )
    .await;
    call(&operator, "/api/auth/logout", vec![]).await;

    let mut tx = s.db.app.tenant_tx_for(clinic.id).await.unwrap();
    let entries = repo::chain_page(&mut tx, 0, 10_000).await.unwrap();
    tx.commit().await.unwrap();
    let seen: HashSet<&str> = entries.iter().map(|e| e.entry.action.as_str()).collect();
    // Key rotations are operator commands (their entries are checked in the
    // crypto tests); a lockout needs ten failures (covered by the sign-in
    // tests' events); second-factor enrolment by the enrolment flow.
    let pending = [
        Action::KeysRotated,
        Action::AccountLocked,
        Action::SecondFactorEnrolled,
    ];
    let missing: Vec<&str> = Action::ALL
        .iter()
        .filter(|a| !pending.contains(a))
        .map(|a| a.as_str())
        .filter(|a| !seen.contains(a))
        .collect();
    assert!(missing.is_empty(), "not logged: {missing:?}; seen {seen:?}");
    let opened = entries
        .iter()
        .find(|e| e.entry.action == "patient.opened")
        .unwrap();
    assert_eq!(opened.entry.patient_id.as_deref(), Some(ids[0].as_str()));
    assert_eq!(
        opened.entry.ip, "127.0.0.1",
        "the client address is recorded"
    );
    let created = entries
        .iter()
        .find(|e| e.entry.action == "user.created")
        .unwrap();
    assert_eq!(created.entry.actor_username, "admin");
    // The export signed a checkpoint with the server's audit key.
    let public = AuditSigner::from_seed(common::TEST_AUDIT_SEED).public_hex();
    let report = audit::verify_tenant(&s.db.app, clinic.id, &public)
        .await
        .unwrap();
    assert_eq!(report.first_break, None, "{report:?}");
    assert!(report.checkpoints >= 1, "{report:?}");
}
