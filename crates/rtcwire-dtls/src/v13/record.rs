//! The DTLS 1.3 record layer (RFC 9147 §4): DTLSPlaintext in epoch 0, the unified header
//! with encrypted record numbers in epochs 2 and up, inner content types and padding, one
//! replay window per epoch.

use super::keys::TrafficKeys;
use crate::codec::Reader;
use crate::record::{ContentType, RecordHeader, ReplayWindow, DTLS_1_0, DTLS_1_2, HEADER_LEN};
use crate::Error;

/// Inner content types (RFC 9147 §4 adds `ack`).
pub const CT_ALERT: u8 = 21;
pub const CT_HANDSHAKE: u8 = 22;
pub const CT_APPLICATION_DATA: u8 = 23;
pub const CT_ACK: u8 = 26;

/// Unified header we write: fixed bits 001, no connection id, 16-bit sequence number,
/// length present (RFC 9147 §4).
const UNIFIED_FIXED: u8 = 0x20;
const FLAG_CID: u8 = 0x10;
const FLAG_SEQ16: u8 = 0x08;
const FLAG_LEN: u8 = 0x04;
/// Header length of the records we write (without a connection id).
pub const UNIFIED_LEN: usize = 5;
/// Longest unified header: flags, a 255-byte connection id, sequence number, length.
pub const MAX_UNIFIED_LEN: usize = UNIFIED_LEN + 255;
const TAG_LEN: usize = 16;
/// Epochs kept for reading / writing at once (handshake, current and previous traffic).
const MAX_EPOCHS: usize = 3;
/// Record numbers remembered from the last flight we sent, for matching ACKs.
const MAX_SENT_LOG: usize = 64;
/// Largest sequence number (48 bits).
const MAX_SEQ: u64 = (1 << 48) - 1;

/// One record of a datagram, not yet opened.
#[derive(Debug, Clone, Copy)]
pub enum Raw<'a> {
    /// DTLSPlaintext (epoch 0 only in DTLS 1.3).
    Plain {
        content_type: ContentType,
        epoch: u16,
        sequence: u64,
        fragment: &'a [u8],
    },
    /// DTLSCiphertext with a unified header.
    Cipher { header: &'a [u8], body: &'a [u8] },
}

/// Splits a datagram into records; stops at the first one that does not parse.
#[derive(Debug, Clone)]
pub struct Records13<'a> {
    rest: &'a [u8],
    cid_len: usize,
}

impl<'a> Records13<'a> {
    pub fn new(datagram: &'a [u8]) -> Self {
        Records13 {
            rest: datagram,
            cid_len: 0,
        }
    }

    /// Records of a datagram whose unified headers with the C bit carry an id of
    /// `cid_len` bytes (ours: the length is not on the wire, RFC 9147 §4).
    pub fn with_cid(datagram: &'a [u8], cid_len: usize) -> Self {
        Records13 {
            rest: datagram,
            cid_len,
        }
    }

    /// Bytes left unparsed.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }
}

impl<'a> Iterator for Records13<'a> {
    type Item = Raw<'a>;

    fn next(&mut self) -> Option<Raw<'a>> {
        let first = *self.rest.first()?;
        if first & 0xe0 == UNIFIED_FIXED {
            let cid_len = if first & FLAG_CID != 0 {
                if self.cid_len == 0 {
                    return None; // an id we never asked for: its length is unknown
                }
                self.cid_len
            } else {
                0
            };
            let seq_len = if first & FLAG_SEQ16 != 0 { 2 } else { 1 };
            let len_len = if first & FLAG_LEN != 0 { 2 } else { 0 };
            let hlen = 1 + cid_len + seq_len + len_len;
            let header = self.rest.get(..hlen)?;
            let body_len = if len_len == 2 {
                let b = header.get(1 + cid_len + seq_len..hlen)?;
                usize::from(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
            } else {
                self.rest.len() - hlen
            };
            let body = self.rest.get(hlen..hlen + body_len)?;
            self.rest = self.rest.get(hlen + body_len..)?;
            return Some(Raw::Cipher { header, body });
        }
        let mut r = Reader::new(self.rest);
        let content_type = ContentType::from_code(r.u8()?)?;
        let version = r.u16()?;
        if version != DTLS_1_2 && version != DTLS_1_0 {
            return None;
        }
        let epoch = r.u16()?;
        let sequence = r.u48()?;
        let length = r.u16()?;
        let fragment = r.take(usize::from(length))?;
        self.rest = r.rest();
        Some(Raw::Plain {
            content_type,
            epoch,
            sequence,
            fragment,
        })
    }
}

#[derive(Debug)]
struct WriteEpoch {
    epoch: u16,
    next_seq: u64,
    keys: TrafficKeys,
}

#[derive(Debug)]
struct ReadEpoch {
    epoch: u16,
    keys: TrafficKeys,
    window: ReplayWindow,
    highest: Option<u64>,
}

/// An opened record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    pub epoch: u16,
    pub seq: u64,
    pub content_type: u8,
}

/// Why a protected record was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop13 {
    UnknownEpoch,
    Replayed,
    Bad,
    /// Not our connection id, or none although ids were negotiated.
    WrongCid,
}

/// Both directions' epochs and sequence numbers.
#[derive(Debug)]
pub struct RecordLayer13 {
    epoch0_next: u64,
    epoch0_window: ReplayWindow,
    write: Vec<WriteEpoch>,
    read: Vec<ReadEpoch>,
    /// `(epoch, sequence)` of every record sealed since the last [`Self::clear_sent`].
    sent: Vec<(u64, u64)>,
    /// The peer's connection id, in the header of every protected record we write (empty:
    /// none).
    write_cid: Vec<u8>,
    /// Ours, expected in every protected record the peer writes (empty: none).
    read_cid: Vec<u8>,
}

impl RecordLayer13 {
    /// A layer whose epoch-0 write counter continues at `epoch0_next`.
    pub fn new(epoch0_next: u64) -> Self {
        RecordLayer13 {
            epoch0_next,
            epoch0_window: ReplayWindow::new(),
            write: Vec::new(),
            read: Vec::new(),
            sent: Vec::new(),
            write_cid: Vec::new(),
            read_cid: Vec::new(),
        }
    }

    /// Sets the negotiated connection ids (RFC 9147 §9): `read` ours, `write` the peer's.
    pub fn set_connection_ids(&mut self, read: &[u8], write: &[u8]) {
        self.read_cid = read.to_vec();
        self.write_cid = write.to_vec();
    }

    /// Switches the id we write (a NewConnectionId with `cid_immediate`).
    pub fn set_write_cid(&mut self, cid: &[u8]) {
        self.write_cid = cid.to_vec();
    }

    /// Length of the id the peer's protected records carry (0: none).
    pub fn read_cid_len(&self) -> usize {
        self.read_cid.len()
    }

    pub fn install_write(&mut self, epoch: u16, keys: TrafficKeys) {
        self.write.retain(|w| w.epoch != epoch);
        if self.write.len() >= MAX_EPOCHS {
            self.write.remove(0);
        }
        // Room for exactly the epochs in use: each holds expanded AEAD and record-number
        // keys (~800 bytes), and a growing `Vec` would keep four slots.
        self.write.reserve_exact(1);
        self.write.push(WriteEpoch {
            epoch,
            next_seq: 0,
            keys,
        });
    }

    pub fn install_read(&mut self, epoch: u16, keys: TrafficKeys) {
        self.read.retain(|r| r.epoch != epoch);
        if self.read.len() >= MAX_EPOCHS {
            self.read.remove(0);
        }
        self.read.reserve_exact(1);
        self.read.push(ReadEpoch {
            epoch,
            keys,
            window: ReplayWindow::new(),
            highest: None,
        });
    }

    /// Forgets the write keys of `epoch` and the room they took.
    pub fn retire_write(&mut self, epoch: u16) {
        self.write.retain(|w| w.epoch != epoch);
        self.write.shrink_to_fit();
    }

    /// Forgets the read keys (and replay window) of `epoch` and the room they took.
    pub fn retire_read(&mut self, epoch: u16) {
        self.read.retain(|r| r.epoch != epoch);
        self.read.shrink_to_fit();
    }

    /// Whether keys for reading `epoch` are installed.
    pub fn can_read(&self, epoch: u16) -> bool {
        self.read.iter().any(|r| r.epoch == epoch)
    }

    pub fn can_write(&self, epoch: u16) -> bool {
        epoch == 0 || self.write.iter().any(|w| w.epoch == epoch)
    }

    pub fn clear_sent(&mut self) {
        self.sent.clear();
    }

    pub fn sent(&self) -> &[(u64, u64)] {
        &self.sent
    }

    /// Bytes a record adds to its content in `epoch`: header, content type, tag.
    pub fn record_overhead(&self, epoch: u16) -> usize {
        if epoch == 0 {
            HEADER_LEN
        } else {
            UNIFIED_LEN + self.write_cid.len() + 1 + TAG_LEN
        }
    }

    fn log_sent(&mut self, epoch: u16, seq: u64) {
        if self.sent.len() < MAX_SENT_LOG {
            self.sent.push((u64::from(epoch), seq));
        }
    }

    /// Appends one record of `content` with inner type `content_type` in `epoch`.
    pub fn seal(
        &mut self,
        epoch: u16,
        content_type: u8,
        content: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let start = out.len();
        out.resize(start + self.prefix_len(epoch), 0);
        out.extend_from_slice(content);
        self.seal_in_place(epoch, content_type, out, start)
    }

    /// Bytes in front of the content of a record of `epoch`.
    pub fn prefix_len(&self, epoch: u16) -> usize {
        if epoch == 0 {
            HEADER_LEN
        } else {
            UNIFIED_LEN + self.write_cid.len()
        }
    }

    /// Seals the record whose content is `buf[start + prefix_len(epoch)..]`, writing the
    /// header in front and the content type and tag after it.
    pub fn seal_in_place(
        &mut self,
        epoch: u16,
        content_type: u8,
        buf: &mut Vec<u8>,
        start: usize,
    ) -> Result<(), Error> {
        if epoch == 0 {
            let seq = self.epoch0_next;
            self.epoch0_next += 1;
            let ct = ContentType::from_code(content_type).ok_or(Error::Crypto)?;
            let len = buf.len().saturating_sub(start + HEADER_LEN);
            let length = u16::try_from(len).map_err(|_| Error::RecordTooLarge(len))?;
            let h = RecordHeader {
                content_type: ct,
                version: DTLS_1_2,
                epoch: 0,
                sequence: seq,
                length,
            }
            .to_bytes();
            buf.get_mut(start..start + HEADER_LEN)
                .ok_or(Error::Crypto)?
                .copy_from_slice(&h);
            self.log_sent(0, seq);
            return Ok(());
        }
        let w = self
            .write
            .iter_mut()
            .find(|w| w.epoch == epoch)
            .ok_or(Error::Crypto)?;
        let seq = w.next_seq;
        if seq > MAX_SEQ {
            return Err(Error::Closed);
        }
        w.next_seq += 1;
        buf.push(content_type);
        let cid = self.write_cid.as_slice();
        let hlen = UNIFIED_LEN + cid.len();
        let body_len = buf.len().saturating_sub(start + hlen) + TAG_LEN;
        let length = u16::try_from(body_len).map_err(|_| Error::RecordTooLarge(body_len))?;
        let seq16 = (seq as u16).to_be_bytes();
        let len = length.to_be_bytes();
        let flags = if cid.is_empty() { 0 } else { FLAG_CID };
        // The header is also the additional data: flags, id, sequence (clear), length.
        let mut header = [0u8; MAX_UNIFIED_LEN];
        let h = header.get_mut(..hlen).ok_or(Error::Crypto)?;
        h[0] = UNIFIED_FIXED | flags | FLAG_SEQ16 | FLAG_LEN | (epoch & 3) as u8;
        h.get_mut(1..1 + cid.len())
            .ok_or(Error::Crypto)?
            .copy_from_slice(cid);
        h.get_mut(1 + cid.len()..)
            .ok_or(Error::Crypto)?
            .copy_from_slice(&[seq16[0], seq16[1], len[0], len[1]]);
        let header = header.get(..hlen).ok_or(Error::Crypto)?;
        let body = buf.get_mut(start + hlen..).ok_or(Error::Crypto)?;
        let tag = w
            .keys
            .key
            .seal_in_place_separate_tag(w.keys.nonce(seq), ring::aead::Aad::from(header), body)
            .map_err(|_| Error::Crypto)?;
        buf.extend_from_slice(tag.as_ref());
        let mask = w
            .keys
            .sn_mask(buf.get(start + hlen..).unwrap_or(&[]))
            .ok_or(Error::Crypto)?;
        let h = buf.get_mut(start..start + hlen).ok_or(Error::Crypto)?;
        h.copy_from_slice(header);
        let at = 1 + cid.len();
        if let Some(s) = h.get_mut(at..at + 2) {
            s[0] ^= mask[0];
            s[1] ^= mask[1];
        }
        if content_type != CT_APPLICATION_DATA {
            self.log_sent(epoch, seq); // flights only: what an ACK can match
        }
        Ok(())
    }

    /// Checks an epoch-0 record against its replay window (and marks it).
    pub fn accept_plain(&mut self, epoch: u16, seq: u64) -> Result<(), Drop13> {
        if epoch != 0 {
            return Err(Drop13::UnknownEpoch);
        }
        if !self.epoch0_window.check(seq) {
            return Err(Drop13::Replayed);
        }
        self.epoch0_window.mark(seq);
        Ok(())
    }

    /// Opens a unified-header record into `out` (the content, type and padding removed).
    pub fn open(
        &mut self,
        header: &[u8],
        body: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Opened, Drop13> {
        out.clear();
        out.extend_from_slice(body);
        let (o, n) = self.open_in_place(header, out)?;
        out.truncate(n);
        Ok(o)
    }

    /// Opens a unified-header record whose body is `buf`, where it lies: returns what it
    /// was and the length of its content at the start of `buf`.
    pub fn open_in_place(
        &mut self,
        header: &[u8],
        buf: &mut [u8],
    ) -> Result<(Opened, usize), Drop13> {
        let body = &*buf;
        let first = *header.first().ok_or(Drop13::Bad)?;
        let cid_len = if first & FLAG_CID != 0 {
            if self.read_cid.is_empty()
                || header.get(1..1 + self.read_cid.len()) != Some(&self.read_cid[..])
            {
                return Err(Drop13::WrongCid);
            }
            self.read_cid.len()
        } else if !self.read_cid.is_empty() {
            return Err(Drop13::WrongCid);
        } else {
            0
        };
        let bits = u16::from(first & 3);
        let r = self
            .read
            .iter_mut()
            .filter(|r| r.epoch & 3 == bits)
            .max_by_key(|r| r.epoch)
            .ok_or(Drop13::UnknownEpoch)?;
        let mask = r.keys.sn_mask(body).ok_or(Drop13::Bad)?;
        let seq16 = first & FLAG_SEQ16 != 0;
        let mut aad = [0u8; MAX_UNIFIED_LEN];
        let aad = aad.get_mut(..header.len()).ok_or(Drop13::Bad)?;
        aad.copy_from_slice(header);
        let at = 1 + cid_len;
        let low = if seq16 {
            let s = aad.get_mut(at..at + 2).ok_or(Drop13::Bad)?;
            s[0] ^= mask[0];
            s[1] ^= mask[1];
            u64::from(u16::from_be_bytes([s[0], s[1]]))
        } else {
            let s = aad.get_mut(at).ok_or(Drop13::Bad)?;
            *s ^= mask[0];
            u64::from(*s)
        };
        let bits_len = if seq16 { 16 } else { 8 };
        let seq = reconstruct(r.highest.map_or(0, |h| h + 1), low, bits_len);
        if !r.window.check(seq) {
            return Err(Drop13::Replayed);
        }
        if body.len() < TAG_LEN + 1 {
            return Err(Drop13::Bad);
        }
        let plain = r
            .keys
            .key
            .open_in_place(r.keys.nonce(seq), ring::aead::Aad::from(&*aad), buf)
            .map_err(|_| Drop13::Bad)?;
        // Strip the zero padding; the last non-zero byte is the content type. Bounded by
        // the record length.
        let mut end = plain.len();
        let content_type = loop {
            end = end.checked_sub(1).ok_or(Drop13::Bad)?;
            match plain.get(end) {
                Some(0) => continue,
                Some(&t) => break t,
                None => return Err(Drop13::Bad),
            }
        };
        r.window.mark(seq);
        r.highest = Some(r.highest.map_or(seq, |h| h.max(seq)));
        Ok((
            Opened {
                epoch: r.epoch,
                seq,
                content_type,
            },
            end,
        ))
    }
}

/// The full sequence number closest to `expected` whose low `bits` bits are `low`
/// (RFC 9147 §4.2.2).
pub fn reconstruct(expected: u64, low: u64, bits: u32) -> u64 {
    let window = 1u64 << bits;
    let half = window / 2;
    let candidate = (expected & !(window - 1)) | (low & (window - 1));
    if candidate + half < expected && candidate + window <= MAX_SEQ {
        candidate + window
    } else if candidate > expected + half && candidate >= window {
        candidate - window
    } else {
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::prf::PrfHash;
    use crate::crypto::suite::BulkCipher;
    use crate::v13::keys::{handshake_secret, TrafficKeys};

    fn keys(bulk: BulkCipher) -> TrafficKeys {
        let s = handshake_secret(PrfHash::Sha256, &[9; 32]).unwrap();
        TrafficKeys::derive(PrfHash::Sha256, bulk, &s).unwrap()
    }

    #[test]
    fn reconstruction_picks_the_closest() {
        assert_eq!(reconstruct(0, 5, 16), 5);
        assert_eq!(reconstruct(0x1_0000, 0xffff, 16), 0xffff);
        assert_eq!(reconstruct(0xfff0, 0x0002, 16), 0x1_0002);
        assert_eq!(reconstruct(300, 0x2c, 8), 300);
    }

    #[test]
    fn seal_open_round_trip_hides_the_sequence_number_every_suite() {
        for bulk in [
            BulkCipher::Aes128Gcm,
            BulkCipher::Aes256Gcm,
            BulkCipher::Chacha20Poly1305,
        ] {
            let mut a = RecordLayer13::new(0);
            let mut b = RecordLayer13::new(0);
            a.install_write(3, keys(bulk));
            b.install_read(3, keys(bulk));
            let mut wire = Vec::new();
            for _ in 0..3 {
                a.seal(3, CT_APPLICATION_DATA, b"hello", &mut wire).unwrap();
            }
            let recs: Vec<_> = Records13::new(&wire).collect();
            assert_eq!(recs.len(), 3);
            let mut out = Vec::new();
            for (i, r) in recs.iter().enumerate() {
                let Raw::Cipher { header, body } = *r else {
                    panic!("plain")
                };
                assert_eq!(header[0], 0x2f);
                let o = b.open(header, body, &mut out).unwrap();
                assert_eq!(
                    (o.epoch, o.seq, o.content_type),
                    (3, i as u64, CT_APPLICATION_DATA)
                );
                assert_eq!(out, b"hello");
                // Replays are refused.
                assert_eq!(b.open(header, body, &mut out), Err(Drop13::Replayed));
            }
            // The first record's visible sequence bytes are masked (not 00 00 for seq 0
            // except by a 2^-16 chance we tolerate by checking all three).
            let masked = recs.iter().any(|r| match r {
                Raw::Cipher { header, .. } => header[1] != 0 || header[2] > 2,
                Raw::Plain { .. } => false,
            });
            assert!(masked);
            // A flipped byte fails authentication.
            let mut bad = wire.clone();
            bad[10] ^= 1;
            let Some(Raw::Cipher { header, body }) = Records13::new(&bad).next() else {
                panic!("parse")
            };
            let mut c = RecordLayer13::new(0);
            c.install_read(3, keys(bulk));
            assert_eq!(c.open(header, body, &mut out), Err(Drop13::Bad));
        }
    }

    proptest::proptest! {
        /// With ids in use, every record's unified header carries the C bit and the peer's
        /// id after its first byte; the reader that expects that id opens it (the id is
        /// authenticated), one expecting another id or none drops it as WrongCid.
        #[test]
        fn records_with_connection_ids_round_trip(
            cid in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..=40),
            content in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
            n in 1usize..4,
        ) {
            let mut a = RecordLayer13::new(0);
            let mut b = RecordLayer13::new(0);
            a.set_connection_ids(&[], &cid);
            b.set_connection_ids(&cid, &[]);
            a.install_write(3, keys(BulkCipher::Aes128Gcm));
            b.install_read(3, keys(BulkCipher::Aes128Gcm));
            let mut wire = Vec::new();
            for _ in 0..n {
                a.seal(3, CT_APPLICATION_DATA, &content, &mut wire).unwrap();
            }
            proptest::prop_assert_eq!(wire.len(), n * (a.record_overhead(3) + content.len()));
            let recs: Vec<_> = Records13::with_cid(&wire, cid.len()).collect();
            proptest::prop_assert_eq!(recs.len(), n);
            let mut out = Vec::new();
            for (i, r) in recs.iter().enumerate() {
                let Raw::Cipher { header, body } = *r else { panic!("plain") };
                proptest::prop_assert_eq!(header[0] & FLAG_CID != 0, !cid.is_empty());
                proptest::prop_assert_eq!(&header[1..1 + cid.len()], &cid[..]);
                if !cid.is_empty() {
                    proptest::prop_assert_eq!(
                        crate::peek_connection_id(&wire, cid.len()),
                        Some(&cid[..])
                    );
                    // Someone expecting another id, or none, drops it.
                    let mut other = RecordLayer13::new(0);
                    let mut wrong = cid.clone();
                    wrong[0] ^= 1;
                    other.set_connection_ids(&wrong, &[]);
                    other.install_read(3, keys(BulkCipher::Aes128Gcm));
                    proptest::prop_assert_eq!(other.open(header, body, &mut out), Err(Drop13::WrongCid));
                    let mut none = RecordLayer13::new(0);
                    none.install_read(3, keys(BulkCipher::Aes128Gcm));
                    proptest::prop_assert_eq!(none.open(header, body, &mut out), Err(Drop13::WrongCid));
                }
                let o = b.open(header, body, &mut out).unwrap();
                proptest::prop_assert_eq!((o.epoch, o.seq), (3, i as u64));
                proptest::prop_assert_eq!(&out, &content);
            }
        }
    }

    #[test]
    fn unknown_epoch_and_plaintext_records() {
        let mut a = RecordLayer13::new(7);
        a.install_write(2, keys(BulkCipher::Aes128Gcm));
        let mut wire = Vec::new();
        a.seal(0, CT_HANDSHAKE, b"clear", &mut wire).unwrap();
        a.seal(2, CT_HANDSHAKE, b"secret", &mut wire).unwrap();
        let recs: Vec<_> = Records13::new(&wire).collect();
        assert!(matches!(
            recs[0],
            Raw::Plain {
                epoch: 0,
                sequence: 7,
                fragment: b"clear",
                ..
            }
        ));
        let mut b = RecordLayer13::new(0);
        let Raw::Cipher { header, body } = recs[1] else {
            panic!("cipher")
        };
        let mut out = Vec::new();
        assert_eq!(b.open(header, body, &mut out), Err(Drop13::UnknownEpoch));
        assert_eq!(a.sent(), &[(0, 7), (2, 0)]);
    }
}
