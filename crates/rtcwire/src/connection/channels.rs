//! The data-channel calls (`createDataChannel`, `send`, `close`, buffered amounts).

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
}
