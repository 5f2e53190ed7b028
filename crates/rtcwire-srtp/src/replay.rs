//! Sliding replay window (RFC 3711 §3.3.2), as a ring of bits indexed by packet index.
//!
//! Bit `i mod capacity` says whether index `i` was accepted; only indices within `size` of
//! the highest accepted one are eligible. Advancing clears the bits the window slides over,
//! so the usual case (the next index) costs one bit clear and one bit set, whatever the size.

/// Largest configurable window, in packets.
pub(crate) const MAX_WINDOW: usize = 1 << 15;

/// Replay state of one stream.
#[derive(Debug, Clone)]
pub(crate) struct ReplayWindow {
    /// Highest index accepted so far; `None` before the first packet.
    top: Option<u64>,
    /// Window size in packets (1..=MAX_WINDOW).
    size: u64,
    /// `capacity` = 64 · words ≥ size bits.
    bits: Box<[u64]>,
}

/// Why [`ReplayWindow::check`] refused an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Already accepted.
    Duplicate,
    /// Behind the window.
    TooOld,
}

impl ReplayWindow {
    /// A window of `size` packets; `size` is clamped to `1..=MAX_WINDOW`.
    pub(crate) fn new(size: usize) -> Self {
        let size = size.clamp(1, MAX_WINDOW);
        ReplayWindow {
            top: None,
            size: size as u64,
            bits: vec![0u64; size.div_ceil(64)].into_boxed_slice(),
        }
    }

    fn capacity(&self) -> u64 {
        self.bits.len() as u64 * 64
    }

    fn slot(&self, index: u64) -> (usize, u64) {
        let bit = index % self.capacity();
        ((bit / 64) as usize, 1u64 << (bit % 64))
    }

    fn get(&self, index: u64) -> bool {
        let (w, m) = self.slot(index);
        self.bits.get(w).is_some_and(|word| word & m != 0)
    }

    fn set(&mut self, index: u64, on: bool) {
        let (w, m) = self.slot(index);
        if let Some(word) = self.bits.get_mut(w) {
            if on {
                *word |= m;
            } else {
                *word &= !m;
            }
        }
    }

    /// The highest index accepted so far.
    pub(crate) fn top(&self) -> Option<u64> {
        self.top
    }

    /// Whether `index` may be accepted. Changes nothing.
    #[inline]
    pub(crate) fn check(&self, index: u64) -> Result<(), Refusal> {
        let Some(top) = self.top else { return Ok(()) };
        if index > top {
            return Ok(());
        }
        if top - index >= self.size {
            return Err(Refusal::TooOld);
        }
        if self.get(index) {
            return Err(Refusal::Duplicate);
        }
        Ok(())
    }

    /// Records `index` as received (call only after [`check`](Self::check) passed and the
    /// packet authenticated).
    #[inline]
    pub(crate) fn accept(&mut self, index: u64) {
        match self.top {
            Some(top) if index <= top => {}
            Some(top) => {
                let advance = index - top;
                if advance >= self.capacity() {
                    self.bits.fill(0);
                } else {
                    // Clear the slots of the skipped indices, whole words where aligned:
                    // at most capacity / 64 + 126 steps.
                    let mut i = top + 1;
                    while i < index {
                        if i % 64 == 0 && index - i >= 64 {
                            let (w, _) = self.slot(i);
                            if let Some(word) = self.bits.get_mut(w) {
                                *word = 0;
                            }
                            i += 64;
                        } else {
                            self.set(i, false);
                            i += 1;
                        }
                    }
                }
                self.top = Some(index);
            }
            None => self.top = Some(index),
        }
        self.set(index, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_of_the_window() {
        for size in [1usize, 64, 100, 1024] {
            let mut w = ReplayWindow::new(size);
            let top = 5000u64;
            w.accept(top);
            assert_eq!(w.check(top), Err(Refusal::Duplicate), "size {size}");
            // The oldest index still inside the window, and the first one outside.
            let oldest = top + 1 - size as u64;
            if size > 1 {
                assert_eq!(w.check(oldest), Ok(()), "size {size}");
                w.accept(oldest);
                assert_eq!(w.check(oldest), Err(Refusal::Duplicate));
                assert_eq!(w.top(), Some(top), "late packet leaves top alone");
            }
            assert_eq!(w.check(oldest - 1), Err(Refusal::TooOld), "size {size}");
            assert_eq!(w.check(top + 1), Ok(()));
        }
    }

    #[test]
    fn sliding_clears_reused_slots() {
        let mut w = ReplayWindow::new(64);
        for i in 0..64 {
            w.accept(i);
        }
        // Index 64 + 3 reuses slot 3 (capacity 64): it must be fresh, and 3 now too old.
        assert_eq!(w.check(67), Ok(()));
        w.accept(67);
        assert_eq!(w.check(3), Err(Refusal::TooOld));
        // 64, 65, 66 were skipped: still acceptable once.
        for i in 64..67 {
            assert_eq!(w.check(i), Ok(()));
            w.accept(i);
            assert_eq!(w.check(i), Err(Refusal::Duplicate));
        }
        // A jump farther than the capacity wipes everything.
        w.accept(10_000);
        assert_eq!(w.check(10_000 - 63), Ok(()));
        assert_eq!(w.check(10_000 - 64), Err(Refusal::TooOld));
    }

    /// Against a plain set: random advances and late arrivals, several window sizes.
    #[test]
    fn agrees_with_a_naive_model() {
        use std::collections::BTreeSet;
        let mut x: u64 = 0x9e37_79b9;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for size in [1usize, 63, 64, 65, 200, 1024] {
            let mut w = ReplayWindow::new(size);
            let mut seen = BTreeSet::new();
            let mut top = 0u64;
            for _ in 0..20_000 {
                let r = next();
                let index = if r % 3 == 0 {
                    top + r % 300 // ahead, sometimes by more than the window
                } else {
                    top.saturating_sub(r % (size as u64 + 20)) // late, sometimes too late
                };
                let model = if seen.is_empty() || index > top {
                    Ok(())
                } else if top - index >= size as u64 {
                    Err(Refusal::TooOld)
                } else if seen.contains(&index) {
                    Err(Refusal::Duplicate)
                } else {
                    Ok(())
                };
                assert_eq!(w.check(index), model, "size {size} index {index} top {top}");
                if model.is_ok() {
                    w.accept(index);
                    seen.insert(index);
                    top = top.max(index);
                }
            }
        }
    }

    #[test]
    fn first_packet_is_accepted_anywhere() {
        let w = ReplayWindow::new(64);
        assert_eq!(w.check(0), Ok(()));
        assert_eq!(w.check(u64::MAX >> 16), Ok(()));
        assert_eq!(w.top(), None);
    }
}
