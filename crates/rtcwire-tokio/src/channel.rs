//! [`DataChannel`]: one data channel of a driven session.

use std::fmt;
use std::sync::Arc;

use rtcwire::{ChannelId, Payload, Text};
use tokio::sync::{mpsc, watch};

use crate::driver::{Cmd, Guard, ReplyTo, SendCmd, SendReply};
use crate::Error;

/// Messages up to this size are copied by [`ChannelSender::send_binary`] (and
/// [`send_text`](ChannelSender::send_text)) into a buffer of
/// [`ARENA`] bytes the sender reuses (pieces split from it; the memory is reused once every
/// piece was acknowledged and dropped): no allocation per message. Larger ones get a
/// buffer each (the copy costs more than the allocation).
const SMALL: usize = 8 * 1024;
/// See [`SMALL`]: at most this much stays held by a sender that has sent small messages.
const ARENA: usize = 32 * 1024;

/// A sending handle's own state: one send at a time (in order), its copy buffer and the
/// driver's answer slot.
#[derive(Debug, Default)]
struct SendSide {
    turn: tokio::sync::Mutex<SendTurn>,
    reply: Arc<SendReply>,
}

#[derive(Debug, Default)]
struct SendTurn {
    seq: u64,
    arena: bytes::BytesMut,
}

impl SendTurn {
    /// A copy of `data`: a piece of the reused buffer when small (see [`SMALL`]).
    fn copy_in(&mut self, data: &[u8]) -> bytes::Bytes {
        if data.len() > SMALL {
            return bytes::Bytes::copy_from_slice(data);
        }
        if self.arena.capacity() < data.len() {
            // Reuses the buffer in place when every piece split from it is gone.
            self.arena.reserve(ARENA);
        }
        self.arena.extend_from_slice(data);
        self.arena.split().freeze()
    }
}

/// `RTCDataChannelState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelState {
    /// Created locally; waits for the transport and the peer's acknowledgement.
    Connecting,
    /// Messages flow.
    Open,
    /// [`close`](DataChannel::close) was called; the peer has not confirmed yet.
    Closing,
    /// Closed in both directions (or the session ended).
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChannelInfo {
    pub(crate) state: ChannelState,
    pub(crate) stream_id: Option<u16>,
    pub(crate) buffered: usize,
}

/// The sending half of a [`DataChannel`]: cheap to clone, usable from other tasks while
/// one task receives. Sends through one handle go one at a time, in order; clones send
/// independently.
pub struct ChannelSender {
    id: ChannelId,
    guard: Arc<Guard>,
    info: watch::Receiver<ChannelInfo>,
    side: SendSide,
}

impl Clone for ChannelSender {
    fn clone(&self) -> Self {
        ChannelSender {
            id: self.id,
            guard: Arc::clone(&self.guard),
            info: self.info.clone(),
            side: SendSide::default(),
        }
    }
}

impl fmt::Debug for ChannelSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelSender")
            .field("id", &self.id)
            .field("info", &*self.info.borrow())
            .finish()
    }
}

impl ChannelSender {
    /// Sends a message (`send(text)` / `send(bytes)`), handed over without a copy. Errors
    /// when the channel is not open or the message is over the peer's maximum size.
    pub async fn send(&self, payload: Payload) -> Result<(), Error> {
        let mut turn = self.side.turn.lock().await;
        self.send_in_turn(&mut turn, payload).await
    }

    /// Sends a binary message without copying it: the session keeps `data` (a reference)
    /// until the peer acknowledges it. With a `Bytes` already shared (a clone, or split
    /// from a `BytesMut`) nothing is allocated per message. Returns once the session has
    /// queued it (or refused it: channel not open, over the peer's maximum size, send
    /// buffer full); while the socket is full, once the socket has room.
    pub async fn send_bytes(&self, data: bytes::Bytes) -> Result<(), Error> {
        self.send(Payload::Binary(data)).await
    }

    async fn send_in_turn(&self, turn: &mut SendTurn, data: Payload) -> Result<(), Error> {
        turn.seq = turn.seq.wrapping_add(1);
        let seq = turn.seq;
        let m = SendCmd {
            id: self.id,
            data,
            reply: ReplyTo::new(Arc::clone(&self.side.reply), seq),
        };
        self.guard
            .cmd
            .send(Cmd::Send(self.guard.key, m))
            .map_err(|_| Error::Closed)?;
        self.side.reply.wait(seq).await
    }

    /// Sends a text message, copied as [`send_binary`](Self::send_binary) copies.
    pub async fn send_text(&self, text: &str) -> Result<(), Error> {
        let mut turn = self.side.turn.lock().await;
        let bytes = turn.copy_in(text.as_bytes());
        // The copy of a `&str` is UTF-8: the check cannot fail.
        let text = Text::try_from(bytes).unwrap_or_else(|_| Text::from(text));
        self.send_in_turn(&mut turn, Payload::Text(text)).await
    }

    /// Sends a binary message (empty is allowed). `data` is copied: messages up to 8 KiB
    /// into a 32 KiB buffer this handle reuses (no allocation per message in steady
    /// state), larger ones into a buffer of their own. [`send_bytes`](Self::send_bytes)
    /// hands over a buffer without a copy.
    pub async fn send_binary(&self, data: &[u8]) -> Result<(), Error> {
        let mut turn = self.side.turn.lock().await;
        let bytes = turn.copy_in(data);
        self.send_in_turn(&mut turn, Payload::Binary(bytes)).await
    }

    /// `bufferedAmount`: bytes queued and not yet acknowledged, as the driver last saw it
    /// (it publishes after every batch of work).
    #[must_use]
    pub fn buffered_amount(&self) -> usize {
        self.info.borrow().buffered
    }

    /// `bufferedAmountLowThreshold`.
    pub async fn set_buffered_amount_low_threshold(&self, threshold: usize) -> Result<(), Error> {
        let id = self.id;
        self.guard
            .call(move |c| c.pc.set_buffered_amount_low_threshold(id, threshold))
            .await?
            .map_err(Error::from)
    }

    /// Waits until the buffered amount is at or below `threshold` (`onbufferedamountlow`
    /// as a future). Errors when the channel closes first.
    pub async fn wait_buffered_amount_low(&self, threshold: usize) -> Result<(), Error> {
        let mut rx = self.info.clone();
        let info = rx
            .wait_for(|i| i.buffered <= threshold || i.state == ChannelState::Closed)
            .await
            .map_err(|_| Error::Closed)?;
        if info.state == ChannelState::Closed {
            return Err(Error::Closed);
        }
        Ok(())
    }

    /// `close()`: resets the stream; the state goes to [`ChannelState::Closing`], then
    /// [`ChannelState::Closed`] when the peer confirms.
    pub async fn close(&self) -> Result<(), Error> {
        let id = self.id;
        self.guard
            .call(move |c| {
                let r = c.pc.close_channel(id);
                if r.is_ok() {
                    c.channel_closing(id);
                }
                r
            })
            .await?
            .map_err(Error::from)
    }

    /// The channel's state.
    #[must_use]
    pub fn state(&self) -> ChannelState {
        self.info.borrow().state
    }
}

/// A data channel of a driven session: created with
/// [`PeerConnection::create_data_channel`](crate::PeerConnection::create_data_channel) or
/// announced by [`Event::DataChannel`](crate::Event::DataChannel). Receiving takes `&mut
/// self`; [`sender`](Self::sender) gives a clonable sending half. The session stays alive
/// while a channel handle does.
pub struct DataChannel {
    sender: ChannelSender,
    label: String,
    protocol: String,
    rx: mpsc::Receiver<Payload>,
}

impl fmt::Debug for DataChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataChannel")
            .field("id", &self.sender.id)
            .field("label", &self.label)
            .field("info", &*self.sender.info.borrow())
            .finish_non_exhaustive()
    }
}

impl DataChannel {
    pub(crate) fn new(
        id: ChannelId,
        label: String,
        protocol: String,
        guard: Arc<Guard>,
        rx: mpsc::Receiver<Payload>,
        info: watch::Receiver<ChannelInfo>,
    ) -> Self {
        DataChannel {
            sender: ChannelSender {
                id,
                guard,
                info,
                side: SendSide::default(),
            },
            label,
            protocol,
            rx,
        }
    }

    /// The session's id of this channel.
    #[must_use]
    pub fn id(&self) -> ChannelId {
        self.sender.id
    }

    /// The SCTP stream id (`RTCDataChannel.id`), once the channel has a stream.
    #[must_use]
    pub fn stream_id(&self) -> Option<u16> {
        self.sender.info.borrow().stream_id
    }

    /// `label`.
    #[must_use]
    pub fn label(&self) -> &str {
        &self.label
    }

    /// `protocol`.
    #[must_use]
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// The channel's state.
    #[must_use]
    pub fn state(&self) -> ChannelState {
        self.sender.state()
    }

    /// A clonable sending half.
    #[must_use]
    pub fn sender(&self) -> ChannelSender {
        self.sender.clone()
    }

    /// Waits until the channel is open (`onopen`); errors if it closes first.
    pub async fn wait_open(&self) -> Result<(), Error> {
        let mut rx = self.sender.info.clone();
        let info = rx
            .wait_for(|i| i.state != ChannelState::Connecting)
            .await
            .map_err(|_| Error::Closed)?;
        match info.state {
            ChannelState::Open => Ok(()),
            _ => Err(Error::Closed),
        }
    }

    /// The next message (`onmessage`); `None` once the channel is closed and every
    /// message before the close was taken.
    pub async fn recv(&mut self) -> Option<Payload> {
        self.rx.recv().await
    }

    /// Waits until the channel is closed (`onclose`).
    pub async fn closed(&self) {
        let mut rx = self.sender.info.clone();
        // An error means the session is gone: closed too.
        let _ = rx.wait_for(|i| i.state == ChannelState::Closed).await;
    }

    /// See [`ChannelSender::send`].
    pub async fn send(&self, payload: Payload) -> Result<(), Error> {
        self.sender.send(payload).await
    }

    /// See [`ChannelSender::send_text`].
    pub async fn send_text(&self, text: &str) -> Result<(), Error> {
        self.sender.send_text(text).await
    }

    /// See [`ChannelSender::send_binary`].
    pub async fn send_binary(&self, data: &[u8]) -> Result<(), Error> {
        self.sender.send_binary(data).await
    }

    /// See [`ChannelSender::send_bytes`].
    pub async fn send_bytes(&self, data: bytes::Bytes) -> Result<(), Error> {
        self.sender.send_bytes(data).await
    }

    /// See [`ChannelSender::buffered_amount`].
    #[must_use]
    pub fn buffered_amount(&self) -> usize {
        self.sender.buffered_amount()
    }

    /// See [`ChannelSender::set_buffered_amount_low_threshold`].
    pub async fn set_buffered_amount_low_threshold(&self, threshold: usize) -> Result<(), Error> {
        self.sender
            .set_buffered_amount_low_threshold(threshold)
            .await
    }

    /// See [`ChannelSender::wait_buffered_amount_low`].
    pub async fn wait_buffered_amount_low(&self, threshold: usize) -> Result<(), Error> {
        self.sender.wait_buffered_amount_low(threshold).await
    }

    /// See [`ChannelSender::close`].
    pub async fn close(&self) -> Result<(), Error> {
        self.sender.close().await
    }
}
