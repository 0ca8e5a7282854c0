//! HTTPS over real sockets: the server as `healipro serve` runs it (TLS 1.3
//! only, ALPN h2 + http/1.1, connect info) on a random port with a fresh
//! database and a throwaway certificate; clients pin that certificate.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use healipro_core::testing::TestDb;
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ProtocolVersion, RootCertStore, SupportedProtocolVersion};

struct TlsServer {
    addr: SocketAddr,
    cert: CertificateDer<'static>,
    _db: TestDb,
}

impl TlsServer {
    async fn start() -> TlsServer {
        let db = TestDb::new().await;
        let generated =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
                .unwrap();
        let cert = generated.cert.der().clone();
        let key = PrivatePkcs8KeyDer::from(generated.signing_key.serialize_der()).into();
        let config = healipro_server::tls::server_config(vec![cert.clone()], key).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = healipro_server::AppState {
            leptos_options: healipro_server::leptos_options(addr),
            services: healipro_server::services(&db.app_url, 4, db.master.clone(), None)
                .await
                .unwrap(),
        };
        tokio::spawn(healipro_server::tls::serve(
            listener,
            healipro_server::tls::Listen::Tls(Arc::new(config)),
            healipro_server::router(state),
            std::future::pending(),
        ));
        TlsServer {
            addr,
            cert,
            _db: db,
        }
    }

    /// A client that trusts only this server's certificate.
    fn client_config(
        &self,
        versions: &[&'static SupportedProtocolVersion],
        alpn: &[&[u8]],
    ) -> ClientConfig {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert.clone()).unwrap();
        let mut config =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_protocol_versions(versions)
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        config
    }

    async fn handshake(
        &self,
        config: ClientConfig,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
        let tcp = tokio::net::TcpStream::connect(self.addr).await?;
        tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(
                ServerName::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST).into()),
                tcp,
            )
            .await
    }

    /// An HTTPS client over TLS 1.3 that speaks h2 when offered.
    fn https(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .use_preconfigured_tls(
                self.client_config(&[&rustls::version::TLS13], &[b"h2", b"http/1.1"]),
            )
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }
}

#[tokio::test]
async fn tls_1_2_is_refused() {
    let s = TlsServer::start().await;
    let Err(err) = s
        .handshake(s.client_config(&[&rustls::version::TLS12], &[b"http/1.1"]))
        .await
    else {
        panic!("a TLS 1.2-only client must not get a connection");
    };
    let cause = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>());
    assert_eq!(
        cause,
        Some(&rustls::Error::AlertReceived(
            rustls::AlertDescription::ProtocolVersion
        )),
        "{err}"
    );
}

#[tokio::test]
async fn tls_1_3_with_h2_serves_health() {
    let s = TlsServer::start().await;
    let stream = s
        .handshake(s.client_config(&[&rustls::version::TLS13], &[b"h2", b"http/1.1"]))
        .await
        .expect("TLS 1.3 handshake");
    let (_, conn) = stream.get_ref();
    assert_eq!(conn.protocol_version(), Some(ProtocolVersion::TLSv1_3));
    assert_eq!(conn.alpn_protocol(), Some(&b"h2"[..]));

    let resp = s.https().get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.text().await.unwrap(), "ok");
}

/// The `nonce-…` source in the CSP's script-src (and checks the rest of the
/// directive on the way).
fn script_nonce(csp: &str) -> String {
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src "))
        .unwrap_or_else(|| panic!("no script-src in {csp}"));
    let sources: Vec<&str> = script_src.split_whitespace().skip(1).collect();
    assert!(sources.contains(&"'wasm-unsafe-eval'"), "{script_src}");
    assert!(!csp.contains("'unsafe-inline'"), "{csp}");
    let nonces: Vec<&str> = sources
        .iter()
        .filter_map(|s| s.strip_prefix("'nonce-")?.strip_suffix('\''))
        .collect();
    assert_eq!(nonces.len(), 1, "{script_src}");
    assert!(nonces[0].len() >= 22, "a nonce of at least 128 bits");
    nonces[0].to_owned()
}

/// Every `nonce="…"` on a `<script` tag of the page.
fn script_tag_nonces(html: &str) -> Vec<Option<String>> {
    html.split("<script")
        .skip(1)
        .map(|rest| {
            let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
            tag.split_once("nonce=\"")
                .and_then(|(_, v)| v.split_once('"'))
                .map(|(v, _)| v.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn pages_carry_hsts_and_a_fresh_nonce_csp_that_their_scripts_match() {
    let s = TlsServer::start().await;
    let client = s.https();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let resp = client
            .get(s.url("/login"))
            .header(reqwest::header::ACCEPT, "text/html,application/xhtml+xml")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), reqwest::StatusCode::OK);
        let h = resp.headers().clone();
        let header = |name: &str| {
            h.get(name)
                .unwrap_or_else(|| panic!("no {name} header"))
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(
            header("strict-transport-security"),
            "max-age=63072000; includeSubDomains"
        );
        assert_eq!(header("x-content-type-options"), "nosniff");
        let csp = header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        let nonce = script_nonce(&csp);

        let html = resp.text().await.unwrap();
        let tags = script_tag_nonces(&html);
        assert!(!tags.is_empty(), "the page has no scripts: {html}");
        for tag in &tags {
            assert_eq!(tag.as_deref(), Some(nonce.as_str()), "script tags {tags:?}");
        }
        seen.push(nonce);
    }
    assert_ne!(seen[0], seen[1], "each response needs its own nonce");
}
