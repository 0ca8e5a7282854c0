//! Shared black-box test fixture: the real router on a random port with a
//! fresh database, driven over HTTP like a browser would (cookies handled by
//! hand: `__Host-` cookies are Secure, and this is plain loopback HTTP).
#![allow(dead_code)]

pub mod endpoints;

use healipro_core::testing::{TestClinic, TestDb, TEST_PASSWORD};
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::StatusCode;

/// The audit signing key of test servers (exports are checked against it).
pub const TEST_AUDIT_SEED: [u8; 32] = [7u8; 32];

pub struct TestServer {
    pub base: String,
    pub http: reqwest::Client,
    pub db: TestDb,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let db = TestDb::new().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = healipro_server::AppState {
            leptos_options: healipro_server::leptos_options(addr),
            services: healipro_server::services(
                &db.app_url,
                4,
                db.master.clone(),
                Some(healipro_core::audit::signing::AuditSigner::from_seed(
                    TEST_AUDIT_SEED,
                )),
            )
            .await
            .unwrap(),
        };
        tokio::spawn(async move {
            axum::serve(
                listener,
                healipro_server::router(state)
                    .into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .unwrap();
        });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestServer {
            base: format!("http://{addr}"),
            http,
            db,
        }
    }

    pub async fn post(
        &self,
        path: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self.http.post(format!("{}{path}", self.base)).form(form);
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        req.send().await.unwrap()
    }

    /// A page load, as a browser makes it (the SSR redirect answers 302 only to
    /// clients that accept HTML).
    pub async fn get(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut req = self
            .http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::ACCEPT, "text/html,application/xhtml+xml");
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        req.send().await.unwrap()
    }

    /// The cookie pair for a session token (e.g. from `TestDb::login`).
    pub fn cookie(token: &str) -> String {
        format!("__Host-healipro_session={token}")
    }

    /// One password sign-in attempt.
    pub async fn login_attempt(
        &self,
        clinic_code: &str,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        self.post(
            "/api/auth/login",
            None,
            &[
                ("clinic_code", clinic_code),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// Signs in and returns the `name=value` cookie pair.
    pub async fn login(&self, clinic: &TestClinic, username: &str) -> String {
        let resp = self
            .login_attempt(clinic.code.as_str(), username, TEST_PASSWORD)
            .await;
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "login failed: {:?}",
            resp.text().await
        );
        let set_cookie = resp.headers()[SET_COOKIE].to_str().unwrap().to_owned();
        assert!(
            set_cookie.starts_with("__Host-healipro_session="),
            "{set_cookie}"
        );
        for attr in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
            assert!(
                set_cookie.contains(attr),
                "cookie lacks {attr}: {set_cookie}"
            );
        }
        set_cookie.split(';').next().unwrap().to_owned()
    }

    pub async fn patient_ids(&self, clinic: &TestClinic) -> Vec<String> {
        let mut tx = self.db.app.tenant_tx_for(clinic.id).await.unwrap();
        let all = healipro_core::patients::repo::search(
            &mut tx,
            &healipro_core::patients::PatientQuery::All,
            1000,
            0,
        )
        .await
        .unwrap();
        tx.rollback().await.unwrap();
        all.into_iter().map(|p| p.id.to_string()).collect()
    }
}
