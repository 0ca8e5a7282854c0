//! Test fixtures: each test gets its own database, cloned from a template that
//! is migrated once per migration set, so tests run in parallel on real
//! PostgreSQL. Needs `DATABASE_URL` and `DATABASE_OWNER_URL` (as written by
//! `cargo xtask db start` to `.healipro/dev.env`, which is read when the
//! variables are not set); the owner role needs CREATEDB.

use crate::auth::{self, Auth, ClientInfo, Credentials, NewUser, Session};
use crate::crypto::MasterKeys;
use crate::db::{migrations_fingerprint, Db, OwnerDb};
use crate::demo::{ensure_tenant, Names};
use crate::ids::TenantId;
use crate::patients::repo as patients_repo;
use crate::rbac::Role;
use secrecy::SecretString;
use sqlx::Connection;

/// A seeded clinic: one user per requested role (username = role name,
/// password = `TEST_PASSWORD`) and `patients` patients numbered MR-000001….
pub struct TestClinic {
    pub id: TenantId,
    pub code: String,
}

pub const TEST_PASSWORD: &str = "test password for a clinic";

pub struct TestDb {
    pub app: Db,
    /// Authentication services over `app` (fresh master keys per test; the
    /// JWT key ring reloads on every signature so rotation shows at once).
    pub auth: Auth,
    pub master: MasterKeys,
    pub owner: OwnerDb,
    pub name: String,
    pub app_url: String,
    pub owner_url: String,
}

/// Replaces the database name in a `postgres://…/name?params` URL.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{db}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn env_url(key: &str) -> String {
    if let Ok(v) = std::env::var(key) {
        return v;
    }
    let dev_env = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.healipro/dev.env");
    std::fs::read_to_string(&dev_env)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_owned))
        })
        .unwrap_or_else(|| {
            panic!(
                "{key} is not set and {} has none: run `cargo xtask db start`",
                dev_env.display()
            )
        })
}

impl TestDb {
    /// A fresh, migrated, empty database.
    pub async fn new() -> TestDb {
        let owner_url = env_url("DATABASE_OWNER_URL");
        let app_url = env_url("DATABASE_URL");
        let template = format!("tmpl_{}", migrations_fingerprint());
        // The creation time is in the name, so later runs can drop what
        // earlier ones left behind (a test cannot drop its database on drop).
        let now = chrono::Utc::now().timestamp();
        let name = format!(
            "t_{now:x}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );

        let mut admin = sqlx::PgConnection::connect(&with_database(&owner_url, "postgres"))
            .await
            .expect("connect as owner to the maintenance database");
        // Serialise template creation and cloning across parallel tests.
        sqlx::query("SELECT pg_advisory_lock(7240001)")
            .execute(&mut admin)
            .await
            .expect("advisory lock");
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(&template)
                .fetch_one(&mut admin)
                .await
                .expect("look up template");
        drop_stale_test_databases(&mut admin, now).await;
        if !exists {
            let building = format!("{template}_building");
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{building}\""))
                .execute(&mut admin)
                .await
                .expect("drop half-built template");
            sqlx::query(&format!("CREATE DATABASE \"{building}\""))
                .execute(&mut admin)
                .await
                .expect("create template database");
            let owner = OwnerDb::connect(&with_database(&owner_url, &building))
                .await
                .expect("connect to template");
            owner.migrate().await.expect("migrate template");
            owner.close().await;
            sqlx::query(&format!(
                "ALTER DATABASE \"{building}\" RENAME TO \"{template}\""
            ))
            .execute(&mut admin)
            .await
            .expect("publish template");
        }
        sqlx::query(&format!(
            "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
        ))
        .execute(&mut admin)
        .await
        .expect("clone template");
        sqlx::query("SELECT pg_advisory_unlock(7240001)")
            .execute(&mut admin)
            .await
            .expect("advisory unlock");
        admin.close().await.ok();

        let owner_url = with_database(&owner_url, &name);
        let app_url = with_database(&app_url, &name);
        let owner = OwnerDb::connect(&owner_url).await.expect("connect owner");
        let master = MasterKeys::generate();
        let app = Db::connect(&app_url, 8)
            .await
            .expect("connect app")
            .with_master_keys(master.clone());
        let auth = Auth::new(&app, master.clone(), std::time::Duration::ZERO)
            .await
            .expect("auth services");
        TestDb {
            app,
            auth,
            master,
            owner,
            name,
            app_url,
            owner_url,
        }
    }

    /// Creates a clinic with one user per role and `patients` patients. Patient
    /// names depend on `code`, MR numbers do not (so two clinics share them).
    pub async fn clinic(&self, code: &str, roles: &[Role], patients: usize) -> TestClinic {
        let id = ensure_tenant(&self.owner, code, &format!("Clinic {code}"))
            .await
            .expect("create tenant");
        crate::crypto::rotation::ensure_tenant_keys(&self.app, id)
            .await
            .expect("tenant keys");
        let mut tx = self.app.tenant_tx_for(id).await.expect("tenant tx");
        for role in roles {
            let user = NewUser {
                username: role.as_str().replace('_', ""),
                display_name: format!("{} of {code}", role.label()),
                roles: vec![*role],
            };
            auth::upsert_user(
                &mut tx,
                self.auth.passwords(),
                &user,
                &SecretString::from(TEST_PASSWORD),
            )
            .await
            .expect("create user");
        }
        let seed = code
            .bytes()
            .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        let names = Names::load().expect("names");
        patients_repo::insert_many(&mut tx, &names.patients(seed, patients))
            .await
            .expect("insert patients");
        tx.commit().await.expect("commit clinic");
        TestClinic {
            id,
            code: code.to_owned(),
        }
    }

    /// Signs in as `username` of `clinic` (password `TEST_PASSWORD`) and, for
    /// users who need a second factor, marks it passed (tests of the second
    /// factor itself use `auth` directly). Returns the session and its token.
    pub async fn login(&self, clinic: &TestClinic, username: &str) -> (Session, String) {
        let signed_in = self.password_login(clinic, username).await;
        let token = secrecy::ExposeSecret::expose_secret(&signed_in.token).to_owned();
        if signed_in.session.stage == auth::Stage::Full {
            return (signed_in.session, token);
        }
        self.owner_exec(&format!(
            "UPDATE clinic.sessions SET totp_verified_at = now() WHERE id = '{}'",
            signed_in.session.id
        ))
        .await;
        let authed = self
            .auth
            .begin_authenticated(&self.app, &token)
            .await
            .expect("re-authenticate");
        authed.tx.commit().await.expect("commit");
        (authed.session, token)
    }

    /// Only the password step of signing in.
    pub async fn password_login(&self, clinic: &TestClinic, username: &str) -> auth::SignedIn {
        let creds = Credentials {
            clinic_code: clinic.code.clone(),
            username: username.to_owned(),
            password: SecretString::from(TEST_PASSWORD),
        };
        self.auth
            .login(&self.app, &creds, &ClientInfo::default())
            .await
            .expect("login")
    }

    /// Enrols `username` in TOTP with a fresh secret; returns the secret.
    pub async fn enrol_totp(&self, clinic: &TestClinic, username: &str) -> Vec<u8> {
        let secret = auth::totp::new_secret().to_vec();
        let mut tx = self.app.tenant_tx_for(clinic.id).await.expect("tenant tx");
        let user = auth::user_id(&mut tx, username).await.expect("user");
        self.auth
            .enrol_with_secret(&mut tx, user, &secret)
            .await
            .expect("enrol");
        tx.commit().await.expect("commit");
        secret
    }

    /// Runs SQL as the owner (to break a property on purpose in a test).
    pub async fn owner_exec(&self, sql: &str) {
        let mut conn = sqlx::PgConnection::connect(&self.owner_url)
            .await
            .expect("connect owner");
        sqlx::raw_sql(sql).execute(&mut conn).await.expect(sql);
        conn.close().await.ok();
    }
}

/// Drops test databases created more than two hours ago (no test runs that
/// long), and those of the old naming scheme, so a development cluster does
/// not fill the disk. Best effort: one still in use is skipped.
async fn drop_stale_test_databases(admin: &mut sqlx::PgConnection, now: i64) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 't\\_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    for name in names {
        let created = name
            .strip_prefix("t_")
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(secs, _)| i64::from_str_radix(secs, 16).ok());
        if created.is_none_or(|t| now - t > 2 * 3600) {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\""))
                .execute(&mut *admin)
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_database_name() {
        assert_eq!(
            with_database("postgres://u:p@h:5/healipro", "t_1"),
            "postgres://u:p@h:5/t_1"
        );
        assert_eq!(
            with_database("postgres://u:p@h:5/healipro?sslmode=disable", "x"),
            "postgres://u:p@h:5/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
