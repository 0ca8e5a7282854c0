//! Load tool for `cargo xtask bench audit` (hidden `healipro demo
//! bench-audit`): the patient-update transaction the server runs — set the
//! tenant, read, re-encrypt and write the record, read it back — with and
//! without its audit entry, then 8 writers appending in one clinic (the case
//! the per-tenant lock serialises). It writes each record back unchanged, so
//! the benchmark data stays as loaded.

use healipro_core::audit::{self, Action, Actor, Subject};
use healipro_core::db::Db;
use healipro_core::ids::{PatientId, TenantId};
use healipro_core::patients::repo::{self, PatientUpdate};
use healipro_core::patients::PatientQuery;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which transactions a phase runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Patient updates spread over the clinics, without their audit entry.
    Plain,
    /// The same, each with its audit entry.
    Audited,
    /// Audited patient updates, every writer in the first clinic.
    OneClinic,
}

/// One patient per clinic to update: the first in id order.
async fn targets(db: &Db, tenants: &[TenantId]) -> anyhow::Result<Vec<(TenantId, PatientId)>> {
    let mut out = Vec::with_capacity(tenants.len());
    for &t in tenants {
        let mut tx = db.tenant_tx_for(t).await?;
        let first = repo::search(&mut tx, &PatientQuery::All, 1, 0).await?;
        tx.commit().await?;
        if let Some(p) = first.first() {
            out.push((t, p.id));
        }
    }
    if out.is_empty() {
        anyhow::bail!("no patients in the selected clinics");
    }
    Ok(out)
}

async fn one_update(db: &Db, tenant: TenantId, id: PatientId, audited: bool) -> anyhow::Result<()> {
    let mut tx = db.tenant_tx_for(tenant).await?;
    let p = repo::get(&mut tx, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("patient vanished"))?;
    let update = PatientUpdate {
        full_name: p.full_name,
        father_or_husband_name: p.father_or_husband_name,
        sex: p.sex,
        date_of_birth: p.date_of_birth,
        date_of_birth_estimated: p.date_of_birth_estimated,
        cnic: p.cnic,
        phone: p.phone,
        address: p.address,
    };
    repo::update(&mut tx, id, &update).await?;
    repo::get(&mut tx, id).await?;
    if audited {
        let actor = Actor {
            username: "bench".into(),
            roles: vec!["doctor".into()],
            ip: "127.0.0.1".into(),
            ..Actor::default()
        };
        audit::append(
            &mut tx,
            &actor,
            Action::PatientUpdated,
            &Subject::patient(id),
            None,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Runs `writers` tasks for `secs` seconds; returns committed transactions
/// per second and the number of failures.
async fn run_phase(
    db: &Db,
    targets: &Arc<Vec<(TenantId, PatientId)>>,
    phase: Phase,
    writers: usize,
    secs: f64,
) -> (f64, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (db, targets, stop, done, failed) = (
            db.clone(),
            targets.clone(),
            stop.clone(),
            done.clone(),
            failed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while !stop.load(Ordering::Relaxed) {
                let (t, p) = match phase {
                    Phase::OneClinic => targets[0],
                    _ => targets[i % targets.len()],
                };
                i += writers;
                match one_update(&db, t, p, phase != Phase::Plain).await {
                    Ok(()) => done.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    let start_count = done.load(Ordering::Relaxed);
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    let count = done.load(Ordering::Relaxed) - start_count;
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    (count as f64 / elapsed, failed.load(Ordering::Relaxed))
}

/// Warms up, then measures plain, audited, plain, audited (the two runs of
/// each are averaged, so drift on a shared machine hits both sides), then
/// one clinic. Prints one `RESULT` line for xtask to parse.
pub async fn run(db: &Db, tenants: &[TenantId], writers: usize, secs: f64) -> anyhow::Result<()> {
    let targets = Arc::new(targets(db, tenants).await?);
    println!(
        "bench-audit: {} clinics, {writers} writers, {secs} s per phase",
        targets.len()
    );
    run_phase(db, &targets, Phase::Audited, writers, 2.0).await;
    let mut plain = Vec::new();
    let mut audited = Vec::new();
    let mut failures = 0;
    for _ in 0..2 {
        let (p, f1) = run_phase(db, &targets, Phase::Plain, writers, secs).await;
        println!("  without audit: {p:.0} updates/s");
        let (a, f2) = run_phase(db, &targets, Phase::Audited, writers, secs).await;
        println!("  with audit:    {a:.0} updates/s");
        plain.push(p);
        audited.push(a);
        failures += f1 + f2;
    }
    let (one, f3) = run_phase(db, &targets, Phase::OneClinic, writers, secs).await;
    println!("  one clinic, {writers} writers, with audit: {one:.0} appends/s");
    failures += f3;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "RESULT plain={:.1} audited={:.1} one_clinic={:.1} failures={failures}",
        mean(&plain),
        mean(&audited),
        one
    );
    Ok(())
}
