//! Wire format: CRC-32c vectors (RFC 3720 B.4 and SCTP packets from pion/sctp, copied into
//! tests/data), and proptest round trips of every chunk type (build → emit → parse → emit:
//! equal bytes and equal values).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use proptest::prelude::*;
use rtcwire_sctp::wire::{
    self, Abort, Chunk, CookieAck, CookieEcho, Data, ErrorChunk, ForwardTsn, GapBlock, Heartbeat,
    HeartbeatAck, IData, IForwardTsn, Init, InitAck, List, Packet, Param, Params, RawChunk,
    ReConfig, ReconfigParam, ReconfigResult, Sack, Shutdown, ShutdownAck, ShutdownComplete,
    StreamMid, StreamSsn,
};

const CRC_VECTORS: &str = include_str!("data/crc_checksums.toml");

fn table() -> toml::Table {
    CRC_VECTORS.parse().unwrap()
}

#[test]
fn crc32c_vectors_rfc3720() {
    let t = table();
    let v = t["crc32c"].as_array().unwrap();
    assert!(v.len() >= 6);
    for e in v {
        let input = hex::decode(e["input_hex"].as_str().unwrap()).unwrap();
        let crc = e["crc"].as_integer().unwrap() as u32;
        assert_eq!(wire::crc32c(&input), crc, "{}", e["name"]);
        let lsb = hex::decode(e["wire_bytes_lsb_first_hex"].as_str().unwrap()).unwrap();
        assert_eq!(lsb, crc.to_le_bytes());
    }
}

#[test]
fn sctp_packet_checksums_pion() {
    let t = table();
    for e in t["sctp_packet"].as_array().unwrap() {
        let packet = hex::decode(e["packet_hex"].as_str().unwrap()).unwrap();
        let p = Packet::parse_checked(&packet).unwrap();
        assert_eq!(
            p.header.source_port,
            e["src_port"].as_integer().unwrap() as u16
        );
        assert_eq!(
            p.header.destination_port,
            e["dst_port"].as_integer().unwrap() as u16
        );
        assert_eq!(
            p.header.verification_tag,
            e["verification_tag"].as_integer().unwrap() as u32
        );
        let field = hex::decode(e["checksum_field_hex"].as_str().unwrap()).unwrap();
        assert_eq!(&packet[8..12], &field[..]);
        // Recomputing over a zeroed field gives the same bytes.
        let mut copy = packet.clone();
        copy[8..12].fill(0);
        wire::finish_packet(&mut copy);
        assert_eq!(copy, packet);
        if let Some(first) = e.get("first_chunk_type") {
            let c = p.chunks().next().unwrap().unwrap();
            assert_eq!(i64::from(c.typ), first.as_integer().unwrap());
            let Chunk::Init(init) = Chunk::parse(&c).unwrap() else {
                panic!("not an INIT")
            };
            assert_eq!(init.params.iter().count(), init.params.iter().count());
        }
        // One flipped bit anywhere is caught.
        for i in 0..packet.len() {
            let mut bad = packet.clone();
            bad[i] ^= 0x10;
            assert!(Packet::parse_checked(&bad).is_err());
        }
    }
}

/// Owned inputs for one chunk of each type.
#[derive(Debug, Clone)]
enum Owned {
    Data(u8, u32, u16, u16, u32, Vec<u8>),
    Init(bool, [u32; 3], u16, u16, Vec<(u16, Vec<u8>)>),
    Sack(u32, u32, Vec<(u16, u16)>, Vec<u32>),
    Heartbeat(bool, Vec<u8>),
    Abort(bool, Vec<u8>),
    Error(Vec<u8>),
    Shutdown(u32),
    ShutdownAck,
    CookieEcho(Vec<u8>),
    CookieAck,
    ShutdownComplete(bool),
    ForwardTsn(u32, Vec<(u16, u16)>),
    ReConfig(Vec<OwnedParam>),
    Unknown(u8, u8, Vec<u8>),
    IData(u8, u32, u16, u32, u32, Vec<u8>),
    IForwardTsn(u32, Vec<(u16, bool, u32)>),
}

#[derive(Debug, Clone)]
enum OwnedParam {
    Out(u32, u32, u32, Vec<u16>),
    In(u32, Vec<u16>),
    Resp(u32, u32, Option<(u32, u32)>),
    SsnTsn(u32),
    /// Add streams: outgoing (true) or incoming.
    Add(u32, u16, bool),
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn param_any() -> impl Strategy<Value = OwnedParam> {
    prop_oneof![
        (
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            proptest::collection::vec(any::<u16>(), 0..20)
        )
            .prop_map(|(a, b, c, s)| OwnedParam::Out(a, b, c, s)),
        (any::<u32>(), proptest::collection::vec(any::<u16>(), 0..20))
            .prop_map(|(a, s)| OwnedParam::In(a, s)),
        (
            any::<u32>(),
            0u32..7,
            proptest::option::of(any::<(u32, u32)>())
        )
            .prop_map(|(a, r, n)| OwnedParam::Resp(a, r, n)),
        any::<u32>().prop_map(OwnedParam::SsnTsn),
        (any::<u32>(), any::<u16>(), any::<bool>())
            .prop_map(|(a, n, out)| OwnedParam::Add(a, n, out)),
    ]
}

fn owned_any() -> impl Strategy<Value = Owned> {
    prop_oneof![
        (
            any::<u8>(),
            any::<u32>(),
            any::<u16>(),
            any::<u16>(),
            any::<u32>(),
            proptest::collection::vec(any::<u8>(), 1..200)
        )
            .prop_map(|(f, t, s, q, p, d)| Owned::Data(f, t, s, q, p, d)),
        (
            any::<bool>(),
            any::<[u32; 3]>(),
            any::<u16>(),
            any::<u16>(),
            proptest::collection::vec((any::<u16>(), bytes(40)), 0..5)
        )
            .prop_map(|(a, x, o, i, p)| Owned::Init(a, x, o, i, p)),
        (
            any::<u32>(),
            any::<u32>(),
            proptest::collection::vec(any::<(u16, u16)>(), 0..20),
            proptest::collection::vec(any::<u32>(), 0..20)
        )
            .prop_map(|(c, a, g, d)| Owned::Sack(c, a, g, d)),
        (any::<bool>(), bytes(64)).prop_map(|(a, i)| Owned::Heartbeat(a, i)),
        (any::<bool>(), bytes(64)).prop_map(|(t, c)| Owned::Abort(t, c)),
        bytes(64).prop_map(Owned::Error),
        any::<u32>().prop_map(Owned::Shutdown),
        Just(Owned::ShutdownAck),
        bytes(100).prop_map(Owned::CookieEcho),
        Just(Owned::CookieAck),
        any::<bool>().prop_map(Owned::ShutdownComplete),
        (
            any::<u32>(),
            proptest::collection::vec(any::<(u16, u16)>(), 0..20)
        )
            .prop_map(|(c, s)| Owned::ForwardTsn(c, s)),
        proptest::collection::vec(param_any(), 1..3).prop_map(Owned::ReConfig),
        (0x41u8..0x80, any::<u8>(), bytes(50)).prop_map(|(t, f, v)| Owned::Unknown(t, f, v)),
        (
            any::<u8>(),
            any::<u32>(),
            any::<u16>(),
            any::<u32>(),
            any::<u32>(),
            proptest::collection::vec(any::<u8>(), 1..200)
        )
            .prop_map(|(f, t, s, m, p, d)| Owned::IData(f, t, s, m, p, d)),
        (
            any::<u32>(),
            proptest::collection::vec((any::<u16>(), any::<bool>(), any::<u32>()), 0..20)
        )
            .prop_map(|(c, s)| Owned::IForwardTsn(c, s)),
    ]
}

fn emit_params(p: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut v = Vec::new();
    for (t, val) in p {
        Param::emit(*t, val, &mut v);
    }
    v
}

fn emit_reconfig(ps: &[OwnedParam], gaps: &mut Vec<Vec<u16>>) -> Vec<u8> {
    let mut v = Vec::new();
    gaps.clear();
    for p in ps {
        match p {
            OwnedParam::Out(a, b, c, s) => ReconfigParam::OutgoingReset {
                request_seq: *a,
                response_seq: *b,
                last_tsn: *c,
                streams: List::Items(s),
            }
            .emit(&mut v),
            OwnedParam::In(a, s) => ReconfigParam::IncomingReset {
                request_seq: *a,
                streams: List::Items(s),
            }
            .emit(&mut v),
            OwnedParam::Resp(a, r, n) => ReconfigParam::Response {
                response_seq: *a,
                result: ReconfigResult::from_code(*r),
                next_tsns: *n,
            }
            .emit(&mut v),
            OwnedParam::SsnTsn(a) => ReconfigParam::SsnTsnReset { request_seq: *a }.emit(&mut v),
            OwnedParam::Add(a, n, true) => ReconfigParam::AddOutgoing {
                request_seq: *a,
                new_streams: *n,
            }
            .emit(&mut v),
            OwnedParam::Add(a, n, false) => ReconfigParam::AddIncoming {
                request_seq: *a,
                new_streams: *n,
            }
            .emit(&mut v),
        }
    }
    v
}

fn check(c: &Chunk<'_>) {
    let mut b1 = Vec::new();
    c.emit(&mut b1);
    assert_eq!(b1.len(), c.buffer_len());
    assert_eq!(b1.len() % 4, 0);
    let mut packet = vec![0u8; 12];
    packet.extend_from_slice(&b1);
    wire::finish_packet(&mut packet);
    let p = Packet::parse_checked(&packet).unwrap();
    let mut it = p.chunks();
    let raw: RawChunk<'_> = it.next().unwrap().unwrap();
    assert!(it.next().is_none());
    let parsed = Chunk::parse(&raw).unwrap();
    assert_eq!(&parsed, c);
    let mut b2 = Vec::new();
    parsed.emit(&mut b2);
    assert_eq!(b1, b2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_chunk_type_round_trips(o in owned_any()) {
        let params;
        let gaps: Vec<GapBlock>;
        let entries: Vec<StreamSsn>;
        let mids: Vec<StreamMid>;
        let mut scratch = Vec::new();
        let chunk = match &o {
            Owned::Data(f, t, s, q, p, d) => Chunk::Data(Data { flags: *f, tsn: *t, stream: *s, ssn: *q, ppid: *p, payload: d }),
            Owned::Init(ack, x, os, is, ps) => {
                params = emit_params(ps);
                let i = Init { initiate_tag: x[0], a_rwnd: x[1], outbound_streams: *os, inbound_streams: *is, initial_tsn: x[2], params: Params(&params) };
                if *ack { Chunk::InitAck(InitAck(i)) } else { Chunk::Init(i) }
            }
            Owned::Sack(c, a, g, d) => {
                gaps = g.iter().map(|&(start, end)| GapBlock { start, end }).collect();
                Chunk::Sack(Sack { cumulative_tsn_ack: *c, a_rwnd: *a, gap_blocks: List::Items(&gaps), duplicate_tsns: List::Items(d) })
            }
            Owned::Heartbeat(ack, info) => {
                let h = Heartbeat { info };
                if *ack { Chunk::HeartbeatAck(HeartbeatAck(h)) } else { Chunk::Heartbeat(h) }
            }
            Owned::Abort(t, c) => Chunk::Abort(Abort { tag_reflected: *t, causes: c }),
            Owned::Error(c) => Chunk::Error(ErrorChunk { causes: c }),
            Owned::Shutdown(c) => Chunk::Shutdown(Shutdown { cumulative_tsn_ack: *c }),
            Owned::ShutdownAck => Chunk::ShutdownAck(ShutdownAck),
            Owned::CookieEcho(c) => Chunk::CookieEcho(CookieEcho { cookie: c }),
            Owned::CookieAck => Chunk::CookieAck(CookieAck),
            Owned::ShutdownComplete(t) => Chunk::ShutdownComplete(ShutdownComplete { tag_reflected: *t }),
            Owned::ForwardTsn(c, s) => {
                entries = s.iter().map(|&(stream, ssn)| StreamSsn { stream, ssn }).collect();
                Chunk::ForwardTsn(ForwardTsn { new_cumulative_tsn: *c, streams: List::Items(&entries) })
            }
            Owned::ReConfig(ps) => {
                params = emit_reconfig(ps, &mut scratch);
                let r = ReConfig { params: &params };
                assert_eq!(r.iter().count(), ps.len());
                Chunk::ReConfig(r)
            }
            Owned::Unknown(t, f, v) => Chunk::Unknown(RawChunk { typ: *t, flags: *f, value: v }),
            Owned::IData(f, t, s, m, p, d) => Chunk::IData(IData { flags: *f, tsn: *t, stream: *s, mid: *m, ppid_or_fsn: *p, payload: d }),
            Owned::IForwardTsn(c, s) => {
                mids = s.iter().map(|&(stream, unordered, mid)| StreamMid { stream, unordered, mid }).collect();
                Chunk::IForwardTsn(IForwardTsn { new_cumulative_tsn: *c, streams: List::Items(&mids) })
            }
        };
        check(&chunk);
    }

    /// Arbitrary bytes never panic the parser, and whatever parses re-emits to a chunk that
    /// parses to the same value.
    #[test]
    fn arbitrary_bytes_parse_or_fail_cleanly(body in bytes(400)) {
        let mut packet = vec![0u8; 12];
        packet.extend_from_slice(&body);
        let p = Packet::parse(&packet).unwrap();
        for raw in p.chunks().take(1000) {
            let Ok(raw) = raw else { break };
            if let Ok(c) = Chunk::parse(&raw) {
                let mut b = Vec::new();
                c.emit(&mut b);
                let mut again = vec![0u8; 12];
                again.extend_from_slice(&b);
                let p2 = Packet::parse(&again).unwrap();
                let raw2 = p2.chunks().next().unwrap().unwrap();
                prop_assert_eq!(Chunk::parse(&raw2).unwrap(), c);
            }
        }
    }
}
