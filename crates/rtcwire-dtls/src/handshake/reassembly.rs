//! Reassembly of handshake fragments arriving in any order, duplicated or overlapping
//! (RFC 6347 §4.2.3), delivered in `message_seq` order.

use super::{HandshakeHeader, MAX_MESSAGE_LEN};

/// Messages ahead of the next expected one that we buffer.
const MAX_PENDING: usize = 8;
/// Disjoint byte ranges tracked per message before a fragment is dropped instead.
const MAX_RANGES: usize = 32;
/// Largest hello we reassemble. Chromium's post-quantum ClientHello is 1.4 kB.
const MAX_HELLO_LEN: u32 = 8 * 1024;
/// Partial ClientHellos a server keeps before a cookie is verified.
const MAX_PENDING_CLIENT_HELLOS: usize = 2;

#[derive(Debug)]
struct Partial {
    seq: u16,
    msg_type: u8,
    length: u32,
    body: Vec<u8>,
    /// Received byte ranges, sorted, merged, half-open.
    ranges: Vec<(u32, u32)>,
}

impl Partial {
    fn complete(&self) -> bool {
        self.ranges.as_slice() == [(0, self.length)] || (self.length == 0 && self.ranges.len() == 1)
    }

    fn add(&mut self, start: u32, end: u32) -> bool {
        let mut merged = (start, end);
        let mut out = Vec::with_capacity(self.ranges.len() + 1);
        for &(s, e) in &self.ranges {
            if e < merged.0 || s > merged.1 {
                out.push((s, e));
            } else {
                merged = (merged.0.min(s), merged.1.max(e));
            }
        }
        out.push(merged);
        out.sort_unstable();
        if out.len() > MAX_RANGES {
            return false;
        }
        self.ranges = out;
        true
    }
}

/// ClientHello, ServerHello, HelloVerifyRequest: the messages that may start a counter.
const HELLOS: [u8; 3] = [1, 2, 3];
const CLIENT_HELLO: u8 = 1;

/// What happened to a fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Insert {
    /// Buffered (possibly completing a message).
    Accepted,
    /// Belongs to a message already delivered: the peer is retransmitting a flight.
    Old {
        /// Whether the fragment starts at offset 0.
        first: bool,
    },
    /// Inconsistent, too large or too far ahead: dropped.
    Dropped,
}

/// A complete handshake message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Complete {
    pub(crate) msg_type: u8,
    pub(crate) seq: u16,
    pub(crate) body: Vec<u8>,
}

/// In-order reassembly of one direction's handshake messages.
#[derive(Debug, Default)]
pub(crate) struct Reassembler {
    next: u16,
    /// While set, the first complete hello (ClientHello, ServerHello, HelloVerifyRequest) of
    /// any sequence number is delivered and starts the counter (RFC 6347 lets it begin at 0
    /// or 1); other messages wait for it.
    any_seq: bool,
    /// A server before the cookie exchange: only ClientHello fragments are kept, at most
    /// [`MAX_PENDING_CLIENT_HELLOS`] of at most [`MAX_HELLO_LEN`] bytes, and a new one
    /// displaces the oldest, so that junk on the 5-tuple can neither pin memory nor keep
    /// the genuine hello out.
    client_hello_only: bool,
    pending: Vec<Partial>,
}

impl Reassembler {
    pub(crate) fn new() -> Self {
        Reassembler::default()
    }

    /// Accept whichever sequence number completes first (while waiting for a hello).
    pub(crate) fn expect_any(&mut self) {
        self.any_seq = true;
    }

    /// A server waiting for a ClientHello (before and after the cookie exchange).
    pub(crate) fn expect_client_hello(&mut self) {
        self.any_seq = true;
        self.client_hello_only = true;
        self.pending.retain(|p| p.msg_type == CLIENT_HELLO);
    }

    /// Expect `seq` next; forget everything older.
    pub(crate) fn expect(&mut self, seq: u16) {
        self.any_seq = false;
        self.client_hello_only = false;
        self.next = seq;
        self.pending.retain(|p| p.seq >= seq);
    }

    /// Adds one fragment.
    pub(crate) fn insert(&mut self, h: &HandshakeHeader, frag: &[u8]) -> Insert {
        if !self.any_seq && h.message_seq < self.next {
            return Insert::Old {
                first: h.fragment_offset == 0,
            };
        }
        if h.length > MAX_MESSAGE_LEN
            || (!self.any_seq && usize::from(h.message_seq - self.next) >= MAX_PENDING)
            || (self.client_hello_only && h.msg_type != CLIENT_HELLO)
            || (self.any_seq && HELLOS.contains(&h.msg_type) && h.length > MAX_HELLO_LEN)
        {
            return Insert::Dropped;
        }
        let start = h.fragment_offset;
        let end = start.saturating_add(h.fragment_length);
        // While waiting for a hello, a message is known by all of its header, so a forged
        // fragment with the same sequence number cannot block the genuine one.
        let any_seq = self.any_seq;
        let same = |p: &Partial| {
            p.seq == h.message_seq
                && (!any_seq || (p.msg_type == h.msg_type && p.length == h.length))
        };
        let cap = if self.client_hello_only {
            MAX_PENDING_CLIENT_HELLOS
        } else {
            MAX_PENDING
        };
        let idx = match self.pending.iter().position(same) {
            Some(i) => i,
            None => {
                if self.pending.len() >= cap {
                    if !self.any_seq {
                        return Insert::Dropped;
                    }
                    // Newest wins: a flood must outpace every genuine fragment to matter.
                    self.pending.remove(0);
                }
                self.pending.push(Partial {
                    seq: h.message_seq,
                    msg_type: h.msg_type,
                    length: h.length,
                    body: vec![0; h.length as usize],
                    ranges: Vec::new(),
                });
                self.pending.len() - 1
            }
        };
        let Some(p) = self.pending.get_mut(idx) else {
            return Insert::Dropped;
        };
        if p.msg_type != h.msg_type || p.length != h.length {
            return Insert::Dropped;
        }
        let Some(dst) = p.body.get_mut(start as usize..end as usize) else {
            return Insert::Dropped;
        };
        if dst.len() != frag.len() {
            return Insert::Dropped;
        }
        dst.copy_from_slice(frag);
        if !p.add(start, end) {
            return Insert::Dropped;
        }
        Insert::Accepted
    }

    /// Gives back the room of an empty queue (an idle connection keeps none).
    pub(crate) fn shrink(&mut self) {
        if self.pending.is_empty() {
            self.pending = Vec::new();
        }
    }

    /// The next complete message in order, if any.
    pub(crate) fn pop(&mut self) -> Option<Complete> {
        let idx = if self.any_seq {
            self.pending
                .iter()
                .enumerate()
                .filter(|(_, p)| p.complete() && HELLOS.contains(&p.msg_type))
                .min_by_key(|(_, p)| p.seq)
                .map(|(i, _)| i)?
        } else {
            self.pending
                .iter()
                .position(|p| p.seq == self.next && p.complete())?
        };
        let p = self.pending.swap_remove(idx);
        self.any_seq = false;
        self.client_hello_only = false;
        self.next = p.seq.wrapping_add(1);
        self.pending.retain(|q| q.seq >= self.next);
        Some(Complete {
            msg_type: p.msg_type,
            seq: p.seq,
            body: p.body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frag(seq: u16, body: &[u8], off: usize, len: usize) -> (HandshakeHeader, Vec<u8>) {
        (
            HandshakeHeader {
                msg_type: 11,
                length: body.len() as u32,
                message_seq: seq,
                fragment_offset: off as u32,
                fragment_length: len as u32,
            },
            body[off..off + len].to_vec(),
        )
    }

    #[test]
    fn in_order_delivery_and_old_messages() {
        let mut r = Reassembler::new();
        let b1: Vec<u8> = (0..50).collect();
        let b0: Vec<u8> = (100..120).collect();
        let (h, f) = frag(1, &b1, 0, 50);
        assert_eq!(r.insert(&h, &f), Insert::Accepted);
        assert!(r.pop().is_none(), "seq 0 first");
        let (h, f) = frag(0, &b0, 10, 10);
        r.insert(&h, &f);
        let (h, f) = frag(0, &b0, 0, 10);
        r.insert(&h, &f);
        assert_eq!(r.pop().expect("0").body, b0);
        assert_eq!(r.pop().expect("1").body, b1);
        assert_eq!(r.insert(&h, &f), Insert::Old { first: true });
    }

    #[test]
    fn waiting_for_a_hello_holds_back_later_messages() {
        let mut r = Reassembler::new();
        r.expect_any();
        // The ServerKeyExchange (seq 3) arrives complete; the ServerHello (seq 1) was lost.
        let ske = HandshakeHeader {
            msg_type: 12,
            length: 4,
            message_seq: 3,
            fragment_offset: 0,
            fragment_length: 4,
        };
        r.insert(&ske, &[1, 2, 3, 4]);
        assert!(r.pop().is_none());
        let sh = HandshakeHeader {
            msg_type: 2,
            message_seq: 1,
            ..ske
        };
        r.insert(&sh, &[9; 4]);
        assert_eq!(r.pop().expect("hello").seq, 1);
        assert!(r.pop().is_none(), "seq 2 still missing");
    }

    #[test]
    fn before_the_cookie_junk_neither_pins_memory_nor_blocks_the_client_hello() {
        let mut r = Reassembler::new();
        r.expect_client_hello();
        // Eight never-completing 64 KiB fragments of other types: all refused, nothing kept.
        for seq in 0..8u16 {
            let h = HandshakeHeader {
                msg_type: 11,
                length: 65_535,
                message_seq: seq,
                fragment_offset: 0,
                fragment_length: 4,
            };
            assert_eq!(r.insert(&h, &[0; 4]), Insert::Dropped);
        }
        // Never-completing ClientHello fragments with the genuine one's sequence number.
        for len in [1000u32, 1001, 1002] {
            let h = HandshakeHeader {
                msg_type: 1,
                length: len,
                message_seq: 0,
                fragment_offset: 0,
                fragment_length: 4,
            };
            assert_eq!(r.insert(&h, &[0; 4]), Insert::Accepted);
        }
        let kept: usize = r.pending.iter().map(|p| p.body.len()).sum();
        assert!(
            kept <= MAX_PENDING_CLIENT_HELLOS * MAX_HELLO_LEN as usize,
            "{kept}"
        );
        // A huge "ClientHello" is refused outright.
        let huge = HandshakeHeader {
            msg_type: 1,
            length: 60_000,
            message_seq: 0,
            fragment_offset: 0,
            fragment_length: 4,
        };
        assert_eq!(r.insert(&huge, &[0; 4]), Insert::Dropped);
        // The genuine hello, in two fragments, still gets through.
        let body: Vec<u8> = (0..200u32).map(|i| i as u8).collect();
        let mut h = HandshakeHeader {
            msg_type: 1,
            length: 200,
            message_seq: 0,
            fragment_offset: 100,
            fragment_length: 100,
        };
        assert_eq!(r.insert(&h, &body[100..]), Insert::Accepted);
        h.fragment_offset = 0;
        assert_eq!(r.insert(&h, &body[..100]), Insert::Accepted);
        let m = r.pop().expect("the genuine ClientHello");
        assert_eq!((m.msg_type, m.body), (1, body));
    }

    #[test]
    fn inconsistent_fragments_are_dropped() {
        let mut r = Reassembler::new();
        let (h, f) = frag(0, &[1; 10], 0, 5);
        r.insert(&h, &f);
        let mut h2 = h;
        h2.length = 11;
        assert_eq!(r.insert(&h2, &f), Insert::Dropped);
        let far = HandshakeHeader {
            message_seq: 40,
            ..h
        };
        assert_eq!(r.insert(&far, &f), Insert::Dropped);
    }

    proptest! {
        /// Any cover of the message by (possibly overlapping, duplicated, shuffled)
        /// fragments reassembles to the original bytes.
        #[test]
        fn any_order_any_overlap(
            len in 1usize..3000,
            cuts in proptest::collection::vec((0usize..3000, 1usize..700), 1..20),
            seed in any::<u64>(),
        ) {
            let body: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let mut pieces: Vec<(usize, usize)> = cuts
                .into_iter()
                .map(|(o, l)| { let o = o % len; (o, l.min(len - o)) })
                .collect();
            // Make sure the pieces cover everything.
            let mut o = 0;
            while o < len { let l = 500.min(len - o); pieces.push((o, l)); o += l; }
            let mut rng = rtcwire_proto::SeededRng::new(seed);
            for i in (1..pieces.len()).rev() {
                let j = (rng.next_u64() % (i as u64 + 1)) as usize;
                pieces.swap(i, j);
            }
            let mut r = Reassembler::new();
            for (o, l) in pieces {
                let (h, f) = frag(0, &body, o, l);
                prop_assert_ne!(r.insert(&h, &f), Insert::Dropped);
            }
            let m = r.pop().expect("complete");
            prop_assert_eq!(m.body, body);
        }
    }
}
