//! The cryptographic primitives, keyed once per session key and reused for every packet.
//!
//! - AES in counter mode (RFC 3711 §4.1.1 AES-CM, and the §4.3 key derivation PRF): RustCrypto
//!   `aes` + `ctr`, since ring does not expose CTR. The key schedule is expanded once; each
//!   packet clones it (a copy of the round keys) instead of re-expanding it.
//! - HMAC-SHA1 (RFC 3711 §4.2.1): RustCrypto `hmac` + `sha1`. The keyed [`Hmac`] holds the
//!   inner and outer SHA-1 states after absorbing `key ⊕ ipad` / `key ⊕ opad`; each packet
//!   clones those states, so it pays only for its own bytes.
//! - AES-GCM (RFC 7714): ring's `LessSafeKey`, sealing and opening in place.

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{InnerIvInit, KeyInit, StreamCipher};
use aes::{Aes128Enc, Aes256Enc};
use hmac::{Hmac, Mac};
use ring::aead;
use sha1::Sha1;

use crate::Error;

/// Length of an HMAC-SHA1 session authentication key (n_a = 160 bits).
pub(crate) const AUTH_KEY_LEN: usize = 20;

/// An expanded AES key used in counter mode with a 128-bit big-endian counter.
#[derive(Clone)]
pub(crate) enum AesCtr {
    /// AES-128 (boxed: the portable fallback's fixsliced key schedule is 704 octets).
    Aes128(Box<Aes128Enc>),
    /// AES-256.
    Aes256(Box<Aes256Enc>),
}

impl AesCtr {
    /// Expands a 16- or 32-octet key.
    pub(crate) fn new(key: &[u8]) -> Result<Self, Error> {
        match key.len() {
            16 => Ok(AesCtr::Aes128(Box::new(Aes128Enc::new(
                GenericArray::from_slice(key),
            )))),
            32 => Ok(AesCtr::Aes256(Box::new(Aes256Enc::new(
                GenericArray::from_slice(key),
            )))),
            got => Err(Error::KeyLength {
                what: "AES key",
                expected: 16,
                got,
            }),
        }
    }

    /// XORs `data` with the keystream that starts at counter block `iv`.
    ///
    /// The whole 128-bit block is the counter. SRTP only ever varies its low 16 bits (a
    /// packet is far shorter than 2^16 blocks), so this equals RFC 3711's `IV + i` layout.
    #[inline]
    pub(crate) fn apply_keystream(&self, iv: &[u8; 16], data: &mut [u8]) {
        let iv = GenericArray::from_slice(iv);
        match self {
            AesCtr::Aes128(k) => {
                let core =
                    ctr::CtrCore::<_, ctr::flavors::Ctr128BE>::inner_iv_init((**k).clone(), iv);
                ctr::Ctr128BE::from_core(core).apply_keystream(data);
            }
            AesCtr::Aes256(k) => {
                let core =
                    ctr::CtrCore::<_, ctr::flavors::Ctr128BE>::inner_iv_init((**k).clone(), iv);
                ctr::Ctr128BE::from_core(core).apply_keystream(data);
            }
        }
    }
}

/// HMAC-SHA1 with the key already absorbed.
#[derive(Clone)]
pub(crate) struct HmacSha1(Hmac<Sha1>);

impl HmacSha1 {
    pub(crate) fn new(key: &[u8]) -> Self {
        // HMAC takes keys of any length (longer ones are hashed first), so this cannot fail;
        // fall back to the empty key rather than panic if a future version disagrees.
        let mac = <Hmac<Sha1> as Mac>::new_from_slice(key)
            .unwrap_or_else(|_| <Hmac<Sha1> as KeyInit>::new(&GenericArray::default()));
        HmacSha1(mac)
    }

    /// HMAC-SHA1 of `a ‖ b`, all 20 octets.
    #[inline]
    pub(crate) fn compute(&self, a: &[u8], b: &[u8]) -> [u8; 20] {
        let mut mac = self.0.clone();
        mac.update(a);
        mac.update(b);
        mac.finalize().into_bytes().into()
    }
}

/// AES-GCM with a 16-octet tag (RFC 7714 §5.2: both AEAD profiles use a 128-bit tag).
pub(crate) struct Gcm(aead::LessSafeKey);

impl Gcm {
    pub(crate) fn new(key: &[u8]) -> Result<Self, Error> {
        let alg = match key.len() {
            16 => &aead::AES_128_GCM,
            32 => &aead::AES_256_GCM,
            got => {
                return Err(Error::KeyLength {
                    what: "AES-GCM key",
                    expected: 16,
                    got,
                })
            }
        };
        let unbound = aead::UnboundKey::new(alg, key).map_err(|_| Error::KeyLength {
            what: "AES-GCM key",
            expected: alg.key_len(),
            got: key.len(),
        })?;
        Ok(Gcm(aead::LessSafeKey::new(unbound)))
    }

    /// Encrypts `data` in place and returns the tag.
    #[inline]
    pub(crate) fn seal(&self, iv: [u8; 12], aad: &[u8], data: &mut [u8]) -> [u8; 16] {
        let nonce = aead::Nonce::assume_unique_for_key(iv);
        match self
            .0
            .seal_in_place_separate_tag(nonce, aead::Aad::from(aad), data)
        {
            Ok(tag) => {
                let mut out = [0u8; 16];
                out.copy_from_slice(tag.as_ref());
                out
            }
            // ring refuses only inputs longer than GCM's 2^36-octet limit, far past any
            // datagram; an all-zero tag can never verify, so nothing is ever accepted.
            Err(_) => [0u8; 16],
        }
    }

    /// Checks the tag at the end of `data_and_tag` and decrypts the rest in place. Returns
    /// whether the tag was right.
    #[inline]
    pub(crate) fn open(&self, iv: [u8; 12], aad: &[u8], data_and_tag: &mut [u8]) -> bool {
        let nonce = aead::Nonce::assume_unique_for_key(iv);
        self.0
            .open_in_place(nonce, aead::Aad::from(aad), data_and_tag)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lengths_are_checked() {
        assert!(AesCtr::new(&[0; 16]).is_ok());
        assert!(AesCtr::new(&[0; 32]).is_ok());
        assert!(AesCtr::new(&[0; 24]).is_err());
        assert!(Gcm::new(&[0; 16]).is_ok());
        assert!(Gcm::new(&[0; 15]).is_err());
    }
}
