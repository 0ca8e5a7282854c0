//! HTTP middleware: security headers (HSTS, a nonce-based CSP, …) and the
//! CSRF origin check. TLS itself is in `crate::tls`.

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use http::{header, HeaderValue, Method, StatusCode};
use std::sync::Arc;

/// The CSP nonce of one response: 128 random bits, base64url. The
/// [`security_headers`] middleware puts it in the request's extensions and in
/// the response's `Content-Security-Policy`; [`provide_csp_nonce`] hands it to
/// Leptos, which writes it on the inline hydration and resource scripts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CspNonce(pub Arc<str>);

impl CspNonce {
    pub fn new() -> Self {
        let bytes: [u8; 16] = rand::random();
        Self(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(bytes)
                .into(),
        )
    }
}

impl Default for CspNonce {
    fn default() -> Self {
        Self::new()
    }
}

/// Scripts run only from this origin or with this response's nonce (no
/// `'unsafe-inline'`); `'wasm-unsafe-eval'` lets the WASM module compile;
/// styles only from the stylesheet; nothing may frame the app.
pub fn content_security_policy(nonce: &CspNonce) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        nonce.0
    )
}

/// Two years, subdomains included: the app is only ever served over HTTPS.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Headers every response carries. Pages and server-function answers may hold
/// patient data, so nothing but the static bundle may be cached.
pub async fn security_headers(mut req: Request, next: Next) -> Response {
    let cacheable = req.uri().path().starts_with("/pkg/");
    let nonce = CspNonce::new();
    req.extensions_mut().insert(nonce.clone());
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(HSTS),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    match HeaderValue::try_from(content_security_policy(&nonce)) {
        Ok(csp) => {
            h.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        // Unreachable (base64url is a valid header value); never serve a page
        // without a policy.
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    if !cacheable {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Gives Leptos the nonce [`security_headers`] chose for this request, so the
/// scripts it renders match the response's CSP. Call it in the Leptos context
/// function; outside a request (or without the middleware) Leptos keeps a
/// nonce of its own that no header allows, so the page fails closed.
pub fn provide_csp_nonce() {
    use leptos::prelude::{provide_context, use_context};
    if let Some(nonce) = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned())
    {
        provide_context(leptos::nonce::Nonce::from_value(nonce.0));
    }
}

/// Leptos server functions have no CSRF protection of their own: refuse any
/// state-changing request that a browser marks as cross-site, or whose Origin
/// is not this host. (Non-browser clients send neither header and carry no
/// ambient cookies, so they pass.)
pub async fn csrf_guard(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    if !same_origin(&req) {
        let h = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_owned()
        };
        tracing::warn!(
            path = %req.uri().path(),
            origin = %h("origin"),
            host = %h("host"),
            sec_fetch_site = %h("sec-fetch-site"),
            "cross-site request refused"
        );
        return (
            StatusCode::FORBIDDEN,
            Body::from("Cross-site request refused."),
        )
            .into_response();
    }
    next.run(req).await
}

fn same_origin(req: &Request) -> bool {
    let headers = req.headers();
    // Browsers that send Sec-Fetch-Site are judged by it alone: a same-origin
    // form post can carry `Origin: null` (e.g. under a strict referrer policy).
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            origin
                .split_once("://")
                .map(|(_, authority)| authority.trim_end_matches('/'))
                .is_some_and(|authority| !host.is_empty() && authority.eq_ignore_ascii_case(host))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(origin: Option<&str>, site: Option<&str>) -> Request {
        let mut b = http::Request::builder()
            .method("POST")
            .uri("/api/x")
            .header("host", "127.0.0.1:3000");
        if let Some(o) = origin {
            b = b.header("origin", o);
        }
        if let Some(s) = site {
            b = b.header("sec-fetch-site", s);
        }
        b.body(Body::empty()).unwrap()
    }

    #[test]
    fn nonce_is_128_random_bits_in_base64url() {
        let a = CspNonce::new();
        let b = CspNonce::new();
        assert_ne!(a, b);
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(a.0.as_bytes())
            .unwrap();
        assert_eq!(raw.len(), 16);
    }

    #[test]
    fn policy_allows_scripts_only_by_origin_or_nonce() {
        let nonce = CspNonce("abc_-123".into());
        let csp = content_security_policy(&nonce);
        let directive = |name: &str| {
            csp.split(';')
                .map(str::trim)
                .find(|d| d.split_whitespace().next() == Some(name))
                .unwrap_or_else(|| panic!("no {name} in {csp}"))
                .to_owned()
        };
        assert_eq!(
            directive("script-src"),
            "script-src 'self' 'nonce-abc_-123' 'wasm-unsafe-eval'"
        );
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(directive("default-src"), "default-src 'self'");
        assert_eq!(directive("style-src"), "style-src 'self'");
        assert_eq!(directive("object-src"), "object-src 'none'");
        assert_eq!(directive("base-uri"), "base-uri 'none'");
        assert_eq!(directive("frame-ancestors"), "frame-ancestors 'none'");
        assert!(HeaderValue::try_from(csp).is_ok());
    }

    /// The nonce a handler sees is the one in the response's header, and it
    /// changes from one response to the next.
    #[tokio::test]
    async fn middleware_shares_a_fresh_nonce_with_the_handler() {
        use tower::ServiceExt as _;
        let app = axum::Router::new()
            .route(
                "/",
                axum::routing::get(|axum::Extension(n): axum::Extension<CspNonce>| async move {
                    n.0.to_string()
                }),
            )
            .layer(axum::middleware::from_fn(security_headers));
        let mut seen = Vec::new();
        for _ in 0..2 {
            let resp = app
                .clone()
                .oneshot(http::Request::get("/").body(Body::empty()).unwrap())
                .await
                .unwrap();
            let h = resp.headers().clone();
            let body = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
            let nonce = String::from_utf8(body.to_vec()).unwrap();
            let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(csp.contains(&format!("'nonce-{nonce}'")), "{csp}");
            assert_eq!(h[header::STRICT_TRANSPORT_SECURITY], HSTS);
            assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(h[header::CACHE_CONTROL], "no-store");
            seen.push(nonce);
        }
        assert_ne!(seen[0], seen[1]);
    }

    #[test]
    fn origin_rules() {
        assert!(same_origin(&req(None, None)));
        assert!(same_origin(&req(
            Some("http://127.0.0.1:3000"),
            Some("same-origin")
        )));
        assert!(!same_origin(&req(Some("http://evil.example"), None)));
        assert!(!same_origin(&req(
            Some("http://127.0.0.1:3000"),
            Some("cross-site")
        )));
        assert!(!same_origin(&req(None, Some("same-site"))));
        assert!(!same_origin(&req(Some("null"), None)));
        assert!(same_origin(&req(Some("null"), Some("same-origin"))));
        assert!(!same_origin(&req(Some("null"), Some("cross-site"))));
    }
}
