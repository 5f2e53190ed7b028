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
    slots: VecDeque<Option<(u16, Instant, T)>>,
    next: Option<u64>,
    stored: usize,
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
            slots: VecDeque::new(),
            next: None,
            stored: 0,
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
        (self.depth * 4).max(1024)
    }

    /// Packets waiting.
    pub fn len(&self) -> usize {
        self.stored
    }

    /// Whether no packet is waiting.
    pub fn is_empty(&self) -> bool {
        self.stored == 0
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
            let back = (next - s) as usize;
            if self.released || back + self.slots.len() >= self.max_span() {
                return Pushed::TooLate;
            }
            for _ in 0..back {
                self.slots.push_front(None);
            }
            next = s;
            self.next = Some(s);
        }
        let off = (s - next) as usize;
        let mut outcome = Pushed::Stored;
        let off = if off >= self.max_span() {
            self.slots.clear();
            self.stored = 0;
            self.next = Some(s);
            outcome = Pushed::Restarted;
            0
        } else {
            off
        };
        if self.slots.len() <= off {
            self.slots.resize_with(off + 1, || None);
        }
        match self.slots.get_mut(off) {
            Some(slot @ None) => {
                *slot = Some((seq, now, item));
                self.stored += 1;
                outcome
            }
            _ => Pushed::Duplicate,
        }
    }

    /// The next packet in order, if it may be released at `now`.
    pub fn pop(&mut self, now: Instant) -> Option<(u16, T)> {
        if self.stored == 0 {
            return None;
        }
        if matches!(self.slots.front(), Some(None)) {
            let waited_out = self.max_delay.is_some_and(|max| {
                self.slots
                    .iter()
                    .flatten()
                    .next()
                    .is_some_and(|(_, at, _)| now.saturating_duration_since(*at) >= max)
            });
            if self.stored <= self.depth && !waited_out {
                return None;
            }
            // Declare the gap lost. Bounded by the span, and stops at a stored packet.
            while let Some(None) = self.slots.front() {
                self.slots.pop_front();
                self.lost += 1;
                self.next = self.next.map(|n| n + 1);
            }
        }
        let (seq, _, item) = self.slots.pop_front()??;
        self.stored -= 1;
        self.released = true;
        self.next = self.next.map(|n| n + 1);
        Some((seq, item))
    }
}
