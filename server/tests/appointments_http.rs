//! The front desk over HTTP: an operator sets a doctor's hours and books a
//! slot; a second booking of that slot is a 409 naming the first patient;
//! walk-ins get tokens 1 then 2; a pharmacist may not book. Leave refuses
//! bookings with its reason until withdrawn; a reschedule into a taken slot
//! names who holds it; the "patients seen" report counts this clinic only.

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

/// The form's slot start for `HH:MM` Pakistan time on `day` (RFC 3339).
fn starts(day: &str, hhmm: &str) -> String {
    format!("{day}T{hhmm}:00+05:00")
}

#[tokio::test]
async fn leave_refuses_bookings_reschedule_conflicts_and_the_report_over_http() {
    let s = TestServer::start().await;
    let clinic =
        s.db.clinic(
            "front",
            &[Role::Operator, Role::Doctor, Role::Pharmacist],
            4,
        )
        .await;
    let other =
        s.db.clinic("other", &[Role::Operator, Role::Doctor], 2)
            .await;
    let operator = s.login(&clinic, "operator").await;
    let pharmacist = s.login(&clinic, "pharmacist").await;
    // The doctor signs in with a second factor: the fixture's session.
    let doctor_cookie = TestServer::cookie(&s.db.login(&clinic, "doctor").await.1);
    let elsewhere = s.login(&other, "operator").await;
    let patients = s.patient_ids(&clinic).await;

    let (_, doctors) = post(&s, &operator, "/api/appointments/doctors", &[]).await;
    let doctor = doctors[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(doctors[0]["me"], false, "the operator is not the doctor");
    let (_, mine) = post(&s, &doctor_cookie, "/api/appointments/doctors", &[]).await;
    assert_eq!(
        mine[0]["me"], true,
        "the doctor is told which is them: {mine}"
    );
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
            ("fee", "1500"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The hours form loads them back.
    let (status, hours) = post(
        &s,
        &operator,
        "/api/appointments/hours/get",
        &[("doctor", &doctor)],
    )
    .await;
    assert_eq!(status, 200, "{hours}");
    assert_eq!(hours.as_array().unwrap().len(), 7);
    assert_eq!(hours[0]["starts"], "08:00");
    assert_eq!(hours[0]["fee_pkr"], 1500);

    let pkt = FixedOffset::east_opt(5 * 3600).unwrap();
    let clinic_day = |n: i64| {
        (Utc::now() + Duration::days(n))
            .with_timezone(&pkt)
            .date_naive()
            .format("%Y-%m-%d")
            .to_string()
    };
    let (tomorrow, away) = (clinic_day(1), clinic_day(2));

    // Leave on the day after tomorrow: listed, no slots, a booking refused
    // with the reason.
    let (status, id) = post(
        &s,
        &operator,
        "/api/appointments/exceptions/add",
        &[
            ("doctor", &doctor),
            ("first_day", &away),
            ("last_day", ""),
            ("reason", "Family wedding"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{id}");
    let id = id.as_str().unwrap().to_owned();
    let (status, listed) = post(&s, &operator, "/api/appointments/exceptions", &[]).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed[0]["id"], id.as_str(), "{listed}");
    assert_eq!(listed[0]["first_day"], away.as_str());
    assert_eq!(listed[0]["reason"], "Family wedding");
    let (_, slots) = post(
        &s,
        &operator,
        "/api/appointments/slots",
        &[("doctor", &doctor), ("day", &away)],
    )
    .await;
    assert_eq!(slots, serde_json::json!([]), "no slots while away");
    let book = |patient: String, at: String| {
        let (s, operator, doctor) = (&s, operator.clone(), doctor.clone());
        async move {
            post(
                s,
                &operator,
                "/api/appointments/book",
                &[
                    ("patient", &patient),
                    ("doctor", &doctor),
                    ("starts_at", &at),
                ],
            )
            .await
        }
    };
    let (status, refused) = book(patients[0].clone(), starts(&away, "10:00")).await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused.to_string().contains("away") && refused.to_string().contains("Family wedding"),
        "{refused}"
    );
    // The pharmacist may not add or withdraw leave; another clinic does not
    // see it nor withdraw it.
    let (status, _) = post(
        &s,
        &pharmacist,
        "/api/appointments/exceptions/withdraw",
        &[("id", &id)],
    )
    .await;
    assert_eq!(status, 403);
    let (_, theirs) = post(&s, &elsewhere, "/api/appointments/exceptions", &[]).await;
    assert_eq!(theirs, serde_json::json!([]));
    let (status, _) = post(
        &s,
        &elsewhere,
        "/api/appointments/exceptions/withdraw",
        &[("id", &id)],
    )
    .await;
    assert_eq!(status, 404);
    // Withdrawn: the day books again.
    let (status, body) = post(
        &s,
        &operator,
        "/api/appointments/exceptions/withdraw",
        &[("id", &id)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = book(patients[0].clone(), starts(&away, "10:00")).await;
    assert_eq!(status, 200, "{body}");

    // Reschedule: into a taken slot is a conflict naming who holds it; into
    // a free one moves it.
    let (status, first) = book(patients[1].clone(), starts(&tomorrow, "10:00")).await;
    assert_eq!(status, 200, "{first}");
    let (status, second) = book(patients[2].clone(), starts(&tomorrow, "10:15")).await;
    assert_eq!(status, 200, "{second}");
    let first_id = first["id"].as_str().unwrap().to_owned();
    let (status, conflict) = post(
        &s,
        &operator,
        "/api/appointments/reschedule",
        &[
            ("id", &first_id),
            ("starts_at", &starts(&tomorrow, "10:15")),
        ],
    )
    .await;
    assert_eq!(status, 409, "{conflict}");
    assert!(
        conflict
            .to_string()
            .contains(second["patient_name"].as_str().unwrap()),
        "{conflict}"
    );
    let (status, moved) = post(
        &s,
        &operator,
        "/api/appointments/reschedule",
        &[
            ("id", &first_id),
            ("starts_at", &starts(&tomorrow, "10:30")),
        ],
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["time"], "10:30");

    // The report: tomorrow's no-show and cancellation, this clinic only.
    let second_id = second["id"].as_str().unwrap();
    let (status, _) = post(
        &s,
        &operator,
        "/api/appointments/status",
        &[("id", &first_id), ("status", "no_show"), ("note", "")],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post(
        &s,
        &operator,
        "/api/appointments/status",
        &[
            ("id", second_id),
            ("status", "cancelled"),
            ("note", "Unwell"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let range = [("from", tomorrow.as_str()), ("to", away.as_str())];
    let (status, report) = post(&s, &operator, "/api/appointments/report", &range).await;
    assert_eq!(status, 200, "{report}");
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{report}");
    assert_eq!(rows[0]["day"], tomorrow.as_str());
    assert_eq!(rows[0]["doctor_id"], doctor.as_str());
    assert_eq!(
        (&rows[0]["done"], &rows[0]["no_show"], &rows[0]["cancelled"]),
        (&Value::from(0), &Value::from(1), &Value::from(1))
    );
    let (status, theirs) = post(&s, &elsewhere, "/api/appointments/report", &range).await;
    assert_eq!(status, 200, "{theirs}");
    assert_eq!(
        theirs["rows"],
        serde_json::json!([]),
        "another clinic's report"
    );
    let (status, _) = post(&s, &pharmacist, "/api/appointments/report", &range).await;
    assert_eq!(status, 403);
}
