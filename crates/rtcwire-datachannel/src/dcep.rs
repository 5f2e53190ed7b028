//! DCEP wire format (RFC 8832 §5): DATA_CHANNEL_OPEN and DATA_CHANNEL_ACK.

use crate::Error;

/// Message type of DATA_CHANNEL_ACK.
pub const ACK: u8 = 0x02;
/// Message type of DATA_CHANNEL_OPEN.
pub const OPEN: u8 = 0x03;
/// Length of the fixed part of an OPEN.
pub const OPEN_FIXED_LEN: usize = 12;

/// How a channel delivers (RFC 8832 §5.1 channel types, with the unordered bit apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reliability {
    /// Every message, retransmitted until acknowledged.
    Reliable,
    /// At most this many retransmissions.
    MaxRetransmits(u32),
    /// Given up after this many milliseconds.
    MaxLifetimeMs(u32),
}

/// A DATA_CHANNEL_OPEN message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Open<'a> {
    /// Ordered delivery (channel type without the 0x80 bit).
    pub ordered: bool,
    /// Reliability and its parameter.
    pub reliability: Reliability,
    /// Priority.
    pub priority: u16,
    /// Label (UTF-8).
    pub label: &'a str,
    /// Sub-protocol (UTF-8).
    pub protocol: &'a str,
}

fn truncated(needed: usize, available: usize) -> Error {
    Error::Truncated { needed, available }
}

/// Parses a DCEP message (first byte: type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// DATA_CHANNEL_OPEN.
    Open(Open<'a>),
    /// DATA_CHANNEL_ACK (anything after the type byte is ignored, as pion pads it).
    Ack,
}

impl<'a> Message<'a> {
    /// Parses a DCEP message.
    pub fn parse(b: &'a [u8]) -> Result<Self, Error> {
        match b.first() {
            None => Err(truncated(1, 0)),
            Some(&ACK) => Ok(Message::Ack),
            Some(&OPEN) => Open::parse(b).map(Message::Open),
            Some(&t) => Err(Error::UnknownMessageType(t)),
        }
    }
}

impl<'a> Open<'a> {
    /// Parses a DATA_CHANNEL_OPEN (type byte included).
    pub fn parse(b: &'a [u8]) -> Result<Self, Error> {
        if b.len() < OPEN_FIXED_LEN {
            return Err(truncated(OPEN_FIXED_LEN, b.len()));
        }
        if b[0] != OPEN {
            return Err(Error::UnknownMessageType(b[0]));
        }
        let channel_type = b[1];
        let priority = u16::from_be_bytes([b[2], b[3]]);
        let param = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
        let label_len = usize::from(u16::from_be_bytes([b[8], b[9]]));
        let proto_len = usize::from(u16::from_be_bytes([b[10], b[11]]));
        let end = OPEN_FIXED_LEN + label_len + proto_len;
        if b.len() < end {
            return Err(truncated(end, b.len()));
        }
        let label = std::str::from_utf8(&b[OPEN_FIXED_LEN..OPEN_FIXED_LEN + label_len])
            .map_err(|_| Error::NotUtf8)?;
        let protocol =
            std::str::from_utf8(&b[OPEN_FIXED_LEN + label_len..end]).map_err(|_| Error::NotUtf8)?;
        let reliability = match channel_type & 0x7f {
            0x00 => Reliability::Reliable,
            0x01 => Reliability::MaxRetransmits(param),
            0x02 => Reliability::MaxLifetimeMs(param),
            _ => return Err(Error::UnknownChannelType(channel_type)),
        };
        Ok(Open {
            ordered: channel_type & 0x80 == 0,
            reliability,
            priority,
            label,
            protocol,
        })
    }

    /// The channel type byte.
    #[must_use]
    pub fn channel_type(&self) -> u8 {
        let base = match self.reliability {
            Reliability::Reliable => 0x00,
            Reliability::MaxRetransmits(_) => 0x01,
            Reliability::MaxLifetimeMs(_) => 0x02,
        };
        if self.ordered {
            base
        } else {
            base | 0x80
        }
    }

    /// Bytes [`emit`](Self::emit) appends.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        OPEN_FIXED_LEN + self.label.len() + self.protocol.len()
    }

    /// Appends the message. Labels or protocols longer than 65535 bytes are the caller's
    /// bug (checked by [`DataChannels::open`](crate::DataChannels::open)); they are cut.
    pub fn emit(&self, buf: &mut Vec<u8>) {
        let label = cut(self.label);
        let protocol = cut(self.protocol);
        let param = match self.reliability {
            Reliability::Reliable => 0,
            Reliability::MaxRetransmits(n) | Reliability::MaxLifetimeMs(n) => n,
        };
        buf.push(OPEN);
        buf.push(self.channel_type());
        buf.extend_from_slice(&self.priority.to_be_bytes());
        buf.extend_from_slice(&param.to_be_bytes());
        buf.extend_from_slice(&u16::try_from(label.len()).unwrap_or(0).to_be_bytes());
        buf.extend_from_slice(&u16::try_from(protocol.len()).unwrap_or(0).to_be_bytes());
        buf.extend_from_slice(label.as_bytes());
        buf.extend_from_slice(protocol.as_bytes());
    }
}

fn cut(s: &str) -> &str {
    if s.len() <= usize::from(u16::MAX) {
        return s;
    }
    let mut end = usize::from(u16::MAX);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}
