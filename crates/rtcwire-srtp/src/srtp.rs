//! SRTP (RFC 3711 §3.1, §3.3; RFC 7714 §8–9): protecting and unprotecting RTP packets.
//!
//! Wire layout: `RTP header ‖ encrypted payload ‖ authentication tag`. AES-CM profiles
//! authenticate `header ‖ encrypted payload ‖ ROC` with HMAC-SHA1; AEAD profiles use the
//! header as associated data.

use crate::header;
use crate::index::{estimate, SRTP_INDEX_LIMIT};
use crate::kdf::Transform;
use crate::replay::ReplayWindow;
use crate::stream::{RtpRecv, RtpSend};
use crate::{Context, Error};
use rtcwire_proto::ct_eq;

/// AES-CM counter block: `(salt · 2^16) ⊕ (SSRC · 2^64) ⊕ (index · 2^16)` (RFC 3711
/// §4.1.1). SRTCP uses the same with its 31-bit index.
#[inline]
pub(crate) fn cm_iv(salt: &[u8; 16], ssrc: u32, index: u64) -> [u8; 16] {
    let x = u128::from_be_bytes(*salt) ^ (u128::from(ssrc) << 64) ^ (u128::from(index) << 16);
    x.to_be_bytes()
}

/// AEAD nonce: `salt ⊕ (0x0000 ‖ SSRC ‖ ROC ‖ SEQ)` (RFC 7714 §8.1), which is
/// `salt ⊕ (SSRC · 2^48 ⊕ index)`; SRTCP puts its 31-bit index in the low word (§9.1).
#[inline]
pub(crate) fn gcm_iv(salt: &[u8; 12], ssrc: u32, index: u64) -> [u8; 12] {
    let mut s = [0u8; 16];
    s[4..].copy_from_slice(salt);
    let x = u128::from_be_bytes(s) ^ (u128::from(ssrc) << 48) ^ u128::from(index);
    let b = x.to_be_bytes();
    let mut iv = [0u8; 12];
    iv.copy_from_slice(&b[4..]);
    iv
}

impl Transform {
    /// Encrypts `buf[hdr..len]` and writes the tag at `buf[len..len + tag_len]`. The caller
    /// checked that `buf` has room.
    #[inline]
    fn seal_rtp(
        &self,
        buf: &mut [u8],
        hdr: usize,
        len: usize,
        tag_len: usize,
        ssrc: u32,
        index: u64,
    ) {
        match self {
            Transform::CmHmac { cipher, salt, mac } => {
                if let Some(payload) = buf.get_mut(hdr..len) {
                    cipher.apply_keystream(&cm_iv(salt, ssrc, index), payload);
                }
                let roc = ((index >> 16) as u32).to_be_bytes();
                let full = mac.compute(buf.get(..len).unwrap_or_default(), &roc);
                if let (Some(dst), Some(src)) =
                    (buf.get_mut(len..len + tag_len), full.get(..tag_len))
                {
                    dst.copy_from_slice(src);
                }
            }
            Transform::Gcm { aead, salt } => {
                let Some((head, rest)) = buf.split_at_mut_checked(hdr) else {
                    return;
                };
                let Some((payload, tail)) = rest.split_at_mut_checked(len.saturating_sub(hdr))
                else {
                    return;
                };
                let tag = aead.seal(gcm_iv(salt, ssrc, index), head, payload);
                if let Some(dst) = tail.get_mut(..tag.len()) {
                    dst.copy_from_slice(&tag);
                }
            }
        }
    }

    /// Checks the tag at `buf[body..]` and decrypts `buf[hdr..body]`. `false` if the tag is
    /// wrong (the payload is then left undecrypted for AES-CM, unspecified for GCM).
    #[inline]
    fn open_rtp(&self, buf: &mut [u8], hdr: usize, body: usize, ssrc: u32, index: u64) -> bool {
        match self {
            Transform::CmHmac { cipher, salt, mac } => {
                let Some((authed, tag)) = buf.split_at_mut_checked(body) else {
                    return false;
                };
                let roc = ((index >> 16) as u32).to_be_bytes();
                let full = mac.compute(authed, &roc);
                if !full.get(..tag.len()).is_some_and(|want| ct_eq(want, tag)) {
                    return false;
                }
                if let Some(payload) = authed.get_mut(hdr..) {
                    cipher.apply_keystream(&cm_iv(salt, ssrc, index), payload);
                }
                true
            }
            Transform::Gcm { aead, salt } => {
                let Some((head, rest)) = buf.split_at_mut_checked(hdr) else {
                    return false;
                };
                aead.open(gcm_iv(salt, ssrc, index), head, rest)
            }
        }
    }
}

impl Context {
    /// Protects the RTP packet in `buf[..len]` in place: encrypts its payload and appends
    /// the authentication tag, returning the SRTP packet's length (`len` +
    /// [`rtp_overhead`](Self::rtp_overhead)). `buf` must have room for the tag.
    ///
    /// The rollover counter is tracked per SSRC from the sequence numbers, so packets may
    /// be sent out of order, and a packet may be protected again for a retransmission (it
    /// comes out byte for byte the same). Two *different* packets must never share an SSRC
    /// and sequence number within a roll: that reuses the keystream.
    pub fn protect_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let packet = buf.get(..len).ok_or(Error::BufferTooSmall {
            needed: len,
            available: buf.len(),
        })?;
        let h = header::rtp(packet)?;
        let tag_len = self.profile.srtp_tag_len();
        let total = len + tag_len;
        if buf.len() < total {
            return Err(Error::BufferTooSmall {
                needed: total,
                available: buf.len(),
            });
        }
        let stream = self.rtp_send.get_or_insert(h.ssrc, || RtpSend {
            highest: u64::from(h.seq),
        })?;
        let index = estimate(stream.highest, h.seq);
        if index >= SRTP_INDEX_LIMIT {
            return Err(Error::IndexExhausted { ssrc: h.ssrc });
        }
        stream.highest = stream.highest.max(index);
        self.rtp.seal_rtp(buf, h.len, len, tag_len, h.ssrc.0, index);
        Ok(total)
    }

    /// Unprotects the SRTP packet filling `buf` in place: checks the tag and the replay
    /// window, decrypts the payload, and returns the RTP packet's length (it is
    /// `buf[..n]`).
    ///
    /// On any error nothing in the context changes (no ROC, replay window or stream is
    /// touched); the buffer's contents are then unspecified.
    pub fn unprotect_rtp(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let len = buf.len();
        let tag_len = self.profile.srtp_tag_len();
        let body = len.checked_sub(tag_len).ok_or(Error::Truncated {
            needed: header::RTP_FIXED + tag_len,
            available: len,
        })?;
        let h = header::rtp(buf.get(..body).unwrap_or_default()).map_err(|e| match e {
            Error::Truncated { needed, .. } => Error::Truncated {
                needed: needed + tag_len,
                available: len,
            },
            other => other,
        })?;
        let auth_failed = Error::AuthFailed { ssrc: h.ssrc };
        // Known stream: one lookup, and the state is written only after the tag verified.
        if let Some(stream) = self.rtp_recv.get_mut(h.ssrc) {
            let top = stream.window.top().unwrap_or(u64::from(h.seq));
            let index = estimate(top, h.seq);
            stream.window.check(index).map_err(|_| Error::Replay {
                ssrc: h.ssrc,
                index,
            })?;
            if index >= SRTP_INDEX_LIMIT {
                return Err(Error::IndexExhausted { ssrc: h.ssrc });
            }
            if !self.rtp.open_rtp(buf, h.len, body, h.ssrc.0, index) {
                return Err(auth_failed);
            }
            stream.window.accept(index);
            return Ok(body);
        }
        // New stream: ROC 0 (RFC 3711 §3.3.1), created once the packet authenticated.
        self.rtp_recv.check_room(h.ssrc)?;
        let index = u64::from(h.seq);
        if !self.rtp.open_rtp(buf, h.len, body, h.ssrc.0, index) {
            return Err(auth_failed);
        }
        let window = self.config.replay_window;
        let stream = self.rtp_recv.get_or_insert(h.ssrc, || RtpRecv {
            window: ReplayWindow::new(window),
        })?;
        stream.window.accept(index);
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ivs_match_the_rfc_layouts() {
        // RFC 3711 B.2: SSRC 0, index 0 → the salt shifted by 16 bits.
        let mut salt = [0u8; 16];
        salt[..14].copy_from_slice(&hex::decode("f0f1f2f3f4f5f6f7f8f9fafbfcfd").unwrap());
        assert_eq!(
            hex::encode(cm_iv(&salt, 0, 0)),
            "f0f1f2f3f4f5f6f7f8f9fafbfcfd0000"
        );
        // RFC 7714 §16.1: the IV printed for SSRC 5501a0b2, ROC 0, SEQ f17b.
        let salt: [u8; 12] = hex::decode("517569642070726f2071756f")
            .unwrap()
            .try_into()
            .unwrap();
        assert_eq!(
            hex::encode(gcm_iv(&salt, 0x5501_a0b2, 0xf17b)),
            "51753c6580c2726f20718414"
        );
        // §17: SRTCP, SSRC 4d617273, index 5d4.
        assert_eq!(
            hex::encode(gcm_iv(&salt, 0x4d61_7273, 0x5d4)),
            "517524055203726f207170bb"
        );
    }
}

#[cfg(test)]
mod exhaustion_tests {
    use super::*;
    use crate::{Config, SrtpProfile, Ssrc};

    #[test]
    fn srtp_index_space_ends_in_an_error() {
        let p = SrtpProfile::AeadAes128Gcm;
        let mut tx = Context::new(p, &[1; 16], &[2; 12], Config::default()).unwrap();
        tx.rtp_send
            .get_or_insert(Ssrc(5), || RtpSend {
                highest: SRTP_INDEX_LIMIT - 2,
            })
            .unwrap();
        let mut buf = [0u8; 64];
        let mut rtp = [0x80, 96, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 5];
        buf[..12].copy_from_slice(&rtp);
        // Sequence 65535 of the last roll is the last index.
        assert_eq!(tx.protect_rtp(&mut buf, 12), Ok(28));
        assert_eq!(tx.send_roc(Ssrc(5)), Some(u32::MAX));
        rtp[2..4].copy_from_slice(&[0, 0]);
        buf[..12].copy_from_slice(&rtp);
        assert_eq!(
            tx.protect_rtp(&mut buf, 12),
            Err(Error::IndexExhausted { ssrc: Ssrc(5) })
        );
    }
}
