//! HTTP middleware: security headers and the CSRF origin check. (TLS 1.3,
//! HSTS and the nonce-based CSP arrive with the authentication issue.)

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, Method, StatusCode};

/// Headers every response carries. Pages and server-function answers may hold
/// patient data, so nothing but the static bundle may be cached.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let cacheable = req.uri().path().starts_with("/pkg/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'",
        ),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    if !cacheable {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
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
