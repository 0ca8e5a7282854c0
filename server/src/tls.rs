//! HTTPS for `healipro serve`: rustls with the ring provider, TLS 1.3 only,
//! ALPN h2 and http/1.1.
//!
//! TLS 1.3 alone leaves out every downgrade-prone TLS 1.2 cipher suite and
//! renegotiation; every browser that runs the WASM client speaks it. Plain
//! HTTP exists only behind a TLS-terminating proxy on the same host, and must be
//! asked for by name (`--plain-http`).

use anyhow::{bail, Context};
use axum::Router;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How `healipro serve` secures its socket.
#[derive(clap::Args, Clone, Debug)]
pub struct TlsArgs {
    /// TLS certificate chain (PEM, leaf first).
    #[arg(long, env = "HEALIPRO_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM: PKCS#8, PKCS#1 or SEC1). Keep it mode 600.
    #[arg(long, env = "HEALIPRO_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP instead. Only behind a TLS-terminating proxy on the
    /// same host: session cookies are `Secure` and HSTS is sent regardless.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    pub plain_http: bool,
}

/// What [`TlsArgs`] resolved to.
pub enum Listen {
    Tls(Arc<ServerConfig>),
    PlainHttp,
}

impl TlsArgs {
    /// Loads the certificate and key, or refuses to go on without them unless
    /// plain HTTP was asked for.
    pub fn resolve(&self) -> anyhow::Result<Listen> {
        match (&self.tls_cert, &self.tls_key, self.plain_http) {
            (Some(cert), Some(key), false) => Ok(Listen::Tls(Arc::new(load_config(cert, key)?))),
            (None, None, true) => Ok(Listen::PlainHttp),
            _ => bail!(
                "no TLS certificate: set --tls-cert and --tls-key (HEALIPRO_TLS_CERT, \
                 HEALIPRO_TLS_KEY) to PEM files, or pass --plain-http when a TLS-terminating \
                 proxy on this host forwards to this address"
            ),
        }
    }
}

/// The server configuration for a certificate chain and its key.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> anyhow::Result<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .context("the TLS provider does not support TLS 1.3")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the TLS key does not match the certificate, or is not supported")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// [`server_config`] from PEM files.
pub fn load_config(cert: &Path, key: &Path) -> anyhow::Result<ServerConfig> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .with_context(|| format!("cannot read the TLS certificate {}", cert.display()))?;
    if chain.is_empty() {
        bail!("{} holds no PEM certificate", cert.display());
    }
    let key_der = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read the TLS private key {}", key.display()))?;
    server_config(chain, key_der)
        .with_context(|| format!("{} and {}", cert.display(), key.display()))
}

/// Serves `app` on `listener` (over TLS unless plain HTTP was chosen) until
/// `shutdown` completes, then lets open requests finish for up to 10 s.
/// Handlers see the peer address as `ConnectInfo<SocketAddr>` (login
/// throttling keys on it).
pub async fn serve(
    listener: std::net::TcpListener,
    listen: Listen,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    match listen {
        Listen::Tls(config) => {
            let handle = axum_server::Handle::new();
            tokio::spawn({
                let handle = handle.clone();
                async move {
                    shutdown.await;
                    handle.graceful_shutdown(Some(Duration::from_secs(10)));
                }
            });
            let server = axum_server::tls_rustls::from_tcp_rustls(
                listener,
                axum_server::tls_rustls::RustlsConfig::from_config(config),
            )?
            .handle(handle)
            .accept_error_handler(|peer, e| {
                // Scanners and clients without TLS 1.3 end here: not a warning.
                tracing::debug!(peer = ?peer, error = %e, "TLS handshake failed");
            });
            tracing::info!("Healipro listening on https://{addr} (TLS 1.3 only)");
            server.serve(app).await
        }
        Listen::PlainHttp => {
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            tracing::warn!(
                "Healipro listening on http://{addr} WITHOUT TLS (--plain-http): only behind \
                 a TLS-terminating proxy on this host"
            );
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        tls: TlsArgs,
    }

    fn parse(args: &[&str]) -> Result<TlsArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("serve").chain(args.iter().copied())).map(|c| c.tls)
    }

    #[test]
    fn refuses_to_serve_without_a_certificate() {
        let args = |cert: Option<&str>, plain_http| TlsArgs {
            tls_cert: cert.map(PathBuf::from),
            tls_key: cert.map(PathBuf::from),
            plain_http,
        };
        let err = args(None, false).resolve().err().unwrap().to_string();
        assert!(err.contains("--plain-http"), "{err}");
        assert!(matches!(
            args(None, true).resolve().unwrap(),
            Listen::PlainHttp
        ));
        let err = args(Some("/nonexistent.pem"), false)
            .resolve()
            .err()
            .unwrap();
        assert!(format!("{err:#}").contains("/nonexistent.pem"), "{err:#}");
    }

    #[test]
    fn certificate_and_key_come_together_and_exclude_plain_http() {
        // Clap also reads HEALIPRO_TLS_*; only meaningful when they are unset.
        if std::env::var_os("HEALIPRO_TLS_CERT").is_some()
            || std::env::var_os("HEALIPRO_TLS_KEY").is_some()
        {
            return;
        }
        assert!(parse(&["--tls-cert", "c.pem"]).is_err(), "key required");
        assert!(parse(&["--tls-key", "k.pem"]).is_err(), "cert required");
        assert!(parse(&["--tls-cert", "c", "--tls-key", "k", "--plain-http"]).is_err());
        assert!(parse(&["--tls-cert", "c", "--tls-key", "k"]).is_ok());
    }

    #[test]
    fn key_must_match_certificate() {
        let a = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let b = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let key = |k: &rcgen::KeyPair| {
            PrivateKeyDer::from(rustls::pki_types::PrivatePkcs8KeyDer::from(
                k.serialize_der(),
            ))
        };
        assert!(server_config(vec![a.cert.der().clone()], key(&a.signing_key)).is_ok());
        assert!(server_config(vec![a.cert.der().clone()], key(&b.signing_key)).is_err());
    }
}
