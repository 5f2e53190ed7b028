//! Connection configuration: identity, the remote fingerprint, what to negotiate, timers.

use crate::cert::{subject_public_key, Certificate, Fingerprint};
use crate::crypto::kx::NamedGroup;
use crate::crypto::sign::SigningKey;
use crate::crypto::suite::CipherSuite;
use crate::Error;
use rtcwire_proto::SrtpProfile;
use std::time::Duration;

/// Immutable settings shared by connections (wrap in an `Arc` to share).
///
/// Built with [`Config::builder`]; building checks that the certificate and key belong
/// together.
#[derive(Debug)]
pub struct Config {
    pub(crate) certificate: Certificate,
    pub(crate) signing_key: SigningKey,
    pub(crate) remote_fingerprints: Vec<Fingerprint>,
    pub(crate) cipher_suites: Vec<CipherSuite>,
    pub(crate) groups: Vec<NamedGroup>,
    pub(crate) srtp_profiles: Vec<SrtpProfile>,
    pub(crate) mtu: usize,
    pub(crate) initial_rto: Duration,
    pub(crate) handshake_timeout: Duration,
    pub(crate) hello_verify: bool,
    pub(crate) deterministic_keys: bool,
}

impl Config {
    /// Starts a configuration around our identity.
    #[must_use]
    pub fn builder(certificate: Certificate) -> ConfigBuilder {
        ConfigBuilder {
            certificate,
            remote_fingerprints: Vec::new(),
            cipher_suites: CipherSuite::ALL.to_vec(),
            groups: NamedGroup::ALL.to_vec(),
            srtp_profiles: vec![
                SrtpProfile::AeadAes128Gcm,
                SrtpProfile::AeadAes256Gcm,
                SrtpProfile::Aes128CmHmacSha1_80,
                SrtpProfile::Aes128CmHmacSha1_32,
            ],
            mtu: 1200,
            initial_rto: Duration::from_secs(1),
            handshake_timeout: Duration::from_secs(30),
            hello_verify: true,
            deterministic_keys: false,
        }
    }

    /// Our certificate.
    #[must_use]
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }
}

/// Builder for [`Config`].
#[derive(Debug)]
pub struct ConfigBuilder {
    certificate: Certificate,
    remote_fingerprints: Vec<Fingerprint>,
    cipher_suites: Vec<CipherSuite>,
    groups: Vec<NamedGroup>,
    srtp_profiles: Vec<SrtpProfile>,
    mtu: usize,
    initial_rto: Duration,
    handshake_timeout: Duration,
    hello_verify: bool,
    deterministic_keys: bool,
}

impl ConfigBuilder {
    /// Adds a fingerprint from the remote SDP; the peer's certificate must match one of them.
    #[must_use]
    pub fn remote_fingerprint(mut self, fp: Fingerprint) -> Self {
        self.remote_fingerprints.push(fp);
        self
    }

    /// Cipher suites to offer (client) or accept (server), in preference order. The server
    /// picks by its own order. Suites must be ECDHE_ECDSA to be usable as a server with our
    /// ECDSA certificate; ECDHE_RSA suites are only meaningful as a client.
    #[must_use]
    pub fn cipher_suites(mut self, suites: &[CipherSuite]) -> Self {
        self.cipher_suites = suites.to_vec();
        self
    }

    /// Key-exchange groups, in preference order.
    #[must_use]
    pub fn groups(mut self, groups: &[NamedGroup]) -> Self {
        self.groups = groups.to_vec();
        self
    }

    /// SRTP protection profiles for `use_srtp`, in preference order (empty: do not offer
    /// use_srtp). Profiles without a DTLS id are skipped.
    #[must_use]
    pub fn srtp_profiles(mut self, profiles: &[SrtpProfile]) -> Self {
        self.srtp_profiles = profiles
            .iter()
            .copied()
            .filter(|p| p.dtls_id().is_some())
            .collect();
        self
    }

    /// Largest datagram we send (default 1200). Handshake messages are fragmented to fit.
    #[must_use]
    pub fn mtu(mut self, mtu: usize) -> Self {
        self.mtu = mtu.clamp(200, 65_000);
        self
    }

    /// First retransmission timeout (default 1 s, RFC 6347 §4.2.4.1); doubles per retry.
    #[must_use]
    pub fn initial_retransmit_timeout(mut self, d: Duration) -> Self {
        self.initial_rto = d.max(Duration::from_millis(1));
        self
    }

    /// How long a handshake may take before it fails with [`Error::HandshakeTimeout`].
    #[must_use]
    pub fn handshake_timeout(mut self, d: Duration) -> Self {
        self.handshake_timeout = d;
        self
    }

    /// Whether a server first answers with a stateless HelloVerifyRequest cookie (default
    /// on, RFC 6347 §4.2.1).
    #[must_use]
    pub fn hello_verify(mut self, on: bool) -> Self {
        self.hello_verify = on;
        self
    }

    /// Draw ephemeral keys and signature nonces from the connection's injected `Rng` instead
    /// of the operating system (see [`crate::SystemRng`]). For deterministic simulation only:
    /// the keys are then exactly as secret as that generator.
    #[must_use]
    pub fn deterministic_keys(mut self, on: bool) -> Self {
        self.deterministic_keys = on;
        self
    }

    /// Checks and builds the configuration.
    ///
    /// Fails with [`Error::CertificateKeyMismatch`] when the private key is not the
    /// certificate's, and [`Error::BadPrivateKey`] when it is not an ECDSA P-256 PKCS#8 key.
    pub fn build(self) -> Result<Config, Error> {
        let signing_key = SigningKey::from_pkcs8(
            self.certificate.private_key_pkcs8(),
            self.deterministic_keys,
        )?;
        let spk = subject_public_key(self.certificate.der())
            .ok_or(Error::BadCertificate("own certificate has no usable key"))?;
        if spk.key != signing_key.public_key() {
            return Err(Error::CertificateKeyMismatch);
        }
        Ok(Config {
            certificate: self.certificate,
            signing_key,
            remote_fingerprints: self.remote_fingerprints,
            cipher_suites: self.cipher_suites,
            groups: self.groups,
            srtp_profiles: self.srtp_profiles,
            mtu: self.mtu,
            initial_rto: self.initial_rto,
            handshake_timeout: self.handshake_timeout,
            hello_verify: self.hello_verify,
            deterministic_keys: self.deterministic_keys,
        })
    }
}
