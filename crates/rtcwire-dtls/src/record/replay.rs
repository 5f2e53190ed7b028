//! The anti-replay sliding window of RFC 6347 §4.1.2.6 (RFC 4303 §3.4.3 style).

/// Width of the window in records.
pub const WINDOW: u64 = 64;

/// Tracks which recent sequence numbers of one epoch were already accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayWindow {
    /// Highest sequence number accepted; meaningful once `any` is set.
    top: u64,
    /// Bit `i` set: `top - i` was accepted.
    bits: u64,
    any: bool,
}

impl ReplayWindow {
    /// An empty window.
    #[must_use]
    pub fn new() -> Self {
        ReplayWindow::default()
    }

    /// Whether `seq` may be accepted: newer than the window, or inside it and not seen.
    /// Call before authenticating; call [`ReplayWindow::mark`] only after.
    #[must_use]
    pub fn check(&self, seq: u64) -> bool {
        if !self.any || seq > self.top {
            return true;
        }
        let age = self.top - seq;
        age < WINDOW && self.bits & (1 << age) == 0
    }

    /// Records `seq` as accepted.
    pub fn mark(&mut self, seq: u64) {
        if !self.any {
            self.any = true;
            self.top = seq;
            self.bits = 1;
        } else if seq > self.top {
            let shift = seq - self.top;
            self.bits = if shift >= WINDOW {
                0
            } else {
                self.bits << shift
            };
            self.bits |= 1;
            self.top = seq;
        } else {
            let age = self.top - seq;
            if age < WINDOW {
                self.bits |= 1 << age;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn duplicates_and_too_old_are_refused() {
        let mut w = ReplayWindow::new();
        assert!(w.check(5));
        w.mark(5);
        assert!(!w.check(5));
        assert!(w.check(3));
        w.mark(3);
        assert!(!w.check(3));
        w.mark(100);
        assert!(!w.check(36), "older than the window");
        assert!(w.check(37));
        assert!(!w.check(100));
        assert!(w.check(101));
    }

    proptest! {
        /// Every sequence number is accepted at most once, and a fresh number within the
        /// window is always accepted.
        #[test]
        fn at_most_once(seqs in proptest::collection::vec(0u64..300, 0..400)) {
            let mut w = ReplayWindow::new();
            let mut accepted = std::collections::HashSet::new();
            let mut top: Option<u64> = None;
            for s in seqs {
                let ok = w.check(s);
                if ok {
                    prop_assert!(accepted.insert(s), "{} accepted twice", s);
                    w.mark(s);
                    top = Some(top.map_or(s, |t| t.max(s)));
                } else {
                    let t = top.unwrap_or(0);
                    prop_assert!(accepted.contains(&s) || t - s >= WINDOW);
                }
            }
        }
    }
}
