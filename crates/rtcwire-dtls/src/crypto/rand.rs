//! Randomness for ring's key generation and ECDSA nonces.
//!
//! ring's `SecureRandom` is sealed, so an injected [`rtcwire_proto::Rng`] cannot be handed to
//! it directly. Production connections use ring's `SystemRandom` for ephemeral keys and
//! signature nonces (randoms, cookie secrets and everything else still come from the injected
//! `Rng`). For simulations that must replay bit for bit, [`Config`](crate::Config) can ask for
//! *deterministic keys*: the seed ring draws is then taken from the injected `Rng` and handed
//! over through ring's fixed-slice random source. ring mixes the private key and the message
//! into every ECDSA nonce, so a nonce never repeats across messages.

use crate::Error;
use ring::rand::{SecureRandom, SystemRandom};
use rtcwire_proto::{Rng, RngError};

/// Adapts whichever source is configured to ring's sealed `SecureRandom`.
pub(crate) enum KeyRandom<'a> {
    /// ring's operating-system source: the one place the crate uses a random source it was
    /// not handed, because ring's key generation accepts no other.
    System,
    /// Seeds drawn from the injected generator (simulation only).
    Seeded(&'a mut dyn Rng),
}

impl KeyRandom<'_> {
    /// Runs `f` with a ring random source whose every `fill` of `len` bytes returns the
    /// same fresh seed. `len` must be what ring asks for (it is, per algorithm, fixed in
    /// ring 0.17: the private scalar length for keys, the digest length for ECDSA nonces);
    /// the tests cover every algorithm used here.
    pub(crate) fn with<T, E>(
        &mut self,
        len: usize,
        f: impl FnOnce(&dyn SecureRandom) -> Result<T, E>,
    ) -> Result<T, Error> {
        match self {
            KeyRandom::System => f(&SystemRandom::new()).map_err(|_| Error::Crypto),
            KeyRandom::Seeded(rng) => {
                let mut seed = [0u8; 48];
                let seed = seed.get_mut(..len).ok_or(Error::Crypto)?;
                rng.fill(seed).map_err(|_| Error::RandomSourceFailed)?;
                #[allow(deprecated)]
                let fixed = ring::test::rand::FixedSliceRandom { bytes: seed };
                f(&fixed).map_err(|_| Error::Crypto)
            }
        }
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
