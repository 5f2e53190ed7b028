//! `getStats`: a typed report of the transport and the data channels.

use super::*;

/// `RTCDataChannelState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataChannelState {
    /// Waiting for the transport, or for the peer's ACK.
    Connecting,
    /// Messages flow.
    Open,
    /// A stream reset is under way.
    Closing,
}

/// One data channel (`RTCDataChannelStats`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DataChannelStats {
    /// The channel.
    pub id: ChannelId,
    /// Its label.
    pub label: String,
    /// Its sub-protocol.
    pub protocol: String,
    /// Its SCTP stream (`dataChannelIdentifier`), once it has one.
    pub stream: Option<u16>,
    /// Where it is.
    pub state: DataChannelState,
    /// Messages sent (queued to SCTP).
    pub messages_sent: u64,
    /// Bytes of those messages.
    pub bytes_sent: u64,
    /// Messages received.
    pub messages_received: u64,
    /// Bytes of those messages.
    pub bytes_received: u64,
}

/// The transport (`RTCTransportStats` with its ICE and DTLS parts).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TransportStats {
    /// `iceState`.
    pub ice_state: IceConnectionState,
    /// The pair data flows on.
    pub selected_pair: Option<rtcwire_ice::SelectedPair>,
    /// The ICE agent's counters (checks, responses, refusals).
    pub ice: rtcwire_ice::Stats,
    /// Our DTLS role, once negotiated.
    pub dtls_role: Option<DtlsRole>,
    /// Whether the DTLS handshake completed.
    pub dtls_connected: bool,
    /// The negotiated cipher suite.
    pub dtls_cipher: Option<rtcwire_dtls::CipherSuite>,
    /// DTLS drop and retransmission counters.
    pub dtls: Option<rtcwire_dtls::Stats>,
    /// SCTP counters and current values (RTT, cwnd, windows).
    pub sctp: Option<rtcwire_sctp::Stats>,
    /// The SRTP protection profile DTLS negotiated (`srtpCipher`), once media keys exist.
    pub srtp_profile: Option<rtcwire_proto::SrtpProfile>,
}

/// One incoming RTP stream (`RTCInboundRtpStreamStats`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboundRtpStats {
    /// The transceiver.
    pub transceiver: crate::TransceiverId,
    /// The sender's SSRC.
    pub ssrc: u32,
    /// Its rid (simulcast), when its packets carry one.
    pub rid: Option<String>,
    /// Its codec now.
    pub codec: crate::Codec,
    /// Packets received (retransmissions included).
    pub packets_received: u64,
    /// Payload bytes of those packets.
    pub bytes_received: u64,
    /// RFC 3550 cumulative loss on the primary SSRC (expected minus received there; a
    /// packet repaired by an RTX retransmission still counts here, and in
    /// `packets_repaired`).
    pub packets_lost: i64,
    /// Interarrival jitter, in RTP timestamp units.
    pub jitter: u32,
    /// Whole frames handed up.
    pub frames_received: u64,
    /// Of those, keyframes.
    pub keyframes_received: u64,
    /// Frames dropped because a packet never came.
    pub frames_dropped: u64,
    /// NACK packets sent.
    pub nack_count: u64,
    /// Lost packets a retransmission repaired.
    pub packets_repaired: u64,
    /// RTX packets received.
    pub retransmitted_packets_received: u64,
    /// PLIs sent.
    pub pli_count: u64,
    /// FIRs sent.
    pub fir_count: u64,
    /// The sender's view from its latest sender report (`RTCRemoteOutboundRtpStreamStats`).
    pub remote_outbound: Option<RemoteOutboundRtpStats>,
}

/// What the peer's latest sender report said about a stream it sends us
/// (`RTCRemoteOutboundRtpStreamStats`): its wall clock ↔ RTP timestamp mapping, for
/// audio/video sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RemoteOutboundRtpStats {
    /// `remoteTimestamp`: the sender's wall clock when it sent the report, as time since
    /// the UNIX epoch (from the report's NTP timestamp).
    pub remote_timestamp: Duration,
    /// The report's NTP timestamp as sent (64-bit fixed point).
    pub ntp_time: u64,
    /// The RTP timestamp that corresponds to it.
    pub rtp_timestamp: u32,
    /// `packetsSent`.
    pub packets_sent: u32,
    /// `bytesSent` (payload octets).
    pub bytes_sent: u32,
    /// `reportsSent`: sender reports received from it.
    pub reports_sent: u64,
    /// When (the session's clock) the latest one arrived.
    pub received_at: Instant,
}

/// Our outgoing RTP stream of a transceiver (`RTCOutboundRtpStreamStats`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutboundRtpStats {
    /// The transceiver.
    pub transceiver: crate::TransceiverId,
    /// Our SSRC.
    pub ssrc: u32,
    /// The simulcast layer's rid, when the transceiver sends simulcast.
    pub rid: Option<String>,
    /// Packets sent (retransmissions not included).
    pub packets_sent: u64,
    /// Payload bytes of those packets.
    pub bytes_sent: u64,
    /// Frames written.
    pub frames_sent: u64,
    /// Packets sent again for NACKs.
    pub retransmitted_packets_sent: u64,
    /// NACK packets received.
    pub nack_count: u64,
    /// PLIs received.
    pub pli_count: u64,
    /// FIRs received.
    pub fir_count: u64,
    /// Loss the peer reported (cumulative).
    pub remote_packets_lost: i64,
    /// Round-trip time from the peer's last report block with an LSR.
    pub round_trip_time: Option<Duration>,
}

/// Bandwidth estimates exchanged by REMB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BandwidthStats {
    /// REMB packets we sent.
    pub remb_sent: u64,
    /// The estimate we last advertised, bit/s.
    pub local_estimate: Option<u64>,
    /// The cap the application put on it ([`PeerConnection::set_remb_cap`]).
    pub local_cap: Option<u64>,
    /// The video rate we measured over the last interval, bit/s.
    pub received_rate: u64,
    /// REMB packets the peer sent us.
    pub remb_received: u64,
    /// The peer's latest estimate of what we may send, bit/s.
    pub peer_estimate: Option<u64>,
    /// Our send-side estimate from the peer's transport-cc feedback, bit/s.
    pub send_estimate: Option<u64>,
    /// The rate the peer's transport-cc feedback acknowledged over the last update, bit/s.
    pub acknowledged_rate: u64,
    /// The queueing delay the last transport-cc feedback showed (one-way delay over its
    /// recent minimum).
    pub queueing_delay: Duration,
    /// Transport-cc feedback packets taken by the estimator.
    pub transport_feedback: u64,
    /// Packets those feedbacks reported that we have no record of (never sent, or older
    /// than the send history): skipped.
    pub unknown_feedback_packets: u64,
}

/// What [`PeerConnection::get_stats`] returns.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StatsReport {
    /// `connectionState`.
    pub connection_state: PeerConnectionState,
    /// The transport.
    pub transport: TransportStats,
    /// Every channel that exists.
    pub data_channels: Vec<DataChannelStats>,
    /// What the session itself refused or dropped.
    pub session: Stats,
    /// Every incoming RTP stream.
    pub inbound_rtp: Vec<InboundRtpStats>,
    /// Every transceiver that sent.
    pub outbound_rtp: Vec<OutboundRtpStats>,
    /// REMB both ways.
    pub bandwidth: BandwidthStats,
}

impl PeerConnection {
    /// `getStats`: the transport (ICE, DTLS, SCTP) and every data channel.
    #[must_use]
    pub fn get_stats(&self) -> StatsReport {
        let bwe = self.media.send_bwe.as_deref();
        let data_channels = self
            .entries
            .iter()
            .map(|(&id, e)| {
                let state = match (e.stream, self.channels.as_ref()) {
                    (Some(s), Some(c)) => match c.state(s) {
                        Some(rtcwire_datachannel::ChannelState::Open) => DataChannelState::Open,
                        Some(rtcwire_datachannel::ChannelState::Connecting) | None => {
                            DataChannelState::Connecting
                        }
                        Some(_) => DataChannelState::Closing,
                    },
                    _ => DataChannelState::Connecting,
                };
                DataChannelStats {
                    id,
                    label: e.label.clone(),
                    protocol: e.protocol.clone(),
                    stream: e.stream,
                    state,
                    messages_sent: e.messages_sent,
                    bytes_sent: e.bytes_sent,
                    messages_received: e.messages_received,
                    bytes_received: e.bytes_received,
                }
            })
            .collect();
        StatsReport {
            connection_state: self.conn_state,
            transport: TransportStats {
                ice_state: self.ice_state,
                selected_pair: self.ice.selected_pair(),
                ice: self.ice.stats(),
                dtls_role: self.dtls_role,
                dtls_connected: self.dtls_connected,
                dtls_cipher: self.cipher_suite,
                dtls: self.dtls.as_ref().map(Connection::stats),
                sctp: self.sctp.as_ref().map(Association::stats),
                srtp_profile: self
                    .media
                    .srtp_keys
                    .as_ref()
                    .map(rtcwire_proto::KeyingMaterial::profile),
            },
            data_channels,
            session: self.stats,
            inbound_rtp: self
                .media
                .transceivers
                .iter()
                .flat_map(|t| {
                    t.recv.iter().map(move |r| InboundRtpStats {
                        transceiver: t.id,
                        ssrc: r.ssrc,
                        rid: r.rid.as_deref().map(str::to_owned),
                        codec: r.codec,
                        packets_received: r.packets,
                        bytes_received: r.bytes,
                        packets_lost: r.stats.lost(),
                        jitter: r.stats.jitter(),
                        frames_received: r.frames,
                        keyframes_received: r.keyframes,
                        frames_dropped: r.assembler.dropped_frames(),
                        nack_count: r.nacks_sent,
                        packets_repaired: r.nack.recovered,
                        retransmitted_packets_received: r.rtx_packets,
                        pli_count: r.plis_sent,
                        fir_count: r.firs_sent,
                        remote_outbound: r.remote_sr,
                    })
                })
                .collect(),
            outbound_rtp: self
                .media
                .transceivers
                .iter()
                .flat_map(|t| {
                    t.send_streams()
                        .filter(|s| s.packets > 0)
                        .map(move |s| OutboundRtpStats {
                            transceiver: t.id,
                            ssrc: s.ssrc,
                            rid: s.rid.clone().filter(|_| t.simulcast()),
                            packets_sent: s.packets,
                            bytes_sent: s.bytes,
                            frames_sent: s.frames,
                            retransmitted_packets_sent: s.retransmitted,
                            nack_count: s.nacks_received,
                            pli_count: t.plis_received,
                            fir_count: t.firs_received,
                            remote_packets_lost: s.remote_lost,
                            round_trip_time: s.rtt,
                        })
                })
                .collect(),
            bandwidth: BandwidthStats {
                remb_sent: self.media.remb_sent,
                local_estimate: self.media.remb_last_sent,
                local_cap: self.media.remb.cap,
                received_rate: self.media.remb.last_rate,
                remb_received: self.media.remb_received,
                peer_estimate: self.media.peer_remb,
                send_estimate: bwe.and_then(|e| e.estimate()),
                acknowledged_rate: bwe.map_or(0, |e| e.acked_rate),
                queueing_delay: bwe.map_or(Duration::ZERO, |e| {
                    Duration::from_micros(u64::try_from(e.queue_us).unwrap_or(0))
                }),
                transport_feedback: bwe.map_or(0, |e| e.feedbacks),
                unknown_feedback_packets: bwe.map_or(0, |e| e.unknown),
            },
        }
    }
}
