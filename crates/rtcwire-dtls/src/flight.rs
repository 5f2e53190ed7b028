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

/// Serialises `messages` into datagrams of at most `mtu` bytes.
pub(crate) fn emit<R: Sealer>(
    messages: &[Outgoing],
    mtu: usize,
    records: &mut R,
) -> Result<Vec<Vec<u8>>, Error> {
    let mut datagrams = Vec::new();
    let mut cur: Vec<u8> = Vec::with_capacity(mtu);
    let mut plain = Vec::new();
    for m in messages {
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
