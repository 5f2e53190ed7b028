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
}

impl PeerConnection {
    /// `getStats`: the transport (ICE, DTLS, SCTP) and every data channel.
    #[must_use]
    pub fn get_stats(&self) -> StatsReport {
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
            },
            data_channels,
            session: self.stats,
        }
    }
}
