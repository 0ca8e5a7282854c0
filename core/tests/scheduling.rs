//! The front desk's schedule on real PostgreSQL: the database never lets two
//! appointments hold one doctor's slot (many operators racing for it: one
//! wins, the others are told who has it); tokens are gap-free under
//! concurrency; bookings outside the hours, on leave or in the past are
//! refused clearly; statuses move only forward, each change recorded and
//! audited; one clinic never sees another's appointments; leave is listed
//! and withdrawn (audited, bookable again); the "patients seen" report
//! counts one clinic only.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Utc};
use healipro_core::audit::repo as audit_repo;
use healipro_core::auth::Session;
use healipro_core::db::Db;
use healipro_core::ids::{PatientId, TenantId, UserId};
use healipro_core::patients::{repo as patients_repo, PatientQuery};
use healipro_core::rbac::Role;
use healipro_core::scheduling::service::{self, clinic_day, clinic_instant};
use healipro_core::scheduling::{repo, report, Exception, Status, WeeklyHours};
use healipro_core::testing::{TestClinic, TestDb};
use healipro_core::Error;

struct Desk {
    clinic: TestClinic,
    admin: Session,
    operator: Session,
    /// The doctor's own session (schedules are not theirs to change).
    doctor_session: Session,
    doctor: UserId,
    patients: Vec<PatientId>,
    /// A clinic day a week from now, with hours 09:00–12:00 in 15-minute slots.
    day: NaiveDate,
}

async fn desk(db: &TestDb, code: &str) -> Desk {
    let clinic = db
        .clinic(code, &[Role::Admin, Role::Operator, Role::Doctor], 30)
        .await;
    let (admin, _) = db.login(&clinic, "admin").await;
    let (operator, _) = db.login(&clinic, "operator").await;
    let (doctor, _) = db.login(&clinic, "doctor").await;
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let patients = patients_repo::search(&mut tx, &PatientQuery::All, 100, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    let day = clinic_day(Utc::now()) + Duration::days(7);
    let hours = [WeeklyHours {
        weekday: day.weekday().number_from_monday() as u8,
        starts: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        ends: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
        slot_minutes: 15,
        fee_pkr: Some(1500),
    }];
    service::set_hours(&mut tx, &admin, doctor.user_id, &hours)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    Desk {
        clinic,
        admin,
        operator,
        doctor: doctor.user_id,
        doctor_session: doctor,
        patients,
        day,
    }
}

fn at(day: NaiveDate, h: u32, m: u32) -> chrono::DateTime<Utc> {
    clinic_instant(day, NaiveTime::from_hms_opt(h, m, 0).unwrap())
}

async fn count_holding(app: &Db, tenant: TenantId, doctor: UserId, day: NaiveDate) -> usize {
    let mut tx = app.tenant_tx_for(tenant).await.unwrap();
    let n = repo::day(&mut tx, day, Some(doctor))
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.status == Status::Booked)
        .count();
    tx.commit().await.unwrap();
    n
}

#[tokio::test]
async fn many_operators_racing_for_one_slot_make_exactly_one_booking() {
    let db = TestDb::new().await;
    let d = desk(&db, "alpha").await;
    let slot = at(d.day, 10, 30);
    // A walk-in (no time range) must never be named as the booking in the way.
    let mut tx = db.app.tenant_tx_for(d.clinic.id).await.unwrap();
    service::walk_in(&mut tx, &d.operator, d.patients[29], d.doctor)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (app, tenant, op, doctor) = (db.app.clone(), d.clinic.id, d.operator.clone(), d.doctor);
        let patient = d.patients[i];
        tasks.push(tokio::spawn(async move {
            let mut tx = app.tenant_tx_for(tenant).await.unwrap();
            let r = service::book(&mut tx, &op, patient, doctor, slot).await;
            tx.commit().await.unwrap();
            r
        }));
    }
    let mut won = Vec::new();
    let mut refused = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(a) => won.push(a),
            Err(Error::Conflict(m)) => refused.push(m),
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(
        won.len(),
        1,
        "exactly one booking wins; refused: {refused:?}"
    );
    assert_eq!(refused.len(), 11);
    // Each loser is told who holds the slot.
    let winner = &won[0];
    for m in &refused {
        assert!(
            m.contains(&winner.patient_name)
                && m.contains(&winner.mr_number)
                && m.contains("10:30–10:45"),
            "{m}"
        );
    }
    assert_eq!(
        count_holding(&db.app, d.clinic.id, d.doctor, d.day).await,
        1
    );
    // An overlapping booking made by rescheduling is refused the same way.
    let mut tx = db.app.tenant_tx_for(d.clinic.id).await.unwrap();
    let other = service::book(
        &mut tx,
        &d.operator,
        d.patients[20],
        d.doctor,
        at(d.day, 11, 0),
    )
    .await
    .unwrap();
    let err = service::reschedule(&mut tx, &d.operator, other.id, slot)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains(&winner.patient_name)),
        "{err:?}"
    );
    // The transaction goes on after a refused booking (savepoint): a free slot works.
    let moved = service::reschedule(&mut tx, &d.operator, other.id, at(d.day, 11, 15))
        .await
        .unwrap();
    assert_eq!(moved.starts_at, Some(at(d.day, 11, 15)));
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn tokens_are_gap_free_and_unique_under_concurrency() {
    let db = TestDb::new().await;
    let d = desk(&db, "alpha").await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (app, tenant, op, doctor) = (db.app.clone(), d.clinic.id, d.operator.clone(), d.doctor);
        let patient = d.patients[i];
        tasks.push(tokio::spawn(async move {
            let mut tx = app.tenant_tx_for(tenant).await.unwrap();
            let a = service::walk_in(&mut tx, &op, patient, doctor)
                .await
                .unwrap();
            // Every third one rolls back: its number must be reused, not lost.
            if i % 3 == 0 {
                tx.rollback().await.unwrap();
                None
            } else {
                tx.commit().await.unwrap();
                a.token
            }
        }));
    }
    let mut tokens: Vec<i32> = Vec::new();
    for t in tasks {
        tokens.extend(t.await.unwrap());
    }
    tokens.sort_unstable();
    let n = tokens.len() as i32;
    assert_eq!(tokens, (1..=n).collect::<Vec<_>>(), "gap-free and unique");
}

#[tokio::test]
async fn bookings_outside_the_hours_on_leave_or_in_the_past_are_refused_clearly() {
    let db = TestDb::new().await;
    let d = desk(&db, "alpha").await;
    let mut tx = db.app.tenant_tx_for(d.clinic.id).await.unwrap();
    let p = d.patients[0];
    let message = |e: Error| match e {
        Error::Validation { message, .. } => message,
        other => panic!("expected a validation error, got {other:?}"),
    };
    let m = message(
        service::book(&mut tx, &d.operator, p, d.doctor, at(d.day, 14, 0))
            .await
            .unwrap_err(),
    );
    assert!(m.contains("14:00") && m.contains("09:00–12:00"), "{m}");
    let m = message(
        service::book(&mut tx, &d.operator, p, d.doctor, at(d.day, 9, 10))
            .await
            .unwrap_err(),
    );
    assert!(m.contains("09:10"), "misaligned: {m}");
    let m = message(
        service::book(&mut tx, &d.operator, p, d.doctor, at(d.day, 11, 50))
            .await
            .unwrap_err(),
    );
    assert!(m.contains("11:50"), "runs past the end: {m}");
    let m = message(
        service::book(
            &mut tx,
            &d.operator,
            p,
            d.doctor,
            at(d.day + Duration::days(1), 9, 0),
        )
        .await
        .unwrap_err(),
    );
    assert!(m.contains("does not see patients"), "{m}");
    let m = message(
        service::book(
            &mut tx,
            &d.operator,
            p,
            d.doctor,
            at(d.day - Duration::days(14), 9, 0),
        )
        .await
        .unwrap_err(),
    );
    assert!(m.contains("passed"), "{m}");
    // Leave for the doctor, then a clinic holiday a week later.
    let leave = Exception {
        doctor: Some(d.doctor),
        first_day: d.day,
        last_day: d.day,
        reason: "Annual leave".into(),
    };
    service::add_exception(&mut tx, &d.admin, &leave)
        .await
        .unwrap();
    let m = message(
        service::book(&mut tx, &d.operator, p, d.doctor, at(d.day, 9, 0))
            .await
            .unwrap_err(),
    );
    assert!(m.contains("away") && m.contains("Annual leave"), "{m}");
    assert!(service::slots(&mut tx, &d.operator, d.doctor, d.day)
        .await
        .unwrap()
        .is_empty());
    let later = d.day + Duration::days(7);
    let holiday = Exception {
        doctor: None,
        first_day: later,
        last_day: later,
        reason: "Eid ul-Adha".into(),
    };
    service::add_exception(&mut tx, &d.admin, &holiday)
        .await
        .unwrap();
    let m = message(
        service::book(&mut tx, &d.operator, p, d.doctor, at(later, 9, 0))
            .await
            .unwrap_err(),
    );
    assert!(m.contains("Eid ul-Adha"), "{m}");
    // A free day still books.
    let free = d.day + Duration::days(14);
    service::book(&mut tx, &d.operator, p, d.doctor, at(free, 9, 0))
        .await
        .unwrap();
    let slots = service::slots(&mut tx, &d.operator, d.doctor, free)
        .await
        .unwrap();
    assert_eq!(slots.len(), 12);
    assert_eq!(slots.iter().filter(|s| s.taken).count(), 1);
    // Front desk and admins manage schedules; a doctor may not. (Signing in
    // here would deadlock: this transaction holds the clinic's audit lock.)
    assert!(matches!(
        service::set_hours(&mut tx, &d.doctor_session, d.doctor, &[]).await,
        Err(Error::Forbidden)
    ));
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn statuses_move_forward_with_who_and_when_and_every_step_is_audited() {
    let db = TestDb::new().await;
    let d = desk(&db, "alpha").await;
    let mut tx = db.app.tenant_tx_for(d.clinic.id).await.unwrap();
    let today = clinic_day(Utc::now());
    let walk = service::walk_in(&mut tx, &d.operator, d.patients[1], d.doctor)
        .await
        .unwrap();
    assert_eq!((walk.status, walk.token), (Status::Arrived, Some(1)));
    let booked = service::book(
        &mut tx,
        &d.operator,
        d.patients[2],
        d.doctor,
        at(d.day, 9, 0),
    )
    .await
    .unwrap();
    let err = service::change_status(&mut tx, &d.operator, booked.id, Status::Done, "")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("booked")),
        "{err:?}"
    );
    let err = service::change_status(&mut tx, &d.operator, booked.id, Status::Cancelled, " ")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation { .. }));
    let cancelled = service::change_status(
        &mut tx,
        &d.operator,
        booked.id,
        Status::Cancelled,
        "Patient called",
    )
    .await
    .unwrap();
    assert_eq!(cancelled.cancel_reason, "Patient called");
    // A cancelled booking frees its slot.
    service::book(
        &mut tx,
        &d.operator,
        d.patients[3],
        d.doctor,
        at(d.day, 9, 0),
    )
    .await
    .unwrap();
    // The doctor's queue: call the next, finish.
    let called = service::call_next(&mut tx, &d.operator, d.doctor, today)
        .await
        .unwrap()
        .expect("one waiting");
    assert_eq!(
        (called.id, called.status),
        (walk.id, Status::InConsultation)
    );
    service::change_status(&mut tx, &d.operator, walk.id, Status::Done, "")
        .await
        .unwrap();
    assert!(service::call_next(&mut tx, &d.operator, d.doctor, today)
        .await
        .unwrap()
        .is_none());
    let history = repo::events(&mut tx, walk.id).await.unwrap();
    let steps: Vec<&str> = history.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(steps, ["arrived", "in_consultation", "done"]);
    assert!(history.iter().all(|e| e.2 == d.operator.user_id));
    let entries = audit_repo::chain_page(&mut tx, 0, 1000).await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.entry.action.as_str()).collect();
    for wanted in [
        "schedule.changed",
        "appointment.booked",
        "appointment.changed",
    ] {
        assert!(actions.contains(&wanted), "{wanted} not in {actions:?}");
    }
    let changed = entries
        .iter()
        .filter(|e| e.entry.action == "appointment.changed")
        .count();
    assert_eq!(changed, 3, "cancel, call, done");
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_clinic_never_sees_or_touches_another_clinics_appointments() {
    let db = TestDb::new().await;
    let a = desk(&db, "alpha").await;
    let b = desk(&db, "beta").await;
    let mut tx = db.app.tenant_tx_for(a.clinic.id).await.unwrap();
    let booked = service::book(
        &mut tx,
        &a.operator,
        a.patients[0],
        a.doctor,
        at(a.day, 9, 0),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.app.tenant_tx_for(b.clinic.id).await.unwrap();
    assert!(service::day_list(&mut tx, &b.operator, a.day, None)
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        service::change_status(&mut tx, &b.operator, booked.id, Status::Arrived, "").await,
        Err(Error::NotFound)
    ));
    // B's doctor's same slot is B's own business.
    service::book(
        &mut tx,
        &b.operator,
        b.patients[0],
        b.doctor,
        at(b.day, 9, 0),
    )
    .await
    .unwrap();
    // A's doctor is not B's doctor.
    let err = service::book(
        &mut tx,
        &b.operator,
        b.patients[1],
        a.doctor,
        at(b.day, 9, 15),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Validation {
                field: "doctor",
                ..
            }
        ),
        "{err:?}"
    );
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn leave_is_listed_withdrawn_with_an_audit_entry_and_then_bookable_again() {
    let db = TestDb::new().await;
    let a = desk(&db, "alpha").await;
    let b = desk(&db, "beta").await;
    let mut tx = db.app.tenant_tx_for(a.clinic.id).await.unwrap();
    let leave = Exception {
        doctor: Some(a.doctor),
        first_day: a.day,
        last_day: a.day + Duration::days(1),
        reason: "Conference".into(),
    };
    let id = service::add_exception(&mut tx, &a.admin, &leave)
        .await
        .unwrap();
    let holiday = Exception {
        doctor: None,
        first_day: a.day + Duration::days(30),
        last_day: a.day + Duration::days(30),
        reason: "Independence Day".into(),
    };
    service::add_exception(&mut tx, &a.admin, &holiday)
        .await
        .unwrap();
    // The list: what touches the range, in order, with the doctor's name.
    let listed = service::exceptions(
        &mut tx,
        &a.operator,
        a.day + Duration::days(1),
        a.day + Duration::days(60),
    )
    .await
    .unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0].id, id);
    assert_eq!(listed[0].reason, "Conference");
    assert!(listed[0].doctor_name.is_some());
    assert_eq!(
        (listed[1].doctor, listed[1].doctor_name.as_deref()),
        (None, None)
    );
    assert!(service::exceptions(
        &mut tx,
        &a.operator,
        a.day + Duration::days(2),
        a.day + Duration::days(29)
    )
    .await
    .unwrap()
    .is_empty());
    // A reversed or overlong range is refused.
    assert!(
        service::exceptions(&mut tx, &a.operator, a.day, a.day - Duration::days(1))
            .await
            .is_err()
    );
    assert!(
        service::exceptions(&mut tx, &a.operator, a.day, a.day + Duration::days(400))
            .await
            .is_err()
    );
    // The doctor may read the list but not withdraw leave.
    assert!(matches!(
        service::withdraw_exception(&mut tx, &a.doctor_session, id).await,
        Err(Error::Forbidden)
    ));
    assert!(service::book(
        &mut tx,
        &a.operator,
        a.patients[0],
        a.doctor,
        at(a.day, 9, 0)
    )
    .await
    .is_err());
    tx.commit().await.unwrap();

    // Another clinic neither sees nor withdraws it.
    let mut tx = db.app.tenant_tx_for(b.clinic.id).await.unwrap();
    assert!(
        service::exceptions(&mut tx, &b.operator, a.day, a.day + Duration::days(60))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        service::withdraw_exception(&mut tx, &b.admin, id).await,
        Err(Error::NotFound)
    ));
    tx.commit().await.unwrap();

    let mut tx = db.app.tenant_tx_for(a.clinic.id).await.unwrap();
    let withdrawn = service::withdraw_exception(&mut tx, &a.admin, id)
        .await
        .unwrap();
    assert_eq!(withdrawn.reason, "Conference");
    // Twice is as unknown as never.
    assert!(matches!(
        service::withdraw_exception(&mut tx, &a.admin, id).await,
        Err(Error::NotFound)
    ));
    // Its days have slots again and book.
    assert_eq!(
        service::slots(&mut tx, &a.operator, a.doctor, a.day)
            .await
            .unwrap()
            .len(),
        12
    );
    service::book(
        &mut tx,
        &a.operator,
        a.patients[0],
        a.doctor,
        at(a.day, 9, 0),
    )
    .await
    .unwrap();
    let listed = service::exceptions(&mut tx, &a.operator, a.day, a.day + Duration::days(60))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "only the holiday is left: {listed:?}");
    // Added and withdrawn, each logged against the exception.
    let entries = audit_repo::chain_page(&mut tx, 0, 1000).await.unwrap();
    let on_it = entries
        .iter()
        .filter(|e| e.entry.action == "schedule.changed" && e.entry.object_id == id.to_string())
        .count();
    assert_eq!(on_it, 2, "added and withdrawn");
    tx.commit().await.unwrap();
}

/// Books `patient` at `h:m` on the desk's day and moves it to `to` (through
/// the statuses that lead there).
async fn ended(
    tx: &mut healipro_core::db::TenantTx,
    d: &Desk,
    patient: PatientId,
    (h, m): (u32, u32),
    to: Status,
) {
    let a = service::book(tx, &d.operator, patient, d.doctor, at(d.day, h, m))
        .await
        .unwrap();
    let path: &[Status] = match to {
        Status::Done => &[Status::Arrived, Status::InConsultation, Status::Done],
        Status::NoShow => &[Status::NoShow],
        Status::Cancelled => &[Status::Cancelled],
        _ => &[],
    };
    for s in path {
        service::change_status(tx, &d.operator, a.id, *s, "reason given")
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_patients_seen_report_counts_one_clinic_per_doctor_per_day_and_is_audited() {
    let db = TestDb::new().await;
    let a = desk(&db, "alpha").await;
    let b = desk(&db, "beta").await;
    let mut tx = db.app.tenant_tx_for(a.clinic.id).await.unwrap();
    ended(&mut tx, &a, a.patients[0], (9, 0), Status::Done).await;
    ended(&mut tx, &a, a.patients[1], (9, 15), Status::Done).await;
    ended(&mut tx, &a, a.patients[2], (9, 30), Status::NoShow).await;
    ended(&mut tx, &a, a.patients[3], (9, 45), Status::Cancelled).await;
    // Still booked: not counted.
    ended(&mut tx, &a, a.patients[4], (10, 0), Status::Booked).await;
    tx.commit().await.unwrap();
    // The other clinic, same day: three done, one no-show.
    let mut tx = db.app.tenant_tx_for(b.clinic.id).await.unwrap();
    for (i, m) in [0, 15, 30].into_iter().enumerate() {
        ended(&mut tx, &b, b.patients[i], (9, m), Status::Done).await;
    }
    ended(&mut tx, &b, b.patients[5], (10, 0), Status::NoShow).await;
    tx.commit().await.unwrap();

    let mut tx = db.app.tenant_tx_for(a.clinic.id).await.unwrap();
    let rows = report::patients_seen(
        &mut tx,
        &a.operator,
        a.day - Duration::days(1),
        a.day + Duration::days(1),
    )
    .await
    .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!((r.day, r.doctor_id), (a.day, a.doctor));
    assert_eq!((r.done, r.no_show, r.cancelled), (2, 1, 1), "{r:?}");
    // Outside the range: nothing.
    assert!(report::patients_seen(
        &mut tx,
        &a.operator,
        a.day + Duration::days(1),
        a.day + Duration::days(3)
    )
    .await
    .unwrap()
    .is_empty());
    assert!(
        report::patients_seen(&mut tx, &a.operator, a.day, a.day - Duration::days(1))
            .await
            .is_err()
    );
    let entries = audit_repo::chain_page(&mut tx, 0, 10_000).await.unwrap();
    let viewed = entries
        .iter()
        .filter(|e| e.entry.action == "report.viewed" && e.entry.object_id == "patients_seen")
        .count();
    assert_eq!(viewed, 2, "each view is logged (the refused one is not)");
    tx.commit().await.unwrap();

    let mut tx = db.app.tenant_tx_for(b.clinic.id).await.unwrap();
    let rows = report::patients_seen(&mut tx, &b.operator, b.day, b.day)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].done, rows[0].no_show, rows[0].cancelled),
        (3, 1, 0)
    );
    assert_eq!(rows[0].doctor_id, b.doctor);
    tx.commit().await.unwrap();
}
