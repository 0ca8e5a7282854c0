//! Sign-in stages over HTTP: a session that still owes its second factor (or
//! has not set one up) can reach nothing but its sign-in step — checked for
//! every registered server function, so a new one without `authed()` fails.

mod common;

use common::endpoints::{self, ENDPOINTS, SOME_ID};
use common::TestServer;
use healipro_core::auth::totp;
use healipro_core::rbac::Role;
use reqwest::header::LOCATION;
use reqwest::StatusCode;

#[test]
fn every_server_function_is_classified() {
    let registered: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p)
        .collect();
    for (path, _, _) in ENDPOINTS {
        assert!(registered.contains(path), "{path} is not a server function");
    }
    let missing = endpoints::unclassified();
    assert!(
        missing.is_empty(),
        "server functions missing from tests/common/endpoints.rs: {missing:?}"
    );
}

#[tokio::test]
async fn a_session_owing_its_second_factor_reaches_only_the_sign_in_step() {
    let s = TestServer::start().await;
    let clinic =
        s.db.clinic("stagetest", &[Role::Doctor, Role::Admin], 3)
            .await;
    let secret = s.db.enrol_totp(&clinic, "doctor").await;
    let pending = s.login(&clinic, "doctor").await;

    for (path, _, args) in ENDPOINTS {
        let resp = s.post(path, Some(&pending), args).await;
        let status = resp.status();
        let body = resp.text().await.unwrap();
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert!(
            body.contains("SignInIncomplete") && body.contains("/signin/code"),
            "{path}: {body}"
        );
    }
    // Pages redirect to the code page too.
    for page in ["/patients", "/admin", &format!("/patients/{SOME_ID}/edit")] {
        let resp = s.get(page, Some(&pending)).await;
        assert_eq!(resp.status(), StatusCode::FOUND, "{page}");
        assert_eq!(resp.headers()[LOCATION], "/signin/code", "{page}");
    }

    // The same table with a fully signed-in admin decodes and gets past the
    // stage check (so the 403s above came from the stage, not from bad input).
    let (_, admin_token) = s.db.login(&clinic, "admin").await;
    let admin = TestServer::cookie(&admin_token);
    for (path, _, args) in ENDPOINTS {
        let resp = s.post(path, Some(&admin), args).await;
        let status = resp.status();
        let body = resp.text().await.unwrap();
        assert!(
            !body.contains("Transport") && !body.contains("SignInIncomplete"),
            "{path}: {status} {body}"
        );
    }

    // The code completes the sign-in; then the same session works.
    let code = totp::code_at(&secret, totp::unix_now()).unwrap();
    let resp = s
        .post("/api/auth/totp/verify", Some(&pending), &[("code", &code)])
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("/patients"));
    let resp = s
        .post(
            "/api/patients/list",
            Some(&pending),
            &[("query", ""), ("page", "0")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    // The same code again (a new session): refused.
    let again = s.login(&clinic, "doctor").await;
    let resp = s
        .post("/api/auth/totp/verify", Some(&again), &[("code", &code)])
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_doctor_without_totp_can_reach_only_enrolment() {
    let s = TestServer::start().await;
    let clinic = s.db.clinic("enroltest", &[Role::Doctor], 3).await;
    let resp = s
        .login_attempt(
            clinic.code.as_str(),
            "doctor",
            healipro_core::testing::TEST_PASSWORD,
        )
        .await;
    assert!(resp.text().await.unwrap().contains("/signin/enrol"));
    let cookie = s.login(&clinic, "doctor").await;
    for page in ["/patients", "/admin", "/patients/x", "/"] {
        let resp = s.get(page, Some(&cookie)).await;
        assert_eq!(resp.status(), StatusCode::FOUND, "{page}");
        let to = resp.headers()[LOCATION].to_str().unwrap().to_owned();
        assert!(to == "/signin/enrol" || to == "/patients", "{page} -> {to}");
    }
    let resp = s
        .post(
            "/api/patients/list",
            Some(&cookie),
            &[("query", ""), ("page", "0")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let page = s.get("/signin/enrol", Some(&cookie)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<svg") && html.contains("totp-secret"),
        "enrolment page lacks the QR code"
    );
}

#[tokio::test]
async fn brute_force_over_http_is_throttled_then_locked() {
    let s = TestServer::start().await;
    let clinic = s.db.clinic("brute", &[Role::Operator], 1).await;
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let resp = s
            .login_attempt(clinic.code.as_str(), "operator", "a wrong guess here")
            .await;
        statuses.push(resp.status());
    }
    assert_eq!(&statuses[..3], &[StatusCode::BAD_REQUEST; 3]);
    assert!(
        statuses[3..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let resp = s
        .login_attempt(
            clinic.code.as_str(),
            "operator",
            healipro_core::testing::TEST_PASSWORD,
        )
        .await;
    // Refused even with the right password (the account is locked; this
    // address is throttled too, and that check comes first).
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("Too many failed sign-ins"));
}

#[tokio::test]
async fn the_lock_screen_ends_the_session_on_the_server() {
    let s = TestServer::start().await;
    let clinic = s.db.clinic("locktest", &[Role::Operator], 1).await;
    let cookie = s.login(&clinic, "operator").await;
    let list = [("query", ""), ("page", "0")];
    assert_eq!(
        s.post("/api/patients/list", Some(&cookie), &list)
            .await
            .status(),
        StatusCode::OK
    );
    let resp = s.post("/api/auth/lock", Some(&cookie), &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get(reqwest::header::SET_COOKIE).is_none());
    assert_eq!(
        s.post("/api/patients/list", Some(&cookie), &list)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // Logged as a screen lock, not as a sign-out.
    let mut tx = s.db.app.tenant_tx_for(clinic.id).await.unwrap();
    let outcomes: Vec<String> = healipro_core::auth::events::recent(&mut tx, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.outcome)
        .collect();
    tx.commit().await.unwrap();
    assert_eq!(
        outcomes.first().map(String::as_str),
        Some("screen_locked"),
        "{outcomes:?}"
    );
    assert!(!outcomes.iter().any(|o| o == "signed_out"), "{outcomes:?}");
}
