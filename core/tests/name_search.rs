//! Typo- and transliteration-tolerant name search (issue 8, point 2) on real
//! PostgreSQL: spelling variants and typos find the patient, the exact name
//! ranks first, MR/CNIC/phone still work, and another clinic's patient with
//! the same name never comes back (neither from the search nor from the
//! ranking function that runs past row-level security).

use healipro_core::auth::Session;
use healipro_core::patients::repo::{self, NewPatient};
use healipro_core::patients::service::{self, PatientEdit, Registration};
use healipro_core::patients::{names, Cnic, Patient, PatientQuery, Phone, Sex};
use healipro_core::rbac::Role;
use healipro_core::testing::{TestClinic, TestDb};
use sqlx::Connection;
use std::sync::atomic::{AtomicUsize, Ordering};

/// MR numbers unique across the clinics of a test.
static NEXT_MR: AtomicUsize = AtomicUsize::new(1);

fn patient(mr: usize, name: &str) -> NewPatient {
    NewPatient {
        mr_number: format!("MR-9{mr:05}"),
        full_name: name.to_owned(),
        father_or_husband_name: "Ghulam Rasool".to_owned(),
        sex: Sex::Male,
        date_of_birth: None,
        date_of_birth_estimated: false,
        cnic: None,
        phone: None,
        address: None,
    }
}

/// Adds patients with these names to the clinic; returns their ids in order.
async fn add(
    db: &TestDb,
    clinic: &TestClinic,
    names: &[&str],
) -> Vec<healipro_core::ids::PatientId> {
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let new: Vec<NewPatient> = names
        .iter()
        .map(|n| patient(NEXT_MR.fetch_add(1, Ordering::Relaxed), n))
        .collect();
    let ids = repo::insert_many(&mut tx, &new).await.unwrap();
    tx.commit().await.unwrap();
    ids
}

async fn search(db: &TestDb, clinic: &TestClinic, text: &str, limit: u32) -> Vec<Patient> {
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let found = repo::search(&mut tx, &PatientQuery::parse(text), limit, 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    found
}

fn names_of(found: &[Patient]) -> Vec<&str> {
    found.iter().map(|p| p.full_name.as_str()).collect()
}

/// Two clinics with 300 generated patients each and the same named patients
/// in both (so every name found in one clinic also exists in the other).
async fn two_clinics() -> (TestDb, TestClinic, TestClinic) {
    let db = TestDb::new().await;
    let a = db.clinic("names-a", &[Role::Operator], 300).await;
    let b = db.clinic("names-b", &[Role::Operator], 300).await;
    let named = [
        "Muhammad Ali",
        "Mohammad Ali",
        "Muhammad Ali Khan",
        "Sayed Hassan",
        "Ali Raza",
        "Fatima Bibi",
    ];
    add(&db, &a, &named).await;
    add(&db, &b, &named).await;
    (db, a, b)
}

#[tokio::test]
async fn variants_and_typos_find_the_patient() {
    let (db, a, _b) = two_clinics().await;
    let cases = [
        ("mohamad ali", "Muhammad Ali"),
        ("Muhamad Alli", "Muhammad Ali"),
        ("syed hasan", "Sayed Hassan"),
        ("Syd. Hasan", "Sayed Hassan"),
        ("fatimah bibi", "Fatima Bibi"),
        ("Fatma Bibbi", "Fatima Bibi"),
        ("ali raza", "Ali Raza"),
        ("raza", "Ali Raza"),
    ];
    for (typed, want) in cases {
        let found = search(&db, &a, typed, 26).await;
        assert!(
            names_of(&found).contains(&want),
            "{typed:?} did not find {want:?}: {:?}",
            names_of(&found)
        );
    }
}

#[tokio::test]
async fn ranking_puts_the_exact_name_first_and_m_dot_ali_high() {
    let (db, a, _b) = two_clinics().await;
    let found = search(&db, &a, "Muhammad Ali", 26).await;
    assert_eq!(
        names_of(&found)[..3],
        ["Muhammad Ali", "Mohammad Ali", "Muhammad Ali Khan"],
        "exact name, then the same name spelled otherwise, then longer names"
    );
    let found = search(&db, &a, "mohammad ali", 26).await;
    assert_eq!(names_of(&found)[..2], ["Mohammad Ali", "Muhammad Ali"]);

    let found = search(&db, &a, "M. Ali", 26).await;
    let top3 = &names_of(&found)[..3.min(found.len())];
    assert!(
        top3.contains(&"Muhammad Ali"),
        "M. Ali should rank Muhammad Ali in the top 3: {top3:?}"
    );
}

#[tokio::test]
async fn another_clinics_patient_with_the_same_name_never_comes_back() {
    let (db, a, b) = two_clinics().await;
    // B has many more patients of that exact name than A.
    let b_ids = add(&db, &b, &["Muhammad Ali"; 30]).await;
    let mut tx = db.app.tenant_tx_for(b.id).await.unwrap();
    let b_all: Vec<_> = repo::search(&mut tx, &PatientQuery::parse("muhammad ali"), 400, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    tx.commit().await.unwrap();
    assert!(b_ids.iter().all(|id| b_all.contains(id)));

    for typed in ["muhammad ali", "mohamad ali", "M. Ali", "ali"] {
        let found = search(&db, &a, typed, 400).await;
        assert!(!found.is_empty(), "{typed:?}");
        for p in &found {
            assert!(!b_all.contains(&p.id), "{typed:?} returned B's {p:?}");
        }
    }
    // A page is filled with A's patients: B's 31 exact matches take no place
    // in A's ranking (A has three names matching "muhammad ali").
    let found = search(&db, &a, "muhammad ali", 3).await;
    assert_eq!(
        names_of(&found),
        ["Muhammad Ali", "Mohammad Ali", "Muhammad Ali Khan"]
    );

    // The ranking function itself (it runs as its owner, past row-level
    // security) answers only with the transaction's tenant's patients.
    let mut conn = sqlx::PgConnection::connect(&db.app_url).await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT clinic.set_tenant($1)")
        .bind(a.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT patient_id FROM clinic.patient_name_matches('muhammad ali', 'muhammad ali', 1000, 0)",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert!(ids.len() >= 3, "{ids:?}");
    for id in &ids {
        assert!(
            !b_all.iter().any(|b| b.as_uuid() == *id),
            "the ranking function returned B's patient {id}"
        );
    }
    tx.rollback().await.unwrap();
    // Without a tenant it returns nothing (fail closed).
    let none: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT patient_id FROM clinic.patient_name_matches('muhammad ali', 'muhammad ali', 1000, 0)",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(none.is_empty(), "{none:?}");
}

#[tokio::test]
async fn identifiers_and_mr_numbers_still_work() {
    let (db, a, b) = two_clinics().await;
    let (session, _) = db.login(&a, "operator").await;
    let registered = register(&db, &a, &session, "Mohammed Aslam").await;
    let (session_b, _) = db.login(&b, "operator").await;
    register(&db, &b, &session_b, "Mohammed Aslam").await;

    for typed in [
        "35202-7654321-3",
        "3520276543213",
        "0321-7654321",
        "+92 321 7654321",
        registered.mr_number.as_str(),
        "muhammad aslam",
    ] {
        let found = search(&db, &a, typed, 26).await;
        assert!(
            found.iter().any(|p| p.id == registered.id),
            "{typed:?}: {:?}",
            names_of(&found)
        );
        assert!(
            found
                .iter()
                .all(|p| p.full_name != "Mohammed Aslam" || p.id == registered.id),
            "{typed:?} returned B's patient"
        );
    }
    assert_eq!(
        registered.cnic,
        Some(Cnic::parse("35202-7654321-3").unwrap())
    );
    assert_eq!(registered.phone, Some(Phone::parse("03217654321").unwrap()));

    // The service logs the search and pages as before.
    let mut tx = db.app.tenant_tx_for(a.id).await.unwrap();
    let page = service::list(&mut tx, &session, "mohamad ali", 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let top2 = names_of(&page.patients[..2]);
    assert!(top2.contains(&"Muhammad Ali"), "{top2:?}");
}

/// The registration form for `name`, the rest filled in.
fn edit_for(name: &str) -> PatientEdit {
    PatientEdit {
        full_name: name.into(),
        father_or_husband_name: "Ghulam Rasool".into(),
        sex: "male".into(),
        date_of_birth: "1980-02-03".into(),
        cnic: "35202-7654321-3".into(),
        phone: "0321-7654321".into(),
        address: "House 77, Street 9, Satellite Town, Quetta".into(),
        age: String::new(),
    }
}

async fn register(db: &TestDb, clinic: &TestClinic, session: &Session, name: &str) -> Patient {
    let edit = edit_for(name);
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let Registration::Registered(p) = service::register(&mut tx, session, &edit, true)
        .await
        .unwrap()
    else {
        panic!("registration did not register");
    };
    tx.commit().await.unwrap();
    p
}

/// The stored side (`clinic.normalize_name`, a generated column) and the
/// typed side (`names::normalize`) agree on every name and variant of the
/// names list and on awkward input.
#[tokio::test]
async fn sql_and_rust_normalisation_agree() {
    let db = TestDb::new().await;
    let mut inputs: Vec<String> = vec![
        "M. Ali".into(),
        "Abd-ul Rahman".into(),
        "abd ul abd ul".into(),
        "Abd Allah Khan".into(),
        "Sa'ad  Qureishi".into(),
        "Saʼad".into(),
        "Fátima Bībī".into(),
        "ÀÉÎÕÜ Ñ Ç Ø".into(),
        "...".into(),
        "O'Neil-Smith (Jr.)".into(),
        "علی Khan".into(),
        "Ch.Aslam_Warraich".into(),
        "  Patient   2  ".into(),
        "Ǆemal".into(),
    ];
    let csv = include_str!("../data/pk_names.csv");
    for line in csv.lines().skip(1) {
        let mut cols = line.splitn(3, ',');
        let _kind = cols.next();
        inputs.push(cols.next().unwrap_or_default().to_owned());
        for v in cols.next().unwrap_or_default().split('|') {
            inputs.push(v.to_owned());
            inputs.push(format!("Muhammad {v} Khan"));
        }
    }
    let mut conn = sqlx::PgConnection::connect(&db.owner_url).await.unwrap();
    let sql: Vec<String> = sqlx::query_scalar(
        "SELECT clinic.normalize_name(x) FROM unnest($1::text[]) WITH ORDINALITY AS t(x, n) ORDER BY n",
    )
    .bind(&inputs)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for (input, in_sql) in inputs.iter().zip(&sql) {
        assert_eq!(&names::normalize(input), in_sql, "{input:?}");
    }
}

/// The fuzzy tier matches word by word (migration 0016): a typo in a short
/// word is found next to a very common word, and the common word alone
/// never selects a patient (a clinic full of Khans is not a match for
/// "ehan khan").
#[tokio::test]
async fn every_typed_word_must_match_a_word_of_the_name() {
    let db = TestDb::new().await;
    let a = db.clinic("words-a", &[Role::Operator], 0).await;
    let khans: Vec<String> = [
        "Imran", "Bilal", "Usman", "Hamza", "Kamran", "Farhan", "Adnan", "Arslan",
    ]
    .iter()
    .flat_map(|g| (0..4).map(move |_| format!("{g} Khan")))
    .collect();
    let khans: Vec<&str> = khans.iter().map(String::as_str).collect();
    add(&db, &a, &khans).await;
    add(
        &db,
        &a,
        &[
            "Ehsan Khan",
            "Sidra Khan",
            "Ehsan Malik",
            "Muhammad Khalid Bhatti",
            "Rukhsana Shinwari",
            "Rabiya Marwatt",
        ],
    )
    .await;

    for (typed, want) in [
        ("ehan khan", "Ehsan Khan"),
        ("sira khan", "Sidra Khan"),
        ("Muhamad Khalid Bhati", "Muhammad Khalid Bhatti"),
        ("ehsan k", "Ehsan Khan"),
        ("e khan", "Ehsan Khan"),
        // A letter dropped from a variant spelling: two edits from the
        // canonical "marwat", one from the "marwatt" written.
        ("rabiya maratt", "Rabiya Marwatt"),
    ] {
        let found = search(&db, &a, typed, 26).await;
        assert_eq!(
            names_of(&found).first(),
            Some(&want),
            "{typed:?}: {:?}",
            names_of(&found)
        );
    }
    // "ehan" is near "ehsan" only: no other Khan comes back.
    let found = search(&db, &a, "ehan khan", 26).await;
    assert_eq!(names_of(&found), ["Ehsan Khan"]);
    // A word near no name of the clinic: nothing, however common the rest.
    assert!(search(&db, &a, "zqxv khan", 26).await.is_empty());
    // Edit distance grows with the word: two slips in a long word, one in a
    // short one.
    assert_eq!(
        names_of(&search(&db, &a, "rukhsana shnwary", 26).await),
        ["Rukhsana Shinwari"]
    );
    assert!(search(&db, &a, "rukhsana shnwaryy", 26).await.is_empty());
    assert!(search(&db, &a, "esn khan", 26).await.is_empty());
}

/// The clinic's name vocabulary follows registrations and renames, inside
/// the writer's transaction, and holds only that clinic's words.
#[tokio::test]
async fn new_and_renamed_names_are_found_with_a_typo() {
    let db = TestDb::new().await;
    let a = db.clinic("vocab-a", &[Role::Operator], 0).await;
    let b = db.clinic("vocab-b", &[Role::Operator], 0).await;
    let (session, _) = db.login(&a, "operator").await;
    let p = register(&db, &a, &session, "Zarghuna Achakzai").await;
    assert_eq!(
        names_of(&search(&db, &a, "zarguna achakzai", 26).await),
        ["Zarghuna Achakzai"]
    );

    let mut edit = edit_for("Zarghuna Palwasha Mengal");
    let mut tx = db.app.tenant_tx_for(a.id).await.unwrap();
    service::update(&mut tx, &session, p.id, &edit)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        names_of(&search(&db, &a, "palwsha mengl", 26).await),
        ["Zarghuna Palwasha Mengal"]
    );

    // An edit that rolls back leaves no word behind.
    edit.full_name = "Zarghuna Qandeela".into();
    let mut tx = db.app.tenant_tx_for(a.id).await.unwrap();
    service::update(&mut tx, &session, p.id, &edit)
        .await
        .unwrap();
    tx.rollback().await.unwrap();

    // B sees none of A's words; A's are all there.
    let words = |clinic: healipro_core::ids::TenantId| {
        let url = db.app_url.clone();
        async move {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            let mut tx = conn.begin().await.unwrap();
            sqlx::query("SELECT clinic.set_tenant($1)")
                .bind(clinic)
                .execute(&mut *tx)
                .await
                .unwrap();
            let w: Vec<String> =
                sqlx::query_scalar("SELECT word FROM clinic.patient_name_words ORDER BY word")
                    .fetch_all(&mut *tx)
                    .await
                    .unwrap();
            tx.rollback().await.unwrap();
            w
        }
    };
    assert_eq!(
        words(a.id).await,
        ["achakzai", "mengal", "palwasha", "zarghuna"]
    );
    assert!(words(b.id).await.is_empty());
    assert!(search(&db, &b, "palwsha mengl", 26).await.is_empty());
}
