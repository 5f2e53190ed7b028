//! Frames to RTP packets: sequence numbers, timestamps from frame durations, marker bits.

use crate::codec::Packetizer;
use crate::error::{Error, Result};
use crate::rtp::{
    Csrcs, ExtensionBlock, ExtensionsBuilder, RtpRepr, BUILDER_CAPACITY, FIXED_HEADER_LEN,
};
use crate::seq::RtpClock;
use crate::{PayloadType, Ssrc};
use std::time::Duration;

/// How the sender sets the marker bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MarkerRule {
    /// Video (RFC 3551 §4.1 and every video payload format): on the last packet of a frame.
    EndOfFrame,
    /// Audio: on the first packet after silence, when the caller says a talkspurt begins.
    TalkspurtStart,
}

/// Settings of an [`RtpSender`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderConfig {
    /// SSRC of the stream.
    pub ssrc: Ssrc,
    /// Payload type.
    pub payload_type: PayloadType,
    /// Media clock rate in Hz.
    pub clock_rate: u32,
    /// First sequence number (random in production, RFC 3550 §5.1).
    pub initial_seq: u16,
    /// First timestamp (random in production).
    pub initial_timestamp: u32,
    /// Largest RTP packet to produce (header included); payloads get what the header leaves.
    pub max_packet_size: usize,
    /// Marker bit rule.
    pub marker: MarkerRule,
}

/// Sends frames as RTP packets through a [`Packetizer`], writing each packet into an
/// internal buffer reused for every packet. Timestamps advance by the frames' durations,
/// computed from the total elapsed media time so they never drift.
///
/// ```
/// use rtcwire_rtp::codec::OpusPacketizer;
/// use rtcwire_rtp::rtp::RtpPacket;
/// use rtcwire_rtp::sender::{MarkerRule, RtpSender, SenderConfig};
/// use rtcwire_rtp::{PayloadType, Ssrc};
/// use std::time::Duration;
/// let mut s = RtpSender::new(OpusPacketizer, SenderConfig {
///     ssrc: Ssrc(7), payload_type: PayloadType(111), clock_rate: 48_000, initial_seq: 100,
///     initial_timestamp: 0, max_packet_size: 1200, marker: MarkerRule::TalkspurtStart,
/// });
/// let mut seen = Vec::new();
/// for _ in 0..3 {
///     s.send_frame(&[0xfc, 1, 2], Duration::from_millis(20), None, &mut |p| {
///         let p = RtpPacket::new_checked(p).unwrap();
///         seen.push((p.sequence_number(), p.timestamp()));
///     }).unwrap();
/// }
/// assert_eq!(seen, [(100, 0), (101, 960), (102, 1920)]);
/// ```
#[derive(Debug)]
pub struct RtpSender<P> {
    packetizer: P,
    config: SenderConfig,
    clock: RtpClock,
    seq: u16,
    elapsed: Duration,
    talkspurt: bool,
    csrcs: Csrcs,
    buf: Vec<u8>,
    packets: u32,
    octets: u32,
}

impl<P: Packetizer> RtpSender<P> {
    /// A sender with `config`.
    pub fn new(packetizer: P, config: SenderConfig) -> Self {
        RtpSender {
            packetizer,
            config,
            clock: RtpClock::new(config.clock_rate),
            seq: config.initial_seq,
            elapsed: Duration::ZERO,
            talkspurt: config.marker == MarkerRule::TalkspurtStart,
            csrcs: Csrcs::new(),
            buf: vec![0; config.max_packet_size],
            packets: 0,
            octets: 0,
        }
    }

    /// Sets the CSRCs written in every following packet (a mixer's contributors).
    pub fn set_csrcs(&mut self, csrcs: Csrcs) {
        self.csrcs = csrcs;
    }

    /// Marks the next packet as the start of a talkspurt (audio marker rule).
    pub fn start_talkspurt(&mut self) {
        self.talkspurt = true;
    }

    /// The next sequence number to be used.
    pub fn next_sequence_number(&self) -> u16 {
        self.seq
    }

    /// The timestamp the next frame will carry.
    pub fn next_timestamp(&self) -> u32 {
        self.config
            .initial_timestamp
            .wrapping_add(self.clock.ticks(self.elapsed) as u32)
    }

    /// The RTP timestamp of media time `media_time` (time since the first frame's
    /// timestamp): what a sender report pairs with the NTP time of the same instant.
    pub fn timestamp_at(&self, media_time: Duration) -> u32 {
        self.config
            .initial_timestamp
            .wrapping_add(self.clock.ticks(media_time) as u32)
    }

    /// A sender report for this stream: `ntp` is the wall-clock time of the report and
    /// `media_time` the same instant on the media timeline (see [`timestamp_at`]).
    ///
    /// [`timestamp_at`]: Self::timestamp_at
    pub fn sender_report<'a>(
        &self,
        ntp: crate::seq::NtpTime,
        media_time: Duration,
        reports: crate::rtcp::List<'a, crate::rtcp::ReportBlock>,
    ) -> crate::rtcp::SenderReport<'a> {
        crate::rtcp::SenderReport {
            ssrc: self.config.ssrc,
            ntp_time: ntp.0,
            rtp_time: self.timestamp_at(media_time),
            packet_count: self.packets,
            octet_count: self.octets,
            reports,
            profile_extension: &[],
        }
    }

    /// Packets sent (for the SR's sender's packet count).
    pub fn packet_count(&self) -> u32 {
        self.packets
    }

    /// Payload octets sent (for the SR's sender's octet count).
    pub fn octet_count(&self) -> u32 {
        self.octets
    }

    /// Packetizes one frame lasting `duration`, hands each RTP packet to `out`, and returns
    /// the timestamp the frame carried. `extension`, if given, goes in every packet.
    pub fn send_frame(
        &mut self,
        frame: &[u8],
        duration: Duration,
        extension: Option<ExtensionBlock<'_>>,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<u32> {
        let mut ext = ExtensionsBuilder::new();
        self.send(
            frame,
            duration,
            &mut ext,
            &mut |_, _| Ok(()),
            Ok(extension),
            out,
        )
    }

    /// Like [`send_frame`](Self::send_frame), but header extensions are written per packet:
    /// `extensions(seq, builder)` fills a cleared builder for the packet with sequence
    /// number `seq` (for example a transport-wide sequence number, unique per packet).
    /// `extension_room` is the largest block body, in bytes, the closure writes; payloads
    /// are sized to leave that much room, and a packet whose block is larger fails.
    pub fn send_frame_with_extensions(
        &mut self,
        frame: &[u8],
        duration: Duration,
        extension_room: usize,
        extensions: &mut dyn FnMut(u16, &mut ExtensionsBuilder) -> Result<()>,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<u32> {
        let mut ext = ExtensionsBuilder::new();
        let room = extension_room.min(BUILDER_CAPACITY).div_ceil(4) * 4;
        self.send(frame, duration, &mut ext, extensions, Err(room), out)
    }

    fn send(
        &mut self,
        frame: &[u8],
        duration: Duration,
        ext: &mut ExtensionsBuilder,
        fill: &mut dyn FnMut(u16, &mut ExtensionsBuilder) -> Result<()>,
        // Ok: one block (or none) for every packet; Err(room): per packet, at most `room`.
        fixed: std::result::Result<Option<ExtensionBlock<'_>>, usize>,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<u32> {
        let timestamp = self.next_timestamp();
        let ext_room = match fixed {
            Ok(Some(e)) => 4 + e.data.len(),
            Ok(None) => 0,
            Err(room) => 4 + room,
        };
        let header_len = FIXED_HEADER_LEN + 4 * self.csrcs.len() + ext_room;
        let mtu = self
            .config
            .max_packet_size
            .checked_sub(header_len)
            .filter(|m| *m > 0)
            .ok_or(Error::CannotPacketize(
                "max packet size leaves no room for payload",
            ))?;
        let mut first = true;
        let mut failure = None;
        let (buf, seq, packets, octets) = (
            &mut self.buf,
            &mut self.seq,
            &mut self.packets,
            &mut self.octets,
        );
        let (marker_rule, talkspurt, csrcs) = (self.config.marker, &mut self.talkspurt, self.csrcs);
        let (ssrc, payload_type) = (self.config.ssrc, self.config.payload_type);
        self.packetizer
            .packetize(frame, mtu, &mut |payload, last| {
                if failure.is_some() {
                    return;
                }
                let extension = match fixed {
                    Ok(e) => e,
                    Err(room) => {
                        ext.clear();
                        if let Err(e) = fill(*seq, ext) {
                            failure = Some(e);
                            return;
                        }
                        if ext.padded_len() > room {
                            failure = Some(Error::OutOfRange(
                                "per-packet extensions exceed the room reserved for them",
                            ));
                            return;
                        }
                        (!ext.is_empty()).then(|| ext.block())
                    }
                };
                let packet = RtpRepr {
                    marker: match marker_rule {
                        MarkerRule::EndOfFrame => last,
                        MarkerRule::TalkspurtStart => first && *talkspurt,
                    },
                    payload_type,
                    sequence_number: *seq,
                    timestamp,
                    ssrc,
                    csrcs,
                    extension,
                    payload,
                    padding: 0,
                };
                match packet.emit(buf) {
                    Ok(n) => {
                        out(buf.get(..n).unwrap_or(&[]));
                        *seq = seq.wrapping_add(1);
                        *packets = packets.wrapping_add(1);
                        *octets = octets.wrapping_add(payload.len() as u32);
                    }
                    Err(e) => failure = Some(e),
                }
                first = false;
            })?;
        if let Some(e) = failure {
            return Err(e);
        }
        self.talkspurt = false;
        self.elapsed += duration;
        Ok(timestamp)
    }
}
