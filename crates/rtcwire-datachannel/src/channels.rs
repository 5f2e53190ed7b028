//! The data channels of one association: DCEP open/ack (RFC 8832 §6), message PPIDs and
//! reliability (RFC 8831 §6), closing by stream reset (RFC 8831 §6.7).

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use rtcwire_proto::DtlsRole;
use rtcwire_sctp::{ppid, Association, SendOptions};

use bytes::Bytes;

use crate::dcep::{self, Open, Reliability};
use crate::payload::{Payload, Text};
use crate::Error;

/// The one ignored byte of an empty message (RFC 8831 §6.6).
const EMPTY: Bytes = Bytes::from_static(&[0]);

/// How to open a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelConfig {
    /// Label.
    pub label: String,
    /// Sub-protocol.
    pub protocol: String,
    /// Ordered delivery.
    pub ordered: bool,
    /// Reliability.
    pub reliability: Reliability,
    /// Priority (RFC 8832 §5.1; carried, not scheduled on).
    pub priority: u16,
    /// Pre-negotiated with this id (no DCEP, RFC 8832 §6 last paragraph); `None` to open
    /// in band with an id of our parity.
    pub negotiated: Option<u16>,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        ChannelConfig {
            label: String::new(),
            protocol: String::new(),
            ordered: true,
            reliability: Reliability::Reliable,
            priority: 256,
            negotiated: None,
        }
    }
}

/// Where a channel is (RTCDataChannelState).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelState {
    /// Not open yet (kept for the W3C state names: an in-band channel is open once its
    /// OPEN is queued).
    Connecting,
    /// Open.
    Open,
    /// A stream reset is under way.
    Closing,
    /// Both directions reset.
    Closed,
}

/// What the application learns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The peer opened a channel in band (DCEP OPEN received; ACK sent).
    ChannelOpened {
        /// Stream id.
        id: u16,
        /// Label.
        label: String,
        /// Sub-protocol.
        protocol: String,
        /// Ordered delivery.
        ordered: bool,
        /// Reliability.
        reliability: Reliability,
        /// Priority.
        priority: u16,
    },
    /// A channel we opened is open: at once when opened in band (the OPEN is queued;
    /// messages sent before the peer's ACK go ordered), or when the association comes up.
    Open(u16),
    /// A message.
    Message {
        /// Stream id.
        id: u16,
        /// Content.
        payload: Payload,
    },
    /// A channel's buffered amount fell to its threshold.
    BufferedAmountLow(u16),
    /// The channel is closed in both directions (its id may be reused).
    Closed(u16),
}

/// A message to send: handed over, or to be copied.
enum Data<'a> {
    Shared(Bytes),
    Copy(&'a [u8]),
}

struct Channel {
    config: ChannelConfig,
    state: ChannelState,
    /// We opened it in band and have seen no ACK or data yet: send ordered meanwhile.
    awaiting_ack: bool,
    local_reset: bool,
    remote_reset: bool,
}

/// Most channels tracked (one per SCTP stream id at most).
const MAX_CHANNELS: usize = 65535;

/// The data channels of one SCTP association. It owns no association: each call borrows
/// it, so the session keeps both as plain fields.
pub struct DataChannels {
    role: DtlsRole,
    channels: BTreeMap<u16, Channel>,
    events: VecDeque<Event>,
    scratch: Vec<u8>,
    /// DCEP messages or data refused (malformed, unknown stream).
    pub refused: u64,
}

impl std::fmt::Debug for DataChannels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataChannels")
            .field("role", &self.role)
            .field("channels", &self.channels.len())
            .finish_non_exhaustive()
    }
}

impl DataChannels {
    /// Channels for the side with this DTLS role: the client opens even stream ids, the
    /// server odd ones (RFC 8832 §6).
    #[must_use]
    pub fn new(role: DtlsRole) -> Self {
        DataChannels {
            role,
            channels: BTreeMap::new(),
            events: VecDeque::new(),
            scratch: Vec::new(),
            refused: 0,
        }
    }

    fn parity(&self) -> u16 {
        match self.role {
            DtlsRole::Client => 0,
            DtlsRole::Server => 1,
        }
    }

    /// Opens a channel: with DCEP (an id of our parity is chosen) or pre-negotiated.
    /// Returns its id.
    pub fn open(
        &mut self,
        assoc: &mut Association,
        now: Instant,
        config: ChannelConfig,
    ) -> Result<u16, Error> {
        if config.label.len() > usize::from(u16::MAX)
            || config.protocol.len() > usize::from(u16::MAX)
        {
            return Err(Error::TooLong);
        }
        if !assoc.is_established() {
            return Err(Error::Sctp(rtcwire_sctp::Error::NotEstablished));
        }
        if let Some(id) = config.negotiated {
            if id == u16::MAX || self.channels.contains_key(&id) {
                return Err(Error::IdUnavailable(id));
            }
            self.channels.insert(
                id,
                Channel {
                    config,
                    state: ChannelState::Open,
                    awaiting_ack: false,
                    local_reset: false,
                    remote_reset: false,
                },
            );
            return Ok(id);
        }
        if self.channels.len() >= MAX_CHANNELS {
            return Err(Error::NoFreeId);
        }
        let id = (0..u16::MAX / 2)
            .map(|i| i * 2 + self.parity())
            .find(|id| !self.channels.contains_key(id))
            .ok_or(Error::NoFreeId)?;
        self.scratch.clear();
        Open {
            ordered: config.ordered,
            reliability: config.reliability,
            priority: config.priority,
            label: &config.label,
            protocol: &config.protocol,
        }
        .emit(&mut self.scratch);
        assoc.send(
            now,
            id,
            ppid::DCEP,
            self.scratch.clone(),
            SendOptions::default(),
        )?;
        // Open as soon as the OPEN is queued, as browsers do: RFC 8832 §6 lets the opener
        // send before the ACK (ordered until then, so the OPEN arrives first), and waiting
        // for it would cost every new channel a round trip.
        self.channels.insert(
            id,
            Channel {
                config,
                state: ChannelState::Open,
                awaiting_ack: true,
                local_reset: false,
                remote_reset: false,
            },
        );
        self.events.push_back(Event::Open(id));
        Ok(id)
    }

    /// The channel's state, if it exists.
    #[must_use]
    pub fn state(&self, id: u16) -> Option<ChannelState> {
        self.channels.get(&id).map(|c| c.state)
    }

    /// The channel's configuration, if it exists.
    #[must_use]
    pub fn config(&self, id: u16) -> Option<&ChannelConfig> {
        self.channels.get(&id).map(|c| &c.config)
    }

    /// Ids of the channels that exist.
    pub fn ids(&self) -> impl Iterator<Item = u16> + '_ {
        self.channels.keys().copied()
    }

    /// Sends text (an empty string goes as PPID 56 with one ignored byte). The text is
    /// copied into memory the association reuses (no allocation in steady state).
    pub fn send_text(
        &mut self,
        assoc: &mut Association,
        now: Instant,
        id: u16,
        text: &str,
    ) -> Result<(), Error> {
        if text.is_empty() {
            self.send_raw(assoc, now, id, ppid::STRING_EMPTY, Data::Shared(EMPTY))
        } else {
            self.send_raw(assoc, now, id, ppid::STRING, Data::Copy(text.as_bytes()))
        }
    }

    /// Sends binary data (empty goes as PPID 57 with one ignored byte), handed over
    /// without a copy.
    pub fn send_binary(
        &mut self,
        assoc: &mut Association,
        now: Instant,
        id: u16,
        data: impl Into<Bytes>,
    ) -> Result<(), Error> {
        let data = data.into();
        if data.is_empty() {
            self.send_raw(assoc, now, id, ppid::BINARY_EMPTY, Data::Shared(EMPTY))
        } else {
            self.send_raw(assoc, now, id, ppid::BINARY, Data::Shared(data))
        }
    }

    /// Sends a message, handed over without a copy (text or binary; empty ones as WebRTC's
    /// empty messages).
    pub fn send(
        &mut self,
        assoc: &mut Association,
        now: Instant,
        id: u16,
        payload: Payload,
    ) -> Result<(), Error> {
        match payload {
            Payload::Binary(b) => self.send_binary(assoc, now, id, b),
            Payload::Text(t) if t.is_empty() => {
                self.send_raw(assoc, now, id, ppid::STRING_EMPTY, Data::Shared(EMPTY))
            }
            Payload::Text(t) => {
                self.send_raw(assoc, now, id, ppid::STRING, Data::Shared(t.into_bytes()))
            }
        }
    }

    /// Sends a copy of binary data, made in memory the association reuses (no allocation
    /// in steady state for messages up to 64 KiB).
    pub fn send_binary_slice(
        &mut self,
        assoc: &mut Association,
        now: Instant,
        id: u16,
        data: &[u8],
    ) -> Result<(), Error> {
        if data.is_empty() {
            self.send_raw(assoc, now, id, ppid::BINARY_EMPTY, Data::Shared(EMPTY))
        } else {
            self.send_raw(assoc, now, id, ppid::BINARY, Data::Copy(data))
        }
    }

    fn send_raw(
        &mut self,
        assoc: &mut Association,
        now: Instant,
        id: u16,
        ppid: u32,
        data: Data<'_>,
    ) -> Result<(), Error> {
        let c = self.channels.get(&id).ok_or(Error::NoSuchChannel(id))?;
        if !matches!(c.state, ChannelState::Open | ChannelState::Connecting) {
            return Err(Error::NotOpen(id));
        }
        let (max_retransmits, lifetime) = match c.config.reliability {
            Reliability::Reliable => (None, None),
            Reliability::MaxRetransmits(n) => (Some(n), None),
            Reliability::MaxLifetimeMs(ms) => (None, Some(Duration::from_millis(u64::from(ms)))),
        };
        let opts = SendOptions {
            // Until the ACK, messages go ordered (RFC 8832 §6) so none overtakes the OPEN.
            unordered: !c.config.ordered && !c.awaiting_ack,
            max_retransmits,
            lifetime,
        };
        match data {
            Data::Shared(b) => assoc.send(now, id, ppid, b, opts)?,
            Data::Copy(d) => assoc.send_slice(now, id, ppid, d, opts)?,
        }
        Ok(())
    }

    /// Closes a channel: resets its outgoing stream; the peer answers with its own reset
    /// and [`Event::Closed`] follows when both are done.
    pub fn close(&mut self, assoc: &mut Association, now: Instant, id: u16) -> Result<(), Error> {
        let c = self.channels.get_mut(&id).ok_or(Error::NoSuchChannel(id))?;
        match c.state {
            ChannelState::Closing | ChannelState::Closed => return Ok(()),
            ChannelState::Open | ChannelState::Connecting => {}
        }
        if !c.local_reset {
            assoc.reset_streams(now, &[id])?;
        }
        c.state = ChannelState::Closing;
        Ok(())
    }

    /// Sets the low-water mark of a channel's buffered amount.
    pub fn set_buffered_amount_low_threshold(
        &mut self,
        assoc: &mut Association,
        id: u16,
        bytes: usize,
    ) {
        assoc.set_buffered_amount_low_threshold(id, bytes);
    }

    /// Bytes queued on a channel and not yet sent.
    #[must_use]
    pub fn buffered_amount(&self, assoc: &Association, id: u16) -> usize {
        assoc.buffered_amount(id)
    }

    /// Takes one event of the association. Channel matters (DCEP, messages, resets,
    /// buffered amounts) are consumed and show up in [`poll_event`](Self::poll_event);
    /// everything else (connected, closed, aborted...) is handed back.
    pub fn handle_event(
        &mut self,
        assoc: &mut Association,
        now: Instant,
        event: rtcwire_sctp::Event,
    ) -> Option<rtcwire_sctp::Event> {
        use rtcwire_sctp::Event as S;
        match event {
            S::Message(m) => {
                self.on_message(assoc, now, m);
                None
            }
            S::BufferedAmountLow(id) if self.channels.contains_key(&id) => {
                self.events.push_back(Event::BufferedAmountLow(id));
                None
            }
            S::IncomingStreamsReset(ids) => {
                let all: Vec<u16> = if ids.is_empty() {
                    self.channels.keys().copied().collect()
                } else {
                    ids
                };
                for id in all {
                    if let Some(c) = self.channels.get_mut(&id) {
                        c.remote_reset = true;
                        if c.state != ChannelState::Closed {
                            c.state = ChannelState::Closing;
                        }
                    }
                    self.maybe_closed(id);
                }
                None
            }
            S::OutgoingStreamsReset(ids) => {
                for id in ids {
                    if let Some(c) = self.channels.get_mut(&id) {
                        c.local_reset = true;
                        if c.state != ChannelState::Closed {
                            c.state = ChannelState::Closing;
                        }
                    }
                    self.maybe_closed(id);
                }
                None
            }
            // A restart (RFC 9260 §5.2.4 case A) means the peer lost its state, its
            // channels with it: ours close too, and the association is handed back.
            e @ (S::Closed | S::Aborted(_) | S::Restarted) => {
                let ids: Vec<u16> = self.channels.keys().copied().collect();
                for id in ids {
                    self.channels.remove(&id);
                    self.events.push_back(Event::Closed(id));
                }
                Some(e)
            }
            e => Some(e),
        }
    }

    fn maybe_closed(&mut self, id: u16) {
        if self
            .channels
            .get(&id)
            .is_some_and(|c| c.local_reset && c.remote_reset)
        {
            self.channels.remove(&id);
            self.events.push_back(Event::Closed(id));
        }
    }

    fn on_message(&mut self, assoc: &mut Association, now: Instant, m: rtcwire_sctp::Message) {
        let id = m.stream;
        if m.ppid == ppid::DCEP {
            match dcep::Message::parse(&m.data) {
                Ok(dcep::Message::Open(open)) => self.on_open(assoc, now, id, &open),
                Ok(dcep::Message::Ack) => {
                    if let Some(c) = self.channels.get_mut(&id) {
                        if c.awaiting_ack {
                            c.awaiting_ack = false;
                            if c.state == ChannelState::Connecting {
                                c.state = ChannelState::Open;
                                self.events.push_back(Event::Open(id));
                            }
                        }
                    } else {
                        self.refused += 1;
                    }
                }
                Err(e) => {
                    tracing::debug!(stream = id, error = %e, "datachannel: bad DCEP message");
                    self.refused += 1;
                }
            }
            return;
        }
        let Some(c) = self.channels.get_mut(&id) else {
            self.refused += 1;
            return;
        };
        if c.awaiting_ack {
            // The first data from the peer acknowledges the OPEN (RFC 8832 §6).
            c.awaiting_ack = false;
            if c.state == ChannelState::Connecting {
                c.state = ChannelState::Open;
                self.events.push_back(Event::Open(id));
            }
        }
        let payload = match m.ppid {
            ppid::STRING => match Text::try_from(m.data) {
                Ok(t) => Payload::Text(t),
                Err(_) => {
                    self.refused += 1;
                    return;
                }
            },
            ppid::STRING_EMPTY => Payload::Text(Text::default()),
            ppid::BINARY_EMPTY => Payload::Binary(Bytes::new()),
            // 53, and the deprecated partial PPIDs 52/54 as binary / text data.
            ppid::BINARY | 52 => Payload::Binary(m.data),
            54 => Payload::Text(Text::from(String::from_utf8_lossy(&m.data).into_owned())),
            _ => {
                self.refused += 1;
                return;
            }
        };
        self.events.push_back(Event::Message { id, payload });
    }

    fn on_open(&mut self, assoc: &mut Association, now: Instant, id: u16, open: &Open<'_>) {
        if id % 2 == self.parity() || self.channels.contains_key(&id) {
            // An OPEN on an id of our parity, or on a channel that exists: a peer bug.
            self.refused += 1;
            return;
        }
        // ACK on the same stream, ordered and reliable.
        if assoc
            .send(now, id, ppid::DCEP, vec![dcep::ACK], SendOptions::default())
            .is_err()
        {
            self.refused += 1;
            return;
        }
        let config = ChannelConfig {
            label: open.label.to_owned(),
            protocol: open.protocol.to_owned(),
            ordered: open.ordered,
            reliability: open.reliability,
            priority: open.priority,
            negotiated: None,
        };
        self.events.push_back(Event::ChannelOpened {
            id,
            label: config.label.clone(),
            protocol: config.protocol.clone(),
            ordered: config.ordered,
            reliability: config.reliability,
            priority: config.priority,
        });
        self.channels.insert(
            id,
            Channel {
                config,
                state: ChannelState::Open,
                awaiting_ack: false,
                local_reset: false,
                remote_reset: false,
            },
        );
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}
