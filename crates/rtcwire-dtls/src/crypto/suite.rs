//! Cipher suites (RFC 5289, RFC 7905) and the properties the handshake needs from them.

use super::prf::PrfHash;

/// Key exchange / authentication half of a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Authentication {
    /// `ECDHE_ECDSA`: the server signs with an ECDSA certificate.
    Ecdsa,
    /// `ECDHE_RSA`: the server signs with an RSA certificate.
    Rsa,
}

/// Record protection (bulk cipher) of a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BulkCipher {
    /// AES-128-GCM (RFC 5288): 4-byte implicit salt, 8-byte explicit nonce.
    Aes128Gcm,
    /// AES-256-GCM (RFC 5288).
    Aes256Gcm,
    /// ChaCha20-Poly1305 (RFC 7905): 12-byte IV XORed with the sequence, no explicit nonce.
    Chacha20Poly1305,
}

impl BulkCipher {
    /// Key length in octets.
    #[must_use]
    pub const fn key_len(self) -> usize {
        match self {
            BulkCipher::Aes128Gcm => 16,
            BulkCipher::Aes256Gcm | BulkCipher::Chacha20Poly1305 => 32,
        }
    }

    /// Length of the implicit (key-block) IV.
    #[must_use]
    pub const fn fixed_iv_len(self) -> usize {
        match self {
            BulkCipher::Aes128Gcm | BulkCipher::Aes256Gcm => 4,
            BulkCipher::Chacha20Poly1305 => 12,
        }
    }

    /// Length of the explicit nonce carried in each record.
    #[must_use]
    pub const fn explicit_nonce_len(self) -> usize {
        match self {
            BulkCipher::Aes128Gcm | BulkCipher::Aes256Gcm => 8,
            BulkCipher::Chacha20Poly1305 => 0,
        }
    }

    /// Bytes a protected record adds to its plaintext (explicit nonce + tag).
    #[must_use]
    pub const fn overhead(self) -> usize {
        self.explicit_nonce_len() + 16
    }

    pub(crate) fn ring_algorithm(self) -> &'static ring::aead::Algorithm {
        match self {
            BulkCipher::Aes128Gcm => &ring::aead::AES_128_GCM,
            BulkCipher::Aes256Gcm => &ring::aead::AES_256_GCM,
            BulkCipher::Chacha20Poly1305 => &ring::aead::CHACHA20_POLY1305,
        }
    }
}

macro_rules! suites {
    (
        tls12 { $($name:ident = $id:expr, $auth:ident, $bulk:ident, $hash:ident, $iana:expr;)* }
        tls13 { $($name13:ident = $id13:expr, $bulk13:ident, $hash13:ident, $iana13:expr;)* }
    ) => {
        /// A cipher suite this crate implements: the TLS 1.2 ECDHE ones and the three TLS 1.3
        /// AEAD ones (see [`CipherSuite::is_tls13`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        #[allow(non_camel_case_types)]
        pub enum CipherSuite {
            $(
                #[doc = concat!("`", $iana, "` (", stringify!($id), ").")]
                $name,
            )*
            $(
                #[doc = concat!("`", $iana13, "` (", stringify!($id13), "), DTLS 1.3 only.")]
                $name13,
            )*
        }

        impl CipherSuite {
            /// Every implemented DTLS 1.2 suite, in our default preference order.
            pub const ALL: &'static [CipherSuite] = &[$(CipherSuite::$name),*];

            /// The TLS 1.3 suites, in our default preference order (DTLS 1.3 only).
            pub const TLS13: &'static [CipherSuite] = &[$(CipherSuite::$name13),*];

            /// Whether this is a TLS 1.3 suite (negotiated by DTLS 1.3 only).
            #[must_use]
            pub const fn is_tls13(self) -> bool {
                match self { $(CipherSuite::$name13 => true,)* _ => false }
            }

            /// The IANA code point.
            #[must_use]
            pub const fn id(self) -> u16 {
                match self { $(CipherSuite::$name => $id,)* $(CipherSuite::$name13 => $id13,)* }
            }

            /// The suite with this code point, if implemented.
            #[must_use]
            pub const fn from_id(id: u16) -> Option<Self> {
                match id {
                    $($id => Some(CipherSuite::$name),)*
                    $($id13 => Some(CipherSuite::$name13),)*
                    _ => None
                }
            }

            /// Who signs the key exchange. A TLS 1.3 suite is not tied to a key type; it
            /// reports [`Authentication::Ecdsa`], the type of the certificates we make.
            #[must_use]
            pub const fn authentication(self) -> Authentication {
                match self {
                    $(CipherSuite::$name => Authentication::$auth,)*
                    $(CipherSuite::$name13 => Authentication::Ecdsa,)*
                }
            }

            /// The record protection.
            #[must_use]
            pub const fn bulk(self) -> BulkCipher {
                match self {
                    $(CipherSuite::$name => BulkCipher::$bulk,)*
                    $(CipherSuite::$name13 => BulkCipher::$bulk13,)*
                }
            }

            /// The PRF / transcript hash.
            #[must_use]
            pub const fn prf_hash(self) -> PrfHash {
                match self {
                    $(CipherSuite::$name => PrfHash::$hash,)*
                    $(CipherSuite::$name13 => PrfHash::$hash13,)*
                }
            }

            /// The IANA name.
            #[must_use]
            pub const fn name(self) -> &'static str {
                match self { $(CipherSuite::$name => $iana,)* $(CipherSuite::$name13 => $iana13,)* }
            }
        }
    };
}

suites! {
    tls12 {
    EcdheEcdsaAes128GcmSha256 = 0xc02b, Ecdsa, Aes128Gcm, Sha256, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
    EcdheEcdsaAes256GcmSha384 = 0xc02c, Ecdsa, Aes256Gcm, Sha384, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";
    EcdheEcdsaChacha20Poly1305Sha256 = 0xcca9, Ecdsa, Chacha20Poly1305, Sha256, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256";
    EcdheRsaAes128GcmSha256 = 0xc02f, Rsa, Aes128Gcm, Sha256, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
    EcdheRsaAes256GcmSha384 = 0xc030, Rsa, Aes256Gcm, Sha384, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384";
    EcdheRsaChacha20Poly1305Sha256 = 0xcca8, Rsa, Chacha20Poly1305, Sha256, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256";
    }
    tls13 {
    Tls13Aes128GcmSha256 = 0x1301, Aes128Gcm, Sha256, "TLS_AES_128_GCM_SHA256";
    Tls13Aes256GcmSha384 = 0x1302, Aes256Gcm, Sha384, "TLS_AES_256_GCM_SHA384";
    Tls13Chacha20Poly1305Sha256 = 0x1303, Chacha20Poly1305, Sha256, "TLS_CHACHA20_POLY1305_SHA256";
    }
}

impl std::fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_lengths() {
        for s in CipherSuite::ALL {
            assert_eq!(CipherSuite::from_id(s.id()), Some(*s));
        }
        assert_eq!(
            CipherSuite::from_id(0x1301),
            Some(CipherSuite::Tls13Aes128GcmSha256)
        );
        assert!(CipherSuite::TLS13.iter().all(|s| s.is_tls13()));
        assert!(CipherSuite::ALL.iter().all(|s| !s.is_tls13()));
        let s = CipherSuite::EcdheEcdsaChacha20Poly1305Sha256;
        assert_eq!(s.bulk().overhead(), 16);
        assert_eq!(CipherSuite::EcdheRsaAes256GcmSha384.bulk().key_len(), 32);
    }
}
