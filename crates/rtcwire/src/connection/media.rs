//! Media on the session: the transceiver calls (`addTransceiver`, direction, stop), SRTP
//! keyed from DTLS, RTP out (packetized frames, raw packets, retransmissions), RTP in
//! (routed under BUNDLE, reordered, reassembled into frames), and RTCP both ways.

use std::time::Duration;

use rtcwire_rtp::codec::{
    Av1Packetizer, G711Packetizer, H264Packetizer, OpusPacketizer, Packetizer, Vp8Packetizer,
    Vp9Packetizer,
};
use rtcwire_rtp::rtcp::{
    self, item_type, Fir, FirEntry, List, Nack, NackPair, Pli, ReceiverReport, ReportBlock, Rtcp,
    Sdes, SdesChunk, SdesChunks, SdesItem, SdesItems, SenderReport, TwccBuilder,
};
use rtcwire_rtp::rtp::{ExtensionKind, ExtensionsBuilder, HeaderExtensions, RtpPacket, RtpRepr};
use rtcwire_rtp::seq::{round_trip_time, NtpTime};
use rtcwire_rtp::{PayloadType, Ssrc};

use super::*;
use crate::media::{
    Codec, Direction, KeyframeKind, MediaFrame, MediaKind, RecvStream, Transceiver, TransceiverId,
    TransceiverInit,
};

/// Largest RTP packet we write (before SRTP's tag), as browsers do.
const MAX_RTP: usize = 1200;
/// Room kept for the RTP header and its extensions.
const HEADER_ROOM: usize = 12 + 4 + 32;
/// Most packets waiting to be sent.
const MAX_MEDIA_QUEUE: usize = 8192;
/// How often receive streams are serviced (jitter release, NACK, TWCC).
const MEDIA_TICK: Duration = Duration::from_millis(10);
/// Sender and receiver reports, per transceiver.
const REPORT_INTERVAL: Duration = Duration::from_secs(1);
/// TWCC feedback.
const TWCC_INTERVAL: Duration = Duration::from_millis(100);
/// How long before a lost packet is asked for again, until an RTT is known.
const NACK_INTERVAL: Duration = Duration::from_millis(100);
/// Keyframe requests of our own (after a lost frame) at most this often per stream.
const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);
/// Most remote SSRCs remembered for routing.
const MAX_REMOTE_SSRCS: usize = 1024;
/// Most transceivers in one session.
const MAX_TRANSCEIVERS: usize = 64;
/// Unix time our NTP clock starts at (only differences matter: LSR/DLSR round trips).
const NTP_BASE: Duration = Duration::from_secs(1_700_000_000);

/// A packetizer for whichever codec a send stream uses.
#[derive(Debug)]
pub(super) enum AnyPacketizer {
    Opus(OpusPacketizer),
    G711(G711Packetizer),
    Vp8(Vp8Packetizer),
    Vp9(Vp9Packetizer),
    H264(H264Packetizer),
    Av1(Av1Packetizer),
}

impl AnyPacketizer {
    fn new(codec: Codec) -> Self {
        match codec {
            Codec::Opus => AnyPacketizer::Opus(OpusPacketizer),
            Codec::Pcmu | Codec::Pcma => AnyPacketizer::G711(G711Packetizer),
            Codec::Vp8 => AnyPacketizer::Vp8(Vp8Packetizer::default()),
            Codec::Vp9 => AnyPacketizer::Vp9(Vp9Packetizer::non_flexible(0)),
            Codec::H264 => AnyPacketizer::H264(H264Packetizer::new()),
            Codec::Av1 => AnyPacketizer::Av1(Av1Packetizer::default()),
        }
    }

    fn codec_matches(&self, codec: Codec) -> bool {
        matches!(
            (self, codec),
            (AnyPacketizer::Opus(_), Codec::Opus)
                | (AnyPacketizer::G711(_), Codec::Pcmu | Codec::Pcma)
                | (AnyPacketizer::Vp8(_), Codec::Vp8)
                | (AnyPacketizer::Vp9(_), Codec::Vp9)
                | (AnyPacketizer::H264(_), Codec::H264)
                | (AnyPacketizer::Av1(_), Codec::Av1)
        )
    }

    fn get(&mut self) -> &mut dyn Packetizer {
        match self {
            AnyPacketizer::Opus(p) => p,
            AnyPacketizer::G711(p) => p,
            AnyPacketizer::Vp8(p) => p,
            AnyPacketizer::Vp9(p) => p,
            AnyPacketizer::H264(p) => p,
            AnyPacketizer::Av1(p) => p,
        }
    }
}

/// The session's media state outside the transceivers.
#[derive(Debug, Default)]
pub(super) struct MediaState {
    pub(super) transceivers: Vec<Transceiver>,
    pub(super) next_transceiver: u32,
    /// Plaintext packets waiting for SRTP and the wire: (is RTCP, bytes).
    pub(super) out: VecDeque<(bool, Vec<u8>)>,
    pub(super) pool: Vec<Vec<u8>>,
    pub(super) srtp_tx: Option<rtcwire_srtp::Context>,
    pub(super) srtp_rx: Option<rtcwire_srtp::Context>,
    /// The datagram being unprotected.
    pub(super) rx: Vec<u8>,
    /// Remote SSRC → transceiver.
    pub(super) ssrcs: BTreeMap<u32, TransceiverId>,
    pub(super) packetizers: BTreeMap<TransceiverId, AnyPacketizer>,
    pub(super) twcc_seq: u16,
    pub(super) twcc: Option<TwccBuilder>,
    pub(super) twcc_count: u8,
    pub(super) next_tick: Option<Instant>,
    pub(super) next_report: Option<Instant>,
    pub(super) next_twcc: Option<Instant>,
    pub(super) epoch: Option<Instant>,
    pub(super) nack_scratch: Vec<u16>,
    pub(super) cname: String,
}

fn ntp(epoch: Instant, now: Instant) -> NtpTime {
    NtpTime::from_unix(NTP_BASE + now.saturating_duration_since(epoch))
}

impl PeerConnection {
    // ----- transceivers -----------------------------------------------------------------

    /// `addTransceiver(kind, init)`: a new transceiver, in the next offer as an
    /// `m=audio`/`m=video` section (BUNDLEd, rtcp-mux). Emits
    /// [`Event::NegotiationNeeded`].
    pub fn add_transceiver(
        &mut self,
        kind: MediaKind,
        init: TransceiverInit,
    ) -> Result<TransceiverId, Error> {
        self.check_open()?;
        let id = self.new_transceiver(kind, init.direction, init.stream_ids)?;
        self.events.push_back(Event::NegotiationNeeded);
        Ok(id)
    }

    /// `addTrack`: a `sendrecv` transceiver for a track of `kind` in the given streams
    /// (a free transceiver of that kind made by a remote offer is reused, as W3C says).
    pub fn add_track(
        &mut self,
        kind: MediaKind,
        stream_ids: &[&str],
    ) -> Result<TransceiverId, Error> {
        self.check_open()?;
        let reuse = self
            .media
            .transceivers
            .iter_mut()
            .find(|t| t.kind == kind && !t.stopped && !t.direction.sends() && t.mid.is_some());
        if let Some(t) = reuse {
            t.direction = Direction::from_flags(true, t.direction.receives());
            t.stream_ids = stream_ids.iter().map(|s| (*s).to_owned()).collect();
            let id = t.id;
            self.events.push_back(Event::NegotiationNeeded);
            return Ok(id);
        }
        self.add_transceiver(
            kind,
            TransceiverInit {
                direction: Direction::SendRecv,
                stream_ids: stream_ids.iter().map(|s| (*s).to_owned()).collect(),
            },
        )
    }

    pub(super) fn new_transceiver(
        &mut self,
        kind: MediaKind,
        direction: Direction,
        stream_ids: Vec<String>,
    ) -> Result<TransceiverId, Error> {
        if self.media.transceivers.len() >= MAX_TRANSCEIVERS {
            return Err(Error::TooManyTransceivers);
        }
        let ssrc = self.new_ssrc()?;
        let rtx = self.new_ssrc()?;
        if self.media.cname.is_empty() {
            let v = self.media_rng.next_u64().map_err(|_| Error::RandomSource)?;
            self.media.cname = format!("{v:016x}");
        }
        let id = TransceiverId(self.media.next_transceiver);
        self.media.next_transceiver += 1;
        let cname = self.media.cname.clone();
        self.media.transceivers.push(Transceiver::new(
            id, kind, direction, stream_ids, ssrc, rtx, cname,
        ));
        Ok(id)
    }

    fn new_ssrc(&mut self) -> Result<u32, Error> {
        // Bounded: a collision among a few dozen SSRCs is rare.
        for _ in 0..16 {
            let v = (self.media_rng.next_u64().map_err(|_| Error::RandomSource)? >> 32) as u32;
            let used = v == 0
                || self
                    .media
                    .transceivers
                    .iter()
                    .any(|t| t.send.ssrc == v || t.send.rtx_ssrc == Some(v))
                || self.media.ssrcs.contains_key(&v);
            if !used {
                return Ok(v);
            }
        }
        Err(Error::RandomSource)
    }

    fn transceiver(&self, id: TransceiverId) -> Result<&Transceiver, Error> {
        self.media
            .transceivers
            .iter()
            .find(|t| t.id == id)
            .ok_or(Error::NoSuchTransceiver(id))
    }

    fn transceiver_mut(&mut self, id: TransceiverId) -> Result<&mut Transceiver, Error> {
        self.media
            .transceivers
            .iter_mut()
            .find(|t| t.id == id)
            .ok_or(Error::NoSuchTransceiver(id))
    }

    /// Every transceiver, in creation order.
    #[must_use]
    pub fn transceivers(&self) -> Vec<TransceiverId> {
        self.media.transceivers.iter().map(|t| t.id).collect()
    }

    /// A transceiver's kind.
    #[must_use]
    pub fn transceiver_kind(&self, id: TransceiverId) -> Option<MediaKind> {
        self.transceiver(id).ok().map(|t| t.kind)
    }

    /// A transceiver's `mid`, once it is in a description.
    #[must_use]
    pub fn transceiver_mid(&self, id: TransceiverId) -> Option<&str> {
        self.transceiver(id).ok().and_then(|t| t.mid.as_deref())
    }

    /// `currentDirection`: what the last completed exchange settled (`None` before one, or
    /// when stopped or rejected).
    #[must_use]
    pub fn current_direction(&self, id: TransceiverId) -> Option<Direction> {
        self.transceiver(id)
            .ok()
            .filter(|t| !t.stopped)
            .and_then(|t| t.current)
    }

    /// The codecs negotiated on a transceiver: payload type and codec, in preference
    /// order (the offerer's payload types).
    #[must_use]
    pub fn negotiated_codecs(&self, id: TransceiverId) -> Vec<(u8, Codec)> {
        self.transceiver(id)
            .map(|t| t.codecs.iter().map(|c| (c.payload_type, c.codec)).collect())
            .unwrap_or_default()
    }

    /// The payload type negotiated for `codec` on a transceiver.
    #[must_use]
    pub fn payload_type(&self, id: TransceiverId, codec: Codec) -> Option<u8> {
        self.transceiver(id)
            .ok()
            .and_then(|t| t.codecs.iter().find(|c| c.codec == codec))
            .map(|c| c.payload_type)
    }

    /// Our SSRC on a transceiver (the `a=ssrc` of its section).
    #[must_use]
    pub fn send_ssrc(&self, id: TransceiverId) -> Option<u32> {
        self.transceiver(id).ok().map(|t| t.send.ssrc)
    }

    /// `direction = ...`: takes effect with the next exchange
    /// ([`Event::NegotiationNeeded`]).
    pub fn set_direction(&mut self, id: TransceiverId, direction: Direction) -> Result<(), Error> {
        self.check_open()?;
        let t = self.transceiver_mut(id)?;
        if t.direction != direction {
            t.direction = direction;
            self.events.push_back(Event::NegotiationNeeded);
        }
        Ok(())
    }

    /// `stop()`: the transceiver neither sends nor receives from now on; the next offer
    /// gives its section port 0.
    pub fn stop_transceiver(&mut self, id: TransceiverId) -> Result<(), Error> {
        self.check_open()?;
        let t = self.transceiver_mut(id)?;
        if !t.stopped {
            t.stopped = true;
            t.direction = Direction::Inactive;
            self.events.push_back(Event::NegotiationNeeded);
        }
        Ok(())
    }

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
        self.check_open()?;
        if self.media.srtp_tx.is_none() {
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
        let (kind, keep) = (codec.codec, codec.nack);
        let p = packetizers
            .entry(id)
            .or_insert_with(|| AnyPacketizer::new(kind));
        if !p.codec_matches(kind) {
            *p = AnyPacketizer::new(kind);
        }
        // One-byte header extensions (ids 1-14): a peer that negotiated a larger id for
        // one of these does without it (the SSRC is signalled anyway).
        let one_byte = |k| t.ext.id(k).filter(|id| (1..=14).contains(id));
        let mid_id = one_byte(ExtensionKind::Mid);
        let twcc_id = one_byte(ExtensionKind::TransportCc);
        let abs_id = one_byte(ExtensionKind::AbsSendTime);
        let mid = t.mid.as_deref().unwrap_or_default();
        let abs = abs_send_time(now.saturating_duration_since(epoch));
        let send = &mut t.send;
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
                if let Some(i) = twcc_id {
                    r = r.and(ext.push(i, &twcc_seq.to_be_bytes()));
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
        if self.media.srtp_tx.is_none() {
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
        if self.media.srtp_tx.is_none() {
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
    fn queue_feedback(&mut self, sender: Ssrc, rsize: bool, fb: Rtcp<'_>) {
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

    /// DTLS connected with use_srtp: the SRTP contexts, keyed by our DTLS role.
    pub(super) fn start_srtp(&mut self, km: &rtcwire_proto::KeyingMaterial) {
        let Some(role) = self.dtls_role else {
            return;
        };
        let config = rtcwire_srtp::Config {
            // Retransmissions arrive well behind the newest packet.
            replay_window: 2048,
            ..rtcwire_srtp::Config::default()
        };
        match rtcwire_srtp::Context::from_keying_material(km, role, config) {
            Ok((tx, rx)) => {
                self.media.srtp_tx = Some(tx);
                self.media.srtp_rx = Some(rx);
                self.media.next_tick = Some(self.now + MEDIA_TICK);
                self.media.next_report = Some(self.now + REPORT_INTERVAL);
                self.media.next_twcc = Some(self.now + TWCC_INTERVAL);
                self.media.epoch.get_or_insert(self.now);
            }
            Err(e) => tracing::debug!(error = %e, "SRTP contexts not made"),
        }
    }

    /// The next protected media datagram, if one waits.
    pub(super) fn transmit_media(&mut self, buf: &mut Vec<u8>) -> Option<Transmit> {
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

    // ----- receiving --------------------------------------------------------------------

    /// An SRTP or SRTCP datagram that came through ICE.
    pub(super) fn receive_srtp(
        &mut self,
        now: Instant,
        contents: &[u8],
        is_rtcp: bool,
    ) -> Result<(), Error> {
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
        let twcc_seq = {
            let t = self
                .media
                .transceivers
                .get(index)
                .ok_or(Error::UnroutablePacket(ssrc))?;
            let twcc = t.codecs.iter().any(|c| c.twcc);
            HeaderExtensions::parse(packet.extensions(), &t.ext)
                .ok()
                .and_then(|e| e.transport_cc)
                .filter(|_| twcc)
        };
        let Some(t) = self.media.transceivers.get_mut(index) else {
            return Err(Error::UnroutablePacket(ssrc));
        };
        if !t.receiving() {
            return Err(Error::UnroutablePacket(ssrc));
        }
        let tid = t.id;
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
                    (t.recv.len() == 1)
                        .then(|| t.recv.first().map(|r| r.ssrc))
                        .flatten()
                })
                .ok_or(Error::UnroutablePacket(ssrc))?;
            let range = packet.payload_range();
            let header_len = packet.header_len();
            let osn = match buf.get(range.start..range.start + 2) {
                Some(b) => u16::from_be_bytes([b[0], b[1]]),
                // Padding-only RTX (bandwidth probing): nothing to restore.
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
        if let (Some(s), Some(epoch)) = (twcc_seq, self.media.epoch) {
            let us = i64::try_from(now.saturating_duration_since(epoch).as_micros()).unwrap_or(0);
            let builder = self
                .media
                .twcc
                .get_or_insert_with(|| TwccBuilder::new(Ssrc(0), Ssrc(primary_ssrc)));
            if builder.push(s, us).is_err() {
                self.flush_twcc();
                if let Some(b) = self.media.twcc.as_mut() {
                    let _ = b.push(s, us);
                }
            }
        }
        self.drain_jitter(now, index);
        Ok(())
    }

    /// Releases what the jitter buffers of one transceiver allow, into frames and events.
    fn drain_jitter(&mut self, now: Instant, index: usize) {
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

    fn handle_rtcp(&mut self, now: Instant, buf: &[u8]) -> Result<(), Error> {
        let epoch = *self.media.epoch.get_or_insert(now);
        let arrival = ntp(epoch, now).middle32();
        let mut retransmit: Vec<(usize, u16)> = Vec::new();
        for p in rtcp::parse_compound(buf) {
            let p = p?;
            match p {
                Rtcp::SenderReport(sr) => {
                    for t in &mut self.media.transceivers {
                        if let Some(r) = t.recv_stream(sr.ssrc.0) {
                            r.stats.on_sender_report(now, NtpTime(sr.ntp_time));
                        }
                    }
                    self.apply_report_blocks(sr.reports, arrival);
                }
                Rtcp::ReceiverReport(rr) => self.apply_report_blocks(rr.reports, arrival),
                Rtcp::Nack(n) => {
                    if let Some(i) = self.sender_index(n.media_ssrc.0) {
                        if let Some(t) = self.media.transceivers.get_mut(i) {
                            t.send.nacks_received += 1;
                        }
                        for seq in n.lost().take(1024) {
                            retransmit.push((i, seq));
                        }
                    }
                }
                Rtcp::TransportFeedback(_) => self.stats.twcc_feedback_received += 1,
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
        for (i, seq) in retransmit {
            self.retransmit(i, seq);
        }
        Ok(())
    }

    fn sender_index(&self, ssrc: u32) -> Option<usize> {
        self.media
            .transceivers
            .iter()
            .position(|t| t.send.ssrc == ssrc)
    }

    fn keyframe_request(&mut self, ssrc: u32, kind: KeyframeKind) {
        let Some(i) = self.sender_index(ssrc) else {
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

    fn apply_report_blocks(&mut self, blocks: List<'_, ReportBlock>, arrival: u32) {
        for b in blocks.iter() {
            if let Some(i) = self.sender_index(b.ssrc.0) {
                if let Some(t) = self.media.transceivers.get_mut(i) {
                    t.send.remote_lost = i64::from(b.cumulative_lost);
                    t.send.remote_fraction_lost = b.fraction_lost;
                    t.send.remote_jitter = b.jitter;
                    if let Some(rtt) = round_trip_time(arrival, b.last_sr, b.delay_since_last_sr) {
                        t.send.rtt = Some(rtt);
                    }
                }
            }
        }
    }

    /// Sends a packet again for a NACK: as RTX when negotiated, else as it was.
    fn retransmit(&mut self, index: usize, seq: u16) {
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
        let Some(original) = t.send.lookup(seq) else {
            return;
        };
        let Ok(p) = RtpPacket::new_checked(original) else {
            return;
        };
        let mut b = pool.pop().unwrap_or_default();
        b.clear();
        let rtx = t
            .codec(p.payload_type().0)
            .and_then(|c| c.rtx)
            .zip(t.send.rtx_ssrc);
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
                let rseq = t.send.rtx_seq;
                t.send.rtx_seq = rseq.wrapping_add(1);
                if let Some(x) = b.get_mut(2..4) {
                    x.copy_from_slice(&rseq.to_be_bytes());
                }
                if let Some(x) = b.get_mut(8..12) {
                    x.copy_from_slice(&rtx_ssrc.to_be_bytes());
                }
            }
            None => b.extend_from_slice(original),
        }
        t.send.retransmitted += 1;
        if out.len() < MAX_MEDIA_QUEUE {
            out.push_back((false, b));
        } else {
            *dropped_packets += 1;
        }
    }

    fn flush_twcc(&mut self) {
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

    fn send_report(&mut self, now: Instant, index: usize) {
        let epoch = *self.media.epoch.get_or_insert(now);
        let Some(t) = self.media.transceivers.get_mut(index) else {
            return;
        };
        if !(t.sending() || t.receiving()) {
            return;
        }
        let blocks: Vec<ReportBlock> = t
            .recv
            .iter_mut()
            .take(31)
            .map(|r| r.stats.report_block(now))
            .collect();
        let ssrc = Ssrc(t.send.ssrc);
        let report = match t.send.last {
            Some((ts, rate, at)) if t.sending() && t.send.packets > 0 => {
                let ticks = u64::from(rate)
                    .saturating_mul(now.saturating_duration_since(at).as_micros() as u64)
                    / 1_000_000;
                Rtcp::SenderReport(SenderReport {
                    ssrc,
                    ntp_time: ntp(epoch, now).0,
                    rtp_time: ts.wrapping_add(ticks as u32),
                    packet_count: t.send.packets as u32,
                    octet_count: t.send.bytes as u32,
                    reports: List::Items(&blocks),
                    profile_extension: &[],
                })
            }
            _ if blocks.is_empty() => return,
            _ => Rtcp::ReceiverReport(ReceiverReport {
                ssrc,
                reports: List::Items(&blocks),
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
        let mut b = self.media.pool.pop().unwrap_or_default();
        b.clear();
        b.resize(rtcp::compound_buffer_len(&packets), 0);
        match rtcp::emit_compound(&packets, &mut b) {
            Ok(n) if self.media.out.len() < MAX_MEDIA_QUEUE => {
                b.truncate(n);
                self.media.out.push_back((true, b));
            }
            _ => self.stats.dropped_media_packets += 1,
        }
    }
}

/// abs-send-time: 6.18 fixed-point seconds, 24 bits.
fn abs_send_time(d: Duration) -> u32 {
    ((d.as_micros() << 18) / 1_000_000) as u32 & 0x00ff_ffff
}
