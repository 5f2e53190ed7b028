//! A pcap writer for delivered datagrams: classic libpcap format, link type `RAW` (each
//! record an IPv4 or IPv6 packet), with IP and UDP headers built from the simulated
//! addresses and correct checksums.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::trace::Captured;

/// libpcap magic for microsecond timestamps (written little-endian).
const MAGIC: u32 = 0xa1b2_c3d4;
/// LINKTYPE_RAW: the packet starts with an IPv4 or IPv6 header.
const LINKTYPE_RAW: u32 = 101;
const SNAPLEN: u32 = 65_535;
/// Simulated time zero is written as 2000-01-01T00:00:00Z, so tools show a plausible date.
const EPOCH_BASE_SECS: u64 = 946_684_800;
const UDP: u8 = 17;
const UDP_HEADER: usize = 8;
const IPV4_HEADER: usize = 20;
const IPV6_HEADER: usize = 40;

/// A whole pcap file holding `packets`. Datagrams too large for an IP packet (over 65,507
/// bytes of payload over IPv4) and ones whose addresses mix families are left out.
pub(crate) fn file(packets: &[Captured]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(24 + packets.iter().map(|p| p.contents.len() + 64).sum::<usize>());
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes()); // thiszone
    out.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
    out.extend_from_slice(&SNAPLEN.to_le_bytes());
    out.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
    let mut ip_id = 0u16;
    let mut packet = Vec::new();
    for p in packets {
        packet.clear();
        ip_id = ip_id.wrapping_add(1);
        if !ip_udp(&mut packet, p.source, p.destination, &p.contents, ip_id) {
            continue;
        }
        record_header(&mut out, p.at, packet.len());
        out.extend_from_slice(&packet);
    }
    out
}

fn record_header(out: &mut Vec<u8>, at: Duration, len: usize) {
    let secs = EPOCH_BASE_SECS.saturating_add(at.as_secs());
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    out.extend_from_slice(&u32::try_from(secs).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&at.subsec_micros().to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes()); // captured length
    out.extend_from_slice(&len.to_le_bytes()); // original length
}

/// Appends an IP + UDP packet to `out`; `false` if it cannot be represented.
fn ip_udp(out: &mut Vec<u8>, src: SocketAddr, dst: SocketAddr, payload: &[u8], id: u16) -> bool {
    let Ok(udp_len) = u16::try_from(UDP_HEADER + payload.len()) else {
        return false;
    };
    match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let Ok(total) = u16::try_from(IPV4_HEADER + usize::from(udp_len)) else {
                return false;
            };
            let mut h = [0u8; IPV4_HEADER];
            h[0] = 0x45; // version 4, 5 words
            h[2..4].copy_from_slice(&total.to_be_bytes());
            h[4..6].copy_from_slice(&id.to_be_bytes());
            h[6] = 0x40; // don't fragment
            h[8] = 64; // TTL
            h[9] = UDP;
            h[12..16].copy_from_slice(&s.octets());
            h[16..20].copy_from_slice(&d.octets());
            let sum = !fold(sum_be(0, &h));
            h[10..12].copy_from_slice(&sum.to_be_bytes());
            out.extend_from_slice(&h);
            let mut pseudo = [0u8; 12];
            pseudo[0..4].copy_from_slice(&s.octets());
            pseudo[4..8].copy_from_slice(&d.octets());
            pseudo[9] = UDP;
            pseudo[10..12].copy_from_slice(&udp_len.to_be_bytes());
            udp(out, &pseudo, src.port(), dst.port(), udp_len, payload);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut h = [0u8; IPV6_HEADER];
            h[0] = 0x60; // version 6
            h[4..6].copy_from_slice(&udp_len.to_be_bytes());
            h[6] = UDP; // next header
            h[7] = 64; // hop limit
            h[8..24].copy_from_slice(&s.octets());
            h[24..40].copy_from_slice(&d.octets());
            out.extend_from_slice(&h);
            let mut pseudo = [0u8; 40];
            pseudo[0..16].copy_from_slice(&s.octets());
            pseudo[16..32].copy_from_slice(&d.octets());
            pseudo[34..36].copy_from_slice(&udp_len.to_be_bytes());
            pseudo[39] = UDP;
            udp(out, &pseudo, src.port(), dst.port(), udp_len, payload);
        }
        _ => return false,
    }
    true
}

fn udp(out: &mut Vec<u8>, pseudo: &[u8], sport: u16, dport: u16, len: u16, payload: &[u8]) {
    let mut h = [0u8; UDP_HEADER];
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[4..6].copy_from_slice(&len.to_be_bytes());
    let sum = sum_be(sum_be(sum_be(0, pseudo), &h), payload);
    // A computed zero is sent as all ones (RFC 768; mandatory for IPv6, RFC 8200 §8.1).
    let sum = match !fold(sum) {
        0 => 0xffff,
        s => s,
    };
    h[6..8].copy_from_slice(&sum.to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
}

/// Adds `data` as big-endian 16-bit words (odd length padded with a zero) to `acc`.
/// The caller's segments (headers) are even-length, so words never straddle segments.
fn sum_be(acc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(2);
    let mut acc = acc;
    for c in &mut chunks {
        acc += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds a running sum into 16 bits with end-around carry.
fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    u16::try_from(acc).unwrap_or(0xffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(src: &str, dst: &str, payload: &[u8]) -> Captured {
        Captured {
            at: Duration::from_micros(1_500_000),
            source: src.parse().unwrap(),
            destination: dst.parse().unwrap(),
            contents: payload.to_vec(),
        }
    }

    #[test]
    fn ipv4_header_and_udp_checksums_verify() {
        let f = file(&[cap("10.0.0.1:5000", "10.0.0.2:6000", b"hello")]);
        assert_eq!(&f[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        let rec = &f[24..];
        assert_eq!(
            u32::from_le_bytes(rec[0..4].try_into().unwrap()),
            946_684_801
        );
        assert_eq!(u32::from_le_bytes(rec[4..8].try_into().unwrap()), 500_000);
        let pkt = &rec[16..];
        assert_eq!(pkt.len(), 20 + 8 + 5);
        // A correct header sums to all ones.
        assert_eq!(fold(sum_be(0, &pkt[..20])), 0xffff);
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&pkt[12..20]);
        pseudo.extend_from_slice(&[0, 17, 0, 13]);
        assert_eq!(fold(sum_be(sum_be(0, &pseudo), &pkt[20..])), 0xffff);
        assert_eq!(&pkt[28..], b"hello");
    }

    #[test]
    fn ipv6_udp_checksum_verifies() {
        let f = file(&[cap("[2001:db8::1]:5000", "[2001:db8::2]:6000", b"odd")]);
        let pkt = &f[24 + 16..];
        assert_eq!(pkt[0] >> 4, 6);
        assert_eq!(pkt.len(), 40 + 8 + 3);
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&pkt[8..40]);
        pseudo.extend_from_slice(&[0, 0, 0, 11, 0, 0, 0, 17]);
        assert_eq!(fold(sum_be(sum_be(0, &pseudo), &pkt[40..])), 0xffff);
    }

    #[test]
    fn mixed_families_and_oversize_are_left_out() {
        let f = file(&[
            cap("10.0.0.1:1", "[2001:db8::2]:2", b"x"),
            cap("10.0.0.1:1", "10.0.0.2:2", &vec![0u8; 65_508]),
            cap("10.0.0.1:1", "10.0.0.2:2", &vec![0u8; 65_507]),
        ]);
        assert_eq!(f.len(), 24 + 16 + 65_535);
    }
}
