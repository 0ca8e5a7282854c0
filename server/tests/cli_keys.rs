//! The operator's key commands, run as the real `healipro` binary against a
//! test database: init, tenant create (keys made with the tenant), status,
//! rotate-dek, rotate-kek, retire-kek — and the data stays readable.

use healipro_core::crypto::MasterKeys;
use healipro_core::db::Db;
use healipro_core::patients::{repo, PatientQuery};
use healipro_core::testing::TestDb;
use std::path::Path;
use std::process::Command;

fn healipro(db: &TestDb, key_file: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_healipro"))
        .args(args)
        .env("DATABASE_URL", &db.app_url)
        .env("DATABASE_OWNER_URL", &db.owner_url)
        .env("HEALIPRO_SERVER_KEY_FILE", key_file)
        .env_remove("HEALIPRO_MASTER_KEYS")
        .output()
        .expect("run healipro");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "healipro {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test]
async fn key_commands_rotate_everything_and_data_stays_readable() {
    let db = TestDb::new().await;
    let dir = std::env::temp_dir().join(format!("hp-cli-keys-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("master.keys");
    let out = healipro(
        &db,
        &file,
        &["keys", "init-server-key", "--file", file.to_str().unwrap()],
    );
    assert!(out.contains("created master key kek-"), "{out}");
    // The fixture's JWT key is wrapped by its in-memory key: replace it with
    // one under the file's key, as a fresh deployment would have.
    db.owner_exec("DELETE FROM platform.jwt_keys").await;
    healipro(&db, &file, &["keys", "rotate-jwt"]);
    let out = healipro(
        &db,
        &file,
        &["tenant", "create", "--code", "clia", "--name", "CLI Clinic"],
    );
    assert!(out.contains("with its encryption keys"), "{out}");
    let status = healipro(&db, &file, &["keys", "status"]);
    assert!(status.contains("clia"), "{status}");
    assert!(status.contains("data  active"), "{status}");
    assert!(status.contains("index active"), "{status}");

    // Patients with identifiers, written as the server would.
    let app = Db::connect(&db.app_url, 2)
        .await
        .unwrap()
        .with_master_keys(MasterKeys::load(&file).unwrap());
    let tenant = {
        let mut ptx = app.platform_tx().await.unwrap();
        let t = healipro_core::tenants::repo::find_by_code(&mut ptx, "clia")
            .await
            .unwrap()
            .unwrap();
        ptx.commit().await.unwrap();
        t.id
    };
    let names = healipro_core::demo::Names::load().unwrap();
    let mut tx = app.tenant_tx_for(tenant).await.unwrap();
    repo::insert_many(&mut tx, &names.patients(3, 25))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let out = healipro(
        &db,
        &file,
        &[
            "keys",
            "rotate-dek",
            "--tenant",
            "clia",
            "--batch-size",
            "4",
        ],
    );
    assert!(out.contains("data key 1 -> 4"), "{out}");
    assert!(out.contains("key 1 destroyed"), "{out}");
    let out = healipro(&db, &file, &["keys", "rotate-kek"]);
    assert!(out.contains("everything is wrapped by"), "{out}");
    let out = healipro(&db, &file, &["keys", "retire-kek"]);
    assert!(out.contains("retired master key(s)"), "{out}");
    let keys = MasterKeys::load(&file).unwrap();
    assert_eq!(keys.ids().len(), 1);
    let status = healipro(&db, &file, &["keys", "status"]);
    assert!(status.contains("destroyed"), "{status}");
    assert!(!status.contains("MISSING"), "{status}");

    // A new process with only the new master key reads every patient and
    // finds one by its CNIC.
    let fresh = Db::connect(&db.app_url, 2)
        .await
        .unwrap()
        .with_master_keys(keys);
    let mut tx = fresh.tenant_tx_for(tenant).await.unwrap();
    let all = repo::search(&mut tx, &PatientQuery::All, 100, 0)
        .await
        .unwrap();
    assert_eq!(all.len(), 25);
    let with_cnic = all.iter().find(|p| p.cnic.is_some()).expect("a CNIC");
    let cnic = with_cnic.cnic.clone().unwrap();
    let found = repo::search(&mut tx, &PatientQuery::Cnic(cnic), 10, 0)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, with_cnic.id);
    tx.commit().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
