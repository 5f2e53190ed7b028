//! Connection ids (RFC 9146 for DTLS 1.2, RFC 9147 §9 for DTLS 1.3): negotiated only when
//! both sides ask, carried by every protected record (asserted on the bytes), a wrong id
//! dropped and counted, and `peek_connection_id` finding the id a server routes by.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use common::{builders, connections, ident, pump, PollOut};
use rtcwire_dtls::{peek_connection_id, Connection, ConnectionIds, Event};
use rtcwire_proto::{Datagram, SansIo};
use std::time::Instant;

const CLIENT_CID: &[u8] = &[0xc1, 0xc2, 0xc3, 0xc4];
const SERVER_CID: &[u8] = &[0x5e, 0x5f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55];

fn pair(
    v13: bool,
    client: Option<&[u8]>,
    server: Option<&[u8]>,
) -> (Connection, Connection, Instant) {
    let (client, server, now) = pair_with(v13, v13, client, server, 7);
    assert_eq!(
        client.protocol_version(),
        Some(if v13 { 0xfefc } else { 0xfefd })
    );
    (client, server, now)
}

/// A connected pair: each side offers DTLS 1.3 or not, and asks for its own id or not.
fn pair_with(
    client_v13: bool,
    server_v13: bool,
    client: Option<&[u8]>,
    server: Option<&[u8]>,
    seed: u64,
) -> (Connection, Connection, Instant) {
    let (c, s) = ident();
    let (cb, sb) = builders(&c, &s);
    let cb = cb
        .dtls13(client_v13)
        .connection_id(client.map(<[u8]>::to_vec));
    let sb = sb
        .dtls13(server_v13)
        .connection_id(server.map(<[u8]>::to_vec));
    let now = Instant::now();
    let (mut client, mut server) = connections(cb, sb, seed, now);
    let (ce, se) = pump(&mut client, &mut server, now);
    assert!(
        ce.iter().any(|e| matches!(e, Event::Connected { .. })),
        "{ce:?}"
    );
    assert!(
        se.iter().any(|e| matches!(e, Event::Connected { .. })),
        "{se:?}"
    );
    (client, server, now)
}

/// Writes `msg` from `a`, checks what the record carries, delivers it to `b`.
fn send(
    a: &mut Connection,
    b: &mut Connection,
    now: Instant,
    msg: &[u8],
    cid: Option<&[u8]>,
    v13: bool,
) -> Vec<u8> {
    a.write(msg).unwrap();
    let d = a.poll_out().unwrap().contents;
    match (cid, v13) {
        (Some(cid), false) => {
            assert_eq!(d[0], 25, "tls12_cid record");
            assert_eq!(
                &d[11..11 + cid.len()],
                cid,
                "the id after epoch and sequence"
            );
            let len = u16::from_be_bytes([d[11 + cid.len()], d[12 + cid.len()]]) as usize;
            assert_eq!(d.len(), 13 + cid.len() + len);
            assert_eq!(peek_connection_id(&d, cid.len()), Some(cid));
        }
        (Some(cid), true) => {
            assert_eq!(d[0] & 0xf0, 0x30, "unified header with the C bit");
            assert_eq!(&d[1..1 + cid.len()], cid, "the id after the first byte");
            assert_eq!(peek_connection_id(&d, cid.len()), Some(cid));
        }
        (None, false) => {
            assert_eq!(d[0], 23, "plain application_data record");
            assert_eq!(peek_connection_id(&d, 4), None);
        }
        (None, true) => {
            assert_eq!(d[0] & 0xf0, 0x20, "unified header without the C bit");
            assert_eq!(peek_connection_id(&d, 4), None);
        }
    }
    b.handle_read(now, Datagram::on_path(&d)).unwrap();
    match b.poll_event() {
        Some(Event::ApplicationData(got)) => assert_eq!(got, msg),
        other => panic!("expected data, got {other:?}"),
    }
    d
}

fn both_ways(v13: bool) {
    let (mut client, mut server, now) = pair(v13, Some(CLIENT_CID), Some(SERVER_CID));
    let want_c = ConnectionIds {
        local: CLIENT_CID.to_vec(),
        remote: SERVER_CID.to_vec(),
    };
    let want_s = ConnectionIds {
        local: SERVER_CID.to_vec(),
        remote: CLIENT_CID.to_vec(),
    };
    assert_eq!(client.connection_ids(), Some(&want_c));
    assert_eq!(server.connection_ids(), Some(&want_s));
    // The client's records carry the server's id, and the other way round.
    send(
        &mut client,
        &mut server,
        now,
        b"to the server",
        Some(SERVER_CID),
        v13,
    );
    send(
        &mut server,
        &mut client,
        now,
        b"to the client",
        Some(CLIENT_CID),
        v13,
    );
    // Larger records too, and the zero-copy path in.
    let big = vec![0x42u8; 1000];
    let mut d = {
        client.write(&big).unwrap();
        client.poll_out().unwrap().contents
    };
    let r = server
        .handle_read_in_place(now, &mut d)
        .unwrap()
        .expect("data in place");
    assert_eq!(&d[r], &big[..]);
    // Zero-copy out: the prefix includes the id.
    let prefix = client.record_prefix_len();
    let mut buf = vec![0u8; prefix];
    buf.extend_from_slice(b"sealed in place");
    client.seal_in_place(&mut buf, 0).unwrap();
    assert_eq!(peek_connection_id(&buf, SERVER_CID.len()), Some(SERVER_CID));
    server.handle_read(now, Datagram::on_path(&buf)).unwrap();
    assert!(
        matches!(server.poll_event(), Some(Event::ApplicationData(d)) if d == b"sealed in place")
    );
    // close_notify travels in an id record too and is understood.
    client.close();
    let (_, se) = pump(&mut client, &mut server, now);
    assert!(se.iter().any(|e| matches!(e, Event::Closed)), "{se:?}");
    for c in [&client, &server] {
        let st = c.stats();
        assert_eq!((st.bad_records, st.wrong_cid_records), (0, 0), "{st:?}");
    }
}

#[test]
fn dtls12_ids_negotiated_and_carried_both_ways() {
    both_ways(false);
}

#[test]
fn dtls13_ids_negotiated_and_carried_both_ways() {
    both_ways(true);
}

#[test]
fn not_negotiated_unless_both_ask() {
    for v13 in [false, true] {
        for (c, s) in [
            (Some(CLIENT_CID), None),
            (None, Some(SERVER_CID)),
            (None, None),
        ] {
            let (mut client, mut server, now) = pair(v13, c, s);
            assert_eq!(client.connection_ids(), None);
            assert_eq!(server.connection_ids(), None);
            send(&mut client, &mut server, now, b"plain", None, v13);
            send(&mut server, &mut client, now, b"plain", None, v13);
        }
    }
}

#[test]
fn an_empty_id_means_records_to_that_side_carry_none() {
    for v13 in [false, true] {
        // The client can send ids but wants none; the server wants one.
        let (mut client, mut server, now) = pair(v13, Some(&[]), Some(SERVER_CID));
        assert_eq!(client.connection_ids().unwrap().remote, SERVER_CID);
        assert!(client.connection_ids().unwrap().local.is_empty());
        send(
            &mut client,
            &mut server,
            now,
            b"with the server's id",
            Some(SERVER_CID),
            v13,
        );
        send(&mut server, &mut client, now, b"without", None, v13);
    }
}

#[test]
fn a_record_with_a_wrong_id_is_dropped_and_counted() {
    for v13 in [false, true] {
        let (mut client, mut server, now) = pair(v13, Some(CLIENT_CID), Some(SERVER_CID));
        client.write(b"x").unwrap();
        let mut d = client.poll_out().unwrap().contents;
        let at = if v13 { 1 } else { 11 };
        d[at] ^= 0xff;
        assert!(server.handle_read(now, Datagram::on_path(&d)).is_err());
        assert_eq!(server.stats().wrong_cid_records, 1);
        assert!(server.poll_event().is_none());
        // The same through the zero-copy path.
        assert!(server.handle_read_in_place(now, &mut d).is_err());
        assert_eq!(server.stats().wrong_cid_records, 2);
        // The untouched record still gets through afterwards.
        d[at] ^= 0xff;
        server.handle_read(now, Datagram::on_path(&d)).unwrap();
        assert!(matches!(server.poll_event(), Some(Event::ApplicationData(x)) if x == b"x"));
        // A record without the id, once ids are in use, is refused as well.
        let (mut c2, mut s2, now2) = pair(v13, None, None);
        c2.write(b"no id").unwrap();
        let plain = c2.poll_out().unwrap().contents;
        let _ = s2.handle_read(now2, Datagram::on_path(&plain));
        assert!(server.handle_read(now, Datagram::on_path(&plain)).is_err());
        assert_eq!(server.stats().wrong_cid_records, 3, "v13 {v13}");
    }
}

#[test]
fn a_dtls13_client_falling_back_to_a_dtls12_server_keeps_its_ids() {
    let (mut client, mut server, now) =
        pair_with(true, false, Some(CLIENT_CID), Some(SERVER_CID), 11);
    assert_eq!(client.protocol_version(), Some(0xfefd));
    assert_eq!(client.connection_ids().unwrap().remote, SERVER_CID);
    send(
        &mut client,
        &mut server,
        now,
        b"1.2 with ids",
        Some(SERVER_CID),
        false,
    );
    send(
        &mut server,
        &mut client,
        now,
        b"back",
        Some(CLIENT_CID),
        false,
    );
}
