//! The DTLS → SRTP hand-off (RFC 5764 §4.1.2, §4.2; RFC 7714 §14.2).
//!
//! DTLS negotiates a [`SrtpProfile`] through `use_srtp` and exports keying material with the
//! label `EXTRACTOR-dtls_srtp`; SRTP is built from the resulting [`KeyingMaterial`]. Neither
//! crate depends on the other.

use std::fmt;

/// An SRTP protection profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SrtpProfile {
    /// `SRTP_AES128_CM_HMAC_SHA1_80` (RFC 5764, id 0x0001).
    Aes128CmHmacSha1_80,
    /// `SRTP_AES128_CM_HMAC_SHA1_32` (RFC 5764, id 0x0002): 32-bit SRTP tag, 80-bit SRTCP tag.
    Aes128CmHmacSha1_32,
    /// `SRTP_AEAD_AES_128_GCM` (RFC 7714, id 0x0007).
    AeadAes128Gcm,
    /// `SRTP_AEAD_AES_256_GCM` (RFC 7714, id 0x0008).
    AeadAes256Gcm,
    /// `AES_256_CM_HMAC_SHA1_80` (RFC 6188). Usable with SDES-style keys; no DTLS-SRTP id.
    Aes256CmHmacSha1_80,
}

impl SrtpProfile {
    /// Every profile, strongest-first order is not implied.
    pub const ALL: [SrtpProfile; 5] = [
        SrtpProfile::Aes128CmHmacSha1_80,
        SrtpProfile::Aes128CmHmacSha1_32,
        SrtpProfile::AeadAes128Gcm,
        SrtpProfile::AeadAes256Gcm,
        SrtpProfile::Aes256CmHmacSha1_80,
    ];

    /// The DTLS `use_srtp` protection profile id, where one is registered.
    #[must_use]
    pub const fn dtls_id(self) -> Option<u16> {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 => Some(0x0001),
            SrtpProfile::Aes128CmHmacSha1_32 => Some(0x0002),
            SrtpProfile::AeadAes128Gcm => Some(0x0007),
            SrtpProfile::AeadAes256Gcm => Some(0x0008),
            SrtpProfile::Aes256CmHmacSha1_80 => None,
        }
    }

    /// The profile with this DTLS `use_srtp` id, if we support it.
    #[must_use]
    pub const fn from_dtls_id(id: u16) -> Option<SrtpProfile> {
        match id {
            0x0001 => Some(SrtpProfile::Aes128CmHmacSha1_80),
            0x0002 => Some(SrtpProfile::Aes128CmHmacSha1_32),
            0x0007 => Some(SrtpProfile::AeadAes128Gcm),
            0x0008 => Some(SrtpProfile::AeadAes256Gcm),
            _ => None,
        }
    }

    /// Master key length in octets.
    #[must_use]
    pub const fn master_key_len(self) -> usize {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80
            | SrtpProfile::Aes128CmHmacSha1_32
            | SrtpProfile::AeadAes128Gcm => 16,
            SrtpProfile::AeadAes256Gcm | SrtpProfile::Aes256CmHmacSha1_80 => 32,
        }
    }

    /// Master salt length in octets (14 for AES-CM, 12 for AEAD).
    #[must_use]
    pub const fn master_salt_len(self) -> usize {
        if self.is_aead() {
            12
        } else {
            14
        }
    }

    /// Authentication tag length of SRTP packets, in octets.
    #[must_use]
    pub const fn srtp_tag_len(self) -> usize {
        match self {
            SrtpProfile::Aes128CmHmacSha1_32 => 4,
            SrtpProfile::Aes128CmHmacSha1_80 | SrtpProfile::Aes256CmHmacSha1_80 => 10,
            SrtpProfile::AeadAes128Gcm | SrtpProfile::AeadAes256Gcm => 16,
        }
    }

    /// Authentication tag length of SRTCP packets (80 bits even for `_32`; RFC 5764 §4.1.2).
    #[must_use]
    pub const fn srtcp_tag_len(self) -> usize {
        if self.is_aead() {
            16
        } else {
            10
        }
    }

    /// Whether the profile is an AEAD (AES-GCM) one.
    #[must_use]
    pub const fn is_aead(self) -> bool {
        matches!(
            self,
            SrtpProfile::AeadAes128Gcm | SrtpProfile::AeadAes256Gcm
        )
    }

    /// Length of the exported keying material: `2 × (key + salt)`.
    #[must_use]
    pub const fn keying_material_len(self) -> usize {
        2 * (self.master_key_len() + self.master_salt_len())
    }

    /// The IANA / OpenSSL name, e.g. `SRTP_AEAD_AES_128_GCM`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 => "SRTP_AES128_CM_SHA1_80",
            SrtpProfile::Aes128CmHmacSha1_32 => "SRTP_AES128_CM_SHA1_32",
            SrtpProfile::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
            SrtpProfile::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
            SrtpProfile::Aes256CmHmacSha1_80 => "AES_256_CM_HMAC_SHA1_80",
        }
    }
}

impl fmt::Display for SrtpProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which side of the DTLS handshake we were: it decides which half of the exported keying
/// material is ours (RFC 5764 §4.2). Not the ICE role, not the SDP offerer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtlsRole {
    /// We sent the ClientHello.
    Client,
    /// We answered it.
    Server,
}

/// Keying material exported by DTLS for SRTP: `client_key | server_key | client_salt |
/// server_salt` for the negotiated profile.
///
/// The bytes are overwritten with zeros on drop, and `Debug` prints only the profile and
/// the length. Equality compares the bytes in constant time.
#[derive(Clone)]
pub struct KeyingMaterial {
    profile: SrtpProfile,
    material: Vec<u8>,
}

/// One direction's SRTP master key and salt, borrowed from a [`KeyingMaterial`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SrtpKeys<'a> {
    /// The master key.
    pub master_key: &'a [u8],
    /// The master salt.
    pub master_salt: &'a [u8],
}

impl fmt::Debug for SrtpKeys<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SrtpKeys {{ key: {} bytes, salt: {} bytes }}",
            self.master_key.len(),
            self.master_salt.len()
        )
    }
}

impl KeyingMaterial {
    /// Wraps exported bytes, or gives them back if their length does not fit the profile.
    pub fn new(profile: SrtpProfile, material: Vec<u8>) -> Result<Self, Vec<u8>> {
        if material.len() == profile.keying_material_len() {
            Ok(KeyingMaterial { profile, material })
        } else {
            Err(material)
        }
    }

    /// The negotiated profile.
    #[must_use]
    pub fn profile(&self) -> SrtpProfile {
        self.profile
    }

    /// The raw exported bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.material
    }

    /// The keys the DTLS client writes with (and the server reads with).
    #[must_use]
    pub fn client_write(&self) -> SrtpKeys<'_> {
        self.half(0)
    }

    /// The keys the DTLS server writes with (and the client reads with).
    #[must_use]
    pub fn server_write(&self) -> SrtpKeys<'_> {
        self.half(1)
    }

    /// `(local, remote)`: the keys to protect what we send and to unprotect what we receive.
    #[must_use]
    pub fn split(&self, role: DtlsRole) -> (SrtpKeys<'_>, SrtpKeys<'_>) {
        match role {
            DtlsRole::Client => (self.client_write(), self.server_write()),
            DtlsRole::Server => (self.server_write(), self.client_write()),
        }
    }

    fn half(&self, i: usize) -> SrtpKeys<'_> {
        let k = self.profile.master_key_len();
        let s = self.profile.master_salt_len();
        // Lengths were checked in `new`, so these ranges are in bounds; `get` keeps it total.
        SrtpKeys {
            master_key: self.material.get(i * k..(i + 1) * k).unwrap_or(&[]),
            master_salt: self
                .material
                .get(2 * k + i * s..2 * k + (i + 1) * s)
                .unwrap_or(&[]),
        }
    }
}

impl fmt::Debug for KeyingMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "KeyingMaterial {{ profile: {}, {} bytes }}",
            self.profile,
            self.material.len()
        )
    }
}

impl PartialEq for KeyingMaterial {
    /// Constant time in the bytes' values: every byte is compared, whatever differs first.
    fn eq(&self, other: &Self) -> bool {
        self.profile == other.profile && crate::ct_eq(&self.material, &other.material)
    }
}

impl Eq for KeyingMaterial {}

impl Drop for KeyingMaterial {
    fn drop(&mut self) {
        self.material.iter_mut().for_each(|b| *b = 0);
        // Spare capacity may hold bytes from before the vector was trimmed: clear it too.
        self.material.spare_capacity_mut().iter_mut().for_each(|b| {
            b.write(0);
        });
        // Keep the compiler from treating the zeroing as a dead store.
        std::hint::black_box(&self.material);
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Offsets from testdata/vectors/dtls_srtp_exporter_rfc5764_5705.txt.
    #[test]
    fn layout_per_profile() {
        for (p, key, salt, total) in [
            (SrtpProfile::Aes128CmHmacSha1_80, 16, 14, 60),
            (SrtpProfile::Aes128CmHmacSha1_32, 16, 14, 60),
            (SrtpProfile::AeadAes128Gcm, 16, 12, 56),
            (SrtpProfile::AeadAes256Gcm, 32, 12, 88),
        ] {
            assert_eq!(p.keying_material_len(), total, "{p}");
            let bytes: Vec<u8> = (0..total as u8).collect();
            let km = KeyingMaterial::new(p, bytes).expect("right length");
            let (local, remote) = km.split(DtlsRole::Client);
            assert_eq!(local.master_key, &(0..key as u8).collect::<Vec<_>>()[..]);
            assert_eq!(
                remote.master_key,
                &(key as u8..2 * key as u8).collect::<Vec<_>>()[..]
            );
            let cs = 2 * key as u8;
            assert_eq!(
                local.master_salt,
                &(cs..cs + salt as u8).collect::<Vec<_>>()[..]
            );
            assert_eq!(
                remote.master_salt,
                &(cs + salt as u8..total as u8).collect::<Vec<_>>()[..]
            );
            let (s_local, s_remote) = km.split(DtlsRole::Server);
            assert_eq!(s_local, remote);
            assert_eq!(s_remote, local);
            assert_eq!(SrtpProfile::from_dtls_id(p.dtls_id().expect("id")), Some(p));
        }
    }

    #[test]
    fn wrong_length_is_refused_and_debug_hides_bytes() {
        assert!(KeyingMaterial::new(SrtpProfile::AeadAes128Gcm, vec![0; 60]).is_err());
        let km = KeyingMaterial::new(SrtpProfile::AeadAes128Gcm, vec![0xab; 56]).expect("56");
        let dbg = format!("{km:?} {:?}", km.client_write());
        assert!(
            !dbg.contains("171") && !dbg.to_lowercase().contains("ab,"),
            "{dbg}"
        );
        assert!(dbg.contains("56 bytes"));
    }

    #[test]
    fn srtcp_tag_is_80_bits_for_32_profile() {
        assert_eq!(SrtpProfile::Aes128CmHmacSha1_32.srtp_tag_len(), 4);
        assert_eq!(SrtpProfile::Aes128CmHmacSha1_32.srtcp_tag_len(), 10);
        assert_eq!(SrtpProfile::from_dtls_id(0x0005), None);
    }

    #[test]
    fn equality_compares_profile_and_every_byte() {
        let p = SrtpProfile::AeadAes128Gcm;
        let a = KeyingMaterial::new(p, vec![7; 56]).unwrap();
        assert_eq!(a, a.clone());
        for i in [0, 30, 55] {
            let mut v = vec![7; 56];
            v[i] ^= 1;
            assert_ne!(a, KeyingMaterial::new(p, v).unwrap(), "byte {i}");
        }
        let other = KeyingMaterial::new(SrtpProfile::Aes128CmHmacSha1_80, vec![7; 60]).unwrap();
        assert_ne!(a, other);
    }
}
