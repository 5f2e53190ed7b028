//! Media in: SRTP/SRTCP unprotected, RTP routed, reordered and reassembled into frames.

use rtcwire_rtp::rtcp::{Fir, FirEntry, List, Pli, Rtcp, TwccBuilder};
use rtcwire_rtp::rtp::{HeaderExtensions, RtpPacket};
use rtcwire_rtp::Ssrc;

use super::media::*;
use super::*;
use crate::media::{MediaFrame, MediaKind, RecvStream, Transceiver};

impl PeerConnection {
    // ----- receiving --------------------------------------------------------------------

    /// An SRTP or SRTCP datagram that came through ICE.
    pub(super) fn receive_srtp(
        &mut self,
        now: Instant,
        contents: &[u8],
        is_rtcp: bool,
    ) -> Result<(), Error> {
        self.ensure_srtp();
        let Some(rx) = self.media.srtp_rx.as_mut() else {
            return Err(Error::UnhandledPacket(if is_rtcp {
                PacketKind::Rtcp
            } else {
                PacketKind::Rtp
            }));
        };
        let mut buf = std::mem::take(&mut self.media.rx);
        buf.clear();
        buf.extend_from_slice(contents);
        let r = if is_rtcp {
            rx.unprotect_rtcp(&mut buf)
        } else {
            rx.unprotect_rtp(&mut buf)
        };
        let r = match r {
            Ok(n) => {
                buf.truncate(n);
                if is_rtcp {
                    self.handle_rtcp(now, &buf)
                } else {
                    self.handle_rtp(now, &mut buf)
                }
            }
            Err(e) => Err(e.into()),
        };
        self.media.rx = buf;
        r
    }

    /// Which transceiver an incoming packet belongs to: by SSRC, then the `mid`
    /// extension, then the `rid`, then the payload type (RFC 8843 §9.2).
    fn route(&self, ssrc: u32, pt: u8, packet: &RtpPacket<&[u8]>) -> Option<usize> {
        if let Some(id) = self.media.ssrcs.get(&ssrc) {
            return self.media.transceivers.iter().position(|t| t.id == *id);
        }
        let live = |t: &Transceiver| !t.stopped && t.mid.is_some() && !t.codecs.is_empty();
        for (i, t) in self.media.transceivers.iter().enumerate() {
            if !live(t) {
                continue;
            }
            let Ok(ext) = HeaderExtensions::parse(packet.extensions(), &t.ext) else {
                continue;
            };
            if ext.mid.is_some() && ext.mid == t.mid.as_deref() {
                return Some(i);
            }
            if let Some(rid) = ext.rid.or(ext.repaired_rid) {
                if t.remote_rids.iter().any(|r| r == rid) {
                    return Some(i);
                }
            }
        }
        self.media
            .transceivers
            .iter()
            .position(|t| live(t) && (t.codec(pt).is_some() || t.rtx_primary(pt).is_some()))
    }

    fn handle_rtp(&mut self, now: Instant, buf: &mut Vec<u8>) -> Result<(), Error> {
        let packet = RtpPacket::new_checked(&buf[..])?;
        let (ssrc, pt) = (packet.ssrc().0, packet.payload_type().0);
        let Some(index) = self.route(ssrc, pt, &packet) else {
            return Err(Error::UnroutablePacket(ssrc));
        };
        // The rid (or repaired-rid) is copied out: RTX rewrites the buffer below.
        let mut rid = RidBuf::default();
        let twcc_seq = {
            let t = self
                .media
                .transceivers
                .get(index)
                .ok_or(Error::UnroutablePacket(ssrc))?;
            let twcc = t.codecs.iter().any(|c| c.twcc);
            let ext = HeaderExtensions::parse(packet.extensions(), &t.ext).ok();
            if let Some(r) = ext.as_ref().and_then(|e| e.rid.or(e.repaired_rid)) {
                rid.set(r);
            }
            ext.and_then(|e| e.transport_cc).filter(|_| twcc)
        };
        if !self
            .media
            .transceivers
            .get(index)
            .is_some_and(crate::media::Transceiver::receiving)
        {
            return Err(Error::UnroutablePacket(ssrc));
        }
        // Every packet that reached a receiving transceiver counts for TWCC, padding-only
        // probes too (a sender's bandwidth probing needs their feedback).
        if let (Some(s), Some(epoch)) = (twcc_seq, self.media.epoch) {
            let us = i64::try_from(now.saturating_duration_since(epoch).as_micros()).unwrap_or(0);
            let builder = self
                .media
                .twcc
                .get_or_insert_with(|| TwccBuilder::new(Ssrc(0), Ssrc(ssrc)));
            if builder.push(s, us).is_err() {
                self.flush_twcc();
                if let Some(b) = self.media.twcc.as_mut() {
                    let _ = b.push(s, us);
                }
            }
        }
        let Some(t) = self.media.transceivers.get_mut(index) else {
            return Err(Error::UnroutablePacket(ssrc));
        };
        let tid = t.id;
        if t.kind == MediaKind::Video && t.codecs.iter().any(|c| c.remb) {
            self.media.remb.on_packet(now, buf.len());
        }
        // RTX (RFC 4588): restore the original packet in place.
        let (primary_ssrc, is_rtx) = if let Some(c) = t.rtx_primary(pt) {
            let apt = c.payload_type;
            let primary = t
                .remote_ssrcs
                .iter()
                .find(|(_, r)| *r == Some(ssrc))
                .map(|(p, _)| *p)
                .or_else(|| {
                    t.recv
                        .iter()
                        .find(|r| r.rtx_ssrc == Some(ssrc))
                        .map(|r| r.ssrc)
                })
                .or_else(|| {
                    let r = rid.get()?;
                    t.recv
                        .iter()
                        .find(|s| s.rid.as_deref() == Some(r))
                        .map(|s| s.ssrc)
                })
                .or_else(|| {
                    (t.recv.len() == 1)
                        .then(|| t.recv.first().map(|r| r.ssrc))
                        .flatten()
                })
                .ok_or(Error::UnroutablePacket(ssrc))?;
            let range = packet.payload_range();
            let header_len = packet.header_len();
            let osn = match buf.get(range.clone()).and_then(|p| p.get(..2)) {
                Some(b) => u16::from_be_bytes([b[0], b[1]]),
                // Padding-only RTX (bandwidth probing, padding up to a target rate):
                // nothing to restore.
                None => return Ok(()),
            };
            let end = range.end;
            // Header moves 2 bytes right over the OSN; then the fields are patched.
            buf.copy_within(0..header_len, 2);
            buf.truncate(end);
            buf.drain(..2);
            if let Some(b) = buf.get_mut(0) {
                *b &= !0x20; // no padding left
            }
            if let Some(b) = buf.get_mut(1) {
                *b = (*b & 0x80) | apt;
            }
            if let Some(b) = buf.get_mut(2..4) {
                b.copy_from_slice(&osn.to_be_bytes());
            }
            if let Some(b) = buf.get_mut(8..12) {
                b.copy_from_slice(&primary.to_be_bytes());
            }
            if let Some(r) = t.recv_stream(primary) {
                r.rtx_ssrc = Some(ssrc);
                r.rtx_packets += 1;
            }
            if self.media.ssrcs.len() < MAX_REMOTE_SSRCS {
                self.media.ssrcs.insert(ssrc, tid);
            }
            (primary, true)
        } else {
            (ssrc, false)
        };
        let packet = RtpPacket::new_checked(&buf[..])?;
        let pt = packet.payload_type().0;
        let kind = t.kind;
        let (codec, nack) = t
            .codec(pt)
            .map(|c| (c.codec, c.nack))
            .ok_or(Error::UnknownPayloadType(pt))?;
        if t.recv_stream(primary_ssrc).is_none() {
            if t.recv.len() >= crate::media::stream_limit()
                || self.media.ssrcs.len() >= MAX_REMOTE_SSRCS
            {
                return Err(Error::UnroutablePacket(ssrc));
            }
            t.recv.push(RecvStream::new(primary_ssrc, pt, codec, kind));
            self.media.ssrcs.insert(primary_ssrc, tid);
        }
        let Some(r) = t.recv.iter_mut().find(|r| r.ssrc == primary_ssrc) else {
            return Err(Error::UnroutablePacket(ssrc));
        };
        if r.rid.is_none() {
            // Once per stream.
            r.rid = rid.get().map(std::sync::Arc::from);
        }
        if r.payload_type != pt {
            r.payload_type = pt;
            if r.codec != codec {
                r.codec = codec;
                r.assembler = crate::media::stream::Assembler::new(codec);
            }
        }
        let seq = packet.sequence_number();
        if !is_rtx {
            r.stats.on_packet(now, seq, packet.timestamp());
        }
        r.packets += 1;
        r.bytes += packet.payload().len() as u64;
        if nack && kind == MediaKind::Video {
            r.nack.on_packet(seq);
        }
        let mut b = r.take_buffer();
        b.extend_from_slice(&buf[..]);
        if let rtcwire_rtp::jitter::Pushed::Duplicate | rtcwire_rtp::jitter::Pushed::TooLate =
            r.jitter.push(now, seq, b)
        {
            // Dropped by the buffer (its Vec went with it).
        }
        self.drain_jitter(now, index);
        Ok(())
    }

    /// Releases what the jitter buffers of one transceiver allow, into frames and events.
    pub(super) fn drain_jitter(&mut self, now: Instant, index: usize) {
        let Some(t) = self.media.transceivers.get_mut(index) else {
            return;
        };
        let tid = t.id;
        let (pli, fir) = (
            t.codecs.iter().any(|c| c.pli),
            t.codecs.iter().any(|c| c.fir),
        );
        let video = t.kind == MediaKind::Video;
        let sender = Ssrc(t.send.ssrc);
        let rsize = t.rtcp_rsize;
        let fir_seq = t.fir_seq.wrapping_add(1);
        let mut ask: Option<(u32, bool)> = None;
        for r in &mut t.recv {
            // Bounded by the packets the buffer holds.
            while let Some((_, b)) = r.jitter.pop(now) {
                if let Ok(p) = RtpPacket::new_checked(&b[..]) {
                    r.assembler
                        .push(p.sequence_number(), p.timestamp(), p.marker(), p.payload());
                }
                r.recycle(b);
            }
            while let Some(f) = r.assembler.pop_frame() {
                r.frames += 1;
                if f.keyframe {
                    r.keyframes += 1;
                }
                if f.keyframe {
                    r.waiting_keyframe = false;
                }
                self.events.push_back(Event::MediaFrame(MediaFrame {
                    transceiver: tid,
                    payload_type: r.payload_type,
                    codec: r.codec,
                    ssrc: r.ssrc,
                    rid: r.rid.clone(),
                    rtp_timestamp: f.timestamp,
                    keyframe: f.keyframe,
                    data: f.data,
                }));
            }
            // A frame that never completed (its packets did not all come, even after
            // NACKs), or delta frames before any keyframe: the decoder needs a keyframe.
            let dropped = r.assembler.dropped_frames();
            if dropped > r.dropped_seen {
                r.dropped_seen = dropped;
                r.waiting_keyframe = true;
            }
            let due = r
                .last_keyframe_request
                .is_none_or(|at| now.saturating_duration_since(at) >= KEYFRAME_REQUEST_INTERVAL);
            if video && r.waiting_keyframe && r.frames + dropped > 0 && due && (pli || fir) {
                r.last_keyframe_request = Some(now);
                if pli {
                    r.plis_sent += 1;
                } else {
                    r.firs_sent += 1;
                }
                ask = Some((r.ssrc, pli));
            }
        }
        if let Some((media, use_pli)) = ask {
            if !use_pli {
                t.fir_seq = fir_seq;
            }
            let entries = [FirEntry {
                ssrc: Ssrc(media),
                seq: fir_seq,
            }];
            let fb = if use_pli {
                Rtcp::Pli(Pli {
                    sender_ssrc: sender,
                    media_ssrc: Ssrc(media),
                })
            } else {
                Rtcp::Fir(Fir {
                    sender_ssrc: sender,
                    media_ssrc: Ssrc(0),
                    entries: List::Items(&entries),
                })
            };
            self.queue_feedback(sender, rsize, fb);
        }
    }
}

/// A rid copied out of a packet (RFC 8851: at most 16 bytes here; longer ones are not
/// taken).
#[derive(Default)]
struct RidBuf {
    bytes: [u8; 16],
    len: usize,
}

impl RidBuf {
    fn set(&mut self, rid: &str) {
        if let Some(d) = self.bytes.get_mut(..rid.len()) {
            d.copy_from_slice(rid.as_bytes());
            self.len = rid.len();
        }
    }

    fn get(&self) -> Option<&str> {
        let b = self.bytes.get(..self.len).filter(|b| !b.is_empty())?;
        std::str::from_utf8(b).ok()
    }
}
