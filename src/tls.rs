//! HTTPS on loopback (`latchkey serve --tls`, docs/setups.md): a local certificate authority
//! made once, a server certificate it signs, and the rustls configuration that serves it.
//!
//! Files in the TLS directory (default `<data dir>/latchkey/tls`):
//! - `ca.pem`: the CA certificate (ECDSA P-256, valid [`CA_DAYS`] days) to add to trust stores;
//! - `ca-key.pem`: its private key (PKCS#8, file mode 0600 on Unix);
//! - `server.pem`, `server-key.pem` (0600): the server certificate (valid [`LEAF_DAYS`] days)
//!   for `localhost`, `127.0.0.1`, `::1` and the extra names.
//!
//! Nothing is regenerated while it is usable: the CA stays as long as its files exist; the server
//! certificate is reissued (by the same CA) only when it does not chain to the CA, does not cover
//! a requested name, or expires within [`RENEW_DAYS`] days. Certificates come from rcgen and are
//! checked with rustls' own WebPKI verifier: no hand-written crypto.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

/// How long the CA is valid, in days (10 years).
pub const CA_DAYS: i64 = 3650;
/// How long a server certificate is valid, in days (under the 398 days browsers and Apple
/// platforms accept for server certificates).
pub const LEAF_DAYS: i64 = 397;
/// A server certificate expiring within this many days is reissued at start.
pub const RENEW_DAYS: i64 = 30;
/// The names every server certificate covers.
pub const DEFAULT_NAMES: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// Why the TLS material cannot be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not what it should be (not PEM, not a key, a key that does not match).
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, and what to do.
        message: String,
    },
    /// A name given with `--tls-name` is not a DNS name or an IP address.
    #[error("--tls-name `{0}` is neither a DNS name nor an IP address")]
    Name(String),
    /// Certificate generation failed.
    #[error("cannot make a certificate: {0}")]
    Generate(String),
}

/// The default TLS directory: `<data dir>/latchkey/tls` (next to the default database).
pub fn default_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("latchkey")
        .join("tls")
}

/// The local CA and the server certificate, as files.
#[derive(Debug, Clone)]
pub struct LocalCa {
    /// The TLS directory.
    pub dir: PathBuf,
    /// Whether the CA was created by this call (so it is not trusted anywhere yet).
    pub created: bool,
}

impl LocalCa {
    /// `ca.pem`: the certificate to trust.
    pub fn ca_cert_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// `ca-key.pem`: the CA's private key (owner-only).
    pub fn ca_key_path(&self) -> PathBuf {
        self.dir.join("ca-key.pem")
    }

    /// `server.pem`: the server certificate followed by nothing else (the CA is the trust anchor).
    pub fn server_cert_path(&self) -> PathBuf {
        self.dir.join("server.pem")
    }

    /// `server-key.pem`: the server's private key (owner-only).
    pub fn server_key_path(&self) -> PathBuf {
        self.dir.join("server-key.pem")
    }

    /// Opens the CA in `dir`, creating the directory and the CA when there is none yet.
    pub fn open_or_create(dir: &Path, now: i64) -> Result<LocalCa, TlsError> {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        // Absolute, so the paths printed for NODE_EXTRA_CA_CERTS and the like work anywhere.
        let dir = &std::fs::canonicalize(dir).map_err(|e| io(dir, e))?;
        let ca = LocalCa {
            dir: dir.clone(),
            created: false,
        };
        let (cert, key) = (ca.ca_cert_path(), ca.ca_key_path());
        match (cert.exists(), key.exists()) {
            (true, true) => {
                ca.ca_key()?;
                Ok(ca)
            }
            (false, false) => {
                let key_pair = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(generate)?;
                let mut params = ca_params(&key_pair);
                params.not_before = at(now - 3600);
                params.not_after = at(now + CA_DAYS * 86_400);
                let pem = params.self_signed(&key_pair).map_err(generate)?.pem();
                write_private(&key, &key_pair.serialize_pem())?;
                std::fs::write(&cert, pem).map_err(|e| io(&cert, e))?;
                Ok(LocalCa { created: true, ..ca })
            }
            (has_cert, _) => Err(TlsError::Invalid {
                path: if has_cert { key } else { cert },
                message: format!(
                    "is missing while its pair exists; remove {} to make a new CA (and trust the new one)",
                    dir.display()
                ),
            }),
        }
    }

    fn ca_key(&self) -> Result<KeyPair, TlsError> {
        let path = self.ca_key_path();
        let pem = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        KeyPair::from_pem(&pem).map_err(|e| TlsError::Invalid {
            path,
            message: format!("not a private key: {e}"),
        })
    }

    /// The CA certificate (DER).
    pub fn ca_cert(&self) -> Result<CertificateDer<'static>, TlsError> {
        let path = self.ca_cert_path();
        CertificateDer::from_pem_file(&path).map_err(|e| TlsError::Invalid {
            path,
            message: format!("not a PEM certificate: {e}"),
        })
    }

    /// The SHA-256 fingerprint of the CA certificate, as colon-separated upper-case hex (what
    /// `openssl x509 -fingerprint -sha256` and the OS certificate dialogs show).
    pub fn fingerprint(&self) -> Result<String, TlsError> {
        let der = self.ca_cert()?;
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
        Ok(digest
            .as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":"))
    }

    /// The server certificate for [`DEFAULT_NAMES`] and `extra` names, reused when it chains to
    /// the CA, covers every name and is valid for [`RENEW_DAYS`] more days; else reissued.
    /// Returns the chain (server certificate, then CA) and the private key.
    pub fn server_cert(
        &self,
        extra: &[String],
        now: i64,
    ) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
        let mut names: Vec<String> = DEFAULT_NAMES.iter().map(|s| s.to_string()).collect();
        for n in extra {
            let n = n
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase();
            if ServerName::try_from(n.as_str()).is_err() || n.is_empty() {
                return Err(TlsError::Name(n));
            }
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let ca = self.ca_cert()?;
        if !self.server_cert_usable(&ca, &names, now) {
            self.issue_server_cert(&names, now)?;
            if !self.server_cert_usable(&ca, &names, now) {
                return Err(TlsError::Invalid {
                    path: self.ca_cert_path(),
                    message: format!(
                        "does not match {}; remove {} to make a new CA (and trust the new one)",
                        self.ca_key_path().display(),
                        self.dir.display()
                    ),
                });
            }
        }
        let cert_path = self.server_cert_path();
        let leaf = CertificateDer::from_pem_file(&cert_path).map_err(|e| TlsError::Invalid {
            path: cert_path,
            message: e.to_string(),
        })?;
        let key_path = self.server_key_path();
        let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| TlsError::Invalid {
            path: key_path,
            message: e.to_string(),
        })?;
        Ok((vec![leaf, ca], key))
    }

    /// Whether `server.pem` chains to `ca`, covers `names` and is valid from now until
    /// [`RENEW_DAYS`] days from now (checked by rustls' WebPKI verifier at both times).
    fn server_cert_usable(&self, ca: &CertificateDer<'static>, names: &[String], now: i64) -> bool {
        let Ok(leaf) = CertificateDer::from_pem_file(self.server_cert_path()) else {
            return false;
        };
        if PrivateKeyDer::from_pem_file(self.server_key_path()).is_err() {
            return false;
        }
        let mut roots = RootCertStore::empty();
        if roots.add(ca.clone()).is_err() {
            return false;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let Ok(verifier) = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider).build() else {
            return false;
        };
        let times = [now, now + RENEW_DAYS * 86_400]
            .map(|t| UnixTime::since_unix_epoch(std::time::Duration::from_secs(u64::try_from(t).unwrap_or(0))));
        names.iter().all(|n| {
            let Ok(name) = ServerName::try_from(n.clone()) else {
                return false;
            };
            times
                .iter()
                .all(|t| verifier.verify_server_cert(&leaf, &[], &name, &[], *t).is_ok())
        })
    }

    fn issue_server_cert(&self, names: &[String], now: i64) -> Result<(), TlsError> {
        let ca_key = self.ca_key()?;
        let issuer = rcgen::Issuer::new(ca_params(&ca_key), ca_key);
        let key_pair = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(generate)?;
        let mut params = CertificateParams::new(names.to_vec()).map_err(|_| TlsError::Name(names.join(", ")))?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "localhost");
        dn.push(DnType::OrganizationName, "Latchkey (development only)");
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = at(now - 3600);
        params.not_after = at(now + LEAF_DAYS * 86_400);
        let cert = params.signed_by(&key_pair, &issuer).map_err(generate)?;
        write_private(&self.server_key_path(), &key_pair.serialize_pem())?;
        let path = self.server_cert_path();
        std::fs::write(&path, cert.pem()).map_err(|e| io(&path, e))
    }

    /// The rustls server configuration: the server certificate for `extra` names, ALPN `h2` and
    /// `http/1.1`, TLS 1.2 and 1.3 on aws-lc-rs.
    pub fn server_config(&self, extra: &[String], now: i64) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let (chain, key) = self.server_cert(extra, now)?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Generate(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| TlsError::Invalid {
                path: self.server_cert_path(),
                message: e.to_string(),
            })?;
        cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(cfg))
    }

    /// A rustls client configuration that trusts only this CA (the readiness probe).
    pub fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, TlsError> {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca_cert()?).map_err(|e| TlsError::Invalid {
            path: self.ca_cert_path(),
            message: e.to_string(),
        })?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        Ok(Arc::new(
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| TlsError::Generate(e.to_string()))?
                .with_root_certificates(roots)
                .with_no_client_auth(),
        ))
    }
}

/// The CA's parameters. The subject is derived from the CA key (so a server certificate signed
/// later names exactly the CA's subject without parsing `ca.pem`), and unique per CA, so two
/// machines' CAs are told apart in a trust store.
fn ca_params(key: &KeyPair) -> CertificateParams {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.public_key_raw());
    let short: String = digest.as_ref().iter().take(4).map(|b| format!("{b:02x}")).collect();
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("Latchkey development CA {short}"));
    dn.push(DnType::OrganizationName, "Latchkey (development only)");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn at(unix: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn io(path: &Path, source: std::io::Error) -> TlsError {
    TlsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn generate(e: rcgen::Error) -> TlsError {
    TlsError::Generate(e.to_string())
}

/// Writes a private key readable by the owner only (mode 0600 on Unix, set at creation, so the
/// key is never readable by others even for a moment), through a temporary file and a rename.
fn write_private(path: &Path, contents: &str) -> Result<(), TlsError> {
    use std::io::Write;
    let tmp = path.with_extension("pem.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = opts
        .open(&tmp)
        .and_then(|mut f| f.write_all(contents.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(path, e));
    }
    Ok(())
}

/// Where operating systems keep their CA bundle (Debian/Ubuntu/Alpine, Fedora/RHEL, macOS and
/// the BSDs, openSUSE), tried in this order.
pub const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
    "/etc/ssl/ca-bundle.pem",
];

/// The CA bundle a command would use without Latchkey: `SSL_CERT_FILE` when it names a file,
/// else the first of [`SYSTEM_BUNDLES`] that exists; `None` on systems without one (Windows).
pub fn system_bundle() -> Option<PathBuf> {
    std::env::var_os("SSL_CERT_FILE")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .or_else(|| SYSTEM_BUNDLES.iter().map(PathBuf::from).find(|p| p.is_file()))
}

impl LocalCa {
    /// `bundle.pem`: the system's CA bundle followed by Latchkey's CA, for variables that
    /// replace the default trust store rather than add to it (`SSL_CERT_FILE`,
    /// `REQUESTS_CA_BUNDLE`, `CURL_CA_BUNDLE`): with it a test still reaches real HTTPS hosts.
    pub fn bundle_path(&self) -> PathBuf {
        self.dir.join("bundle.pem")
    }

    /// Writes [`LocalCa::bundle_path`] from `system` (a PEM bundle; none: Latchkey's CA alone),
    /// through a temporary file unique to this process and a rename, so concurrent runs never
    /// see half a file. A `system` that is this bundle itself (a nested `latchkey exec`) is not
    /// copied into itself. Errors: [`TlsError::Io`].
    pub fn write_bundle(&self, system: Option<&Path>) -> Result<PathBuf, TlsError> {
        let path = self.bundle_path();
        let ca = std::fs::read_to_string(self.ca_cert_path()).map_err(|e| io(&self.ca_cert_path(), e))?;
        let mut out = String::new();
        if let Some(sys) = system.filter(|s| std::fs::canonicalize(s).ok() != std::fs::canonicalize(&path).ok()) {
            let text = std::fs::read_to_string(sys).map_err(|e| io(sys, e))?;
            out.push_str(&text);
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        out.push_str("# Latchkey development CA (latchkey ca)\n");
        out.push_str(&ca);
        let tmp = self.dir.join(format!("bundle.pem.{}.tmp", std::process::id()));
        let written = std::fs::write(&tmp, out).and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(&path, e));
        }
        Ok(path)
    }

    /// The variables that make a command trust this CA (what `latchkey exec --tls` sets):
    /// `LATCHKEY_CA_CERT`, `NODE_EXTRA_CA_CERTS` and `DENO_CERT` name `ca.pem` (they add to the
    /// runtime's store); `SSL_CERT_FILE` (OpenSSL, Go, Ruby, .NET on Linux),
    /// `REQUESTS_CA_BUNDLE` (Python requests) and `CURL_CA_BUNDLE` name the bundle from
    /// [`LocalCa::write_bundle`] (they replace the store). When the bundle cannot be written,
    /// they name `ca.pem` and the reason is returned beside them.
    pub fn trust_environment(&self) -> (Vec<(String, String)>, Option<TlsError>) {
        let ca = self.ca_cert_path().display().to_string();
        let (bundle, error) = match self.write_bundle(system_bundle().as_deref()) {
            Ok(p) => (p.display().to_string(), None),
            Err(e) => (ca.clone(), Some(e)),
        };
        let vars = [
            ("LATCHKEY_CA_CERT", &ca),
            ("NODE_EXTRA_CA_CERTS", &ca),
            ("DENO_CERT", &ca),
            ("SSL_CERT_FILE", &bundle),
            ("REQUESTS_CA_BUNDLE", &bundle),
            ("CURL_CA_BUNDLE", &bundle),
        ];
        (
            vars.into_iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            error,
        )
    }
}

/// What `latchkey ca` prints: where the CA is and how to trust it on each system and runtime.
pub fn trust_instructions(ca: &LocalCa) -> String {
    let path = ca.ca_cert_path();
    let p = path.display();
    let fp = ca.fingerprint().unwrap_or_else(|e| e.to_string());
    format!(
        "\
Latchkey's local certificate authority
  certificate  {p}
  private key  {key} (owner-only; never share it)
  SHA-256      {fp}

Trust it once per machine (development only: anyone holding the key can impersonate any site to
this machine, so remove it when you stop using Latchkey).

Linux (Debian, Ubuntu)
  sudo cp {p} /usr/local/share/ca-certificates/latchkey-dev-ca.crt && sudo update-ca-certificates
Linux (Fedora, RHEL, Arch)
  sudo trust anchor --store {p}
macOS
  sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {p}
Windows (PowerShell as administrator)
  Import-Certificate -FilePath \"{p}\" -CertStoreLocation Cert:\\LocalMachine\\Root
Firefox (its own store): Settings > Privacy & Security > Certificates > View Certificates >
  Authorities > Import, or set security.enterprise_roots.enabled = true to use the system's.

Runtimes that ignore the system store (set in the shell that runs your app or tests)
  Node.js              export NODE_EXTRA_CA_CERTS={p}
  Python (requests)    export REQUESTS_CA_BUNDLE={p}
  OpenSSL, Ruby, Go*   export SSL_CERT_FILE={p}
  curl                 curl --cacert {p} https://localhost:8443/.well-known/openid-configuration
  JVM                  keytool -importcert -noprompt -alias latchkey-dev-ca -file {p} \\
                         -keystore latchkey-truststore.p12 -storepass changeit
                       java -Djavax.net.ssl.trustStore=latchkey-truststore.p12 \\
                         -Djavax.net.ssl.trustStorePassword=changeit ...
  (* SSL_CERT_FILE replaces the default bundle for OpenSSL and Go; Node.js and requests add to
   or replace theirs as named.)
",
        key = ca.ca_key_path().display(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000;

    #[test]
    fn the_ca_is_made_once_and_the_server_certificate_is_reused() {
        let dir = tempfile::tempdir().unwrap();
        let ca = LocalCa::open_or_create(dir.path(), NOW).unwrap();
        assert!(ca.created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(ca.ca_key_path()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let fp = ca.fingerprint().unwrap();
        let (chain, _) = ca.server_cert(&[], NOW).unwrap();
        let again = LocalCa::open_or_create(dir.path(), NOW + 10).unwrap();
        assert!(!again.created);
        assert_eq!(again.fingerprint().unwrap(), fp);
        let (chain2, _) = again.server_cert(&[], NOW + 10).unwrap();
        assert_eq!(chain, chain2, "a usable server certificate is kept");
        // A new name, or nearing expiry, reissues it with the same CA.
        let (chain3, _) = again.server_cert(&["api.test".into()], NOW + 20).unwrap();
        assert_ne!(chain3[0], chain[0]);
        assert_eq!(chain3[1], chain[1]);
        let (chain4, _) = again
            .server_cert(&["api.test".into()], NOW + (LEAF_DAYS - RENEW_DAYS + 1) * 86_400)
            .unwrap();
        assert_ne!(chain4[0], chain3[0]);
        assert_eq!(again.fingerprint().unwrap(), fp);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(again.server_key_path()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn bad_names_and_half_a_ca_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ca = LocalCa::open_or_create(dir.path(), NOW).unwrap();
        assert!(matches!(
            ca.server_cert(&["not a name".into()], NOW),
            Err(TlsError::Name(_))
        ));
        std::fs::remove_file(ca.ca_key_path()).unwrap();
        let err = LocalCa::open_or_create(dir.path(), NOW).unwrap_err();
        assert!(err.to_string().contains("ca-key.pem"), "{err}");
    }
}
