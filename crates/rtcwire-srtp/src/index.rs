//! SRTP packet index estimation (RFC 3711 §3.3.1, Appendix A).
//!
//! The 48-bit index is `ROC · 2^16 + SEQ`. Only SEQ is on the wire; the rollover counter
//! (ROC) is guessed from the highest index seen so far (`ROC`, `s_l`): a sequence number
//! more than half the space behind `s_l` belongs to the next roll, one more than half the
//! space ahead of it to the previous roll.

/// One past the largest SRTP index (2^48).
pub(crate) const SRTP_INDEX_LIMIT: u64 = 1 << 48;
/// One past the largest SRTCP index (2^31).
pub(crate) const SRTCP_INDEX_LIMIT: u32 = 1 << 31;

const HALF: u16 = 1 << 15;

/// The index of sequence number `seq`, given `highest`, the highest index seen on the
/// stream.
///
/// In roll 0 there is no previous roll to fall back to, so a sequence number more than half
/// the space ahead is taken as ahead (as libsrtp does), not as "roll −1".
///
/// The result may reach [`SRTP_INDEX_LIMIT`] when the ROC would wrap; callers refuse it.
#[inline]
pub(crate) fn estimate(highest: u64, seq: u16) -> u64 {
    let roc = highest >> 16;
    let s_l = highest as u16;
    let v = if s_l < HALF {
        // seq is far *ahead* only numerically: it wrapped back from the previous roll.
        if seq > s_l && seq - s_l > HALF {
            roc.saturating_sub(1)
        } else {
            roc
        }
    } else if s_l - HALF > seq {
        roc + 1
    } else {
        roc
    };
    (v << 16) | u64::from(seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_roll() {
        assert_eq!(estimate(100, 101), 101);
        assert_eq!(estimate(100, 50), 50);
        assert_eq!(estimate(0x1_8000, 0x8001), 0x1_8001);
    }

    #[test]
    fn wrap_forward_and_back() {
        // Highest is 65535 of roll 0: seq 0..=32766 belong to roll 1.
        assert_eq!(estimate(0xffff, 0), 0x1_0000);
        assert_eq!(estimate(0xffff, 0x7ffe), 0x1_7ffe);
        assert_eq!(estimate(0xffff, 0x7fff), 0x7fff);
        // Highest is 3 of roll 1: 65530 is a late packet of roll 0.
        assert_eq!(estimate(0x1_0003, 65530), 65530);
        assert_eq!(estimate(0x1_0003, 0x8003), 0x1_8003);
        assert_eq!(estimate(0x1_0003, 0x8004), 0x8004);
    }

    #[test]
    fn before_the_first_roll() {
        assert_eq!(estimate(3, 0x8004), 0x8004);
        assert_eq!(estimate(3, 0x8003), 0x8003);
    }

    #[test]
    fn last_roll() {
        let top = SRTP_INDEX_LIMIT - 1;
        assert_eq!(estimate(top, 0), SRTP_INDEX_LIMIT);
    }
}
