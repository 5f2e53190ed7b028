//! Credentials and the two HMACs of RFC 8489 §14.5–14.6, plus FINGERPRINT (§14.7).
//!
//! An [`IntegrityKey`] is derived once per credential and pre-keys both HMACs, so that
//! each message costs only the hashing of its own bytes.

use std::fmt;

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha1::Sha1;

/// XOR-ed into the CRC-32 to form FINGERPRINT ("STUN" in ASCII).
pub const FINGERPRINT_XOR: u32 = 0x5354_554E;

/// Length of MESSAGE-INTEGRITY (HMAC-SHA1).
pub const INTEGRITY_LEN: usize = 20;
/// Length of a full MESSAGE-INTEGRITY-SHA256.
pub const INTEGRITY_SHA256_LEN: usize = 32;

/// The key of MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256.
///
/// Build it with [`IntegrityKey::short_term`] (ICE, RFC 8489 §9.1),
/// [`IntegrityKey::long_term`] (TURN, MD5 key of §9.2.2) or
/// [`IntegrityKey::long_term_sha256`] (the SHA-256 password algorithm), once per credential;
/// it keeps both HMACs pre-keyed. Its `Debug` output never shows the key.
///
/// Passwords must already be prepared by the caller: RFC 8489 asks for OpaqueString
/// (RFC 8265) processing of long-term passwords, which is the identity for ASCII.
#[derive(Clone)]
pub struct IntegrityKey {
    sha1: Hmac<Sha1>,
    sha256: ring::hmac::Key,
}

impl fmt::Debug for IntegrityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IntegrityKey(..)")
    }
}

impl IntegrityKey {
    /// A key from raw key bytes (any length).
    #[must_use]
    pub fn new(key: &[u8]) -> Self {
        IntegrityKey {
            sha1: hmac_sha1_key(key),
            sha256: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
        }
    }

    /// Short-term credential: the key is the password's bytes (RFC 8489 §9.1.1).
    #[must_use]
    pub fn short_term(password: &str) -> Self {
        Self::new(password.as_bytes())
    }

    /// Long-term credential with the MD5 password algorithm (the default):
    /// key = MD5(username ":" realm ":" password) (RFC 8489 §9.2.2).
    #[must_use]
    pub fn long_term(username: &str, realm: &str, password: &str) -> Self {
        Self::new(&long_term_key_md5(username, realm, password))
    }

    /// Long-term credential with the SHA-256 password algorithm:
    /// key = SHA-256(username ":" realm ":" password) (RFC 8489 §9.2.2).
    #[must_use]
    pub fn long_term_sha256(username: &str, realm: &str, password: &str) -> Self {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        for part in [username, ":", realm, ":", password] {
            ctx.update(part.as_bytes());
        }
        Self::new(ctx.finish().as_ref())
    }

    /// HMAC-SHA1 over the concatenation of `parts`.
    pub(crate) fn hmac_sha1(&self, parts: &[&[u8]]) -> [u8; INTEGRITY_LEN] {
        let mut mac = self.sha1.clone();
        for p in parts {
            mac.update(p);
        }
        mac.finalize().into_bytes().into()
    }

    /// Constant-time check of an HMAC-SHA1 over `header` then `body` against `tag`.
    ///
    /// The header and the start of the body are staged into one 64-byte block, so the HMAC
    /// sees a single update for a typical ICE message: feeding a 20-byte piece and then the
    /// rest measured ~25% slower.
    pub(crate) fn verify_sha1(&self, header: &[u8; 20], body: &[u8], tag: &[u8]) -> bool {
        let mut mac = self.sha1.clone();
        let mut block = [0u8; 64];
        let (head, rest) = body.split_at(body.len().min(64 - header.len()));
        let staged = header.len() + head.len();
        block[..header.len()].copy_from_slice(header);
        block[header.len()..staged].copy_from_slice(head);
        mac.update(&block[..staged]);
        mac.update(rest);
        mac.verify_slice(tag).is_ok()
    }

    /// HMAC-SHA256 over the concatenation of `parts`.
    pub(crate) fn hmac_sha256(&self, parts: &[&[u8]]) -> [u8; INTEGRITY_SHA256_LEN] {
        let mut ctx = ring::hmac::Context::with_key(&self.sha256);
        for p in parts {
            ctx.update(p);
        }
        let mut out = [0u8; INTEGRITY_SHA256_LEN];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// Constant-time check of a (possibly truncated, 16–32 byte) HMAC-SHA256.
    pub(crate) fn verify_sha256(&self, parts: &[&[u8]], tag: &[u8]) -> bool {
        let full = self.hmac_sha256(parts);
        match full.get(..tag.len()) {
            Some(prefix) if tag.len() >= 16 => rtcwire_proto::ct_eq(prefix, tag),
            _ => false,
        }
    }
}

/// HMAC accepts keys of any length, so keying cannot fail; the fallback is unreachable.
fn hmac_sha1_key(key: &[u8]) -> Hmac<Sha1> {
    match <Hmac<Sha1> as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => <Hmac<Sha1> as KeyInit>::new(&Default::default()),
    }
}

/// The 16-byte long-term key MD5(username ":" realm ":" password) (RFC 8489 §9.2.2).
#[must_use]
pub fn long_term_key_md5(username: &str, realm: &str, password: &str) -> [u8; 16] {
    let mut h = Md5::new();
    for part in [username, ":", realm, ":", password] {
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

/// USERHASH = SHA-256(username ":" realm) (RFC 8489 §14.4).
#[must_use]
pub fn userhash(username: &str, realm: &str) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [username, ":", realm] {
        ctx.update(part.as_bytes());
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// FINGERPRINT value over `data`: CRC-32 XOR 0x5354554E.
#[must_use]
pub fn fingerprint(data: &[u8]) -> u32 {
    crc32fast::hash(data) ^ FINGERPRINT_XOR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_long_term_key_of_rfc5769_vector() {
        let k = long_term_key_md5("マトリックス", "example.org", "TheMatrIX");
        assert_eq!(hex::encode(k), "e8ca7ad59d5eb0518e312911d2dab2a9");
    }

    #[test]
    fn truncated_sha256_tags_verify_by_prefix_only_from_16_bytes() {
        let key = IntegrityKey::short_term("pw");
        let full = key.hmac_sha256(&[b"abc"]);
        assert!(key.verify_sha256(&[b"abc"], &full));
        assert!(key.verify_sha256(&[b"abc"], &full[..16]));
        assert!(!key.verify_sha256(&[b"abc"], &full[..12]));
        assert!(!key.verify_sha256(&[b"abd"], &full[..16]));
    }

    #[test]
    fn hmac_sha1_agrees_with_ring() {
        let key = IntegrityKey::new(b"0123456789");
        let ours = key.hmac_sha1(&[b"hello ", b"world"]);
        let rk = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, b"0123456789");
        assert_eq!(&ours[..], ring::hmac::sign(&rk, b"hello world").as_ref());
        let header = *b"0123456789abcdefghij";
        let body = [7u8; 100];
        let mac = key.hmac_sha1(&[&header, &body]);
        for split in [0, 10, 44, 45, 100] {
            assert!(key.verify_sha1(
                &header,
                &body[..split],
                &key.hmac_sha1(&[&header, &body[..split]])
            ));
        }
        assert!(key.verify_sha1(&header, &body, &mac));
        assert!(!key.verify_sha1(&header, &body[..99], &mac));
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(
            format!("{:?}", IntegrityKey::short_term("secret")),
            "IntegrityKey(..)"
        );
    }
}
