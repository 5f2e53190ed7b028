//! Handshake messages (RFC 5246 §7.4 with the DTLS header of RFC 6347 §4.2.2): one file per
//! message, the fragment header, reassembly of incoming fragments and fragmentation of
//! outgoing flights.

mod certificate;
mod certificate_request;
mod certificate_verify;
mod client_hello;
pub mod extensions;
mod finished;
mod hello_verify;
mod key_exchange;
pub(crate) mod reassembly;
mod server_hello;

pub use certificate::Certificate;
pub use certificate_request::{CertificateRequest, ECDSA_SIGN, RSA_SIGN};
pub use certificate_verify::CertificateVerify;
pub use client_hello::ClientHello;
pub use extensions::{Extensions, UseSrtp, CONNECTION_ID, MAX_CID_LEN};
pub use finished::Finished;
pub use hello_verify::{HelloVerifyRequest, MAX_COOKIE_LEN};
pub use key_exchange::{ClientKeyExchange, ServerKeyExchange};
pub use server_hello::ServerHello;

use crate::codec::{Put, Reader};
use crate::Error;

/// Length of the DTLS handshake header.
pub const HANDSHAKE_HEADER_LEN: usize = 12;

/// Largest handshake message we reassemble (a certificate chain fits comfortably).
pub const MAX_MESSAGE_LEN: u32 = 1 << 16;

/// Handshake message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandshakeType {
    /// `hello_request(0)`: a renegotiation request, refused.
    HelloRequest,
    /// `client_hello(1)`.
    ClientHello,
    /// `server_hello(2)`.
    ServerHello,
    /// `hello_verify_request(3)`.
    HelloVerifyRequest,
    /// `certificate(11)`.
    Certificate,
    /// `server_key_exchange(12)`.
    ServerKeyExchange,
    /// `certificate_request(13)`.
    CertificateRequest,
    /// `server_hello_done(14)`.
    ServerHelloDone,
    /// `certificate_verify(15)`.
    CertificateVerify,
    /// `client_key_exchange(16)`.
    ClientKeyExchange,
    /// `finished(20)`.
    Finished,
}

impl HandshakeType {
    /// The wire code.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            HandshakeType::HelloRequest => 0,
            HandshakeType::ClientHello => 1,
            HandshakeType::ServerHello => 2,
            HandshakeType::HelloVerifyRequest => 3,
            HandshakeType::Certificate => 11,
            HandshakeType::ServerKeyExchange => 12,
            HandshakeType::CertificateRequest => 13,
            HandshakeType::ServerHelloDone => 14,
            HandshakeType::CertificateVerify => 15,
            HandshakeType::ClientKeyExchange => 16,
            HandshakeType::Finished => 20,
        }
    }

    /// The type for a wire code.
    #[must_use]
    pub const fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            0 => HandshakeType::HelloRequest,
            1 => HandshakeType::ClientHello,
            2 => HandshakeType::ServerHello,
            3 => HandshakeType::HelloVerifyRequest,
            11 => HandshakeType::Certificate,
            12 => HandshakeType::ServerKeyExchange,
            13 => HandshakeType::CertificateRequest,
            14 => HandshakeType::ServerHelloDone,
            15 => HandshakeType::CertificateVerify,
            16 => HandshakeType::ClientKeyExchange,
            20 => HandshakeType::Finished,
            _ => return None,
        })
    }

    /// A name for error messages.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            HandshakeType::HelloRequest => "HelloRequest",
            HandshakeType::ClientHello => "ClientHello",
            HandshakeType::ServerHello => "ServerHello",
            HandshakeType::HelloVerifyRequest => "HelloVerifyRequest",
            HandshakeType::Certificate => "Certificate",
            HandshakeType::ServerKeyExchange => "ServerKeyExchange",
            HandshakeType::CertificateRequest => "CertificateRequest",
            HandshakeType::ServerHelloDone => "ServerHelloDone",
            HandshakeType::CertificateVerify => "CertificateVerify",
            HandshakeType::ClientKeyExchange => "ClientKeyExchange",
            HandshakeType::Finished => "Finished",
        }
    }
}

/// The 12-byte DTLS handshake header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandshakeHeader {
    /// Raw message type code.
    pub msg_type: u8,
    /// Length of the whole message body.
    pub length: u32,
    /// Per-direction message counter.
    pub message_seq: u16,
    /// Where this fragment starts in the body.
    pub fragment_offset: u32,
    /// Length of this fragment.
    pub fragment_length: u32,
}

impl HandshakeHeader {
    /// Reads a header and its fragment from `r`.
    pub(crate) fn parse<'a>(r: &mut Reader<'a>) -> Option<(HandshakeHeader, &'a [u8])> {
        let h = HandshakeHeader {
            msg_type: r.u8()?,
            length: r.u24()?,
            message_seq: r.u16()?,
            fragment_offset: r.u24()?,
            fragment_length: r.u24()?,
        };
        let frag = r.take(usize::try_from(h.fragment_length).ok()?)?;
        let end = h.fragment_offset.checked_add(h.fragment_length)?;
        (end <= h.length).then_some((h, frag))
    }

    /// Writes the header.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u8(self.msg_type);
        out.put_u24(self.length);
        out.put_u16(self.message_seq);
        out.put_u24(self.fragment_offset);
        out.put_u24(self.fragment_length);
    }
}

/// A decoded handshake message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Message {
    /// HelloRequest.
    HelloRequest,
    /// ClientHello.
    ClientHello(ClientHello),
    /// ServerHello.
    ServerHello(ServerHello),
    /// HelloVerifyRequest.
    HelloVerifyRequest(HelloVerifyRequest),
    /// Certificate.
    Certificate(Certificate),
    /// ServerKeyExchange.
    ServerKeyExchange(ServerKeyExchange),
    /// CertificateRequest.
    CertificateRequest(CertificateRequest),
    /// ServerHelloDone.
    ServerHelloDone,
    /// CertificateVerify.
    CertificateVerify(CertificateVerify),
    /// ClientKeyExchange.
    ClientKeyExchange(ClientKeyExchange),
    /// Finished.
    Finished(Finished),
}

impl Message {
    /// The message type.
    #[must_use]
    pub fn kind(&self) -> HandshakeType {
        match self {
            Message::HelloRequest => HandshakeType::HelloRequest,
            Message::ClientHello(_) => HandshakeType::ClientHello,
            Message::ServerHello(_) => HandshakeType::ServerHello,
            Message::HelloVerifyRequest(_) => HandshakeType::HelloVerifyRequest,
            Message::Certificate(_) => HandshakeType::Certificate,
            Message::ServerKeyExchange(_) => HandshakeType::ServerKeyExchange,
            Message::CertificateRequest(_) => HandshakeType::CertificateRequest,
            Message::ServerHelloDone => HandshakeType::ServerHelloDone,
            Message::CertificateVerify(_) => HandshakeType::CertificateVerify,
            Message::ClientKeyExchange(_) => HandshakeType::ClientKeyExchange,
            Message::Finished(_) => HandshakeType::Finished,
        }
    }

    /// Decodes a complete message body of type `msg_type`.
    pub fn parse(msg_type: u8, body: &[u8]) -> Result<Message, Error> {
        let empty = |m: Message| {
            if body.is_empty() {
                Ok(m)
            } else {
                Err(Error::Malformed("non-empty body"))
            }
        };
        match HandshakeType::from_code(msg_type).ok_or(Error::Malformed("handshake type"))? {
            HandshakeType::HelloRequest => empty(Message::HelloRequest),
            HandshakeType::ClientHello => ClientHello::parse(body).map(Message::ClientHello),
            HandshakeType::ServerHello => ServerHello::parse(body).map(Message::ServerHello),
            HandshakeType::HelloVerifyRequest => {
                HelloVerifyRequest::parse(body).map(Message::HelloVerifyRequest)
            }
            HandshakeType::Certificate => Certificate::parse(body).map(Message::Certificate),
            HandshakeType::ServerKeyExchange => {
                ServerKeyExchange::parse(body).map(Message::ServerKeyExchange)
            }
            HandshakeType::CertificateRequest => {
                CertificateRequest::parse(body).map(Message::CertificateRequest)
            }
            HandshakeType::ServerHelloDone => empty(Message::ServerHelloDone),
            HandshakeType::CertificateVerify => {
                CertificateVerify::parse(body).map(Message::CertificateVerify)
            }
            HandshakeType::ClientKeyExchange => {
                ClientKeyExchange::parse(body).map(Message::ClientKeyExchange)
            }
            HandshakeType::Finished => Finished::parse(body).map(Message::Finished),
        }
    }

    /// Appends the message body.
    pub fn emit_body(&self, out: &mut Vec<u8>) {
        match self {
            Message::HelloRequest | Message::ServerHelloDone => {}
            Message::ClientHello(m) => m.emit(out),
            Message::ServerHello(m) => m.emit(out),
            Message::HelloVerifyRequest(m) => m.emit(out),
            Message::Certificate(m) => m.emit(out),
            Message::ServerKeyExchange(m) => m.emit(out),
            Message::CertificateRequest(m) => m.emit(out),
            Message::CertificateVerify(m) => m.emit(out),
            Message::ClientKeyExchange(m) => m.emit(out),
            Message::Finished(m) => m.emit(out),
        }
    }

    /// The whole message with an unfragmented header, as it enters the transcript.
    #[must_use]
    pub fn to_bytes(&self, message_seq: u16) -> Vec<u8> {
        let mut body = Vec::new();
        self.emit_body(&mut body);
        let mut out = Vec::with_capacity(HANDSHAKE_HEADER_LEN + body.len());
        let length = u32::try_from(body.len()).unwrap_or(u32::MAX) & 0x00ff_ffff;
        HandshakeHeader {
            msg_type: self.kind().code(),
            length,
            message_seq,
            fragment_offset: 0,
            fragment_length: length,
        }
        .emit(&mut out);
        out.extend_from_slice(&body);
        out
    }
}

#[cfg(test)]
mod tests;
