//! Certificates: our self-signed ECDSA P-256 identity (made with rcgen), SDP fingerprints
//! (RFC 8122 §5), and the minimal DER walk that finds a peer's public key.

mod der;

pub use der::{subject_public_key, PublicKeyKind, SubjectPublicKey};

use crate::Error;
use std::fmt;

/// A DTLS identity: a DER certificate and its PKCS#8 private key.
///
/// `Debug` never prints the key.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    pkcs8: Vec<u8>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("der_len", &self.der.len())
            .field(
                "fingerprint",
                &self.fingerprint(FingerprintAlgorithm::Sha256),
            )
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
        Ok(Certificate {
            der: cert.der().to_vec(),
            pkcs8: key.serialize_der(),
        })
    }

    /// An identity from a DER certificate and a PKCS#8 ECDSA P-256 key. Whether they belong
    /// together is checked when the [`Config`](crate::Config) is built.
    #[must_use]
    pub fn from_der(certificate_der: Vec<u8>, pkcs8_key_der: Vec<u8>) -> Certificate {
        Certificate {
            der: certificate_der,
            pkcs8: pkcs8_key_der,
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
    pub fn fingerprint(&self, algorithm: FingerprintAlgorithm) -> Fingerprint {
        Fingerprint::of(algorithm, &self.der)
    }
}

/// Hash function of a certificate fingerprint (RFC 8122 §5, the "hash-func" token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FingerprintAlgorithm {
    /// `sha-1` (legacy; still accepted for a remote fingerprint).
    Sha1,
    /// `sha-256`: what browsers use.
    Sha256,
    /// `sha-384`.
    Sha384,
    /// `sha-512`.
    Sha512,
}

impl FingerprintAlgorithm {
    /// The SDP token, e.g. `sha-256`.
    #[must_use]
    pub const fn sdp_name(self) -> &'static str {
        match self {
            FingerprintAlgorithm::Sha1 => "sha-1",
            FingerprintAlgorithm::Sha256 => "sha-256",
            FingerprintAlgorithm::Sha384 => "sha-384",
            FingerprintAlgorithm::Sha512 => "sha-512",
        }
    }

    fn digest(self) -> &'static ring::digest::Algorithm {
        match self {
            FingerprintAlgorithm::Sha1 => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            FingerprintAlgorithm::Sha256 => &ring::digest::SHA256,
            FingerprintAlgorithm::Sha384 => &ring::digest::SHA384,
            FingerprintAlgorithm::Sha512 => &ring::digest::SHA512,
        }
    }

    fn from_sdp_name(s: &str) -> Option<Self> {
        [
            FingerprintAlgorithm::Sha1,
            FingerprintAlgorithm::Sha256,
            FingerprintAlgorithm::Sha384,
            FingerprintAlgorithm::Sha512,
        ]
        .into_iter()
        .find(|a| a.sdp_name().eq_ignore_ascii_case(s))
    }
}

/// A certificate fingerprint: hash algorithm and digest.
///
/// `Display` gives the SDP attribute value (`sha-256 AB:CD:…`); [`Fingerprint::parse_sdp`]
/// reads it back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// The hash function.
    pub algorithm: FingerprintAlgorithm,
    /// The digest of the DER certificate.
    pub value: Vec<u8>,
}

impl Fingerprint {
    /// The fingerprint of a DER certificate.
    #[must_use]
    pub fn of(algorithm: FingerprintAlgorithm, der: &[u8]) -> Fingerprint {
        Fingerprint {
            algorithm,
            value: ring::digest::digest(algorithm.digest(), der)
                .as_ref()
                .to_vec(),
        }
    }

    /// Parses an SDP `fingerprint` attribute value such as `sha-256 4A:AD:…`.
    #[must_use]
    pub fn parse_sdp(s: &str) -> Option<Fingerprint> {
        let (alg, hexs) = s.trim().split_once(' ')?;
        let algorithm = FingerprintAlgorithm::from_sdp_name(alg)?;
        let hexs = hexs.trim();
        // 64 bytes (SHA-512) at most.
        if hexs.len() > 64 * 3 {
            return None;
        }
        let value = hexs
            .split(':')
            .map(|b| {
                if b.len() == 2 {
                    u8::from_str_radix(b, 16).ok()
                } else {
                    None
                }
            })
            .collect::<Option<Vec<u8>>>()?;
        (value.len() == algorithm.digest().output_len()).then_some(Fingerprint { algorithm, value })
    }

    /// Whether `der` hashes to this fingerprint (constant time in the digest comparison).
    #[must_use]
    pub fn matches(&self, der: &[u8]) -> bool {
        let d = ring::digest::digest(self.algorithm.digest(), der);
        d.as_ref().len() == self.value.len()
            && d.as_ref()
                .iter()
                .zip(&self.value)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.algorithm.sdp_name())?;
        for (i, b) in self.value.iter().enumerate() {
            write!(f, "{}{b:02X}", if i == 0 { ' ' } else { ':' })?;
        }
        Ok(())
    }
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
            let fp = c.fingerprint(alg);
            let s = fp.to_string();
            assert!(s.starts_with(alg.sdp_name()));
            assert_eq!(Fingerprint::parse_sdp(&s), Some(fp.clone()));
            assert!(fp.matches(c.der()));
            let mut other = c.der().to_vec();
            if let Some(b) = other.last_mut() {
                *b ^= 1;
            }
            assert!(!fp.matches(&other));
        }
        let s = c.fingerprint(FingerprintAlgorithm::Sha256).to_string();
        assert_eq!(s.len(), "sha-256 ".len() + 32 * 3 - 1);
        assert!(Fingerprint::parse_sdp("sha-256 AB:CD").is_none());
        assert!(Fingerprint::parse_sdp("md5 AB").is_none());
    }

    #[test]
    fn generated_certificate_is_ecdsa_p256() {
        let c = Certificate::generate_self_signed().expect("cert");
        let k = subject_public_key(c.der()).expect("spki");
        assert_eq!(k.kind, PublicKeyKind::EcdsaP256);
        assert!(!format!("{c:?}").contains("pkcs8"));
    }
}
