//! Authentication on real PostgreSQL: second factor and replay, pending
//! sessions, throttling and lockout, JWT forgeries and key rotation, idle
//! timeouts per workstation, password rules and resets, drafts.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use healipro_core::auth::jwt::{self, Claims};
use healipro_core::auth::{
    totp, workstations, ClientInfo, Credentials, Stage, CODE_FAILED, LOGIN_FAILED,
};
use healipro_core::rbac::{Permission, Role};
use healipro_core::testing::{TestClinic, TestDb, TEST_PASSWORD};
use healipro_core::{drafts, Error};
use secrecy::{ExposeSecret, SecretString};

async fn clinic(db: &TestDb) -> TestClinic {
    db.clinic(
        "authclinic",
        &[Role::Operator, Role::Doctor, Role::Admin],
        5,
    )
    .await
}

fn creds(clinic: &TestClinic, username: &str, password: &str) -> Credentials {
    Credentials {
        clinic_code: clinic.code.clone(),
        username: username.into(),
        password: password.to_owned().into(),
    }
}

async fn try_login(db: &TestDb, c: &TestClinic, user: &str, pw: &str) -> Result<String, Error> {
    db.auth
        .login(&db.app, &creds(c, user, pw), &ClientInfo::default())
        .await
        .map(|s| s.token.expose_secret().to_owned())
}

async fn session_of(db: &TestDb, token: &str) -> Result<healipro_core::auth::Session, Error> {
    let a = db.auth.begin_authenticated(&db.app, token).await?;
    a.tx.commit().await?;
    Ok(a.session)
}

async fn verify(db: &TestDb, token: &str, code: &str) -> Result<(), Error> {
    let a = db.auth.begin_authenticated(&db.app, token).await?;
    db.auth
        .verify_second_factor(a.tx, &a.session, code, &ClientInfo::default())
        .await
}

fn now_step() -> u64 {
    totp::unix_now() / totp::STEP_SECS
}

#[tokio::test]
async fn totp_code_is_accepted_once_and_never_replayed() {
    let db = TestDb::new().await;
    let c = clinic(&db).await;
    let secret = db.enrol_totp(&c, "doctor").await;
    let code = totp::code_at(&secret, now_step() * totp::STEP_SECS).unwrap();

    let first = try_login(&db, &c, "doctor", TEST_PASSWORD).await.unwrap();
    assert_eq!(session_of(&db, &first).await.unwrap().stage, Stage::Totp);
    verify(&db, &first, &code).await.unwrap();
    assert_eq!(session_of(&db, &first).await.unwrap().stage, Stage::Full);

    // The same code, in a new session, within its validity window: refused.
    let second = try_login(&db, &c, "doctor", TEST_PASSWORD).await.unwrap();
    match verify(&db, &second, &code).await {
        Err(Error::Validation { message, .. }) => assert_eq!(message, CODE_FAILED),
        other => panic!("replayed code accepted: {other:?}"),
    }
    assert_eq!(session_of(&db, &second).await.unwrap().stage, Stage::Totp);
    // A wrong code too; the next step's code works (±1 step of skew).
    assert!(verify(&db, &second, "000000").await.is_err() || code == "000000");
    let next = totp::code_at(&secret, (now_step() + 1) * totp::STEP_SECS).unwrap();
    verify(&db, &second, &next).await.unwrap();
}

#[tokio::test]
async fn enrolment_confirms_with_a_first_code_and_recovery_codes_work_once() {
    let db = TestDb::new().await;
    let c = clinic(&db).await;
    // Doctors must use TOTP: the first sign-in lands on enrolment.
    let token = try_login(&db, &c, "doctor", TEST_PASSWORD).await.unwrap();
    let s = session_of(&db, &token).await.unwrap();
    assert_eq!(s.stage, Stage::TotpEnrolment);
    assert!(matches!(
        s.require(Permission::PatientsRead),
        Err(Error::SignInIncomplete(Stage::TotpEnrolment))
    ));

    let mut a = db.auth.begin_authenticated(&db.app, &token).await.unwrap();
    let e = db.auth.enrolment(&mut a.tx, &a.session).await.unwrap();
    a.tx.commit().await.unwrap();
    assert!(e.qr_svg.starts_with("<?xml") || e.qr_svg.contains("<svg"));
    let secret = totp::parse_base32(&e.secret_base32).unwrap();
    assert_eq!(secret.len(), 20, "160-bit secret");
    // The stored secret is sealed, not plaintext.
    let a = db.auth.begin_authenticated(&db.app, &token).await.unwrap();
    let codes = db
        .auth
        .confirm_enrolment(
            a.tx,
            &a.session,
            &totp::code_at(&secret, totp::unix_now()).unwrap(),
            &ClientInfo::default(),
        )
        .await
        .unwrap();
    assert_eq!(codes.len(), 10);
    assert_eq!(session_of(&db, &token).await.unwrap().stage, Stage::Full);

    // Next sign-in: a recovery code passes, once.
    let t2 = try_login(&db, &c, "doctor", TEST_PASSWORD).await.unwrap();
    verify(&db, &t2, &codes[3].to_uppercase()).await.unwrap();
    let t3 = try_login(&db, &c, "doctor", TEST_PASSWORD).await.unwrap();
    assert!(
        verify(&db, &t3, &codes[3]).await.is_err(),
        "recovery code reused"
    );
    verify(&db, &t3, &codes[4]).await.unwrap();
}

#[tokio::test]
async fn a_pending_session_can_do_nothing_but_its_sign_in_step() {
    let db = TestDb::new().await;
    let c = clinic(&db).await;
    db.enrol_totp(&c, "doctor").await;
    let token = try_login(&db, &c, "doctor", TEST_PASSWORD).await.unwrap();
    let mut a = db.auth.begin_authenticated(&db.app, &token).await.unwrap();
    assert_eq!(a.session.stage, Stage::Totp);
    for p in [
        Permission::PatientsRead,
        Permission::PatientsWrite,
        Permission::EncountersRead,
    ] {
        assert!(matches!(
            a.session.require(p),
            Err(Error::SignInIncomplete(Stage::Totp))
        ));
    }
    assert!(matches!(
        healipro_core::patients::service::list(&mut a.tx, &a.session, "", 0).await,
        Err(Error::SignInIncomplete(_))
    ));
    assert!(drafts::save(&mut a.tx, &a.session, "patient-edit:x", "{}")
        .await
        .is_err());
    // Nor can it start enrolment or change the password.
    assert!(db.auth.enrolment(&mut a.tx, &a.session).await.is_err());
}

#[tokio::test]
async fn brute_force_is_throttled_then_locked_and_an_admin_can_unlock() {
    let db = TestDb::new().await;
    let c = clinic(&db).await;
    let mut outcomes = Vec::new();
    for _ in 0..12 {
        outcomes.push(
            try_login(&db, &c, "operator", "wrong password guess")
                .await
                .unwrap_err(),
        );
    }
    // Three plain failures, then throttling, then the lock.
    for e in &outcomes[..3] {
        assert!(
            matches!(e, Error::Validation { message, .. } if message == LOGIN_FAILED),
            "{e:?}"
        );
    }
    assert!(
        matches!(&outcomes[3], Error::Throttled(m) if m.contains("Wait")),
        "{:?}",
        outcomes[3]
    );
    assert!(
        matches!(&outcomes[11], Error::Throttled(m) if m.contains("locked")),
        "{:?}",
        outcomes[11]
    );
    // Locked: even the right password is refused.
    assert!(matches!(
        try_login(&db, &c, "operator", TEST_PASSWORD).await,
        Err(Error::Throttled(m)) if m.contains("locked")
    ));
    // Visible to admins, and every attempt is in the sign-in log.
    let mut tx = db.app.tenant_tx_for(c.id).await.unwrap();
    let locked = healipro_core::auth::events::locked_accounts(&mut tx)
        .await
        .unwrap();
    assert!(
        locked
            .iter()
            .any(|(u, _, mins)| u == "operator" && mins.is_some()),
        "{locked:?}"
    );
    let events = healipro_core::auth::events::recent(&mut tx, 50)
        .await
        .unwrap();
    assert_eq!(
        events.iter().filter(|e| e.username == "operator").count(),
        13
    );
    db.auth.unlock(&mut tx, "operator").await.unwrap();
    tx.commit().await.unwrap();
    assert!(try_login(&db, &c, "operator", TEST_PASSWORD).await.is_ok());
}

#[tokio::test]
async fn the_per_address_throttle_spans_usernames() {
    let db = TestDb::new().await;
    let c = clinic(&db).await;
    let client = ClientInfo {
        ip: Some("203.0.113.7".parse().unwrap()),
        workstation_cookie: None,
    };
    let mut last = None;
    for i in 0..11 {
        let user = format!("guess{i}");
        last = Some(
            db.auth
                .login(&db.app, &creds(&c, &user, "wrong password guess"), &client)
                .await
                .unwrap_err(),
        );
    }
    assert!(matches!(last, Some(Error::Throttled(_))), "{last:?}");
    // Another address is not affected.
    assert!(try_login(&db, &c, "operator", TEST_PASSWORD).await.is_ok());
}

#[tokio::test]
async fn unknown_user_and_wrong_password_look_and_take_the_same() {
    let db = TestDb::new().await;
    let c = clinic(&db).await;
    let mut times = Vec::new();
    for user in [
        "operator", "nobody", "operator", "nobody", "operator", "nobody",
    ] {
        // Distinct attempt counters are irrelevant: stay below the throttle.
        let mut tx = db.app.tenant_tx_for(c.id).await.unwrap();
        let _ = db.auth.unlock(&mut tx, user).await;
        tx.commit().await.unwrap();
        let start = std::time::Instant::now();
        let e = try_login(&db, &c, user, "wrong password guess")
            .await
            .unwrap_err();
        times.push((user, start.elapsed()));
        assert!(
            matches!(&e, Error::Validation { field: "password", message } if message == LOGIN_FAILED),
            "{e:?}"
        );
    }
    // The fastest of three: hashing runs at idle priority, so on a busy
    // machine single attempts stall; the minimum is what the work costs.
    let fastest = |who: &str| {
        times
            .iter()
            .filter(|(u, _)| *u == who)
            .map(|(_, d)| d.as_secs_f64())
            .fold(f64::INFINITY, f64::min)
    };
    let (known, unknown) = (fastest("operator"), fastest("nobody"));
    // Both run argon2 (the unknown user against a dummy hash): without it the
    // unknown case would be tens of times faster.
    assert!(
        unknown > known / 3.0 && known > unknown / 3.0,
        "known {known:.4}s unknown {unknown:.4}s"
    );
}

fn b64(v: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

#[tokio::test]
async fn forged_and_expired_tokens_are_refused() {
    let db = TestDb::new().await;
    let c = clinic(&db).await;
    let (session, good) = db.login(&c, "operator").await;
    assert!(session_of(&db, &good).await.is_ok());
    let kid = db.auth.keys().signing_kid().await.unwrap();
    let owner = sqlx::PgPool::connect(&db.owner_url).await.unwrap();
    let public_pem: String =
        sqlx::query_scalar("SELECT public_pem FROM platform.jwt_keys WHERE kid = $1")
            .bind(&kid)
            .fetch_one(&owner)
            .await
            .unwrap();
    owner.close().await;
    let claims = Claims::new(c.id, session.user_id, session.id, 600);
    let claims_json = serde_json::to_value(&claims).unwrap();

    // HS256 keyed with the public key (algorithm confusion).
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(kid.clone());
    let hs = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(public_pem.as_bytes()),
    )
    .unwrap();
    // alg: none, no signature.
    let none = format!(
        "{}.{}.",
        b64(&serde_json::json!({"alg": "none", "typ": "JWT", "kid": kid})),
        b64(&claims_json)
    );
    // Expired (signed with the real key).
    let mut old = claims.clone();
    old.iat -= 3600;
    old.nbf -= 3600;
    old.exp = old.iat + 60;
    let expired = db.auth.keys().sign(&old).await.unwrap();
    // Not yet valid.
    let mut future = claims.clone();
    future.nbf += 3600;
    future.exp += 3600;
    let not_yet = db.auth.keys().sign(&future).await.unwrap();
    // Wrong audience.
    let mut aud = claims.clone();
    aud.aud = "someone-else".into();
    let wrong_aud = db.auth.keys().sign(&aud).await.unwrap();
    // Unknown kid: a key the server never had.
    let stranger = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
    let pem =
        rsa::pkcs8::EncodePrivateKey::to_pkcs8_pem(&stranger, rsa::pkcs8::LineEnding::LF).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("strangerkey1".into());
    let unknown_kid = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap();
    // The stranger's key under the real kid.
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.clone());
    let wrong_key = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap();
    // A valid token with its payload swapped.
    let parts: Vec<&str> = good.split('.').collect();
    let mut other = claims_json.clone();
    other["exp"] = serde_json::json!(claims.exp + 86_400);
    let tampered = format!("{}.{}.{}", parts[0], b64(&other), parts[2]);

    for (what, token) in [
        ("HS256 with the public key", hs),
        ("alg none", none),
        ("expired", expired),
        ("not yet valid", not_yet),
        ("wrong audience", wrong_aud),
        ("unknown kid", unknown_kid),
        ("wrong key", wrong_key),
        ("tampered payload", tampered),
    ] {
        assert!(
            matches!(session_of(&db, &token).await, Err(Error::Unauthenticated)),
            "{what} was accepted"
        );
    }
    // The real one still works (the refusals were about the tokens).
    assert!(session_of(&db, &good).await.is_ok());
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn rotating_the_signing_key_logs_nobody_out() {
    let db = TestDb::new().await;
    let c = clinic(&db).await;
    let (_, before) = db.login(&c, "operator").await;
    let old_kid = kid_of(&before);
    let new_kid = jwt::rotate(&db.app, &db.master).await.unwrap();
    assert_ne!(old_kid, new_kid);
    // The old token still verifies; new tokens carry the new kid.
    assert!(session_of(&db, &before).await.is_ok());
    let (_, after) = db.login(&c, "operator").await;
    assert_eq!(kid_of(&after), new_kid);
    assert_eq!(jwt::list(&db.app).await.unwrap().len(), 2);
}

#[tokio::test]
async fn the_server_refuses_a_session_idle_past_its_workstation_timeout() {
    let db = TestDb::new().await;
    let c = clinic(&db).await;
    let mut tx = db.app.tenant_tx_for(c.id).await.unwrap();
    let input = workstations::WorkstationInput {
        name: "Room 1 tablet".into(),
        location: "Room 1".into(),
        idle_timeout_secs: 120,
    };
    let ws = workstations::create(&mut tx, &input).await.unwrap();
    let cookie = workstations::bind(&mut tx, ws).await.unwrap();
    // Above the clinic maximum is refused.
    let too_long = workstations::WorkstationInput {
        idle_timeout_secs: 3600,
        ..input.clone()
    };
    assert!(workstations::update(&mut tx, ws, &too_long).await.is_err());
    tx.commit().await.unwrap();

    let client = ClientInfo {
        ip: None,
        workstation_cookie: Some(cookie.clone()),
    };
    let signed = db
        .auth
        .login(&db.app, &creds(&c, "operator", TEST_PASSWORD), &client)
        .await
        .unwrap();
    assert_eq!(signed.session.idle_timeout_secs, 120);
    assert_eq!(signed.session.workstation, Some(ws));
    let token = signed.token.expose_secret().to_owned();
    assert!(session_of(&db, &token).await.is_ok());
    // 119 s idle: still fine; 121 s: refused, whatever the client sends.
    let set_idle = |secs: i32| {
        format!(
            "UPDATE clinic.sessions SET last_seen_at = now() - make_interval(secs => {secs}) WHERE id = '{}'",
            signed.session.id
        )
    };
    db.owner_exec(&set_idle(119)).await;
    assert!(session_of(&db, &token).await.is_ok());
    db.owner_exec(&set_idle(121)).await;
    assert!(matches!(
        session_of(&db, &token).await,
        Err(Error::Unauthenticated)
    ));

    // An unbound browser gets the clinic default; a forged binding too.
    let (s, _) = db.login(&c, "operator").await;
    assert_eq!(
        s.idle_timeout_secs,
        workstations::Settings::default().default_idle_secs
    );
    let forged = ClientInfo {
        ip: None,
        workstation_cookie: Some(format!("{}.{}.bm90LXRoZS1zZWNyZXQ", c.id, ws)),
    };
    let s = db
        .auth
        .login(&db.app, &creds(&c, "operator", TEST_PASSWORD), &forged)
        .await
        .unwrap();
    assert_eq!(s.session.workstation, None);
}

#[tokio::test]
async fn password_rules_change_and_admin_reset() {
    let db = TestDb::new().await;
    let c = clinic(&db).await;
    let (_, other_device) = db.login(&c, "operator").await;
    let (_, token) = db.login(&c, "operator").await;
    let change = |current: &str, new: &str| {
        let (db, token) = (&db, token.clone());
        let (current, new) = (
            SecretString::from(current.to_owned()),
            SecretString::from(new.to_owned()),
        );
        async move {
            let a = db.auth.begin_authenticated(&db.app, &token).await?;
            db.auth
                .change_password(a.tx, &a.session, &current, &new, &ClientInfo::default())
                .await
        }
    };
    for weak in [
        "short",
        "password1234",
        "operatoroperator",
        "authclinic12345",
    ] {
        assert!(
            matches!(
                change(TEST_PASSWORD, weak).await,
                Err(Error::Validation { .. })
            ),
            "{weak}"
        );
    }
    assert!(matches!(
        change("not my password!", "lantern mango orbit velvet").await,
        Err(Error::Validation {
            field: "current_password",
            ..
        })
    ));
    change(TEST_PASSWORD, "lantern mango orbit velvet")
        .await
        .unwrap();
    // Other sessions of the user end; this one continues.
    assert!(session_of(&db, &token).await.is_ok());
    assert!(session_of(&db, &other_device).await.is_err());
    assert!(try_login(&db, &c, "operator", "lantern mango orbit velvet")
        .await
        .is_ok());

    // Admin reset: a one-time password, sessions end, change forced at sign-in.
    let mut tx = db.app.tenant_tx_for(c.id).await.unwrap();
    let temporary = db
        .auth
        .admin_reset_password(&mut tx, "operator")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(session_of(&db, &token).await.is_err());
    let t = try_login(&db, &c, "operator", &temporary).await.unwrap();
    let s = session_of(&db, &t).await.unwrap();
    assert_eq!(s.stage, Stage::PasswordChange);
    assert!(s.require(Permission::PatientsRead).is_err());
    let a = db.auth.begin_authenticated(&db.app, &t).await.unwrap();
    db.auth
        .change_password(
            a.tx,
            &a.session,
            &temporary.clone().into(),
            &SecretString::from("cobalt harbor nectar walnut"),
            &ClientInfo::default(),
        )
        .await
        .unwrap();
    assert_eq!(session_of(&db, &t).await.unwrap().stage, Stage::Full);
}

#[tokio::test]
async fn sign_out_everywhere_ends_every_session_at_once() {
    let db = TestDb::new().await;
    let c = clinic(&db).await;
    let (_, t1) = db.login(&c, "operator").await;
    let (_, t2) = db.login(&c, "operator").await;
    let mut tx = db.app.tenant_tx_for(c.id).await.unwrap();
    assert_eq!(
        db.auth
            .sign_out_everywhere(&mut tx, "operator")
            .await
            .unwrap(),
        2
    );
    tx.commit().await.unwrap();
    assert!(session_of(&db, &t1).await.is_err());
    assert!(session_of(&db, &t2).await.is_err());
}

#[tokio::test]
async fn drafts_belong_to_their_user_and_need_the_form_permission() {
    let db = TestDb::new().await;
    let c = db
        .clinic("draftclinic", &[Role::Operator, Role::Pharmacist], 1)
        .await;
    let (operator, _) = db.login(&c, "operator").await;
    let (pharmacist, _) = db.login(&c, "pharmacist").await;
    let key = "patient-edit:abc-123";
    let mut tx = db.app.tenant_tx_for(c.id).await.unwrap();
    drafts::save(&mut tx, &operator, key, "{\"full_name\":\"Ayesha\"}")
        .await
        .unwrap();
    drafts::save(&mut tx, &operator, key, "{\"full_name\":\"Ayesha Bibi\"}")
        .await
        .unwrap();
    let d = drafts::get(&mut tx, &operator, key).await.unwrap().unwrap();
    assert_eq!(d.payload, "{\"full_name\":\"Ayesha Bibi\"}");
    // A pharmacist may not edit patients, so neither read nor write their drafts.
    assert!(matches!(
        drafts::get(&mut tx, &pharmacist, key).await,
        Err(Error::Forbidden)
    ));
    assert!(drafts::save(&mut tx, &operator, "unknown-form:1", "{}")
        .await
        .is_err());
    drafts::discard(&mut tx, &operator, key).await.unwrap();
    assert!(drafts::get(&mut tx, &operator, key)
        .await
        .unwrap()
        .is_none());
    tx.commit().await.unwrap();
}

/// A verified token is remembered (no second RSA verification), but the
/// remembered copy still expires: once past exp (+ the 5 s leeway) the same
/// token is refused, and a token differing by one character never rides on
/// the cached one.
#[tokio::test]
async fn a_cached_token_still_expires_and_a_changed_one_is_checked_afresh() {
    let db = TestDb::new().await;
    let c = clinic(&db).await;
    let (session, _) = db.login(&c, "operator").await;
    let keys = db.auth.keys();
    let short = Claims::new(c.id, session.user_id, session.id, 1);
    let token = keys.sign(&short).await.unwrap();
    assert_eq!(keys.verify(&token).await, Some(short.clone()));
    assert_eq!(keys.verify(&token).await, Some(short.clone()), "cached");
    // One character inside the signature (not the last, whose low bits are padding).
    let mut changed: Vec<char> = token.chars().collect();
    let at = changed.len() - 10;
    changed[at] = if changed[at] == 'A' { 'B' } else { 'A' };
    let changed: String = changed.into_iter().collect();
    assert_eq!(keys.verify(&changed).await, None);
    tokio::time::sleep(std::time::Duration::from_secs(7)).await;
    assert_eq!(keys.verify(&token).await, None, "expired while cached");
}
