//! Sign-in stages over HTTP: a session that still owes its second factor (or
//! has not set one up) can reach nothing but its sign-in step — checked for
//! every registered server function, so a new one without `authed()` fails.

mod common;

use common::TestServer;
use healipro_core::auth::totp;
use healipro_core::rbac::Role;
use reqwest::header::LOCATION;
use reqwest::StatusCode;

const SOME_ID: &str = "6f1c2b1e-0000-4000-8000-000000000000";

/// Every server function a signed-in user calls, with arguments that decode.
const ENDPOINTS: &[(&str, &[(&str, &str)])] = &[
    ("/api/auth/ping", &[]),
    ("/api/patients/list", &[("query", ""), ("page", "0")]),
    ("/api/patients/get", &[("id", SOME_ID)]),
    (
        "/api/patients/update",
        &[
            ("id", SOME_ID),
            ("full_name", "Ayesha Bibi"),
            ("father_or_husband_name", ""),
            ("sex", "female"),
            ("date_of_birth", ""),
        ],
    ),
    ("/api/drafts/get", &[("form_key", "patient-edit:x1")]),
    (
        "/api/drafts/save",
        &[("form_key", "patient-edit:x1"), ("payload", "{}")],
    ),
    ("/api/drafts/discard", &[("form_key", "patient-edit:x1")]),
    ("/api/admin/workstations/list", &[]),
    (
        "/api/admin/workstations/save",
        &[
            ("id", ""),
            ("name", "Room 9"),
            ("location", ""),
            ("idle_minutes", "10"),
        ],
    ),
    ("/api/admin/workstations/delete", &[("id", SOME_ID)]),
    ("/api/admin/workstations/bind", &[("id", SOME_ID)]),
    ("/api/admin/settings/get", &[]),
    (
        "/api/admin/settings/save",
        &[("max_idle_minutes", "30"), ("default_idle_minutes", "15")],
    ),
    ("/api/admin/security/overview", &[]),
    ("/api/admin/users/unlock", &[("username", "nobody")]),
    ("/api/admin/users/reset-password", &[("username", "nobody")]),
    (
        "/api/admin/users/sign-out-everywhere",
        &[("username", "nobody")],
    ),
];

/// The sign-in steps themselves (and who-am-I / logout), callable before `Full`.
const SIGN_IN_STEPS: &[&str] = &[
    "/api/auth/login",
    "/api/auth/logout",
    "/api/auth/lock",
    "/api/auth/me",
    "/api/auth/totp/verify",
    "/api/auth/totp/enrolment",
    "/api/auth/totp/confirm",
    "/api/auth/password/change",
];

#[test]
fn every_server_function_is_classified() {
    let registered: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p)
        .collect();
    for (path, _) in ENDPOINTS {
        assert!(registered.contains(path), "{path} is not a server function");
    }
    let mut missing = Vec::new();
    for path in registered {
        if !ENDPOINTS.iter().any(|(p, _)| *p == path) && !SIGN_IN_STEPS.contains(&path) {
            missing.push(path);
        }
    }
    assert!(
        missing.is_empty(),
        "server functions missing from the stage test table: {missing:?}"
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

    for (path, args) in ENDPOINTS {
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
    for (path, args) in ENDPOINTS {
        let resp = s.post(path, Some(&admin), args).await;
        let status = resp.status();
        let body = resp.text().await.unwrap();
        assert!(
            status != StatusCode::BAD_REQUEST && !body.contains("SignInIncomplete"),
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
}
