//! Just enough DER to find an X.509 certificate's SubjectPublicKeyInfo (RFC 5280 §4.1).
//!
//! The certificate is authenticated by its fingerprint, not by a chain, so nothing else in it
//! matters: we walk `Certificate → tbsCertificate`, skip six fields and read the key's
//! algorithm and bits. Every length is checked against the buffer; nesting is fixed, so the
//! walk is bounded.

/// What kind of key the certificate holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PublicKeyKind {
    /// `id-ecPublicKey` on `prime256v1`.
    EcdsaP256,
    /// `id-ecPublicKey` on `secp384r1`.
    EcdsaP384,
    /// `rsaEncryption`.
    Rsa,
    /// `id-Ed25519` (RFC 8410); with the ECDHE_ECDSA suites in DTLS 1.2 (RFC 8422).
    Ed25519,
}

/// A borrowed view of a certificate's public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubjectPublicKey<'a> {
    /// Algorithm (and curve).
    pub kind: PublicKeyKind,
    /// The subjectPublicKey bits: an uncompressed point for EC, a DER `RSAPublicKey` for RSA.
    pub key: &'a [u8],
}

const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

const SEQUENCE: u8 = 0x30;
const OID: u8 = 0x06;
const BIT_STRING: u8 = 0x03;
const CONTEXT_0: u8 = 0xa0;

/// Reads one TLV, returning `(tag, value, rest)`. Only definite lengths up to 4 octets.
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (lb, r) = (rest.get(..n)?, rest.get(n..)?);
        rest = r;
        lb.iter()
            .fold(0usize, |acc, &x| (acc << 8) | usize::from(x))
    };
    let value = rest.get(..len)?;
    Some((tag, value, rest.get(len..)?))
}

fn expect(b: &[u8], want: u8) -> Option<(&[u8], &[u8])> {
    let (tag, v, rest) = tlv(b)?;
    (tag == want).then_some((v, rest))
}

/// Finds the public key of a DER certificate. `None` when the DER is malformed or the key
/// type is not one we verify with.
#[must_use]
pub fn subject_public_key(cert_der: &[u8]) -> Option<SubjectPublicKey<'_>> {
    let (cert, _) = expect(cert_der, SEQUENCE)?;
    let (tbs, _) = expect(cert, SEQUENCE)?;
    let mut rest = tbs;
    // Optional explicit version [0].
    if let Some((CONTEXT_0, _, r)) = tlv(rest) {
        rest = r;
    }
    // serialNumber, signature, issuer, validity, subject.
    for _ in 0..5 {
        let (_, _, r) = tlv(rest)?;
        rest = r;
    }
    let (spki, _) = expect(rest, SEQUENCE)?;
    let (alg, rest) = expect(spki, SEQUENCE)?;
    let (bits, _) = expect(rest, BIT_STRING)?;
    let (&unused, key) = bits.split_first()?;
    if unused != 0 {
        return None;
    }
    let (oid, params) = expect(alg, OID)?;
    let kind = if oid == OID_EC_PUBLIC_KEY {
        let (curve, _) = expect(params, OID)?;
        match curve {
            c if c == OID_P256 => PublicKeyKind::EcdsaP256,
            c if c == OID_P384 => PublicKeyKind::EcdsaP384,
            _ => return None,
        }
    } else if oid == OID_RSA {
        PublicKeyKind::Rsa
    } else if oid == OID_ED25519 {
        PublicKeyKind::Ed25519
    } else {
        return None;
    };
    Some(SubjectPublicKey { kind, key })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rcgen_certificate_key_is_found() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let cert = rcgen::CertificateParams::new(vec!["x".to_string()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let spk = subject_public_key(cert.der()).expect("spki");
        assert_eq!(spk.kind, PublicKeyKind::EcdsaP256);
        assert_eq!(spk.key, key.public_key_raw());

        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("key");
        let cert = rcgen::CertificateParams::new(vec!["x".to_string()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let spk = subject_public_key(cert.der()).expect("spki");
        assert_eq!(spk.kind, PublicKeyKind::EcdsaP384);
        assert_eq!(spk.key, key.public_key_raw());
    }

    #[test]
    fn truncations_never_panic_and_fail() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let cert = rcgen::CertificateParams::new(vec!["x".to_string()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let der = cert.der().to_vec();
        for n in 0..der.len() {
            assert!(subject_public_key(&der[..n]).is_none(), "prefix {n}");
        }
        assert!(subject_public_key(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_none());
    }
}
