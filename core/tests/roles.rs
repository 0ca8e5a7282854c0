//! Roles and permissions on real PostgreSQL: the union of roles, changes that
//! apply on the next request, custom roles (hospital tier only), and the
//! protections that keep a clinic administrable.

use healipro_core::auth::users::{self, NewUserInput, RoleAssignment};
use healipro_core::auth::{Session, Stage};
use healipro_core::ids::RoleId;
use healipro_core::rbac::{Permission as P, PermissionSet, Role};
use healipro_core::testing::{TestClinic, TestDb};
use healipro_core::Error;

/// The session the token names, as the next request would see it.
async fn next_request(db: &TestDb, token: &str) -> Result<Session, Error> {
    let authed = db.auth.begin_authenticated(&db.app, token).await?;
    authed.tx.commit().await?;
    Ok(authed.session)
}

async fn user_id(db: &TestDb, clinic: &TestClinic, username: &str) -> healipro_core::ids::UserId {
    let (session, _) = db.login(clinic, username).await;
    session.user_id
}

async fn make_hospital(db: &TestDb, clinic: &TestClinic) {
    db.owner_exec(&format!(
        "UPDATE platform.tenants SET tier = 'hospital' WHERE id = '{}'",
        clinic.id
    ))
    .await;
}

fn assignment(roles: &[Role], custom: &[RoleId]) -> RoleAssignment {
    RoleAssignment {
        roles: roles.to_vec(),
        custom_roles: custom.to_vec(),
    }
}

#[tokio::test]
async fn doctor_and_admin_get_the_union_and_a_removed_role_ends_on_the_next_request() {
    let db = TestDb::new().await;
    let clinic = db.clinic("unionc", &[Role::Admin, Role::Doctor], 1).await;
    db.owner_exec(&format!(
        "UPDATE clinic.users SET roles = ARRAY['doctor', 'admin'] WHERE tenant_id = '{}' AND username = 'doctor'",
        clinic.id
    ))
    .await;
    let (owner, token) = db.login(&clinic, "doctor").await;
    assert!(owner.permissions.contains(P::EncountersSign), "doctor part");
    assert!(owner.permissions.contains(P::UsersManage), "admin part");
    assert!(!owner.permissions.contains(P::DispensingWrite));
    owner.require(P::UsersManage).unwrap();

    // Another admin takes the doctor role away: the very next request of the
    // same session (same token, no new login) no longer has it.
    let (admin, _) = db.login(&clinic, "admin").await;
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    users::set_roles(
        &mut tx,
        &admin,
        owner.user_id,
        &assignment(&[Role::Admin], &[]),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let next = next_request(&db, &token).await.unwrap();
    assert!(!next.permissions.contains(P::EncountersSign));
    assert!(matches!(
        next.require(P::EncountersRead),
        Err(Error::Forbidden)
    ));
    next.require(P::UsersManage).unwrap();
}

#[tokio::test]
async fn a_hospital_custom_role_grants_exactly_its_permissions() {
    let db = TestDb::new().await;
    let clinic = db.clinic("hospa", &[Role::Admin, Role::Operator], 1).await;
    make_hospital(&db, &clinic).await;
    let (admin, _) = db.login(&clinic, "admin").await;
    let granted: PermissionSet = [P::PatientsRead, P::LabResultsRead].into_iter().collect();
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let role = users::save_role(&mut tx, &admin, None, "Ward clerk", granted)
        .await
        .unwrap();
    let (id, temporary) = db
        .auth
        .create_user(
            &mut tx,
            &admin,
            &NewUserInput {
                username: "Clerk1".into(),
                display_name: "Ward Clerk".into(),
                roles: assignment(&[], &[role]),
            },
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(temporary.len() >= 12);

    // The new user signs in with the one-time password and must change it.
    let signed_in = db
        .auth
        .login(
            &db.app,
            &healipro_core::auth::Credentials {
                clinic_code: clinic.code.clone(),
                username: "clerk1".into(),
                password: temporary.into(),
            },
            &Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(signed_in.session.user_id, id);
    assert_eq!(signed_in.session.stage, Stage::PasswordChange);
    db.owner_exec(&format!(
        "UPDATE clinic.users SET must_change_password = false WHERE id = '{id}'"
    ))
    .await;
    let token = secrecy::ExposeSecret::expose_secret(&signed_in.token).to_owned();
    let clerk = next_request(&db, &token).await.unwrap();
    assert_eq!(clerk.custom_roles, vec!["Ward clerk".to_owned()]);
    for p in P::ALL {
        assert_eq!(
            clerk.require(p).is_ok(),
            granted.contains(p),
            "{p:?} for the custom role"
        );
    }

    // Editing the role applies on the next request too.
    let granted: PermissionSet = [P::PatientsRead].into_iter().collect();
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    users::save_role(&mut tx, &admin, Some(role), "Ward clerk", granted)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let clerk = next_request(&db, &token).await.unwrap();
    assert!(matches!(
        clerk.require(P::LabResultsRead),
        Err(Error::Forbidden)
    ));
}

#[tokio::test]
async fn a_custom_role_with_doctor_or_admin_powers_needs_a_second_factor() {
    let db = TestDb::new().await;
    let clinic = db.clinic("hospb", &[Role::Admin, Role::Operator], 1).await;
    make_hospital(&db, &clinic).await;
    let (admin, _) = db.login(&clinic, "admin").await;
    let operator = user_id(&db, &clinic, "operator").await;
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let prescriber: PermissionSet = [P::PatientsRead, P::PrescriptionsWrite]
        .into_iter()
        .collect();
    let role = users::save_role(&mut tx, &admin, None, "Prescriber", prescriber)
        .await
        .unwrap();
    users::set_roles(
        &mut tx,
        &admin,
        operator,
        &assignment(&[Role::Operator], &[role]),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let signed_in = db.password_login(&clinic, "operator").await;
    assert_eq!(signed_in.session.stage, Stage::TotpEnrolment);
}

#[tokio::test]
async fn a_clinic_tier_tenant_cannot_create_or_assign_custom_roles() {
    let db = TestDb::new().await;
    let clinic = db.clinic("smallc", &[Role::Admin, Role::Operator], 1).await;
    let (admin, _) = db.login(&clinic, "admin").await;
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let set: PermissionSet = [P::PatientsRead].into_iter().collect();
    let err = users::save_role(&mut tx, &admin, None, "Clerk", set)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("hospital plan")),
        "{err:?}"
    );
    let operator = user_id(&db, &clinic, "operator").await;
    let err = users::set_roles(
        &mut tx,
        &admin,
        operator,
        &assignment(&[Role::Operator], &[RoleId::new_random()]),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("hospital plan")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_custom_role_in_use_cannot_be_deleted_and_the_error_names_its_holders() {
    let db = TestDb::new().await;
    let clinic = db.clinic("hospc", &[Role::Admin, Role::Operator], 1).await;
    make_hospital(&db, &clinic).await;
    let (admin, _) = db.login(&clinic, "admin").await;
    let operator = user_id(&db, &clinic, "operator").await;
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let set: PermissionSet = [P::ReportsRead].into_iter().collect();
    let role = users::save_role(&mut tx, &admin, None, "Reporter", set)
        .await
        .unwrap();
    // Built-in names are taken.
    assert!(matches!(
        users::save_role(&mut tx, &admin, None, "doctor", set).await,
        Err(Error::Validation { field: "name", .. })
    ));
    // Names are unique, whatever the case.
    assert!(matches!(
        users::save_role(&mut tx, &admin, None, " reporter ", set).await,
        Err(Error::Validation { field: "name", .. })
    ));
    users::set_roles(
        &mut tx,
        &admin,
        operator,
        &assignment(&[Role::Operator], &[role]),
    )
    .await
    .unwrap();
    let err = users::delete_role(&mut tx, &admin, role).await.unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("Reporter") && m.contains("operator")),
        "{err:?}"
    );
    users::set_roles(
        &mut tx,
        &admin,
        operator,
        &assignment(&[Role::Operator], &[]),
    )
    .await
    .unwrap();
    users::delete_role(&mut tx, &admin, role).await.unwrap();
    assert!(users::list_roles(&mut tx, &admin).await.unwrap().is_empty());
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn the_last_admin_stays_and_nobody_demotes_or_disables_themselves() {
    let db = TestDb::new().await;
    let clinic = db
        .clinic("lastad", &[Role::Admin, Role::Doctor, Role::Operator], 1)
        .await;
    make_hospital(&db, &clinic).await;
    let (admin, _) = db.login(&clinic, "admin").await;
    let doctor = user_id(&db, &clinic, "doctor").await;
    let operator = user_id(&db, &clinic, "operator").await;

    // Own admin role and own account: refused.
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let err = users::set_roles(
        &mut tx,
        &admin,
        admin.user_id,
        &assignment(&[Role::Doctor], &[]),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("your own admin role")),
        "{err:?}"
    );
    let err = users::set_active(&mut tx, &admin, admin.user_id, false)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("your own account")),
        "{err:?}"
    );

    // A user manager who is not an admin (a custom role) cannot demote or
    // disable the clinic's only admin.
    let managers: PermissionSet = [P::UsersManage].into_iter().collect();
    let role = users::save_role(&mut tx, &admin, None, "User manager", managers)
        .await
        .unwrap();
    users::set_roles(
        &mut tx,
        &admin,
        operator,
        &assignment(&[Role::Operator], &[role]),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let (manager, _) = db.login(&clinic, "operator").await;
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    let err = users::set_roles(
        &mut tx,
        &manager,
        admin.user_id,
        &assignment(&[Role::Doctor], &[]),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("last admin")),
        "{err:?}"
    );
    let err = users::set_active(&mut tx, &manager, admin.user_id, false)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("last admin")),
        "{err:?}"
    );

    // With a second admin, either may go; a disabled admin does not count.
    users::set_roles(
        &mut tx,
        &manager,
        doctor,
        &assignment(&[Role::Doctor, Role::Admin], &[]),
    )
    .await
    .unwrap();
    users::set_active(&mut tx, &manager, doctor, false)
        .await
        .unwrap();
    assert!(users::set_active(&mut tx, &manager, admin.user_id, false)
        .await
        .is_err());
    users::set_active(&mut tx, &manager, doctor, true)
        .await
        .unwrap();
    users::set_active(&mut tx, &manager, admin.user_id, false)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_at_once_and_second_factor_reset_forces_enrolment() {
    let db = TestDb::new().await;
    let clinic = db
        .clinic("disabl", &[Role::Admin, Role::Doctor, Role::Operator], 1)
        .await;
    let (admin, _) = db.login(&clinic, "admin").await;
    let (operator, token) = db.login(&clinic, "operator").await;
    next_request(&db, &token).await.unwrap();
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    users::set_active(&mut tx, &admin, operator.user_id, false)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(matches!(
        next_request(&db, &token).await,
        Err(Error::Unauthenticated)
    ));

    // A doctor who lost their phone: the admin resets the second factor, the
    // doctor's sessions end and the next sign-in goes to enrolment.
    db.enrol_totp(&clinic, "doctor").await;
    let (doctor, doctor_token) = db.login(&clinic, "doctor").await;
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    users::reset_second_factor(&mut tx, &admin, doctor.user_id)
        .await
        .unwrap();
    assert!(matches!(
        users::reset_second_factor(&mut tx, &admin, admin.user_id).await,
        Err(Error::Conflict(_))
    ));
    tx.commit().await.unwrap();
    assert!(next_request(&db, &doctor_token).await.is_err());
    let signed_in = db.password_login(&clinic, "doctor").await;
    assert_eq!(signed_in.session.stage, Stage::TotpEnrolment);
}

#[tokio::test]
async fn only_users_managers_manage_users() {
    let db = TestDb::new().await;
    let clinic = db.clinic("nomgr", &[Role::Admin, Role::Doctor], 1).await;
    let (doctor, _) = db.login(&clinic, "doctor").await;
    let (admin, _) = db.login(&clinic, "admin").await;
    let mut tx = db.app.tenant_tx_for(clinic.id).await.unwrap();
    assert!(matches!(
        users::list(&mut tx, &doctor).await,
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        users::set_roles(
            &mut tx,
            &doctor,
            doctor.user_id,
            &assignment(&[Role::Admin], &[])
        )
        .await,
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        users::set_active(&mut tx, &doctor, admin.user_id, false).await,
        Err(Error::Forbidden)
    ));
    let listed = users::list(&mut tx, &admin).await.unwrap();
    assert_eq!(listed.len(), 2);
    // Bad input: a clear message, nothing written.
    assert!(matches!(
        RoleAssignment::parse("doctor,surgeon"),
        Err(Error::Validation { field: "roles", .. })
    ));
    assert!(matches!(
        RoleAssignment::parse(" , "),
        Err(Error::Validation { field: "roles", .. })
    ));
    let err = db
        .auth
        .create_user(
            &mut tx,
            &admin,
            &NewUserInput {
                username: "doctor".into(),
                display_name: "Another".into(),
                roles: assignment(&[Role::Doctor], &[]),
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Validation {
                field: "username",
                ..
            }
        ),
        "{err:?}"
    );
}
