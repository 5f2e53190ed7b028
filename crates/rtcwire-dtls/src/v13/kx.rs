//! DTLS 1.3 key shares: the classical groups of [`KeyShare`] and the X25519MLKEM768 hybrid
//! (draft-ietf-tls-ecdhe-mlkem: ML-KEM-768 first, then X25519, in shares and secret).

use crate::crypto::kx::{KeyShare, NamedGroup};
use crate::crypto::rand::KeyRandom;
use crate::Error;
use libcrux_ml_kem::mlkem768::{self, MlKem768Ciphertext, MlKem768KeyPair, MlKem768PublicKey};

const MLKEM_EK_LEN: usize = 1184;
const MLKEM_CT_LEN: usize = 1088;
const X25519_LEN: usize = 32;

/// Our half of a key exchange: what a client offers, kept until the ServerHello.
pub(crate) enum Share13 {
    Classic(KeyShare),
    Hybrid {
        dk: Box<MlKem768KeyPair>,
        x: KeyShare,
        public: Vec<u8>,
    },
    /// An X25519 share whose key is the X25519 half of the hybrid offered beside it (see
    /// [`Share13::x25519_of`]); its private key lives in that hybrid share.
    X25519OfHybrid {
        public: Vec<u8>,
    },
}

impl std::fmt::Debug for Share13 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Share13({:?})", self.group())
    }
}

impl Share13 {
    /// A fresh share; the ML-KEM seed comes from `seed_rng` (the connection's Rng).
    pub(crate) fn generate(
        group: NamedGroup,
        rand: &mut KeyRandom<'_>,
        seed: [u8; 64],
    ) -> Result<Share13, Error> {
        match group {
            NamedGroup::X25519MlKem768 => {
                // FIPS 203 ML-KEM.KeyGen from the 64-byte seed (d ‖ z).
                let dk = mlkem768::generate_key_pair(seed);
                let x = KeyShare::generate(NamedGroup::X25519, rand)?;
                let mut public = dk.public_key().as_slice().to_vec();
                public.extend_from_slice(x.public());
                Ok(Share13::Hybrid {
                    dk: Box::new(dk),
                    x,
                    public,
                })
            }
            g => Ok(Share13::Classic(KeyShare::generate(g, rand)?)),
        }
    }

    /// The standalone X25519 share offered beside `hybrid`, on the same X25519 key (a
    /// client offering X25519MLKEM768 and X25519 then makes one X25519 key, not two: one
    /// scalar multiplication less before the first flight). The server picks one group, so
    /// the key still takes part in one exchange only; draft-ietf-tls-hybrid-design §3.2
    /// allows sending one ECDHE key in a hybrid and a plain share. `None` for a share
    /// that is not the hybrid.
    pub(crate) fn x25519_of(hybrid: &Share13) -> Option<Share13> {
        match hybrid {
            Share13::Hybrid { x, .. } => Some(Share13::X25519OfHybrid {
                public: x.public().to_vec(),
            }),
            _ => None,
        }
    }

    pub(crate) fn group(&self) -> NamedGroup {
        match self {
            Share13::Classic(k) => k.group(),
            Share13::Hybrid { .. } => NamedGroup::X25519MlKem768,
            Share13::X25519OfHybrid { .. } => NamedGroup::X25519,
        }
    }

    pub(crate) fn public(&self) -> &[u8] {
        match self {
            Share13::Classic(k) => k.public(),
            Share13::Hybrid { public, .. } | Share13::X25519OfHybrid { public } => public,
        }
    }

    /// The shared secret with the server's share for group `gid`, from the shares we
    /// offered (client side): `(group, secret)`.
    pub(crate) fn agree_offered(
        shares: Vec<Share13>,
        gid: u16,
        peer: &[u8],
    ) -> Result<(NamedGroup, Vec<u8>), Error> {
        let chosen =
            shares
                .iter()
                .position(|s| s.group().id() == gid)
                .ok_or(Error::IllegalParameter(
                    "key_share for a group we did not offer",
                ))?;
        let mut shares = shares;
        let share = shares.swap_remove(chosen);
        let group = share.group();
        let secret = match share {
            Share13::X25519OfHybrid { .. } => {
                let x = shares
                    .into_iter()
                    .find_map(|s| match s {
                        Share13::Hybrid { x, .. } => Some(x),
                        _ => None,
                    })
                    .ok_or(Error::Crypto)?;
                x.agree(peer)?
            }
            s => s.agree(peer)?,
        };
        Ok((group, secret))
    }

    /// The shared secret from the server's share (client side).
    pub(crate) fn agree(self, peer: &[u8]) -> Result<Vec<u8>, Error> {
        match self {
            Share13::Classic(k) => k.agree(peer),
            // Its key is in the hybrid share: see `agree_offered`.
            Share13::X25519OfHybrid { .. } => Err(Error::Crypto),
            Share13::Hybrid { dk, x, .. } => {
                if peer.len() != MLKEM_CT_LEN + X25519_LEN {
                    return Err(Error::BadKeyShare);
                }
                let (ct, xp) = peer.split_at(MLKEM_CT_LEN);
                let ct = MlKem768Ciphertext::try_from(ct).map_err(|_| Error::BadKeyShare)?;
                let mut secret = mlkem768::decapsulate(dk.private_key(), &ct).to_vec();
                secret.extend_from_slice(&x.agree(xp)?);
                Ok(secret)
            }
        }
    }
}

/// The server's side: answers the client's share for `group` with ours and returns
/// `(our public share, shared secret)`. `m` is the ML-KEM encapsulation randomness.
pub(crate) fn respond(
    group: NamedGroup,
    client: &[u8],
    rand: &mut KeyRandom<'_>,
    m: [u8; 32],
) -> Result<(Vec<u8>, Vec<u8>), Error> {
    match group {
        NamedGroup::X25519MlKem768 => {
            if client.len() != MLKEM_EK_LEN + X25519_LEN {
                return Err(Error::BadKeyShare);
            }
            let (ek, xp) = client.split_at(MLKEM_EK_LEN);
            let ek = MlKem768PublicKey::try_from(ek).map_err(|_| Error::BadKeyShare)?;
            // FIPS 203 §7.2's input check: every coefficient below the modulus.
            if !mlkem768::validate_public_key(&ek) {
                return Err(Error::BadKeyShare);
            }
            let (ct, ss) = mlkem768::encapsulate(&ek, m);
            let x = KeyShare::generate(NamedGroup::X25519, rand)?;
            let mut public = ct.as_slice().to_vec();
            public.extend_from_slice(x.public());
            let mut secret = ss.to_vec();
            secret.extend_from_slice(&x.agree(xp)?);
            Ok((public, secret))
        }
        g => {
            let k = KeyShare::generate(g, rand)?;
            let public = k.public().to_vec();
            Ok((public, k.agree(client)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_x25519_share_beside_the_hybrid_is_its_key_and_agrees_either_way() {
        let offer = || {
            let h = Share13::generate(NamedGroup::X25519MlKem768, &mut KeyRandom::System, [5; 64])
                .unwrap();
            let x = Share13::x25519_of(&h).unwrap();
            vec![h, x]
        };
        let shares = offer();
        assert_eq!(shares[1].group(), NamedGroup::X25519);
        // The same X25519 public key: the hybrid's last 32 bytes.
        assert_eq!(shares[1].public(), &shares[0].public()[MLKEM_EK_LEN..]);
        for g in [NamedGroup::X25519, NamedGroup::X25519MlKem768] {
            let shares = offer();
            let client = shares
                .iter()
                .find(|s| s.group() == g)
                .unwrap()
                .public()
                .to_vec();
            let (sp, ss) = respond(g, &client, &mut KeyRandom::System, [6; 32]).unwrap();
            let (group, secret) = Share13::agree_offered(shares, g.id(), &sp).unwrap();
            assert_eq!(group, g);
            assert_eq!(secret, ss, "{g:?}");
        }
        // A group we did not offer, and the reused share without its hybrid.
        assert!(Share13::agree_offered(offer(), NamedGroup::Secp256r1.id(), &[0; 65]).is_err());
        let lone = offer().pop().unwrap();
        assert!(Share13::agree_offered(vec![lone], NamedGroup::X25519.id(), &[9; 32]).is_err());
        assert!(Share13::x25519_of(&offer().pop().unwrap()).is_none());
    }

    #[test]
    fn hybrid_and_classic_shares_agree() {
        for g in [
            NamedGroup::X25519MlKem768,
            NamedGroup::X25519,
            NamedGroup::Secp256r1,
        ] {
            let c = Share13::generate(g, &mut KeyRandom::System, [3; 64]).unwrap();
            if g == NamedGroup::X25519MlKem768 {
                assert_eq!(c.public().len(), 1216);
            }
            let (sp, ss) = respond(g, c.public(), &mut KeyRandom::System, [4; 32]).unwrap();
            if g == NamedGroup::X25519MlKem768 {
                assert_eq!(sp.len(), 1120);
                assert_eq!(ss.len(), 64);
            }
            assert_eq!(c.agree(&sp).unwrap(), ss, "{g:?}");
        }
    }

    #[test]
    fn hybrid_refuses_bad_lengths() {
        let c =
            Share13::generate(NamedGroup::X25519MlKem768, &mut KeyRandom::System, [1; 64]).unwrap();
        assert_eq!(
            respond(
                NamedGroup::X25519MlKem768,
                &[0; 100],
                &mut KeyRandom::System,
                [0; 32]
            ),
            Err(Error::BadKeyShare)
        );
        assert_eq!(c.agree(&[0; 33]), Err(Error::BadKeyShare));
    }
}
