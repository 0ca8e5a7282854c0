//! The development certificate and the TLS clients that talk to the dev,
//! e2e and bench servers.
//!
//! `healipro serve` speaks TLS 1.3 only. In development it uses a self-signed
//! certificate for `127.0.0.1` and `localhost` in `.healipro/tls/` (made once
//! here with rcgen, renewed when it nears expiry or no longer fits), and
//! xtask's clients trust exactly that certificate — pinned as their only root —
//! instead of turning verification off.

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{anyhow, bail, Context, Result};
use rustls::client::danger::ServerCertVerifier as _;
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use crate::util::{self, Ctx};

/// The names the certificate covers (and the only ones xtask connects to).
const NAMES: [&str; 2] = ["127.0.0.1", "localhost"];
const VALID_DAYS: i64 = 365;
/// Renewed when it would expire within this many days.
const RENEW_DAYS: u64 = 30;

/// A TLS 1.3 connection from xtask to a server it started.
pub type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// Paths of the development certificate and its key (mode 600).
#[derive(Debug, Clone)]
pub struct DevCert {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl DevCert {
    /// A client configuration that trusts only this certificate: TLS 1.3,
    /// HTTP/1.1 (xtask's own HTTP client speaks nothing else).
    pub fn client_config(&self) -> Result<Arc<ClientConfig>> {
        let cert = read_cert(&self.cert)?;
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_root_certificates(roots(&cert)?)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(cert: &CertificateDer<'static>) -> Result<Arc<RootCertStore>> {
    let mut roots = RootCertStore::empty();
    roots
        .add(cert.clone())
        .context("the development certificate cannot serve as a trust anchor")?;
    Ok(Arc::new(roots))
}

fn read_cert(path: &Path) -> Result<CertificateDer<'static>> {
    CertificateDer::from_pem_file(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Makes sure `.healipro/tls/cert.pem` and `key.pem` hold a matching
/// certificate and key valid for 127.0.0.1 and localhost for at least 30 more
/// days; (re)generates them otherwise.
pub fn ensure_dev_cert(ctx: &Ctx) -> Result<DevCert> {
    let dir = ctx.state_dir.join("tls");
    let dev = DevCert {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    let problem = if dev.cert.is_file() && dev.key.is_file() {
        check(&dev).err()
    } else {
        Some(anyhow!("not created yet"))
    };
    match problem {
        None => util::ok(format!(
            "development TLS certificate {} (reused)",
            dev.cert.display()
        )),
        Some(why) => {
            util::step(format!(
                "generating a self-signed TLS certificate for {} ({why:#})",
                NAMES.join(" and ")
            ));
            ctx.ensure_state_dir()?;
            fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            generate(&dev)?;
            check(&dev).context("the certificate just generated does not verify")?;
            util::ok(format!(
                "{} and {} (mode 600)",
                dev.cert.display(),
                dev.key.display()
            ));
        }
    }
    Ok(dev)
}

fn generate(dev: &DevCert) -> Result<()> {
    let key = rcgen::KeyPair::generate().context("cannot generate a key pair")?;
    let mut params =
        rcgen::CertificateParams::new(NAMES.map(String::from).to_vec()).context("certificate")?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Healipro development");
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(VALID_DAYS);
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params
        .self_signed(&key)
        .context("cannot sign the certificate")?;
    // The key first: a certificate without its key would look complete.
    util::write_private(&dev.key, key.serialize_pem().as_bytes())?;
    util::write_private(&dev.cert, cert.pem().as_bytes())?;
    Ok(())
}

/// The key matches the certificate, and a client pinning the certificate
/// accepts it for every name, now and 30 days from now.
fn check(dev: &DevCert) -> Result<()> {
    let cert = read_cert(&dev.cert)?;
    let key = PrivateKeyDer::from_pem_file(&dev.key)
        .with_context(|| format!("cannot read {}", dev.key.display()))?;
    rustls::sign::CertifiedKey::from_der(vec![cert.clone()], key, &provider())
        .context("the key does not match the certificate")?;
    let verifier = WebPkiServerVerifier::builder_with_provider(roots(&cert)?, provider())
        .build()
        .context("cannot build a certificate verifier")?;
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH)?;
    let later = now + Duration::from_secs(RENEW_DAYS * 24 * 3600);
    for name in NAMES {
        let server = ServerName::try_from(name)?;
        for (when, at) in [("now", now), ("in 30 days", later)] {
            verifier
                .verify_server_cert(&cert, &[], &server, &[], UnixTime::since_unix_epoch(at))
                .with_context(|| format!("not valid for {name} {when}"))?;
        }
    }
    Ok(())
}

/// Opens a TLS 1.3 connection to `addr` (a loopback address) whose reads and
/// writes time out after `io_timeout`. The handshake completes before this
/// returns, so certificate problems show here.
pub fn connect(
    addr: SocketAddr,
    config: &Arc<ClientConfig>,
    io_timeout: Duration,
) -> Result<TlsStream> {
    let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .with_context(|| format!("cannot connect to {addr}"))?;
    tcp.set_nodelay(true)?;
    tcp.set_read_timeout(Some(io_timeout))?;
    tcp.set_write_timeout(Some(io_timeout))?;
    let name = ServerName::IpAddress(addr.ip().into());
    let conn = ClientConnection::new(Arc::clone(config), name)?;
    let mut stream = StreamOwned::new(conn, tcp);
    while stream.conn.is_handshaking() {
        stream
            .conn
            .complete_io(&mut stream.sock)
            .with_context(|| format!("TLS handshake with {addr} failed"))?;
    }
    if stream.conn.protocol_version() != Some(rustls::ProtocolVersion::TLSv1_3) {
        bail!(
            "{addr} negotiated {:?}, not TLS 1.3",
            stream.conn.protocol_version()
        );
    }
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificate_verifies_and_mismatches_are_caught() {
        let dir = std::env::temp_dir().join(format!("xtask-tls-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let dev = DevCert {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        generate(&dev).unwrap();
        check(&dev).unwrap();
        let mode = |p: &Path| {
            use std::os::unix::fs::PermissionsExt;
            fs::metadata(p).unwrap().permissions().mode() & 0o777
        };
        assert_eq!(mode(&dev.key), 0o600);
        dev.client_config().unwrap();

        // Another key under the same certificate is refused.
        let other = DevCert {
            cert: dir.join("other-cert.pem"),
            key: dir.join("other-key.pem"),
        };
        generate(&other).unwrap();
        let mixed = DevCert {
            cert: dev.cert.clone(),
            key: other.key.clone(),
        };
        assert!(check(&mixed).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
