//! TLS for `packyard serve`: the certificate and key files (`tls.cert_file`,
//! `tls.key_file`), read and checked at start with errors that name the file, served by
//! rustls (ring) through a resolver whose certificate SIGHUP replaces in place: handshakes
//! after the swap get the new one, connections already open keep theirs.
//!
//! Also the plain-HTTP listener that redirects to https (`tls.redirect_listen`) and
//! `packyard admin self-signed-cert`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{Error as TlsError, InconsistentKeys, ServerConfig};
use sha2::{Digest, Sha256};

/// The two PEM files a TLS server is started from.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

/// The crypto rustls uses here: ring, and nothing else.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads and checks the certificate chain and its private key. Every error names the file
/// (and the setting) it is about.
pub fn load(files: &TlsFiles, provider: &CryptoProvider) -> anyhow::Result<CertifiedKey> {
    let cert_path = files.cert_file.display();
    let key_path = files.key_file.display();
    let cert_pem = read(&files.cert_file, "tls.cert_file", "certificate")?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            anyhow!(
                "the TLS certificate file {cert_path} (`tls.cert_file`) is not valid PEM: {}",
                pem_error(&e)
            )
        })?;
    if chain.is_empty() {
        bail!(
            "the TLS certificate file {cert_path} (`tls.cert_file`) holds no certificate: \
             expected PEM blocks `-----BEGIN CERTIFICATE-----`, the server's certificate first, \
             then its chain"
        );
    }
    let key_pem = read(&files.key_file, "tls.key_file", "private key")?;
    let key = match PrivateKeyDer::from_pem_slice(&key_pem) {
        Ok(key) => key,
        Err(pem::Error::NoItemsFound) => bail!(
            "the TLS key file {key_path} (`tls.key_file`) holds no private key: expected a PEM \
             block `-----BEGIN PRIVATE KEY-----` (PKCS#8), `RSA PRIVATE KEY` or `EC PRIVATE KEY`"
        ),
        Err(e) => bail!(
            "the TLS key file {key_path} (`tls.key_file`) is not valid PEM: {}",
            pem_error(&e)
        ),
    };
    let signing_key = provider.key_provider.load_private_key(key).map_err(|e| {
        anyhow!(
            "the TLS key file {key_path} (`tls.key_file`) holds a private key that cannot be \
             used (RSA of 2048 bits or more, ECDSA P-256/P-384 or Ed25519 are): {e}"
        )
    })?;
    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        Ok(()) => {}
        // The key cannot tell its public half: nothing to compare (ring's keys all can).
        Err(TlsError::InconsistentKeys(InconsistentKeys::Unknown)) => {}
        Err(TlsError::InconsistentKeys(InconsistentKeys::KeyMismatch)) => bail!(
            "the TLS key file {key_path} (`tls.key_file`) does not match the certificate in \
             {cert_path} (`tls.cert_file`): the first certificate of the file must be the \
             server's own (the one issued for this key), followed by its chain"
        ),
        Err(e) => bail!(
            "the first certificate in the TLS certificate file {cert_path} (`tls.cert_file`) \
             cannot be read: {e}"
        ),
    }
    Ok(certified)
}

fn read(path: &Path, key: &str, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| {
        format!(
            "cannot read the TLS {what} file {} (`{key}`)",
            path.display()
        )
    })
}

/// A PEM error without the bytes it quotes (a private key's, possibly).
fn pem_error(e: &pem::Error) -> String {
    match e {
        pem::Error::MissingSectionEnd { .. } => "a `-----BEGIN` block has no `-----END`".into(),
        pem::Error::IllegalSectionStart { .. } => "a malformed `-----BEGIN` line".into(),
        pem::Error::Base64Decode(_) => "a block's base64 does not decode".into(),
        pem::Error::Io(e) => e.to_string(),
        _ => "malformed PEM".into(),
    }
}

/// The sha256 of a certificate's DER, as `openssl x509 -fingerprint -sha256` prints it
/// (upper-case hex pairs joined by `:`).
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    Sha256::digest(cert.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Hands every handshake the current certificate. [`CertResolver::reload`] swaps it: a
/// handshake after the swap gets the new one; open connections are not touched.
pub struct CertResolver {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: ArcSwap<CertifiedKey>,
}

impl fmt::Debug for CertResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertResolver")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl CertResolver {
    /// Loads the files (see [`load`]).
    pub fn new(files: TlsFiles, provider: Arc<CryptoProvider>) -> anyhow::Result<CertResolver> {
        let key = load(&files, &provider)?;
        Ok(CertResolver {
            files,
            provider,
            current: ArcSwap::from_pointee(key),
        })
    }

    /// Re-reads the files; on any error the current certificate stays.
    pub fn reload(&self) -> anyhow::Result<()> {
        let key = load(&self.files, &self.provider)?;
        self.current.store(Arc::new(key));
        Ok(())
    }

    /// The fingerprint of the certificate served now.
    pub fn current_fingerprint(&self) -> String {
        let key = self.current.load();
        key.end_entity_cert().map(fingerprint).unwrap_or_default()
    }

    pub fn files(&self) -> &TlsFiles {
        &self.files
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// The rustls configuration: TLS 1.2 and 1.3 with ring, no client certificates, the
/// certificate from `resolver`. actix-web adds the ALPN protocols (`h2`, `http/1.1`).
pub fn server_config(
    resolver: Arc<CertResolver>,
    provider: Arc<CryptoProvider>,
) -> anyhow::Result<ServerConfig> {
    Ok(ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("the TLS protocol versions")?
        .with_no_client_auth()
        .with_cert_resolver(resolver))
}

/// `scheme://host[:port]` of a URL (what a redirect keeps of `external_url`).
pub fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// Where the redirect listener sends a request for `path_and_query`: the same path on
/// `origin` (never the request's Host, which the client controls).
pub fn redirect_location(origin: &str, path_and_query: &str) -> String {
    if path_and_query.starts_with('/') {
        format!("{origin}{path_and_query}")
    } else {
        format!("{origin}/")
    }
}

/// What `packyard admin self-signed-cert` writes.
pub struct SelfSigned {
    pub cert_pem: String,
    pub key_pem: String,
    pub fingerprint: String,
    pub not_after: String,
}

/// A self-signed ECDSA P-256 certificate for these DNS names and IP addresses, valid from a
/// day ago for `days` days.
pub fn self_signed(
    hosts: &[String],
    ips: &[std::net::IpAddr],
    days: u32,
) -> anyhow::Result<SelfSigned> {
    use rcgen::{
        CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair,
        KeyUsagePurpose, SanType,
    };
    if hosts.is_empty() && ips.is_empty() {
        bail!(
            "give at least one --host NAME or --ip ADDRESS: clients check the name they connect to"
        );
    }
    let mut params = CertificateParams::default();
    let mut sans = Vec::new();
    for host in hosts {
        let name = host
            .as_str()
            .try_into()
            .map_err(|_| anyhow!("--host {host:?} is not a DNS name"))?;
        sans.push(SanType::DnsName(name));
    }
    sans.extend(ips.iter().map(|ip| SanType::IpAddress(*ip)));
    params.subject_alt_names = sans;
    let mut dn = DistinguishedName::new();
    let common_name = hosts
        .first()
        .cloned()
        .or_else(|| ips.first().map(|ip| ip.to_string()))
        .unwrap_or_default();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "Packyard self-signed");
    params.distinguished_name = dn;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(i64::from(days.max(1)));
    let key = KeyPair::generate().context("generating the key")?;
    let cert = params
        .self_signed(&key)
        .context("signing the certificate")?;
    let not_after = params
        .not_after
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    Ok(SelfSigned {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        fingerprint: fingerprint(cert.der()),
        not_after,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn files(cert_file: PathBuf, key_file: PathBuf) -> TlsFiles {
        TlsFiles {
            cert_file,
            key_file,
        }
    }

    fn err(files: &TlsFiles) -> String {
        format!("{:#}", load(files, &provider()).unwrap_err())
    }

    #[test]
    fn a_self_signed_pair_loads_and_matches() {
        let dir = tempfile::tempdir().unwrap();
        let s = self_signed(&["localhost".into()], &["127.0.0.1".parse().unwrap()], 30).unwrap();
        let f = files(
            write(dir.path(), "c.pem", &s.cert_pem),
            write(dir.path(), "k.pem", &s.key_pem),
        );
        let resolver = CertResolver::new(f, provider()).unwrap();
        assert_eq!(resolver.current_fingerprint(), s.fingerprint);
        assert_eq!(s.fingerprint.len(), 32 * 3 - 1);
    }

    #[test]
    fn bad_files_are_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let a = self_signed(&["a.example".into()], &[], 30).unwrap();
        let b = self_signed(&["b.example".into()], &[], 30).unwrap();
        let cert = write(dir.path(), "cert.pem", &a.cert_pem);
        let key = write(dir.path(), "key.pem", &a.key_pem);
        let other_key = write(dir.path(), "other-key.pem", &b.key_pem);
        let garbage = write(dir.path(), "garbage.pem", "not a certificate at all\n");
        let broken = write(
            dir.path(),
            "broken.pem",
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        );
        let missing = dir.path().join("missing.pem");

        let e = err(&files(missing.clone(), key.clone()));
        assert!(
            e.contains("missing.pem") && e.contains("cannot read"),
            "{e}"
        );
        let e = err(&files(cert.clone(), missing.clone()));
        assert!(
            e.contains("missing.pem") && e.contains("tls.key_file"),
            "{e}"
        );
        let e = err(&files(garbage.clone(), key.clone()));
        assert!(
            e.contains("garbage.pem") && e.contains("no certificate"),
            "{e}"
        );
        let e = err(&files(broken, key.clone()));
        assert!(
            e.contains("broken.pem") && e.contains("not valid PEM"),
            "{e}"
        );
        let e = err(&files(cert.clone(), garbage));
        assert!(
            e.contains("garbage.pem") && e.contains("no private key"),
            "{e}"
        );
        // The certificate where the key should be: no key in it.
        let e = err(&files(cert.clone(), cert.clone()));
        assert!(e.contains("no private key"), "{e}");
        let e = err(&files(cert.clone(), other_key));
        assert!(
            e.contains("other-key.pem") && e.contains("does not match") && e.contains("cert.pem"),
            "{e}"
        );
        // Chain order: a second certificate first is the wrong leaf for the key.
        let chain_wrong = write(
            dir.path(),
            "wrong-order.pem",
            &format!("{}{}", b.cert_pem, a.cert_pem),
        );
        let e = err(&files(chain_wrong, key.clone()));
        assert!(e.contains("does not match"), "{e}");
        // A chain in the right order loads.
        let chain = write(
            dir.path(),
            "chain.pem",
            &format!("{}{}", a.cert_pem, b.cert_pem),
        );
        load(&files(chain, key), &provider()).unwrap();
    }

    #[test]
    fn a_failed_reload_keeps_the_served_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let a = self_signed(&["a.example".into()], &[], 30).unwrap();
        let b = self_signed(&["a.example".into()], &[], 30).unwrap();
        let cert = write(dir.path(), "cert.pem", &a.cert_pem);
        let key = write(dir.path(), "key.pem", &a.key_pem);
        let resolver = CertResolver::new(files(cert.clone(), key.clone()), provider()).unwrap();
        std::fs::write(&cert, "garbage").unwrap();
        assert!(resolver.reload().is_err());
        assert_eq!(resolver.current_fingerprint(), a.fingerprint);
        std::fs::write(&cert, &b.cert_pem).unwrap();
        std::fs::write(&key, &b.key_pem).unwrap();
        resolver.reload().unwrap();
        assert_eq!(resolver.current_fingerprint(), b.fingerprint);
    }

    #[test]
    fn redirects_keep_the_path_on_the_external_origin() {
        assert_eq!(
            origin("https://reg.example:8443/x/"),
            "https://reg.example:8443"
        );
        assert_eq!(origin("https://reg.example"), "https://reg.example");
        let o = origin("https://reg.example");
        assert_eq!(
            redirect_location(o, "/api/v4/projects?x=1"),
            "https://reg.example/api/v4/projects?x=1"
        );
        assert_eq!(redirect_location(o, "*"), "https://reg.example/");
    }

    #[test]
    fn self_signed_needs_a_name_and_refuses_bad_ones() {
        assert!(self_signed(&[], &[], 30).is_err());
        assert!(self_signed(&["bad name\u{e9}".into()], &[], 30).is_err());
    }
}
