//! Black-box tests: the real router on a random port, a fresh database, driven
//! over HTTP like a browser would (cookies handled by hand: `__Host-` cookies
//! are Secure, and this is plain loopback HTTP).

use healipro_core::rbac::Role;
use healipro_core::testing::TestClinic;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;

mod common;

use common::TestServer;

async fn two_clinics(s: &TestServer) -> (TestClinic, TestClinic) {
    (
        s.db.clinic("alpha", &[Role::Operator, Role::Pharmacist], 30)
            .await,
        s.db.clinic("beta", &[Role::Operator], 20).await,
    )
}

#[tokio::test]
async fn health_check_answers() {
    let s = TestServer::start().await;
    let resp = s.get("/healthz", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn signed_in_user_reads_own_patients_and_nothing_of_another_clinic() {
    let s = TestServer::start().await;
    let (a, b) = two_clinics(&s).await;
    let cookie = s.login(&a, "operator").await;

    // List and search.
    let resp = s
        .post(
            "/api/patients/list",
            Some(&cookie),
            &[("query", ""), ("page", "0")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let page: serde_json::Value = resp.json().await.unwrap();
    let listed: Vec<String> = page["patients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed.len(), 25);
    assert_eq!(page["has_more"], true);
    let a_ids = s.patient_ids(&a).await;
    let b_ids = s.patient_ids(&b).await;
    assert!(listed.iter().all(|id| a_ids.contains(id)));

    let resp = s
        .post(
            "/api/patients/list",
            Some(&cookie),
            &[("query", "MR-000007"), ("page", "0")],
        )
        .await;
    let found: serde_json::Value = resp.json().await.unwrap();
    let found = found["patients"].as_array().unwrap();
    assert_eq!(found.len(), 1);
    assert!(a_ids.contains(&found[0]["id"].as_str().unwrap().to_owned()));

    // Own patient by id.
    let resp = s
        .post("/api/patients/get", Some(&cookie), &[("id", &a_ids[0])])
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let p: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(p["id"], a_ids[0].as_str());

    // Another clinic's patient: the same answer as a made-up or malformed id.
    let mut answers = Vec::new();
    for id in [
        b_ids[0].as_str(),
        "7f1c1c36-1111-4111-8111-111111111111",
        "not-a-uuid",
    ] {
        let resp = s
            .post("/api/patients/get", Some(&cookie), &[("id", id)])
            .await;
        answers.push((resp.status(), resp.text().await.unwrap()));
    }
    assert_eq!(answers[0].0, StatusCode::NOT_FOUND);
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
}

#[tokio::test]
async fn requests_without_a_valid_session_are_refused() {
    let s = TestServer::start().await;
    let (a, _) = two_clinics(&s).await;
    for cookie in [
        None,
        Some("__Host-healipro_session=garbage".to_owned()),
        Some(format!(
            "__Host-healipro_session={}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            a.id
        )),
    ] {
        let resp = s
            .post(
                "/api/patients/list",
                cookie.as_deref(),
                &[("query", ""), ("page", "0")],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let body = resp.text().await.unwrap();
        assert!(body.contains("Unauthenticated"), "{body}");
    }
}

#[tokio::test]
async fn wrong_password_gets_the_generic_message() {
    let s = TestServer::start().await;
    let (a, _) = two_clinics(&s).await;
    let resp = s
        .login_attempt(a.code.as_str(), "operator", "not the password")
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get(SET_COOKIE).is_none());
    assert!(resp.text().await.unwrap().contains("is not right"));
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let s = TestServer::start().await;
    let (a, _) = two_clinics(&s).await;
    let cookie = s.login(&a, "operator").await;
    let resp = s.post("/api/auth/logout", Some(&cookie), &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    // Replaying the old cookie no longer works.
    let resp = s
        .post(
            "/api/patients/list",
            Some(&cookie),
            &[("query", ""), ("page", "0")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let s = TestServer::start().await;
    let (a, _) = two_clinics(&s).await;
    let cookie = s.login(&a, "operator").await;
    let resp = s
        .http
        .post(format!("{}/api/patients/list", s.base))
        .header(COOKIE, &cookie)
        .header("origin", "https://evil.example")
        .form(&[("query", ""), ("page", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = s
        .http
        .post(format!("{}/api/patients/list", s.base))
        .header(COOKIE, &cookie)
        .header("origin", &s.base)
        .header("sec-fetch-site", "same-origin")
        .form(&[("query", ""), ("page", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn pages_carry_security_headers_and_are_not_cached() {
    let s = TestServer::start().await;
    let resp = s.get("/login", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-store");
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert!(h[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let html = resp.text().await.unwrap();
    for label in ["Clinic code", "Username", "Password", "Sign in"] {
        assert!(html.contains(label), "login page lacks {label}");
    }
}

#[tokio::test]
async fn pages_send_a_signed_out_visitor_to_login_and_render_for_a_user() {
    let s = TestServer::start().await;
    let (a, b) = two_clinics(&s).await;
    let resp = s.get("/patients", None).await;
    assert!(resp.status().is_redirection(), "{}", resp.status());
    assert_eq!(resp.headers()[LOCATION], "/login");

    let cookie = s.login(&a, "operator").await;
    let resp = s.get("/patients", Some(&cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Search patients"));
    assert!(html.contains("MR-000001"));

    let a_id = &s.patient_ids(&a).await[0];
    let resp = s.get(&format!("/patients/{a_id}"), Some(&cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("MR number"));

    let b_id = &s.patient_ids(&b).await[0];
    let resp = s.get(&format!("/patients/{b_id}"), Some(&cookie)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(resp.text().await.unwrap().contains("Patient not found"));
}

#[tokio::test]
async fn who_am_i_answers_nobody_without_an_error_status() {
    let s = TestServer::start().await;
    let (a, _) = two_clinics(&s).await;
    let resp = s.post("/api/auth/me", None, &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap(),
        serde_json::Value::Null
    );

    let cookie = s.login(&a, "pharmacist").await;
    let resp = s.post("/api/auth/me", Some(&cookie), &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let me: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(me["username"], "pharmacist");
    assert_eq!(me["clinic_name"], "Clinic alpha");
    assert_eq!(me["roles"], serde_json::json!(["Pharmacist"]));
}
