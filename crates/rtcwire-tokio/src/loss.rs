//! Injected loss, for tests only: a share of the RTP and RTCP datagrams of one connection is
//! dropped each way, deterministically from a seed, so NACK and retransmission can be
//! watched against a real peer on a path that loses nothing.

/// Drops a share of a connection's RTP and RTCP datagrams in each direction (first byte
/// 128..=191, RFC 7983), as a lossy link would. **For tests only**: set through
/// [`Config::test_loss`](crate::Config::test_loss), off by default. STUN, DTLS and SCTP
/// datagrams are never dropped, so setup and data channels are unaffected. Which datagrams
/// go follows from `seed` (a separate sequence each way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestLoss {
    /// Datagrams dropped per thousand, each way (at most 1000).
    pub per_mille: u16,
    /// The seed of the drop pattern.
    pub seed: u64,
}

/// One direction's drop decisions (a SplitMix64 sequence) and its count.
#[derive(Debug)]
pub(crate) struct Dropper {
    state: u64,
    per_mille: u64,
    pub(crate) dropped: u64,
    pub(crate) seen: u64,
}

impl Dropper {
    /// The inbound and outbound droppers of `loss`.
    pub(crate) fn pair(loss: TestLoss) -> (Dropper, Dropper) {
        let make = |salt: u64| Dropper {
            state: loss.seed ^ salt,
            per_mille: u64::from(loss.per_mille.min(1000)),
            dropped: 0,
            seen: 0,
        };
        (make(0x6c6f_7373_2d69_6e00), make(0x6c6f_7373_2d6f_7574))
    }

    /// Whether this datagram is to be dropped (only RTP and RTCP ever are).
    pub(crate) fn drops(&mut self, datagram: &[u8]) -> bool {
        if !datagram.first().is_some_and(|b| (128..=191).contains(b)) {
            return false;
        }
        self.seen += 1;
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let drop = z % 1000 < self.per_mille;
        self.dropped += u64::from(drop);
        drop
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_the_share_asked_of_rtp_only_and_replays_from_the_seed() {
        let loss = TestLoss {
            per_mille: 50,
            seed: 7,
        };
        let (mut a, mut b) = Dropper::pair(loss);
        let (mut a2, _) = Dropper::pair(loss);
        let rtp = [0x80u8, 96, 0, 1];
        let pattern: Vec<bool> = (0..10_000).map(|_| a.drops(&rtp)).collect();
        let again: Vec<bool> = (0..10_000).map(|_| a2.drops(&rtp)).collect();
        assert_eq!(pattern, again, "same seed, same drops");
        assert!((400..=600).contains(&a.dropped), "{} of 10000", a.dropped);
        assert_eq!(a.seen, 10_000);
        // The other direction has its own pattern.
        let other: Vec<bool> = (0..10_000).map(|_| b.drops(&rtp)).collect();
        assert_ne!(pattern, other);
        // STUN (0..=3), DTLS (20..=63): never dropped, not counted.
        for first in [0u8, 1, 22, 23, 63] {
            for _ in 0..1000 {
                assert!(!a.drops(&[first, 0, 0, 0]));
            }
        }
        assert!(!a.drops(&[]));
        assert_eq!(a.seen, 10_000);
        let (mut none, _) = Dropper::pair(TestLoss {
            per_mille: 0,
            seed: 1,
        });
        let (mut all, _) = Dropper::pair(TestLoss {
            per_mille: 5000,
            seed: 1,
        });
        for _ in 0..1000 {
            assert!(!none.drops(&rtp));
            assert!(all.drops(&rtp));
        }
    }
}
