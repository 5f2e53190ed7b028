//! Splitting a TCP byte stream into messages.
//!
//! Two framings exist:
//!
//! - [`Framing::Turn`]: TURN over TCP/TLS (RFC 8656 §12.5) and STUN over TCP (RFC 8489
//!   §6.2.2). Messages are self-delimiting: a STUN message is 20 + Length bytes, a
//!   ChannelData message 4 + Length bytes padded to a multiple of 4.
//! - [`Framing::Rfc4571`]: ICE-TCP candidates (RFC 6544 §3): every packet (STUN, DTLS, RTP,
//!   RTCP) is preceded by a 16-bit length.

use bytes::{Bytes, BytesMut};
use rtcwire_proto::{classify, PacketKind};

use crate::builder::{grow_exact, split_checked, Output};
use crate::channel_data::CHANNEL_DATA_HEADER_LEN;
use crate::header::HEADER_LEN;
use crate::Error;

/// How a TCP stream is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framing {
    /// STUN and ChannelData back to back (TURN over TCP, RFC 8656).
    Turn,
    /// A 16-bit length before each packet (ICE-TCP, RFC 6544 / RFC 4571).
    Rfc4571,
}

/// Where the next frame lies in a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameSpan {
    /// What the frame carries (by its first byte, as [`classify`] says).
    pub kind: PacketKind,
    /// Offset of the frame's payload.
    pub start: usize,
    /// End of the payload (exclusive); padding and length prefixes are outside.
    pub end: usize,
    /// Bytes the frame occupies in the stream, padding and prefix included.
    pub consumed: usize,
}

/// Finds the first frame in `buf`: `Ok(None)` if more bytes are needed, an error if the
/// stream is out of step (and must be closed).
pub fn next_frame(framing: Framing, buf: &[u8]) -> Result<Option<FrameSpan>, Error> {
    match framing {
        Framing::Rfc4571 => {
            let Some(&[a, b]) = buf.get(..2) else {
                return Ok(None);
            };
            let len = usize::from(u16::from_be_bytes([a, b]));
            let Some(payload) = buf.get(2..2 + len) else {
                return Ok(None);
            };
            Ok(Some(FrameSpan {
                kind: classify(payload),
                start: 2,
                end: 2 + len,
                consumed: 2 + len,
            }))
        }
        Framing::Turn => {
            let Some(&first) = buf.first() else {
                return Ok(None);
            };
            let Some(&[_, _, a, b]) = buf.get(..4) else {
                // Check the first byte early so a bad stream fails without waiting.
                return match classify(&[first]) {
                    PacketKind::Stun | PacketKind::ChannelData => Ok(None),
                    _ => Err(Error::UnframeableStream(first)),
                };
            };
            let len = u16::from_be_bytes([a, b]);
            let (kind, end, consumed) = match classify(&[first]) {
                PacketKind::Stun => {
                    if len % 4 != 0 {
                        return Err(Error::LengthNotMultipleOf4(len));
                    }
                    let end = HEADER_LEN + usize::from(len);
                    (PacketKind::Stun, end, end)
                }
                PacketKind::ChannelData => {
                    let end = CHANNEL_DATA_HEADER_LEN + usize::from(len);
                    (PacketKind::ChannelData, end, end.next_multiple_of(4))
                }
                _ => return Err(Error::UnframeableStream(first)),
            };
            if buf.len() < consumed {
                return Ok(None);
            }
            Ok(Some(FrameSpan {
                kind,
                start: 0,
                end,
                consumed,
            }))
        }
    }
}

/// Appends `packet` to `out` with its RFC 4571 length prefix (ICE-TCP, RFC 6544 §3);
/// returns the bytes written. TURN-over-TCP needs no prefix: STUN and ChannelData (with
/// [`Transport::Tcp`](crate::Transport::Tcp) padding) delimit themselves.
pub fn write_rfc4571<O: Output + ?Sized>(packet: &[u8], out: &mut O) -> Result<usize, Error> {
    let len = u16::try_from(packet.len()).map_err(|_| Error::TooLong(packet.len()))?;
    let dst = grow_exact(out, 2 + packet.len())?;
    let (prefix, rest) = split_checked(dst, 2)?;
    prefix.copy_from_slice(&len.to_be_bytes());
    rest.copy_from_slice(packet);
    Ok(2 + packet.len())
}

/// One message taken off a TCP stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// What it carries.
    pub kind: PacketKind,
    /// The message (STUN message, ChannelData with header, or RFC 4571 payload).
    pub bytes: Bytes,
}

/// Largest frame: a STUN message of 20 + 65532 bytes, a ChannelData of 4 + 65535 + 1, or a
/// 2 + 65535-byte RFC 4571 packet.
const MAX_FRAME: usize = HEADER_LEN + u16::MAX as usize + 1;

/// A buffering framer: feed it what the socket read, take whole messages out.
///
/// Frames are split off the internal buffer without copying. The buffer never holds more
/// than one incomplete frame plus the last chunk pushed; a push that would exceed
/// [`TcpFramer::capacity`] is refused.
///
/// ```
/// use rtcwire_stun::{Framing, TcpFramer};
/// let mut framer = TcpFramer::new(Framing::Turn);
/// framer.push(&[0x40, 0x00, 0x00, 0x01, 0xaa, 0, 0])?; // ChannelData, one byte short
/// assert!(framer.pop()?.is_none());
/// framer.push(&[0])?;
/// let frame = framer.pop()?.expect("complete");
/// assert_eq!(&frame.bytes[..], &[0x40, 0x00, 0x00, 0x01, 0xaa]);
/// # Ok::<(), rtcwire_stun::Error>(())
/// ```
#[derive(Debug)]
pub struct TcpFramer {
    framing: Framing,
    buf: BytesMut,
}

impl TcpFramer {
    /// A framer for a new stream.
    #[must_use]
    pub fn new(framing: Framing) -> Self {
        TcpFramer {
            framing,
            buf: BytesMut::new(),
        }
    }

    /// Most bytes the framer buffers.
    #[must_use]
    pub const fn capacity() -> usize {
        2 * MAX_FRAME
    }

    /// Bytes buffered, waiting for the rest of a frame.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, data: &[u8]) -> Result<(), Error> {
        let needed = self.buf.len() + data.len();
        if needed > Self::capacity() {
            return Err(Error::BufferTooSmall {
                needed,
                available: Self::capacity(),
            });
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// Takes the next complete frame, if there is one. Call until it returns `Ok(None)`.
    /// An error means the stream is out of step and must be closed.
    pub fn pop(&mut self) -> Result<Option<Frame>, Error> {
        let Some(span) = next_frame(self.framing, &self.buf)? else {
            return Ok(None);
        };
        let frame = self.buf.split_to(span.consumed).freeze();
        Ok(Some(Frame {
            kind: span.kind,
            bytes: frame.slice(span.start..span.end),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4571_frames_carry_any_packet() {
        let mut f = TcpFramer::new(Framing::Rfc4571);
        f.push(&[0, 3, 0x16, 0xfe, 0xfd, 0, 2, 0x80]).unwrap();
        let a = f.pop().unwrap().unwrap();
        assert_eq!(a.kind, PacketKind::Dtls);
        assert_eq!(&a.bytes[..], &[0x16, 0xfe, 0xfd]);
        assert!(f.pop().unwrap().is_none());
        f.push(&[0x60]).unwrap();
        let b = f.pop().unwrap().unwrap();
        assert_eq!(b.kind, PacketKind::Rtp);
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn rfc4571_writer_and_framer_agree() {
        let mut stream = Vec::new();
        assert_eq!(write_rfc4571(b"\x00\x01abc", &mut stream).unwrap(), 7);
        write_rfc4571(b"", &mut stream).unwrap();
        assert_eq!(
            write_rfc4571(&vec![0; 70_000], &mut stream),
            Err(Error::TooLong(70_000))
        );
        let mut f = TcpFramer::new(Framing::Rfc4571);
        f.push(&stream).unwrap();
        assert_eq!(&f.pop().unwrap().unwrap().bytes[..], b"\x00\x01abc");
        assert_eq!(f.pop().unwrap().unwrap().kind, PacketKind::Unknown);
        assert!(f.pop().unwrap().is_none());
    }

    #[test]
    fn turn_framing_rejects_other_first_bytes() {
        assert_eq!(
            next_frame(Framing::Turn, &[0x16]),
            Err(Error::UnframeableStream(0x16))
        );
        assert_eq!(
            next_frame(Framing::Turn, &[0x00, 0x01, 0x00, 0x05]),
            Err(Error::LengthNotMultipleOf4(5))
        );
        assert_eq!(next_frame(Framing::Turn, &[0x00, 0x01]), Ok(None));
    }

    #[test]
    fn push_is_capped() {
        let mut f = TcpFramer::new(Framing::Rfc4571);
        let big = vec![0u8; TcpFramer::capacity() + 1];
        assert!(matches!(f.push(&big), Err(Error::BufferTooSmall { .. })));
    }
}
