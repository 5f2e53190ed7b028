//! Signature schemes (RFC 5246 §7.4.1.4.1 with RFC 8446 code points): signing with our ECDSA
//! P-256 or Ed25519 key, verifying the peer's ECDSA, RSA or Ed25519 signatures.

use super::rand::KeyRandom;
use crate::cert::{PublicKeyKind, SubjectPublicKey};
use crate::Error;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};

/// A `SignatureAndHashAlgorithm` we sign or verify with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureScheme {
    /// `ecdsa_secp256r1_sha256` (0x0403): ECDSA with SHA-256 (any curve in TLS 1.2).
    EcdsaSha256,
    /// `ecdsa_secp384r1_sha384` (0x0503): ECDSA with SHA-384.
    EcdsaSha384,
    /// `rsa_pkcs1_sha256` (0x0401).
    RsaPkcs1Sha256,
    /// `rsa_pkcs1_sha384` (0x0501).
    RsaPkcs1Sha384,
    /// `rsa_pss_rsae_sha256` (0x0804).
    RsaPssSha256,
    /// `rsa_pss_rsae_sha384` (0x0805).
    RsaPssSha384,
    /// `ed25519` (0x0807, RFC 8422 for TLS 1.2, RFC 8446 for 1.3).
    Ed25519,
}

impl SignatureScheme {
    /// Every scheme we verify, in the order we advertise them.
    pub const ALL: &'static [SignatureScheme] = &[
        SignatureScheme::EcdsaSha256,
        SignatureScheme::EcdsaSha384,
        SignatureScheme::RsaPssSha256,
        SignatureScheme::RsaPkcs1Sha256,
        SignatureScheme::RsaPssSha384,
        SignatureScheme::RsaPkcs1Sha384,
        SignatureScheme::Ed25519,
    ];

    /// The code point.
    #[must_use]
    pub const fn id(self) -> u16 {
        match self {
            SignatureScheme::EcdsaSha256 => 0x0403,
            SignatureScheme::EcdsaSha384 => 0x0503,
            SignatureScheme::RsaPkcs1Sha256 => 0x0401,
            SignatureScheme::RsaPkcs1Sha384 => 0x0501,
            SignatureScheme::RsaPssSha256 => 0x0804,
            SignatureScheme::RsaPssSha384 => 0x0805,
            SignatureScheme::Ed25519 => 0x0807,
        }
    }

    /// The scheme with this code point, if implemented.
    #[must_use]
    pub const fn from_id(id: u16) -> Option<Self> {
        Some(match id {
            0x0403 => SignatureScheme::EcdsaSha256,
            0x0503 => SignatureScheme::EcdsaSha384,
            0x0401 => SignatureScheme::RsaPkcs1Sha256,
            0x0501 => SignatureScheme::RsaPkcs1Sha384,
            0x0804 => SignatureScheme::RsaPssSha256,
            0x0805 => SignatureScheme::RsaPssSha384,
            0x0807 => SignatureScheme::Ed25519,
            _ => return None,
        })
    }

    /// Whether a key of this kind can make this signature.
    pub(crate) fn fits(self, key: PublicKeyKind) -> bool {
        matches!(
            (self, key),
            (
                SignatureScheme::EcdsaSha256 | SignatureScheme::EcdsaSha384,
                PublicKeyKind::EcdsaP256 | PublicKeyKind::EcdsaP384
            ) | (
                SignatureScheme::RsaPkcs1Sha256
                    | SignatureScheme::RsaPkcs1Sha384
                    | SignatureScheme::RsaPssSha256
                    | SignatureScheme::RsaPssSha384,
                PublicKeyKind::Rsa
            ) | (SignatureScheme::Ed25519, PublicKeyKind::Ed25519)
        )
    }

    fn verification_algorithm(
        self,
        key: PublicKeyKind,
    ) -> Option<&'static dyn signature::VerificationAlgorithm> {
        use PublicKeyKind as K;
        use SignatureScheme as S;
        Some(match (self, key) {
            (S::EcdsaSha256, K::EcdsaP256) => &signature::ECDSA_P256_SHA256_ASN1,
            (S::EcdsaSha384, K::EcdsaP256) => &signature::ECDSA_P256_SHA384_ASN1,
            (S::EcdsaSha256, K::EcdsaP384) => &signature::ECDSA_P384_SHA256_ASN1,
            (S::EcdsaSha384, K::EcdsaP384) => &signature::ECDSA_P384_SHA384_ASN1,
            (S::RsaPkcs1Sha256, K::Rsa) => &signature::RSA_PKCS1_2048_8192_SHA256,
            (S::RsaPkcs1Sha384, K::Rsa) => &signature::RSA_PKCS1_2048_8192_SHA384,
            (S::RsaPssSha256, K::Rsa) => &signature::RSA_PSS_2048_8192_SHA256,
            (S::RsaPssSha384, K::Rsa) => &signature::RSA_PSS_2048_8192_SHA384,
            (S::Ed25519, K::Ed25519) => &signature::ED25519,
            _ => return None,
        })
    }
}

/// Verifies `sig` over `msg` with the peer's public key.
pub(crate) fn verify(
    key: &SubjectPublicKey<'_>,
    scheme: SignatureScheme,
    msg: &[u8],
    sig: &[u8],
) -> Result<(), Error> {
    let alg = scheme
        .verification_algorithm(key.kind)
        .ok_or(Error::NoCommonSignatureScheme)?;
    signature::UnparsedPublicKey::new(alg, key.key)
        .verify(msg, sig)
        .map_err(|_| Error::BadSignature)
}

/// Our signing key (the key of our certificate): ECDSA P-256 or Ed25519.
// One per `Config`, never moved on a hot path: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum SigningKey {
    Ecdsa {
        pair: EcdsaKeyPair,
        /// The same key for RFC 6979 deterministic signatures, in deterministic-key mode.
        deterministic: Option<p256::ecdsa::SigningKey>,
    },
    /// Ed25519 signatures are deterministic by construction (RFC 8032).
    Ed25519(Ed25519KeyPair),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SigningKey::Ecdsa { .. } => "SigningKey(ECDSA P-256)",
            SigningKey::Ed25519(_) => "SigningKey(Ed25519)",
        })
    }
}

impl SigningKey {
    /// Loads a PKCS#8 ECDSA P-256 or Ed25519 key.
    /// With `deterministic`, ECDSA signatures use RFC 6979 nonces instead of ring's random ones.
    pub(crate) fn from_pkcs8(pkcs8: &[u8], deterministic: bool) -> Result<Self, Error> {
        let mut reason = String::new();
        let ecdsa = KeyRandom::system(|r| {
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, r)
                .map_err(|e| reason = e.to_string())
        });
        let pair = match ecdsa {
            Ok(pair) => pair,
            Err(_) => {
                // Not P-256: an Ed25519 key (PKCS#8 v1 as well as v2)?
                return Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
                    .map(SigningKey::Ed25519)
                    .map_err(|_| Error::BadPrivateKey(reason.clone()));
            }
        };
        let deterministic = if deterministic {
            use p256::pkcs8::DecodePrivateKey;
            Some(
                p256::ecdsa::SigningKey::from_pkcs8_der(pkcs8)
                    .map_err(|e| Error::BadPrivateKey(e.to_string()))?,
            )
        } else {
            None
        };
        Ok(SigningKey::Ecdsa {
            pair,
            deterministic,
        })
    }

    /// The public key as the certificate carries it (uncompressed point, or 32 bytes).
    pub(crate) fn public_key(&self) -> &[u8] {
        match self {
            SigningKey::Ecdsa { pair, .. } => pair.public_key().as_ref(),
            SigningKey::Ed25519(pair) => pair.public_key().as_ref(),
        }
    }

    /// The scheme our signatures use.
    pub(crate) fn scheme(&self) -> SignatureScheme {
        match self {
            SigningKey::Ecdsa { .. } => SignatureScheme::EcdsaSha256,
            SigningKey::Ed25519(_) => SignatureScheme::Ed25519,
        }
    }

    /// A signature over `msg`: ASN.1 DER ECDSA (SHA-256), or 64 bytes of Ed25519.
    pub(crate) fn sign(&self, msg: &[u8], rand: &mut KeyRandom<'_>) -> Result<Vec<u8>, Error> {
        let (pair, deterministic) = match self {
            SigningKey::Ed25519(pair) => return Ok(pair.sign(msg).as_ref().to_vec()),
            SigningKey::Ecdsa {
                pair,
                deterministic,
            } => (pair, deterministic),
        };
        match (rand, deterministic) {
            (KeyRandom::Seeded(_), Some(key)) => {
                use p256::ecdsa::signature::Signer;
                let sig: p256::ecdsa::Signature = key.try_sign(msg).map_err(|_| Error::Crypto)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            (KeyRandom::Seeded(_), None) => Err(Error::Crypto),
            (KeyRandom::System, _) => {
                let sig = KeyRandom::system(|r| pair.sign(r, msg))?;
                Ok(sig.as_ref().to_vec())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    fn roundtrip(
        alg: &'static signature::EcdsaSigningAlgorithm,
        kind: PublicKeyKind,
        scheme: SignatureScheme,
    ) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).expect("key");
        let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).expect("load");
        let sig = pair.sign(&rng, b"transcript").expect("sign");
        let key = SubjectPublicKey {
            kind,
            key: pair.public_key().as_ref(),
        };
        assert_eq!(verify(&key, scheme, b"transcript", sig.as_ref()), Ok(()));
        assert_eq!(
            verify(&key, scheme, b"tampered", sig.as_ref()),
            Err(Error::BadSignature)
        );
        assert!(scheme.fits(kind));
        assert!(!SignatureScheme::RsaPssSha256.fits(kind));
    }

    #[test]
    fn ecdsa_p256_and_p384_verify() {
        roundtrip(
            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            PublicKeyKind::EcdsaP256,
            SignatureScheme::EcdsaSha256,
        );
        roundtrip(
            &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            PublicKeyKind::EcdsaP384,
            SignatureScheme::EcdsaSha384,
        );
    }

    #[test]
    fn scheme_ids_round_trip_and_mismatched_key_is_refused() {
        for s in SignatureScheme::ALL {
            assert_eq!(SignatureScheme::from_id(s.id()), Some(*s));
        }
        let key = SubjectPublicKey {
            kind: PublicKeyKind::Rsa,
            key: &[0u8; 10],
        };
        assert_eq!(
            verify(&key, SignatureScheme::EcdsaSha256, b"m", b"s"),
            Err(Error::NoCommonSignatureScheme)
        );
    }

    #[test]
    fn deterministic_signatures_repeat_and_verify_with_ring() {
        let c = crate::Certificate::generate_self_signed().expect("cert");
        let key = SigningKey::from_pkcs8(c.private_key_pkcs8(), true).expect("key");
        let mut rng = rtcwire_proto::SeededRng::new(3);
        let a = key
            .sign(b"transcript", &mut KeyRandom::Seeded(&mut rng))
            .expect("sign");
        let b = key
            .sign(b"transcript", &mut KeyRandom::Seeded(&mut rng))
            .expect("sign");
        assert_eq!(a, b, "RFC 6979: same key, same message, same signature");
        let spk = SubjectPublicKey {
            kind: PublicKeyKind::EcdsaP256,
            key: key.public_key(),
        };
        assert_eq!(
            verify(&spk, SignatureScheme::EcdsaSha256, b"transcript", &a),
            Ok(())
        );
        let random = key
            .sign(b"transcript", &mut KeyRandom::System)
            .expect("sign");
        assert_eq!(
            verify(&spk, SignatureScheme::EcdsaSha256, b"transcript", &random),
            Ok(())
        );
    }
}
