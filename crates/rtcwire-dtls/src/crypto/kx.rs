//! ECDHE key exchange over ring's `agreement` (X25519, P-256, P-384).

use super::rand::KeyRandom;
use crate::Error;
use ring::agreement;

/// A named group (RFC 8422 §5.1.1, RFC 7748).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NamedGroup {
    /// `x25519` (29).
    X25519,
    /// `secp256r1` (23).
    Secp256r1,
    /// `secp384r1` (24).
    Secp384r1,
}

impl NamedGroup {
    /// Every implemented group, in our default preference order.
    pub const ALL: &'static [NamedGroup] = &[
        NamedGroup::X25519,
        NamedGroup::Secp256r1,
        NamedGroup::Secp384r1,
    ];

    /// The IANA code point.
    #[must_use]
    pub const fn id(self) -> u16 {
        match self {
            NamedGroup::X25519 => 29,
            NamedGroup::Secp256r1 => 23,
            NamedGroup::Secp384r1 => 24,
        }
    }

    /// The group with this code point, if implemented.
    #[must_use]
    pub const fn from_id(id: u16) -> Option<Self> {
        match id {
            29 => Some(NamedGroup::X25519),
            23 => Some(NamedGroup::Secp256r1),
            24 => Some(NamedGroup::Secp384r1),
            _ => None,
        }
    }

    fn algorithm(self) -> &'static agreement::Algorithm {
        match self {
            NamedGroup::X25519 => &agreement::X25519,
            NamedGroup::Secp256r1 => &agreement::ECDH_P256,
            NamedGroup::Secp384r1 => &agreement::ECDH_P384,
        }
    }

    /// Length of the private scalar seed ring draws for this group.
    pub(crate) const fn seed_len(self) -> usize {
        match self {
            NamedGroup::X25519 | NamedGroup::Secp256r1 => 32,
            NamedGroup::Secp384r1 => 48,
        }
    }
}

/// Our ephemeral key share, waiting for the peer's.
pub(crate) struct KeyShare {
    group: NamedGroup,
    private: agreement::EphemeralPrivateKey,
    public: Vec<u8>,
}

impl std::fmt::Debug for KeyShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyShare")
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

impl KeyShare {
    pub(crate) fn generate(group: NamedGroup, rand: &mut KeyRandom<'_>) -> Result<Self, Error> {
        let private = rand.with(group.seed_len(), |r| {
            agreement::EphemeralPrivateKey::generate(group.algorithm(), r)
        })?;
        let public = private
            .compute_public_key()
            .map_err(|_| Error::Crypto)?
            .as_ref()
            .to_vec();
        Ok(KeyShare {
            group,
            private,
            public,
        })
    }

    pub(crate) fn group(&self) -> NamedGroup {
        self.group
    }

    /// Our public key (uncompressed point, or the 32-byte X25519 key).
    pub(crate) fn public(&self) -> &[u8] {
        &self.public
    }

    /// The premaster secret: the shared X coordinate / X25519 output.
    pub(crate) fn agree(self, peer: &[u8]) -> Result<Vec<u8>, Error> {
        let peer = agreement::UnparsedPublicKey::new(self.group.algorithm(), peer);
        agreement::agree_ephemeral(self.private, &peer, |s| s.to_vec())
            .map_err(|_| Error::BadKeyShare)
    }
}
