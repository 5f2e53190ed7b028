//! Received messages into the arena. A message complete in one chunk is copied there when
//! it will be delivered at once. The fragments of a DATA message that arrive in sequence,
//! one after the other, as they do on a path without loss, are appended to the arena's
//! current block (moved once to a block with room for 64 KiB if it fills) and the message
//! is split from it at its last fragment: no buffer per fragment and none per message.
//! Anything else (a gap, another message's chunk, a FORWARD TSN, a reset, a message over
//! 64 KiB, the arena given back) first turns what was assembled into ordinary fragments,
//! which the general path then completes.

use bytes::Bytes;

use super::{Fragment, Message, Receiver};
use crate::association::arena;
use crate::wire::data_flags::{BEGIN, END, UNORDERED};
use crate::wire::Data;

/// Most fragments assembled in the arena (64 KiB in fragments of 256 bytes; real peers
/// send ~1150): caps the list of their lengths.
const MAX_PIECES: usize = 256;

/// A DATA message being assembled in the arena's current block.
pub(super) struct Assembly {
    /// TSN of its first fragment.
    start: u64,
    /// TSN its next fragment must have.
    next: u64,
    stream: u16,
    ssn: u16,
    ppid: u32,
    /// Flags of the first fragment (BEGIN, and UNORDERED if so).
    flags: u8,
}

/// What [`Receiver::assemble`] did with a fragment.
pub(super) enum Assembled {
    /// Taken (appended; the message delivered if it was the last fragment).
    Taken,
    /// Not for the fast path: store it as an ordinary fragment.
    No,
}

impl Receiver {
    /// The bytes of a message complete in one chunk: copied into the arena when it will
    /// be delivered at once (unordered, or next in its stream's sequence: `ssn` for DATA,
    /// `mid` for I-DATA), into a buffer of its own when it will be held. DCEP messages
    /// (PPID 50: a channel opened) stay out of the arena, so that a connection which only
    /// opened channels holds no block.
    pub(super) fn message_bytes(
        &mut self,
        stream: u16,
        ppid: u32,
        unordered: bool,
        ssn: Option<u16>,
        mid: Option<u32>,
        payload: &[u8],
    ) -> Bytes {
        let s = self.streams.get(&stream);
        let now = unordered
            || ssn.is_some_and(|n| n == s.map_or(0, |s| s.next_ssn))
            || mid.is_some_and(|n| n == s.map_or(0, |s| s.next_mid));
        if now && ppid != crate::ppid::DCEP && payload.len() <= arena::MAX_BLOCK {
            self.arena.copy(payload)
        } else {
            Bytes::copy_from_slice(payload)
        }
    }

    /// Whether DATA chunk `d` (TSN `t`) continues the message being assembled.
    fn continues(&self, t: u64, d: &Data<'_>) -> bool {
        self.assembly.as_ref().is_some_and(|a| {
            t == a.next
                && d.stream == a.stream
                && d.flags & BEGIN == 0
                && (d.flags & UNORDERED) == (a.flags & UNORDERED)
                && (a.flags & UNORDERED != 0 || d.ssn == a.ssn)
        })
    }

    /// Called for every admitted DATA chunk before it is stored: ends the assembly unless
    /// `d` continues it.
    pub(super) fn before_chunk(&mut self, t: u64, d: &Data<'_>) {
        if self.assembly.is_some() && !self.continues(t, d) {
            self.flush_assembly();
        }
    }

    /// A fragment of a message (not BEGIN and END both; its bytes already counted in
    /// `buffered` and `partial`), `in_order` at the cumulative TSN: appended to the
    /// message being assembled, or starting one when it is a first fragment of a message
    /// that will be delivered at once.
    pub(super) fn assemble(&mut self, t: u64, d: &Data<'_>, in_order: bool) -> Assembled {
        if self.continues(t, d) {
            if self.assembly_lens.len() >= MAX_PIECES || !self.arena.append(d.payload) {
                // Over 64 KiB, or in pieces smaller than any real peer's: the general
                // path goes on.
                self.flush_assembly();
                return Assembled::No;
            }
            self.assembly_lens.push(d.payload.len());
            let Some(a) = self.assembly.as_mut() else {
                return Assembled::No;
            };
            a.next = t + 1;
            if d.flags & END != 0 {
                self.finish_assembly();
            }
            return Assembled::Taken;
        }
        let unordered = d.flags & UNORDERED != 0;
        let key = (d.stream, (!unordered).then_some(d.ssn));
        let starts = in_order
            && d.flags & (BEGIN | END) == BEGIN
            && d.ppid != crate::ppid::DCEP
            && self.partial.get(&key) == Some(&d.payload.len())
            && (unordered || self.streams.get(&d.stream).map_or(0, |s| s.next_ssn) == d.ssn);
        if !starts || !self.arena.start_assembly(d.payload.len()) || !self.arena.append(d.payload) {
            return Assembled::No;
        }
        self.assembly_lens.clear();
        self.assembly_lens.push(d.payload.len());
        self.assembly = Some(Assembly {
            start: t,
            next: t + 1,
            stream: d.stream,
            ssn: d.ssn,
            ppid: d.ppid,
            flags: d.flags & (BEGIN | UNORDERED),
        });
        Assembled::Taken
    }

    fn finish_assembly(&mut self) {
        let Some(a) = self.assembly.take() else {
            return;
        };
        let data = self.arena.finish();
        let unordered = a.flags & UNORDERED != 0;
        let key = (a.stream, (!unordered).then_some(a.ssn));
        if let Some(p) = self.partial.get_mut(&key) {
            *p = p.saturating_sub(data.len());
            if *p == 0 {
                self.partial.remove(&key);
            }
        }
        self.complete(
            Message {
                stream: a.stream,
                ppid: a.ppid,
                unordered,
                data,
            },
            a.ssn,
        );
    }

    /// Gives the arena's blocks back (a message being assembled becomes fragments first).
    pub(crate) fn release_arena(&mut self) {
        self.flush_assembly();
        self.arena.release();
        self.assembly_lens = Vec::new();
    }

    /// Turns what was assembled into ordinary fragments (their bytes stay counted).
    pub(super) fn flush_assembly(&mut self) {
        let Some(a) = self.assembly.take() else {
            return;
        };
        let data = self.arena.take_partial();
        let mut at = 0usize;
        for (tsn, &len) in (a.start..).zip(&self.assembly_lens) {
            let Some(piece) = data.get(at..at + len) else {
                break;
            };
            let flags = if tsn == a.start {
                a.flags
            } else {
                a.flags & UNORDERED
            };
            self.fragments.insert(
                tsn,
                Fragment {
                    stream: a.stream,
                    ssn: a.ssn,
                    ppid: a.ppid,
                    flags,
                    data: piece.to_vec(),
                },
            );
            at += len;
        }
        self.assembly_lens.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(tsn: u32, ssn: u16, flags: u8, payload: &[u8]) -> Data<'_> {
        Data {
            flags,
            tsn,
            stream: 1,
            ssn,
            ppid: 53,
            payload,
        }
    }

    fn message(r: &mut Receiver) -> Option<Vec<u8>> {
        r.delivered.pop_front().map(|m| m.data.to_vec())
    }

    #[test]
    fn in_order_fragments_are_assembled_in_the_arena() {
        let mut r = Receiver::new(10, 1 << 20, 1 << 18, 10);
        for ssn in 0..50u16 {
            let t = 10 + u32::from(ssn) * 3;
            let [a, b] = ssn.to_be_bytes();
            r.accept(&frag(t, ssn, BEGIN, &[a; 1000]));
            assert!(r.assembly.is_some());
            r.accept(&frag(t + 1, ssn, 0, &[b; 1000]));
            r.accept(&frag(t + 2, ssn, END, &[7; 10]));
            let want = [vec![a; 1000], vec![b; 1000], vec![7; 10]].concat();
            assert_eq!(message(&mut r), Some(want), "message {ssn}");
            assert!(r.fragments.is_empty() && r.partial.is_empty());
        }
        // One block, taken back for every message once the previous was dropped.
        assert_eq!(r.arena.blocks_allocated, 1);
    }

    #[test]
    fn a_gap_a_release_or_a_full_block_hand_over_to_the_general_path() {
        // A gap: the END arrives before the middle.
        let mut r = Receiver::new(1, 1 << 20, 1 << 18, 10);
        r.accept(&frag(1, 0, BEGIN, b"ab"));
        r.accept(&frag(3, 0, END, b"ef"));
        assert!(r.assembly.is_none() && message(&mut r).is_none());
        r.accept(&frag(2, 0, 0, b"cd"));
        assert_eq!(message(&mut r), Some(b"abcdef".to_vec()));
        // The arena given back while a message is being assembled.
        r.accept(&frag(4, 1, BEGIN, b"gh"));
        r.release_arena();
        r.accept(&frag(5, 1, END, b"ij"));
        assert_eq!(message(&mut r), Some(b"ghij".to_vec()));
        // Over 64 KiB: the block fills, the rest goes the general way.
        let piece = [5u8; 1000];
        let mut t = 6;
        r.accept(&frag(t, 2, BEGIN, &piece));
        for _ in 0..99 {
            t += 1;
            r.accept(&frag(t, 2, 0, &piece));
        }
        r.accept(&frag(t + 1, 2, END, &piece));
        assert_eq!(message(&mut r), Some(vec![5; 101_000]));
        assert!(r.fragments.is_empty() && r.partial.is_empty() && r.assembly.is_none());
        assert_eq!(r.buffered(), 6 + 4 + 101_000);
    }

    #[test]
    fn tiny_fragments_leave_the_arena_past_the_cap() {
        let mut r = Receiver::new(1, 1 << 20, 1 << 18, 10);
        let n = 3 * MAX_PIECES as u32;
        r.accept(&frag(1, 0, BEGIN, &[0]));
        for t in 2..n {
            r.accept(&frag(t, 0, 0, &[(t % 251) as u8]));
        }
        r.accept(&frag(n, 0, END, &[(n % 251) as u8]));
        let want: Vec<u8> = (1..=n)
            .map(|t| if t == 1 { 0 } else { (t % 251) as u8 })
            .collect();
        assert_eq!(message(&mut r), Some(want));
        assert!(r.assembly_lens.capacity() <= MAX_PIECES);
    }
}
