//! DTLS 1.3 key shares: the classical groups of [`KeyShare`] and the X25519MLKEM768 hybrid
//! (draft-ietf-tls-ecdhe-mlkem: ML-KEM-768 first, then X25519, in shares and secret).

use crate::crypto::kx::{KeyShare, NamedGroup};
use crate::crypto::rand::KeyRandom;
use crate::Error;
use ml_kem::{Decapsulate, KeyExport, MlKem768};

const MLKEM_EK_LEN: usize = 1184;
const MLKEM_CT_LEN: usize = 1088;
const X25519_LEN: usize = 32;

/// Our half of a key exchange: what a client offers, kept until the ServerHello.
pub(crate) enum Share13 {
    Classic(KeyShare),
    Hybrid {
        dk: Box<ml_kem::DecapsulationKey<MlKem768>>,
        x: KeyShare,
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
                let dk = ml_kem::DecapsulationKey::<MlKem768>::from_seed(seed.into());
                let x = KeyShare::generate(NamedGroup::X25519, rand)?;
                let mut public = dk.encapsulation_key().to_bytes().to_vec();
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

    pub(crate) fn group(&self) -> NamedGroup {
        match self {
            Share13::Classic(k) => k.group(),
            Share13::Hybrid { .. } => NamedGroup::X25519MlKem768,
        }
    }

    pub(crate) fn public(&self) -> &[u8] {
        match self {
            Share13::Classic(k) => k.public(),
            Share13::Hybrid { public, .. } => public,
        }
    }

    /// The shared secret from the server's share (client side).
    pub(crate) fn agree(self, peer: &[u8]) -> Result<Vec<u8>, Error> {
        match self {
            Share13::Classic(k) => k.agree(peer),
            Share13::Hybrid { dk, x, .. } => {
                if peer.len() != MLKEM_CT_LEN + X25519_LEN {
                    return Err(Error::BadKeyShare);
                }
                let (ct, xp) = peer.split_at(MLKEM_CT_LEN);
                let ct =
                    ml_kem::Ciphertext::<MlKem768>::try_from(ct).map_err(|_| Error::BadKeyShare)?;
                let mut secret = dk.decapsulate(&ct).to_vec();
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
            let ek = ml_kem::array::Array::try_from(ek).map_err(|_| Error::BadKeyShare)?;
            let ek =
                ml_kem::EncapsulationKey::<MlKem768>::new(&ek).map_err(|_| Error::BadKeyShare)?;
            let (ct, ss) = ek.encapsulate_deterministic(&m.into());
            let x = KeyShare::generate(NamedGroup::X25519, rand)?;
            let mut public = ct.to_vec();
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
