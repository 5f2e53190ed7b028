//! Media handles: [`Transceiver`] (sending, keyframe requests from the peer, direction)
//! and [`Track`] (what the peer sends on a transceiver, frame by frame).

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use rtcwire::{Codec, Direction, KeyframeKind, MediaFrame, MediaKind, TransceiverId};
use tokio::sync::{watch, Notify};

use crate::driver::Guard;
use crate::Error;

/// The peer's keyframe requests on one transceiver, as the driver last counted them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct KeyframeRequests {
    pub(crate) count: u64,
    pub(crate) last: Option<KeyframeKind>,
}

/// A transceiver of a driven session (`RTCRtpTransceiver`): made by
/// [`PeerConnection::add_transceiver`](crate::PeerConnection::add_transceiver) or
/// [`add_track`](crate::PeerConnection::add_track), or by a remote offer (then reached
/// through [`Track::transceiver`]). Cheap to clone; the session stays alive while a handle
/// does. Sending needs a connected transport and a direction that sends.
#[derive(Clone)]
pub struct Transceiver {
    id: TransceiverId,
    kind: MediaKind,
    guard: Arc<Guard>,
    keyframes: watch::Receiver<KeyframeRequests>,
}

impl fmt::Debug for Transceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transceiver")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("keyframe_requests", &*self.keyframes.borrow())
            .finish()
    }
}

impl Transceiver {
    pub(crate) fn new(
        id: TransceiverId,
        kind: MediaKind,
        guard: Arc<Guard>,
        keyframes: watch::Receiver<KeyframeRequests>,
    ) -> Self {
        Transceiver {
            id,
            kind,
            guard,
            keyframes,
        }
    }

    async fn session<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut rtcwire::PeerConnection) -> Result<R, rtcwire::Error> + Send + 'static,
    ) -> Result<R, Error> {
        self.guard
            .call(move |c| f(&mut c.pc))
            .await?
            .map_err(Error::from)
    }

    /// The session's id of this transceiver (the one in [`MediaFrame::transceiver`] and
    /// [`Event::KeyframeRequest`](crate::Event::KeyframeRequest)).
    #[must_use]
    pub fn id(&self) -> TransceiverId {
        self.id
    }

    /// `kind`.
    #[must_use]
    pub fn kind(&self) -> MediaKind {
        self.kind
    }

    /// `mid`, once the transceiver is in a description.
    pub async fn mid(&self) -> Result<Option<String>, Error> {
        let id = self.id;
        self.guard
            .call(move |c| c.pc.transceiver_mid(id).map(str::to_owned))
            .await
    }

    /// `currentDirection` (`None` before an exchange completed, or once stopped).
    pub async fn current_direction(&self) -> Result<Option<Direction>, Error> {
        let id = self.id;
        self.guard.call(move |c| c.pc.current_direction(id)).await
    }

    /// `direction = ...`: takes effect with the next exchange
    /// ([`Event::NegotiationNeeded`](crate::Event::NegotiationNeeded)).
    pub async fn set_direction(&self, direction: Direction) -> Result<(), Error> {
        let id = self.id;
        self.session(move |pc| pc.set_direction(id, direction))
            .await
    }

    /// `stop()`: neither sends nor receives from now on; the next offer gives its section
    /// port 0. The [`Track`] of it ends, and so does
    /// [`next_keyframe_request`](Self::next_keyframe_request).
    pub async fn stop(&self) -> Result<(), Error> {
        let id = self.id;
        self.guard
            .call(move |c| {
                let r = c.pc.stop_transceiver(id);
                if r.is_ok() {
                    c.track_ended(id);
                }
                r
            })
            .await?
            .map_err(Error::from)
    }

    /// The negotiated codecs: payload type and codec, in preference order.
    pub async fn negotiated_codecs(&self) -> Result<Vec<(u8, Codec)>, Error> {
        let id = self.id;
        self.guard.call(move |c| c.pc.negotiated_codecs(id)).await
    }

    /// The payload type negotiated for `codec` (`None`: not negotiated).
    pub async fn payload_type(&self, codec: Codec) -> Result<Option<u8>, Error> {
        let id = self.id;
        self.guard.call(move |c| c.pc.payload_type(id, codec)).await
    }

    /// Sends one encoded frame (a VP8/VP9/AV1 frame, an H.264 access unit in Annex B,
    /// an Opus packet): packetized for the codec of `payload_type`, stamped
    /// `rtp_timestamp` (in the codec's clock rate). Returns once the packets are handed to
    /// the socket (or queued while its kernel buffer is full).
    pub async fn write_frame(
        &self,
        payload_type: u8,
        rtp_timestamp: u32,
        frame: &[u8],
    ) -> Result<(), Error> {
        let id = self.id;
        let frame = frame.to_vec();
        self.session(move |pc| pc.write_frame(id, payload_type, rtp_timestamp, &frame))
            .await
    }

    /// Sends one RTP packet as it is, except that its SSRC becomes ours; its payload type
    /// must be one negotiated here.
    pub async fn write_rtp(&self, packet: &[u8]) -> Result<(), Error> {
        let id = self.id;
        let packet = packet.to_vec();
        self.session(move |pc| pc.write_rtp(id, &packet)).await
    }

    /// Asks the peer for a keyframe on what it sends here (PLI, or FIR when only that was
    /// negotiated).
    pub async fn request_keyframe(&self) -> Result<(), Error> {
        let id = self.id;
        self.session(move |pc| pc.request_keyframe(id)).await
    }

    /// How many keyframe requests (PLI or FIR) the peer sent on this transceiver so far.
    #[must_use]
    pub fn keyframe_requests(&self) -> u64 {
        self.keyframes.borrow().count
    }

    /// Waits for the peer's next keyframe request on what we send here; requests that
    /// came since this handle last looked count (several are one). Errors when the
    /// transceiver stops or the session closes.
    pub async fn next_keyframe_request(&mut self) -> Result<KeyframeKind, Error> {
        loop {
            self.keyframes.changed().await.map_err(|_| Error::Closed)?;
            if let Some(k) = self.keyframes.borrow_and_update().last {
                return Ok(k);
            }
        }
    }
}

/// The frame queue of one track, shared by the driver (pushing) and the [`Track`]
/// (taking). Bounded: when full the oldest frame goes.
#[derive(Debug)]
pub(crate) struct FrameQueue<T = MediaFrame> {
    inner: Mutex<Queue<T>>,
    notify: Notify,
    capacity: usize,
}

#[derive(Debug)]
struct Queue<T> {
    frames: VecDeque<T>,
    dropped: u64,
    /// Frames were dropped and no keyframe came since: a request is already out.
    recovering: bool,
    closed: bool,
}

/// What pushing a frame did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued.
    Queued,
    /// Queued after dropping the oldest; ask the peer for a keyframe (once per loss).
    DroppedAskKeyframe,
    /// Queued after dropping the oldest; a keyframe is already asked for.
    Dropped,
}

impl<T> FrameQueue<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        FrameQueue {
            inner: Mutex::new(Queue {
                frames: VecDeque::new(),
                dropped: 0,
                recovering: false,
                closed: false,
            }),
            notify: Notify::new(),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue<T>> {
        // Nothing panics while holding it; a poisoned queue is still consistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `frame` (`keyframe`: decodable on its own).
    pub(crate) fn push(&self, frame: T, keyframe: bool) -> Pushed {
        let mut q = self.lock();
        if q.closed {
            return Pushed::Queued;
        }
        if keyframe {
            q.recovering = false;
        }
        let mut r = Pushed::Queued;
        while q.frames.len() >= self.capacity {
            q.frames.pop_front();
            q.dropped += 1;
            r = if q.recovering {
                Pushed::Dropped
            } else {
                Pushed::DroppedAskKeyframe
            };
        }
        if r == Pushed::DroppedAskKeyframe && !keyframe {
            q.recovering = true;
        } else if r == Pushed::DroppedAskKeyframe {
            // The frame that overflowed the queue is itself a keyframe: nothing to ask.
            r = Pushed::Dropped;
        }
        q.frames.push_back(frame);
        drop(q);
        self.notify.notify_one();
        r
    }

    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_one();
    }

    fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    fn len(&self) -> usize {
        self.lock().frames.len()
    }

    async fn pop(&self) -> Option<T> {
        loop {
            {
                let mut q = self.lock();
                if let Some(f) = q.frames.pop_front() {
                    return Some(f);
                }
                if q.closed {
                    return None;
                }
            }
            self.notify.notified().await;
        }
    }
}

/// What the peer sends on one transceiver (`ontrack`'s track): announced by
/// [`Event::Track`](crate::Event::Track) when the peer will send. Frames come whole
/// (depacketized, reordered) through [`recv`](Self::recv), from a bounded queue
/// ([`Config::track_capacity`](crate::Config::track_capacity)): an application that
/// falls behind loses the oldest frames (counted in [`dropped_frames`](Self::dropped_frames)),
/// never the network read, and the peer is asked for a keyframe once so a decoder
/// recovers.
pub struct Track {
    transceiver: Transceiver,
    mid: String,
    stream_ids: Vec<String>,
    queue: Arc<FrameQueue>,
}

impl fmt::Debug for Track {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Track")
            .field("transceiver", &self.transceiver.id)
            .field("kind", &self.transceiver.kind)
            .field("mid", &self.mid)
            .field("queued", &self.queue.len())
            .finish_non_exhaustive()
    }
}

impl Track {
    pub(crate) fn new(
        transceiver: Transceiver,
        mid: String,
        stream_ids: Vec<String>,
        queue: Arc<FrameQueue>,
    ) -> Self {
        Track {
            transceiver,
            mid,
            stream_ids,
            queue,
        }
    }

    /// Audio or video.
    #[must_use]
    pub fn kind(&self) -> MediaKind {
        self.transceiver.kind
    }

    /// The transceiver's `mid`.
    #[must_use]
    pub fn mid(&self) -> &str {
        &self.mid
    }

    /// The peer's media stream ids (`a=msid`).
    #[must_use]
    pub fn stream_ids(&self) -> &[String] {
        &self.stream_ids
    }

    /// The transceiver it arrives on: send on it to answer on the same m-line (an echo,
    /// an SFU).
    #[must_use]
    pub fn transceiver(&self) -> &Transceiver {
        &self.transceiver
    }

    /// The next whole frame; `None` once the track ended (transceiver stopped, session
    /// closed) and every frame before was taken.
    pub async fn recv(&mut self) -> Option<MediaFrame> {
        self.queue.pop().await
    }

    /// Asks the peer for a keyframe on this track (PLI, or FIR).
    pub async fn request_keyframe(&self) -> Result<(), Error> {
        self.transceiver.request_keyframe().await
    }

    /// Frames dropped because the application did not take them in time.
    #[must_use]
    pub fn dropped_frames(&self) -> u64 {
        self.queue.dropped()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_drops_the_oldest_and_asks_for_one_keyframe() {
        let q = FrameQueue::<u32>::new(2);
        assert_eq!(q.push(0, true), Pushed::Queued);
        assert_eq!(q.push(1, false), Pushed::Queued);
        assert_eq!(q.push(2, false), Pushed::DroppedAskKeyframe);
        assert_eq!(q.push(3, false), Pushed::Dropped);
        assert_eq!(q.dropped(), 2);
        assert_eq!(q.pop().await, Some(2));
        assert_eq!(q.pop().await, Some(3));
        // A keyframe ends the loss: the next overflow asks again.
        assert_eq!(q.push(4, true), Pushed::Queued);
        assert_eq!(q.push(5, false), Pushed::Queued);
        assert_eq!(q.push(6, false), Pushed::DroppedAskKeyframe);
        q.close();
        assert_eq!(q.pop().await, Some(5));
        assert_eq!(q.pop().await, Some(6));
        assert_eq!(q.pop().await, None);
        assert_eq!(q.dropped(), 3);
    }
}
