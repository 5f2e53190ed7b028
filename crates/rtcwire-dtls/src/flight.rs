//! Outgoing flights: fragmentation to the MTU, packing of several records per datagram, and
//! the retransmission timer of RFC 6347 §4.2.4.

use crate::handshake::{HandshakeHeader, HANDSHAKE_HEADER_LEN};
use crate::record::{ContentType, RecordLayer, HEADER_LEN};
use crate::Error;
use std::time::{Duration, Instant};

/// One message of a flight, kept in clear so it can be re-sent with fresh record numbers.
#[derive(Debug, Clone)]
pub(crate) enum Outgoing {
    /// A handshake message body.
    Handshake {
        epoch: u16,
        msg_type: u8,
        seq: u16,
        body: Vec<u8>,
    },
    /// ChangeCipherSpec (always epoch 0).
    ChangeCipherSpec,
}

/// A record layer flights can be written with (DTLS 1.2's, or 1.3's).
pub(crate) trait Sealer {
    /// Bytes a record of `epoch` adds to its content (header, nonce, type, tag).
    fn record_overhead(&self, epoch: u16) -> usize;
    /// Appends one record.
    fn seal_record(
        &mut self,
        epoch: u16,
        content_type: ContentType,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error>;
}

impl Sealer for RecordLayer {
    fn record_overhead(&self, epoch: u16) -> usize {
        HEADER_LEN + self.overhead(epoch)
    }
    fn seal_record(
        &mut self,
        epoch: u16,
        content_type: ContentType,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        self.seal(epoch, content_type, payload, out)
    }
}

impl Sealer for crate::v13::record::RecordLayer13 {
    fn record_overhead(&self, epoch: u16) -> usize {
        crate::v13::record::RecordLayer13::record_overhead(self, epoch)
    }
    fn seal_record(
        &mut self,
        epoch: u16,
        content_type: ContentType,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        self.seal(epoch, content_type.code(), payload, out)
    }
}

/// Smallest handshake fragment worth starting in a datagram's leftover space.
const MIN_FRAGMENT: usize = 16;

/// One handshake fragment sealed into one record: message `msg` of the flight, bytes
/// `start..end` of its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Piece {
    pub(crate) msg: usize,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Serialises `messages` into datagrams of at most `mtu` bytes.
pub(crate) fn emit<R: Sealer>(
    messages: &[Outgoing],
    mtu: usize,
    records: &mut R,
) -> Result<Vec<Vec<u8>>, Error> {
    emit_pieces(messages, None, mtu, records, &mut Vec::new())
}

/// Adds `start..end` to a sorted, merged range list (bounded by the message's length).
pub(crate) fn add_range(ranges: &mut Vec<(usize, usize)>, start: usize, end: usize) {
    let mut merged = (start, end);
    ranges.retain(|&(s, e)| {
        if e < merged.0 || s > merged.1 {
            true
        } else {
            merged = (merged.0.min(s), merged.1.max(e));
            false
        }
    });
    let at = ranges.partition_point(|r| r.0 < merged.0);
    ranges.insert(at, merged);
}

/// Whether the sorted, merged `ranges` hold all of `start..end` (an empty piece: whether
/// anything of its message was acknowledged).
pub(crate) fn holds(ranges: &[(usize, usize)], start: usize, end: usize) -> bool {
    if start == end {
        return !ranges.is_empty();
    }
    ranges.iter().any(|&(s, e)| s <= start && end <= e)
}

/// Whether `ranges` covers a `len`-byte body.
pub(crate) fn covers(ranges: &[(usize, usize)], len: usize) -> bool {
    match ranges {
        [(0, e)] => *e >= len,
        _ => false,
    }
}

/// [`emit`], or, with `only`, exactly those fragments of the flight, with the boundaries
/// they had when first sent (DTLS 1.3 selective retransmission: a peer that buffered some
/// fragments of a message gets the missing ones as they were, never overlapping others).
/// `pieces` receives one entry per handshake record sealed, in order.
pub(crate) fn emit_pieces<R: Sealer>(
    messages: &[Outgoing],
    only: Option<&[Piece]>,
    mtu: usize,
    records: &mut R,
    pieces: &mut Vec<Piece>,
) -> Result<Vec<Vec<u8>>, Error> {
    let mut datagrams = Vec::new();
    let mut cur: Vec<u8> = Vec::with_capacity(mtu);
    let mut plain = Vec::new();
    let mut seal = |cur: &mut Vec<u8>,
                    datagrams: &mut Vec<Vec<u8>>,
                    records: &mut R,
                    m: &Outgoing,
                    piece: Piece|
     -> Result<(), Error> {
        let Outgoing::Handshake {
            epoch,
            msg_type,
            seq,
            body,
        } = m
        else {
            return Ok(());
        };
        let n = piece.end.saturating_sub(piece.start);
        let overhead = records.record_overhead(*epoch) + HANDSHAKE_HEADER_LEN;
        if cur.len() + overhead + n > mtu && !cur.is_empty() {
            datagrams.push(std::mem::take(cur));
        }
        plain.clear();
        HandshakeHeader {
            msg_type: *msg_type,
            length: body.len() as u32,
            message_seq: *seq,
            fragment_offset: piece.start as u32,
            fragment_length: n as u32,
        }
        .emit(&mut plain);
        plain.extend_from_slice(body.get(piece.start..piece.end).unwrap_or(&[]));
        records.seal_record(*epoch, ContentType::Handshake, &plain, cur)
    };
    if let Some(only) = only {
        for p in only {
            if let Some(m) = messages.get(p.msg) {
                seal(&mut cur, &mut datagrams, records, m, *p)?;
                pieces.push(*p);
            }
        }
        if !cur.is_empty() {
            datagrams.push(cur);
        }
        return Ok(datagrams);
    }
    for (i, m) in messages.iter().enumerate() {
        match m {
            Outgoing::ChangeCipherSpec => {
                if cur.len() + HEADER_LEN + 1 > mtu && !cur.is_empty() {
                    datagrams.push(std::mem::take(&mut cur));
                }
                records.seal_record(0, ContentType::ChangeCipherSpec, &[1], &mut cur)?;
            }
            Outgoing::Handshake { epoch, body, .. } => {
                let overhead = records.record_overhead(*epoch) + HANDSHAKE_HEADER_LEN;
                let mut offset = 0usize;
                // Bounded: each pass sends at least MIN_FRAGMENT bytes or the remainder.
                loop {
                    let mut room = mtu.saturating_sub(cur.len() + overhead);
                    let left = body.len() - offset;
                    if room < left.min(MIN_FRAGMENT) || (room == 0 && left == 0 && !cur.is_empty())
                    {
                        if !cur.is_empty() {
                            datagrams.push(std::mem::take(&mut cur));
                        }
                        room = mtu.saturating_sub(overhead).max(MIN_FRAGMENT);
                    }
                    let n = left.min(room);
                    let piece = Piece {
                        msg: i,
                        start: offset,
                        end: offset + n,
                    };
                    // Fits by construction: `seal` starts no new datagram here.
                    seal(&mut cur, &mut datagrams, records, m, piece)?;
                    pieces.push(piece);
                    offset += n;
                    if offset >= body.len() {
                        break;
                    }
                }
            }
        }
    }
    if !cur.is_empty() {
        datagrams.push(cur);
    }
    Ok(datagrams)
}

/// Retransmission timer with exponential back-off (RFC 6347 §4.2.4.1: double each time,
/// capped at 60 s).
#[derive(Debug, Clone)]
pub(crate) struct RetransmitTimer {
    initial: Duration,
    current: Duration,
    deadline: Option<Instant>,
    /// Retransmissions of the current flight so far.
    pub(crate) count: u32,
}

/// Upper bound of the back-off.
pub(crate) const MAX_RTO: Duration = Duration::from_secs(60);

impl RetransmitTimer {
    pub(crate) fn new(initial: Duration) -> Self {
        RetransmitTimer {
            initial,
            current: initial,
            deadline: None,
            count: 0,
        }
    }

    /// A new flight was sent: reset the back-off and arm.
    pub(crate) fn start(&mut self, now: Instant) {
        self.current = self.initial;
        self.count = 0;
        self.deadline = Some(now + self.current);
    }

    /// The flight was retransmitted on expiry: back off and re-arm.
    pub(crate) fn backoff(&mut self, now: Instant) {
        self.current = (self.current * 2).min(MAX_RTO);
        self.count += 1;
        self.deadline = Some(now + self.current);
    }

    pub(crate) fn stop(&mut self) {
        self.deadline = None;
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledged_ranges_merge_and_hold_pieces() {
        assert!(!holds(&[], 0, 0));
        let mut r = Vec::new();
        add_range(&mut r, 6, 8);
        add_range(&mut r, 0, 2);
        add_range(&mut r, 2, 6);
        assert_eq!(r, vec![(0, 8)]);
        assert!(covers(&r, 8) && !covers(&r, 9));
        assert!(holds(&r, 2, 8) && holds(&r, 0, 0) && !holds(&r, 7, 9));
        add_range(&mut r, 10, 12);
        assert_eq!(r, vec![(0, 8), (10, 12)]);
        assert!(!holds(&r, 6, 11));
    }

    /// Re-sent fragments keep their first boundaries and pack into datagrams again.
    #[test]
    fn selected_pieces_are_sent_as_they_were() {
        let flight = vec![Outgoing::Handshake {
            epoch: 0,
            msg_type: 11,
            seq: 3,
            body: (0..1000u32).map(|i| i as u8).collect(),
        }];
        let mut layer = RecordLayer::new();
        let mut first = Vec::new();
        let d = emit_pieces(&flight, None, 300, &mut layer, &mut first).expect("emit");
        assert!(d.len() >= 4 && first.len() == d.len());
        let pick = [first[1], first[3]];
        let mut again = Vec::new();
        let d = emit_pieces(&flight, Some(&pick), 1200, &mut layer, &mut again).expect("emit");
        assert_eq!(again, pick);
        assert_eq!(d.len(), 1, "both fit one datagram now");
        let recs: Vec<_> = crate::record::Records::new(&d[0]).collect();
        assert_eq!(recs.len(), 2);
        for (r, p) in recs.iter().zip(&pick) {
            let mut rd = crate::codec::Reader::new(r.fragment);
            let (h, frag) = HandshakeHeader::parse(&mut rd).expect("header");
            assert_eq!(h.fragment_offset as usize, p.start);
            assert_eq!(frag, &flight_body(&flight)[p.start..p.end]);
        }
    }

    fn flight_body(f: &[Outgoing]) -> &[u8] {
        match &f[0] {
            Outgoing::Handshake { body, .. } => body,
            Outgoing::ChangeCipherSpec => &[],
        }
    }
}
