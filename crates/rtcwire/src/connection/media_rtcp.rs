//! RTCP in and out: reports, NACKs and retransmissions, TWCC, and the media timers.

use std::time::Duration;

use rtcwire_rtp::rtcp::{
    self, item_type, List, Nack, NackPair, ReceiverReport, ReportBlock, Rtcp, Sdes, SdesChunk,
    SdesChunks, SdesItem, SdesItems, SenderReport,
};
use rtcwire_rtp::rtp::{ExtensionKind, RtpPacket};
use rtcwire_rtp::seq::{round_trip_time, NtpTime};
use rtcwire_rtp::Ssrc;

use super::media::*;
use super::stats::RemoteOutboundRtpStats;
use super::*;
use crate::media::KeyframeKind;

impl PeerConnection {
    pub(super) fn handle_rtcp(&mut self, now: Instant, buf: &[u8]) -> Result<(), Error> {
        let arrival = self.media.ntp_at(now).middle32();
        let mut retransmit: Vec<(usize, usize, u16)> = Vec::new();
        for p in rtcp::parse_compound(buf) {
            let p = p?;
            match p {
                Rtcp::SenderReport(sr) => {
                    for t in &mut self.media.transceivers {
                        if let Some(r) = t.recv_stream(sr.ssrc.0) {
                            r.stats.on_sender_report(now, NtpTime(sr.ntp_time));
                            let reports = r.remote_sr.map_or(0, |s| s.reports_sent);
                            r.remote_sr = Some(RemoteOutboundRtpStats {
                                remote_timestamp: NtpTime(sr.ntp_time).to_unix(),
                                ntp_time: sr.ntp_time,
                                rtp_timestamp: sr.rtp_time,
                                packets_sent: sr.packet_count,
                                bytes_sent: sr.octet_count,
                                reports_sent: reports + 1,
                                received_at: now,
                            });
                        }
                    }
                    self.apply_report_blocks(sr.reports, arrival);
                }
                Rtcp::ReceiverReport(rr) => self.apply_report_blocks(rr.reports, arrival),
                Rtcp::Nack(n) => {
                    if let Some((i, layer)) = self.sender_index(n.media_ssrc.0) {
                        if let Some(s) = self
                            .media
                            .transceivers
                            .get_mut(i)
                            .and_then(|t| t.send_layer(layer))
                        {
                            s.nacks_received += 1;
                        }
                        for seq in n.lost().take(1024) {
                            retransmit.push((i, layer, seq));
                        }
                    }
                }
                Rtcp::TransportFeedback(fb) => {
                    self.stats.twcc_feedback_received += 1;
                    self.on_transport_feedback(now, &fb);
                }
                Rtcp::Remb(r) => self.handle_remb(&r),
                Rtcp::Bye(bye) => {
                    for s in bye.sources.iter().take(31) {
                        self.handle_bye(s.0);
                    }
                }
                Rtcp::Pli(pli) => self.keyframe_request(pli.media_ssrc.0, KeyframeKind::Pli),
                Rtcp::Fir(fir) => {
                    let ours: Vec<u32> = fir.entries.iter().map(|e| e.ssrc.0).collect();
                    for s in ours {
                        self.keyframe_request(s, KeyframeKind::Fir);
                    }
                }
                _ => {}
            }
        }
        for (i, layer, seq) in retransmit {
            self.retransmit(i, layer, seq);
        }
        Ok(())
    }

    /// The transceiver and layer that send on `ssrc`.
    fn sender_index(&self, ssrc: u32) -> Option<(usize, usize)> {
        self.media
            .transceivers
            .iter()
            .enumerate()
            .find_map(|(i, t)| t.layer_of(ssrc).map(|l| (i, l)))
    }

    fn keyframe_request(&mut self, ssrc: u32, kind: KeyframeKind) {
        let Some((i, _)) = self.sender_index(ssrc) else {
            return;
        };
        if let Some(t) = self.media.transceivers.get_mut(i) {
            match kind {
                KeyframeKind::Pli => t.plis_received += 1,
                KeyframeKind::Fir => t.firs_received += 1,
            }
            self.events.push_back(Event::KeyframeRequest {
                transceiver: t.id,
                kind,
            });
        }
    }

    /// RTCP BYE from one of the peer's sources: once every stream it sent on a
    /// transceiver said so, its track ended.
    fn handle_bye(&mut self, ssrc: u32) {
        let Some(t) = self
            .media
            .transceivers
            .iter_mut()
            .find(|t| t.recv.iter().any(|r| r.ssrc == ssrc))
        else {
            return;
        };
        if let Some(r) = t.recv_stream(ssrc) {
            r.bye = true;
        }
        if t.recv.iter().all(|r| r.bye) && std::mem::take(&mut t.track_fired) {
            self.events.push_back(Event::TrackEnded {
                transceiver: t.id,
                reason: crate::TrackEndReason::Bye,
            });
        }
    }

    /// RTCP BYE for every stream we sent on a transceiver (it stops).
    pub(super) fn send_bye(&mut self, index: usize) {
        let Some(t) = self.media.transceivers.get(index).filter(|t| !t.stopped) else {
            return;
        };
        let sources: Vec<Ssrc> = t
            .send_streams()
            .filter(|s| s.packets > 0)
            .map(|s| Ssrc(s.ssrc))
            .collect();
        if sources.is_empty() || self.media.srtp_tx.is_none() {
            return;
        }
        let (sender, rsize) = (Ssrc(t.send.ssrc), t.rtcp_rsize);
        self.queue_feedback(
            sender,
            rsize,
            Rtcp::Bye(rtcwire_rtp::rtcp::Bye {
                sources: List::Items(&sources),
                reason: b"",
            }),
        );
    }

    fn apply_report_blocks(&mut self, blocks: List<'_, ReportBlock>, arrival: u32) {
        for b in blocks.iter() {
            if let Some((i, layer)) = self.sender_index(b.ssrc.0) {
                if let Some(s) = self
                    .media
                    .transceivers
                    .get_mut(i)
                    .and_then(|t| t.send_layer(layer))
                {
                    s.remote_lost = i64::from(b.cumulative_lost);
                    s.remote_fraction_lost = b.fraction_lost;
                    s.remote_jitter = b.jitter;
                    if let Some(rtt) = round_trip_time(arrival, b.last_sr, b.delay_since_last_sr) {
                        s.rtt = Some(rtt);
                    }
                }
            }
        }
    }

    /// Sends a packet again for a NACK: as RTX when negotiated (its rid extension
    /// becoming repaired-rid), else as it was.
    fn retransmit(&mut self, index: usize, layer: usize, seq: u16) {
        let MediaState {
            transceivers,
            out,
            pool,
            ..
        } = &mut self.media;
        let dropped_packets = &mut self.stats.dropped_media_packets;
        let Some(t) = transceivers.get_mut(index) else {
            return;
        };
        let ids = (
            t.ext.id(ExtensionKind::Rid),
            t.ext.id(ExtensionKind::RepairedRid),
        );
        let rtx_pt = |pt: u8| {
            t.codecs
                .iter()
                .find(|c| c.payload_type == pt)
                .and_then(|c| c.rtx)
        };
        let send = match layer {
            0 => &mut t.send,
            n => match t.layers.get_mut(n - 1) {
                Some(s) => s,
                None => return,
            },
        };
        let Some(original) = send.lookup(seq) else {
            return;
        };
        let Ok(p) = RtpPacket::new_checked(original) else {
            return;
        };
        let mut b = pool.pop().unwrap_or_default();
        b.clear();
        let rtx = rtx_pt(p.payload_type().0).zip(send.rtx_ssrc);
        match rtx {
            Some((rtx_pt, rtx_ssrc)) => {
                let header = p.header_len();
                let Some(head) = original.get(..header) else {
                    return;
                };
                b.extend_from_slice(head);
                b.extend_from_slice(&seq.to_be_bytes());
                b.extend_from_slice(p.payload());
                if let Some(x) = b.get_mut(0) {
                    *x &= !0x20;
                }
                if let Some(x) = b.get_mut(1) {
                    *x = (*x & 0x80) | rtx_pt;
                }
                if let (Some(rid), Some(repaired)) = ids {
                    rename_extension(&mut b, rid, repaired);
                }
                let rseq = send.rtx_seq;
                send.rtx_seq = rseq.wrapping_add(1);
                if let Some(x) = b.get_mut(2..4) {
                    x.copy_from_slice(&rseq.to_be_bytes());
                }
                if let Some(x) = b.get_mut(8..12) {
                    x.copy_from_slice(&rtx_ssrc.to_be_bytes());
                }
            }
            None => b.extend_from_slice(original),
        }
        send.retransmitted += 1;
        if out.len() < MAX_MEDIA_QUEUE {
            out.push_back((false, b));
        } else {
            *dropped_packets += 1;
        }
    }

    pub(super) fn flush_twcc(&mut self) {
        let Some(mut builder) = self.media.twcc.take() else {
            return;
        };
        if !builder.is_empty() {
            let count = self.media.twcc_count;
            self.media.twcc_count = count.wrapping_add(1);
            let sender = self
                .media
                .transceivers
                .first()
                .map_or(Ssrc(0), |t| Ssrc(t.send.ssrc));
            let rsize = self.media.transceivers.iter().all(|t| t.rtcp_rsize);
            let mut fb = builder.build(count);
            fb.sender_ssrc = sender;
            self.stats.twcc_feedback_sent += 1;
            self.queue_feedback(sender, rsize, Rtcp::TransportFeedback(fb));
        }
        builder.reset();
        // Kept: its buffers serve the next feedback.
        self.media.twcc = Some(builder);
    }

    /// The media timers: jitter release, NACKs, reports, TWCC feedback.
    pub(super) fn media_timeout(&mut self, now: Instant) {
        if self.media.next_tick.is_some_and(|t| now >= t) {
            self.media.next_tick = Some(now + MEDIA_TICK);
            for i in 0..self.media.transceivers.len() {
                self.drain_jitter(now, i);
                self.send_nacks(now, i);
            }
        }
        if self.media.next_twcc.is_some_and(|t| now >= t) {
            self.media.next_twcc = Some(now + TWCC_INTERVAL);
            self.flush_twcc();
        }
        if self.media.next_report.is_some_and(|t| now >= t) {
            self.media.next_report = Some(now + REPORT_INTERVAL);
            for i in 0..self.media.transceivers.len() {
                self.send_report(now, i);
            }
            self.send_remb(now, false);
        }
    }

    /// The media timers that matter now: the service tick only while a receive stream
    /// holds packets back or waits for retransmissions, TWCC while feedback is pending,
    /// reports while a transceiver is active.
    pub(super) fn media_next_timeout(&self) -> Option<Instant> {
        let ts = &self.media.transceivers;
        let active = ts.iter().any(|t| t.sending() || t.receiving());
        let waiting = ts
            .iter()
            .flat_map(|t| t.recv.iter())
            .any(|r| !r.jitter.is_empty() || !r.nack.is_empty());
        let twcc = self.media.twcc.as_ref().is_some_and(|b| !b.is_empty());
        [
            self.media.next_tick.filter(|_| waiting),
            self.media.next_twcc.filter(|_| twcc),
            self.media.next_report.filter(|_| active),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn send_nacks(&mut self, now: Instant, index: usize) {
        let mut lost = std::mem::take(&mut self.media.nack_scratch);
        let Some(t) = self.media.transceivers.get_mut(index) else {
            return;
        };
        let sender = Ssrc(t.send.ssrc);
        let rsize = t.rtcp_rsize;
        // Ask again only once a retransmission had time to come back.
        let interval = t
            .send
            .rtt
            .map_or(NACK_INTERVAL, |rtt| {
                rtt.mul_f32(1.25) + Duration::from_millis(10)
            })
            .clamp(Duration::from_millis(20), Duration::from_millis(500));
        let mut todo: Vec<(u32, Vec<NackPair>)> = Vec::new();
        for r in &mut t.recv {
            if r.nack.is_empty() {
                continue;
            }
            r.nack.due(now, interval, &mut lost);
            if lost.is_empty() {
                continue;
            }
            r.nacks_sent += 1;
            let mut pairs = Vec::new();
            NackPair::pack(lost.iter().copied(), |p| pairs.push(p));
            todo.push((r.ssrc, pairs));
        }
        self.media.nack_scratch = lost;
        for (media, pairs) in todo {
            for chunk in pairs.chunks(64) {
                self.queue_feedback(
                    sender,
                    rsize,
                    Rtcp::Nack(Nack {
                        sender_ssrc: sender,
                        media_ssrc: Ssrc(media),
                        pairs: List::Items(chunk),
                    }),
                );
            }
        }
    }

    /// A sender report (or a receiver report when not sending) with SDES for each of
    /// the transceiver's send streams; the report blocks go with the first.
    fn send_report(&mut self, now: Instant, index: usize) {
        let ntp_now = self.media.ntp_at(now).0;
        let MediaState {
            transceivers,
            out,
            pool,
            report_blocks: blocks,
            ..
        } = &mut self.media;
        let Some(t) = transceivers.get_mut(index) else {
            return;
        };
        if !(t.sending() || t.receiving()) {
            return;
        }
        // A scratch kept between reports: no allocation per report.
        blocks.clear();
        blocks.extend(
            t.recv
                .iter_mut()
                .take(31)
                .map(|r| r.stats.report_block(now)),
        );
        let layers = if t.simulcast() { 1 + t.layers.len() } else { 1 };
        let sending = t.sending();
        for (layer, s) in t.send_streams().take(layers).enumerate() {
            let ssrc = Ssrc(s.ssrc);
            let reports = if layer == 0 { &blocks[..] } else { &[] };
            let report = match s.last {
                Some((ts, rate, at)) if sending && s.packets > 0 => {
                    let ticks = u64::from(rate)
                        .saturating_mul(now.saturating_duration_since(at).as_micros() as u64)
                        / 1_000_000;
                    Rtcp::SenderReport(SenderReport {
                        ssrc,
                        ntp_time: ntp_now,
                        rtp_time: ts.wrapping_add(ticks as u32),
                        packet_count: s.packets as u32,
                        octet_count: s.bytes as u32,
                        reports: List::Items(reports),
                        profile_extension: &[],
                    })
                }
                _ if reports.is_empty() => continue,
                _ => Rtcp::ReceiverReport(ReceiverReport {
                    ssrc,
                    reports: List::Items(reports),
                    profile_extension: &[],
                }),
            };
            // RFC 3550 §6.1: every compound packet names its source (CNAME).
            let items = [SdesItem {
                kind: item_type::CNAME,
                value: t.cname.as_bytes(),
            }];
            let chunks = [SdesChunk {
                ssrc,
                items: SdesItems::Items(&items),
            }];
            let sdes = Rtcp::Sdes(Sdes {
                chunks: SdesChunks::Items(&chunks),
            });
            let packets = [report, sdes];
            let mut b = pool.pop().unwrap_or_default();
            b.clear();
            b.resize(rtcp::compound_buffer_len(&packets), 0);
            match rtcp::emit_compound(&packets, &mut b) {
                Ok(n) if out.len() < MAX_MEDIA_QUEUE => {
                    b.truncate(n);
                    out.push_back((true, b));
                }
                _ => self.stats.dropped_media_packets += 1,
            }
        }
    }
}

/// Gives the one-byte header extension element `from` the id `to`, in place (RFC 8285
/// §4.2; both ids 1-14). Two-byte blocks and malformed ones are left alone.
pub(super) fn rename_extension(packet: &mut [u8], from: u8, to: u8) {
    let Some(&first) = packet.first() else {
        return;
    };
    if first & 0x10 == 0 || !(1..=14).contains(&from) || !(1..=14).contains(&to) {
        return;
    }
    let start = 12 + 4 * usize::from(first & 0x0f);
    let (Some(profile), Some(words)) = (
        packet.get(start..start + 2),
        packet.get(start + 2..start + 4),
    ) else {
        return;
    };
    if profile != [0xbe, 0xde] {
        return;
    }
    let end = start + 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
    let mut at = start + 4;
    // Bounded: every step moves forward.
    while at < end {
        let Some(&b) = packet.get(at) else {
            return;
        };
        let id = b >> 4;
        if id == 0 {
            at += 1; // padding
            continue;
        }
        if id == 15 {
            return;
        }
        if id == from {
            if let Some(x) = packet.get_mut(at) {
                *x = (to << 4) | (b & 0x0f);
            }
            return;
        }
        at += 2 + usize::from(b & 0x0f);
    }
}
