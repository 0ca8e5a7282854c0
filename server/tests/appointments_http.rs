//! The front desk over HTTP: an operator sets a doctor's hours and books a
//! slot; a second booking of that slot is a 409 naming the first patient;
//! walk-ins get tokens 1 then 2; a pharmacist may not book.

mod common;

use chrono::{Duration, FixedOffset, Utc};
use common::TestServer;
use healipro_core::rbac::Role;
use serde_json::Value;

/// Posts a form and returns the status and the JSON body.
async fn post(s: &TestServer, cookie: &str, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = s.post(path, Some(cookie), form).await;
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    let json = serde_json::from_str(&body).unwrap_or(Value::String(body));
    (status, json)
}

#[tokio::test]
async fn book_conflict_walk_ins_and_permissions() {
    let s = TestServer::start().await;
    let clinic =
        s.db.clinic("desk", &[Role::Operator, Role::Doctor, Role::Pharmacist], 4)
            .await;
    let operator = s.login(&clinic, "operator").await;
    let pharmacist = s.login(&clinic, "pharmacist").await;
    let patients = s.patient_ids(&clinic).await;

    let (status, doctors) = post(&s, &operator, "/api/appointments/doctors", &[]).await;
    assert_eq!(status, 200, "{doctors}");
    let doctor = doctors[0]["id"].as_str().unwrap().to_owned();
    let (status, body) = post(
        &s,
        &operator,
        "/api/appointments/hours",
        &[
            ("doctor", &doctor),
            ("weekdays", "1,2,3,4,5,6,7"),
            ("starts", "08:00"),
            ("ends", "20:00"),
            ("slot_minutes", "15"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Tomorrow in the clinic, 10:00 Pakistan time: always in the future.
    let pkt = FixedOffset::east_opt(5 * 3600).unwrap();
    let tomorrow = (Utc::now() + Duration::days(1))
        .with_timezone(&pkt)
        .date_naive();
    let day = tomorrow.format("%Y-%m-%d").to_string();
    let (status, slots) = post(
        &s,
        &operator,
        "/api/appointments/slots",
        &[("doctor", &doctor), ("day", &day)],
    )
    .await;
    assert_eq!(status, 200, "{slots}");
    let ten = slots
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["time"] == "10:00")
        .unwrap_or_else(|| panic!("no 10:00 slot in {slots}"));
    assert_eq!(ten["taken"], false);
    let starts_at = ten["starts_at"].as_str().unwrap().to_owned();

    let (status, first) = post(
        &s,
        &operator,
        "/api/appointments/book",
        &[
            ("patient", &patients[0]),
            ("doctor", &doctor),
            ("starts_at", &starts_at),
        ],
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["status"], "booked");
    assert_eq!(first["time"], "10:00");
    let first_name = first["patient_name"].as_str().unwrap().to_owned();

    // The same slot again, for someone else: a conflict naming the first.
    let (status, refused) = post(
        &s,
        &operator,
        "/api/appointments/book",
        &[
            ("patient", &patients[1]),
            ("doctor", &doctor),
            ("starts_at", &starts_at),
        ],
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused.to_string().contains(&first_name),
        "the conflict names {first_name}: {refused}"
    );
    let (_, slots) = post(
        &s,
        &operator,
        "/api/appointments/slots",
        &[("doctor", &doctor), ("day", &day)],
    )
    .await;
    let ten = slots
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["time"] == "10:00")
        .unwrap();
    assert_eq!(ten["taken"], true, "the slot shows as taken");

    // Walk-ins today: tokens 1 then 2.
    for (patient, token) in [(&patients[2], 1), (&patients[3], 2)] {
        let (status, walk_in) = post(
            &s,
            &operator,
            "/api/appointments/walk-in",
            &[("patient", patient), ("doctor", &doctor)],
        )
        .await;
        assert_eq!(status, 200, "{walk_in}");
        assert_eq!(walk_in["token"], token, "{walk_in}");
        assert_eq!(walk_in["time"], Value::Null);
        assert_eq!(walk_in["status"], "arrived");
    }
    let (status, today) = post(
        &s,
        &operator,
        "/api/appointments/day",
        &[("day", ""), ("doctor", &doctor)],
    )
    .await;
    assert_eq!(status, 200, "{today}");
    assert_eq!(today["appointments"].as_array().unwrap().len(), 2);
    let (status, called) = post(
        &s,
        &operator,
        "/api/appointments/call-next",
        &[("doctor", &doctor)],
    )
    .await;
    assert_eq!(status, 200, "{called}");
    assert_eq!(called["token"], 1);
    assert_eq!(called["status"], "in_consultation");

    // Cancelling needs a reason.
    let id = first["id"].as_str().unwrap();
    let (status, body) = post(
        &s,
        &operator,
        "/api/appointments/status",
        &[("id", id), ("status", "cancelled"), ("note", " ")],
    )
    .await;
    assert_eq!(status, 400, "{body}");

    // A pharmacist may not book, nor see the day.
    let (status, _) = post(
        &s,
        &pharmacist,
        "/api/appointments/book",
        &[
            ("patient", &patients[1]),
            ("doctor", &doctor),
            ("starts_at", &starts_at),
        ],
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post(
        &s,
        &pharmacist,
        "/api/appointments/day",
        &[("day", ""), ("doctor", "")],
    )
    .await;
    assert_eq!(status, 403);
}
