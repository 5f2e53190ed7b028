//! The sending half: the bounded send queue (per-stream FIFOs served round robin at message
//! boundaries, buffered amounts and their low-water marks) and the outstanding queue of
//! DATA chunks in flight (acknowledgement, retransmission marks, PR-SCTP abandonment); the
//! association's sending calls.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use bytes::Bytes;

use super::{arena, later, State};
use crate::wire::data_flags::{BEGIN, END, UNORDERED};
use crate::Error;

/// The application's sending calls.
impl super::Association {
    /// Queues a message. Fails at once (nothing queued) if it is empty, too large, the
    /// buffer is full, the stream is being reset or the association is not up.
    pub fn send(
        &mut self,
        now: Instant,
        stream: u16,
        ppid: u32,
        data: impl Into<Bytes>,
        opts: SendOptions,
    ) -> Result<(), Error> {
        let data = data.into();
        self.check_send(stream, data.len(), &opts)?;
        self.queue.push(stream, ppid, data, &opts, now)
    }

    /// Queues a copy of a message, as [`send`](Self::send). The copy goes into memory the
    /// association reuses once the peer has acknowledged what was there before, so a
    /// steady flow of messages up to 64 KiB allocates nothing.
    pub fn send_slice(
        &mut self,
        now: Instant,
        stream: u16,
        ppid: u32,
        data: &[u8],
        opts: SendOptions,
    ) -> Result<(), Error> {
        self.check_send(stream, data.len(), &opts)?;
        let data = self.tx_arena.copy(data);
        if self.tx_arena.holds() {
            self.arena_idle = Some(later(now, arena::IDLE));
        }
        self.queue.push(stream, ppid, data, &opts, now)
    }

    fn check_send(&mut self, stream: u16, len: usize, opts: &SendOptions) -> Result<(), Error> {
        if !matches!(self.state, State::Established) {
            return Err(Error::NotEstablished);
        }
        if len == 0 {
            return Err(Error::EmptyMessage);
        }
        if len > self.config.remote_max_message_size {
            return Err(Error::MessageTooLarge {
                size: len,
                max: self.config.remote_max_message_size,
            });
        }
        if stream >= self.outbound_streams {
            return Err(Error::InvalidStream(stream));
        }
        let pr = opts.max_retransmits.is_some() || opts.lifetime.is_some();
        if pr && !self.peer_forward_tsn {
            return Err(Error::Unsupported("partial reliability (FORWARD-TSN)"));
        }
        self.has_pr |= pr;
        Ok(())
    }

    /// Bytes queued on `stream` and not yet sent.
    #[must_use]
    pub fn buffered_amount(&self, stream: u16) -> usize {
        self.queue.streams.get(&stream).map_or(0, |s| s.buffered)
    }

    /// Bytes queued on all streams and not yet sent.
    #[must_use]
    pub fn total_buffered_amount(&self) -> usize {
        self.queue.total
    }

    /// Sets the low-water mark of `stream`
    /// ([`Event::BufferedAmountLow`](super::Event::BufferedAmountLow)).
    pub fn set_buffered_amount_low_threshold(&mut self, stream: u16, bytes: usize) {
        if let Some(s) = self.queue.streams.get_mut(&stream) {
            s.low_threshold = bytes;
        } else if bytes > 0 {
            self.queue.streams.entry(stream).or_default().low_threshold = bytes;
        }
    }

    /// Sets the total low-water mark
    /// ([`Event::TotalBufferedAmountLow`](super::Event::TotalBufferedAmountLow)).
    pub fn set_total_buffered_amount_low_threshold(&mut self, bytes: usize) {
        self.queue.total_low_threshold = bytes;
    }
}

/// How a message is to be sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendOptions {
    /// Deliver without regard to the stream's order.
    pub unordered: bool,
    /// PR-SCTP: give up after this many retransmissions (0: send once).
    pub max_retransmits: Option<u32>,
    /// PR-SCTP: give up once the message is this old.
    pub lifetime: Option<std::time::Duration>,
}

pub(crate) struct OutMessage {
    pub(crate) id: u64,
    pub(crate) ppid: u32,
    pub(crate) data: Bytes,
    pub(crate) offset: usize,
    pub(crate) unordered: bool,
    pub(crate) ssn: u16,
    /// I-DATA message identifier and next fragment sequence number.
    pub(crate) mid: u32,
    pub(crate) next_fsn: u32,
    pub(crate) max_retransmits: Option<u32>,
    pub(crate) expires: Option<Instant>,
}

#[derive(Default)]
pub(crate) struct OutStream {
    queue: VecDeque<OutMessage>,
    pub(crate) buffered: usize,
    pub(crate) next_ssn: u16,
    /// I-DATA: next message identifiers, ordered and unordered (RFC 8260 §2.1).
    pub(crate) next_mid: u32,
    pub(crate) next_mid_unordered: u32,
    pub(crate) low_threshold: usize,
    /// A reset was asked for: no new messages until it completes.
    pub(crate) resetting: bool,
}

/// One DATA chunk's worth, taken from the queue.
pub(crate) struct Fragment {
    pub(crate) stream: u16,
    pub(crate) ssn: u16,
    pub(crate) ppid: u32,
    pub(crate) flags: u8,
    pub(crate) data: Bytes,
    pub(crate) msg: u64,
    pub(crate) mid: u32,
    pub(crate) fsn: u32,
    pub(crate) max_retransmits: Option<u32>,
    pub(crate) expires: Option<Instant>,
}

pub(crate) struct SendQueue {
    pub(crate) streams: BTreeMap<u16, OutStream>,
    pub(crate) total: usize,
    /// The stream whose message is partly sent: it must finish before another starts.
    current: Option<u16>,
    /// The stream served last (round robin).
    last: u16,
    next_id: u64,
    pub(crate) total_low_threshold: usize,
    pub(crate) total_limit: usize,
    pub(crate) stream_limit: usize,
    /// Messages dropped by PR-SCTP before any of their bytes were sent.
    pub(crate) abandoned_unsent: u64,
    /// I-DATA in use: fragments of different streams' messages may interleave.
    pub(crate) interleave: bool,
}

/// Low-water crossings caused by a dequeue.
#[derive(Default)]
pub(crate) struct Lows {
    pub(crate) stream: Option<u16>,
    pub(crate) total: bool,
}

impl SendQueue {
    pub(crate) fn new(total_limit: usize, stream_limit: usize, total_low: usize) -> Self {
        SendQueue {
            streams: BTreeMap::new(),
            total: 0,
            current: None,
            last: u16::MAX,
            next_id: 1,
            total_low_threshold: total_low,
            total_limit,
            stream_limit,
            abandoned_unsent: 0,
            interleave: false,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.total == 0 && self.current.is_none()
    }

    pub(crate) fn stream_is_empty(&self, id: u16) -> bool {
        self.streams.get(&id).is_none_or(|s| s.queue.is_empty())
    }

    pub(crate) fn push(
        &mut self,
        stream: u16,
        ppid: u32,
        data: Bytes,
        opts: &SendOptions,
        now: Instant,
    ) -> Result<(), crate::Error> {
        let len = data.len();
        if self.total + len > self.total_limit {
            return Err(crate::Error::BufferFull);
        }
        let s = self.streams.entry(stream).or_default();
        if s.resetting {
            return Err(crate::Error::StreamResetting(stream));
        }
        if s.buffered + len > self.stream_limit {
            return Err(crate::Error::BufferFull);
        }
        s.buffered += len;
        self.total += len;
        let id = self.next_id;
        self.next_id += 1;
        s.queue.push_back(OutMessage {
            id,
            ppid,
            data,
            offset: 0,
            unordered: opts.unordered,
            ssn: 0,
            mid: 0,
            next_fsn: 0,
            max_retransmits: opts.max_retransmits,
            expires: opts.lifetime.and_then(|l| now.checked_add(l)),
        });
        Ok(())
    }

    fn account(&mut self, stream: u16, n: usize, lows: &mut Lows) {
        let before_total = self.total;
        self.total -= n.min(self.total);
        if before_total > self.total_low_threshold && self.total <= self.total_low_threshold {
            lows.total = true;
        }
        if let Some(s) = self.streams.get_mut(&stream) {
            let before = s.buffered;
            s.buffered -= n.min(s.buffered);
            if before > s.low_threshold && s.buffered <= s.low_threshold {
                lows.stream = Some(stream);
            }
        }
    }

    /// Picks the stream to serve next: the one mid-message, else round robin.
    fn pick(&self) -> Option<u16> {
        if let Some(c) = self.current.filter(|_| !self.interleave) {
            return Some(c);
        }
        let nonempty = |(&id, s): (&u16, &OutStream)| (!s.queue.is_empty()).then_some(id);
        let after = self
            .last
            .checked_add(1)
            .and_then(|from| self.streams.range(from..).find_map(nonempty));
        after.or_else(|| self.streams.range(..).find_map(nonempty))
    }

    /// Takes the next fragment of at most `max` bytes (at least 1), dropping messages whose
    /// lifetime ran out before they started. Returns low-water crossings in `lows`.
    pub(crate) fn next(&mut self, max: usize, now: Instant, lows: &mut Lows) -> Option<Fragment> {
        // Bounded: each round either returns or drops one expired message.
        for _ in 0..=self.streams.len() + 64 {
            let id = self.pick()?;
            let s = self.streams.get_mut(&id)?;
            let Some(m) = s.queue.front_mut() else {
                self.current = None;
                continue;
            };
            if m.offset == 0 && m.expires.is_some_and(|e| e <= now) {
                let n = m.data.len();
                s.queue.pop_front();
                self.abandoned_unsent += 1;
                self.account(id, n, lows);
                continue;
            }
            let begin = m.offset == 0;
            if begin && !m.unordered {
                m.ssn = s.next_ssn;
                s.next_ssn = s.next_ssn.wrapping_add(1);
            }
            if begin {
                let counter = if m.unordered {
                    &mut s.next_mid_unordered
                } else {
                    &mut s.next_mid
                };
                m.mid = *counter;
                *counter = counter.wrapping_add(1);
            }
            let fsn = m.next_fsn;
            m.next_fsn = m.next_fsn.wrapping_add(1);
            let n = max.max(1).min(m.data.len() - m.offset);
            let data = m.data.slice(m.offset..m.offset + n);
            m.offset += n;
            let end = m.offset == m.data.len();
            let mut flags = 0;
            if begin {
                flags |= BEGIN;
            }
            if end {
                flags |= END;
            }
            if m.unordered {
                flags |= UNORDERED;
            }
            let frag = Fragment {
                stream: id,
                ssn: if m.unordered { 0 } else { m.ssn },
                ppid: m.ppid,
                flags,
                data,
                msg: m.id,
                mid: m.mid,
                fsn,
                max_retransmits: m.max_retransmits,
                expires: m.expires,
            };
            if end {
                s.queue.pop_front();
                self.current = None;
            } else {
                self.current = Some(id);
            }
            self.last = id;
            self.account(id, n, lows);
            return Some(frag);
        }
        None
    }

    /// PR-SCTP gave up on message `msg` of `stream`: drop its unsent rest if it is partly
    /// sent (at the head of its stream). Returns whether a rest was dropped.
    pub(crate) fn discard_current(&mut self, msg: u64, stream: u16, lows: &mut Lows) -> bool {
        let Some(s) = self.streams.get_mut(&stream) else {
            return false;
        };
        if s.queue.front().is_some_and(|m| m.id == msg && m.offset > 0) {
            if let Some(m) = s.queue.pop_front() {
                let rest = m.data.len() - m.offset;
                if self.current == Some(stream) {
                    self.current = None;
                }
                self.account(stream, rest, lows);
                return true;
            }
        }
        false
    }

    /// The association restarted (RFC 9260 §5.2.4 case A): sequence numbers start again, a
    /// message that was partly sent goes again from its start (its fragments in flight are
    /// gone with the old association), stream resets in progress are forgotten.
    pub(crate) fn restart(&mut self) {
        let mut rewound = 0usize;
        for s in self.streams.values_mut() {
            s.next_ssn = 0;
            s.next_mid = 0;
            s.next_mid_unordered = 0;
            s.resetting = false;
            if let Some(m) = s.queue.front_mut() {
                if m.offset > 0 {
                    s.buffered += m.offset;
                    rewound += m.offset;
                    m.offset = 0;
                    m.next_fsn = 0;
                }
            }
        }
        self.total += rewound;
        self.current = None;
    }

    /// Whether a message is partly sent.
    pub(crate) fn mid_message(&self) -> bool {
        self.current.is_some()
            || self
                .streams
                .values()
                .any(|s| s.queue.front().is_some_and(|m| m.offset > 0))
    }

    /// RFC 6525 SSN/TSN reset: every stream's sequence numbers start again.
    pub(crate) fn reset_all_sequence_numbers(&mut self) {
        for s in self.streams.values_mut() {
            s.next_ssn = 0;
            s.next_mid = 0;
            s.next_mid_unordered = 0;
        }
    }

    /// Size of the next fragment-to-be (for fragmentation decisions).
    pub(crate) fn has_data(&self) -> bool {
        self.total > 0
    }
}

/// A DATA chunk sent and not yet acknowledged cumulatively.
pub(crate) struct Sent {
    pub(crate) tsn: u64,
    pub(crate) stream: u16,
    pub(crate) ssn: u16,
    pub(crate) ppid: u32,
    pub(crate) flags: u8,
    pub(crate) data: Bytes,
    pub(crate) msg: u64,
    pub(crate) mid: u32,
    pub(crate) fsn: u32,
    pub(crate) max_retransmits: Option<u32>,
    pub(crate) expires: Option<Instant>,
    pub(crate) sent_at: Instant,
    pub(crate) transmissions: u32,
    /// Acknowledged by a gap block.
    pub(crate) acked: bool,
    /// Waiting to be sent again.
    pub(crate) retransmit: bool,
    /// Given up (PR-SCTP).
    pub(crate) abandoned: bool,
    /// Counted in the flight size.
    pub(crate) in_flight: bool,
    /// Miss indications (RFC 9260 §7.2.4), for chunks sent once.
    pub(crate) misses: u32,
}

impl Sent {
    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    /// PR-SCTP: whether this chunk's message should be given up rather than resent.
    pub(crate) fn expired(&self, now: Instant) -> bool {
        self.max_retransmits.is_some_and(|m| self.transmissions > m)
            || self.expires.is_some_and(|e| e <= now)
    }
}
