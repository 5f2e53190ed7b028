//! Certificates: our self-signed ECDSA P-256 identity (made with rcgen), SDP fingerprints
//! (RFC 8122 §5), and the minimal DER walk that finds a peer's public key.

mod der;

pub use der::{subject_public_key, PublicKeyKind, SubjectPublicKey};

use crate::crypto::sign::SigningKey;
use crate::Error;
use std::fmt;
use std::sync::Arc;

/// A DTLS identity: a DER certificate and its PKCS#8 private key.
///
/// `Debug` never prints the key. Cheap to clone: the bytes are shared (a session and its
/// DTLS configuration, or every session of a server, hold one copy).
#[derive(Clone)]
pub struct Certificate {
    der: Arc<[u8]>,
    pkcs8: Arc<[u8]>,
    /// The key, parsed once when the identity is made (ring derives the public key from
    /// the private one: a P-256 multiplication), not at every session's
    /// [`Config`](crate::Config) build, which lies on the way to a connection. `None` for
    /// a key that does not parse (the build says why).
    key: Option<Arc<SigningKey>>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("der_len", &self.der.len())
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl Certificate {
    /// A fresh self-signed ECDSA P-256 certificate, as WebRTC connections use (RFC 8827 §6.5).
    pub fn generate_self_signed() -> Result<Certificate, Error> {
        let gen = |e: rcgen::Error| Error::CertificateGeneration(e.to_string());
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(gen)?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(gen)?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "rtcwire");
        let cert = params.self_signed(&key).map_err(gen)?;
        Ok(Certificate::with_key(
            cert.der().to_vec().into(),
            key.serialize_der().into(),
        ))
    }

    /// A fresh self-signed Ed25519 certificate (RFC 8410). Its CertificateVerify (DTLS 1.3)
    /// and ServerKeyExchange (DTLS 1.2, with the ECDHE_ECDSA suites as RFC 8422 allows)
    /// signatures are Ed25519 (0x0807): the peer must offer that scheme. Browsers use ECDSA
    /// P-256 ([`generate_self_signed`](Self::generate_self_signed)).
    pub fn generate_self_signed_ed25519() -> Result<Certificate, Error> {
        let gen = |e: rcgen::Error| Error::CertificateGeneration(e.to_string());
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(gen)?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(gen)?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "rtcwire");
        let cert = params.self_signed(&key).map_err(gen)?;
        Ok(Certificate::with_key(
            cert.der().to_vec().into(),
            key.serialize_der().into(),
        ))
    }

    /// An identity from a DER certificate and a PKCS#8 ECDSA P-256 or Ed25519 key. Whether they belong
    /// together is checked when the [`Config`](crate::Config) is built.
    #[must_use]
    pub fn from_der(certificate_der: Vec<u8>, pkcs8_key_der: Vec<u8>) -> Certificate {
        Certificate::with_key(certificate_der.into(), pkcs8_key_der.into())
    }

    fn with_key(der: Arc<[u8]>, pkcs8: Arc<[u8]>) -> Certificate {
        let key = SigningKey::from_pkcs8(&pkcs8, false).ok().map(Arc::new);
        Certificate { der, pkcs8, key }
    }

    /// The signing key (random-nonce ECDSA, or Ed25519): the one parsed with the identity.
    pub(crate) fn signing_key(&self) -> Result<Arc<SigningKey>, Error> {
        match &self.key {
            Some(k) => Ok(Arc::clone(k)),
            None => SigningKey::from_pkcs8(&self.pkcs8, false).map(Arc::new),
        }
    }

    /// The DER certificate.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The PKCS#8 private key (secret: keep it out of logs).
    #[must_use]
    pub fn private_key_pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The certificate's fingerprint, ready for an SDP `a=fingerprint:` line.
    #[must_use]
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::new(
            FingerprintAlgorithm::Sha256,
            ring::digest::digest(&ring::digest::SHA256, &self.der).as_ref(),
        )
    }

    /// The fingerprint with another hash function (`None` for MD2, MD5, SHA-224).
    #[must_use]
    pub fn fingerprint_with(&self, algorithm: FingerprintAlgorithm) -> Option<Fingerprint> {
        fingerprint_of(algorithm, &self.der)
    }
}

/// The fingerprint type is the workspace's one, shared with rtcwire-sdp.
pub use rtcwire_proto::{Fingerprint, FingerprintAlgorithm};

/// ring's digest for `algorithm`, when ring has it (MD2, MD5 and SHA-224 it has not).
fn digest_algorithm(algorithm: FingerprintAlgorithm) -> Option<&'static ring::digest::Algorithm> {
    match algorithm {
        FingerprintAlgorithm::Sha1 => Some(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY),
        FingerprintAlgorithm::Sha256 => Some(&ring::digest::SHA256),
        FingerprintAlgorithm::Sha384 => Some(&ring::digest::SHA384),
        FingerprintAlgorithm::Sha512 => Some(&ring::digest::SHA512),
        _ => None,
    }
}

/// The fingerprint of a DER certificate with `algorithm`; `None` for a hash function this
/// crate cannot compute (MD2, MD5, SHA-224).
#[must_use]
pub fn fingerprint_of(algorithm: FingerprintAlgorithm, der: &[u8]) -> Option<Fingerprint> {
    let d = ring::digest::digest(digest_algorithm(algorithm)?, der);
    Some(Fingerprint::new(algorithm, d.as_ref()))
}

/// Whether `der` hashes to `fingerprint` (constant time in the digest comparison). A
/// fingerprint with a hash function this crate cannot compute never matches.
#[must_use]
pub fn fingerprint_matches(fingerprint: &Fingerprint, der: &[u8]) -> bool {
    fingerprint_of(fingerprint.algorithm, der)
        .is_some_and(|d| rtcwire_proto::ct_eq(&d.value, &fingerprint.value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_formats_and_parses_for_sdp() {
        let c = Certificate::generate_self_signed().expect("cert");
        for alg in [
            FingerprintAlgorithm::Sha1,
            FingerprintAlgorithm::Sha256,
            FingerprintAlgorithm::Sha384,
            FingerprintAlgorithm::Sha512,
        ] {
            let fp = c.fingerprint_with(alg).expect("ring has it");
            let s = fp.to_string();
            assert!(s.starts_with(alg.sdp_name()));
            assert_eq!(Fingerprint::parse(&s), Ok(fp.clone()));
            assert!(fingerprint_matches(&fp, c.der()));
            let mut other = c.der().to_vec();
            if let Some(b) = other.last_mut() {
                *b ^= 1;
            }
            assert!(!fingerprint_matches(&fp, &other));
        }
        let s = c.fingerprint().to_string();
        assert_eq!(s.len(), "sha-256 ".len() + 32 * 3 - 1);
        assert!(c.fingerprint_with(FingerprintAlgorithm::Md5).is_none());
        let md5 = Fingerprint::new(FingerprintAlgorithm::Md5, [0u8; 16]);
        assert!(
            !fingerprint_matches(&md5, c.der()),
            "an uncomputable hash never matches"
        );
    }

    #[test]
    fn generated_certificate_is_ecdsa_p256() {
        let c = Certificate::generate_self_signed().expect("cert");
        let k = subject_public_key(c.der()).expect("spki");
        assert_eq!(k.kind, PublicKeyKind::EcdsaP256);
        assert!(!format!("{c:?}").contains("pkcs8"));
    }
}
