//! Injected randomness.
//!
//! Cores never build their own random source: DTLS randoms, ICE credentials, SCTP tags and
//! SSRCs come from an [`Rng`] handed in. Production code wraps a CSPRNG (for example
//! `ring::rand::SystemRandom`, in the crates that depend on ring); tests and the simulator use
//! [`SeededRng`] so a run replays bit for bit.

/// The random source could not produce bytes. Cores treat it as fatal for whatever needed
/// the randomness (a handshake stops, an association is not created): they never go on with
/// a buffer left unfilled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RngError;

impl std::fmt::Display for RngError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the random source failed")
    }
}

impl std::error::Error for RngError {}

/// A source of random bytes.
///
/// Every random byte a core chooses comes through this trait. A failing source returns
/// [`RngError`]; it must never return `Ok` with `dest` untouched.
pub trait Rng {
    /// Fills all of `dest` with random bytes, or fails.
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RngError>;

    /// A random `u32`.
    fn next_u32(&mut self) -> Result<u32, RngError> {
        let mut b = [0u8; 4];
        self.fill(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// A random `u64`.
    fn next_u64(&mut self) -> Result<u64, RngError> {
        let mut b = [0u8; 8];
        self.fill(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
}

impl<R: Rng + ?Sized> Rng for &mut R {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RngError> {
        (**self).fill(dest)
    }
}

impl<R: Rng + ?Sized> Rng for Box<R> {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RngError> {
        (**self).fill(dest)
    }
}

/// Derives the seed of one core from a session seed and a label (`"dtls"`, `"ice"`,
/// `"sctp"`, …), so that one seed replays a whole session bit for bit while each core draws
/// an independent stream.
#[must_use]
pub fn derive_seed(session_seed: u64, label: &str) -> u64 {
    // FNV-1a over the label, folded into the seed, then one SplitMix64 finaliser round.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut z = session_seed ^ h.rotate_left(17);
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A deterministic generator (xoshiro256** seeded through SplitMix64). Not cryptographic:
/// for tests and simulation only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededRng {
    s: [u64; 4],
}

impl SeededRng {
    /// A generator whose whole output is decided by `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        SeededRng {
            s: [next(), next(), next(), next()],
        }
    }

    fn step(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }
}

impl SeededRng {
    /// The generator of the core called `label` in a session seeded with `session_seed`
    /// (see [`derive_seed`]).
    #[must_use]
    pub fn derived(session_seed: u64, label: &str) -> Self {
        SeededRng::new(derive_seed(session_seed, label))
    }

    /// Fills `dest`; a seeded generator cannot fail.
    pub fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = self.step().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }

    /// A random `u64`; a seeded generator cannot fail.
    pub fn next_u64(&mut self) -> u64 {
        self.step()
    }

    /// A random `u32`; a seeded generator cannot fail.
    pub fn next_u32(&mut self) -> u32 {
        (self.step() >> 32) as u32
    }

    /// A random float in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.step() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

impl Rng for SeededRng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RngError> {
        self.fill_bytes(dest);
        Ok(())
    }

    fn next_u64(&mut self) -> Result<u64, RngError> {
        Ok(self.step())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_other_seed_other_stream() {
        let mut a = SeededRng::new(7);
        let mut b = SeededRng::new(7);
        let mut c = SeededRng::new(8);
        let (mut x, mut y, mut z) = ([0u8; 37], [0u8; 37], [0u8; 37]);
        a.fill_bytes(&mut x);
        b.fill_bytes(&mut y);
        c.fill_bytes(&mut z);
        assert_eq!(x, y);
        assert_ne!(x, z);
    }

    #[test]
    fn derived_seeds_differ_by_label_and_replay() {
        assert_eq!(derive_seed(1, "dtls"), derive_seed(1, "dtls"));
        assert_ne!(derive_seed(1, "dtls"), derive_seed(1, "ice"));
        assert_ne!(derive_seed(1, "dtls"), derive_seed(2, "dtls"));
        let mut a = SeededRng::derived(9, "sctp");
        let mut b = SeededRng::derived(9, "sctp");
        assert_eq!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn trait_and_inherent_draw_the_same_stream() {
        let mut a = SeededRng::new(3);
        let mut b = SeededRng::new(3);
        let mut x = [0u8; 19];
        let mut y = [0u8; 19];
        Rng::fill(&mut a, &mut x).unwrap();
        b.fill_bytes(&mut y);
        assert_eq!(x, y);
    }

    #[test]
    fn floats_are_in_unit_interval_and_spread() {
        let mut r = SeededRng::new(1);
        let mut below_half = 0;
        for _ in 0..10_000 {
            let f = r.next_f64();
            assert!((0.0..1.0).contains(&f));
            if f < 0.5 {
                below_half += 1;
            }
        }
        assert!((4_700..5_300).contains(&below_half), "{below_half}");
    }
}
