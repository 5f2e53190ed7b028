//! Media out: frames and raw RTP packetized and queued, keyframe requests, SRTP protection.

use rtcwire_rtp::rtcp::{self, Fir, FirEntry, List, Pli, ReceiverReport, Rtcp};
use rtcwire_rtp::rtp::{ExtensionKind, ExtensionsBuilder, RtpPacket, RtpRepr};
use rtcwire_rtp::{PayloadType, Ssrc};

use super::media::*;
use super::*;
use crate::media::{MediaKind, TransceiverId};

impl PeerConnection {
    // ----- sending ----------------------------------------------------------------------

    /// Sends one encoded frame on a transceiver: packetized for the codec of
    /// `payload_type` (one the transceiver negotiated), with RTP timestamp
    /// `rtp_timestamp`, the `mid` and transport-wide sequence header extensions when
    /// negotiated. Kept for retransmission when the peer can NACK. Needs a connected
    /// transport and a sending direction.
    pub fn write_frame(
        &mut self,
        id: TransceiverId,
        payload_type: u8,
        rtp_timestamp: u32,
        frame: &[u8],
    ) -> Result<(), Error> {
        self.write_frame_on(id, None, payload_type, rtp_timestamp, frame)
    }

    /// [`write_frame`](Self::write_frame) on one simulcast layer (a rid given to
    /// [`set_send_rids`](Self::set_send_rids)): the layer's SSRC and sequence numbers,
    /// the rid header extension on each packet. When the peer did not accept simulcast
    /// only the first rid sends; the others are refused.
    pub fn write_frame_rid(
        &mut self,
        id: TransceiverId,
        rid: &str,
        payload_type: u8,
        rtp_timestamp: u32,
        frame: &[u8],
    ) -> Result<(), Error> {
        self.write_frame_on(id, Some(rid), payload_type, rtp_timestamp, frame)
    }

    fn write_frame_on(
        &mut self,
        id: TransceiverId,
        rid: Option<&str>,
        payload_type: u8,
        rtp_timestamp: u32,
        frame: &[u8],
    ) -> Result<(), Error> {
        self.check_open()?;
        if !self.ensure_srtp() {
            return Err(Error::WrongState("media needs a connected transport"));
        }
        let now = self.now;
        let epoch = *self.media.epoch.get_or_insert(now);
        let MediaState {
            transceivers,
            out,
            pool,
            packetizers,
            twcc_seq,
            send_bwe,
            ..
        } = &mut self.media;
        let dropped_packets = &mut self.stats.dropped_media_packets;
        let t = transceivers
            .iter_mut()
            .find(|t| t.id == id)
            .ok_or(Error::NoSuchTransceiver(id))?;
        if !t.sending() {
            return Err(Error::NotSending(id));
        }
        let codec = t
            .codec(payload_type)
            .ok_or(Error::UnknownPayloadType(payload_type))?;
        let (kind, keep, single_nal) = (codec.codec, codec.nack, codec.single_nal);
        let simulcast = t.simulcast();
        let layer = match rid {
            None => 0,
            Some(r) => t
                .send_streams()
                .position(|s| s.rid.as_deref() == Some(r))
                .ok_or(Error::WrongState("no simulcast layer with this rid"))?,
        };
        if layer > 0 && !simulcast {
            return Err(Error::WrongState(
                "the peer did not accept simulcast: only the first rid sends",
            ));
        }
        let p = packetizers
            .entry((id, layer))
            .or_insert_with(|| AnyPacketizer::new(kind, single_nal));
        if !p.codec_matches(kind, single_nal) {
            *p = AnyPacketizer::new(kind, single_nal);
        }
        // One-byte header extensions (ids 1-14): a peer that negotiated a larger id for
        // one of these does without it (the SSRC is signalled anyway).
        let one_byte = |k| t.ext.id(k).filter(|id| (1..=14).contains(id));
        let mid_id = one_byte(ExtensionKind::Mid);
        let twcc_id = one_byte(ExtensionKind::TransportCc);
        let abs_id = one_byte(ExtensionKind::AbsSendTime);
        let rid_id = one_byte(ExtensionKind::Rid).filter(|_| simulcast);
        let mid = t.mid.as_deref().unwrap_or_default();
        let abs = abs_send_time(now.saturating_duration_since(epoch));
        // Field by field (the mid stays borrowed).
        let send = match layer {
            0 => &mut t.send,
            n => t
                .layers
                .get_mut(n - 1)
                .ok_or(Error::WrongState("no simulcast layer with this rid"))?,
        };
        // Copied out (rids are at most 16 bytes): `send` is written below.
        let mut rid_buf = [0u8; 16];
        let rid_src = send.rid.as_deref().unwrap_or_default().as_bytes();
        let rid_len = rid_src.len().min(16);
        if let (Some(d), Some(s)) = (rid_buf.get_mut(..rid_len), rid_src.get(..rid_len)) {
            d.copy_from_slice(s);
        }
        let rid_bytes = rid_buf.get(..rid_len).unwrap_or_default();
        let marker_audio = kind.kind() == MediaKind::Audio;
        let mut failure = None;
        let mut ext = ExtensionsBuilder::new();
        p.get()
            .packetize(frame, MAX_RTP - HEADER_ROOM, &mut |payload, last| {
                if failure.is_some() {
                    return;
                }
                ext.clear();
                let mut r = Ok(());
                if let Some(i) = mid_id {
                    r = r.and(ext.push(i, mid.as_bytes()));
                }
                if let Some(i) = abs_id {
                    r = r.and(ext.push(i, &abs.to_be_bytes()[1..]));
                }
                if let (Some(i), false) = (rid_id, rid_bytes.is_empty()) {
                    r = r.and(ext.push(i, rid_bytes));
                }
                let mut transport_seq = None;
                if let Some(i) = twcc_id {
                    r = r.and(ext.push(i, &twcc_seq.to_be_bytes()));
                    transport_seq = Some(*twcc_seq);
                    *twcc_seq = twcc_seq.wrapping_add(1);
                }
                if let Err(e) = r {
                    failure = Some(e);
                    return;
                }
                let repr = RtpRepr {
                    marker: if marker_audio { false } else { last },
                    payload_type: PayloadType(payload_type),
                    sequence_number: send.seq,
                    timestamp: rtp_timestamp,
                    ssrc: Ssrc(send.ssrc),
                    extension: (!ext.is_empty()).then(|| ext.block()),
                    payload,
                    ..RtpRepr::default()
                };
                let mut b = pool.pop().unwrap_or_default();
                b.clear();
                b.resize(MAX_RTP + 64, 0);
                match repr.emit(&mut b) {
                    Ok(n) => {
                        b.truncate(n);
                        if keep {
                            send.remember(send.seq, &b);
                        }
                        if let Some(seq) = transport_seq {
                            send_bwe
                                .get_or_insert_with(|| {
                                    Box::new(crate::media::SendEstimator::new(now))
                                })
                                .on_sent(now, seq, n);
                        }
                        send.seq = send.seq.wrapping_add(1);
                        send.packets += 1;
                        send.bytes += payload.len() as u64;
                        if out.len() < MAX_MEDIA_QUEUE {
                            out.push_back((false, b));
                        } else {
                            *dropped_packets += 1;
                        }
                    }
                    Err(e) => failure = Some(e),
                }
            })?;
        if let Some(e) = failure {
            return Err(e.into());
        }
        send.frames += 1;
        send.last = Some((rtp_timestamp, kind.clock_rate(), now));
        Ok(())
    }

    /// Sends one RTP packet as it is, except that its SSRC becomes the transceiver's.
    /// Its payload type must be one the transceiver negotiated.
    pub fn write_rtp(&mut self, id: TransceiverId, packet: &[u8]) -> Result<(), Error> {
        self.check_open()?;
        if !self.ensure_srtp() {
            return Err(Error::WrongState("media needs a connected transport"));
        }
        let now = self.now;
        let p = RtpPacket::new_checked(packet)?;
        let (pt, seq, ts) = (p.payload_type().0, p.sequence_number(), p.timestamp());
        let payload_len = p.payload().len() as u64;
        if packet.len() > MAX_RTP + 64 {
            return Err(Error::WrongState("RTP packet larger than 1264 bytes"));
        }
        let MediaState {
            transceivers,
            out,
            pool,
            ..
        } = &mut self.media;
        let dropped_packets = &mut self.stats.dropped_media_packets;
        let t = transceivers
            .iter_mut()
            .find(|t| t.id == id)
            .ok_or(Error::NoSuchTransceiver(id))?;
        if !t.sending() {
            return Err(Error::NotSending(id));
        }
        let c = t.codec(pt).ok_or(Error::UnknownPayloadType(pt))?;
        let (keep, rate) = (c.nack, c.codec.clock_rate());
        let mut b = pool.pop().unwrap_or_default();
        b.clear();
        b.extend_from_slice(packet);
        if let Some(s) = b.get_mut(8..12) {
            s.copy_from_slice(&t.send.ssrc.to_be_bytes());
        }
        if keep {
            t.send.remember(seq, &b);
        }
        t.send.packets += 1;
        t.send.bytes += payload_len;
        t.send.last = Some((ts, rate, now));
        if out.len() < MAX_MEDIA_QUEUE {
            out.push_back((false, b));
        } else {
            *dropped_packets += 1;
        }
        Ok(())
    }

    /// Asks the peer for a keyframe on a transceiver's incoming streams: PLI when
    /// negotiated, FIR otherwise.
    pub fn request_keyframe(&mut self, id: TransceiverId) -> Result<(), Error> {
        self.check_open()?;
        if !self.ensure_srtp() {
            return Err(Error::WrongState("media needs a connected transport"));
        }
        let t = self.transceiver_mut(id)?;
        let pli = t.codecs.iter().any(|c| c.pli);
        let fir = t.codecs.iter().any(|c| c.fir);
        if !pli && !fir {
            return Err(Error::WrongState("neither PLI nor FIR was negotiated"));
        }
        if t.recv.is_empty() {
            return Err(Error::WrongState(
                "nothing received on this transceiver yet",
            ));
        }
        let sender = Ssrc(t.send.ssrc);
        let rsize = t.rtcp_rsize;
        t.fir_seq = t.fir_seq.wrapping_add(1);
        let fir_seq = t.fir_seq;
        let mut packets: Vec<(u32, bool)> = Vec::new();
        for r in &mut t.recv {
            if pli {
                r.plis_sent += 1;
            } else {
                r.firs_sent += 1;
            }
            packets.push((r.ssrc, pli));
        }
        for (media, pli) in packets {
            let entries = [FirEntry {
                ssrc: Ssrc(media),
                seq: fir_seq,
            }];
            let fb = if pli {
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
        let now = self.now;
        self.pump(now);
        Ok(())
    }

    /// Queues one feedback packet: alone when reduced-size RTCP was negotiated, after an
    /// empty receiver report otherwise (RFC 3550 compound rule).
    pub(super) fn queue_feedback(&mut self, sender: Ssrc, rsize: bool, fb: Rtcp<'_>) {
        let rr = Rtcp::ReceiverReport(ReceiverReport {
            ssrc: sender,
            reports: List::Items(&[]),
            profile_extension: &[],
        });
        let with_rr = [rr, fb];
        let packets: &[Rtcp<'_>] = if rsize {
            with_rr.get(1..).unwrap_or(&[])
        } else {
            &with_rr
        };
        self.queue_rtcp(packets);
    }

    fn queue_rtcp(&mut self, packets: &[Rtcp<'_>]) {
        let mut b = self.media.pool.pop().unwrap_or_default();
        b.clear();
        b.resize(rtcp::compound_buffer_len(packets), 0);
        match rtcp::emit_compound(packets, &mut b) {
            Ok(n) if self.media.out.len() < MAX_MEDIA_QUEUE => {
                b.truncate(n);
                self.media.out.push_back((true, b));
            }
            _ => self.stats.dropped_media_packets += 1,
        }
    }

    // ----- SRTP -------------------------------------------------------------------------

    /// DTLS connected with use_srtp: the keying material is kept, the SRTP contexts (keyed
    /// by our DTLS role) are made when media first needs them.
    pub(super) fn start_srtp(&mut self, km: &rtcwire_proto::KeyingMaterial) {
        if self.dtls_role.is_none() {
            return;
        }
        self.media.srtp_keys = Some(km.clone());
        self.media.srtp_tx = None;
        self.media.srtp_rx = None;
        self.media.next_tick = Some(self.now + MEDIA_TICK);
        self.media.next_report = Some(self.now + REPORT_INTERVAL);
        self.media.next_twcc = Some(self.now + TWCC_INTERVAL);
        self.media.epoch.get_or_insert(self.now);
        if !self.media.transceivers.is_empty() {
            self.ensure_srtp();
        }
    }

    /// Whether the SRTP contexts exist, making them from the kept keying material the first
    /// time media needs them (a session that never carries media never holds them).
    pub(super) fn ensure_srtp(&mut self) -> bool {
        if self.media.srtp_tx.is_some() {
            return true;
        }
        let (Some(km), Some(role)) = (self.media.srtp_keys.as_ref(), self.dtls_role) else {
            return false;
        };
        let config = rtcwire_srtp::Config {
            // Retransmissions arrive well behind the newest packet.
            replay_window: 2048,
            ..rtcwire_srtp::Config::default()
        };
        match rtcwire_srtp::Context::from_keying_material(km, role, config) {
            Ok((tx, rx)) => {
                self.media.srtp_tx = Some(Box::new(tx));
                self.media.srtp_rx = Some(Box::new(rx));
                true
            }
            Err(e) => {
                tracing::debug!(error = %e, "SRTP contexts not made");
                self.media.srtp_keys = None;
                false
            }
        }
    }

    /// The next protected media datagram, if one waits.
    pub(super) fn transmit_media(&mut self, buf: &mut Vec<u8>) -> Option<Transmit> {
        if self.media.out.is_empty() {
            return None;
        }
        self.ensure_srtp();
        loop {
            let (is_rtcp, pkt) = self.media.out.pop_front()?;
            let Some(tx) = self.media.srtp_tx.as_mut() else {
                self.media.out.clear();
                return None;
            };
            let overhead = if is_rtcp {
                tx.rtcp_overhead()
            } else {
                tx.rtp_overhead()
            };
            let protect = |tx: &mut rtcwire_srtp::Context, b: &mut Vec<u8>, start: usize| {
                let len = pkt.len();
                b.extend_from_slice(&pkt);
                b.resize(start + len + overhead, 0);
                let room = b.get_mut(start..).unwrap_or(&mut []);
                let r = if is_rtcp {
                    tx.protect_rtcp(room, len)
                } else {
                    tx.protect_rtp(room, len)
                };
                match r {
                    Ok(n) => {
                        b.truncate(start + n);
                        true
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "SRTP protect failed");
                        b.truncate(start);
                        false
                    }
                }
            };
            if let Some((source, destination)) = self.direct_path {
                let start = buf.len();
                let ok = protect(tx, buf, start);
                self.recycle(pkt);
                if !ok {
                    self.stats.dropped_media_packets += 1;
                    continue;
                }
                return Some(Transmit::udp(source, destination, buf.len() - start));
            }
            self.record.clear();
            let ok = protect(tx, &mut self.record, 0);
            self.recycle(pkt);
            if !ok {
                self.stats.dropped_media_packets += 1;
                continue;
            }
            match self.ice.send(&self.record, buf) {
                Ok(t) => return Some(t),
                Err(e) => {
                    self.stats.unsendable_records += 1;
                    tracing::debug!(error = %e, "media packet not sent");
                }
            }
        }
    }

    fn recycle(&mut self, b: Vec<u8>) {
        if self.media.pool.len() < 256 {
            self.media.pool.push(b);
        }
    }
}
