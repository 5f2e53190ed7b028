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
    /// `X25519MLKEM768` (0x11ec): ML-KEM-768 and X25519 together, DTLS 1.3 only
    /// (draft-ietf-tls-ecdhe-mlkem). Not in [`NamedGroup::ALL`], which is DTLS 1.2's list.
    X25519MlKem768,
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
            NamedGroup::X25519MlKem768 => 0x11ec,
        }
    }

    /// The group with this code point, if implemented.
    #[must_use]
    pub const fn from_id(id: u16) -> Option<Self> {
        match id {
            29 => Some(NamedGroup::X25519),
            23 => Some(NamedGroup::Secp256r1),
            24 => Some(NamedGroup::Secp384r1),
            0x11ec => Some(NamedGroup::X25519MlKem768),
            _ => None,
        }
    }

    fn algorithm(self) -> &'static agreement::Algorithm {
        match self {
            // The hybrid's classical half (its ML-KEM half lives in the DTLS 1.3 key share).
            NamedGroup::X25519 | NamedGroup::X25519MlKem768 => &agreement::X25519,
            NamedGroup::Secp256r1 => &agreement::ECDH_P256,
            NamedGroup::Secp384r1 => &agreement::ECDH_P384,
        }
    }

    /// Length of the private scalar seed ring draws for this group.
    pub(crate) const fn seed_len(self) -> usize {
        match self {
            NamedGroup::X25519 | NamedGroup::Secp256r1 | NamedGroup::X25519MlKem768 => 32,
            NamedGroup::Secp384r1 => 48,
        }
    }
}

/// Our ephemeral key share, waiting for the peer's.
/// An ephemeral private key: ring's in production, RustCrypto's when keys must be
/// deterministic (see [`KeyRandom`]).
enum Private {
    Ring(agreement::EphemeralPrivateKey),
    X25519(x25519_dalek::StaticSecret),
    P256(p256::SecretKey),
    P384(p384::SecretKey),
}

pub(crate) struct KeyShare {
    group: NamedGroup,
    private: Private,
    public: Vec<u8>,
}

/// Tries at drawing a scalar below the group order before giving up (each try fails with
/// probability below 2^-32 for P-256 and P-384).
const SCALAR_TRIES: usize = 8;

impl std::fmt::Debug for KeyShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyShare")
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

impl KeyShare {
    pub(crate) fn generate(group: NamedGroup, rand: &mut KeyRandom<'_>) -> Result<Self, Error> {
        let (private, public) = match rand {
            KeyRandom::System => {
                let private = KeyRandom::system(|r| {
                    agreement::EphemeralPrivateKey::generate(group.algorithm(), r)
                })?;
                let public = private
                    .compute_public_key()
                    .map_err(|_| Error::Crypto)?
                    .as_ref()
                    .to_vec();
                (Private::Ring(private), public)
            }
            KeyRandom::Seeded(rng) => Self::seeded(group, &mut **rng)?,
        };
        Ok(KeyShare {
            group,
            private,
            public,
        })
    }

    /// A private key drawn from `rng` (deterministic mode), with its public share.
    fn seeded(
        group: NamedGroup,
        rng: &mut dyn rtcwire_proto::Rng,
    ) -> Result<(Private, Vec<u8>), Error> {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        let mut seed = [0u8; 48];
        let seed = seed.get_mut(..group.seed_len()).ok_or(Error::Crypto)?;
        for _ in 0..SCALAR_TRIES {
            rng.fill(seed).map_err(|_| Error::RandomSourceFailed)?;
            match group {
                NamedGroup::X25519 | NamedGroup::X25519MlKem768 => {
                    let bytes: [u8; 32] = (&*seed).try_into().map_err(|_| Error::Crypto)?;
                    let secret = x25519_dalek::StaticSecret::from(bytes);
                    let public = x25519_dalek::PublicKey::from(&secret).as_bytes().to_vec();
                    return Ok((Private::X25519(secret), public));
                }
                NamedGroup::Secp256r1 => {
                    if let Ok(sk) = p256::SecretKey::from_slice(seed) {
                        let public = sk.public_key().to_encoded_point(false).as_bytes().to_vec();
                        return Ok((Private::P256(sk), public));
                    }
                }
                NamedGroup::Secp384r1 => {
                    if let Ok(sk) = p384::SecretKey::from_slice(seed) {
                        let public = sk.public_key().to_encoded_point(false).as_bytes().to_vec();
                        return Ok((Private::P384(sk), public));
                    }
                }
            }
        }
        Err(Error::Crypto)
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
        match self.private {
            Private::Ring(private) => {
                let peer = agreement::UnparsedPublicKey::new(self.group.algorithm(), peer);
                agreement::agree_ephemeral(private, &peer, |s| s.to_vec())
                    .map_err(|_| Error::BadKeyShare)
            }
            Private::X25519(secret) => {
                let peer: [u8; 32] = peer.try_into().map_err(|_| Error::BadKeyShare)?;
                let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(peer));
                // A low-order peer point gives an all-zero secret: refused, as ring does.
                if !shared.was_contributory() {
                    return Err(Error::BadKeyShare);
                }
                Ok(shared.as_bytes().to_vec())
            }
            Private::P256(sk) => {
                let pk = p256::PublicKey::from_sec1_bytes(peer).map_err(|_| Error::BadKeyShare)?;
                let shared = p256::ecdh::diffie_hellman(sk.to_nonzero_scalar(), pk.as_affine());
                Ok(shared.raw_secret_bytes().to_vec())
            }
            Private::P384(sk) => {
                let pk = p384::PublicKey::from_sec1_bytes(peer).map_err(|_| Error::BadKeyShare)?;
                let shared = p384::ecdh::diffie_hellman(sk.to_nonzero_scalar(), pk.as_affine());
                Ok(shared.raw_secret_bytes().to_vec())
            }
        }
    }
}

#[cfg(test)]
mod seeded_tests {
    use super::*;
    use rtcwire_proto::SeededRng;

    #[test]
    fn seeded_shares_agree_with_ring_shares_in_every_group_and_replay() {
        for group in NamedGroup::ALL.iter().copied() {
            let mut rng = SeededRng::new(5);
            let seeded = KeyShare::generate(group, &mut KeyRandom::Seeded(&mut rng)).unwrap();
            let mut again = SeededRng::new(5);
            let replay = KeyShare::generate(group, &mut KeyRandom::Seeded(&mut again)).unwrap();
            assert_eq!(seeded.public(), replay.public(), "{group:?} replays");
            let ring = KeyShare::generate(group, &mut KeyRandom::System).unwrap();
            let (sp, rp) = (seeded.public().to_vec(), ring.public().to_vec());
            let a = seeded.agree(&rp).unwrap();
            let b = ring.agree(&sp).unwrap();
            assert_eq!(
                a, b,
                "{group:?}: RustCrypto and ring derive the same secret"
            );
        }
    }

    #[test]
    fn seeded_x25519_refuses_a_low_order_point() {
        let mut rng = SeededRng::new(1);
        let s = KeyShare::generate(NamedGroup::X25519, &mut KeyRandom::Seeded(&mut rng)).unwrap();
        assert_eq!(s.agree(&[0u8; 32]), Err(Error::BadKeyShare));
    }

    #[test]
    fn a_failing_source_fails_key_generation() {
        struct Broken;
        impl rtcwire_proto::Rng for Broken {
            fn fill(&mut self, _: &mut [u8]) -> Result<(), rtcwire_proto::RngError> {
                Err(rtcwire_proto::RngError)
            }
        }
        let r = KeyShare::generate(NamedGroup::Secp256r1, &mut KeyRandom::Seeded(&mut Broken));
        assert!(matches!(r, Err(Error::RandomSourceFailed)));
    }
}
