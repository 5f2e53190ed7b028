//! A reordering jitter buffer: packets in, packets out in sequence order.

use crate::seq::SeqUnwrapper;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// What happened to a pushed packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pushed {
    /// Stored for release in order.
    Stored,
    /// Already stored or already released: dropped.
    Duplicate,
    /// Older than what was already released (its slot was given up as lost): dropped.
    TooLate,
    /// So far ahead that the stream must have restarted: the buffer was cleared (its
    /// packets dropped) and restarted at this packet.
    Restarted,
}

/// The waiting packets by offset from the next sequence number to release, with their
/// count. Only these methods fill or empty a slot, and each keeps the count equal to the
/// number of filled slots, so the count cannot drift from the storage it describes.
#[derive(Debug)]
struct Slots<T> {
    q: VecDeque<Option<(u16, Instant, T)>>,
    stored: usize,
}

impl<T> Slots<T> {
    fn new() -> Self {
        Slots {
            q: VecDeque::new(),
            stored: 0,
        }
    }

    /// Slots spanned, filled or not.
    fn span(&self) -> usize {
        self.q.len()
    }

    /// Filled slots.
    fn stored(&self) -> usize {
        self.stored
    }

    fn clear(&mut self) {
        self.q.clear();
        self.stored = 0;
    }

    /// Adds `n` empty slots before the first.
    fn open_front(&mut self, n: usize) {
        for _ in 0..n {
            self.q.push_front(None);
        }
    }

    /// Fills slot `off` (growing the span to reach it) unless it is filled already;
    /// returns whether it was filled now.
    fn fill(&mut self, off: usize, item: (u16, Instant, T)) -> bool {
        if self.q.len() <= off {
            self.q.resize_with(off.saturating_add(1), || None);
        }
        match self.q.get_mut(off) {
            Some(slot @ None) => {
                *slot = Some(item);
                self.stored += 1;
                true
            }
            _ => false,
        }
    }

    /// Whether the first slot is a gap (an empty slot).
    fn gap_first(&self) -> bool {
        matches!(self.q.front(), Some(None))
    }

    /// Arrival time of the first filled slot.
    fn oldest_arrival(&self) -> Option<Instant> {
        self.q.iter().flatten().next().map(|(_, at, _)| *at)
    }

    /// Removes the first slot: `None` when there is none, `Some(None)` for a gap.
    fn pop_front(&mut self) -> Option<Option<(u16, Instant, T)>> {
        let slot = self.q.pop_front()?;
        if slot.is_some() {
            // Every filled slot was counted by `fill`.
            self.stored = self.stored.saturating_sub(1);
        }
        Some(slot)
    }
}

/// Reorders packets by sequence number. A missing packet holds back the ones after it
/// until either more than `depth` packets wait behind it or (if set) the oldest waiting
/// packet has waited `max_delay`; then it is declared lost and skipped. Storage grows to
/// the span of waiting packets once and is reused; a forward jump of more than
/// [`JitterBuffer::max_span`] restarts the buffer.
///
/// ```
/// use rtcwire_rtp::jitter::JitterBuffer;
/// # let clock = rtcwire_sim::Sim::new(0);
/// let now = clock.now(); // arrival times come from the driver
/// let mut jb = JitterBuffer::new(2);
/// for seq in [1u16, 3, 2] {
///     jb.push(now, seq, seq);
/// }
/// let out: Vec<u16> = std::iter::from_fn(|| jb.pop(now)).map(|(s, _)| s).collect();
/// assert_eq!(out, [1, 2, 3]);
/// ```
#[derive(Debug)]
pub struct JitterBuffer<T> {
    depth: usize,
    max_delay: Option<Duration>,
    slots: Slots<T>,
    next: Option<u64>,
    unwrapper: SeqUnwrapper,
    lost: u64,
    released: bool,
}

impl<T> JitterBuffer<T> {
    /// A buffer that holds at most `depth` packets behind a gap.
    pub fn new(depth: usize) -> Self {
        JitterBuffer {
            depth: depth.max(1),
            max_delay: None,
            slots: Slots::new(),
            next: None,
            unwrapper: SeqUnwrapper::default(),
            lost: 0,
            released: false,
        }
    }

    /// Also release past a gap once the oldest waiting packet has waited `max_delay`.
    pub fn with_max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = Some(max_delay);
        self
    }

    /// The largest forward jump kept as reordering rather than a restart.
    pub fn max_span(&self) -> usize {
        self.depth.saturating_mul(4).max(1024)
    }

    /// Packets waiting.
    pub fn len(&self) -> usize {
        self.slots.stored()
    }

    /// Whether no packet is waiting.
    pub fn is_empty(&self) -> bool {
        self.slots.stored() == 0
    }

    /// Sequence numbers skipped as lost so far.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Adds a packet that arrived at `now`.
    pub fn push(&mut self, now: Instant, seq: u16, item: T) -> Pushed {
        let s = self.unwrapper.unwrap(seq);
        let mut next = *self.next.get_or_insert(s);
        if s < next {
            // Before anything was released, an earlier packet extends the start.
            let back = usize::try_from(next - s).unwrap_or(usize::MAX);
            if self.released || back.saturating_add(self.slots.span()) >= self.max_span() {
                return Pushed::TooLate;
            }
            self.slots.open_front(back);
            next = s;
            self.next = Some(s);
        }
        let off = usize::try_from(s.saturating_sub(next)).unwrap_or(usize::MAX);
        let mut outcome = Pushed::Stored;
        let off = if off >= self.max_span() {
            self.slots.clear();
            self.next = Some(s);
            outcome = Pushed::Restarted;
            0
        } else {
            off
        };
        if self.slots.fill(off, (seq, now, item)) {
            outcome
        } else {
            Pushed::Duplicate
        }
    }

    /// The next packet in order, if it may be released at `now`.
    pub fn pop(&mut self, now: Instant) -> Option<(u16, T)> {
        if self.slots.stored() == 0 {
            return None;
        }
        if self.slots.gap_first() {
            let waited_out = self.max_delay.is_some_and(|max| {
                self.slots
                    .oldest_arrival()
                    .is_some_and(|at| now.saturating_duration_since(at) >= max)
            });
            if self.slots.stored() <= self.depth && !waited_out {
                return None;
            }
            // Declare the gap lost. Bounded by the span, and stops at a stored packet.
            while self.slots.gap_first() {
                self.slots.pop_front();
                self.lost += 1;
                self.next = self.next.map(|n| n + 1);
            }
        }
        let (seq, _, item) = self.slots.pop_front()??;
        self.released = true;
        self.next = self.next.map(|n| n + 1);
        Some((seq, item))
    }
}
