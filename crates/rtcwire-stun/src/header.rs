//! The 20-byte STUN header (RFC 8489 §5): message type, length, magic cookie, transaction id.

use std::fmt;

/// Length of the STUN header.
pub const HEADER_LEN: usize = 20;
/// The magic cookie, bytes 4–7 of every RFC 5389/8489 message.
pub const MAGIC_COOKIE: u32 = 0x2112_A442;
/// Largest message body: the header's length field is 16 bits.
pub const MAX_BODY_LEN: usize = u16::MAX as usize & !3;

/// Byte ranges of the header fields.
pub(crate) mod field {
    use std::ops::Range;
    pub(crate) const TYPE: Range<usize> = 0..2;
    pub(crate) const LENGTH: Range<usize> = 2..4;
    pub(crate) const COOKIE: Range<usize> = 4..8;
    pub(crate) const TRANSACTION_ID: Range<usize> = 8..20;
}

/// The class of a message: two bits spread over the message type (RFC 8489 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// A request, answered by a success or error response.
    Request,
    /// An indication: no response.
    Indication,
    /// A success response.
    Success,
    /// An error response (carries ERROR-CODE).
    Error,
}

impl Class {
    const fn bits(self) -> u16 {
        match self {
            Class::Request => 0b00,
            Class::Indication => 0b01,
            Class::Success => 0b10,
            Class::Error => 0b11,
        }
    }

    const fn from_bits(bits: u16) -> Self {
        match bits & 0b11 {
            0b00 => Class::Request,
            0b01 => Class::Indication,
            0b10 => Class::Success,
            _ => Class::Error,
        }
    }
}

/// A 12-bit STUN method. Registered methods are associated constants.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Method(u16);

impl Method {
    /// Binding (RFC 8489).
    pub const BINDING: Method = Method(0x001);
    /// Allocate (RFC 8656).
    pub const ALLOCATE: Method = Method(0x003);
    /// Refresh (RFC 8656).
    pub const REFRESH: Method = Method(0x004);
    /// Send (RFC 8656), an indication.
    pub const SEND: Method = Method(0x006);
    /// Data (RFC 8656), an indication.
    pub const DATA: Method = Method(0x007);
    /// CreatePermission (RFC 8656).
    pub const CREATE_PERMISSION: Method = Method(0x008);
    /// ChannelBind (RFC 8656).
    pub const CHANNEL_BIND: Method = Method(0x009);
    /// Connect (RFC 6062, TURN-TCP).
    pub const CONNECT: Method = Method(0x00A);
    /// ConnectionBind (RFC 6062).
    pub const CONNECTION_BIND: Method = Method(0x00B);
    /// ConnectionAttempt (RFC 6062).
    pub const CONNECTION_ATTEMPT: Method = Method(0x00C);

    /// A method from its 12-bit number; `None` if it does not fit 12 bits.
    #[must_use]
    pub const fn new(value: u16) -> Option<Method> {
        if value <= 0x0FFF {
            Some(Method(value))
        } else {
            None
        }
    }

    /// The 12-bit method number.
    #[must_use]
    pub const fn value(self) -> u16 {
        self.0
    }

    /// The method's registered name, if it has one.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x001 => "Binding",
            0x003 => "Allocate",
            0x004 => "Refresh",
            0x006 => "Send",
            0x007 => "Data",
            0x008 => "CreatePermission",
            0x009 => "ChannelBind",
            0x00A => "Connect",
            0x00B => "ConnectionBind",
            0x00C => "ConnectionAttempt",
            _ => return None,
        })
    }
}

impl fmt::Debug for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "Method({:#05x})", self.0),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Method and class: the first 14 bits of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageType {
    /// The method.
    pub method: Method,
    /// The class.
    pub class: Class,
}

impl MessageType {
    /// Binding request (ICE connectivity checks, server reflexive discovery).
    pub const BINDING_REQUEST: MessageType = MessageType::new(Method::BINDING, Class::Request);
    /// Binding success response.
    pub const BINDING_SUCCESS: MessageType = MessageType::new(Method::BINDING, Class::Success);
    /// Binding error response.
    pub const BINDING_ERROR: MessageType = MessageType::new(Method::BINDING, Class::Error);
    /// Binding indication (ICE keepalive).
    pub const BINDING_INDICATION: MessageType =
        MessageType::new(Method::BINDING, Class::Indication);

    /// A message type from method and class.
    #[must_use]
    pub const fn new(method: Method, class: Class) -> Self {
        MessageType { method, class }
    }

    /// The 14-bit wire value: class bits C1 C0 interleaved with the method bits (RFC 8489 §5).
    #[must_use]
    pub const fn to_u16(self) -> u16 {
        let m = self.method.0;
        let c = self.class.bits();
        (m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7)
    }

    /// Decodes the wire value; the two most significant bits are ignored (the parser checks
    /// them).
    #[must_use]
    pub const fn from_u16(v: u16) -> Self {
        let method = (v & 0x000F) | ((v >> 1) & 0x0070) | ((v >> 2) & 0x0F80);
        let class = ((v >> 4) & 1) | ((v >> 7) & 2);
        MessageType {
            method: Method(method),
            class: Class::from_bits(class),
        }
    }

    /// This type with another class, e.g. the success response to a request.
    #[must_use]
    pub const fn with_class(self, class: Class) -> Self {
        MessageType {
            method: self.method,
            class,
        }
    }
}

/// The 96-bit transaction id. Requests pick it at random ([`TransactionId::random`]);
/// responses copy it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TransactionId(pub [u8; 12]);

impl TransactionId {
    /// A fresh id from the injected random source (RFC 8489 §6: uniformly random). A failing
    /// source is an error: a predictable id would let an off-path attacker answer the request.
    pub fn random<R: rtcwire_proto::Rng + ?Sized>(
        rng: &mut R,
    ) -> Result<Self, rtcwire_proto::RngError> {
        let mut id = [0u8; 12];
        rng.fill(&mut id)?;
        Ok(TransactionId(id))
    }

    /// The id's bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 12] {
        &self.0
    }
}

impl fmt::Debug for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TransactionId(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_type_bits_match_rfc_examples() {
        assert_eq!(MessageType::BINDING_REQUEST.to_u16(), 0x0001);
        assert_eq!(MessageType::BINDING_SUCCESS.to_u16(), 0x0101);
        assert_eq!(MessageType::BINDING_ERROR.to_u16(), 0x0111);
        assert_eq!(MessageType::BINDING_INDICATION.to_u16(), 0x0011);
        let alloc = MessageType::new(Method::ALLOCATE, Class::Request);
        assert_eq!(alloc.to_u16(), 0x0003);
        assert_eq!(alloc.with_class(Class::Error).to_u16(), 0x0113);
        let data = MessageType::new(Method::DATA, Class::Indication);
        assert_eq!(data.to_u16(), 0x0017);
    }

    #[test]
    fn message_type_round_trips_every_14_bit_value() {
        for v in 0..0x4000u16 {
            assert_eq!(MessageType::from_u16(v).to_u16(), v);
        }
    }
}
