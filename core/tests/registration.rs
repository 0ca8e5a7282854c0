//! Registration at the front desk (issue 8, point 1) on real PostgreSQL: MR
//! numbers unique and gap-free per clinic under concurrency (a rolled-back
//! registration gives its number back), a configurable prefix, an age instead
//! of a date of birth, and the duplicate warning on a very similar name,
//! father's name and age — never on another clinic's patient.

use chrono::{Datelike, Months};
use healipro_core::auth::Session;
use healipro_core::patients::model::today;
use healipro_core::patients::service::{self, DuplicateReason, PatientEdit, Registration};
use healipro_core::patients::{Patient, PatientQuery};
use healipro_core::rbac::Role;
use healipro_core::testing::{TestClinic, TestDb};
use healipro_core::Error;
use sqlx::Connection;

fn edit(name: &str, father: &str, dob: &str, age: &str) -> PatientEdit {
    PatientEdit {
        full_name: name.into(),
        father_or_husband_name: father.into(),
        sex: "male".into(),
        date_of_birth: dob.into(),
        age: age.into(),
        ..PatientEdit::default()
    }
}

async fn try_register(
    db: &TestDb,
    clinic: &TestClinic,
    session: &Session,
    e: &PatientEdit,
    anyway: bool,
) -> Result<Registration, Error> {
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let r = service::register(&mut tx, session, e, anyway).await?;
    tx.commit().await.unwrap();
    Ok(r)
}

async fn register(db: &TestDb, clinic: &TestClinic, session: &Session, e: &PatientEdit) -> Patient {
    match try_register(db, clinic, session, e, true).await.unwrap() {
        Registration::Registered(p) => p,
        Registration::PossibleDuplicates(_) => panic!("register anyway warned"),
    }
}

/// A connection as the owner, to read what a test checks.
async fn owner(db: &TestDb) -> sqlx::PgConnection {
    sqlx::PgConnection::connect(&db.owner_url).await.unwrap()
}

/// The number after the prefix.
fn number(mr: &str) -> u64 {
    mr.trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap()
}

#[tokio::test]
async fn mr_numbers_are_unique_and_gap_free_under_concurrency() {
    let db = TestDb::new().await;
    // 20 seeded patients (MR-000001…MR-000020): registration continues after them.
    let a = db.clinic("mr-a", &[Role::Operator], 20).await;
    let b = db.clinic("mr-b", &[Role::Operator], 0).await;
    let (session, _) = db.login(&a, "operator").await;
    let (session_b, _) = db.login(&b, "operator").await;

    // 8 desks register 5 patients each at once; every third registration of
    // a desk rolls back after taking its number. Clinic B registers meanwhile.
    let mut tasks = Vec::new();
    for desk in 0..8 {
        let (db_app, clinic, session) = (db.app.clone(), a.id, session.clone());
        tasks.push(tokio::spawn(async move {
            let mut kept = Vec::new();
            for i in 0..5 {
                let mut tx = db_app.tenant_tx_for(clinic).await.unwrap();
                let e = edit(&format!("Desk{desk} Patient{i}"), "", "", "");
                let Registration::Registered(p) = service::register(&mut tx, &session, &e, true)
                    .await
                    .unwrap()
                else {
                    panic!("warned")
                };
                if i % 3 == 2 {
                    tx.rollback().await.unwrap();
                } else {
                    tx.commit().await.unwrap();
                    kept.push(p.mr_number);
                }
            }
            kept
        }));
    }
    for i in 0..5 {
        register(&db, &b, &session_b, &edit(&format!("B{i}"), "", "", "")).await;
    }
    let mut numbers: Vec<u64> = Vec::new();
    for t in tasks {
        numbers.extend(t.await.unwrap().iter().map(|m| number(m)));
    }
    numbers.sort_unstable();
    // 8 desks x (5 - 1 rolled back) = 32 kept, numbered 21..=52 with no gap.
    assert_eq!(numbers, (21..=52).collect::<Vec<u64>>());

    // Clinic B counts on its own.
    let mine: Vec<String> = sqlx::query_scalar(
        "SELECT mr_number FROM clinic.patients WHERE tenant_id = $1 ORDER BY mr_number",
    )
    .bind(b.id)
    .fetch_all(&mut owner(&db).await)
    .await
    .unwrap();
    assert_eq!(
        mine,
        [
            "MR-000001",
            "MR-000002",
            "MR-000003",
            "MR-000004",
            "MR-000005"
        ]
    );
}

#[tokio::test]
async fn the_prefix_is_the_clinics_own_and_the_count_continues() {
    let db = TestDb::new().await;
    let a = db
        .clinic("prefix-a", &[Role::Admin, Role::Operator], 3)
        .await;
    let b = db
        .clinic("prefix-b", &[Role::Admin, Role::Operator], 3)
        .await;
    let (admin, _) = db.login(&a, "admin").await;
    let (operator, _) = db.login(&a, "operator").await;

    let mut tx = db.app.tenant_tx_for(a.id).await.unwrap();
    // The operator may not change it; bad prefixes are refused with a reason.
    assert!(matches!(
        service::set_mr_prefix(&mut tx, &operator, "HP").await,
        Err(Error::Forbidden)
    ));
    tx.rollback().await.unwrap();
    for bad in ["", "H1", "HOSPITAL", "H P", "-", "HP--", "ہسپتال"] {
        let mut tx = db.app.tenant_tx_for(a.id).await.unwrap();
        match service::set_mr_prefix(&mut tx, &admin, bad).await {
            Err(Error::Validation { field, .. }) => assert_eq!(field, "mr_prefix", "{bad:?}"),
            other => panic!("{bad:?} gave {other:?}"),
        }
    }
    let mut tx = db.app.tenant_tx_for(a.id).await.unwrap();
    assert_eq!(service::mr_prefix(&mut tx, &admin).await.unwrap(), "MR-");
    assert_eq!(
        service::set_mr_prefix(&mut tx, &admin, " hp- ")
            .await
            .unwrap(),
        "HP-"
    );
    tx.commit().await.unwrap();

    let p = register(&db, &a, &operator, &edit("Hina Prefixwali", "", "", "")).await;
    assert_eq!(p.mr_number, "HP-000004");
    // Digits alone search this clinic's prefix; the prefix typed in any case too.
    for typed in ["000004", "hp-000004", "HP-00000"] {
        let mut tx = db.app.tenant_tx_for(a.id).await.unwrap();
        let found = service::list(&mut tx, &operator, typed, 0).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            found.patients.iter().map(|p| p.id).collect::<Vec<_>>(),
            [p.id],
            "{typed:?}"
        );
    }
    assert_eq!(
        PatientQuery::parse("000004"),
        PatientQuery::MrDigits("000004".into())
    );

    // Clinic B keeps MR-.
    let (operator_b, _) = db.login(&b, "operator").await;
    let q = register(&db, &b, &operator_b, &edit("Other Clinic", "", "", "")).await;
    assert_eq!(q.mr_number, "MR-000004");

    // The change is in the audit log.
    let logged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM clinic.audit_log WHERE tenant_id = $1 AND action = 'settings.changed'",
    )
    .bind(a.id)
    .fetch_one(&mut owner(&db).await)
    .await
    .unwrap();
    assert_eq!(logged, 1);
}

#[tokio::test]
async fn an_age_is_kept_as_an_estimated_date_of_birth() {
    let db = TestDb::new().await;
    let a = db.clinic("age-a", &[Role::Operator], 0).await;
    let (session, _) = db.login(&a, "operator").await;
    let today = today();

    let p = register(&db, &a, &session, &edit("Bashir Ahmed", "", "", "34")).await;
    assert!(p.date_of_birth_estimated);
    assert_eq!(
        p.date_of_birth,
        today.checked_sub_months(Months::new(34 * 12))
    );
    assert_eq!(p.age_years(today), Some(34));

    let baby = register(&db, &a, &session, &edit("Baby Bashir", "", "", "8 months")).await;
    assert!(baby.date_of_birth_estimated);
    assert_eq!(baby.age_months(today), Some(8));

    // An exact date is not estimated; an age that agrees with it is accepted.
    let dob = today.checked_sub_months(Months::new(40 * 12)).unwrap();
    let iso = dob.format("%Y-%m-%d").to_string();
    let exact = register(&db, &a, &session, &edit("Exact Date", "", &iso, "40")).await;
    assert!(!exact.date_of_birth_estimated);
    assert_eq!(exact.date_of_birth, Some(dob));

    // Refused, naming the field, nothing saved.
    for (dob, age) in [
        ("", "abc"),
        ("", "131"),
        ("", "-3"),
        (iso.as_str(), "41"),
        ("", "12 weeks"),
    ] {
        match try_register(&db, &a, &session, &edit("Refused Age", "", dob, age), true).await {
            Err(Error::Validation { field, message }) => {
                assert_eq!(field, "age", "{dob:?} {age:?}");
                assert!(!message.is_empty());
            }
            other => panic!("{dob:?} {age:?} gave {other:?}"),
        }
    }
    let mut tx = db.app.tenant_tx_for(a.id).await.unwrap();
    let found = service::list(&mut tx, &session, "Refused Age", 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(found.patients.iter().all(|p| p.full_name != "Refused Age"));
    // Editing back to an exact date clears the estimate.
    let mut tx = db.app.tenant_tx_for(a.id).await.unwrap();
    let d = format!("{}-01-15", today.year() - 30);
    let edited = service::update(&mut tx, &session, p.id, &edit("Bashir Ahmed", "", &d, ""))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(!edited.date_of_birth_estimated);
}

#[tokio::test]
async fn a_similar_name_father_and_age_is_a_possible_duplicate() {
    let db = TestDb::new().await;
    let a = db.clinic("dup-a", &[Role::Operator], 50).await;
    let b = db.clinic("dup-b", &[Role::Operator], 50).await;
    let (session, _) = db.login(&a, "operator").await;
    let (session_b, _) = db.login(&b, "operator").await;
    let on_file = register(
        &db,
        &a,
        &session,
        &edit("Muhammad Ali Khan", "Ghulam Rasool Khan", "", "46"),
    )
    .await;
    // Clinic B has the same person on its books: never shown to A.
    let in_b = register(
        &db,
        &b,
        &session_b,
        &edit("Muhammad Ali Khan", "Ghulam Rasool Khan", "", "46"),
    )
    .await;

    // A walk-in typed differently: spelling variant, typo, age guessed.
    let walk_in = edit("Mohamad Aly Khan", "Gulam Rasul Khan", "", "45");
    let Registration::PossibleDuplicates(same) = try_register(&db, &a, &session, &walk_in, false)
        .await
        .unwrap()
    else {
        panic!("no duplicate warning for a very similar name, father and age");
    };
    assert_eq!(same.len(), 1, "{same:?}");
    assert_eq!(same[0].patient.id, on_file.id);
    assert_ne!(same[0].patient.id, in_b.id);
    assert_eq!(same[0].reason, DuplicateReason::SimilarName);

    // Not the same person: another father, or an age far apart, or no
    // father's name to compare.
    for other in [
        edit("Mohamad Aly Khan", "Abdul Rehman", "", "45"),
        edit("Mohamad Aly Khan", "Gulam Rasul Khan", "", "12"),
        edit("Mohamad Aly Khan", "", "", "45"),
        edit("Bilal Khan", "Gulam Rasul Khan", "", "45"),
    ] {
        match try_register(&db, &a, &session, &other, false)
            .await
            .unwrap()
        {
            Registration::Registered(_) => {}
            Registration::PossibleDuplicates(same) => panic!(
                "{} / {} warned: {same:?}",
                other.full_name, other.father_or_husband_name
            ),
        }
    }
    // "Register anyway" registers.
    match try_register(&db, &a, &session, &walk_in, true)
        .await
        .unwrap()
    {
        Registration::Registered(p) => assert_ne!(p.id, on_file.id),
        Registration::PossibleDuplicates(_) => panic!("register anyway warned"),
    }
}
