//! Load tool for `cargo xtask bench audit` (hidden `healipro demo
//! bench-audit`): the patient-update transaction the server runs for a
//! request — verify the session token and open the tenant transaction with
//! the live session (`Auth::begin_authenticated`, as every request does),
//! read, re-encrypt and write the record, read it back — with and without
//! its audit entry, then 8 writers appending in one clinic (the case the
//! per-tenant lock serialises). It writes each record back unchanged, so the
//! benchmark data stays as loaded. A user `bench-audit` (operator) is made
//! and signed in once in each clinic. For comparison with earlier runs it
//! also measures the bare update (a tenant transaction without the request's
//! authentication), which the budget no longer uses.

use healipro_core::audit::{self, Action, Actor, Subject};
use healipro_core::auth::{self, Auth, ClientInfo, Credentials, NewUser};
use healipro_core::db::Db;
use healipro_core::ids::{PatientId, TenantId};
use healipro_core::patients::repo::{self, PatientUpdate};
use healipro_core::patients::PatientQuery;
use healipro_core::rbac::Role;
use secrecy::{ExposeSecret, SecretString};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The user the tool signs in as in each clinic.
const USER: &str = "bench-audit";

/// Which transactions a phase runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Patient updates spread over the clinics, without their audit entry.
    Plain,
    /// The same, each with its audit entry.
    Audited,
    /// Audited patient updates, every writer in the first clinic.
    OneClinic,
    /// For comparison with earlier runs: the update without the request's
    /// authentication (a bare tenant transaction), without its entry…
    BarePlain,
    /// … and with it.
    BareAudited,
}

/// A clinic's signed-in session and the patient its writes update.
struct Target {
    tenant: TenantId,
    token: String,
    patient: PatientId,
}

/// In each clinic: the user [`USER`] (made or reset with one random
/// password), signed in, and the first patient in id order.
async fn targets(
    db: &Db,
    auth: &Auth,
    clinics: &[(TenantId, String)],
) -> anyhow::Result<Vec<Target>> {
    let password = SecretString::from(format!("bench-{}", uuid::Uuid::new_v4()));
    let user = NewUser {
        username: USER.to_owned(),
        display_name: "Audit bench".to_owned(),
        roles: vec![Role::Operator],
    };
    let mut out = Vec::with_capacity(clinics.len());
    for (tenant, code) in clinics {
        let mut tx = db.tenant_tx_for(*tenant).await?;
        let first = repo::search(&mut tx, &PatientQuery::All, 1, 0).await?;
        auth::upsert_user(&mut tx, auth.passwords(), &user, &password).await?;
        tx.commit().await?;
        let Some(p) = first.first() else { continue };
        let creds = Credentials {
            clinic_code: code.clone(),
            username: USER.to_owned(),
            password: password.clone(),
        };
        let signed_in = auth
            .login(db, &creds, &ClientInfo::default())
            .await
            .map_err(|e| anyhow::anyhow!("signing {USER} in to {code} failed: {e}"))?;
        out.push(Target {
            tenant: *tenant,
            token: signed_in.token.expose_secret().to_owned(),
            patient: p.id,
        });
    }
    if out.is_empty() {
        anyhow::bail!("no patients in the selected clinics");
    }
    Ok(out)
}

async fn one_update(db: &Db, auth: &Auth, target: &Target, phase: Phase) -> anyhow::Result<()> {
    let (mut tx, actor) = match phase {
        Phase::BarePlain | Phase::BareAudited => (
            db.tenant_tx_for(target.tenant).await?,
            Actor {
                username: USER.into(),
                roles: vec![Role::Operator.as_str().into()],
                ..Actor::default()
            },
        ),
        Phase::Plain | Phase::Audited | Phase::OneClinic => {
            let authed = auth.begin_authenticated(db, &target.token).await?;
            (authed.tx, Actor::of(&authed.session))
        }
    };
    let id = target.patient;
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
    if !matches!(phase, Phase::Plain | Phase::BarePlain) {
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
    auth: &Auth,
    targets: &Arc<Vec<Target>>,
    phase: Phase,
    writers: usize,
    secs: f64,
) -> (f64, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (db, auth, targets, stop, done, failed) = (
            db.clone(),
            auth.clone(),
            targets.clone(),
            stop.clone(),
            done.clone(),
            failed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while !stop.load(Ordering::Relaxed) {
                let target = match phase {
                    Phase::OneClinic => &targets[0],
                    _ => &targets[i % targets.len()],
                };
                i += writers;
                match one_update(&db, &auth, target, phase).await {
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
pub async fn run(
    db: &Db,
    auth: &Auth,
    clinics: &[(TenantId, String)],
    writers: usize,
    secs: f64,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let targets = Arc::new(targets(db, auth, clinics).await?);
    println!(
        "bench-audit: {USER} signed in to {} clinics in {:.1} s",
        targets.len(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "bench-audit: {} clinics, {writers} writers, {secs} s per phase",
        targets.len()
    );
    run_phase(db, auth, &targets, Phase::Audited, writers, 2.0).await;
    let mut plain = Vec::new();
    let mut audited = Vec::new();
    let mut failures = 0;
    for _ in 0..2 {
        let (p, f1) = run_phase(db, auth, &targets, Phase::Plain, writers, secs).await;
        println!("  without audit: {p:.0} updates/s");
        let (a, f2) = run_phase(db, auth, &targets, Phase::Audited, writers, secs).await;
        println!("  with audit:    {a:.0} updates/s");
        plain.push(p);
        audited.push(a);
        failures += f1 + f2;
    }
    let (one, f3) = run_phase(db, auth, &targets, Phase::OneClinic, writers, secs).await;
    println!("  one clinic, {writers} writers, with audit: {one:.0} appends/s");
    let (bare_plain, f4) = run_phase(db, auth, &targets, Phase::BarePlain, writers, secs).await;
    println!("  bare update, without audit: {bare_plain:.0} updates/s");
    let (bare_audited, f5) = run_phase(db, auth, &targets, Phase::BareAudited, writers, secs).await;
    println!("  bare update, with audit:    {bare_audited:.0} updates/s");
    failures += f3 + f4 + f5;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "RESULT plain={:.1} audited={:.1} one_clinic={:.1} bare_plain={bare_plain:.1} \
         bare_audited={bare_audited:.1} failures={failures}",
        mean(&plain),
        mean(&audited),
        one
    );
    Ok(())
}
