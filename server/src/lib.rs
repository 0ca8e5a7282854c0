//! The Healipro server: the axum router around the Leptos app, its middleware,
//! and the operator command line (`healipro …`).

pub mod bench_audit;
pub mod cli;
pub mod http;
pub mod tls;

use app::server::Services;
use app::{shell, App};
use axum::extract::{FromRef, State};
use axum::routing::get;
use axum::Router;
use healipro_core::db::Db;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The whole HTTP application: health check, server functions, SSR routes,
/// static files, then the security middleware around all of it. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` (see [`tls::serve`]).
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let services = state.services.clone();
    let options = state.leptos_options.clone();
    Router::new()
        .route("/healthz", get(healthz))
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(services.clone());
                http::provide_csp_nonce();
            },
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(http::provide_csp_nonce, shell))
        .layer(axum::middleware::from_fn(http::security_headers))
        .layer(axum::middleware::from_fn(http::csrf_guard))
        .with_state(state)
}

/// Liveness + database reachability, without touching tenant data.
async fn healthz(State(state): State<AppState>) -> (::http::StatusCode, &'static str) {
    match state.services.db.ping().await {
        Ok(()) => (::http::StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (
                ::http::StatusCode::SERVICE_UNAVAILABLE,
                "database unreachable",
            )
        }
    }
}

/// Leptos options from the `LEPTOS_*` environment (set by cargo-leptos and
/// xtask), with defaults that match the workspace metadata.
pub fn leptos_options(addr: std::net::SocketAddr) -> LeptosOptions {
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    LeptosOptions::builder()
        .output_name(var("LEPTOS_OUTPUT_NAME", "healipro"))
        .site_root(var("LEPTOS_SITE_ROOT", "target/site"))
        .site_pkg_dir(var("LEPTOS_SITE_PKG_DIR", "pkg"))
        .site_addr(addr)
        .build()
}

/// How often a running server looks for a new JWT signing key.
pub const KEY_RING_REFRESH: std::time::Duration = std::time::Duration::from_secs(10);

/// Connects the runtime pool and builds the services the app needs (loading,
/// or on a first start creating, the JWT signing keys). The audit signing key
/// (for exports) is optional: without it, exports say so.
pub async fn services(
    database_url: &str,
    pool_size: u32,
    master: healipro_core::crypto::MasterKeys,
    audit_signer: Option<healipro_core::audit::signing::AuditSigner>,
) -> anyhow::Result<Services> {
    let db = Db::connect(database_url, pool_size)
        .await?
        .with_master_keys(master.clone());
    let auth = healipro_core::auth::Auth::new(&db, master, KEY_RING_REFRESH).await?;
    Ok(Services {
        db,
        auth,
        audit_signer: audit_signer.map(std::sync::Arc::new),
    })
}
