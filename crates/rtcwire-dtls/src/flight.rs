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

/// The byte ranges of a `len`-byte body not in `acked` (sorted, merged, half-open). A
/// zero-length body is one empty range unless acknowledged.
fn missing(len: usize, acked: &[(usize, usize)]) -> Vec<(usize, usize)> {
    if len == 0 {
        return if acked.is_empty() {
            vec![(0, 0)]
        } else {
            Vec::new()
        };
    }
    let mut out = Vec::new();
    let mut at = 0;
    for &(s, e) in acked {
        if s > at {
            out.push((at, s.min(len)));
        }
        at = at.max(e);
        if at >= len {
            break;
        }
    }
    if at < len {
        out.push((at, len));
    }
    out
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

/// Whether `ranges` covers a `len`-byte body.
pub(crate) fn covers(ranges: &[(usize, usize)], len: usize) -> bool {
    match ranges {
        [(0, e)] => *e >= len,
        _ => false,
    }
}

/// [`emit`], skipping the byte ranges of each message in `acked` (one list per message,
/// DTLS 1.3 selective retransmission); `pieces` receives one entry per handshake record
/// sealed, in order.
pub(crate) fn emit_pieces<R: Sealer>(
    messages: &[Outgoing],
    acked: Option<&[Vec<(usize, usize)>]>,
    mtu: usize,
    records: &mut R,
    pieces: &mut Vec<Piece>,
) -> Result<Vec<Vec<u8>>, Error> {
    let mut datagrams = Vec::new();
    let mut cur: Vec<u8> = Vec::with_capacity(mtu);
    let mut plain = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        match m {
            Outgoing::ChangeCipherSpec => {
                if cur.len() + HEADER_LEN + 1 > mtu && !cur.is_empty() {
                    datagrams.push(std::mem::take(&mut cur));
                }
                records.seal_record(0, ContentType::ChangeCipherSpec, &[1], &mut cur)?;
            }
            Outgoing::Handshake {
                epoch,
                msg_type,
                seq,
                body,
            } => {
                let overhead = records.record_overhead(*epoch) + HANDSHAKE_HEADER_LEN;
                let done = acked.and_then(|a| a.get(i)).map_or(&[][..], Vec::as_slice);
                for (from, to) in missing(body.len(), done) {
                    let mut offset = from;
                    // Bounded: each pass sends at least MIN_FRAGMENT bytes or the remainder.
                    loop {
                        let mut room = mtu.saturating_sub(cur.len() + overhead);
                        let left = to - offset;
                        if room < left.min(MIN_FRAGMENT)
                            || (room == 0 && left == 0 && !cur.is_empty())
                        {
                            if !cur.is_empty() {
                                datagrams.push(std::mem::take(&mut cur));
                            }
                            room = mtu.saturating_sub(overhead).max(MIN_FRAGMENT);
                        }
                        let n = left.min(room);
                        plain.clear();
                        HandshakeHeader {
                            msg_type: *msg_type,
                            length: body.len() as u32,
                            message_seq: *seq,
                            fragment_offset: offset as u32,
                            fragment_length: n as u32,
                        }
                        .emit(&mut plain);
                        plain.extend_from_slice(body.get(offset..offset + n).unwrap_or(&[]));
                        records.seal_record(*epoch, ContentType::Handshake, &plain, &mut cur)?;
                        pieces.push(Piece {
                            msg: i,
                            start: offset,
                            end: offset + n,
                        });
                        offset += n;
                        if offset >= to {
                            break;
                        }
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
    fn missing_ranges_are_the_complement() {
        assert_eq!(missing(10, &[]), vec![(0, 10)]);
        assert_eq!(missing(10, &[(0, 10)]), vec![]);
        assert_eq!(
            missing(10, &[(2, 4), (6, 8)]),
            vec![(0, 2), (4, 6), (8, 10)]
        );
        assert_eq!(missing(10, &[(0, 4), (4, 12)]), vec![]);
        assert_eq!(missing(0, &[]), vec![(0, 0)]);
        assert_eq!(missing(0, &[(0, 0)]), vec![]);
        let mut r = Vec::new();
        add_range(&mut r, 6, 8);
        add_range(&mut r, 0, 2);
        add_range(&mut r, 2, 6);
        assert_eq!(r, vec![(0, 8)]);
        assert!(covers(&r, 8) && !covers(&r, 9));
    }
}
