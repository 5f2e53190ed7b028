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
    ($($name:ident = $id:expr, $auth:ident, $bulk:ident, $hash:ident, $iana:expr;)*) => {
        /// A TLS 1.2 cipher suite this crate implements.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        #[allow(non_camel_case_types)]
        pub enum CipherSuite {
            $(
                #[doc = concat!("`", $iana, "` (", stringify!($id), ").")]
                $name,
            )*
        }

        impl CipherSuite {
            /// Every implemented suite, in our default preference order.
            pub const ALL: &'static [CipherSuite] = &[$(CipherSuite::$name),*];

            /// The IANA code point.
            #[must_use]
            pub const fn id(self) -> u16 {
                match self { $(CipherSuite::$name => $id,)* }
            }

            /// The suite with this code point, if implemented.
            #[must_use]
            pub const fn from_id(id: u16) -> Option<Self> {
                match id { $($id => Some(CipherSuite::$name),)* _ => None }
            }

            /// Who signs the key exchange.
            #[must_use]
            pub const fn authentication(self) -> Authentication {
                match self { $(CipherSuite::$name => Authentication::$auth,)* }
            }

            /// The record protection.
            #[must_use]
            pub const fn bulk(self) -> BulkCipher {
                match self { $(CipherSuite::$name => BulkCipher::$bulk,)* }
            }

            /// The PRF / transcript hash.
            #[must_use]
            pub const fn prf_hash(self) -> PrfHash {
                match self { $(CipherSuite::$name => PrfHash::$hash,)* }
            }

            /// The IANA name.
            #[must_use]
            pub const fn name(self) -> &'static str {
                match self { $(CipherSuite::$name => $iana,)* }
            }
        }
    };
}

suites! {
    EcdheEcdsaAes128GcmSha256 = 0xc02b, Ecdsa, Aes128Gcm, Sha256, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
    EcdheEcdsaAes256GcmSha384 = 0xc02c, Ecdsa, Aes256Gcm, Sha384, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";
    EcdheEcdsaChacha20Poly1305Sha256 = 0xcca9, Ecdsa, Chacha20Poly1305, Sha256, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256";
    EcdheRsaAes128GcmSha256 = 0xc02f, Rsa, Aes128Gcm, Sha256, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
    EcdheRsaAes256GcmSha384 = 0xc030, Rsa, Aes256Gcm, Sha384, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384";
    EcdheRsaChacha20Poly1305Sha256 = 0xcca8, Rsa, Chacha20Poly1305, Sha256, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256";
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
        assert_eq!(CipherSuite::from_id(0x1301), None);
        let s = CipherSuite::EcdheEcdsaChacha20Poly1305Sha256;
        assert_eq!(s.bulk().overhead(), 16);
        assert_eq!(CipherSuite::EcdheRsaAes256GcmSha384.bulk().key_len(), 32);
    }
}
