//! Tenancy tests on real PostgreSQL. Each security property has a companion test
//! that breaks it on purpose (in that test's private database) and asserts the
//! check goes red — proof the check can fail.

use healipro_core::db::selftest::{self, Check};
use healipro_core::ids::PatientId;
use healipro_core::patients::{self, repo as patients_repo, PatientQuery};
use healipro_core::rbac::Role;
use healipro_core::testing::{TestClinic, TestDb};
use healipro_core::Error;
use sqlx::Connection;

async fn two_clinics(db: &TestDb) -> (TestClinic, TestClinic) {
    let a = db
        .clinic("clinica", &[Role::Operator, Role::Doctor, Role::Admin], 40)
        .await;
    let b = db
        .clinic("clinicb", &[Role::Operator, Role::Doctor, Role::Admin], 30)
        .await;
    // Give every clinic table rows in both tenants, through the real code
    // paths where there is one (a failed and a good login: throttle row, sign-in
    // events, session; a draft; a workstation; settings; a custom role held by
    // a user; a refused permission check; recovery codes).
    use healipro_core::auth::{workstations, ClientInfo, Credentials};
    for clinic in [&a, &b] {
        // Signed in before the failed login below, which must stay recorded
        // (a successful sign-in clears the throttle row).
        let (doctor, _) = db.login(clinic, "doctor").await;
        let wrong = Credentials {
            clinic_code: clinic.code.clone(),
            username: "operator".into(),
            password: "not the password at all".to_owned().into(),
        };
        let (session, _) = db.login(clinic, "operator").await;
        assert!(db
            .auth
            .login(&db.app, &wrong, &ClientInfo::default())
            .await
            .is_err());
        let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
        healipro_core::drafts::save(&mut tx, &session, "patient-edit:x1", "{}")
            .await
            .unwrap();
        let ws = workstations::WorkstationInput {
            name: "Front desk".into(),
            location: String::new(),
            idle_timeout_secs: 600,
        };
        workstations::create(&mut tx, &ws).await.unwrap();
        workstations::update_settings(&mut tx, &workstations::Settings::default())
            .await
            .unwrap();
        // A custom role held by the operator, and a recorded refusal.
        use healipro_core::auth::{events, users};
        use healipro_core::rbac::Permission;
        db.owner_exec(&format!(
            "UPDATE platform.tenants SET tier = 'hospital' WHERE id = '{}'",
            clinic.id
        ))
        .await;
        let (admin, _) = db.login(clinic, "admin").await;
        let role = users::save_role(
            &mut tx,
            &admin,
            None,
            "Ward clerk",
            [Permission::PatientsRead].into_iter().collect(),
        )
        .await
        .unwrap();
        let assignment = users::RoleAssignment {
            roles: vec![Role::Operator],
            custom_roles: vec![role],
        };
        users::set_roles(&mut tx, &admin, session.user_id, &assignment)
            .await
            .unwrap();
        events::record_denial(&mut tx, &session, Permission::UsersManage)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        db.owner_exec(&format!(
            "INSERT INTO clinic.recovery_codes (tenant_id, user_id, code_hash)
             SELECT tenant_id, id, sha256(id::text::bytea) FROM clinic.users WHERE tenant_id = '{}'",
            clinic.id
        ))
        .await;
        // Tenant keys exist since the clinic was created; a DEK rotation
        // leaves a key_rotations row (and re-encrypts the patients' fields).
        use healipro_core::crypto::rotation;
        let done = rotation::rotate_dek(&db.app, clinic.id, Default::default(), |_| {})
            .await
            .unwrap();
        assert!(matches!(done, rotation::RotateOutcome::Finished { .. }));
        // The front desk: the doctor's hours and leave, a booking and a
        // walk-in (appointments, their events, the day's token counter).
        use healipro_core::scheduling::{service as desk, Exception, WeeklyHours};
        let operator = session.clone();
        let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
        let day = desk::clinic_day(chrono::Utc::now()) + chrono::Duration::days(7);
        use chrono::Datelike;
        let nine = chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let hours = [WeeklyHours {
            weekday: day.weekday().number_from_monday() as u8,
            starts: nine,
            ends: chrono::NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
            slot_minutes: 15,
            fee_pkr: None,
        }];
        desk::set_hours(&mut tx, &operator, doctor.user_id, &hours)
            .await
            .unwrap();
        let leave = Exception {
            doctor: Some(doctor.user_id),
            first_day: day + chrono::Duration::days(1),
            last_day: day + chrono::Duration::days(2),
            reason: "Conference".into(),
        };
        desk::add_exception(&mut tx, &operator, &leave)
            .await
            .unwrap();
        let patients = patients_repo::search(&mut tx, &PatientQuery::All, 2, 0)
            .await
            .unwrap();
        desk::book(
            &mut tx,
            &operator,
            patients[0].id,
            doctor.user_id,
            desk::clinic_instant(day, nine),
        )
        .await
        .unwrap();
        desk::walk_in(&mut tx, &operator, patients[1].id, doctor.user_id)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    (a, b)
}

fn failures(checks: &[Check]) -> Vec<String> {
    checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect()
}

fn assert_all_pass(checks: &[Check]) {
    assert!(!checks.is_empty(), "no checks ran");
    let failed = failures(checks);
    assert!(failed.is_empty(), "failed checks:\n{}", failed.join("\n"));
}

fn assert_fails(checks: &[Check], name_part: &str, detail_part: &str) {
    assert!(
        checks
            .iter()
            .any(|c| !c.ok && c.name.contains(name_part) && c.detail.contains(detail_part)),
        "expected a failing check `{name_part}` mentioning `{detail_part}`, got:\n{:#?}",
        checks
    );
}

#[tokio::test]
async fn catalog_meta_test_passes_on_the_migrated_schema() {
    let db = TestDb::new().await;
    let role = db.app.role_name().await.unwrap();
    assert_eq!(role, "healipro_app");
    let checks = selftest::catalog(&db.owner, &role).await.unwrap();
    assert_all_pass(&checks);
    // Every clinic table is covered by name.
    for table in selftest::clinic_tables(&db.owner).await.unwrap() {
        assert!(checks
            .iter()
            .any(|c| c.name == format!("catalog: clinic.{table} tenancy shape")));
    }
}

#[tokio::test]
async fn catalog_meta_test_fails_when_force_rls_is_dropped() {
    let db = TestDb::new().await;
    db.owner_exec("ALTER TABLE clinic.patients NO FORCE ROW LEVEL SECURITY")
        .await;
    let checks = selftest::catalog(&db.owner, "healipro_app").await.unwrap();
    assert_fails(&checks, "clinic.patients", "not FORCEd");
}

#[tokio::test]
async fn catalog_meta_test_fails_for_a_table_without_tenancy() {
    let db = TestDb::new().await;
    db.owner_exec("CREATE TABLE clinic.forgotten (id uuid PRIMARY KEY, note text)")
        .await;
    let checks = selftest::catalog(&db.owner, "healipro_app").await.unwrap();
    assert_fails(
        &checks,
        "clinic.forgotten",
        "no `tenant_id uuid NOT NULL` column",
    );
    assert_fails(&checks, "clinic.forgotten", "not ENABLEd");
    assert_fails(&checks, "clinic.forgotten", "no PERMISSIVE policy");
    assert_fails(&checks, "clinic.forgotten", "not led by tenant_id");
}

#[tokio::test]
async fn catalog_meta_test_fails_for_a_wrong_policy_or_a_restrictive_one() {
    let db = TestDb::new().await;
    db.owner_exec(
        "DROP POLICY tenant_isolation ON clinic.users;
         CREATE POLICY anything ON clinic.users FOR ALL USING (true);
         CREATE POLICY narrow ON clinic.patients AS RESTRICTIVE FOR SELECT USING (true);",
    )
    .await;
    let checks = selftest::catalog(&db.owner, "healipro_app").await.unwrap();
    assert_fails(&checks, "clinic.users", "no PERMISSIVE policy");
    assert_fails(&checks, "clinic.patients", "RESTRICTIVE");
}

#[tokio::test]
async fn catalog_meta_test_fails_when_the_app_role_gains_table_powers() {
    let db = TestDb::new().await;
    db.owner_exec("GRANT TRUNCATE, TRIGGER ON clinic.patients TO healipro_app")
        .await;
    let checks = selftest::catalog(&db.owner, "healipro_app").await.unwrap();
    assert_fails(&checks, "no TRUNCATE", "clinic.patients: TRUNCATE");
    assert_fails(&checks, "no TRUNCATE", "clinic.patients: TRIGGER");
}

#[tokio::test]
async fn definer_functions_run_as_the_narrow_role_and_the_check_goes_red_otherwise() {
    let db = TestDb::new().await;
    let checks = selftest::catalog(&db.owner, "healipro_app").await.unwrap();
    let definers: Vec<_> = checks
        .iter()
        .filter(|c| c.name.starts_with("catalog: SECURITY DEFINER"))
        .collect();
    assert!(
        definers
            .iter()
            .any(|c| c.name.contains("patient_name_matches")
                && c.ok
                && c.detail.contains("healipro_definer")),
        "{definers:#?}"
    );
    // The narrow role reads names only: not CNIC ciphertexts, not other tables.
    let mut conn = sqlx::PgConnection::connect(&db.owner_url).await.unwrap();
    let reach: (bool, bool, bool) = sqlx::query_as(
        "SELECT has_column_privilege('healipro_definer', 'clinic.patients', 'name_norm', 'SELECT'),
                has_column_privilege('healipro_definer', 'clinic.patients', 'cnic_enc', 'SELECT'),
                has_table_privilege('healipro_definer', 'clinic.users', 'SELECT')",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(reach, (true, false, false));

    // Run as the migration owner instead, or open to PUBLIC: red.
    db.owner_exec(
        "ALTER FUNCTION clinic.patient_name_matches(text, text, bigint, bigint) OWNER TO healipro_owner;
         GRANT EXECUTE ON FUNCTION clinic.patient_name_matches(text, text, bigint, bigint) TO PUBLIC;",
    )
    .await;
    let checks = selftest::catalog(&db.owner, "healipro_app").await.unwrap();
    assert_fails(&checks, "patient_name_matches", "a LOGIN role");
    assert_fails(&checks, "patient_name_matches", "owns tables or schemas");
    assert_fails(&checks, "patient_name_matches", "may write");
    assert_fails(&checks, "patient_name_matches", "PUBLIC may execute it");
}

#[tokio::test]
async fn catalog_meta_test_checks_role_attributes() {
    let db = TestDb::new().await;
    // The owner role has CREATEDB and BYPASSRLS: checking it as if it were the
    // runtime role must fail on exactly those powers.
    let checks = selftest::catalog(&db.owner, "healipro_owner")
        .await
        .unwrap();
    assert_fails(&checks, "NOBYPASSRLS", "BYPASSRLS");
    assert_fails(&checks, "NOBYPASSRLS", "CREATEDB");
    assert_fails(&checks, "owns nothing", "table clinic.patients");
}

#[tokio::test]
async fn fail_closed_without_a_tenant() {
    let db = TestDb::new().await;
    two_clinics(&db).await;
    let checks = selftest::fail_closed(&db.app, &db.owner).await.unwrap();
    assert_all_pass(&checks);
    assert!(
        checks.iter().all(|c| !c.detail.contains("vacuous")),
        "{checks:#?}"
    );
}

#[tokio::test]
async fn fail_closed_check_goes_red_when_rls_is_disabled() {
    let db = TestDb::new().await;
    two_clinics(&db).await;
    db.owner_exec("ALTER TABLE clinic.patients DISABLE ROW LEVEL SECURITY")
        .await;
    let checks = selftest::fail_closed(&db.app, &db.owner).await.unwrap();
    assert_fails(
        &checks,
        "clinic.patients",
        "transaction without tenant: 70 rows",
    );
}

#[tokio::test]
async fn cross_tenant_probes_pass_for_every_table() {
    let db = TestDb::new().await;
    two_clinics(&db).await;
    let checks = selftest::cross_tenant(&db.app, &db.owner).await.unwrap();
    assert_all_pass(&checks);
    assert_eq!(
        checks.len(),
        selftest::clinic_tables(&db.owner).await.unwrap().len()
    );
    assert!(
        checks.iter().all(|c| !c.detail.contains("vacuous")),
        "{checks:#?}"
    );
}

#[tokio::test]
async fn cross_tenant_probes_go_red_when_a_policy_is_opened() {
    let db = TestDb::new().await;
    two_clinics(&db).await;
    db.owner_exec(
        "DROP POLICY tenant_isolation ON clinic.patients;
         CREATE POLICY leaky ON clinic.patients FOR ALL USING (true) WITH CHECK (true);",
    )
    .await;
    let checks = selftest::cross_tenant(&db.app, &db.owner).await.unwrap();
    assert_fails(&checks, "clinic.patients", "rows of other tenants");
    assert_fails(&checks, "clinic.patients", "fetched B's row by id");
    assert_fails(&checks, "clinic.patients", "insert into B");
}

#[tokio::test]
async fn no_tenant_leaks_through_the_pool() {
    let db = TestDb::new().await;
    let checks = selftest::pool_hygiene(&db.app).await.unwrap();
    assert_eq!(checks.len(), 4);
    assert_all_pass(&checks);
}

#[tokio::test]
async fn the_whole_selftest_passes_on_a_seeded_database() {
    let db = TestDb::new().await;
    two_clinics(&db).await;
    let report = selftest::run(&db.app, &db.owner).await.unwrap();
    assert!(report.passed(), "{:#?}", report.failures());
}

#[tokio::test]
async fn services_show_nothing_of_another_clinic() {
    let db = TestDb::new().await;
    let (a, b) = two_clinics(&db).await;
    let (session_a, _) = db.login(&a, "operator").await;

    // B's patients, seen from B's own side.
    let mut tx_b = db.app.tenant_tx_for(b.id).await.unwrap();
    let b_patients = patients_repo::search(&mut tx_b, &PatientQuery::All, 1000, 0)
        .await
        .unwrap();
    tx_b.rollback().await.unwrap();
    assert_eq!(b_patients.len(), 30);

    let mut tx = db.app.tenant_tx_for(a.id).await.unwrap();
    // List: every page of A holds only A's patients (40 of them).
    let mut seen = Vec::new();
    for page in 0.. {
        let p = patients::service::list(&mut tx, &session_a, "", page)
            .await
            .unwrap();
        seen.extend(p.patients.into_iter().map(|p| p.id));
        if !p.has_more {
            break;
        }
    }
    assert_eq!(seen.len(), 40);
    assert!(b_patients.iter().all(|bp| !seen.contains(&bp.id)));

    // Search: an MR number both clinics use finds only A's patient; a name
    // prefix of B's patient finds none of B's.
    let mr = patients::service::list(&mut tx, &session_a, "MR-000001", 0)
        .await
        .unwrap();
    assert_eq!(mr.patients.len(), 1);
    assert!(seen.contains(&mr.patients[0].id));
    for bp in b_patients.iter().take(10) {
        let found = patients::service::list(&mut tx, &session_a, &bp.full_name, 0)
            .await
            .unwrap();
        assert!(found.patients.iter().all(|p| p.id != bp.id));
    }

    // By id: B's patient is exactly as unknown as a made-up id.
    for id in [b_patients[0].id, PatientId::new_random()] {
        match patients::service::open(&mut tx, &session_a, id).await {
            Err(Error::NotFound) => {}
            other => panic!("expected NotFound, got {other:?}"),
        }
    }
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn a_session_token_naming_another_tenant_authenticates_nowhere() {
    use healipro_core::auth::jwt::Claims;
    let db = TestDb::new().await;
    let (a, b) = two_clinics(&db).await;
    let (session, token) = db.login(&a, "operator").await;
    assert!(db.auth.begin_authenticated(&db.app, &token).await.is_ok());
    // Even a correctly signed token (as if the signing key leaked) that moves
    // A's session into tenant B finds nothing there: sessions are tenant rows.
    let moved = Claims::new(b.id, session.user_id, session.id, 600);
    let forged = db.auth.keys().sign(&moved).await.unwrap();
    assert!(matches!(
        db.auth.begin_authenticated(&db.app, &forged).await,
        Err(Error::Unauthenticated)
    ));
    assert!(matches!(
        db.auth.begin_authenticated(&db.app, "garbage").await,
        Err(Error::Unauthenticated)
    ));
}

#[tokio::test]
async fn logout_revokes_the_session_at_once() {
    let db = TestDb::new().await;
    let (a, _) = two_clinics(&db).await;
    let (_, token) = db.login(&a, "operator").await;
    db.auth.logout(&db.app, &token).await.unwrap();
    assert!(matches!(
        db.auth.begin_authenticated(&db.app, &token).await,
        Err(Error::Unauthenticated)
    ));
}

#[tokio::test]
async fn failed_logins_say_the_same_thing_whatever_was_wrong() {
    use healipro_core::auth::{ClientInfo, Credentials, LOGIN_FAILED};
    let db = TestDb::new().await;
    let (a, _) = two_clinics(&db).await;
    let cases = [
        (a.code.as_str(), "operator", "wrong password here"),
        (
            a.code.as_str(),
            "nobody",
            healipro_core::testing::TEST_PASSWORD,
        ),
        (
            "noclinic",
            "operator",
            healipro_core::testing::TEST_PASSWORD,
        ),
        ("!!", "operator", healipro_core::testing::TEST_PASSWORD),
    ];
    for (clinic, user, pw) in cases {
        let creds = Credentials {
            clinic_code: clinic.into(),
            username: user.into(),
            password: pw.to_owned().into(),
        };
        match db.auth.login(&db.app, &creds, &ClientInfo::default()).await {
            Err(Error::Validation { message, .. }) => assert_eq!(message, LOGIN_FAILED),
            other => panic!("{clinic}/{user}: expected the login failure, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn permission_checks_follow_the_role_table() {
    use healipro_core::rbac::Permission;
    let db = TestDb::new().await;
    let (a, _) = two_clinics(&db).await;
    let (doctor, _) = db.login(&a, "doctor").await;
    let (operator, _) = db.login(&a, "operator").await;
    assert!(doctor.require(Permission::EncountersRead).is_ok());
    assert!(matches!(
        operator.require(Permission::EncountersRead),
        Err(Error::Forbidden)
    ));
}
