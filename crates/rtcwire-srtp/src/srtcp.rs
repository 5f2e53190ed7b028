//! SRTCP (RFC 3711 §3.4; RFC 7714 §9, §17): protecting and unprotecting compound RTCP.
//!
//! AES-CM layout: `header(8) ‖ [encrypted] rest ‖ E+index(4) ‖ tag(10)`, the tag covering
//! everything before it (80 bits for every HMAC-SHA1 profile, `_32` included: RFC 5764
//! §4.1.2). AEAD layout: `header(8) ‖ ciphertext ‖ tag(16) ‖ E+index(4)`, with the header
//! and the E+index word as associated data — or, with E = 0, the whole packet.

use crate::header::{self, be32, RTCP_FIXED};
use crate::index::SRTCP_INDEX_LIMIT;
use crate::kdf::Transform;
use crate::replay::ReplayWindow;
use crate::srtp::{cm_iv, gcm_iv};
use crate::stream::{RtcpRecv, RtcpSend};
use crate::{Context, Error};
use rtcwire_proto::ct_eq;

const E_FLAG: u32 = 0x8000_0000;
const GCM_TAG: usize = 16;

impl Transform {
    /// Writes the SRTCP trailer for `buf[..len]` (room checked by the caller).
    fn seal_rtcp(&self, buf: &mut [u8], len: usize, tag_len: usize, ssrc: u32, word: u32) {
        let index = u64::from(word & !E_FLAG);
        let encrypt = word & E_FLAG != 0;
        let word = word.to_be_bytes();
        match self {
            Transform::CmHmac { cipher, salt, mac } => {
                if encrypt {
                    if let Some(rest) = buf.get_mut(RTCP_FIXED..len) {
                        cipher.apply_keystream(&cm_iv(salt, ssrc, index), rest);
                    }
                }
                if let Some(dst) = buf.get_mut(len..len + 4) {
                    dst.copy_from_slice(&word);
                }
                let full = mac.compute(buf.get(..len + 4).unwrap_or_default(), &[]);
                if let (Some(dst), Some(src)) =
                    (buf.get_mut(len + 4..len + 4 + tag_len), full.get(..tag_len))
                {
                    dst.copy_from_slice(src);
                }
            }
            Transform::Gcm { aead, salt } => {
                let iv = gcm_iv(salt, ssrc, index);
                let tag = if encrypt {
                    let mut aad = [0u8; RTCP_FIXED + 4];
                    let Some((head, rest)) = buf.split_at_mut_checked(RTCP_FIXED) else {
                        return;
                    };
                    aad[..RTCP_FIXED].copy_from_slice(head);
                    aad[RTCP_FIXED..].copy_from_slice(&word);
                    let Some(body) = rest.get_mut(..len.saturating_sub(RTCP_FIXED)) else {
                        return;
                    };
                    aead.seal(iv, &aad, body)
                } else {
                    // The AAD is the packet followed by the word: put the word there first.
                    if let Some(dst) = buf.get_mut(len..len + 4) {
                        dst.copy_from_slice(&word);
                    }
                    aead.seal(iv, buf.get(..len + 4).unwrap_or_default(), &mut [])
                };
                if let Some(dst) = buf.get_mut(len + GCM_TAG..len + GCM_TAG + 4) {
                    dst.copy_from_slice(&word);
                }
                if let Some(dst) = buf.get_mut(len..len + GCM_TAG) {
                    dst.copy_from_slice(&tag);
                }
            }
        }
    }

    /// Verifies and decrypts an SRTCP packet whose payload ends at `plain` (before the
    /// trailer). `false` if the tag is wrong.
    fn open_rtcp(&self, buf: &mut [u8], plain: usize, ssrc: u32, word: u32) -> bool {
        let index = u64::from(word & !E_FLAG);
        let encrypted = word & E_FLAG != 0;
        match self {
            Transform::CmHmac { cipher, salt, mac } => {
                let Some((authed, tag)) = buf.split_at_mut_checked(plain + 4) else {
                    return false;
                };
                let full = mac.compute(authed, &[]);
                if !full.get(..tag.len()).is_some_and(|want| ct_eq(want, tag)) {
                    return false;
                }
                if encrypted {
                    if let Some(rest) = authed.get_mut(RTCP_FIXED..plain) {
                        cipher.apply_keystream(&cm_iv(salt, ssrc, index), rest);
                    }
                }
                true
            }
            Transform::Gcm { aead, salt } => {
                let iv = gcm_iv(salt, ssrc, index);
                let word = word.to_be_bytes();
                if encrypted {
                    let mut aad = [0u8; RTCP_FIXED + 4];
                    let Some((head, rest)) = buf.split_at_mut_checked(RTCP_FIXED) else {
                        return false;
                    };
                    aad[..RTCP_FIXED].copy_from_slice(head);
                    aad[RTCP_FIXED..].copy_from_slice(&word);
                    let Some(body_and_tag) =
                        rest.get_mut(..(plain + GCM_TAG).saturating_sub(RTCP_FIXED))
                    else {
                        return false;
                    };
                    aead.open(iv, &aad, body_and_tag)
                } else {
                    // AAD = packet ‖ word: move the tag aside, put the word after the
                    // packet, verify, then put the tag back.
                    let Some(tag_slot) = buf.get_mut(plain..plain + GCM_TAG) else {
                        return false;
                    };
                    let mut tag = [0u8; GCM_TAG];
                    tag.copy_from_slice(tag_slot);
                    let saved = tag;
                    tag_slot[..4].copy_from_slice(&word);
                    let ok = aead.open(iv, buf.get(..plain + 4).unwrap_or_default(), &mut tag);
                    if let Some(slot) = buf.get_mut(plain..plain + GCM_TAG) {
                        slot.copy_from_slice(&saved);
                    }
                    ok
                }
            }
        }
    }
}

impl Context {
    /// Protects the compound RTCP packet in `buf[..len]` in place: encrypts all but its
    /// first 8 octets (unless [`Config::encrypt_rtcp`](crate::Config::encrypt_rtcp) is off),
    /// appends the E flag and SRTCP index and the tag, and returns the SRTCP packet's
    /// length (`len` + [`rtcp_overhead`](Self::rtcp_overhead)). `buf` must have room.
    pub fn protect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let packet = buf.get(..len).ok_or(Error::BufferTooSmall {
            needed: len,
            available: buf.len(),
        })?;
        let ssrc = header::rtcp_ssrc(packet)?;
        let tag_len = self.profile.srtcp_tag_len();
        let total = len + 4 + tag_len;
        if buf.len() < total {
            return Err(Error::BufferTooSmall {
                needed: total,
                available: buf.len(),
            });
        }
        let stream = self
            .rtcp_send
            .get_or_insert(ssrc, || RtcpSend { next_index: 0 })?;
        let index = stream.next_index;
        if index >= SRTCP_INDEX_LIMIT {
            return Err(Error::IndexExhausted { ssrc });
        }
        stream.next_index = index + 1;
        let word = if self.config.encrypt_rtcp {
            index | E_FLAG
        } else {
            index
        };
        self.rtcp.seal_rtcp(buf, len, tag_len, ssrc.0, word);
        Ok(total)
    }

    /// Unprotects the SRTCP packet filling `buf` in place (encrypted or, with E = 0, only
    /// authenticated), checks the replay window, and returns the RTCP packet's length (it
    /// is `buf[..n]`). On error nothing in the context changes.
    pub fn unprotect_rtcp(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let len = buf.len();
        let tag_len = self.profile.srtcp_tag_len();
        let need = RTCP_FIXED + 4 + tag_len;
        if len < need {
            return Err(Error::Truncated {
                needed: need,
                available: len,
            });
        }
        let ssrc = header::rtcp_ssrc(buf)?;
        let plain = len - 4 - tag_len;
        let word_at = if self.profile.is_aead() {
            len - 4
        } else {
            plain
        };
        let word = be32(buf, word_at).ok_or(Error::Truncated {
            needed: need,
            available: len,
        })?;
        let index = u64::from(word & !E_FLAG);
        if let Some(stream) = self.rtcp_recv.get_mut(ssrc) {
            stream
                .window
                .check(index)
                .map_err(|_| Error::Replay { ssrc, index })?;
            if !self.rtcp.open_rtcp(buf, plain, ssrc.0, word) {
                return Err(Error::AuthFailed { ssrc });
            }
            stream.window.accept(index);
            return Ok(plain);
        }
        self.rtcp_recv.check_room(ssrc)?;
        if !self.rtcp.open_rtcp(buf, plain, ssrc.0, word) {
            return Err(Error::AuthFailed { ssrc });
        }
        let window = self.config.rtcp_replay_window;
        let stream = self.rtcp_recv.get_or_insert(ssrc, || RtcpRecv {
            window: ReplayWindow::new(window),
        })?;
        stream.window.accept(index);
        Ok(plain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ssrc;
    use crate::{Config, SrtpProfile};

    #[test]
    fn srtcp_index_space_ends_in_an_error() {
        for profile in SrtpProfile::ALL {
            let key = vec![1; profile.master_key_len()];
            let salt = vec![2; profile.master_salt_len()];
            let mut tx = Context::new(profile, &key, &salt, Config::default()).unwrap();
            let mut rx = Context::new(profile, &key, &salt, Config::default()).unwrap();
            tx.rtcp_send
                .get_or_insert(Ssrc(9), || RtcpSend {
                    next_index: SRTCP_INDEX_LIMIT - 1,
                })
                .unwrap();
            let rtcp = [0x80, 201, 0, 1, 0, 0, 0, 9];
            let mut buf = [0u8; 64];
            buf[..8].copy_from_slice(&rtcp);
            let n = tx.protect_rtcp(&mut buf, 8).unwrap();
            // The last index works, and carries the E flag.
            let word = be32(&buf[..n], if profile.is_aead() { n - 4 } else { 8 }).unwrap();
            assert_eq!(word, E_FLAG | (SRTCP_INDEX_LIMIT - 1));
            assert_eq!(rx.unprotect_rtcp(&mut buf[..n]), Ok(8));
            buf[..8].copy_from_slice(&rtcp);
            assert_eq!(
                tx.protect_rtcp(&mut buf, 8),
                Err(Error::IndexExhausted { ssrc: Ssrc(9) })
            );
        }
    }
}
