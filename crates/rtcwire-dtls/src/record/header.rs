//! The DTLS 1.2 record header (RFC 6347 §4.1) and splitting a datagram into records.

use crate::codec::Reader;

/// Length of a DTLS 1.2 record header.
pub const HEADER_LEN: usize = 13;

/// DTLS 1.2 on the wire (`{254, 253}`).
pub const DTLS_1_2: u16 = 0xfefd;
/// DTLS 1.0 on the wire; allowed in the record header of a ClientHello.
pub const DTLS_1_0: u16 = 0xfeff;

/// Largest sequence number a 48-bit field holds.
pub const MAX_SEQ: u64 = (1 << 48) - 1;

/// Record content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// `change_cipher_spec(20)`.
    ChangeCipherSpec,
    /// `alert(21)`.
    Alert,
    /// `handshake(22)`.
    Handshake,
    /// `application_data(23)`.
    ApplicationData,
    /// `tls12_cid(25)` (RFC 9146): the outer type of a DTLS 1.2 record carrying a
    /// connection id; the real type travels encrypted inside.
    Tls12Cid,
}

impl ContentType {
    /// The wire code.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            ContentType::ChangeCipherSpec => 20,
            ContentType::Alert => 21,
            ContentType::Handshake => 22,
            ContentType::ApplicationData => 23,
            ContentType::Tls12Cid => 25,
        }
    }

    /// The type for a wire code.
    #[must_use]
    pub const fn from_code(c: u8) -> Option<Self> {
        match c {
            20 => Some(ContentType::ChangeCipherSpec),
            21 => Some(ContentType::Alert),
            22 => Some(ContentType::Handshake),
            23 => Some(ContentType::ApplicationData),
            25 => Some(ContentType::Tls12Cid),
            _ => None,
        }
    }
}

/// A parsed record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    /// Content type.
    pub content_type: ContentType,
    /// Protocol version field.
    pub version: u16,
    /// Epoch: 0 before the first ChangeCipherSpec, then 1.
    pub epoch: u16,
    /// 48-bit sequence number within the epoch.
    pub sequence: u64,
    /// Length of the fragment that follows.
    pub length: u16,
}

impl RecordHeader {
    /// Writes the 13-byte header.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }

    /// The 13-byte header as an array (no allocation).
    #[must_use]
    pub fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0] = self.content_type.code();
        b[1..3].copy_from_slice(&self.version.to_be_bytes());
        b[3..11].copy_from_slice(&self.seq_num());
        b[11..13].copy_from_slice(&self.length.to_be_bytes());
        b
    }

    /// Writes the header of a `tls12_cid` record (RFC 9146 §4): the connection id sits
    /// between the sequence number and the length.
    pub fn emit_with_cid(&self, cid: &[u8], out: &mut Vec<u8>) {
        let b = self.to_bytes();
        out.extend_from_slice(&b[..11]);
        out.extend_from_slice(cid);
        out.extend_from_slice(&b[11..]);
    }

    /// The 8-byte `seq_num` used in nonces and additional data: epoch ‖ sequence.
    #[must_use]
    pub fn seq_num(&self) -> [u8; 8] {
        ((u64::from(self.epoch) << 48) | (self.sequence & MAX_SEQ)).to_be_bytes()
    }
}

/// A record borrowed from a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// The header.
    pub header: RecordHeader,
    /// The connection id of a `tls12_cid` record (RFC 9146); empty otherwise.
    pub cid: &'a [u8],
    /// The (possibly protected) fragment.
    pub fragment: &'a [u8],
}

impl Record<'_> {
    /// Writes the record back in its wire form.
    pub fn emit(&self, out: &mut Vec<u8>) {
        if self.header.content_type == ContentType::Tls12Cid {
            self.header.emit_with_cid(self.cid, out);
        } else {
            self.header.emit(out);
        }
        out.extend_from_slice(self.fragment);
    }
}

/// Iterates over the records of a datagram. Stops at the first record that does not parse
/// (unknown type or version, truncated): the rest of the datagram is garbage by RFC 6347
/// §4.1.2.7 and is dropped.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    r: Reader<'a>,
    cid_len: Option<usize>,
}

impl<'a> Records<'a> {
    /// Records of `datagram`.
    #[must_use]
    pub fn new(datagram: &'a [u8]) -> Self {
        Records {
            r: Reader::new(datagram),
            cid_len: None,
        }
    }

    /// Records of `datagram` where `tls12_cid` records carry a connection id of `cid_len`
    /// bytes (RFC 9146: the length is not on the wire; it is the one we asked for). With
    /// `None`, a `tls12_cid` record ends the datagram like any unparsable record.
    #[must_use]
    pub fn with_cid(datagram: &'a [u8], cid_len: Option<usize>) -> Self {
        Records {
            r: Reader::new(datagram),
            cid_len,
        }
    }

    /// Bytes not yet consumed (non-empty after iteration means a malformed tail).
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.r.rest().len()
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Record<'a>> {
        let mut r = self.r;
        let content_type = ContentType::from_code(r.u8()?)?;
        let version = r.u16()?;
        if version != DTLS_1_2 && version != DTLS_1_0 {
            return None;
        }
        let epoch = r.u16()?;
        let sequence = r.u48()?;
        let cid = if content_type == ContentType::Tls12Cid {
            r.take(self.cid_len?)?
        } else {
            &[]
        };
        let length = r.u16()?;
        let fragment = r.take(usize::from(length))?;
        self.r = r;
        Some(Record {
            cid,
            header: RecordHeader {
                content_type,
                version,
                epoch,
                sequence,
                length,
            },
            fragment,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_records_per_datagram_and_garbage_tail() {
        let mut d = Vec::new();
        for (i, body) in [&b"ab"[..], &b"cde"[..]].iter().enumerate() {
            RecordHeader {
                content_type: ContentType::Handshake,
                version: DTLS_1_2,
                epoch: 0,
                sequence: i as u64 + (1 << 40),
                length: body.len() as u16,
            }
            .emit(&mut d);
            d.extend_from_slice(body);
        }
        d.extend_from_slice(&[22, 0xfe, 0xfd, 0]);
        let mut it = Records::new(&d);
        let a = it.next().expect("first");
        assert_eq!(a.fragment, b"ab");
        assert_eq!(a.header.sequence, 1 << 40);
        let b = it.next().expect("second");
        assert_eq!(b.fragment, b"cde");
        assert!(it.next().is_none());
        assert_eq!(it.remaining(), 4);
    }

    proptest::proptest! {
        /// A `tls12_cid` record written out parses back to itself with the id's length,
        /// beside plain records in the same datagram, and `peek_connection_id` finds the id.
        #[test]
        fn cid_records_round_trip(
            epoch in 1u16..,
            sequence in 0u64..=MAX_SEQ,
            cid in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..=255),
            fragment in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            plain_after in proptest::prelude::any::<bool>(),
        ) {
            let header = RecordHeader {
                content_type: ContentType::Tls12Cid,
                version: DTLS_1_2,
                epoch,
                sequence,
                length: fragment.len() as u16,
            };
            let rec = Record { header, cid: &cid, fragment: &fragment };
            let mut d = Vec::new();
            rec.emit(&mut d);
            proptest::prop_assert_eq!(d.len(), HEADER_LEN + cid.len() + fragment.len());
            proptest::prop_assert_eq!(crate::peek_connection_id(&d, cid.len()), Some(&cid[..]));
            let plain = Record {
                header: RecordHeader { content_type: ContentType::ApplicationData, length: 2, ..header },
                cid: &[],
                fragment: b"ab",
            };
            if plain_after {
                plain.emit(&mut d);
            }
            let mut it = Records::with_cid(&d, Some(cid.len()));
            proptest::prop_assert_eq!(it.next(), Some(rec));
            if plain_after {
                proptest::prop_assert_eq!(it.next(), Some(plain));
            }
            proptest::prop_assert_eq!(it.next(), None);
            proptest::prop_assert_eq!(it.remaining(), 0);
            // Without the id's length, the record cannot be delimited: the datagram ends.
            proptest::prop_assert_eq!(Records::new(&d).next(), None);
        }

        /// Any bytes with any id length: parsing never panics and each record it yields
        /// re-encodes to the bytes it came from.
        #[test]
        fn any_bytes_parse_safely(
            d in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            cid_len in proptest::option::of(0usize..40),
        ) {
            let mut it = Records::with_cid(&d, cid_len);
            let mut at = 0;
            for r in it.by_ref() {
                let mut again = Vec::new();
                r.emit(&mut again);
                proptest::prop_assert_eq!(&d[at..at + again.len()], &again[..]);
                at += again.len();
            }
            proptest::prop_assert_eq!(at + it.remaining(), d.len());
            let _ = crate::peek_connection_id(&d, cid_len.unwrap_or(0));
        }
    }

    #[test]
    fn seq_num_packs_epoch_and_sequence() {
        let h = RecordHeader {
            content_type: ContentType::ApplicationData,
            version: DTLS_1_2,
            epoch: 1,
            sequence: 0x0000_0102_0304_0506,
            length: 0,
        };
        assert_eq!(h.seq_num(), [0, 1, 1, 2, 3, 4, 5, 6]);
    }
}
