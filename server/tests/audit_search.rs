//! The audit search over HTTP (issue 7): it answers "who opened patient X",
//! shows decrypted details, never shows another clinic's entries whatever
//! the filter, pages by seq without overlap, and refuses roles without the
//! audit permissions.

mod common;

use common::TestServer;
use healipro_core::audit::repo;
use healipro_core::rbac::Role;
use healipro_core::testing::TestClinic;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashSet;

const FILTERS: [&str; 6] = ["user", "patient", "action", "from", "to", "workstation"];

/// Calls a server function; returns the status and the JSON body.
async fn call(
    s: &TestServer,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let resp = s.post(path, Some(cookie), form).await;
    let status = resp.status();
    let body = resp.text().await.unwrap();
    let json = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: {status} {body}"));
    (status, json)
}

/// One page of the audit search with `filter` (the rest empty).
async fn search(
    s: &TestServer,
    cookie: &str,
    filter: &[(&str, &str)],
    before_seq: i64,
) -> (StatusCode, Value) {
    let before = before_seq.to_string();
    let mut form: Vec<(&str, &str)> = FILTERS
        .iter()
        .map(|k| {
            (
                *k,
                filter.iter().find(|(f, _)| f == k).map_or("", |(_, v)| *v),
            )
        })
        .collect();
    form.push(("before_seq", &before));
    call(s, cookie, "/api/audit/search", &form).await
}

/// A search that must succeed: its entries and the `older` cursor.
async fn page(
    s: &TestServer,
    cookie: &str,
    filter: &[(&str, &str)],
    before_seq: i64,
) -> (Vec<Value>, Option<i64>) {
    let (status, body) = search(s, cookie, filter, before_seq).await;
    assert_eq!(status, StatusCode::OK, "{filter:?}: {body}");
    (
        body["entries"].as_array().unwrap().clone(),
        body["older"].as_i64(),
    )
}

/// Every entry matching `filter`, page after page, checking that each page
/// is newest first and starts below the previous one.
async fn all_pages(s: &TestServer, cookie: &str, filter: &[(&str, &str)]) -> (Vec<Value>, usize) {
    let mut out: Vec<Value> = Vec::new();
    let mut before = 0;
    let mut pages = 0;
    loop {
        let (entries, older) = page(s, cookie, filter, before).await;
        pages += 1;
        let seqs: Vec<i64> = entries.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] > w[1]),
            "not newest first: {seqs:?}"
        );
        if let (Some(prev), Some(first)) = (out.last(), seqs.first()) {
            assert!(*first < prev["seq"].as_i64().unwrap(), "pages overlap");
        }
        out.extend(entries);
        match older {
            Some(seq) => {
                assert_eq!(
                    Some(seq),
                    seqs.last().copied(),
                    "older is the page's last seq"
                );
                before = seq;
            }
            None => break,
        }
        assert!(pages < 100, "paging does not end");
    }
    (out, pages)
}

fn str_of<'a>(e: &'a Value, key: &str) -> &'a str {
    e[key].as_str().unwrap_or_default()
}

async fn user_id(s: &TestServer, clinic: &TestClinic, username: &str) -> String {
    let mut tx = s.db.app.tenant_tx_for(clinic.id).await.unwrap();
    let id = healipro_core::auth::user_id(&mut tx, username)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id.to_string()
}

async fn chain_seqs(s: &TestServer, clinic: &TestClinic) -> Vec<i64> {
    let mut tx = s.db.app.tenant_tx_for(clinic.id).await.unwrap();
    let entries = repo::chain_page(&mut tx, 0, 100_000).await.unwrap();
    tx.commit().await.unwrap();
    entries.iter().map(|e| e.entry.seq).collect()
}

async fn admin_cookie(s: &TestServer, clinic: &TestClinic) -> String {
    let (_, token) = s.db.login(clinic, "admin").await;
    TestServer::cookie(&token)
}

#[tokio::test]
async fn the_search_answers_who_opened_a_patient_with_details_decrypted() {
    let s = TestServer::start().await;
    let clinic =
        s.db.clinic("alpha", &[Role::Admin, Role::Auditor, Role::Operator], 3)
            .await;
    let admin = admin_cookie(&s, &clinic).await;
    let auditor = s.login(&clinic, "auditor").await;
    let ids = s.patient_ids(&clinic).await;
    let (status, opened) = call(&s, &admin, "/api/patients/get", &[("id", &ids[0])]).await;
    assert_eq!(status, StatusCode::OK);
    let mr = str_of(&opened, "mr_number").to_owned();
    let (status, _) = call(
        &s,
        &admin,
        "/api/patients/list",
        &[("query", "MR-00000"), ("page", "0")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // Who opened patient X: the auditor filters by the MR number as typed.
    let (entries, older) = page(&s, &auditor, &[("patient", &mr.to_lowercase())], 0).await;
    assert_eq!(older, None);
    let e = entries
        .iter()
        .find(|e| str_of(e, "action") == "patient.opened")
        .unwrap_or_else(|| panic!("no patient.opened entry: {entries:?}"));
    assert_eq!(str_of(e, "actor_username"), "admin");
    assert_eq!(str_of(e, "actor_display_name"), "Clinic admin of alpha");
    assert_eq!(
        str_of(e, "actor_user_id"),
        user_id(&s, &clinic, "admin").await
    );
    assert_eq!(str_of(e, "patient_id"), ids[0]);
    assert_eq!(str_of(e, "patient_mr_number"), mr);
    assert_eq!(str_of(e, "ip"), "127.0.0.1");
    assert!(str_of(e, "at").len() >= 20, "clinic time: {e}");
    assert!(
        str_of(e, "at_iso").ends_with("+05:00"),
        "clinic offset: {e}"
    );
    // Only entries about that patient.
    assert!(
        entries.iter().all(|e| str_of(e, "patient_id") == ids[0]),
        "{entries:?}"
    );
    // The bare number finds the same patient; the search names the patient.
    let number = mr.trim_start_matches("MR-").trim_start_matches('0');
    let (status, body) = search(&s, &auditor, &[("patient", number)], 0).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(str_of(&body["patient"], "mr_number"), mr);
    assert_eq!(body["entries"].as_array().unwrap().len(), entries.len());

    // Details are decrypted: the admin's search, by person and action.
    let admin_id = user_id(&s, &clinic, "admin").await;
    let (searched, _) = page(
        &s,
        &auditor,
        &[("user", &admin_id), ("action", "patients.searched")],
        0,
    )
    .await;
    assert_eq!(searched.len(), 1, "{searched:?}");
    let details = searched[0]["details"]["Json"]
        .as_str()
        .expect("readable details");
    let details: Value = serde_json::from_str(details).unwrap();
    assert_eq!(details["kind"], "mr_number");
    assert_eq!(details["query"], "MR-00000");

    // The patient page's history shows the same entry.
    let (status, history) = call(
        &s,
        &auditor,
        "/api/audit/patient",
        &[("patient_id", &ids[0])],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|e| str_of(e, "action") == "patient.opened"
                && str_of(e, "actor_username") == "admin")
    );

    // Dates: today (clinic time) holds them; a range ending before it
    // starts, an unknown MR number and an unknown action are explained.
    let (all_today, _) = page(
        &s,
        &auditor,
        &[("from", "2000-01-01"), ("to", "2999-12-31")],
        0,
    )
    .await;
    assert!(all_today.len() >= entries.len());
    let (none, _) = page(
        &s,
        &auditor,
        &[("from", "2001-01-01"), ("to", "2001-01-31")],
        0,
    )
    .await;
    assert!(none.is_empty());
    // Dates are clinic days (UTC+05:00).
    let clinic_day = |days: i64| {
        (chrono::Utc::now() + chrono::Duration::hours(5) + chrono::Duration::days(days))
            .date_naive()
            .to_string()
    };
    let (today, _) = page(
        &s,
        &auditor,
        &[
            ("from", &clinic_day(0)),
            ("to", &clinic_day(0)),
            ("patient", &mr),
        ],
        0,
    )
    .await;
    assert_eq!(today, entries, "today's entries about the patient");
    for range in [
        [("from", clinic_day(1)), ("to", clinic_day(1))],
        [("from", clinic_day(-1)), ("to", clinic_day(-1))],
    ] {
        let range: Vec<(&str, &str)> = range.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (none, _) = page(&s, &auditor, &range, 0).await;
        assert!(none.is_empty(), "{range:?}: {none:?}");
    }
    // (filter, field blamed, what the message says)
    type Refused = (
        &'static [(&'static str, &'static str)],
        &'static str,
        &'static str,
    );
    let refused: [Refused; 5] = [
        (
            &[("from", "2026-03-02"), ("to", "2026-03-01")],
            "from",
            "is after",
        ),
        (
            &[("patient", "MR-999999")],
            "patient",
            "No patient with MR number “MR-999999”",
        ),
        (
            &[("action", "patient.deleted")],
            "action",
            "Choose an action",
        ),
        (&[("to", "02/03/2026")], "to", "“To” is not a date"),
        (&[("user", "admin")], "user", "Choose a person"),
    ];
    for (filter, field, says) in refused {
        let (status, body) = search(&s, &auditor, filter, 0).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{filter:?}: {body}");
        assert_eq!(body["Validation"]["field"], field, "{body}");
        let message = body["Validation"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{filter:?}: {message}");
    }
}

#[tokio::test]
async fn a_clinic_never_sees_another_clinics_entries() {
    let s = TestServer::start().await;
    let a = s.db.clinic("alpha", &[Role::Admin, Role::Auditor], 3).await;
    let b = s.db.clinic("beta", &[Role::Admin, Role::Auditor], 3).await;
    let (a_admin, b_admin) = (admin_cookie(&s, &a).await, admin_cookie(&s, &b).await);
    let (a_auditor, b_auditor) = (s.login(&a, "auditor").await, s.login(&b, "auditor").await);
    let (a_ids, b_ids) = (s.patient_ids(&a).await, s.patient_ids(&b).await);
    for (cookie, id) in [
        (&a_admin, &a_ids[0]),
        (&b_admin, &b_ids[0]),
        (&b_admin, &b_ids[1]),
    ] {
        let (status, _) = call(&s, cookie, "/api/patients/get", &[("id", id)]).await;
        assert_eq!(status, StatusCode::OK);
    }
    let b_admin_id = user_id(&s, &b, "admin").await;
    let b_users: HashSet<String> = [b_admin_id.clone(), user_id(&s, &b, "auditor").await].into();
    let b_patients: HashSet<&str> = b_ids.iter().map(String::as_str).collect();
    let leaks = |entries: &[Value]| -> Vec<String> {
        entries
            .iter()
            .filter(|e| {
                b_users.contains(str_of(e, "actor_user_id"))
                    || b_patients.contains(str_of(e, "patient_id"))
            })
            .map(Value::to_string)
            .collect()
    };

    // B's own auditor sees B's entries (so there is something to leak).
    let (b_seen, _) = page(&s, &b_auditor, &[("patient", &b_ids[0])], 0).await;
    assert!(
        b_seen
            .iter()
            .any(|e| str_of(e, "action") == "patient.opened"),
        "{b_seen:?}"
    );

    // No filter: exactly A's chain, nothing of B.
    let (seen, _) = all_pages(&s, &a_auditor, &[]).await;
    let seqs: Vec<i64> = seen.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    let mut chain = chain_seqs(&s, &a).await;
    chain.reverse();
    assert_eq!(seqs, chain, "A's search is A's chain, newest first");
    assert!(
        leaks(&seen).is_empty(),
        "B's entries in A's search: {:?}",
        leaks(&seen)
    );

    // Filtered by B's user: nothing. By B's patient id: no such patient here.
    let (by_user, _) = page(&s, &a_auditor, &[("user", &b_admin_id)], 0).await;
    assert!(by_user.is_empty(), "{by_user:?}");
    let (status, body) = search(&s, &a_auditor, &[("patient", &b_ids[0])], 0).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["Validation"]["field"], "patient");
    assert!(!body.to_string().contains(&b_ids[0]));
    let (status, history) = call(
        &s,
        &a_auditor,
        "/api/audit/patient",
        &[("patient_id", &b_ids[0])],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history, Value::Array(Vec::new()));
    // B's MR numbers exist in A too (they are per clinic): they name A's
    // patient, never B's.
    let (status, body) = search(&s, &a_auditor, &[("patient", "MR-000001")], 0).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        a_ids.contains(&str_of(&body["patient"], "id").to_owned()),
        "{body}"
    );
    assert!(leaks(body["entries"].as_array().unwrap()).is_empty());
}

#[tokio::test]
async fn pages_by_seq_are_disjoint_newest_first_and_cover_everything() {
    let s = TestServer::start().await;
    let clinic =
        s.db.clinic("alpha", &[Role::Admin, Role::Auditor, Role::Operator], 1)
            .await;
    let operator = s.login(&clinic, "operator").await;
    let auditor = s.login(&clinic, "auditor").await;
    // More than two pages of 50.
    for n in 0..120 {
        let q = format!("name {n}");
        let (status, _) = call(
            &s,
            &operator,
            "/api/patients/list",
            &[("query", &q), ("page", "0")],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (seen, pages) = all_pages(&s, &auditor, &[]).await;
    assert!(pages >= 3, "{pages} pages");
    let seqs: Vec<i64> = seen.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    let unique: HashSet<i64> = seqs.iter().copied().collect();
    assert_eq!(unique.len(), seqs.len(), "an entry on two pages");
    let mut chain = chain_seqs(&s, &clinic).await;
    chain.reverse();
    assert_eq!(seqs, chain);

    // Filtered: the same, within the filter.
    let (searched, pages) = all_pages(&s, &auditor, &[("action", "patients.searched")]).await;
    assert_eq!(searched.len(), 120);
    assert_eq!(pages, 3);
    assert!(searched
        .iter()
        .all(|e| str_of(e, "action") == "patients.searched"));
    // Past the oldest entry there is nothing.
    let (none, older) = page(&s, &auditor, &[], 1).await;
    assert!(none.is_empty() && older.is_none());
}

#[tokio::test]
async fn only_audit_roles_search_and_only_admins_export() {
    let s = TestServer::start().await;
    let clinic =
        s.db.clinic(
            "alpha",
            &[Role::Admin, Role::Auditor, Role::Operator, Role::Doctor],
            2,
        )
        .await;
    let admin = admin_cookie(&s, &clinic).await;
    let auditor = s.login(&clinic, "auditor").await;
    let operator = s.login(&clinic, "operator").await;
    let (_, doctor) = s.db.login(&clinic, "doctor").await;
    let doctor = TestServer::cookie(&doctor);
    let ids = s.patient_ids(&clinic).await;
    call(&s, &operator, "/api/patients/get", &[("id", &ids[0])]).await;

    for cookie in [&operator, &doctor] {
        let (status, body) = search(&s, cookie, &[], 0).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body, Value::String("Forbidden".into()));
        let (status, _) = call(&s, cookie, "/api/audit/patient", &[("patient_id", &ids[0])]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = call(&s, cookie, "/api/audit/choices", &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // The auditor reads but does not export.
    let (status, _) = call(&s, &auditor, "/api/audit/choices", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &s,
        &auditor,
        "/api/audit/export",
        &[("from", ""), ("to", "")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The admin's export: signed JSON Lines, named after the clinic, and
    // itself logged.
    let (status, choices) = call(&s, &admin, "/api/audit/choices", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(choices["actions"]
        .as_array()
        .unwrap()
        .contains(&Value::from("patient.opened")));
    assert!(choices["users"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| str_of(u, "username") == "auditor"));
    let (status, body) = call(
        &s,
        &admin,
        "/api/audit/export",
        &[("from", "2026-03-02"), ("to", "2026-03-01")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, export) = call(&s, &admin, "/api/audit/export", &[("from", ""), ("to", "")]).await;
    assert_eq!(status, StatusCode::OK, "{export}");
    assert_eq!(str_of(&export, "filename"), "audit-alpha-start-now.jsonl");
    let lines: Vec<Value> = str_of(&export, "jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let entries = export["entries"].as_u64().unwrap();
    assert!(
        entries > 0 && lines.len() as u64 >= entries + 2,
        "{} lines",
        lines.len()
    );
    assert_eq!(lines[0]["clinic_code"], "alpha");
    assert!(
        lines.last().unwrap()["signature"].is_object(),
        "the last line signs the file"
    );
    let (logged, _) = page(&s, &auditor, &[("action", "export.created")], 0).await;
    assert_eq!(logged.len(), 1);
    assert_eq!(str_of(&logged[0], "actor_username"), "admin");
}

#[tokio::test]
async fn dates_are_clinic_days() {
    let s = TestServer::start().await;
    let clinic =
        s.db.clinic("alpha", &[Role::Auditor, Role::Operator], 1)
            .await;
    let operator = s.login(&clinic, "operator").await;
    for _ in 0..4 {
        let (status, _) = call(
            &s,
            &operator,
            "/api/patients/list",
            &[("query", ""), ("page", "0")],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let auditor = s.login(&clinic, "auditor").await;
    // Back-date the first entries as a malicious DBA could (the search reads,
    // it does not verify): 1 and 2 late on 1 March in the clinic, 3 and 4
    // just after its midnight — still 1 March in UTC.
    s.db.owner_exec(&format!(
        "ALTER TABLE clinic.audit_log DISABLE TRIGGER USER;
         UPDATE clinic.audit_log SET at = '2026-03-01 23:30:00+05' WHERE tenant_id = '{t}' AND seq <= 2;
         UPDATE clinic.audit_log SET at = '2026-03-02 00:30:00+05' WHERE tenant_id = '{t}' AND seq IN (3, 4);
         ALTER TABLE clinic.audit_log ENABLE TRIGGER USER;",
        t = clinic.id
    ))
    .await;
    let seqs = |entries: Vec<Value>| -> Vec<i64> {
        entries.iter().map(|e| e["seq"].as_i64().unwrap()).collect()
    };
    let newest = chain_seqs(&s, &clinic).await.last().copied().unwrap();
    for (range, expect) in [
        (
            vec![("from", "2026-03-01"), ("to", "2026-03-01")],
            vec![2, 1],
        ),
        (
            vec![("from", "2026-03-02"), ("to", "2026-03-02")],
            vec![4, 3],
        ),
        (vec![("to", "2026-03-01")], vec![2, 1]),
        (
            vec![("from", "2026-02-01"), ("to", "2026-03-02")],
            vec![4, 3, 2, 1],
        ),
        (vec![("from", "2026-03-03"), ("to", "2026-03-31")], vec![]),
        (vec![("from", "2026-02-01"), ("to", "2026-02-28")], vec![]),
    ] {
        let (entries, _) = page(&s, &auditor, &range, 0).await;
        assert_eq!(seqs(entries), expect, "{range:?}");
    }
    let (since, _) = page(&s, &auditor, &[("from", "2026-03-02")], 0).await;
    let since = seqs(since);
    assert_eq!(since.first(), Some(&newest));
    assert_eq!(since.last(), Some(&3));
    // Within dates, paging still goes by seq.
    let (older, _) = page(
        &s,
        &auditor,
        &[("from", "2026-03-01"), ("to", "2026-03-02")],
        3,
    )
    .await;
    assert_eq!(seqs(older), vec![2, 1]);
}
