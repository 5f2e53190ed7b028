//! The record layer (RFC 6347 §4.1): headers, epochs, 48-bit sequence numbers, the
//! anti-replay window, AEAD protection.
//!
//! The layer is organised by epoch, not by protocol version: each epoch has a write side
//! (sequence counter, optional [`Protection`]) and a read side (replay window, optional
//! protection). DTLS 1.3 (RFC 9147) adds epochs 2 and 3 with traffic secrets and a unified
//! header with sequence-number encryption; that slots in as another header codec and another
//! `Protection` constructor without touching the epoch bookkeeping.

mod header;
mod protection;
mod replay;

pub use header::{
    ContentType, Record, RecordHeader, Records, DTLS_1_0, DTLS_1_2, HEADER_LEN, MAX_SEQ,
};
pub use protection::{OpenError, Protection};
pub use replay::{ReplayWindow, WINDOW as REPLAY_WINDOW};

use crate::Error;

/// Epochs a DTLS 1.2 association uses: 0 (clear) and 1 (after ChangeCipherSpec).
const EPOCHS: usize = 2;

#[derive(Debug, Default)]
struct WriteEpoch {
    next_seq: u64,
    protection: Option<Protection>,
}

#[derive(Debug, Default)]
struct ReadEpoch {
    window: ReplayWindow,
    protection: Option<Protection>,
    installed: bool,
}

/// Epoch and sequence bookkeeping for both directions.
#[derive(Debug)]
pub(crate) struct RecordLayer {
    write: [WriteEpoch; EPOCHS],
    read: [ReadEpoch; EPOCHS],
    /// Epoch application data and new handshake messages are written in.
    write_epoch: u16,
}

/// Why [`RecordLayer::open`] dropped a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// An epoch we have no keys for (yet).
    UnknownEpoch,
    /// Already seen, or older than the window.
    Replayed,
    /// Failed authentication or too short.
    BadRecord,
}

impl RecordLayer {
    pub(crate) fn new() -> Self {
        let mut l = RecordLayer {
            write: Default::default(),
            read: Default::default(),
            write_epoch: 0,
        };
        l.read[0].installed = true;
        l
    }

    /// The epoch new records are written in.
    /// The next sequence number of our records in `epoch` (DTLS 1.3 continues epoch 0).
    pub(crate) fn next_seq(&self, epoch: u16) -> u64 {
        self.write.get(usize::from(epoch)).map_or(0, |w| w.next_seq)
    }

    pub(crate) fn write_epoch(&self) -> u16 {
        self.write_epoch
    }

    /// Sets the next sequence number of epoch 0 (a stateless server continues the
    /// sequence the ClientHello used, RFC 6347 §4.2.1).
    pub(crate) fn set_epoch0_seq(&mut self, seq: u64) {
        self.write[0].next_seq = seq;
    }

    /// Installs keys for writing epoch 1 and switches to it (after sending CCS).
    pub(crate) fn install_write(&mut self, p: Protection) {
        self.write[1].protection = Some(p);
        self.write_epoch = 1;
    }

    /// Installs keys for reading epoch 1 (on receiving CCS).
    pub(crate) fn install_read(&mut self, p: Protection) {
        self.read[1].protection = Some(p);
        self.read[1].installed = true;
    }

    /// Whether epoch 1 can be read.
    pub(crate) fn can_read_epoch1(&self) -> bool {
        self.read[1].installed
    }

    /// Per-record bytes added in `epoch` beyond the header.
    pub(crate) fn overhead(&self, epoch: u16) -> usize {
        self.write
            .get(usize::from(epoch))
            .and_then(|w| w.protection.as_ref())
            .map_or(0, |p| p.bulk().overhead())
    }

    /// Bytes a record in `epoch` needs in front of its plaintext (header, explicit nonce).
    pub(crate) fn prefix_len(&self, epoch: u16) -> usize {
        self.write
            .get(usize::from(epoch))
            .and_then(|w| w.protection.as_ref())
            .map_or(HEADER_LEN, |p| p.prefix_len())
    }

    /// Seals the record whose plaintext already sits in `buf[start..]` after
    /// [`prefix_len`](Self::prefix_len) bytes of room (a protected epoch only).
    pub(crate) fn seal_in_place(
        &mut self,
        epoch: u16,
        content_type: ContentType,
        buf: &mut Vec<u8>,
        start: usize,
    ) -> Result<(), Error> {
        let w = self
            .write
            .get_mut(usize::from(epoch))
            .ok_or(Error::Crypto)?;
        let seq = w.next_seq;
        if seq > MAX_SEQ {
            return Err(Error::Closed);
        }
        let p = w.protection.as_ref().ok_or(Error::Crypto)?;
        p.seal_in_place(content_type, epoch, seq, buf, start)?;
        w.next_seq += 1;
        Ok(())
    }

    /// Appends one record in `epoch` to `out`.
    pub(crate) fn seal(
        &mut self,
        epoch: u16,
        content_type: ContentType,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let w = self
            .write
            .get_mut(usize::from(epoch))
            .ok_or(Error::Crypto)?;
        let seq = w.next_seq;
        if seq > MAX_SEQ {
            // Sequence space exhausted: RFC 6347 §4.1 forbids wrapping.
            return Err(Error::Closed);
        }
        w.next_seq += 1;
        match &w.protection {
            Some(p) => p.seal(content_type, epoch, seq, payload, out),
            None if epoch == 0 => {
                let length = u16::try_from(payload.len())
                    .map_err(|_| Error::RecordTooLarge(payload.len()))?;
                RecordHeader {
                    content_type,
                    version: DTLS_1_2,
                    epoch,
                    sequence: seq,
                    length,
                }
                .emit(out);
                out.extend_from_slice(payload);
                Ok(())
            }
            None => Err(Error::Crypto),
        }
    }

    /// Checks the replay window, authenticates and decrypts a protected record where it
    /// lies: `fragment` is the record's body inside the caller's datagram. Returns the
    /// plaintext's range within `fragment`. Unprotected epochs are refused here (the caller
    /// takes the copying path for them).
    pub(crate) fn open_in_place(
        &mut self,
        header: &RecordHeader,
        fragment: &mut [u8],
    ) -> Result<std::ops::Range<usize>, Rejected> {
        let r = self
            .read
            .get_mut(usize::from(header.epoch))
            .filter(|r| r.installed)
            .ok_or(Rejected::UnknownEpoch)?;
        if !r.window.check(header.sequence) {
            return Err(Rejected::Replayed);
        }
        let p = r.protection.as_ref().ok_or(Rejected::UnknownEpoch)?;
        let start = p.bulk().explicit_nonce_len();
        let len = p
            .open(header, fragment)
            .map_err(|_| Rejected::BadRecord)?
            .len();
        r.window.mark(header.sequence);
        Ok(start..start + len)
    }

    /// Checks the replay window, authenticates and decrypts a record into `out`, which is
    /// cleared first and afterwards holds exactly the plaintext (the fragment is copied once;
    /// protected records are decrypted where they land). On rejection `out` is left empty.
    pub(crate) fn open(&mut self, record: &Record<'_>, out: &mut Vec<u8>) -> Result<(), Rejected> {
        out.clear();
        let h = &record.header;
        let r = self
            .read
            .get_mut(usize::from(h.epoch))
            .filter(|r| r.installed)
            .ok_or(Rejected::UnknownEpoch)?;
        if !r.window.check(h.sequence) {
            return Err(Rejected::Replayed);
        }
        match &r.protection {
            Some(p) => p
                .open_into(h, record.fragment, out)
                .map_err(|_| Rejected::BadRecord)?,
            None => out.extend_from_slice(record.fragment),
        }
        r.window.mark(h.sequence);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_never_wrap() {
        let mut l = RecordLayer::new();
        l.set_epoch0_seq(MAX_SEQ);
        let mut out = Vec::new();
        l.seal(0, ContentType::Handshake, b"last", &mut out)
            .expect("last number");
        assert_eq!(
            Records::new(&out).next().expect("record").header.sequence,
            MAX_SEQ
        );
        assert_eq!(
            l.seal(0, ContentType::Handshake, b"one more", &mut out),
            Err(Error::Closed)
        );
    }

    #[test]
    fn epoch_one_is_unreadable_until_keys_are_installed() {
        let mut l = RecordLayer::new();
        let rec = Record {
            header: RecordHeader {
                content_type: ContentType::ApplicationData,
                version: DTLS_1_2,
                epoch: 1,
                sequence: 0,
                length: 0,
            },
            fragment: &[],
        };
        let mut scratch = Vec::new();
        assert_eq!(l.open(&rec, &mut scratch), Err(Rejected::UnknownEpoch));
        assert!(!l.can_read_epoch1());
        // A replayed clear record is refused.
        let clear = Record {
            header: RecordHeader {
                epoch: 0,
                ..rec.header
            },
            fragment: b"x",
        };
        assert_eq!(l.open(&clear, &mut scratch), Ok(()));
        assert_eq!(scratch, b"x");
        assert_eq!(l.open(&clear, &mut scratch), Err(Rejected::Replayed));
        assert!(scratch.is_empty());
    }
}
