//! Typed attribute values: decoding from and encoding to the wire.

use std::net::SocketAddr;

use super::address::{address_len, decode_address, encode_address, AddressFamily, XorMode};
use super::lists::{AttrTypeList, PasswordAlgorithm, PasswordAlgorithmList};
use super::AttrType;
use crate::header::TransactionId;
use crate::Error;

/// Longest USERNAME value (RFC 8489 §14.3: less than 513 bytes).
pub(crate) const MAX_USERNAME: usize = 512;
/// Longest REALM, NONCE, SOFTWARE, ALTERNATE-DOMAIN or reason phrase (128 characters,
/// at most 763 bytes of UTF-8, RFC 8489 §14).
pub(crate) const MAX_TEXT: usize = 763;

/// ERROR-CODE: a code 300–699 and a reason phrase (RFC 8489 §14.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode<'a> {
    /// The code, e.g. 401 or 438.
    pub code: u16,
    /// The human-readable reason.
    pub reason: &'a str,
}

impl<'a> ErrorCode<'a> {
    /// 300 Try Alternate.
    pub const TRY_ALTERNATE: u16 = 300;
    /// 400 Bad Request.
    pub const BAD_REQUEST: u16 = 400;
    /// 401 Unauthenticated.
    pub const UNAUTHENTICATED: u16 = 401;
    /// 403 Forbidden.
    pub const FORBIDDEN: u16 = 403;
    /// 420 Unknown Attribute.
    pub const UNKNOWN_ATTRIBUTE: u16 = 420;
    /// 437 Allocation Mismatch.
    pub const ALLOCATION_MISMATCH: u16 = 437;
    /// 438 Stale Nonce.
    pub const STALE_NONCE: u16 = 438;
    /// 440 Address Family not Supported.
    pub const ADDRESS_FAMILY_NOT_SUPPORTED: u16 = 440;
    /// 441 Wrong Credentials.
    pub const WRONG_CREDENTIALS: u16 = 441;
    /// 442 Unsupported Transport Protocol.
    pub const UNSUPPORTED_TRANSPORT: u16 = 442;
    /// 443 Peer Address Family Mismatch.
    pub const PEER_ADDRESS_FAMILY_MISMATCH: u16 = 443;
    /// 486 Allocation Quota Reached.
    pub const ALLOCATION_QUOTA_REACHED: u16 = 486;
    /// 487 Role Conflict (ICE).
    pub const ROLE_CONFLICT: u16 = 487;
    /// 500 Server Error.
    pub const SERVER_ERROR: u16 = 500;
    /// 508 Insufficient Capacity.
    pub const INSUFFICIENT_CAPACITY: u16 = 508;

    /// Decodes class and number from the two bytes after the reserved ones.
    fn decode_code(class: u8, number: u8) -> Result<u16, Error> {
        let code = u16::from(class & 0x07) * 100 + u16::from(number);
        if !(3..=6).contains(&(class & 0x07)) || number > 99 {
            return Err(Error::BadErrorCode(code));
        }
        Ok(code)
    }

    pub(crate) fn parse(attr: AttrType, v: &'a [u8]) -> Result<Self, Error> {
        let (head, reason) = v
            .split_at_checked(4)
            .ok_or(Error::BadAttributeLength { attr, len: v.len() })?;
        let code = Self::decode_code(head[2], head[3])?;
        Ok(ErrorCode {
            code,
            reason: text(attr, reason, MAX_TEXT)?,
        })
    }

    /// The class/number bytes for the code.
    fn code_bytes(&self) -> [u8; 2] {
        [(self.code / 100) as u8 & 0x07, (self.code % 100) as u8]
    }
}

/// ICMP (RFC 8656 §18.13): an ICMP error a TURN server relays to its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmp {
    /// ICMP type (7 bits).
    pub icmp_type: u8,
    /// ICMP code (9 bits).
    pub code: u16,
    /// Type-specific error data (e.g. the MTU for "packet too big").
    pub error_data: u32,
}

/// A typed attribute, borrowing from the message it was read from or from the caller.
///
/// Decoding checks lengths, address families, ranges and UTF-8; it never panics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attribute<'a> {
    /// MAPPED-ADDRESS.
    MappedAddress(SocketAddr),
    /// XOR-MAPPED-ADDRESS (decoded: the plain address).
    XorMappedAddress(SocketAddr),
    /// USERNAME.
    Username(&'a str),
    /// MESSAGE-INTEGRITY: the HMAC-SHA1 as received. Verify with
    /// [`Message::verify_integrity`](crate::Message::verify_integrity).
    MessageIntegrity(&'a [u8; 20]),
    /// MESSAGE-INTEGRITY-SHA256: a 16–32 byte HMAC-SHA256 (possibly truncated).
    MessageIntegritySha256(&'a [u8]),
    /// FINGERPRINT value.
    Fingerprint(u32),
    /// ERROR-CODE.
    ErrorCode(ErrorCode<'a>),
    /// UNKNOWN-ATTRIBUTES.
    UnknownAttributes(AttrTypeList<'a>),
    /// REALM.
    Realm(&'a str),
    /// NONCE.
    Nonce(&'a str),
    /// SOFTWARE.
    Software(&'a str),
    /// ALTERNATE-SERVER.
    AlternateServer(SocketAddr),
    /// ALTERNATE-DOMAIN.
    AlternateDomain(&'a str),
    /// USERHASH: SHA-256 of `username:realm`.
    UserHash(&'a [u8; 32]),
    /// PASSWORD-ALGORITHM.
    PasswordAlgorithm(PasswordAlgorithm<'a>),
    /// PASSWORD-ALGORITHMS.
    PasswordAlgorithms(PasswordAlgorithmList<'a>),
    /// PRIORITY (ICE).
    Priority(u32),
    /// USE-CANDIDATE (ICE), no value.
    UseCandidate,
    /// ICE-CONTROLLED with its tie-breaker.
    IceControlled(u64),
    /// ICE-CONTROLLING with its tie-breaker.
    IceControlling(u64),
    /// CHANNEL-NUMBER (0x4000–0x4FFF).
    ChannelNumber(u16),
    /// LIFETIME in seconds.
    Lifetime(u32),
    /// XOR-PEER-ADDRESS (decoded).
    XorPeerAddress(SocketAddr),
    /// DATA.
    Data(&'a [u8]),
    /// XOR-RELAYED-ADDRESS (decoded).
    XorRelayedAddress(SocketAddr),
    /// REQUESTED-ADDRESS-FAMILY.
    RequestedAddressFamily(AddressFamily),
    /// EVEN-PORT; `true` asks the server to reserve the next port too.
    EvenPort(bool),
    /// REQUESTED-TRANSPORT: an IP protocol number (17 = UDP).
    RequestedTransport(u8),
    /// DONT-FRAGMENT, no value.
    DontFragment,
    /// RESERVATION-TOKEN.
    ReservationToken(u64),
    /// ADDITIONAL-ADDRESS-FAMILY.
    AdditionalAddressFamily(AddressFamily),
    /// ADDRESS-ERROR-CODE: why the allocation for one family failed.
    AddressErrorCode(AddressFamily, ErrorCode<'a>),
    /// ICMP.
    Icmp(Icmp),
    /// CHANGE-REQUEST (RFC 5780).
    ChangeRequest {
        /// Answer from the other IP address.
        change_ip: bool,
        /// Answer from the other port.
        change_port: bool,
    },
    /// PADDING (RFC 5780).
    Padding(&'a [u8]),
    /// RESPONSE-PORT (RFC 5780).
    ResponsePort(u16),
    /// RESPONSE-ORIGIN (RFC 5780).
    ResponseOrigin(SocketAddr),
    /// OTHER-ADDRESS (RFC 5780).
    OtherAddress(SocketAddr),
    /// CONNECTION-ID (RFC 6062).
    ConnectionId(u32),
    /// Any other type, kept as raw bytes.
    Unknown {
        /// The type.
        attr: AttrType,
        /// The value, without padding.
        value: &'a [u8],
    },
}

pub(crate) fn text(attr: AttrType, v: &[u8], max: usize) -> Result<&str, Error> {
    if v.len() > max {
        return Err(Error::BadAttributeLength { attr, len: v.len() });
    }
    std::str::from_utf8(v).map_err(|_| Error::InvalidUtf8(attr))
}

fn fixed<const N: usize>(attr: AttrType, v: &[u8]) -> Result<&[u8; N], Error> {
    v.try_into()
        .map_err(|_| Error::BadAttributeLength { attr, len: v.len() })
}

pub(crate) fn be_u32(attr: AttrType, v: &[u8]) -> Result<u32, Error> {
    fixed::<4>(attr, v).map(|b| u32::from_be_bytes(*b))
}

pub(crate) fn be_u64(attr: AttrType, v: &[u8]) -> Result<u64, Error> {
    fixed::<8>(attr, v).map(|b| u64::from_be_bytes(*b))
}

fn empty(attr: AttrType, v: &[u8]) -> Result<(), Error> {
    if v.is_empty() {
        Ok(())
    } else {
        Err(Error::BadAttributeLength { attr, len: v.len() })
    }
}

fn family4(attr: AttrType, v: &[u8]) -> Result<AddressFamily, Error> {
    let b = fixed::<4>(attr, v)?;
    AddressFamily::from_u8(attr, b[0])
}

impl<'a> Attribute<'a> {
    /// Decodes the value `v` (without padding) of an attribute of type `attr`. The
    /// transaction id un-XORs the XOR address types.
    pub fn parse(attr: AttrType, v: &'a [u8], tid: &TransactionId) -> Result<Self, Error> {
        let xor = XorMode::Xor(tid);
        Ok(match attr {
            AttrType::MAPPED_ADDRESS => {
                Attribute::MappedAddress(decode_address(attr, v, XorMode::Plain)?)
            }
            AttrType::XOR_MAPPED_ADDRESS => {
                Attribute::XorMappedAddress(decode_address(attr, v, xor)?)
            }
            AttrType::USERNAME => Attribute::Username(text(attr, v, MAX_USERNAME)?),
            AttrType::MESSAGE_INTEGRITY => Attribute::MessageIntegrity(fixed(attr, v)?),
            AttrType::MESSAGE_INTEGRITY_SHA256 => {
                if !(16..=32).contains(&v.len()) || v.len() % 4 != 0 {
                    return Err(Error::BadAttributeLength { attr, len: v.len() });
                }
                Attribute::MessageIntegritySha256(v)
            }
            AttrType::FINGERPRINT => Attribute::Fingerprint(be_u32(attr, v)?),
            AttrType::ERROR_CODE => Attribute::ErrorCode(ErrorCode::parse(attr, v)?),
            AttrType::UNKNOWN_ATTRIBUTES => {
                Attribute::UnknownAttributes(AttrTypeList::parse(attr, v)?)
            }
            AttrType::REALM => Attribute::Realm(text(attr, v, MAX_TEXT)?),
            AttrType::NONCE => Attribute::Nonce(text(attr, v, MAX_TEXT)?),
            AttrType::SOFTWARE => Attribute::Software(text(attr, v, MAX_TEXT)?),
            AttrType::ALTERNATE_SERVER => {
                Attribute::AlternateServer(decode_address(attr, v, XorMode::Plain)?)
            }
            AttrType::ALTERNATE_DOMAIN => Attribute::AlternateDomain(text(attr, v, MAX_TEXT)?),
            AttrType::USERHASH => Attribute::UserHash(fixed(attr, v)?),
            AttrType::PASSWORD_ALGORITHM => {
                Attribute::PasswordAlgorithm(PasswordAlgorithm::parse(attr, v)?)
            }
            AttrType::PASSWORD_ALGORITHMS => {
                Attribute::PasswordAlgorithms(PasswordAlgorithmList::parse(attr, v)?)
            }
            AttrType::PRIORITY => Attribute::Priority(be_u32(attr, v)?),
            AttrType::USE_CANDIDATE => {
                empty(attr, v)?;
                Attribute::UseCandidate
            }
            AttrType::ICE_CONTROLLED => Attribute::IceControlled(be_u64(attr, v)?),
            AttrType::ICE_CONTROLLING => Attribute::IceControlling(be_u64(attr, v)?),
            AttrType::CHANNEL_NUMBER => {
                let b = fixed::<4>(attr, v)?;
                let n = u16::from_be_bytes([b[0], b[1]]);
                if !(0x4000..=0x4FFF).contains(&n) {
                    return Err(Error::BadChannelNumber(n));
                }
                Attribute::ChannelNumber(n)
            }
            AttrType::LIFETIME => Attribute::Lifetime(be_u32(attr, v)?),
            AttrType::XOR_PEER_ADDRESS => Attribute::XorPeerAddress(decode_address(attr, v, xor)?),
            AttrType::DATA => Attribute::Data(v),
            AttrType::XOR_RELAYED_ADDRESS => {
                Attribute::XorRelayedAddress(decode_address(attr, v, xor)?)
            }
            AttrType::REQUESTED_ADDRESS_FAMILY => {
                Attribute::RequestedAddressFamily(family4(attr, v)?)
            }
            AttrType::EVEN_PORT => match v {
                // One byte; some stacks send the reserved bytes too.
                [b] | [b, 0, 0, 0] => Attribute::EvenPort(b & 0x80 != 0),
                _ => return Err(Error::BadAttributeLength { attr, len: v.len() }),
            },
            AttrType::REQUESTED_TRANSPORT => Attribute::RequestedTransport(fixed::<4>(attr, v)?[0]),
            AttrType::DONT_FRAGMENT => {
                empty(attr, v)?;
                Attribute::DontFragment
            }
            AttrType::RESERVATION_TOKEN => Attribute::ReservationToken(be_u64(attr, v)?),
            AttrType::ADDITIONAL_ADDRESS_FAMILY => {
                Attribute::AdditionalAddressFamily(family4(attr, v)?)
            }
            AttrType::ADDRESS_ERROR_CODE => {
                let (head, reason) = v
                    .split_at_checked(4)
                    .ok_or(Error::BadAttributeLength { attr, len: v.len() })?;
                let family = AddressFamily::from_u8(attr, head[0])?;
                let code = ErrorCode::decode_code(head[2], head[3])?;
                let reason = text(attr, reason, MAX_TEXT)?;
                Attribute::AddressErrorCode(family, ErrorCode { code, reason })
            }
            AttrType::ICMP => {
                let b = fixed::<8>(attr, v)?;
                let tc = u16::from_be_bytes([b[2], b[3]]);
                Attribute::Icmp(Icmp {
                    icmp_type: (tc >> 9) as u8,
                    code: tc & 0x01FF,
                    error_data: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
                })
            }
            AttrType::CHANGE_REQUEST => {
                let flags = be_u32(attr, v)?;
                Attribute::ChangeRequest {
                    change_ip: flags & 0x4 != 0,
                    change_port: flags & 0x2 != 0,
                }
            }
            AttrType::PADDING => Attribute::Padding(v),
            AttrType::RESPONSE_PORT => {
                let b = fixed::<4>(attr, v)?;
                Attribute::ResponsePort(u16::from_be_bytes([b[0], b[1]]))
            }
            AttrType::RESPONSE_ORIGIN => {
                Attribute::ResponseOrigin(decode_address(attr, v, XorMode::Plain)?)
            }
            AttrType::OTHER_ADDRESS => {
                Attribute::OtherAddress(decode_address(attr, v, XorMode::Plain)?)
            }
            AttrType::CONNECTION_ID => Attribute::ConnectionId(be_u32(attr, v)?),
            _ => Attribute::Unknown { attr, value: v },
        })
    }

    /// The attribute's type.
    #[must_use]
    #[inline]
    pub fn attr_type(&self) -> AttrType {
        match self {
            Attribute::MappedAddress(_) => AttrType::MAPPED_ADDRESS,
            Attribute::XorMappedAddress(_) => AttrType::XOR_MAPPED_ADDRESS,
            Attribute::Username(_) => AttrType::USERNAME,
            Attribute::MessageIntegrity(_) => AttrType::MESSAGE_INTEGRITY,
            Attribute::MessageIntegritySha256(_) => AttrType::MESSAGE_INTEGRITY_SHA256,
            Attribute::Fingerprint(_) => AttrType::FINGERPRINT,
            Attribute::ErrorCode(_) => AttrType::ERROR_CODE,
            Attribute::UnknownAttributes(_) => AttrType::UNKNOWN_ATTRIBUTES,
            Attribute::Realm(_) => AttrType::REALM,
            Attribute::Nonce(_) => AttrType::NONCE,
            Attribute::Software(_) => AttrType::SOFTWARE,
            Attribute::AlternateServer(_) => AttrType::ALTERNATE_SERVER,
            Attribute::AlternateDomain(_) => AttrType::ALTERNATE_DOMAIN,
            Attribute::UserHash(_) => AttrType::USERHASH,
            Attribute::PasswordAlgorithm(_) => AttrType::PASSWORD_ALGORITHM,
            Attribute::PasswordAlgorithms(_) => AttrType::PASSWORD_ALGORITHMS,
            Attribute::Priority(_) => AttrType::PRIORITY,
            Attribute::UseCandidate => AttrType::USE_CANDIDATE,
            Attribute::IceControlled(_) => AttrType::ICE_CONTROLLED,
            Attribute::IceControlling(_) => AttrType::ICE_CONTROLLING,
            Attribute::ChannelNumber(_) => AttrType::CHANNEL_NUMBER,
            Attribute::Lifetime(_) => AttrType::LIFETIME,
            Attribute::XorPeerAddress(_) => AttrType::XOR_PEER_ADDRESS,
            Attribute::Data(_) => AttrType::DATA,
            Attribute::XorRelayedAddress(_) => AttrType::XOR_RELAYED_ADDRESS,
            Attribute::RequestedAddressFamily(_) => AttrType::REQUESTED_ADDRESS_FAMILY,
            Attribute::EvenPort(_) => AttrType::EVEN_PORT,
            Attribute::RequestedTransport(_) => AttrType::REQUESTED_TRANSPORT,
            Attribute::DontFragment => AttrType::DONT_FRAGMENT,
            Attribute::ReservationToken(_) => AttrType::RESERVATION_TOKEN,
            Attribute::AdditionalAddressFamily(_) => AttrType::ADDITIONAL_ADDRESS_FAMILY,
            Attribute::AddressErrorCode(..) => AttrType::ADDRESS_ERROR_CODE,
            Attribute::Icmp(_) => AttrType::ICMP,
            Attribute::ChangeRequest { .. } => AttrType::CHANGE_REQUEST,
            Attribute::Padding(_) => AttrType::PADDING,
            Attribute::ResponsePort(_) => AttrType::RESPONSE_PORT,
            Attribute::ResponseOrigin(_) => AttrType::RESPONSE_ORIGIN,
            Attribute::OtherAddress(_) => AttrType::OTHER_ADDRESS,
            Attribute::ConnectionId(_) => AttrType::CONNECTION_ID,
            Attribute::Unknown { attr, .. } => *attr,
        }
    }

    /// Length of the encoded value, without padding.
    #[must_use]
    #[inline]
    pub fn value_len(&self) -> usize {
        match self {
            Attribute::MappedAddress(a)
            | Attribute::XorMappedAddress(a)
            | Attribute::AlternateServer(a)
            | Attribute::XorPeerAddress(a)
            | Attribute::XorRelayedAddress(a)
            | Attribute::ResponseOrigin(a)
            | Attribute::OtherAddress(a) => address_len(a),
            Attribute::Username(s)
            | Attribute::Realm(s)
            | Attribute::Nonce(s)
            | Attribute::Software(s)
            | Attribute::AlternateDomain(s) => s.len(),
            Attribute::MessageIntegrity(_) => 20,
            Attribute::MessageIntegritySha256(b)
            | Attribute::Data(b)
            | Attribute::Padding(b)
            | Attribute::Unknown { value: b, .. } => b.len(),
            Attribute::ErrorCode(e) | Attribute::AddressErrorCode(_, e) => 4 + e.reason.len(),
            Attribute::UnknownAttributes(l) => l.buffer_len(),
            Attribute::UserHash(_) => 32,
            Attribute::PasswordAlgorithm(a) => a.buffer_len(),
            Attribute::PasswordAlgorithms(l) => l.buffer_len(),
            Attribute::UseCandidate | Attribute::DontFragment => 0,
            Attribute::EvenPort(_) => 1,
            Attribute::Fingerprint(_)
            | Attribute::Priority(_)
            | Attribute::ChannelNumber(_)
            | Attribute::Lifetime(_)
            | Attribute::RequestedAddressFamily(_)
            | Attribute::RequestedTransport(_)
            | Attribute::AdditionalAddressFamily(_)
            | Attribute::ChangeRequest { .. }
            | Attribute::ResponsePort(_)
            | Attribute::ConnectionId(_) => 4,
            Attribute::IceControlled(_)
            | Attribute::IceControlling(_)
            | Attribute::ReservationToken(_)
            | Attribute::Icmp(_) => 8,
        }
    }

    /// Writes the value into `out`, which must be exactly [`Self::value_len`] bytes (the
    /// builder guarantees it; a shorter slice gets a truncated value, never a panic).
    #[inline]
    pub(crate) fn emit_value(&self, tid: &TransactionId, out: &mut [u8]) {
        let xor = XorMode::Xor(tid);
        match self {
            Attribute::MappedAddress(a)
            | Attribute::AlternateServer(a)
            | Attribute::ResponseOrigin(a)
            | Attribute::OtherAddress(a) => encode_address(a, XorMode::Plain, out),
            Attribute::XorMappedAddress(a)
            | Attribute::XorPeerAddress(a)
            | Attribute::XorRelayedAddress(a) => encode_address(a, xor, out),
            Attribute::Username(s)
            | Attribute::Realm(s)
            | Attribute::Nonce(s)
            | Attribute::Software(s)
            | Attribute::AlternateDomain(s) => put(out, s.as_bytes()),
            Attribute::MessageIntegrity(b) => put(out, &b[..]),
            Attribute::UserHash(b) => put(out, &b[..]),
            Attribute::MessageIntegritySha256(b)
            | Attribute::Data(b)
            | Attribute::Padding(b)
            | Attribute::Unknown { value: b, .. } => put(out, b),
            Attribute::ErrorCode(e) => {
                let [class, number] = e.code_bytes();
                put(out, &[0, 0, class, number]);
                put(out.get_mut(4..).unwrap_or_default(), e.reason.as_bytes());
            }
            Attribute::AddressErrorCode(f, e) => {
                let [class, number] = e.code_bytes();
                put(out, &[f.to_u8(), 0, class, number]);
                put(out.get_mut(4..).unwrap_or_default(), e.reason.as_bytes());
            }
            Attribute::UnknownAttributes(l) => l.emit(out),
            Attribute::PasswordAlgorithm(a) => a.emit(out),
            Attribute::PasswordAlgorithms(l) => l.emit(out),
            Attribute::UseCandidate | Attribute::DontFragment => {}
            Attribute::EvenPort(r) => put(out, &[if *r { 0x80 } else { 0 }]),
            Attribute::Fingerprint(v)
            | Attribute::Priority(v)
            | Attribute::Lifetime(v)
            | Attribute::ConnectionId(v) => put(out, &v.to_be_bytes()),
            Attribute::ChannelNumber(n) | Attribute::ResponsePort(n) => {
                let b = n.to_be_bytes();
                put(out, &[b[0], b[1], 0, 0]);
            }
            Attribute::RequestedAddressFamily(f) | Attribute::AdditionalAddressFamily(f) => {
                put(out, &[f.to_u8(), 0, 0, 0]);
            }
            Attribute::RequestedTransport(p) => put(out, &[*p, 0, 0, 0]),
            Attribute::IceControlled(v)
            | Attribute::IceControlling(v)
            | Attribute::ReservationToken(v) => put(out, &v.to_be_bytes()),
            Attribute::Icmp(i) => {
                let tc = (u16::from(i.icmp_type & 0x7F) << 9) | (i.code & 0x01FF);
                let t = tc.to_be_bytes();
                let d = i.error_data.to_be_bytes();
                put(out, &[0, 0, t[0], t[1], d[0], d[1], d[2], d[3]]);
            }
            Attribute::ChangeRequest {
                change_ip,
                change_port,
            } => {
                let flags = (u8::from(*change_ip) << 2) | (u8::from(*change_port) << 1);
                put(out, &[0, 0, 0, flags]);
            }
        }
    }
}

/// Copies as much of `src` as fits into `dst`.
#[inline]
fn put(dst: &mut [u8], src: &[u8]) {
    let n = dst.len().min(src.len());
    if let (Some(d), Some(s)) = (dst.get_mut(..n), src.get(..n)) {
        d.copy_from_slice(s);
    }
}
