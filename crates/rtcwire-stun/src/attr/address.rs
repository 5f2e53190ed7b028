//! Address attributes: MAPPED-ADDRESS and its XOR forms (RFC 8489 §14.1, §14.2).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::AttrType;
use crate::header::{TransactionId, MAGIC_COOKIE};
use crate::Error;

/// An address family as STUN and TURN encode it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressFamily {
    /// IPv4, encoded 0x01.
    V4,
    /// IPv6, encoded 0x02.
    V6,
}

impl AddressFamily {
    /// The wire value.
    #[must_use]
    pub const fn to_u8(self) -> u8 {
        match self {
            AddressFamily::V4 => 0x01,
            AddressFamily::V6 => 0x02,
        }
    }

    pub(crate) fn from_u8(attr: AttrType, family: u8) -> Result<Self, Error> {
        match family {
            0x01 => Ok(AddressFamily::V4),
            0x02 => Ok(AddressFamily::V6),
            family => Err(Error::BadAddressFamily { attr, family }),
        }
    }
}

/// Whether an address is sent in the clear or XOR-ed with the cookie and transaction id.
#[derive(Clone, Copy)]
pub(crate) enum XorMode<'t> {
    Plain,
    Xor(&'t TransactionId),
}

/// The 16 bytes an IPv6 address is XOR-ed with: magic cookie then transaction id.
fn xor_pad(tid: &TransactionId) -> [u8; 16] {
    let mut pad = [0u8; 16];
    let (cookie, id) = pad.split_at_mut(4);
    cookie.copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    id.copy_from_slice(&tid.0);
    pad
}

pub(crate) fn decode_address(
    attr: AttrType,
    v: &[u8],
    mode: XorMode<'_>,
) -> Result<SocketAddr, Error> {
    let bad_len = || Error::BadAttributeLength { attr, len: v.len() };
    let (head, addr) = v.split_at_checked(4).ok_or_else(bad_len)?;
    let family = AddressFamily::from_u8(attr, head[1])?;
    let mut port = u16::from_be_bytes([head[2], head[3]]);
    if let XorMode::Xor(_) = mode {
        port ^= (MAGIC_COOKIE >> 16) as u16;
    }
    let ip = match family {
        AddressFamily::V4 => {
            let mut b: [u8; 4] = addr.try_into().map_err(|_| bad_len())?;
            if let XorMode::Xor(_) = mode {
                for (x, k) in b.iter_mut().zip(MAGIC_COOKIE.to_be_bytes()) {
                    *x ^= k;
                }
            }
            IpAddr::V4(Ipv4Addr::from(b))
        }
        AddressFamily::V6 => {
            let mut b: [u8; 16] = addr.try_into().map_err(|_| bad_len())?;
            if let XorMode::Xor(tid) = mode {
                for (x, k) in b.iter_mut().zip(xor_pad(tid)) {
                    *x ^= k;
                }
            }
            IpAddr::V6(Ipv6Addr::from(b))
        }
    };
    Ok(SocketAddr::new(ip, port))
}

/// Length of an encoded address value.
pub(crate) const fn address_len(addr: &SocketAddr) -> usize {
    match addr {
        SocketAddr::V4(_) => 8,
        SocketAddr::V6(_) => 20,
    }
}

/// Writes the value into `out`, which is exactly [`address_len`] bytes.
#[inline]
pub(crate) fn encode_address(addr: &SocketAddr, mode: XorMode<'_>, out: &mut [u8]) {
    let mut port = addr.port();
    if let XorMode::Xor(_) = mode {
        port ^= (MAGIC_COOKIE >> 16) as u16;
    }
    let (head, rest) = out.split_at_mut(4.min(out.len()));
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::V4,
        SocketAddr::V6(_) => AddressFamily::V6,
    };
    let p = port.to_be_bytes();
    head.copy_from_slice(&[0, family.to_u8(), p[0], p[1]][..head.len()]);
    match (addr.ip(), mode) {
        (IpAddr::V4(ip), XorMode::Plain) => copy(rest, &ip.octets()),
        (IpAddr::V4(ip), XorMode::Xor(_)) => {
            let x = u32::from(ip) ^ MAGIC_COOKIE;
            copy(rest, &x.to_be_bytes());
        }
        (IpAddr::V6(ip), XorMode::Plain) => copy(rest, &ip.octets()),
        (IpAddr::V6(ip), XorMode::Xor(tid)) => {
            let mut b = ip.octets();
            for (x, k) in b.iter_mut().zip(xor_pad(tid)) {
                *x ^= k;
            }
            copy(rest, &b);
        }
    }
}

fn copy(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}
