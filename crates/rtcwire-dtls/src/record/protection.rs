//! AEAD record protection: AES-GCM with RFC 5288 nonces, ChaCha20-Poly1305 with RFC 7905
//! nonces. Sealing appends to the caller's buffer; opening decrypts in place, either in the
//! caller's buffer ([`Protection::open`]) or in an owned one filled with a single copy of the
//! ciphertext ([`Protection::open_into`]).

use super::header::{ContentType, RecordHeader, DTLS_1_2, HEADER_LEN};
use crate::crypto::suite::BulkCipher;
use crate::Error;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, NONCE_LEN};

/// Largest RFC 9146 additional data: 23 bytes and a 255-byte connection id.
const CID_AAD_MAX: usize = 23 + 255;

/// One direction's keys for one epoch.
pub struct Protection {
    bulk: BulkCipher,
    key: LessSafeKey,
    /// GCM: 4-byte salt then zeros. ChaCha: the full 12-byte IV.
    iv: [u8; NONCE_LEN],
}

impl std::fmt::Debug for Protection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Protection")
            .field("bulk", &self.bulk)
            .finish_non_exhaustive()
    }
}

/// Why a record failed to open. Both are counted, never reported to the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenError {
    /// Shorter than explicit nonce plus tag.
    TooShort,
    /// Authentication failed.
    BadTag,
    /// A `tls12_cid` record's inner plaintext held no (known) content type.
    NoContentType,
}

impl Protection {
    /// Keys for `bulk` from the key block's `key` and implicit `iv`.
    pub fn new(bulk: BulkCipher, key: &[u8], iv: &[u8]) -> Result<Protection, Error> {
        let unbound = UnboundKey::new(bulk.ring_algorithm(), key).map_err(|_| Error::Crypto)?;
        let mut full = [0u8; NONCE_LEN];
        full.get_mut(..iv.len())
            .ok_or(Error::Crypto)?
            .copy_from_slice(iv);
        if iv.len() != bulk.fixed_iv_len() {
            return Err(Error::Crypto);
        }
        Ok(Protection {
            bulk,
            key: LessSafeKey::new(unbound),
            iv: full,
        })
    }

    /// The cipher.
    #[must_use]
    pub fn bulk(&self) -> BulkCipher {
        self.bulk
    }

    fn nonce(&self, seq_num: [u8; 8]) -> Nonce {
        let mut n = self.iv;
        match self.bulk {
            BulkCipher::Aes128Gcm | BulkCipher::Aes256Gcm => {
                // salt(4) ‖ explicit nonce(8); our explicit nonce is the seq_num.
                for (d, s) in n.iter_mut().skip(4).zip(seq_num) {
                    *d = s;
                }
            }
            BulkCipher::Chacha20Poly1305 => {
                for (d, s) in n.iter_mut().skip(4).zip(seq_num) {
                    *d ^= s;
                }
            }
        }
        Nonce::assume_unique_for_key(n)
    }

    fn aad(header: &RecordHeader, plain_len: usize) -> [u8; 13] {
        let mut a = [0u8; 13];
        let s = header.seq_num();
        a[..8].copy_from_slice(&s);
        a[8] = header.content_type.code();
        a[9..11].copy_from_slice(&header.version.to_be_bytes());
        a[11..13].copy_from_slice(&(plain_len as u16).to_be_bytes());
        a
    }

    /// RFC 9146 §5 additional data of a `tls12_cid` record, into `buf`; returns its length
    /// (23 bytes plus the id):
    /// `seq_num_placeholder(8 × 0xff) ‖ tls12_cid ‖ cid_length ‖ tls12_cid ‖ version ‖
    /// epoch ‖ sequence_number ‖ cid ‖ length_of_DTLSInnerPlaintext`.
    fn cid_aad(
        header: &RecordHeader,
        cid: &[u8],
        inner_len: usize,
        buf: &mut [u8; CID_AAD_MAX],
    ) -> Option<usize> {
        let cid_len = u8::try_from(cid.len()).ok()?;
        let inner = u16::try_from(inner_len).ok()?;
        let n = 23 + cid.len();
        let a = buf.get_mut(..n)?;
        a[..8].fill(0xff);
        a[8] = ContentType::Tls12Cid.code();
        a[9] = cid_len;
        a[10] = ContentType::Tls12Cid.code();
        a[11..13].copy_from_slice(&header.version.to_be_bytes());
        a[13..21].copy_from_slice(&header.seq_num());
        a.get_mut(21..21 + cid.len())?.copy_from_slice(cid);
        a.get_mut(21 + cid.len()..)?
            .copy_from_slice(&inner.to_be_bytes());
        Some(n)
    }

    /// Bytes a record needs in front of its plaintext: header and explicit nonce.
    #[must_use]
    pub fn prefix_len(&self) -> usize {
        HEADER_LEN + self.bulk.explicit_nonce_len()
    }

    /// Appends one protected record (header, explicit nonce, ciphertext, tag) to `out`.
    pub fn seal(
        &self,
        content_type: ContentType,
        epoch: u16,
        sequence: u64,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let start = out.len();
        out.reserve(self.prefix_len() + plaintext.len() + 16);
        out.resize(start + self.prefix_len(), 0);
        out.extend_from_slice(plaintext);
        self.seal_in_place(content_type, epoch, sequence, out, start)
    }

    /// Seals a record in place, without copying the plaintext: `buf[start..]` holds
    /// [`prefix_len`](Self::prefix_len) bytes of room followed by the plaintext. The room
    /// receives the header and explicit nonce, the plaintext is encrypted where it lies and
    /// the tag is appended.
    pub fn seal_in_place(
        &self,
        content_type: ContentType,
        epoch: u16,
        sequence: u64,
        buf: &mut Vec<u8>,
        start: usize,
    ) -> Result<(), Error> {
        let prefix = self.prefix_len();
        let body_at = start + prefix;
        let plain_len = buf.len().checked_sub(body_at).ok_or(Error::Crypto)?;
        let total = self.bulk.overhead() + plain_len;
        let length = u16::try_from(total).map_err(|_| Error::RecordTooLarge(plain_len))?;
        let header = RecordHeader {
            content_type,
            version: DTLS_1_2,
            epoch,
            sequence,
            length,
        };
        let seq_num = header.seq_num();
        // The room is exactly the header and the explicit nonce (`prefix_len`), checked here
        // rather than trusted from the caller.
        let room = buf.get_mut(start..body_at).ok_or(Error::Crypto)?;
        let (h, explicit) = room.split_at_mut_checked(HEADER_LEN).ok_or(Error::Crypto)?;
        h.copy_from_slice(&header.to_bytes());
        match explicit.len() {
            0 => {}
            8 => explicit.copy_from_slice(&seq_num),
            _ => return Err(Error::Crypto),
        }
        let body = buf.get_mut(body_at..).ok_or(Error::Crypto)?;
        let tag = self
            .key
            .seal_in_place_separate_tag(
                self.nonce(seq_num),
                Aad::from(Self::aad(&header, plain_len)),
                body,
            )
            .map_err(|_| Error::Crypto)?;
        buf.extend_from_slice(tag.as_ref());
        Ok(())
    }

    /// Seals a `tls12_cid` record (RFC 9146) in place: `buf[start..]` holds
    /// `prefix_len() + cid.len()` bytes of room, then the plaintext. The real content type
    /// is appended to the plaintext (no padding: the DTLSInnerPlaintext), the header with
    /// the connection id goes into the room, and the RFC 9146 §5 additional data is used.
    pub fn seal_in_place_cid(
        &self,
        content_type: ContentType,
        epoch: u16,
        sequence: u64,
        cid: &[u8],
        buf: &mut Vec<u8>,
        start: usize,
    ) -> Result<(), Error> {
        let hlen = HEADER_LEN + cid.len();
        let body_at = start + hlen + self.bulk.explicit_nonce_len();
        if buf.len() < body_at {
            return Err(Error::Crypto);
        }
        buf.push(content_type.code());
        let inner_len = buf.len() - body_at;
        let total = self.bulk.overhead() + inner_len;
        let length = u16::try_from(total).map_err(|_| Error::RecordTooLarge(inner_len))?;
        let header = RecordHeader {
            content_type: ContentType::Tls12Cid,
            version: DTLS_1_2,
            epoch,
            sequence,
            length,
        };
        let seq_num = header.seq_num();
        let mut aad = [0u8; CID_AAD_MAX];
        let n = Self::cid_aad(&header, cid, inner_len, &mut aad).ok_or(Error::Crypto)?;
        let room = buf.get_mut(start..body_at).ok_or(Error::Crypto)?;
        let (h, explicit) = room.split_at_mut_checked(hlen).ok_or(Error::Crypto)?;
        let hb = header.to_bytes();
        h[..11].copy_from_slice(&hb[..11]);
        h.get_mut(11..11 + cid.len())
            .ok_or(Error::Crypto)?
            .copy_from_slice(cid);
        h.get_mut(11 + cid.len()..)
            .ok_or(Error::Crypto)?
            .copy_from_slice(&hb[11..]);
        match explicit.len() {
            0 => {}
            8 => explicit.copy_from_slice(&seq_num),
            _ => return Err(Error::Crypto),
        }
        let body = buf.get_mut(body_at..).ok_or(Error::Crypto)?;
        let tag = self
            .key
            .seal_in_place_separate_tag(
                self.nonce(seq_num),
                Aad::from(aad.get(..n).ok_or(Error::Crypto)?),
                body,
            )
            .map_err(|_| Error::Crypto)?;
        buf.extend_from_slice(tag.as_ref());
        Ok(())
    }

    /// Opens a `tls12_cid` record's fragment in place (RFC 9146): authenticates it with the
    /// §5 additional data, strips the zero padding and returns the real content type and
    /// the content's length, which starts after the explicit nonce.
    pub fn open_cid(
        &self,
        header: &RecordHeader,
        cid: &[u8],
        fragment: &mut [u8],
    ) -> Result<(ContentType, usize), OpenError> {
        let (nonce, inner_len) = self.open_params(header, fragment)?;
        let mut aad = [0u8; CID_AAD_MAX];
        let n = Self::cid_aad(header, cid, inner_len, &mut aad).ok_or(OpenError::TooShort)?;
        let body = fragment
            .get_mut(self.bulk.explicit_nonce_len()..)
            .ok_or(OpenError::TooShort)?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad.get(..n).unwrap_or(&[])), body)
            .map_err(|_| OpenError::BadTag)?;
        // The last non-zero byte is the real type; zeros after it are padding. Bounded by
        // the record length.
        let mut end = plain.len();
        loop {
            end = end.checked_sub(1).ok_or(OpenError::NoContentType)?;
            match plain.get(end) {
                Some(0) => continue,
                Some(&t) => {
                    return match ContentType::from_code(t) {
                        Some(ct) if ct != ContentType::Tls12Cid => Ok((ct, end)),
                        _ => Err(OpenError::NoContentType),
                    }
                }
                None => return Err(OpenError::NoContentType),
            }
        }
    }

    /// Decrypts a record's fragment in place and returns the plaintext.
    pub fn open<'b>(
        &self,
        header: &RecordHeader,
        fragment: &'b mut [u8],
    ) -> Result<&'b mut [u8], OpenError> {
        let (nonce, plain_len) = self.open_params(header, fragment)?;
        let body = fragment
            .get_mut(self.bulk.explicit_nonce_len()..)
            .ok_or(OpenError::TooShort)?;
        self.key
            .open_in_place(nonce, Aad::from(Self::aad(header, plain_len)), body)
            .map(|p| &mut p[..])
            .map_err(|_| OpenError::BadTag)
    }

    /// Opens a record from a borrowed fragment into `out` with a single copy: `out` is
    /// cleared, receives the ciphertext and tag (the explicit nonce is read where it lies,
    /// never copied), is decrypted in place and truncated so that it holds exactly the
    /// plaintext. A caller that hands `out` on (as [`crate::Connection`] does for
    /// [`crate::Event::ApplicationData`]) thus moves the plaintext without copying it again.
    /// On error `out` is left empty.
    pub fn open_into(
        &self,
        header: &RecordHeader,
        fragment: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), OpenError> {
        out.clear();
        let (nonce, plain_len) = self.open_params(header, fragment)?;
        let body = fragment
            .get(self.bulk.explicit_nonce_len()..)
            .ok_or(OpenError::TooShort)?;
        out.extend_from_slice(body);
        if self
            .key
            .open_in_place(nonce, Aad::from(Self::aad(header, plain_len)), out)
            .is_err()
        {
            out.clear();
            return Err(OpenError::BadTag);
        }
        out.truncate(plain_len);
        Ok(())
    }

    /// The nonce and plaintext length of a received fragment.
    fn open_params(
        &self,
        header: &RecordHeader,
        fragment: &[u8],
    ) -> Result<(Nonce, usize), OpenError> {
        let plain_len = fragment
            .len()
            .checked_sub(self.bulk.overhead())
            .ok_or(OpenError::TooShort)?;
        // The nonce is rebuilt from the header for ChaCha; for GCM it is the explicit part
        // the sender chose (any value is legal), salted with our implicit IV.
        let nonce = if self.bulk.explicit_nonce_len() == 8 {
            let mut e = [0u8; 8];
            e.copy_from_slice(fragment.get(..8).ok_or(OpenError::TooShort)?);
            self.nonce(e)
        } else {
            self.nonce(header.seq_num())
        };
        Ok((nonce, plain_len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::header::Records;

    fn pair(bulk: BulkCipher) -> Protection {
        let key = vec![7u8; bulk.key_len()];
        let iv = vec![9u8; bulk.fixed_iv_len()];
        Protection::new(bulk, &key, &iv).expect("keys")
    }

    /// The RFC 9146 §5 layout written out by hand, independently of `cid_aad`: a record we
    /// seal opens with ring under exactly this additional data, and its inner plaintext is
    /// the content followed by the real type.
    #[test]
    fn tls12_cid_records_use_the_rfc_9146_additional_data() {
        for bulk in [BulkCipher::Aes128Gcm, BulkCipher::Chacha20Poly1305] {
            let p = pair(bulk);
            let cid = [0xde, 0xad, 0xbe];
            let mut rec = vec![0u8; p.prefix_len() + cid.len()];
            rec.extend_from_slice(b"hello");
            p.seal_in_place_cid(
                ContentType::ApplicationData,
                1,
                0x0102_0304_0506,
                &cid,
                &mut rec,
                0,
            )
            .expect("seal");
            // type, version, epoch, sequence, cid, length.
            assert_eq!(
                &rec[..14],
                &[25, 0xfe, 0xfd, 0, 1, 1, 2, 3, 4, 5, 6, 0xde, 0xad, 0xbe]
            );
            let length = u16::from_be_bytes([rec[14], rec[15]]) as usize;
            assert_eq!(rec.len(), 16 + length);
            let inner_len: u16 = 5 + 1; // "hello" and the real type, no padding
            let mut aad = vec![0xff; 8]; // seq_num_placeholder
            aad.push(25); // tls12_cid
            aad.push(3); // cid_length
            aad.push(25); // tls12_cid
            aad.extend_from_slice(&[0xfe, 0xfd]); // DTLSCiphertext.version
            aad.extend_from_slice(&[0, 1]); // epoch
            aad.extend_from_slice(&[1, 2, 3, 4, 5, 6]); // sequence_number
            aad.extend_from_slice(&cid); // cid
            aad.extend_from_slice(&inner_len.to_be_bytes()); // length_of_DTLSInnerPlaintext
            assert_eq!(aad.len(), 23 + 3);
            let explicit = bulk.explicit_nonce_len();
            let mut seq_num = [0u8; 8];
            seq_num.copy_from_slice(&[0, 1, 1, 2, 3, 4, 5, 6]);
            let mut body = rec[16 + explicit..].to_vec();
            let plain = p
                .key
                .open_in_place(p.nonce(seq_num), Aad::from(&aad[..]), &mut body)
                .expect("opens under the RFC 9146 additional data");
            assert_eq!(plain, b"hello\x17");
            // And our own opener agrees, padding or not.
            let h = RecordHeader {
                content_type: ContentType::Tls12Cid,
                version: DTLS_1_2,
                epoch: 1,
                sequence: 0x0102_0304_0506,
                length: length as u16,
            };
            let mut frag = rec[16..].to_vec();
            let (ct, n) = p.open_cid(&h, &cid, &mut frag).expect("open");
            assert_eq!(
                (ct, &frag[explicit..explicit + n]),
                (ContentType::ApplicationData, &b"hello"[..])
            );
            // Another id fails authentication.
            let mut frag = rec[16..].to_vec();
            assert_eq!(
                p.open_cid(&h, &[0xde, 0xad, 0xbf], &mut frag),
                Err(OpenError::BadTag)
            );
        }
    }

    #[test]
    fn seal_in_place_matches_seal() {
        for bulk in [BulkCipher::Aes128Gcm, BulkCipher::Chacha20Poly1305] {
            let p = pair(bulk);
            let mut a = vec![0xee; 3];
            p.seal(ContentType::Handshake, 1, 9, b"payload", &mut a)
                .expect("seal");
            let mut b = vec![0xee; 3];
            b.resize(3 + p.prefix_len(), 0);
            b.extend_from_slice(b"payload");
            p.seal_in_place(ContentType::Handshake, 1, 9, &mut b, 3)
                .expect("seal in place");
            assert_eq!(a, b);
            // Opening in place on the owned buffer leaves the plaintext after the prefix.
            let h = Records::new(&b[3..]).next().expect("record").header;
            let plain = p.open(&h, &mut b[3 + HEADER_LEN..]).expect("open").to_vec();
            assert_eq!(plain, b"payload");
        }
    }

    #[test]
    fn seal_open_round_trip_and_tamper_fails() {
        for bulk in [
            BulkCipher::Aes128Gcm,
            BulkCipher::Aes256Gcm,
            BulkCipher::Chacha20Poly1305,
        ] {
            let p = pair(bulk);
            let mut out = Vec::new();
            p.seal(ContentType::ApplicationData, 1, 42, b"hello", &mut out)
                .expect("seal");
            assert_eq!(out.len(), HEADER_LEN + bulk.overhead() + 5);
            let rec = Records::new(&out).next().expect("record");
            let mut frag = rec.fragment.to_vec();
            let plain = p.open(&rec.header, &mut frag).expect("open");
            assert_eq!(plain, b"hello");

            // A flipped ciphertext bit, or a different sequence number, fails.
            let mut frag = rec.fragment.to_vec();
            frag[bulk.explicit_nonce_len()] ^= 1;
            assert_eq!(p.open(&rec.header, &mut frag), Err(OpenError::BadTag));
            let mut h = rec.header;
            h.sequence += 1;
            let mut frag = rec.fragment.to_vec();
            assert_eq!(p.open(&h, &mut frag), Err(OpenError::BadTag));
            assert_eq!(p.open(&h, &mut [0u8; 3]), Err(OpenError::TooShort));

            // open_into agrees with open and leaves exactly the plaintext, or nothing.
            let mut owned = vec![0xaa; 40];
            p.open_into(&rec.header, rec.fragment, &mut owned)
                .expect("open_into");
            assert_eq!(owned, b"hello");
            assert_eq!(
                p.open_into(&h, rec.fragment, &mut owned),
                Err(OpenError::BadTag)
            );
            assert!(owned.is_empty());
            let mut bad = rec.fragment.to_vec();
            let last = bad.len() - 1;
            bad[last] ^= 0x80;
            assert_eq!(
                p.open_into(&rec.header, &bad, &mut owned),
                Err(OpenError::BadTag)
            );
            assert_eq!(
                p.open_into(
                    &rec.header,
                    &rec.fragment[..bulk.overhead() - 1],
                    &mut owned
                ),
                Err(OpenError::TooShort)
            );
            assert!(owned.is_empty());
        }
    }
}
