//! Session key derivation (RFC 3711 §4.3; AES-256 PRF of RFC 6188 §5; AEAD profiles per
//! RFC 7714 §11), with key derivation rate 0.
//!
//! With `kdr = 0` the index term `r` is zero, so for each label the PRF input is
//! `x = (label << 48) ⊕ master_salt` (a 112-bit value, the label landing in octet 7), and the
//! session key is the AES-CM keystream under the master key starting at `x · 2^16`.
//!
//! The AEAD profiles have a 96-bit master salt. It is zero-extended on the right to 112 bits
//! before the label is mixed in (RFC 7714 §11 keeps the RFC 3711 KDF unchanged and the salt
//! is "padded"; libsrtp does the same): the libsrtp interop test confirms the layout.

use rtcwire_proto::SrtpProfile;

use crate::cipher::{AesCtr, Gcm, HmacSha1, AUTH_KEY_LEN};
use crate::Error;

/// RFC 3711 §4.3.2 key derivation labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Label {
    RtpEncryption = 0x00,
    RtpAuth = 0x01,
    RtpSalt = 0x02,
    RtcpEncryption = 0x03,
    RtcpAuth = 0x04,
    RtcpSalt = 0x05,
}

/// The key derivation PRF: AES-CM keyed with the master key.
pub(crate) struct Kdf {
    prf: AesCtr,
    salt: [u8; 14],
}

impl Kdf {
    /// Checks the lengths against the profile and keys the PRF.
    pub(crate) fn new(
        profile: SrtpProfile,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Result<Self, Error> {
        if master_key.len() != profile.master_key_len() {
            return Err(Error::KeyLength {
                what: "master key",
                expected: profile.master_key_len(),
                got: master_key.len(),
            });
        }
        if master_salt.len() != profile.master_salt_len() {
            return Err(Error::KeyLength {
                what: "master salt",
                expected: profile.master_salt_len(),
                got: master_salt.len(),
            });
        }
        let mut salt = [0u8; 14];
        // 12 octets (AEAD) are zero-extended; 14 (AES-CM) fill it.
        if let Some(dst) = salt.get_mut(..master_salt.len()) {
            dst.copy_from_slice(master_salt);
        }
        Ok(Kdf {
            prf: AesCtr::new(master_key)?,
            salt,
        })
    }

    /// Fills `out` with the session key for `label`.
    pub(crate) fn derive(&self, label: Label, out: &mut [u8]) {
        let mut iv = [0u8; 16];
        iv[..14].copy_from_slice(&self.salt);
        iv[7] ^= label as u8;
        out.fill(0);
        self.prf.apply_keystream(&iv, out);
    }
}

/// Per packet kind (SRTP or SRTCP), the session keys ready for use.
// A context holds exactly two of these, so the size difference costs nothing worth a
// pointer chase on every packet.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Transform {
    /// AES-CM encryption with HMAC-SHA1 authentication.
    CmHmac {
        cipher: AesCtr,
        /// The 112-bit session salt, placed as RFC 3711 §4.1.1 shifts it (`salt · 2^16`).
        salt: [u8; 16],
        mac: HmacSha1,
    },
    /// AES-GCM.
    Gcm { aead: Gcm, salt: [u8; 12] },
}

impl Transform {
    /// Derives the SRTP (`rtcp == false`) or SRTCP session keys.
    pub(crate) fn derive(profile: SrtpProfile, kdf: &Kdf, rtcp: bool) -> Result<Self, Error> {
        let (enc, auth, salt_label) = if rtcp {
            (Label::RtcpEncryption, Label::RtcpAuth, Label::RtcpSalt)
        } else {
            (Label::RtpEncryption, Label::RtpAuth, Label::RtpSalt)
        };
        let mut key = [0u8; 32];
        let key = key
            .get_mut(..profile.master_key_len())
            .ok_or(Error::InvalidConfig("profile key longer than 256 bits"))?;
        kdf.derive(enc, key);
        let transform = if profile.is_aead() {
            let mut salt = [0u8; 12];
            kdf.derive(salt_label, &mut salt);
            Transform::Gcm {
                aead: Gcm::new(key)?,
                salt,
            }
        } else {
            let mut salt = [0u8; 16];
            kdf.derive(salt_label, &mut salt[..14]);
            let mut auth_key = [0u8; AUTH_KEY_LEN];
            kdf.derive(auth, &mut auth_key);
            let t = Transform::CmHmac {
                cipher: AesCtr::new(key)?,
                salt,
                mac: HmacSha1::new(&auth_key),
            };
            auth_key.fill(0);
            t
        };
        key.fill(0);
        Ok(transform)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector_tests::{hex_of, vectors};

    /// RFC 3711 B.2: the AES-CM keystream, first and last blocks of the segment.
    #[test]
    fn rfc3711_b2_keystream() {
        let v = vectors("rfc3711_srtp_aes_cm.toml");
        let ks = v["aes_cm_keystream"].as_table().unwrap();
        let aes = AesCtr::new(&hex_of(ks, "session_key_hex")).unwrap();
        let iv: [u8; 16] = hex_of(ks, "initial_counter_hex").try_into().unwrap();
        let n = ks["keystream_segment_length_octets"].as_integer().unwrap() as usize;
        let mut stream = vec![0u8; n];
        aes.apply_keystream(&iv, &mut stream);
        let blocks = ks["blocks"].as_array().unwrap();
        let first_counter = u128::from_be_bytes(iv);
        for b in blocks {
            let b = b.as_table().unwrap();
            let ctr = u128::from_be_bytes(hex_of(b, "counter_hex").try_into().unwrap());
            let at = ((ctr - first_counter) * 16) as usize;
            assert_eq!(
                &stream[at..at + 16],
                &hex_of(b, "keystream_hex")[..],
                "{ctr:x}"
            );
        }
        assert_eq!(blocks.len(), 6);
    }

    /// RFC 3711 B.3: cipher key, salt and the 94-octet auth-key walk.
    #[test]
    fn rfc3711_b3_key_derivation() {
        let v = vectors("rfc3711_srtp_aes_cm.toml");
        let kd = v["key_derivation"].as_table().unwrap();
        let kdf = Kdf::new(
            SrtpProfile::Aes128CmHmacSha1_80,
            &hex_of(kd, "master_key_hex"),
            &hex_of(kd, "master_salt_hex"),
        )
        .unwrap();
        let mut key = [0u8; 16];
        kdf.derive(Label::RtpEncryption, &mut key);
        assert_eq!(key.to_vec(), hex_of(kd, "cipher_key_hex"));
        let mut salt = [0u8; 14];
        kdf.derive(Label::RtpSalt, &mut salt);
        assert_eq!(salt.to_vec(), hex_of(kd, "cipher_salt_hex"));
        let mut auth = [0u8; 94];
        kdf.derive(Label::RtpAuth, &mut auth);
        assert_eq!(auth.to_vec(), hex_of(kd, "auth_key_94_hex"));
        assert_eq!(auth[..20].to_vec(), hex_of(kd, "auth_key_20_hex"));
    }

    /// RFC 6188 §7.1 keystream and §7.2 AES_256_CM_PRF key derivation.
    #[test]
    fn rfc6188_aes256() {
        let v = vectors("rfc6188_srtp_aes192_256_cm.toml");
        let ks = v["aes256_cm_keystream"].as_table().unwrap();
        let aes = AesCtr::new(&hex_of(ks, "session_key_hex")).unwrap();
        let iv: [u8; 16] = hex_of(ks, "initial_counter_hex").try_into().unwrap();
        let blocks = ks["keystream_segment_blocks"].as_integer().unwrap() as usize;
        let mut stream = vec![0u8; blocks * 16];
        aes.apply_keystream(&iv, &mut stream);
        assert_eq!(stream[..48].to_vec(), hex_of(ks, "first_three_blocks_hex"));
        assert_eq!(
            stream[stream.len() - 48..].to_vec(),
            hex_of(ks, "last_three_blocks_hex")
        );

        let kd = v["aes256_cm_prf_key_derivation"].as_table().unwrap();
        let kdf = Kdf::new(
            SrtpProfile::Aes256CmHmacSha1_80,
            &hex_of(kd, "master_key_hex"),
            &hex_of(kd, "master_salt_hex"),
        )
        .unwrap();
        let mut key = [0u8; 32];
        kdf.derive(Label::RtpEncryption, &mut key);
        assert_eq!(key.to_vec(), hex_of(kd, "cipher_key_hex"));
        let mut salt = [0u8; 14];
        kdf.derive(Label::RtpSalt, &mut salt);
        assert_eq!(salt.to_vec(), hex_of(kd, "cipher_salt_hex"));
        let mut auth = [0u8; 20];
        kdf.derive(Label::RtpAuth, &mut auth);
        assert_eq!(auth.to_vec(), hex_of(kd, "auth_key_hex"));
    }

    #[test]
    fn master_lengths_are_checked() {
        let p = SrtpProfile::AeadAes128Gcm;
        assert!(matches!(
            Kdf::new(p, &[0; 16], &[0; 14]),
            Err(Error::KeyLength {
                what: "master salt",
                expected: 12,
                got: 14
            })
        ));
        assert!(matches!(
            Kdf::new(p, &[0; 32], &[0; 12]),
            Err(Error::KeyLength {
                what: "master key",
                ..
            })
        ));
        assert!(Kdf::new(p, &[0; 16], &[0; 12]).is_ok());
    }
}
