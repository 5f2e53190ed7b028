//! The receiving half: TSN tracking (cumulative TSN, gap ranges, duplicates), reassembly of
//! fragmented messages, ordered delivery per stream, and the receive window that bounds all
//! of it.

use std::collections::{BTreeMap, HashMap, VecDeque};

use bytes::Bytes;

use super::arena::Arena;
use crate::wire::{Data, GapBlock};

mod assembly;

/// Unwraps a 32-bit serial number next to a 64-bit reference (RFC 1982 arithmetic).
pub(crate) fn unwrap_near(reference: u64, value: u32) -> u64 {
    // Truncation intended: the low 32 bits of the reference.
    let diff = value.wrapping_sub(reference as u32) as i32;
    reference.wrapping_add_signed(i64::from(diff))
}

/// Most gap ranges tracked; data that would need more is dropped (and resent by the peer).
const MAX_RANGES: usize = 4096;
/// Most duplicate TSNs reported in one SACK.
const MAX_DUPS: usize = 32;
/// Most gap blocks put in one SACK.
pub(crate) const MAX_GAP_BLOCKS: usize = 256;
/// How far beyond the cumulative TSN data is accepted.
const MAX_TSN_AHEAD: u64 = 1 << 20;

/// A complete message, delivered to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Stream identifier.
    pub stream: u16,
    /// Payload protocol identifier.
    pub ppid: u32,
    /// Whether it was sent unordered.
    pub unordered: bool,
    /// The user data. A message delivered as it completes is a piece of a block the
    /// association reuses once every message in it has been dropped: keep it as long as
    /// needed, but copy out what is kept for long to let the block go back.
    pub data: Bytes,
}

struct Fragment {
    stream: u16,
    ssn: u16,
    ppid: u32,
    flags: u8,
    data: Vec<u8>,
}

#[derive(Default)]
struct InStream {
    next_ssn: u16,
    /// Complete ordered messages waiting for earlier ones.
    ready: BTreeMap<u16, Message>,
    /// I-DATA: the next ordered message identifier, and complete messages waiting.
    next_mid: u32,
    ready_mid: BTreeMap<u32, Message>,
}

/// An I-DATA message being reassembled, by fragment sequence number.
#[derive(Default)]
struct IMessage {
    ppid: u32,
    last_fsn: Option<u32>,
    fragments: BTreeMap<u32, Vec<u8>>,
    bytes: usize,
}

/// What accepting a DATA chunk did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accept {
    /// New data, in sequence.
    InOrder,
    /// New data beyond a gap (SACK at once).
    OutOfOrder,
    /// Already had it (SACK at once).
    Duplicate,
    /// Dropped for lack of room (not acknowledged: the peer will resend).
    Dropped,
    /// A message grew beyond the local maximum message size: fatal.
    TooLarge,
}

pub(crate) struct Receiver {
    /// Last TSN received in sequence (unwrapped).
    pub(crate) cum: u64,
    /// Received TSNs above `cum + 1`: start → end, inclusive, disjoint, not adjacent.
    ranges: BTreeMap<u64, u64>,
    dups: Vec<u32>,
    fragments: BTreeMap<u64, Fragment>,
    /// Bytes of partial messages per (stream, ordered ssn or unordered).
    partial: HashMap<(u16, Option<u16>), usize>,
    streams: HashMap<u16, InStream>,
    /// I-DATA messages being reassembled, by (stream, unordered, MID).
    imessages: BTreeMap<(u16, bool, u32), IMessage>,
    /// Delivered messages the application has not taken yet.
    pub(crate) delivered: VecDeque<Message>,
    /// Bytes held: fragments, ready messages, delivered-but-not-taken.
    buffered: usize,
    window: usize,
    max_message: usize,
    /// Streams at or above this id are refused.
    pub(crate) inbound_streams: u16,
    pub(crate) dropped_chunks: u64,
    /// Where messages delivered at once are copied (held ones get their own buffer, so
    /// that what the peer makes us hold never pins a block).
    pub(crate) arena: Arena,
    /// A DATA message being reassembled in the arena as its fragments arrive in order.
    assembly: Option<assembly::Assembly>,
    /// Its fragments' lengths (kept, to turn it back into fragments).
    assembly_lens: Vec<usize>,
}

impl Receiver {
    pub(crate) fn new(
        peer_initial_tsn: u32,
        window: usize,
        max_message: usize,
        streams: u16,
    ) -> Self {
        // Unwrapped numbering starts at 2^32 so that cum = initial - 1 never underflows.
        let cum = (1u64 << 32) + u64::from(peer_initial_tsn) - 1;
        Receiver {
            cum,
            ranges: BTreeMap::new(),
            dups: Vec::new(),
            fragments: BTreeMap::new(),
            partial: HashMap::new(),
            streams: HashMap::new(),
            imessages: BTreeMap::new(),
            delivered: VecDeque::new(),
            buffered: 0,
            window,
            max_message,
            inbound_streams: streams,
            dropped_chunks: 0,
            arena: Arena::default(),
            assembly: None,
            assembly_lens: Vec::new(),
        }
    }

    /// RFC 6525 SSN/TSN reset: the peer's next TSN is `next_tsn`; everything received
    /// and not delivered is dropped (as by a FORWARD TSN over all streams) and every
    /// stream's sequence numbers start again. Messages already delivered keep their room
    /// in the window until they are taken.
    pub(crate) fn restart_at(&mut self, next_tsn: u32) {
        self.flush_assembly();
        // What is dropped: fragments, I-DATA messages in reassembly, complete ordered
        // messages held for earlier ones. The rest of `buffered` is delivered messages.
        let dropped: usize = self.fragments.values().map(|f| f.data.len()).sum::<usize>()
            + self.imessages.values().map(|m| m.bytes).sum::<usize>()
            + self
                .streams
                .values()
                .flat_map(|s| s.ready.values().chain(s.ready_mid.values()))
                .map(|m| m.data.len())
                .sum::<usize>();
        let mut fresh = Receiver::new(
            next_tsn,
            self.window,
            self.max_message,
            self.inbound_streams,
        );
        fresh.delivered = std::mem::take(&mut self.delivered);
        fresh.buffered = self.buffered.saturating_sub(dropped);
        fresh.dropped_chunks = self.dropped_chunks;
        fresh.arena = std::mem::take(&mut self.arena);
        *self = fresh;
    }

    pub(crate) fn cum_tsn(&self) -> u32 {
        self.cum as u32
    }

    pub(crate) fn unwrap(&self, tsn: u32) -> u64 {
        unwrap_near(self.cum, tsn)
    }

    /// The advertised receiver window.
    pub(crate) fn a_rwnd(&self) -> u32 {
        u32::try_from(self.window.saturating_sub(self.buffered)).unwrap_or(u32::MAX)
    }

    pub(crate) fn has_gaps(&self) -> bool {
        !self.ranges.is_empty()
    }

    /// The application took a delivered message of `len` bytes.
    pub(crate) fn release(&mut self, len: usize) {
        self.buffered = self.buffered.saturating_sub(len);
    }

    fn has(&self, t: u64) -> bool {
        t <= self.cum
            || self
                .ranges
                .range(..=t)
                .next_back()
                .is_some_and(|(_, &e)| e >= t)
    }

    /// Records TSN `t` (> cum, not yet had) as received; false if the range table is full.
    fn mark(&mut self, t: u64) -> bool {
        if t == self.cum + 1 {
            self.cum = t;
            // Merge a range that now starts right after cum.
            if let Some(e) = self.ranges.remove(&(self.cum + 1)) {
                self.cum = e;
            }
            return true;
        }
        let prev = self.ranges.range(..t).next_back().map(|(&s, &e)| (s, e));
        let next_end = self.ranges.get(&(t + 1)).copied();
        match (prev, next_end) {
            (Some((s, e)), Some(ne)) if e + 1 == t => {
                self.ranges.remove(&(t + 1));
                self.ranges.insert(s, ne);
            }
            (Some((s, e)), _) if e + 1 == t => {
                self.ranges.insert(s, t);
            }
            (_, Some(ne)) => {
                self.ranges.remove(&(t + 1));
                self.ranges.insert(t, ne);
            }
            _ => {
                if self.ranges.len() >= MAX_RANGES {
                    return false;
                }
                self.ranges.insert(t, t);
            }
        }
        true
    }

    /// TSN bookkeeping shared by DATA and I-DATA: duplicates, the window, the gap table.
    /// `Ok(in_order)` when the chunk is new and admitted.
    fn admit(&mut self, tsn: u32, len: usize) -> Result<bool, Accept> {
        let t = self.unwrap(tsn);
        if self.has(t) {
            if self.dups.len() < MAX_DUPS {
                self.dups.push(tsn);
            }
            return Err(Accept::Duplicate);
        }
        if t > self.cum + MAX_TSN_AHEAD {
            self.dropped_chunks += 1;
            return Err(Accept::Dropped);
        }
        let fits = self.buffered + len <= self.window;
        // The chunk that fills the gap at the cumulative TSN may overshoot the window a
        // little, so that a window full of later data can never deadlock.
        let hard_cap = self.window + (self.window / 4).max(64 * 1024);
        if !(fits || t == self.cum + 1 && self.buffered + len <= hard_cap) {
            self.dropped_chunks += 1;
            return Err(Accept::Dropped);
        }
        let in_order = t == self.cum + 1;
        if !self.mark(t) {
            self.dropped_chunks += 1;
            return Err(Accept::Dropped);
        }
        Ok(in_order)
    }

    /// Takes one DATA chunk.
    pub(crate) fn accept(&mut self, d: &Data<'_>) -> Accept {
        let t = self.unwrap(d.tsn);
        let len = d.payload.len();
        let in_order = match self.admit(d.tsn, len) {
            Ok(i) => i,
            Err(a) => return a,
        };
        self.before_chunk(t, d);
        if d.stream >= self.inbound_streams {
            // Acknowledged (the TSN is consumed) but not delivered.
            self.dropped_chunks += 1;
            return if in_order {
                Accept::InOrder
            } else {
                Accept::OutOfOrder
            };
        }
        let unordered = d.is_unordered();
        if d.is_begin() && d.is_end() {
            self.buffered += len;
            let data =
                self.message_bytes(d.stream, d.ppid, unordered, Some(d.ssn), None, d.payload);
            self.complete(
                Message {
                    stream: d.stream,
                    ppid: d.ppid,
                    unordered,
                    data,
                },
                d.ssn,
            );
        } else {
            let key = (d.stream, (!unordered).then_some(d.ssn));
            let p = self.partial.entry(key).or_insert(0);
            *p += len;
            if *p > self.max_message {
                return Accept::TooLarge;
            }
            self.buffered += len;
            if let assembly::Assembled::Taken = self.assemble(t, d, in_order) {
                return if in_order {
                    Accept::InOrder
                } else {
                    Accept::OutOfOrder
                };
            }
            self.fragments.insert(
                t,
                Fragment {
                    stream: d.stream,
                    ssn: d.ssn,
                    ppid: d.ppid,
                    flags: d.flags,
                    data: d.payload.to_vec(),
                },
            );
            if self.try_reassemble(t) == Some(false) {
                return Accept::TooLarge;
            }
        }
        if in_order {
            Accept::InOrder
        } else {
            Accept::OutOfOrder
        }
    }

    /// Takes one I-DATA chunk (RFC 8260): fragments are keyed by stream, ordering and
    /// message identifier, so messages of different streams may interleave.
    pub(crate) fn accept_idata(&mut self, d: &crate::wire::IData<'_>) -> Accept {
        use crate::wire::data_flags::{BEGIN, END, UNORDERED};
        let len = d.payload.len();
        let in_order = match self.admit(d.tsn, len) {
            Ok(i) => i,
            Err(a) => return a,
        };
        let result = if in_order {
            Accept::InOrder
        } else {
            Accept::OutOfOrder
        };
        if d.stream >= self.inbound_streams {
            self.dropped_chunks += 1;
            return result;
        }
        let unordered = d.flags & UNORDERED != 0;
        if !unordered {
            // An ordered message the stream has already moved past (skipped by
            // I-FORWARD-TSN): nothing will deliver it.
            let next = self.streams.get(&d.stream).map_or(0, |s| s.next_mid);
            if (d.mid.wrapping_sub(next) as i32) < 0 {
                return result;
            }
        }
        let key = (d.stream, unordered, d.mid);
        if d.flags & (BEGIN | END) == (BEGIN | END) {
            self.buffered += len;
            let data = self.message_bytes(
                d.stream,
                d.ppid_or_fsn,
                unordered,
                None,
                Some(d.mid),
                d.payload,
            );
            self.complete_mid(
                Message {
                    stream: d.stream,
                    ppid: d.ppid_or_fsn,
                    unordered,
                    data,
                },
                d.mid,
            );
            return result;
        }
        let m = self.imessages.entry(key).or_default();
        let fsn = if d.flags & BEGIN != 0 {
            m.ppid = d.ppid_or_fsn;
            0
        } else {
            d.ppid_or_fsn
        };
        if d.flags & END != 0 {
            m.last_fsn = Some(fsn);
        }
        if m.last_fsn.is_some_and(|l| fsn > l) || m.fragments.contains_key(&fsn) {
            return result;
        }
        m.bytes += len;
        if m.bytes > self.max_message {
            return Accept::TooLarge;
        }
        self.buffered += len;
        m.fragments.insert(fsn, d.payload.to_vec());
        let complete = m
            .last_fsn
            .is_some_and(|l| u64::from(l) + 1 == m.fragments.len() as u64);
        if complete {
            if let Some(m) = self.imessages.remove(&key) {
                let mut data = Vec::with_capacity(m.bytes);
                for (_, f) in m.fragments {
                    data.extend_from_slice(&f);
                }
                let data = Bytes::from(data);
                self.complete_mid(
                    Message {
                        stream: d.stream,
                        ppid: m.ppid,
                        unordered,
                        data,
                    },
                    d.mid,
                );
            }
        }
        result
    }

    /// An I-DATA message is whole: deliver it now (unordered, or next by MID) or hold it.
    fn complete_mid(&mut self, m: Message, mid: u32) {
        if m.unordered {
            self.delivered.push_back(m);
            return;
        }
        let s = self.streams.entry(m.stream).or_default();
        if mid == s.next_mid {
            s.next_mid = s.next_mid.wrapping_add(1);
            self.delivered.push_back(m);
            Self::drain_ready_mid(s, &mut self.delivered);
        } else if (mid.wrapping_sub(s.next_mid) as i32) > 0 {
            s.ready_mid.insert(mid, m);
        } else {
            self.buffered = self.buffered.saturating_sub(m.data.len());
        }
    }

    fn drain_ready_mid(s: &mut InStream, out: &mut VecDeque<Message>) {
        while let Some(m) = s.ready_mid.remove(&s.next_mid) {
            s.next_mid = s.next_mid.wrapping_add(1);
            out.push_back(m);
        }
    }

    /// I-FORWARD-TSN (RFC 8260 §2.3): move the cumulative TSN, and drop the named
    /// messages (and, on ordered streams, move the next expected MID past them).
    pub(crate) fn iforward(
        &mut self,
        new_cum: u32,
        entries: impl Iterator<Item = crate::wire::StreamMid>,
    ) {
        // An out-of-date I-FORWARD-TSN (a duplicate, or one overtaken by a stream reset)
        // changes nothing, its entries included (RFC 3758 §3.6).
        let t = self.unwrap(new_cum);
        if t <= self.cum || t > self.cum + MAX_TSN_AHEAD {
            return;
        }
        self.forward(new_cum, std::iter::empty());
        for e in entries.take(usize::from(u16::MAX)) {
            // Partial messages at or before the MID go.
            let doomed: Vec<(u16, bool, u32)> = self
                .imessages
                .range((e.stream, e.unordered, 0)..=(e.stream, e.unordered, u32::MAX))
                .map(|(k, _)| *k)
                .filter(|k| (k.2.wrapping_sub(e.mid) as i32) <= 0)
                .collect();
            for k in doomed {
                if let Some(m) = self.imessages.remove(&k) {
                    self.buffered = self.buffered.saturating_sub(m.bytes);
                }
            }
            if !e.unordered {
                let s = self.streams.entry(e.stream).or_default();
                if (e.mid.wrapping_sub(s.next_mid) as i32) >= 0 {
                    s.next_mid = e.mid.wrapping_add(1);
                    let next = s.next_mid;
                    let stale: Vec<u32> = s
                        .ready_mid
                        .keys()
                        .copied()
                        .filter(|&k| (k.wrapping_sub(next) as i32) < 0)
                        .collect();
                    for k in stale {
                        if let Some(m) = s.ready_mid.remove(&k) {
                            self.buffered = self.buffered.saturating_sub(m.data.len());
                        }
                    }
                    Self::drain_ready_mid(s, &mut self.delivered);
                }
            }
        }
    }

    fn same_message(a: &Fragment, b: &Fragment) -> bool {
        let au = a.flags & crate::wire::data_flags::UNORDERED != 0;
        let bu = b.flags & crate::wire::data_flags::UNORDERED != 0;
        a.stream == b.stream && au == bu && (au || a.ssn == b.ssn)
    }

    /// Looks for a complete message around the fragment at `t`. `Some(false)`: a message
    /// larger than allowed was found.
    fn try_reassemble(&mut self, t: u64) -> Option<bool> {
        use crate::wire::data_flags::{BEGIN, END};
        let me = self.fragments.get(&t)?;
        // Forward to the end fragment.
        let mut end = t;
        let mut f = me;
        while f.flags & END == 0 {
            let n = self.fragments.get(&(end + 1))?;
            if !Self::same_message(f, n) || n.flags & BEGIN != 0 {
                return None;
            }
            end += 1;
            f = n;
        }
        // Backward to the begin fragment.
        let mut begin = t;
        let mut f = self.fragments.get(&t)?;
        while f.flags & BEGIN == 0 {
            let p = self.fragments.get(&(begin - 1))?;
            if !Self::same_message(f, p) || p.flags & END != 0 {
                return None;
            }
            begin -= 1;
            f = p;
        }
        let first = self.fragments.get(&begin)?;
        let (stream, ssn, ppid, flags) = (first.stream, first.ssn, first.ppid, first.flags);
        let unordered = flags & crate::wire::data_flags::UNORDERED != 0;
        let mut size = 0usize;
        for (_, f) in self.fragments.range(begin..=end) {
            size += f.data.len();
        }
        if size > self.max_message {
            return Some(false);
        }
        let mut data = Vec::with_capacity(size);
        let mut tsn = begin;
        while tsn <= end {
            if let Some(f) = self.fragments.remove(&tsn) {
                data.extend_from_slice(&f.data);
            }
            tsn += 1;
        }
        let data = Bytes::from(data);
        let key = (stream, (!unordered).then_some(ssn));
        if let Some(p) = self.partial.get_mut(&key) {
            *p = p.saturating_sub(size);
            if *p == 0 {
                self.partial.remove(&key);
            }
        }
        self.complete(
            Message {
                stream,
                ppid,
                unordered,
                data,
            },
            ssn,
        );
        Some(true)
    }

    /// A message is whole: deliver it now (unordered, or next in sequence) or hold it.
    fn complete(&mut self, m: Message, ssn: u16) {
        if m.unordered {
            self.delivered.push_back(m);
            return;
        }
        let s = self.streams.entry(m.stream).or_default();
        if ssn == s.next_ssn {
            s.next_ssn = s.next_ssn.wrapping_add(1);
            self.delivered.push_back(m);
            Self::drain_ready(s, &mut self.delivered);
        } else if (ssn.wrapping_sub(s.next_ssn) as i16) > 0 {
            s.ready.insert(ssn, m);
        } else {
            // An old sequence number (skipped by FORWARD-TSN): nothing waits for it.
            self.buffered = self.buffered.saturating_sub(m.data.len());
        }
    }

    fn drain_ready(s: &mut InStream, out: &mut VecDeque<Message>) {
        while let Some(m) = s.ready.remove(&s.next_ssn) {
            s.next_ssn = s.next_ssn.wrapping_add(1);
            out.push_back(m);
        }
    }

    /// FORWARD-TSN (RFC 3758 §3.6): move the cumulative TSN, drop what it skips, and let
    /// ordered streams move past the skipped sequence numbers.
    pub(crate) fn forward(&mut self, new_cum: u32, streams: impl Iterator<Item = (u16, u16)>) {
        self.flush_assembly();
        let t = self.unwrap(new_cum);
        if t <= self.cum || t > self.cum + MAX_TSN_AHEAD {
            return;
        }
        self.cum = t;
        // Ranges at or below the new cum disappear; one straddling it is absorbed.
        while let Some((&s, &e)) = self.ranges.iter().next() {
            if s > self.cum + 1 {
                break;
            }
            self.ranges.remove(&s);
            self.cum = self.cum.max(e);
        }
        let keep = self.fragments.split_off(&(t + 1));
        let dropped = std::mem::replace(&mut self.fragments, keep);
        for (_, f) in dropped {
            self.buffered = self.buffered.saturating_sub(f.data.len());
            let unordered = f.flags & crate::wire::data_flags::UNORDERED != 0;
            let key = (f.stream, (!unordered).then_some(f.ssn));
            if let Some(p) = self.partial.get_mut(&key) {
                *p = p.saturating_sub(f.data.len());
                if *p == 0 {
                    self.partial.remove(&key);
                }
            }
        }
        for (stream, ssn) in streams.take(usize::from(u16::MAX)) {
            let s = self.streams.entry(stream).or_default();
            if (ssn.wrapping_sub(s.next_ssn) as i16) >= 0 {
                s.next_ssn = ssn.wrapping_add(1);
                // Messages now behind the sequence are dropped; the rest may be ready.
                let next = s.next_ssn;
                let stale: Vec<u16> = s
                    .ready
                    .keys()
                    .copied()
                    .filter(|&k| (k.wrapping_sub(next) as i16) < 0)
                    .collect();
                for k in stale {
                    if let Some(m) = s.ready.remove(&k) {
                        self.buffered = self.buffered.saturating_sub(m.data.len());
                    }
                }
                Self::drain_ready(s, &mut self.delivered);
            }
        }
    }

    /// RFC 6525 incoming reset: the streams' sequence numbers start again at 0. An empty
    /// list means every stream.
    pub(crate) fn reset_streams(&mut self, streams: &[u16]) {
        self.flush_assembly();
        if streams.is_empty() {
            for s in self.streams.values_mut() {
                s.next_ssn = 0;
                s.next_mid = 0;
            }
            return;
        }
        for id in streams {
            if let Some(s) = self.streams.get_mut(id) {
                s.next_ssn = 0;
                s.next_mid = 0;
            }
        }
    }

    /// Gap blocks for a SACK, relative to the cumulative TSN.
    pub(crate) fn gap_blocks(&self, out: &mut Vec<GapBlock>) {
        out.clear();
        for (&s, &e) in self.ranges.iter().take(MAX_GAP_BLOCKS) {
            let (Ok(start), Ok(end)) = (
                u16::try_from(s.saturating_sub(self.cum)),
                u16::try_from(e.saturating_sub(self.cum)),
            ) else {
                break;
            };
            out.push(GapBlock { start, end });
        }
    }

    /// Takes the duplicate TSNs to report.
    pub(crate) fn take_dups(&mut self, out: &mut Vec<u32>) {
        out.clear();
        out.append(&mut self.dups);
    }

    /// Bytes held for the application and for reassembly.
    #[cfg(test)]
    pub(crate) fn buffered(&self) -> usize {
        self.buffered
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::data_flags::{BEGIN, END, UNORDERED};

    fn data(tsn: u32, stream: u16, ssn: u16, flags: u8, payload: &[u8]) -> Data<'_> {
        Data {
            flags,
            tsn,
            stream,
            ssn,
            ppid: 53,
            payload,
        }
    }

    #[test]
    fn unwrap_crosses_zero() {
        let r = (1u64 << 32) + u64::from(u32::MAX);
        assert_eq!(unwrap_near(r, 0), r + 1);
        assert_eq!(unwrap_near(r, u32::MAX - 1), r - 1);
    }

    #[test]
    fn reassembles_out_of_order_fragments_and_orders_messages() {
        let mut r = Receiver::new(u32::MAX - 1, 1 << 20, 1 << 16, 10);
        // Message ssn 1 (TSNs 2,3 relative) arrives before message ssn 0 (TSN 0..1).
        let b = u32::MAX - 1;
        assert_eq!(
            r.accept(&data(b.wrapping_add(3), 1, 1, END, b"d")),
            Accept::OutOfOrder
        );
        assert_eq!(
            r.accept(&data(b.wrapping_add(2), 1, 1, BEGIN, b"c")),
            Accept::OutOfOrder
        );
        assert!(r.delivered.is_empty());
        assert_eq!(
            r.accept(&data(b.wrapping_add(1), 1, 0, END, b"b")),
            Accept::OutOfOrder
        );
        assert_eq!(r.accept(&data(b, 1, 0, BEGIN, b"a")), Accept::InOrder);
        let got: Vec<_> = r.delivered.iter().map(|m| m.data.clone()).collect();
        assert_eq!(got, vec![b"ab".to_vec(), b"cd".to_vec()]);
        assert!(!r.has_gaps());
        assert_eq!(r.cum_tsn(), b.wrapping_add(3));
        assert_eq!(r.accept(&data(b, 1, 0, BEGIN, b"a")), Accept::Duplicate);
    }

    #[test]
    fn unordered_is_delivered_at_once_and_gaps_reported() {
        let mut r = Receiver::new(100, 1 << 20, 1 << 16, 10);
        r.accept(&data(102, 0, 0, BEGIN | END | UNORDERED, b"x"));
        assert_eq!(r.delivered.len(), 1);
        let mut g = Vec::new();
        r.gap_blocks(&mut g);
        assert_eq!(g, vec![GapBlock { start: 3, end: 3 }]);
    }

    #[test]
    fn oversized_message_is_fatal_and_window_is_enforced() {
        let mut r = Receiver::new(1, 100, 10, 10);
        assert_eq!(r.accept(&data(1, 0, 0, BEGIN, &[0; 8])), Accept::InOrder);
        assert_eq!(r.accept(&data(2, 0, 0, 0, &[0; 8])), Accept::TooLarge);
        let mut r = Receiver::new(1, 10, 1000, 10);
        assert_eq!(r.accept(&data(3, 0, 0, BEGIN, &[0; 8])), Accept::OutOfOrder);
        assert_eq!(r.accept(&data(4, 0, 0, 0, &[0; 8])), Accept::Dropped);
        // The gap filler may overshoot.
        assert_eq!(
            r.accept(&data(1, 0, 1, BEGIN | END, &[0; 8])),
            Accept::InOrder
        );
    }

    #[test]
    fn forward_tsn_skips_and_releases() {
        let mut r = Receiver::new(1, 1 << 20, 1 << 16, 10);
        r.accept(&data(2, 0, 0, BEGIN, b"lost-end"));
        r.accept(&data(4, 0, 1, BEGIN | END, b"next"));
        assert!(r.delivered.is_empty());
        r.forward(3, [(0u16, 0u16)].into_iter());
        assert_eq!(r.delivered.len(), 1);
        assert_eq!(r.delivered[0].data, &b"next"[..]);
        assert_eq!(r.cum_tsn(), 4);
        assert_eq!(r.buffered(), 4);
    }
}
