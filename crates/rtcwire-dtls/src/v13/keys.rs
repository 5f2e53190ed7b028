//! The TLS 1.3 key schedule (RFC 8446 §7.1) with DTLS 1.3's `"dtls13"` label prefix (RFC
//! 9147 §5.9): HKDF-Expand-Label, Derive-Secret, the traffic secrets, Finished keys, the
//! exporter and KeyUpdate. HKDF-Expand is ring's `hkdf`; Extract is one HMAC.

use crate::crypto::prf::PrfHash;
use crate::crypto::suite::BulkCipher;
use crate::Error;
use ring::{digest, hkdf, hmac};

/// Largest hash output (SHA-384).
pub const MAX_HASH: usize = 48;

/// A secret of the schedule (hash-length bytes), wiped on drop.
#[derive(Clone)]
pub struct Secret {
    bytes: [u8; MAX_HASH],
    len: usize,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} bytes)", self.len)
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.bytes.iter_mut().for_each(|b| *b = 0);
    }
}

impl Secret {
    fn from_slice(b: &[u8]) -> Secret {
        let mut bytes = [0u8; MAX_HASH];
        let len = b.len().min(MAX_HASH);
        bytes[..len].copy_from_slice(&b[..len]);
        Secret { bytes, len }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn hkdf_alg(h: PrfHash) -> hkdf::Algorithm {
    match h {
        PrfHash::Sha256 => hkdf::HKDF_SHA256,
        PrfHash::Sha384 => hkdf::HKDF_SHA384,
    }
}

fn hmac_alg(h: PrfHash) -> hmac::Algorithm {
    match h {
        PrfHash::Sha256 => hmac::HMAC_SHA256,
        PrfHash::Sha384 => hmac::HMAC_SHA384,
    }
}

/// Hash output length.
pub fn hash_len(h: PrfHash) -> usize {
    h.digest_alg().output_len()
}

/// HKDF-Expand-Label(secret, label, context, out.len()) with the `"dtls13"` prefix.
pub fn expand_label(
    h: PrfHash,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), Error> {
    const PREFIX: &[u8] = b"dtls13";
    let len = u16::try_from(out.len()).map_err(|_| Error::Crypto)?;
    let label_len = u8::try_from(PREFIX.len() + label.len()).map_err(|_| Error::Crypto)?;
    let ctx_len = u8::try_from(context.len()).map_err(|_| Error::Crypto)?;
    let len_bytes = len.to_be_bytes();
    let info: [&[u8]; 6] = [
        &len_bytes,
        std::slice::from_ref(&label_len),
        PREFIX,
        label,
        std::slice::from_ref(&ctx_len),
        context,
    ];
    hkdf::Prk::new_less_safe(hkdf_alg(h), secret)
        .expand(&info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .map_err(|_| Error::Crypto)
}

fn expand_secret(h: PrfHash, secret: &[u8], label: &[u8], context: &[u8]) -> Result<Secret, Error> {
    let mut out = [0u8; MAX_HASH];
    let n = hash_len(h);
    expand_label(h, secret, label, context, &mut out[..n])?;
    let s = Secret::from_slice(&out[..n]);
    out.iter_mut().for_each(|b| *b = 0);
    Ok(s)
}

/// HKDF-Extract(salt, ikm) = HMAC-Hash(salt, ikm).
fn extract(h: PrfHash, salt: &[u8], ikm: &[u8]) -> Secret {
    let tag = hmac::sign(&hmac::Key::new(hmac_alg(h), salt), ikm);
    Secret::from_slice(tag.as_ref())
}

/// Derive-Secret(secret, label, messages) given the transcript hash of the messages.
pub fn derive_secret(
    h: PrfHash,
    secret: &Secret,
    label: &[u8],
    transcript_hash: &[u8],
) -> Result<Secret, Error> {
    expand_secret(h, secret.as_bytes(), label, transcript_hash)
}

fn empty_hash(h: PrfHash) -> digest::Digest {
    digest::digest(h.digest_alg(), &[])
}

/// The handshake secret from the (EC)DHE / hybrid shared secret (no PSK).
pub fn handshake_secret(h: PrfHash, shared: &[u8]) -> Result<Secret, Error> {
    let zeros = [0u8; MAX_HASH];
    let n = hash_len(h);
    let early = extract(h, &zeros[..n], &zeros[..n]);
    let derived = derive_secret(h, &early, b"derived", empty_hash(h).as_ref())?;
    Ok(extract(h, derived.as_bytes(), shared))
}

/// The master secret that follows a handshake secret.
pub fn master_secret(h: PrfHash, handshake: &Secret) -> Result<Secret, Error> {
    let zeros = [0u8; MAX_HASH];
    let derived = derive_secret(h, handshake, b"derived", empty_hash(h).as_ref())?;
    Ok(extract(h, derived.as_bytes(), &zeros[..hash_len(h)]))
}

/// `verify_data` of a Finished: HMAC(finished_key(base), transcript hash).
pub fn finished(h: PrfHash, base: &Secret, transcript_hash: &[u8]) -> Result<Vec<u8>, Error> {
    let key = expand_secret(h, base.as_bytes(), b"finished", &[])?;
    let tag = hmac::sign(
        &hmac::Key::new(hmac_alg(h), key.as_bytes()),
        transcript_hash,
    );
    Ok(tag.as_ref().to_vec())
}

/// The next application traffic secret (KeyUpdate, RFC 8446 §7.2).
pub fn next_traffic_secret(h: PrfHash, current: &Secret) -> Result<Secret, Error> {
    expand_secret(h, current.as_bytes(), b"traffic upd", &[])
}

/// TLS-Exporter(label, context, out.len()) from the exporter master secret (RFC 8446 §7.5).
pub fn export(
    h: PrfHash,
    exporter_master: &Secret,
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), Error> {
    let per_label = derive_secret(h, exporter_master, label, empty_hash(h).as_ref())?;
    let ctx = digest::digest(h.digest_alg(), context);
    expand_label(h, per_label.as_bytes(), b"exporter", ctx.as_ref(), out)
}

/// AEAD key, IV and record-number key of one traffic secret (RFC 9147 §4.2.3).
pub struct TrafficKeys {
    pub key: ring::aead::LessSafeKey,
    pub iv: [u8; 12],
    pub sn: ring::aead::quic::HeaderProtectionKey,
}

impl std::fmt::Debug for TrafficKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TrafficKeys")
    }
}

impl TrafficKeys {
    pub fn derive(h: PrfHash, bulk: BulkCipher, secret: &Secret) -> Result<Self, Error> {
        let mut key = [0u8; 32];
        let key = key.get_mut(..bulk.key_len()).ok_or(Error::Crypto)?;
        let mut iv = [0u8; 12];
        let mut sn = [0u8; 32];
        let sn = sn.get_mut(..bulk.key_len()).ok_or(Error::Crypto)?;
        expand_label(h, secret.as_bytes(), b"key", &[], key)?;
        expand_label(h, secret.as_bytes(), b"iv", &[], &mut iv)?;
        expand_label(h, secret.as_bytes(), b"sn", &[], sn)?;
        let sn_alg = match bulk {
            BulkCipher::Aes128Gcm => &ring::aead::quic::AES_128,
            BulkCipher::Aes256Gcm => &ring::aead::quic::AES_256,
            BulkCipher::Chacha20Poly1305 => &ring::aead::quic::CHACHA20,
        };
        let out = TrafficKeys {
            key: ring::aead::LessSafeKey::new(
                ring::aead::UnboundKey::new(bulk.ring_algorithm(), key)
                    .map_err(|_| Error::Crypto)?,
            ),
            iv,
            sn: ring::aead::quic::HeaderProtectionKey::new(sn_alg, sn)
                .map_err(|_| Error::Crypto)?,
        };
        key.iter_mut().for_each(|b| *b = 0);
        sn.iter_mut().for_each(|b| *b = 0);
        Ok(out)
    }

    /// The per-record nonce: the IV XOR the 64-bit record sequence number (the epoch is
    /// not part of it in DTLS 1.3).
    pub fn nonce(&self, seq: u64) -> ring::aead::Nonce {
        let mut n = self.iv;
        for (b, s) in n[4..].iter_mut().zip(seq.to_be_bytes()) {
            *b ^= s;
        }
        ring::aead::Nonce::assume_unique_for_key(n)
    }

    /// The record-number mask from the first 16 bytes of the ciphertext.
    pub fn sn_mask(&self, ciphertext: &[u8]) -> Option<[u8; 5]> {
        self.sn.new_mask(ciphertext.get(..16)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_label_uses_the_dtls13_prefix() {
        // Same secret, same label: the "dtls13" prefix must give another output than the
        // TLS 1.3 "tls13 " one would, and the output must depend on the context.
        let secret = [7u8; 32];
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        expand_label(PrfHash::Sha256, &secret, b"key", &[], &mut a).unwrap();
        expand_label(PrfHash::Sha256, &secret, b"key", &[1], &mut b).unwrap();
        assert_ne!(a, b);
        // By hand: info = 00 10 | 09 "dtls13key" | 00.
        let mut info = vec![0u8, 16, 9];
        info.extend_from_slice(b"dtls13key");
        info.push(0);
        let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, &secret);
        let mut c = [0u8; 16];
        prk.expand(&[&info], Len(16)).unwrap().fill(&mut c).unwrap();
        assert_eq!(a, c);
    }

    #[test]
    fn schedule_differs_per_hash_and_secret() {
        let a = handshake_secret(PrfHash::Sha256, &[1; 32]).unwrap();
        let b = handshake_secret(PrfHash::Sha256, &[2; 32]).unwrap();
        let c = handshake_secret(PrfHash::Sha384, &[1; 32]).unwrap();
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_eq!(c.as_bytes().len(), 48);
        let m = master_secret(PrfHash::Sha256, &a).unwrap();
        let u = next_traffic_secret(PrfHash::Sha256, &m).unwrap();
        assert_ne!(m.as_bytes(), u.as_bytes());
        let mut x = [0u8; 60];
        export(PrfHash::Sha256, &m, b"EXTRACTOR-dtls_srtp", &[], &mut x).unwrap();
        assert_ne!(x, [0u8; 60]);
    }
}
