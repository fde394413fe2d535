//! A certificate authority made for one test run: it signs a server certificate for the names and loopback
//! addresses the mirrors answer on; clients trust its PEM (`--ca-file`), nothing else does.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The CA's certificate and a server configuration whose certificate it signed.
pub struct TestCa {
    /// The CA certificate (PEM), for clients to trust.
    pub ca_pem: String,
    /// For [`super::MirrorConfig::tls`].
    pub server: Arc<ServerConfig>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// A CA and a server certificate valid for `names`, `localhost`, 127.0.0.1 and ::1.
    pub fn new(names: &[&str]) -> Result<TestCa, String> {
        let e = |e: rcgen::Error| format!("cannot make test certificates: {e}");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Mirrorvane test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(e)?).map_err(e)?;
        let mut sans: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        sans.extend(["localhost".into(), "127.0.0.1".into(), "::1".into()]);
        let mut params = CertificateParams::new(sans).map_err(e)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "mirrorvane test mirror");
        let key = KeyPair::generate().map_err(e)?;
        let cert = params.signed_by(&key, &ca).map_err(e)?;
        let chain = vec![cert.der().clone(), CertificateDer::from(ca.der().to_vec())];
        let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut server = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(|e| format!("bad test certificate: {e}"))?;
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TestCa {
            ca_pem: ca.pem(),
            server: Arc::new(server),
        })
    }
}
