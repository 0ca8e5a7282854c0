//! The role × server function matrix, over HTTP: every built-in role (and, on
//! a hospital-tier clinic, a custom role holding each single permission) calls
//! every server function, and the answer must match the permission table —
//! allowed, or a clean 403 "not allowed" that is recorded. A server function
//! missing from tests/common/endpoints.rs fails the test.

mod common;

use common::endpoints::{self, Need, ENDPOINTS};
use common::TestServer;
use healipro_core::auth::{events, users};
use healipro_core::rbac::{Permission, PermissionSet, Role};
use healipro_core::testing::TestClinic;
use reqwest::StatusCode;

/// Calls every server function with `cookie`; returns the cells that did not
/// match `allowed`, and how many were (rightly) denied.
async fn walk(
    s: &TestServer,
    who: &str,
    cookie: &str,
    allowed: impl Fn(Need) -> bool,
) -> (Vec<String>, usize) {
    let mut wrong = Vec::new();
    let mut denied_count = 0;
    for (path, need, args) in ENDPOINTS {
        let resp = s.post(path, Some(cookie), args).await;
        let status = resp.status();
        let body = resp.text().await.unwrap();
        let denied = status == StatusCode::FORBIDDEN && body.contains("\"Forbidden\"");
        let broken = body.contains("Transport")
            || body.contains("SignInIncomplete")
            || status == StatusCode::UNAUTHORIZED
            || status.is_server_error();
        let expect = allowed(*need);
        if denied {
            denied_count += 1;
        }
        if broken || expect == denied {
            wrong.push(format!(
                "{who} {path}: expected {}, got {status} {body}",
                if expect { "allowed" } else { "denied" }
            ));
        }
    }
    (wrong, denied_count)
}

async fn recorded_denials(s: &TestServer, clinic: &TestClinic) -> usize {
    let mut tx = s.db.app.tenant_tx_for(clinic.id).await.unwrap();
    let n = events::recent_denials(&mut tx, 100_000)
        .await
        .unwrap()
        .len();
    tx.commit().await.unwrap();
    n
}

#[test]
fn every_server_function_has_a_matrix_entry() {
    let missing = endpoints::unclassified();
    assert!(
        missing.is_empty(),
        "server functions missing from tests/common/endpoints.rs: {missing:?}"
    );
}

#[tokio::test]
async fn every_builtin_role_reaches_exactly_what_the_permission_table_allows() {
    let s = TestServer::start().await;
    let clinic = s.db.clinic("matrix", &Role::ALL, 1).await;
    let mut wrong = Vec::new();
    let mut denied = 0;
    let mut cells = 0;
    for role in Role::ALL {
        let (_, token) = s.db.login(&clinic, &role.as_str().replace('_', "")).await;
        let cookie = TestServer::cookie(&token);
        let permissions = PermissionSet::of_roles(&[role]);
        let (w, d) = walk(&s, role.as_str(), &cookie, |need| match need {
            Need::Permission(p) => permissions.contains(p),
            Need::AnyRole => true,
        })
        .await;
        wrong.extend(w);
        denied += d;
        cells += ENDPOINTS.len();
    }
    assert!(
        wrong.is_empty(),
        "{} wrong cells:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(cells, Role::ALL.len() * ENDPOINTS.len());
    assert!(denied > 0 && denied < cells, "{denied} of {cells} denied");
    // Every refusal is on record.
    assert_eq!(recorded_denials(&s, &clinic).await, denied);
}

#[tokio::test]
async fn a_custom_role_with_one_permission_reaches_exactly_that_permissions_functions() {
    let s = TestServer::start().await;
    let clinic =
        s.db.clinic("permmx", &[Role::Admin, Role::Operator], 1)
            .await;
    s.db.owner_exec(&format!(
        "UPDATE platform.tenants SET tier = 'hospital' WHERE id = '{}'",
        clinic.id
    ))
    .await;
    let (admin, _) = s.db.login(&clinic, "admin").await;
    let mut wrong = Vec::new();
    for (n, permission) in Permission::ALL.into_iter().enumerate() {
        // A user holding only a custom role with just this permission (the
        // operator's password hash, so the test fixture can sign them in).
        let mut tx = s.db.app.tenant_tx_for(clinic.id).await.unwrap();
        let only: PermissionSet = [permission].into_iter().collect();
        let role = users::save_role(&mut tx, &admin, None, permission.as_str(), only)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let username = format!("perm{n}");
        s.db.owner_exec(&format!(
            "INSERT INTO clinic.users (tenant_id, username, display_name, password_hash, roles)
             SELECT tenant_id, '{username}', 'Holder of {permission:?}', password_hash, '{{}}'
               FROM clinic.users WHERE tenant_id = '{tenant}' AND username = 'operator';
             INSERT INTO clinic.user_roles (tenant_id, user_id, role_id)
             SELECT tenant_id, id, '{role}' FROM clinic.users
              WHERE tenant_id = '{tenant}' AND username = '{username}';",
            tenant = clinic.id
        ))
        .await;
        let (session, token) = s.db.login(&clinic, &username).await;
        assert_eq!(session.permissions, only);
        let (w, _) = walk(
            &s,
            permission.as_str(),
            &TestServer::cookie(&token),
            |need| match need {
                Need::Permission(p) => p == permission,
                Need::AnyRole => true,
            },
        )
        .await;
        wrong.extend(w);
    }
    assert!(
        wrong.is_empty(),
        "{} wrong cells:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
