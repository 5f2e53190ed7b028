//! Randomness for key generation and signatures.
//!
//! ring's `SecureRandom` is sealed, so an injected [`rtcwire_proto::Rng`] cannot be handed to
//! it. Production connections therefore use ring's `SystemRandom` for ephemeral keys and
//! signature nonces — the one place the crate uses a random source it was not handed
//! (randoms, the cookie key and everything else still come from the injected `Rng`).
//!
//! For simulations that must replay bit for bit, [`Config`](crate::Config) can ask for
//! *deterministic keys*: ephemeral private keys are then drawn from the injected `Rng` and
//! used through RustCrypto's X25519 / P-256 / P-384 implementations (ring cannot take a
//! private key from bytes), and our ECDSA signatures use RFC 6979 deterministic nonces. No
//! test helper of ring's is involved, and nothing can ask for a seed of an unexpected length.

use crate::Error;
use ring::rand::{SecureRandom, SystemRandom};
use rtcwire_proto::{Rng, RngError};

/// Where key material comes from.
pub(crate) enum KeyRandom<'a> {
    /// ring's operating-system source, through ring's own primitives (production).
    System,
    /// Private keys drawn from the injected generator (simulation only).
    Seeded(&'a mut dyn Rng),
}

impl KeyRandom<'_> {
    /// Runs `f` with ring's system source.
    pub(crate) fn system<T, E>(
        f: impl FnOnce(&dyn SecureRandom) -> Result<T, E>,
    ) -> Result<T, Error> {
        f(&SystemRandom::new()).map_err(|_| Error::Crypto)
    }
}

/// [`Rng`] backed by ring's `SystemRandom`: what production connections should be given.
#[derive(Debug, Clone)]
pub struct SystemRng(SystemRandom);

impl SystemRng {
    /// A handle on the operating system's CSPRNG.
    #[must_use]
    pub fn new() -> Self {
        SystemRng(SystemRandom::new())
    }
}

impl Default for SystemRng {
    fn default() -> Self {
        SystemRng::new()
    }
}

impl Rng for SystemRng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RngError> {
        // A failure is reported, never papered over: the caller stops what needed the bytes.
        self.0.fill(dest).map_err(|_| {
            tracing::error!("system random source failed");
            RngError
        })
    }
}
