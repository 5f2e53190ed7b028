//! One-shot mDNS resolution of a remote `.local` candidate (RFC 6762 §5.1), sans-IO: build
//! the query the driver multicasts, and read the address out of an answer it receives. The
//! driver owns the multicast socket; the agent gets the result through
//! [`Agent::resolve_remote_hostname`](crate::Agent::resolve_remote_hostname).
//!
//! ```
//! use rtcwire_ice::mdns;
//! let mut q = Vec::new();
//! mdns::query("0d2cd7c3-4ad2-4a71-9a0b-4d7d2b7b8f7c.local", &mut q)?;
//! // send `q` to mdns::MDNS_V4 (224.0.0.251:5353); for each datagram that comes back:
//! # let answer = q.clone();
//! let ip = mdns::parse_answer(&answer, "0d2cd7c3-4ad2-4a71-9a0b-4d7d2b7b8f7c.local")?;
//! assert_eq!(ip, None); // a query is not an answer
//! # Ok::<(), rtcwire_ice::Error>(())
//! ```

use crate::Error;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// The IPv4 mDNS group and port.
pub const MDNS_V4: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(224, 0, 0, 251), 5353));
/// The IPv6 mDNS group and port.
pub const MDNS_V6: SocketAddr = SocketAddr::V6(SocketAddrV6::new(
    Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0xfb),
    5353,
    0,
    0,
));

const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;
/// The top bit of the question class asks for a unicast answer (RFC 6762 §5.4).
const UNICAST_RESPONSE: u16 = 0x8000;
/// Most name-compression pointers followed in one name.
const MAX_POINTERS: usize = 16;
/// Most records examined in one message.
const MAX_RECORDS: usize = 64;

fn put_name(name: &str, out: &mut Vec<u8>) -> Result<(), Error> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return Err(Error::Mdns("not a valid DNS name"));
    }
    for label in name.split('.') {
        let len = u8::try_from(label.len()).map_err(|_| Error::Mdns("not a valid DNS name"))?;
        if len == 0 || len > 63 {
            return Err(Error::Mdns("not a valid DNS name"));
        }
        out.push(len);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    Ok(())
}

/// Appends a one-shot query for the A and AAAA records of `name` (ID 0, unicast response
/// requested) to `out`.
pub fn query(name: &str, out: &mut Vec<u8>) -> Result<(), Error> {
    let start = out.len();
    // ID 0, flags 0 (standard query), 2 questions, no answers.
    out.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0]);
    for t in [TYPE_A, TYPE_AAAA] {
        if let Err(e) = put_name(name, out) {
            out.truncate(start);
            return Err(e);
        }
        out.extend_from_slice(&t.to_be_bytes());
        out.extend_from_slice(&(CLASS_IN | UNICAST_RESPONSE).to_be_bytes());
    }
    Ok(())
}

fn be16(msg: &[u8], at: usize) -> Result<u16, Error> {
    match msg.get(at..at + 2) {
        Some(&[a, b]) => Ok(u16::from_be_bytes([a, b])),
        _ => Err(Error::Mdns("truncated message")),
    }
}

/// Reads the name at `at`; returns where the name ends in the message and whether it equals
/// `want` (ASCII case-insensitively).
fn read_name(msg: &[u8], mut at: usize, want: &str) -> Result<(usize, bool), Error> {
    let want = want.strip_suffix('.').unwrap_or(want).as_bytes();
    let mut matched = 0usize;
    let mut equal = true;
    let mut end: Option<usize> = None;
    let mut pointers = 0;
    let mut first_label = true;
    // Bounded: each step consumes a label (at most 255 bytes of name) or follows one of at
    // most MAX_POINTERS pointers, each to an earlier offset.
    for _ in 0..(256 + MAX_POINTERS) {
        let len = *msg.get(at).ok_or(Error::Mdns("truncated message"))?;
        match len {
            0 => {
                let end = end.unwrap_or(at + 1);
                return Ok((end, equal && matched == want.len()));
            }
            l if l & 0xC0 == 0xC0 => {
                let ptr = usize::from(be16(msg, at)? & 0x3FFF);
                if ptr >= at || pointers >= MAX_POINTERS {
                    return Err(Error::Mdns("bad name compression"));
                }
                pointers += 1;
                end.get_or_insert(at + 2);
                at = ptr;
            }
            l if l & 0xC0 != 0 => return Err(Error::Mdns("bad name compression")),
            l => {
                let l = usize::from(l);
                let label = msg
                    .get(at + 1..at + 1 + l)
                    .ok_or(Error::Mdns("truncated message"))?;
                if !first_label {
                    equal &= want.get(matched) == Some(&b'.');
                    matched += 1;
                }
                first_label = false;
                let part = want.get(matched..matched + l);
                equal &= part.is_some_and(|p| p.eq_ignore_ascii_case(label));
                matched += l;
                at += 1 + l;
            }
        }
    }
    Err(Error::Mdns("bad name compression"))
}

/// Looks for an A or AAAA record of `name` in a received mDNS message (answers and
/// additional records alike). `Ok(None)` when the message does not answer for `name`.
pub fn parse_answer(msg: &[u8], name: &str) -> Result<Option<IpAddr>, Error> {
    let flags = be16(msg, 2)?;
    let qd = usize::from(be16(msg, 4)?);
    let records =
        usize::from(be16(msg, 6)?) + usize::from(be16(msg, 8)?) + usize::from(be16(msg, 10)?);
    if flags & 0x8000 == 0 {
        return Ok(None); // a query, not a response
    }
    let mut at = 12;
    for _ in 0..qd.min(MAX_RECORDS) {
        let (end, _) = read_name(msg, at, name)?;
        at = end + 4;
    }
    for _ in 0..records.min(MAX_RECORDS) {
        let (end, is_ours) = read_name(msg, at, name)?;
        let rtype = be16(msg, end)?;
        let class = be16(msg, end + 2)? & 0x7FFF; // top bit: cache-flush
        let rdlen = usize::from(be16(msg, end + 8)?);
        let rdata = msg
            .get(end + 10..end + 10 + rdlen)
            .ok_or(Error::Mdns("truncated message"))?;
        if is_ours && class == CLASS_IN {
            match (rtype, rdata) {
                (TYPE_A, &[a, b, c, d]) => return Ok(Some(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))),
                (TYPE_AAAA, r) if r.len() == 16 => {
                    let mut o = [0u8; 16];
                    o.copy_from_slice(r);
                    return Ok(Some(IpAddr::V6(Ipv6Addr::from(o))));
                }
                _ => {}
            }
        }
        at = end + 10 + rdlen;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "0d2cd7c3-4ad2-4a71-9a0b-4d7d2b7b8f7c.local";

    /// A response as Chromium's responder sends it: the answer's name in full, then an
    /// additional AAAA record whose name is a compression pointer to the first.
    fn answer() -> Vec<u8> {
        let mut m = vec![0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 1];
        put_name(NAME, &mut m).unwrap();
        m.extend_from_slice(&[0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4, 192, 0, 2, 55]);
        m.extend_from_slice(&[0xC0, 12, 0, 28, 0x80, 1, 0, 0, 0, 120, 0, 16]);
        m.extend_from_slice(&Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7).octets());
        m
    }

    #[test]
    fn query_has_two_questions_for_the_name() {
        let mut q = Vec::new();
        query(NAME, &mut q).unwrap();
        assert_eq!(be16(&q, 4).unwrap(), 2);
        let (end, ours) = read_name(&q, 12, NAME).unwrap();
        assert!(ours);
        assert_eq!(be16(&q, end).unwrap(), TYPE_A);
        assert_eq!(be16(&q, end + 2).unwrap(), CLASS_IN | UNICAST_RESPONSE);
        assert_eq!(parse_answer(&q, NAME), Ok(None));
        assert_eq!(
            query("bad..local", &mut q),
            Err(Error::Mdns("not a valid DNS name"))
        );
    }

    #[test]
    fn reads_a_and_aaaa_with_compression() {
        let m = answer();
        assert_eq!(
            parse_answer(&m, NAME).unwrap(),
            Some("192.0.2.55".parse().unwrap())
        );
        assert_eq!(
            parse_answer(&m, &NAME.to_uppercase()).unwrap(),
            Some("192.0.2.55".parse().unwrap())
        );
        assert_eq!(parse_answer(&m, "other.local").unwrap(), None);
        // Only the AAAA record (via the pointer) answers once the A record is for another name.
        let mut only6 = answer();
        only6[13] = b'x';
        assert_eq!(
            parse_answer(&only6, NAME).unwrap(),
            None,
            "the pointer names the changed label too"
        );
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        let m = answer();
        for n in 0..m.len() {
            let _ = parse_answer(&m[..n], NAME);
        }
        // A pointer to itself.
        let mut l = vec![0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0xC0, 12];
        l.extend_from_slice(&[0; 10]);
        assert_eq!(
            parse_answer(&l, NAME),
            Err(Error::Mdns("bad name compression"))
        );
    }
}
