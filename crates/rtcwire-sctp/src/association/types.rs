//! The association's public types: settings, states, events and counters.

use std::time::Duration;

use super::recv::Message;
#[cfg(doc)]
use {super::Association, rtcwire_proto::SansIo};

/// Settings of an association. `Default` gives WebRTC's usual values.
#[derive(Debug, Clone)]
pub struct Config {
    /// Local SCTP port (5000 in WebRTC unless SDP says otherwise).
    pub local_port: u16,
    /// Remote SCTP port.
    pub remote_port: u16,
    /// Largest SCTP packet written (1191 as dcSCTP: what fits in IPv6's 1280 with DTLS,
    /// UDP and TURN overhead).
    pub mtu: usize,
    /// Largest message accepted from the peer (the LOCAL limit, what our SDP offers as
    /// `a=max-message-size`); a peer that sends more is aborted.
    pub max_message_size: usize,
    /// Largest message we send (the peer's `a=max-message-size`; RFC 8841 says 65536 when
    /// absent).
    pub remote_max_message_size: usize,
    /// Receive window: bytes held for reassembly and for the application, at most.
    pub receive_window: usize,
    /// Send buffer, all streams together.
    pub send_buffer: usize,
    /// Send buffer of one stream.
    pub stream_send_buffer: usize,
    /// `TotalBufferedAmountLow` fires when the send buffer drains to this.
    pub total_buffered_amount_low: usize,
    /// Streams we announce in both directions (no fixed cost per stream).
    pub streams: u16,
    /// RTO.Initial.
    pub rto_initial: Duration,
    /// RTO.Min (above the peer's delayed-ack time).
    pub rto_min: Duration,
    /// RTO.Max.
    pub rto_max: Duration,
    /// Association.Max.Retrans; `None`: never give up (WebRTC stacks may let ICE decide).
    pub max_retransmissions: Option<u32>,
    /// Max.Init.Retransmits.
    pub max_init_retransmissions: Option<u32>,
    /// Heartbeat interval on an idle association; `None` disables heartbeats.
    pub heartbeat_interval: Option<Duration>,
    /// Longest a SACK is delayed.
    pub delayed_ack: Duration,
    /// Initial congestion window, in MTUs.
    pub initial_cwnd_mtus: usize,
    /// Ceiling of the congestion window, bytes.
    pub max_cwnd: usize,
    /// Valid.Cookie.Life.
    pub cookie_lifetime: Duration,
    /// When the peer resets its outgoing streams, reset ours with the same ids (what data
    /// channels need to close on both sides).
    pub answer_incoming_reset: bool,
    /// RFC 9653: announce that we accept packets with a zero checksum because DTLS below
    /// protects them (error detection method 1). Negotiated per direction: we accept zero
    /// checksums only if we announced it, and send them only to a peer that announced it.
    pub zero_checksum: bool,
    /// RFC 8260: offer I-DATA; when the peer offers it too, messages of different streams
    /// interleave (a large message no longer holds back a small one on another stream).
    pub interleaving: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            local_port: 5000,
            remote_port: 5000,
            mtu: 1191,
            max_message_size: 256 * 1024,
            remote_max_message_size: 65536,
            receive_window: 4 * 1024 * 1024,
            send_buffer: 4 * 1024 * 1024,
            stream_send_buffer: 4 * 1024 * 1024,
            total_buffered_amount_low: 1024 * 1024,
            streams: u16::MAX,
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_millis(400),
            rto_max: Duration::from_secs(60),
            max_retransmissions: Some(10),
            max_init_retransmissions: Some(8),
            heartbeat_interval: Some(Duration::from_secs(30)),
            delayed_ack: Duration::from_millis(200),
            initial_cwnd_mtus: 10,
            max_cwnd: 64 * 1024 * 1024,
            cookie_lifetime: Duration::from_secs(60),
            answer_incoming_reset: true,
            zero_checksum: false,
            interleaving: false,
        }
    }
}

/// Where the association is (RFC 9260 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No association: listening for INIT (or ended, see [`Association::is_closed`]).
    Closed,
    /// INIT sent.
    CookieWait,
    /// COOKIE ECHO sent.
    CookieEchoed,
    /// Up.
    Established,
    /// Shutdown asked for; sending what is queued.
    ShutdownPending,
    /// SHUTDOWN sent.
    ShutdownSent,
    /// SHUTDOWN received; sending what is queued.
    ShutdownReceived,
    /// SHUTDOWN ACK sent.
    ShutdownAckSent,
}

/// Why an association ended abnormally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AbortReason {
    /// The peer sent ABORT (with its first error cause, if any).
    PeerAbort(Option<u16>),
    /// Association.Max.Retrans consecutive timeouts: the peer is unreachable.
    MaxRetransmissions,
    /// INIT or COOKIE ECHO went unanswered Max.Init.Retransmits times.
    SetupTimeout,
    /// The peer sent a message larger than our max message size.
    MessageTooLarge,
    /// [`Association::abort`] was called.
    Local,
    /// The random source failed.
    Rng,
}

/// What the application learns from [`SansIo::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The association is up: messages can flow.
    Connected,
    /// A complete message.
    Message(Message),
    /// A stream's buffered amount fell to its low-water mark.
    BufferedAmountLow(u16),
    /// The total buffered amount fell to its low-water mark.
    TotalBufferedAmountLow,
    /// Our outgoing streams were reset (their sequence numbers start again).
    OutgoingStreamsReset(Vec<u16>),
    /// The peer reset its outgoing streams (our incoming ones); an empty list means all.
    IncomingStreamsReset(Vec<u16>),
    /// The peer refused to reset these outgoing streams.
    StreamsResetFailed(Vec<u16>),
    /// Outgoing streams were added ([`Association::add_streams`]): the new count.
    OutgoingStreamsAdded(u16),
    /// The peer added outgoing streams (our incoming ones): the new count.
    IncomingStreamsAdded(u16),
    /// The peer refused to add this many outgoing streams.
    AddStreamsFailed(u16),
    /// The peer reset the TSNs and every stream's sequence numbers in both directions
    /// (RFC 6525 SSN/TSN reset). Messages not yet complete were dropped.
    AssociationReset,
    /// The peer restarted the association (RFC 9260 §5.2.4 case A): the peer lost its
    /// state, so did we: messages in flight are gone (what was queued and not yet started
    /// is still sent), stream sequence numbers start again, and resets in progress are
    /// dropped. The association stays established with the new peer.
    Restarted,
    /// Graceful shutdown completed. The association is closed.
    Closed,
    /// The association failed or was aborted (reported once). It is closed.
    Aborted(AbortReason),
}

/// Counters and current values, for get_stats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets written by `poll_transmit`.
    pub packets_sent: u64,
    /// Packets accepted by `handle_read`.
    pub packets_received: u64,
    /// Packets refused by `handle_read`.
    pub packets_refused: u64,
    /// DATA chunks sent for the first time.
    pub data_chunks_sent: u64,
    /// DATA chunks sent again.
    pub retransmissions: u64,
    /// Fast-retransmit episodes.
    pub fast_retransmits: u64,
    /// T3-rtx expiries.
    pub t3_expiries: u64,
    /// Tail loss probes sent (RACK-TLP).
    pub tail_loss_probes: u64,
    /// Losses taken as random (no queueing delay, low loss rate): the window was kept.
    pub random_loss_episodes: u64,
    /// Congestion responses (window reduced: queueing loss, high loss rate, or T3).
    pub congestion_episodes: u64,
    /// Restarts by the peer (RFC 9260 §5.2.4 case A).
    pub restarts: u64,
    /// Messages given up by PR-SCTP.
    pub abandoned_messages: u64,
    /// Payload bytes acknowledged by the peer.
    pub bytes_acked: u64,
    /// Messages delivered.
    pub messages_received: u64,
    /// Blocks allocated for message bytes (received messages delivered at once, and
    /// [`Association::send_slice`]'s copies); a steady flow reuses its first few.
    pub buffer_blocks: u64,
    /// Congestion window, bytes.
    pub cwnd: usize,
    /// Slow-start threshold, bytes.
    pub ssthresh: usize,
    /// Peer's receive window as we account it, bytes.
    pub peer_rwnd: usize,
    /// Our advertised receive window, bytes.
    pub rwnd: usize,
    /// Payload bytes in flight.
    pub flight: usize,
    /// Smoothed RTT, if measured.
    pub srtt: Option<Duration>,
    /// Current RTO.
    pub rto: Duration,
}
