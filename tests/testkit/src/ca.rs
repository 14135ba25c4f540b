//! Throw-away certificate authority for loopback HTTPS tests.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, date_time_ymd};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The aws-lc-rs rustls crypto provider used by every config this crate builds
/// (no process-wide default provider is installed or required).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Validity window of a leaf certificate issued by [`TestCa::server_config_for`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertValidity {
    /// 2000-01-01 .. 2099-12-31.
    Valid,
    /// 2000-01-01 .. 2001-01-01 (expired).
    Expired,
    /// 2090-01-01 .. 2099-12-31 (not yet valid).
    NotYetValid,
}

/// A freshly generated CA (ECDSA P-256) plus a server leaf certificate for
/// `IP:127.0.0.1` and `DNS:localhost` signed by it.
///
/// The CA certificate is written to `<dir>/ca.pem` and a second, unrelated
/// CA certificate (for "wrong CA" tests) to `<dir>/wrong-ca.pem`.
pub struct TestCa {
    dir: PathBuf,
    owns_dir: bool,
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    leaf_pem: String,
    leaf_der: CertificateDer<'static>,
    leaf_key_pkcs8: Vec<u8>,
    leaf_key_pem: String,
    wrong_ca_pem: String,
    wrong_ca_der: CertificateDer<'static>,
}

static DIR_COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_temp_dir() -> PathBuf {
    let mut rnd = [0u8; 6];
    aws_lc_rs::rand::fill(&mut rnd).expect("rng");
    let n = DIR_COUNTER.fetch_add(1, Ordering::Relaxed);
    let hex: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
    std::env::temp_dir().join(format!("oidc-testkit-{}-{n}-{hex}", std::process::id()))
}

fn new_ca_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("no SANs");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, cn);
    params.distinguished_name.push(DnType::OrganizationName, "oidc-testkit");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = date_time_ymd(2000, 1, 1);
    params.not_after = date_time_ymd(2099, 12, 31);
    params
}

struct Leaf {
    pem: String,
    der: CertificateDer<'static>,
    key_pkcs8: Vec<u8>,
    key_pem: String,
}

fn issue_leaf(issuer: &Issuer<'static, KeyPair>, sans: &[&str], validity: CertValidity) -> Leaf {
    let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(sans).expect("valid SANs");
    params.distinguished_name.push(DnType::CommonName, "oidc-testkit server");
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let (nb, na) = match validity {
        CertValidity::Valid => (date_time_ymd(2000, 1, 1), date_time_ymd(2099, 12, 31)),
        CertValidity::Expired => (date_time_ymd(2000, 1, 1), date_time_ymd(2001, 1, 1)),
        CertValidity::NotYetValid => (date_time_ymd(2090, 1, 1), date_time_ymd(2099, 12, 31)),
    };
    params.not_before = nb;
    params.not_after = na;
    let key = KeyPair::generate().expect("leaf key");
    let cert = params.signed_by(&key, issuer).expect("sign leaf");
    Leaf { pem: cert.pem(), der: cert.der().clone(), key_pkcs8: key.serialize_der(), key_pem: key.serialize_pem() }
}

fn server_config_from(chain: Vec<CertificateDer<'static>>, key_pkcs8: &[u8]) -> Arc<ServerConfig> {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pkcs8.to_vec()));
    let mut cfg = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server cert");
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(cfg)
}

fn client_config_from(root: &CertificateDer<'static>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(root.clone()).expect("add root");
    let cfg = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(cfg)
}

impl TestCa {
    /// Generates a CA in a fresh unique directory under the system temp dir.
    /// That directory is removed when the `TestCa` is dropped.
    pub fn new() -> TestCa {
        let dir = unique_temp_dir();
        let mut ca = Self::new_in(&dir).expect("create TestCa temp dir");
        ca.owns_dir = true;
        ca
    }

    /// Generates a CA and writes `ca.pem` and `wrong-ca.pem` into `dir`
    /// (created if missing; never removed by this crate).
    pub fn new_in(dir: impl AsRef<Path>) -> io::Result<TestCa> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)?;

        let ca_params = new_ca_params("oidc-testkit CA");
        let ca_key = KeyPair::generate().map_err(io::Error::other)?;
        let ca_cert = ca_params.self_signed(&ca_key).map_err(io::Error::other)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let wrong_params = new_ca_params("oidc-testkit unrelated CA");
        let wrong_key = KeyPair::generate().map_err(io::Error::other)?;
        let wrong_cert = wrong_params.self_signed(&wrong_key).map_err(io::Error::other)?;

        let leaf = issue_leaf(&issuer, &["127.0.0.1", "localhost"], CertValidity::Valid);

        let ca = TestCa {
            dir,
            owns_dir: false,
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().clone(),
            issuer,
            leaf_pem: leaf.pem,
            leaf_der: leaf.der,
            leaf_key_pkcs8: leaf.key_pkcs8,
            leaf_key_pem: leaf.key_pem,
            wrong_ca_pem: wrong_cert.pem(),
            wrong_ca_der: wrong_cert.der().clone(),
        };
        std::fs::write(ca.ca_pem_path(), &ca.ca_pem)?;
        std::fs::write(ca.wrong_ca_pem_path(), &ca.wrong_ca_pem)?;
        Ok(ca)
    }

    /// Directory holding `ca.pem` / `wrong-ca.pem`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<dir>/ca.pem`: the CA that signed the fixture server's certificate.
    pub fn ca_pem_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// PEM text of the CA certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// DER of the CA certificate.
    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.ca_der.clone()
    }

    /// `<dir>/wrong-ca.pem`: an unrelated CA that did NOT sign anything the
    /// server presents (trusting only it must make TLS verification fail).
    pub fn wrong_ca_pem_path(&self) -> PathBuf {
        self.dir.join("wrong-ca.pem")
    }

    /// PEM text of the unrelated CA certificate.
    pub fn wrong_ca_pem(&self) -> &str {
        &self.wrong_ca_pem
    }

    /// PEM of the default server leaf certificate (127.0.0.1 + localhost).
    pub fn leaf_cert_pem(&self) -> &str {
        &self.leaf_pem
    }

    /// PKCS#8 PEM of the default server leaf key.
    pub fn leaf_key_pem(&self) -> &str {
        &self.leaf_key_pem
    }

    /// rustls server config presenting the default leaf (chain: leaf only).
    pub fn server_config(&self) -> Arc<ServerConfig> {
        server_config_from(vec![self.leaf_der.clone()], &self.leaf_key_pkcs8)
    }

    /// rustls server config presenting a newly issued leaf with the given
    /// SANs (IP literals become IP SANs, anything else DNS SANs) and validity.
    /// E.g. `&["example.com"]` for hostname-mismatch tests or
    /// `CertValidity::Expired` for expiry tests.
    pub fn server_config_for(&self, sans: &[&str], validity: CertValidity) -> Arc<ServerConfig> {
        let leaf = issue_leaf(&self.issuer, sans, validity);
        server_config_from(vec![leaf.der], &leaf.key_pkcs8)
    }

    /// rustls client config trusting only this CA.
    pub fn client_config(&self) -> Arc<ClientConfig> {
        client_config_from(&self.ca_der)
    }

    /// rustls client config trusting only the unrelated "wrong" CA.
    pub fn wrong_client_config(&self) -> Arc<ClientConfig> {
        client_config_from(&self.wrong_ca_der)
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// rustls client config trusting every certificate in the PEM file at
/// `path` (e.g. the `ca_file` printed by the `oidc-testkit` binary).
pub fn client_config_from_pem_file(path: impl AsRef<Path>) -> io::Result<Arc<ClientConfig>> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path.as_ref()).map_err(io::Error::other)? {
        roots.add(cert.map_err(io::Error::other)?).map_err(io::Error::other)?;
    }
    let cfg = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}
