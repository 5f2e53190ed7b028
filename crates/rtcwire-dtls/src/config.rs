//! Connection configuration: identity, the remote fingerprint, what to negotiate, timers.

use crate::cert::{subject_public_key, Certificate, Fingerprint};
use crate::crypto::kx::NamedGroup;
use crate::crypto::sign::SigningKey;
use crate::crypto::suite::CipherSuite;
use crate::Error;
use rtcwire_proto::SrtpProfile;
use std::sync::Arc;
use std::time::Duration;

/// Immutable settings shared by connections (wrap in an `Arc` to share).
///
/// Built with [`Config::builder`]; building checks that the certificate and key belong
/// together.
#[derive(Debug)]
pub struct Config {
    pub(crate) certificate: Certificate,
    pub(crate) signing_key: Arc<SigningKey>,
    pub(crate) remote_fingerprints: Vec<Fingerprint>,
    pub(crate) cipher_suites: Vec<CipherSuite>,
    pub(crate) groups: Vec<NamedGroup>,
    pub(crate) srtp_profiles: Vec<SrtpProfile>,
    pub(crate) mtu: usize,
    pub(crate) initial_rto: Duration,
    pub(crate) handshake_timeout: Duration,
    pub(crate) hello_verify: bool,
    pub(crate) deterministic_keys: bool,
    pub(crate) dtls13: bool,
    pub(crate) dtls13_cipher_suites: Vec<CipherSuite>,
    pub(crate) dtls13_groups: Vec<NamedGroup>,
    pub(crate) connection_id: Option<Vec<u8>>,
    pub(crate) partial_acks: bool,
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
            dtls13: true,
            dtls13_cipher_suites: CipherSuite::TLS13.to_vec(),
            dtls13_groups: vec![
                NamedGroup::X25519MlKem768,
                NamedGroup::X25519,
                NamedGroup::Secp256r1,
            ],
            connection_id: None,
            partial_acks: true,
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
    dtls13: bool,
    dtls13_cipher_suites: Vec<CipherSuite>,
    dtls13_groups: Vec<NamedGroup>,
    connection_id: Option<Vec<u8>>,
    partial_acks: bool,
}

impl ConfigBuilder {
    /// DTLS 1.3 (RFC 9147 §7): acknowledge the records of a peer's flight that arrived
    /// while part of it is missing (after a quarter of the retransmission timeout), and
    /// re-send only the records of ours the peer did not acknowledge (default on). Off:
    /// flights are acknowledged and re-sent whole.
    #[must_use]
    pub fn dtls13_partial_acks(mut self, on: bool) -> Self {
        self.partial_acks = on;
        self
    }

    /// Offers (client) or accepts (server) connection ids: RFC 9146 for DTLS 1.2, RFC 9147
    /// §9 for DTLS 1.3. Off by default (`None`). `Some(cid)` is the id we want the peer to
    /// put in every record it sends us (at most 255 bytes), so that we can route its
    /// datagrams by that id (see [`crate::peek_connection_id`]) when its address changes;
    /// `Some(vec![])` says we can send the peer's id but need none ourselves. A connection
    /// uses ids only when both sides sent the extension; then they are carried by every
    /// protected record (DTLS 1.2: from epoch 1 on, in `tls12_cid` records; DTLS 1.3: in the
    /// unified header of every encrypted record). See
    /// [`Connection::connection_ids`](crate::Connection::connection_ids).
    #[must_use]
    pub fn connection_id(mut self, cid: Option<Vec<u8>>) -> Self {
        self.connection_id = cid;
        self
    }

    /// Whether to offer (client) and accept (server) DTLS 1.3 (RFC 9147) besides DTLS 1.2
    /// (default on).
    /// A client offers both and falls back to 1.2 with a 1.2-only server, checking the RFC
    /// 8446 §4.1.3 downgrade sentinel; a server answers a 1.3 ClientHello with 1.3.
    #[must_use]
    pub fn dtls13(mut self, on: bool) -> Self {
        self.dtls13 = on;
        self
    }

    /// TLS 1.3 cipher suites for DTLS 1.3, in preference order (default: AES-128-GCM,
    /// AES-256-GCM, ChaCha20-Poly1305). Suites that are not TLS 1.3 ones are skipped.
    #[must_use]
    pub fn dtls13_cipher_suites(mut self, suites: &[CipherSuite]) -> Self {
        self.dtls13_cipher_suites = suites.iter().copied().filter(|s| s.is_tls13()).collect();
        self
    }

    /// Key-share groups for DTLS 1.3, in preference order (default: X25519MLKEM768, X25519,
    /// P-256). A client sends shares for the first group and, when the first is the hybrid,
    /// for X25519 too; a server picks by this order among the shares it was sent, and asks
    /// for another with a HelloRetryRequest when none fits.
    #[must_use]
    pub fn dtls13_groups(mut self, groups: &[NamedGroup]) -> Self {
        self.dtls13_groups = groups.to_vec();
        self
    }

    /// Adds a fingerprint from the remote SDP; the peer's certificate must match one of them.
    #[must_use]
    pub fn remote_fingerprint(mut self, fp: Fingerprint) -> Self {
        self.remote_fingerprints.push(fp);
        self
    }

    /// DTLS 1.2 cipher suites to offer (client) or accept (server), in preference order
    /// (TLS 1.3 suites are skipped here; see [`dtls13_cipher_suites`](Self::dtls13_cipher_suites)). The server
    /// picks by its own order. Suites must be ECDHE_ECDSA to be usable as a server with our
    /// ECDSA certificate; ECDHE_RSA suites are only meaningful as a client.
    #[must_use]
    pub fn cipher_suites(mut self, suites: &[CipherSuite]) -> Self {
        self.cipher_suites = suites.iter().copied().filter(|s| !s.is_tls13()).collect();
        self
    }

    /// DTLS 1.2 key-exchange groups, in preference order (the hybrid X25519MLKEM768 is
    /// DTLS 1.3 only and skipped here).
    #[must_use]
    pub fn groups(mut self, groups: &[NamedGroup]) -> Self {
        self.groups = groups
            .iter()
            .copied()
            .filter(|g| NamedGroup::ALL.contains(g))
            .collect();
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

    /// Whether a server first answers with a stateless cookie before it keeps any state or
    /// sends its flight (default on): a HelloVerifyRequest in DTLS 1.2 (RFC 6347 §4.2.1), a
    /// HelloRetryRequest with a cookie in DTLS 1.3 (RFC 9147 §5.1). The cookie proves that
    /// the client receives at the address it sends from, so that a forged source cannot
    /// turn the server into an amplifier; it costs one round trip per handshake.
    ///
    /// Turn it off only where the layer below already proved that: a WebRTC session hands
    /// DTLS only datagrams from addresses its ICE agent validated with authenticated
    /// connectivity checks (RFC 8445 §7.2.5). A standalone server facing the open network
    /// keeps it on.
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
    /// certificate's, [`Error::BadPrivateKey`] when it is neither an ECDSA P-256 nor an Ed25519 PKCS#8 key, and
    /// [`Error::ConnectionIdTooLong`] for a connection id over 255 bytes.
    pub fn build(self) -> Result<Config, Error> {
        if let Some(cid) = &self.connection_id {
            if cid.len() > crate::handshake::MAX_CID_LEN {
                return Err(Error::ConnectionIdTooLong(cid.len()));
            }
        }
        let signing_key = if self.deterministic_keys {
            Arc::new(SigningKey::from_pkcs8(
                self.certificate.private_key_pkcs8(),
                true,
            )?)
        } else {
            self.certificate.signing_key()?
        };
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
            dtls13: self.dtls13,
            dtls13_cipher_suites: self.dtls13_cipher_suites,
            dtls13_groups: self.dtls13_groups,
            connection_id: self.connection_id,
            partial_acks: self.partial_acks,
        })
    }
}
