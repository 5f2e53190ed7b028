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
    /// Boxed: a DTLS 1.3 connection never fills these (its keys live in its own record
    /// layer), and inline they were 2.2 KiB of every connection.
    protection: Option<Box<Protection>>,
}

#[derive(Debug, Default)]
struct ReadEpoch {
    window: ReplayWindow,
    protection: Option<Box<Protection>>,
    installed: bool,
}

/// Epoch and sequence bookkeeping for both directions.
#[derive(Debug)]
pub(crate) struct RecordLayer {
    write: [WriteEpoch; EPOCHS],
    read: [ReadEpoch; EPOCHS],
    /// Epoch application data and new handshake messages are written in.
    write_epoch: u16,
    /// The peer's connection id (RFC 9146), put in every record we protect; `None` when
    /// not negotiated or the peer asked for none.
    write_cid: Option<Vec<u8>>,
    /// Our connection id, expected in every protected record the peer sends.
    read_cid: Option<Vec<u8>>,
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
    /// A `tls12_cid` record with a connection id that is not ours, or a protected record
    /// without one when ids were negotiated.
    WrongCid,
}

impl RecordLayer {
    pub(crate) fn new() -> Self {
        let mut l = RecordLayer {
            write: Default::default(),
            read: Default::default(),
            write_epoch: 0,
            write_cid: None,
            read_cid: None,
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
        self.write[1].protection = Some(Box::new(p));
        self.write_epoch = 1;
    }

    /// Installs keys for reading epoch 1 (on receiving CCS).
    pub(crate) fn install_read(&mut self, p: Protection) {
        self.read[1].protection = Some(Box::new(p));
        self.read[1].installed = true;
    }

    /// Sets the negotiated connection ids (RFC 9146): `read` is ours (the peer's records
    /// carry it), `write` the peer's (ours carry it). Empty ids mean none. They apply to
    /// protected epochs only.
    pub(crate) fn set_connection_ids(&mut self, read: &[u8], write: &[u8]) {
        self.read_cid = (!read.is_empty()).then(|| read.to_vec());
        self.write_cid = (!write.is_empty()).then(|| write.to_vec());
    }

    /// Length of the connection id the peer's protected records carry, if any.
    pub(crate) fn read_cid_len(&self) -> Option<usize> {
        self.read_cid.as_ref().map(Vec::len)
    }

    /// Whether epoch 1 can be read.
    pub(crate) fn can_read_epoch1(&self) -> bool {
        self.read[1].installed
    }

    /// Per-record bytes added in `epoch` beyond the header.
    pub(crate) fn overhead(&self, epoch: u16) -> usize {
        let cid = match (&self.write_cid, epoch) {
            (Some(c), 1..) => c.len() + 1, // the id, and the inner content type
            _ => 0,
        };
        self.write
            .get(usize::from(epoch))
            .and_then(|w| w.protection.as_ref())
            .map_or(0, |p| p.bulk().overhead() + cid)
    }

    /// Bytes a record in `epoch` needs in front of its plaintext (header, explicit nonce).
    pub(crate) fn prefix_len(&self, epoch: u16) -> usize {
        self.write
            .get(usize::from(epoch))
            .and_then(|w| w.protection.as_ref())
            .map_or(HEADER_LEN, |p| {
                p.prefix_len() + self.write_cid.as_ref().map_or(0, Vec::len)
            })
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
        match &self.write_cid {
            Some(cid) => p.seal_in_place_cid(content_type, epoch, seq, cid, buf, start)?,
            None => p.seal_in_place(content_type, epoch, seq, buf, start)?,
        }
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
            Some(p) => match &self.write_cid {
                Some(cid) => {
                    let start = out.len();
                    out.reserve(p.prefix_len() + cid.len() + payload.len() + 17);
                    out.resize(start + p.prefix_len() + cid.len(), 0);
                    out.extend_from_slice(payload);
                    p.seal_in_place_cid(content_type, epoch, seq, cid, out, start)
                }
                None => p.seal(content_type, epoch, seq, payload, out),
            },
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
    /// A `tls12_cid` record is opened the RFC 9146 way and its real content type returned.
    pub(crate) fn open_in_place(
        &mut self,
        header: &RecordHeader,
        cid: &[u8],
        fragment: &mut [u8],
    ) -> Result<(ContentType, std::ops::Range<usize>), Rejected> {
        self.check_cid(header, cid)?;
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
        let (ct, len) = if header.content_type == ContentType::Tls12Cid {
            p.open_cid(header, cid, fragment)
                .map_err(|_| Rejected::BadRecord)?
        } else {
            let len = p
                .open(header, fragment)
                .map_err(|_| Rejected::BadRecord)?
                .len();
            (header.content_type, len)
        };
        r.window.mark(header.sequence);
        Ok((ct, start..start + len))
    }

    /// A `tls12_cid` record must carry our id; once ids are negotiated, a protected record
    /// must carry one.
    fn check_cid(&self, header: &RecordHeader, cid: &[u8]) -> Result<(), Rejected> {
        let is_cid = header.content_type == ContentType::Tls12Cid;
        match &self.read_cid {
            Some(ours) if is_cid && ours.as_slice() != cid => Err(Rejected::WrongCid),
            Some(_) if !is_cid && header.epoch > 0 => Err(Rejected::WrongCid),
            None if is_cid => Err(Rejected::WrongCid),
            _ if is_cid && header.epoch == 0 => Err(Rejected::BadRecord),
            _ => Ok(()),
        }
    }

    /// Checks the replay window, authenticates and decrypts a record into `out`, which is
    /// cleared first and afterwards holds exactly the plaintext (the fragment is copied once;
    /// protected records are decrypted where they land). On rejection `out` is left empty.
    /// Returns the record's content type (the real one of a `tls12_cid` record).
    pub(crate) fn open(
        &mut self,
        record: &Record<'_>,
        out: &mut Vec<u8>,
    ) -> Result<ContentType, Rejected> {
        out.clear();
        let h = &record.header;
        self.check_cid(h, record.cid)?;
        let r = self
            .read
            .get_mut(usize::from(h.epoch))
            .filter(|r| r.installed)
            .ok_or(Rejected::UnknownEpoch)?;
        if !r.window.check(h.sequence) {
            return Err(Rejected::Replayed);
        }
        let ct = match &r.protection {
            Some(p) if h.content_type == ContentType::Tls12Cid => {
                let nonce = p.bulk().explicit_nonce_len();
                out.extend_from_slice(record.fragment);
                match p.open_cid(h, record.cid, out) {
                    Ok((ct, len)) => {
                        out.truncate(nonce + len);
                        out.drain(..nonce);
                        ct
                    }
                    Err(_) => {
                        out.clear();
                        return Err(Rejected::BadRecord);
                    }
                }
            }
            Some(p) => {
                p.open_into(h, record.fragment, out)
                    .map_err(|_| Rejected::BadRecord)?;
                h.content_type
            }
            None => {
                out.extend_from_slice(record.fragment);
                h.content_type
            }
        };
        r.window.mark(h.sequence);
        Ok(ct)
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
            cid: &[],
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
            cid: &[],
            fragment: b"x",
        };
        assert_eq!(
            l.open(&clear, &mut scratch),
            Ok(ContentType::ApplicationData)
        );
        assert_eq!(scratch, b"x");
        assert_eq!(l.open(&clear, &mut scratch), Err(Rejected::Replayed));
        assert!(scratch.is_empty());
    }
}
