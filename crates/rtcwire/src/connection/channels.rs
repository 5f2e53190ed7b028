//! The data-channel calls (`createDataChannel`, `send`, `close`, buffered amounts), and the
//! data-channel layer's events turned into the session's.

use super::*;

impl PeerConnection {
    // ----- data channels --------------------------------------------------------------

    /// `createDataChannel`. Before the transport is up the channel waits and is opened
    /// (DCEP, or pre-negotiated) when SCTP connects; [`Event::ChannelOpen`] follows. The
    /// first channel of a session not yet negotiated emits [`Event::NegotiationNeeded`].
    pub fn create_data_channel(
        &mut self,
        label: &str,
        init: DataChannelInit,
    ) -> Result<ChannelId, Error> {
        self.check_open()?;
        let reliability = match (init.max_retransmits, init.max_packet_life_time) {
            (Some(_), Some(_)) => return Err(Error::BothReliabilityLimits),
            (Some(n), None) => Reliability::MaxRetransmits(u32::from(n)),
            (None, Some(ms)) => Reliability::MaxLifetimeMs(u32::from(ms)),
            (None, None) => Reliability::Reliable,
        };
        let config = ChannelConfig {
            label: label.to_owned(),
            protocol: init.protocol,
            ordered: init.ordered,
            reliability,
            negotiated: init.negotiated,
            ..ChannelConfig::default()
        };
        let now = self.now;
        let up = self.sctp.as_ref().is_some_and(Association::is_established);
        if up {
            let (Some(sctp), Some(channels)) = (self.sctp.as_mut(), self.channels.as_mut()) else {
                return Err(Error::WrongState("no SCTP association"));
            };
            let negotiated = config.negotiated.is_some();
            let entry = ChannelEntry::new(None, None, &config.label, &config.protocol);
            let stream = channels.open(sctp, now, config)?;
            let cid = self.new_channel_id();
            self.entries.insert(
                cid,
                ChannelEntry {
                    stream: Some(stream),
                    ..entry
                }
                .into(),
            );
            self.by_stream.insert(stream, cid);
            if negotiated {
                self.events.push_back(Event::ChannelOpen(cid));
            }
            self.pump(now);
            return Ok(cid);
        }
        let pending = self
            .entries
            .values()
            .filter(|e| e.pending.is_some())
            .count();
        if pending >= MAX_PENDING_CHANNELS {
            return Err(Error::TooManyChannels);
        }
        let cid = self.new_channel_id();
        let entry = ChannelEntry::new(None, None, &config.label, &config.protocol);
        self.entries.insert(
            cid,
            ChannelEntry {
                pending: Some(config),
                ..entry
            }
            .into(),
        );
        // The first channel of a session not negotiated yet needs the data section.
        if self.remote.is_none()
            && self.signaling == SignalingState::Stable
            && !self.negotiation_needed_sent
        {
            self.negotiation_needed_sent = true;
            self.events.push_back(Event::NegotiationNeeded);
        }
        Ok(cid)
    }

    fn count_sent(&mut self, id: ChannelId, len: usize) {
        if let Some(e) = self.entries.get_mut(&id) {
            e.messages_sent += 1;
            e.bytes_sent += len as u64;
        }
    }

    fn channel_stream(&self, id: ChannelId) -> Result<u16, Error> {
        let e = self.entries.get(&id).ok_or(Error::NoSuchChannel(id))?;
        e.stream.ok_or(Error::ChannelNotOpen(id))
    }

    /// The SCTP stream id of a channel (`RTCDataChannel.id`), once it has one.
    #[must_use]
    pub fn channel_stream_id(&self, id: ChannelId) -> Option<u16> {
        self.entries.get(&id).and_then(|e| e.stream)
    }

    /// Sends a text message (`send(string)`); an empty string is sent as WebRTC's empty
    /// message. The text is copied into memory SCTP reuses once the peer has acknowledged
    /// what was there (no allocation per message in steady state).
    pub fn send_text(&mut self, id: ChannelId, text: &str) -> Result<(), Error> {
        self.check_open()?;
        let stream = self.channel_stream(id)?;
        let now = self.now;
        let (Some(sctp), Some(channels)) = (self.sctp.as_mut(), self.channels.as_mut()) else {
            return Err(Error::ChannelNotOpen(id));
        };
        channels.send_text(sctp, now, stream, text)?;
        self.count_sent(id, text.len());
        Ok(())
    }

    /// Sends a binary message (`send(ArrayBuffer)`); copies `data` into memory SCTP
    /// reuses once the peer has acknowledged what was there (no allocation per message in
    /// steady state, for messages up to 64 KiB). See [`send_bytes`](Self::send_bytes) to
    /// hand over a buffer instead.
    pub fn send_binary(&mut self, id: ChannelId, data: &[u8]) -> Result<(), Error> {
        self.check_open()?;
        let stream = self.channel_stream(id)?;
        let now = self.now;
        let (Some(sctp), Some(channels)) = (self.sctp.as_mut(), self.channels.as_mut()) else {
            return Err(Error::ChannelNotOpen(id));
        };
        channels.send_binary_slice(sctp, now, stream, data)?;
        self.count_sent(id, data.len());
        Ok(())
    }

    /// Sends a binary message without copying it: SCTP keeps `data` (a reference to it)
    /// until the peer acknowledges it. A `Bytes` that is already shared (cloned, or split
    /// from a `BytesMut`) costs no allocation here.
    pub fn send_bytes(&mut self, id: ChannelId, data: bytes::Bytes) -> Result<(), Error> {
        self.check_open()?;
        let stream = self.channel_stream(id)?;
        let now = self.now;
        let (Some(sctp), Some(channels)) = (self.sctp.as_mut(), self.channels.as_mut()) else {
            return Err(Error::ChannelNotOpen(id));
        };
        let len = data.len();
        channels.send_binary(sctp, now, stream, data)?;
        self.count_sent(id, len);
        Ok(())
    }

    /// Sends a message without copying it (text or binary): SCTP keeps its bytes (a
    /// reference) until the peer acknowledges them, as [`send_bytes`](Self::send_bytes).
    pub fn send_payload(&mut self, id: ChannelId, payload: crate::Payload) -> Result<(), Error> {
        self.check_open()?;
        let stream = self.channel_stream(id)?;
        let now = self.now;
        let (Some(sctp), Some(channels)) = (self.sctp.as_mut(), self.channels.as_mut()) else {
            return Err(Error::ChannelNotOpen(id));
        };
        let len = payload.len();
        channels.send(sctp, now, stream, payload)?;
        self.count_sent(id, len);
        Ok(())
    }

    /// `bufferedAmount`: bytes queued on the channel and not yet sent.
    #[must_use]
    pub fn buffered_amount(&self, id: ChannelId) -> usize {
        match (
            self.channel_stream(id),
            self.sctp.as_ref(),
            self.channels.as_ref(),
        ) {
            (Ok(stream), Some(sctp), Some(channels)) => channels.buffered_amount(sctp, stream),
            _ => 0,
        }
    }

    /// `bufferedAmountLowThreshold`.
    pub fn set_buffered_amount_low_threshold(
        &mut self,
        id: ChannelId,
        bytes: usize,
    ) -> Result<(), Error> {
        let stream = self.channel_stream(id)?;
        let (Some(sctp), Some(channels)) = (self.sctp.as_mut(), self.channels.as_mut()) else {
            return Err(Error::ChannelNotOpen(id));
        };
        channels.set_buffered_amount_low_threshold(sctp, stream, bytes);
        Ok(())
    }

    /// `RTCDataChannel.close()`: resets the channel's stream; [`Event::ChannelClosed`]
    /// follows on both sides once the peer reset its side too. A channel still waiting for
    /// the transport is dropped at once.
    pub fn close_channel(&mut self, id: ChannelId) -> Result<(), Error> {
        self.check_open()?;
        let entry = self.entries.get(&id).ok_or(Error::NoSuchChannel(id))?;
        let Some(stream) = entry.stream else {
            self.entries.remove(&id);
            self.events.push_back(Event::ChannelClosed(id));
            return Ok(());
        };
        let now = self.now;
        let (Some(sctp), Some(channels)) = (self.sctp.as_mut(), self.channels.as_mut()) else {
            return Err(Error::ChannelNotOpen(id));
        };
        channels.close(sctp, now, stream)?;
        self.pump(now);
        Ok(())
    }

    // ----- events of the data-channel layer ----------------------------------------------

    pub(super) fn pump_channels(&mut self) {
        loop {
            let Some(e) = self.channels.as_mut().and_then(DataChannels::poll_event) else {
                return;
            };
            match e {
                rtcwire_datachannel::Event::ChannelOpened {
                    id,
                    label,
                    protocol,
                    ordered,
                    ..
                } => {
                    let cid = self.new_channel_id();
                    self.entries.insert(
                        cid,
                        ChannelEntry::new(Some(id), None, &label, &protocol).into(),
                    );
                    self.by_stream.insert(id, cid);
                    self.events.push_back(Event::DataChannel {
                        id: cid,
                        label,
                        protocol,
                        ordered,
                    });
                }
                rtcwire_datachannel::Event::Open(stream) => {
                    if let Some(&cid) = self.by_stream.get(&stream) {
                        self.events.push_back(Event::ChannelOpen(cid));
                    }
                }
                rtcwire_datachannel::Event::Message { id, payload } => {
                    if let Some(&cid) = self.by_stream.get(&id) {
                        if let Some(e) = self.entries.get_mut(&cid) {
                            e.messages_received += 1;
                            e.bytes_received += payload.len() as u64;
                        }
                        self.events
                            .push_back(Event::ChannelMessage { id: cid, payload });
                    }
                }
                rtcwire_datachannel::Event::BufferedAmountLow(stream) => {
                    if let Some(&cid) = self.by_stream.get(&stream) {
                        self.events.push_back(Event::ChannelBufferedAmountLow(cid));
                    }
                }
                rtcwire_datachannel::Event::Closed(stream) => {
                    if let Some(cid) = self.by_stream.remove(&stream) {
                        self.entries.remove(&cid);
                        self.events.push_back(Event::ChannelClosed(cid));
                    }
                }
                _ => {}
            }
        }
    }

    pub(super) fn new_channel_id(&mut self) -> ChannelId {
        let id = ChannelId(self.next_channel);
        self.next_channel = self.next_channel.wrapping_add(1);
        id
    }

    pub(super) fn open_pending_channels(&mut self, now: Instant) {
        let (Some(sctp), Some(channels)) = (self.sctp.as_mut(), self.channels.as_mut()) else {
            return;
        };
        let mut failed = Vec::new();
        let mut negotiated = Vec::new();
        for (&cid, entry) in self.entries.iter_mut() {
            let Some(config) = entry.pending.take() else {
                continue;
            };
            let pre_negotiated = config.negotiated.is_some();
            match channels.open(sctp, now, config) {
                Ok(stream) => {
                    entry.stream = Some(stream);
                    self.by_stream.insert(stream, cid);
                    // Pre-negotiated channels are open here; in-band ones by their
                    // `Open` event (queued with the OPEN, before any ACK).
                    if pre_negotiated {
                        negotiated.push(cid);
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, %cid, "data channel could not be opened");
                    failed.push(cid);
                }
            }
        }
        for cid in failed {
            self.entries.remove(&cid);
            self.events.push_back(Event::ChannelClosed(cid));
        }
        for cid in negotiated {
            self.events.push_back(Event::ChannelOpen(cid));
        }
    }

    pub(super) fn close_all_channels(&mut self) {
        let ids: Vec<ChannelId> = self.entries.keys().copied().collect();
        self.entries.clear();
        self.by_stream.clear();
        for cid in ids {
            self.events.push_back(Event::ChannelClosed(cid));
        }
    }
}
