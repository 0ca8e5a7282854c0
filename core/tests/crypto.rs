//! Field encryption (issue 6, promise 5) on real PostgreSQL: round trips, moved
//! and tampered ciphertexts, wrong master keys, the dump test, blind-index
//! search, KEK and DEK rotation (interrupted and resumed), crypto-shred.

use healipro_core::auth::Session;
use healipro_core::crypto::rotation::{self, RotateOptions, RotateOutcome};
use healipro_core::crypto::{Field, MasterKeys, ENCRYPTED_COLUMNS};
use healipro_core::db::Db;
use healipro_core::ids::PatientId;
use healipro_core::patients::service::{self, PatientEdit, Registration};
use healipro_core::patients::{repo, Patient, PatientQuery};
use healipro_core::rbac::Role;
use healipro_core::testing::{TestClinic, TestDb};
use healipro_core::Error;
use sqlx::Connection;

const CNIC: &str = "35202-7654321-3";
const PHONE: &str = "0321-7654321";
const ADDRESS: &str = "House 77, Street 9, Satellite Town, Quetta";

fn edit(name: &str, cnic: &str, phone: &str, address: &str) -> PatientEdit {
    PatientEdit {
        full_name: name.into(),
        father_or_husband_name: "Ghulam Rasool".into(),
        sex: "male".into(),
        date_of_birth: "1980-02-03".into(),
        cnic: cnic.into(),
        phone: phone.into(),
        address: address.into(),
        age: String::new(),
    }
}

async fn register(db: &TestDb, clinic: &TestClinic, session: &Session, e: &PatientEdit) -> Patient {
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let Registration::Registered(p) = service::register(&mut tx, session, e, true).await.unwrap()
    else {
        panic!("registration did not register");
    };
    tx.commit().await.unwrap();
    p
}

async fn get(app: &Db, clinic: &TestClinic, id: PatientId) -> healipro_core::Result<Patient> {
    let mut tx = app.tenant_tx_for(clinic.id).await?;
    let p = repo::get(&mut tx, id).await?.ok_or(Error::NotFound);
    tx.commit().await?;
    p
}

async fn search(app: &Db, clinic: &TestClinic, text: &str) -> Vec<Patient> {
    let mut tx = app.tenant_tx_for(clinic.id).await.unwrap();
    let found = repo::search(&mut tx, &PatientQuery::parse(text), 50, 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    found
}

async fn owner(db: &TestDb) -> sqlx::PgConnection {
    sqlx::PgConnection::connect(&db.owner_url).await.unwrap()
}

/// A clinic with an operator and one registered patient with all identifiers.
async fn clinic_with_patient(db: &TestDb, code: &str) -> (TestClinic, Session, Patient) {
    let clinic = db.clinic(code, &[Role::Operator], 5).await;
    let (session, _) = db.login(&clinic, "operator").await;
    let p = register(
        db,
        &clinic,
        &session,
        &edit("Imran Qureshi", CNIC, PHONE, ADDRESS),
    )
    .await;
    (clinic, session, p)
}

fn assert_key_error(result: healipro_core::Result<Patient>, says: &str) {
    match result {
        Err(Error::KeyUnavailable(message)) => {
            assert!(message.contains(says), "{message}");
            assert!(!message.contains("7654321"), "PHI in an error: {message}");
        }
        other => panic!("expected a key error mentioning {says:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn every_encrypted_column_round_trips_through_its_real_code_path() {
    let db = TestDb::new().await;
    let (clinic, _, p) = clinic_with_patient(&db, "alpha").await;
    let read = get(&db.app, &clinic, p.id).await.unwrap();
    assert_eq!(read.cnic.unwrap().formatted(), CNIC);
    assert_eq!(read.phone.unwrap().e164(), "+923217654321");
    assert_eq!(read.address.unwrap().as_str(), ADDRESS);
    // TOTP secret (confirmed) and pending secret: enrolment decrypts both.
    let secret = db.enrol_totp(&clinic, "operator").await;
    let mut conn = owner(&db).await;
    let (stored,): (Vec<u8>,) = sqlx::query_as(
        "SELECT totp_secret_enc FROM clinic.users WHERE username = 'operator' AND tenant_id = $1",
    )
    .bind(clinic.id)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(stored[0], 1, "v1 format");
    assert!(!stored.windows(secret.len()).any(|w| w == secret.as_slice()));
    // Every listed column has a real, decryptable value now (the pending one
    // is set by starting an enrolment).
    let doctor_clinic = db.clinic("beta", &[Role::Doctor], 0).await;
    let signed_in = db.password_login(&doctor_clinic, "doctor").await;
    let mut tx = db.app.tenant_tx_for(doctor_clinic.id).await.unwrap();
    let enrolment = db
        .auth
        .enrolment(&mut tx, &signed_in.session)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.app.tenant_tx_for(doctor_clinic.id).await.unwrap();
    let again = db
        .auth
        .enrolment(&mut tx, &signed_in.session)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        enrolment.secret_base32, again.secret_base32,
        "pending secret read back"
    );
    // A draft payload.
    let (operator, _) = db.login(&clinic, "operator").await;
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let key = format!("patient-edit:{}", p.id);
    healipro_core::drafts::save(&mut tx, &operator, &key, "{\"cnic\":\"x\"}")
        .await
        .unwrap();
    let draft = healipro_core::drafts::get(&mut tx, &operator, &key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(draft.payload, "{\"cnic\":\"x\"}");
    tx.commit().await.unwrap();
    for column in ENCRYPTED_COLUMNS {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM clinic.{} WHERE {} IS NOT NULL AND get_byte({}, 0) = 1",
            column.table, column.column, column.column
        ))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert!(n > 0, "no v1 value in {}.{}", column.table, column.column);
    }
}

#[tokio::test]
async fn a_ciphertext_moved_to_another_row_column_or_tenant_does_not_decrypt() {
    let db = TestDb::new().await;
    let (a, session, p) = clinic_with_patient(&db, "alpha").await;
    let other = register(&db, &a, &session, &edit("Bilal Ahmed", "", "", "")).await;
    let (b, _, pb) = clinic_with_patient(&db, "bravo").await;
    let mut conn = owner(&db).await;
    // Another row of the same tenant.
    sqlx::query(
        "UPDATE clinic.patients SET address_enc = (SELECT address_enc FROM clinic.patients WHERE id = $1) WHERE id = $2",
    )
    .bind(p.id)
    .bind(other.id)
    .execute(&mut conn)
    .await
    .unwrap();
    assert_key_error(get(&db.app, &a, other.id).await, "does not decrypt");
    // Another column of the same row.
    sqlx::query("UPDATE clinic.patients SET address_enc = phone_enc WHERE id = $1")
        .bind(p.id)
        .execute(&mut conn)
        .await
        .unwrap();
    assert_key_error(get(&db.app, &a, p.id).await, "does not decrypt");
    // Another tenant (same key id 1 exists there too).
    sqlx::query(
        "UPDATE clinic.patients SET cnic_enc = (SELECT cnic_enc FROM clinic.patients WHERE id = $1) WHERE id = $2",
    )
    .bind(p.id)
    .bind(pb.id)
    .execute(&mut conn)
    .await
    .unwrap();
    assert_key_error(get(&db.app, &b, pb.id).await, "does not decrypt");
}

#[tokio::test]
async fn a_tampered_byte_fails_to_decrypt() {
    let db = TestDb::new().await;
    let (clinic, _, p) = clinic_with_patient(&db, "alpha").await;
    let mut conn = owner(&db).await;
    for offset in [40, 5, 1] {
        // A byte of the body, of the nonce, of the key id.
        sqlx::query(
            "UPDATE clinic.patients SET cnic_enc = set_byte(cnic_enc, $2, get_byte(cnic_enc, $2) # 1) WHERE id = $1",
        )
        .bind(p.id)
        .bind(offset)
        .execute(&mut conn)
        .await
        .unwrap();
        let result = get(&db.app, &clinic, p.id).await;
        assert!(
            matches!(result, Err(Error::KeyUnavailable(_))),
            "offset {offset}: {result:?}"
        );
        // Undo, and the value reads again.
        sqlx::query(
            "UPDATE clinic.patients SET cnic_enc = set_byte(cnic_enc, $2, get_byte(cnic_enc, $2) # 1) WHERE id = $1",
        )
        .bind(p.id)
        .bind(offset)
        .execute(&mut conn)
        .await
        .unwrap();
        get(&db.app, &clinic, p.id).await.unwrap();
    }
}

#[tokio::test]
async fn a_wrong_or_missing_master_key_is_a_clear_error() {
    let db = TestDb::new().await;
    let (clinic, _, p) = clinic_with_patient(&db, "alpha").await;
    // Same key id ("test"), different key: the wrapped DEK does not open.
    let wrong = Db::connect(&db.app_url, 2)
        .await
        .unwrap()
        .with_master_keys(MasterKeys::generate());
    match get(&wrong, &clinic, p.id).await {
        Err(Error::Config(m)) => assert!(m.contains("does not open with master key `test`"), "{m}"),
        other => panic!("{other:?}"),
    }
    // A key file without that id at all.
    let missing = Db::connect(&db.app_url, 2)
        .await
        .unwrap()
        .with_master_keys(MasterKeys::from_text(&format!("other {}", "ab".repeat(32))).unwrap());
    match get(&missing, &clinic, p.id).await {
        Err(Error::Config(m)) => assert!(m.contains("master key `test` is not configured"), "{m}"),
        other => panic!("{other:?}"),
    }
    // No master keys configured at all.
    let none = Db::connect(&db.app_url, 2).await.unwrap();
    assert!(matches!(
        get(&none, &clinic, p.id).await,
        Err(Error::Config(_))
    ));
}

/// The dump test: a full `pg_dump` holds none of the identifiers, with or
/// without separators, nor the TOTP secret.
#[tokio::test]
async fn a_database_dump_contains_no_identifier_plaintext() {
    let db = TestDb::new().await;
    let (clinic, session, _) = clinic_with_patient(&db, "alpha").await;
    let known = [
        (
            "35201-1112223-5",
            "0300-9876543",
            "Flat 5, Gulberg III, Lahore",
        ),
        (
            "61101-4445556-8",
            "+92 345 1234987",
            "House 12, G-9/2, Islamabad",
        ),
    ];
    for (i, (cnic, phone, address)) in known.iter().enumerate() {
        register(
            &db,
            &clinic,
            &session,
            &edit(&format!("Patient {i}"), cnic, phone, address),
        )
        .await;
    }
    let secret = db.enrol_totp(&clinic, "operator").await;
    // An autosaved draft of a form with identifiers typed into it.
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let draft = format!(
        "{{\"cnic\":\"{}\",\"phone\":\"{}\",\"address\":\"{}\"}}",
        known[1].0, known[1].1, known[1].2
    );
    healipro_core::drafts::save(&mut tx, &session, "patient-edit:new", &draft)
        .await
        .unwrap();
    let read = healipro_core::drafts::get(&mut tx, &session, "patient-edit:new")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.payload, draft);
    tx.commit().await.unwrap();
    let pg_dump = std::env::var("HEALIPRO_PG_DUMP").unwrap_or_else(|_| {
        let debian = "/usr/lib/postgresql/15/bin/pg_dump";
        if std::path::Path::new(debian).exists() {
            debian.into()
        } else {
            "pg_dump".into()
        }
    });
    let out = std::process::Command::new(&pg_dump)
        .arg("--dbname")
        .arg(&db.owner_url)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {pg_dump}: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dump = out.stdout;
    assert!(dump.len() > 10_000, "suspiciously small dump");
    let contains = |needle: &[u8]| dump.windows(needle.len()).any(|w| w == needle);
    // Sanity: the dump does hold plaintext columns (names), so absence means something.
    assert!(contains(b"Imran Qureshi"));
    let mut needles: Vec<String> = Vec::new();
    for (cnic, phone, address) in known.iter().chain([&(CNIC, PHONE, ADDRESS)]) {
        let digits: String = cnic.chars().filter(char::is_ascii_digit).collect();
        let phone_digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        let national = phone_digits
            .trim_start_matches("92")
            .trim_start_matches('0')
            .to_owned();
        needles.extend([cnic.to_string(), digits, phone.to_string(), national]);
        needles.extend(
            address
                .split(", ")
                .filter(|part| part.len() > 8)
                .map(str::to_owned),
        );
    }
    for needle in &needles {
        assert!(!contains(needle.as_bytes()), "the dump contains {needle:?}");
        // bytea is dumped as hex: the plaintext must not appear hex-encoded either.
        assert!(
            !contains(hex::encode(needle).as_bytes()),
            "the dump contains hex of {needle:?}"
        );
    }
    assert!(
        !contains(hex::encode(&secret).as_bytes()),
        "TOTP secret in the dump"
    );
    assert!(!contains(
        healipro_core::auth::totp::base32(&secret).as_bytes()
    ));
}

#[tokio::test]
async fn blind_index_search_finds_exactly_the_patient_and_never_another_tenant() {
    let db = TestDb::new().await;
    let (a, session_a, pa) = clinic_with_patient(&db, "alpha").await;
    // Clinic B has a patient with the same CNIC and phone.
    let (b, _, pb) = clinic_with_patient(&db, "bravo").await;
    let decoy = register(
        &db,
        &a,
        &session_a,
        &edit("Decoy Patient", "35202-7654321-5", "0321-7654322", ""),
    )
    .await;
    for text in ["35202-7654321-3", "3520276543213", " 35202 7654321 3 "] {
        let found = search(&db.app, &a, text).await;
        assert_eq!(
            found.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![pa.id],
            "{text}"
        );
    }
    for text in ["0321-7654321", "+92 321 7654321", "00923217654321"] {
        let found = search(&db.app, &a, text).await;
        assert_eq!(
            found.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![pa.id],
            "{text}"
        );
    }
    let found = search(&db.app, &b, CNIC).await;
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), vec![pb.id]);
    assert!(search(&db.app, &a, "35202-0000000-1").await.is_empty());
    assert_ne!(decoy.id, pa.id);
    // The two tenants' blind indexes of the same CNIC differ (per-tenant keys).
    let mut conn = owner(&db).await;
    let bidx: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT cnic_bidx FROM clinic.patients WHERE id = ANY($1)")
            .bind(vec![pa.id.as_uuid(), pb.id.as_uuid()])
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(bidx.len(), 2);
    assert_ne!(bidx[0], bidx[1]);
    // Registering the same CNIC again warns with the existing patient.
    let mut tx = db.app.tenant_tx_for(a.id).await.unwrap();
    let again = service::register(
        &mut tx,
        &session_a,
        &edit("Imran Q.", "3520276543213", "", ""),
        false,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // Showing the matches is logged like a search.
    let mut tx = db.app.tenant_tx_for(a.id).await.unwrap();
    let logged = healipro_core::audit::repo::chain_page(&mut tx, 0, 10_000)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        logged
            .iter()
            .filter(|e| e.entry.action == "patients.searched")
            .count(),
        1
    );
    match again {
        Registration::PossibleDuplicates(same) => {
            assert_eq!(
                same.iter().map(|p| p.patient.id).collect::<Vec<_>>(),
                vec![pa.id]
            )
        }
        Registration::Registered(_) => panic!("no duplicate warning"),
    }
}

#[tokio::test]
async fn bad_identifiers_are_refused_with_the_field_named() {
    let db = TestDb::new().await;
    let (clinic, session, p) = clinic_with_patient(&db, "alpha").await;
    for (e, field) in [
        (edit("X", "35202-765432-3", "", ""), "cnic"),
        (edit("X", "", "0321-765432", ""), "phone"),
        (edit("X", "", "", &"a".repeat(400)), "address"),
    ] {
        let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
        match service::update(&mut tx, &session, p.id, &e).await {
            Err(Error::Validation { field: f, message }) => {
                assert_eq!(f, field);
                assert!(!message.is_empty());
            }
            other => panic!("{field}: {other:?}"),
        }
    }
    // Nothing was saved.
    assert_eq!(
        get(&db.app, &clinic, p.id)
            .await
            .unwrap()
            .cnic
            .unwrap()
            .formatted(),
        CNIC
    );
}

/// Reads every patient of a clinic and checks the identifiers of `p`.
async fn all_readable(app: &Db, clinic: &TestClinic, p: &Patient) {
    let all = search(app, clinic, "").await;
    assert!(!all.is_empty());
    let read = get(app, clinic, p.id).await.unwrap();
    assert_eq!(
        read.cnic.as_ref().map(|c| c.formatted()),
        Some(CNIC.to_owned())
    );
    assert_eq!(
        read.address.as_ref().map(|a| a.as_str().to_owned()),
        Some(ADDRESS.to_owned())
    );
    assert_eq!(
        search(app, clinic, CNIC)
            .await
            .iter()
            .map(|x| x.id)
            .collect::<Vec<_>>(),
        vec![p.id]
    );
    assert_eq!(search(app, clinic, PHONE).await.len(), 1);
}

#[tokio::test]
async fn kek_rotation_rewraps_tenant_and_jwt_keys_and_the_old_kek_can_be_retired() {
    use healipro_core::auth::{jwt, Auth};
    let db = TestDb::new().await;
    let dir = std::env::temp_dir().join(format!("hp-kek-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("master.keys");
    let master = MasterKeys::create_file(&path).unwrap();
    let first = master.active_id();
    let app = Db::connect(&db.app_url, 4)
        .await
        .unwrap()
        .with_master_keys(master.clone());
    // Start over as a deployment whose every key is wrapped by this file's key.
    let clinic = db.clinic("alpha", &[Role::Operator], 0).await;
    let (session, _) = db.login(&clinic, "operator").await;
    let mut conn = owner(&db).await;
    sqlx::raw_sql("DELETE FROM clinic.tenant_keys; DELETE FROM platform.jwt_keys")
        .execute(&mut conn)
        .await
        .unwrap();
    jwt::rotate(&app, &master).await.unwrap();
    rotation::ensure_tenant_keys(&app, clinic.id).await.unwrap();
    let mut tx = app.tenant_tx_for(clinic.id).await.unwrap();
    let edit = edit("Imran Qureshi", CNIC, PHONE, ADDRESS);
    let Registration::Registered(p) = service::register(&mut tx, &session, &edit, true)
        .await
        .unwrap()
    else {
        panic!("not registered")
    };
    tx.commit().await.unwrap();

    let second = master.add_key_to_file().unwrap();
    assert_ne!(first, second);
    // Until the rewrap finishes, both keys work.
    all_readable(&app, &clinic, &p).await;
    assert_eq!(
        rotation::kek_ids_in_use(&app).await.unwrap(),
        vec![first.clone()]
    );
    assert_eq!(
        rotation::rewrap_tenant(&app, &master, clinic.id)
            .await
            .unwrap(),
        3
    );
    assert_eq!(jwt::rewrap(&app, &master).await.unwrap(), 1);
    assert_eq!(
        rotation::rewrap_tenant(&app, &master, clinic.id)
            .await
            .unwrap(),
        0,
        "idempotent"
    );
    let used = rotation::kek_ids_in_use(&app).await.unwrap();
    assert_eq!(used, vec![second.clone()]);
    assert_eq!(master.retire(&used).unwrap(), vec![first.clone()]);
    // A fresh process with only the new key reads, searches and signs.
    let only_new = MasterKeys::load(&path).unwrap();
    assert_eq!(only_new.ids(), vec![second]);
    let fresh = Db::connect(&db.app_url, 4)
        .await
        .unwrap()
        .with_master_keys(only_new.clone());
    all_readable(&fresh, &clinic, &p).await;
    Auth::new(&fresh, only_new, std::time::Duration::ZERO)
        .await
        .expect("the JWT signing key unwraps under the new master key");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn an_interrupted_dek_rotation_keeps_values_readable_and_resumes() {
    let db = TestDb::new().await;
    let (clinic, session, p) = clinic_with_patient(&db, "alpha").await;
    for i in 0..12 {
        register(
            &db,
            &clinic,
            &session,
            &edit(
                &format!("Extra {i}"),
                &format!("42101-{:07}-{}", 1_234_500 + i, i % 10),
                "",
                "Karachi address line",
            ),
        )
        .await;
    }
    let secret = db.enrol_totp(&clinic, "operator").await;
    let options = RotateOptions {
        batch_size: 3,
        max_batches: Some(2),
    };
    let paused = rotation::rotate_dek(&db.app, clinic.id, options, |_| {})
        .await
        .unwrap();
    assert!(
        matches!(paused, RotateOutcome::Paused { rows: 6 }),
        "{paused:?}"
    );
    // Mid-rotation: old and new keys both in use, everything readable and
    // searchable, and new writes use the new key.
    all_readable(&db.app, &clinic, &p).await;
    let during = register(
        &db,
        &clinic,
        &session,
        &edit("During Rotation", "37405-1112223-1", "0333-1112223", ""),
    )
    .await;
    let mut conn = owner(&db).await;
    let key_of = |bytes: &[u8]| u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    let during_key: Vec<u8> =
        sqlx::query_scalar("SELECT cnic_enc FROM clinic.patients WHERE id = $1")
            .bind(during.id)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        key_of(&during_key),
        4,
        "written under the new key (1 data, 2 index, 3 audit, 4 new data)"
    );
    let status = rotation::status(&db.app).await.unwrap();
    let mine = status.iter().find(|s| s.tenant == clinic.id).unwrap();
    assert!(
        matches!(mine.rotation, Some((1, 4, 6))),
        "{:?}",
        mine.rotation
    );
    // Resume with a fresh vault (another process), to the end.
    let other = Db::connect(&db.app_url, 4)
        .await
        .unwrap()
        .with_master_keys(db.master.clone());
    let mut seen = Vec::new();
    let done = rotation::rotate_dek(
        &other,
        clinic.id,
        RotateOptions {
            batch_size: 4,
            max_batches: None,
        },
        |p| seen.push(p),
    )
    .await
    .unwrap();
    assert!(
        matches!(
            done,
            RotateOutcome::Finished {
                from_key: 1,
                to_key: 4,
                ..
            }
        ),
        "{done:?}"
    );
    let last = seen.last().unwrap();
    assert_eq!(last.done, last.total, "progress reaches the total");
    // Every ciphertext is under key 3, and key 1 is destroyed.
    for column in ENCRYPTED_COLUMNS.iter().filter(|c| c.rotates) {
        let old: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM clinic.{} WHERE tenant_id = $1 AND {} IS NOT NULL
               AND substring({} from 2 for 4) <> '\\x00000004'::bytea",
            column.table, column.column, column.column
        ))
        .bind(clinic.id)
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(old, 0, "{}.{}", column.table, column.column);
    }
    let states: Vec<(i32, String, bool)> = sqlx::query_as(
        "SELECT key_id, state, wrapped IS NULL FROM clinic.tenant_keys WHERE tenant_id = $1 ORDER BY key_id",
    )
    .bind(clinic.id)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        states,
        vec![
            (1, "destroyed".into(), true),
            (2, "active".into(), false),
            (3, "active".into(), false),
            (4, "active".into(), false)
        ]
    );
    // The rotation is in the clinic's audit chain: started and finished.
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let chain = healipro_core::audit::repo::chain_page(&mut tx, 0, 10_000)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let rotations = chain
        .iter()
        .filter(|e| {
            e.entry.action == "keys.rotated" && e.entry.actor_username == "platform operator"
        })
        .count();
    assert_eq!(rotations, 2, "started + finished");
    // Both the original process (stale cache) and the other one read everything.
    all_readable(&db.app, &clinic, &p).await;
    all_readable(&other, &clinic, &p).await;
    // The re-encrypted TOTP secret still verifies a code.
    let signed_in = db.password_login(&clinic, "operator").await;
    let tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let code =
        healipro_core::auth::totp::code_at(&secret, healipro_core::auth::totp::unix_now()).unwrap();
    db.auth
        .verify_second_factor(tx, &signed_in.session, &code, &Default::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn writes_during_a_dek_rotation_are_not_lost() {
    let db = TestDb::new().await;
    let (clinic, session, p) = clinic_with_patient(&db, "alpha").await;
    for i in 0..30 {
        register(
            &db,
            &clinic,
            &session,
            &edit(&format!("Extra {i}"), "", &format!("0300-12345{i:02}"), ""),
        )
        .await;
    }
    let writer = {
        let app = db.app.clone();
        let session = session.clone();
        let clinic_id = clinic.id;
        tokio::spawn(async move {
            for i in 0..20 {
                let mut tx = app.tenant_tx_for(clinic_id).await.unwrap();
                let e = edit("Imran Qureshi", CNIC, PHONE, &format!("{ADDRESS} {i}"));
                service::update(&mut tx, &session, p.id, &e).await.unwrap();
                tx.commit().await.unwrap();
            }
        })
    };
    let done = rotation::rotate_dek(
        &db.app,
        clinic.id,
        RotateOptions {
            batch_size: 2,
            max_batches: None,
        },
        |_| {},
    )
    .await
    .unwrap();
    writer.await.unwrap();
    assert!(matches!(done, RotateOutcome::Finished { .. }));
    let read = get(&db.app, &clinic, p.id).await.unwrap();
    assert_eq!(read.address.unwrap().as_str(), format!("{ADDRESS} 19"));
    assert_eq!(search(&db.app, &clinic, "").await.len(), 36);
}

#[tokio::test]
async fn crypto_shred_makes_a_tenants_ciphertexts_unreadable_and_leaves_others() {
    let db = TestDb::new().await;
    let (a, session_a, pa) = clinic_with_patient(&db, "alpha").await;
    let (b, _, pb) = clinic_with_patient(&db, "bravo").await;
    assert_eq!(rotation::shred(&db.app, a.id).await.unwrap(), 3);
    assert_key_error(get(&db.app, &a, pa.id).await, "destroyed");
    // Another process (no cache) too, and writes fail clearly.
    let other = Db::connect(&db.app_url, 2)
        .await
        .unwrap()
        .with_master_keys(db.master.clone());
    assert_key_error(get(&other, &a, pa.id).await, "destroyed");
    let mut tx = db.app.tenant_tx_for(a.id).await.unwrap();
    let write = service::register(&mut tx, &session_a, &edit("New", CNIC, "", ""), true).await;
    assert!(matches!(write, Err(Error::KeyUnavailable(_))), "{write:?}");
    drop(tx);
    // Clinic B is untouched.
    assert_eq!(
        get(&db.app, &b, pb.id)
            .await
            .unwrap()
            .cnic
            .unwrap()
            .formatted(),
        CNIC
    );
    // Field::column covers every field (compile-time list, runtime sanity).
    assert_eq!(Field::PatientCnic.column().blind_index, Some("cnic_bidx"));
}

#[tokio::test]
async fn the_catalog_check_goes_red_for_an_unlisted_encrypted_column() {
    use healipro_core::selftest;
    let db = TestDb::new().await;
    let pass = selftest::encrypted_columns(&db.owner).await.unwrap();
    assert!(pass.iter().all(|c| c.ok), "{pass:?}");
    db.owner_exec("ALTER TABLE clinic.patients ADD COLUMN notes_enc bytea")
        .await;
    let red = selftest::encrypted_columns(&db.owner).await.unwrap();
    assert!(
        red.iter()
            .any(|c| !c.ok && c.detail.contains("clinic.patients.notes_enc")),
        "{red:?}"
    );
    db.owner_exec("ALTER TABLE clinic.patients DROP COLUMN notes_enc; ALTER TABLE clinic.patients ALTER COLUMN address_enc TYPE text")
        .await;
    let red = selftest::encrypted_columns(&db.owner).await.unwrap();
    assert!(
        red.iter().any(|c| !c.ok && c.detail.contains("not bytea")),
        "{red:?}"
    );
}
