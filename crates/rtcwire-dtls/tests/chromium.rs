//! Chromium 156's real ClientHellos (from testdata/interop/chromium-dtls-handshakes.pcap,
//! saved as datagrams under tests/fixtures/): the post-quantum one offers DTLS 1.3 and 1.2
//! and is 1413 bytes in two fragments. Our 1.2 server must reassemble it, in either order,
//! and answer a correct DTLS 1.2 ServerHello.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use rtcwire_dtls::handshake::{HelloVerifyRequest, Message, ServerHello};
use rtcwire_dtls::record::{ContentType, Records, DTLS_1_2};
use rtcwire_dtls::{Certificate, Config, Connection};
mod common;
use common::PollOut;
use rtcwire_proto::{Datagram, SansIo, SeededRng, SrtpProfile};
use std::sync::Arc;
use std::time::Instant;

const FRAG1: &[u8] = include_bytes!("fixtures/chromium156_client_hello_pqc_frag1.bin");
const FRAG2: &[u8] = include_bytes!("fixtures/chromium156_client_hello_pqc_frag2.bin");
const SMALL: &[u8] = include_bytes!("fixtures/chromium156_client_hello_dtls12.bin");

fn server(hello_verify: bool) -> Connection {
    let me = Certificate::generate_self_signed().unwrap();
    let other = Certificate::generate_self_signed().unwrap();
    let cfg = Config::builder(me)
        .remote_fingerprint(other.fingerprint())
        .hello_verify(hello_verify)
        .dtls13(false)
        .build()
        .unwrap();
    Connection::server(Arc::new(cfg), Box::new(SeededRng::new(1)))
}

fn feed(ep: &mut Connection, datagrams: &[&[u8]]) -> Vec<Vec<u8>> {
    let addr = "127.0.0.1:42061".parse().unwrap();
    let mut seen = std::collections::HashSet::new();
    for d in datagrams {
        let r = ep.handle_read(Instant::now(), Datagram::udp(addr, addr, d));
        // A repeated datagram repeats its record numbers: refused as a replay, and counted.
        if seen.insert(d.to_vec()) {
            r.unwrap();
        } else {
            assert_eq!(r, Err(rtcwire_dtls::Error::DatagramRefused));
        }
    }
    std::iter::from_fn(|| ep.poll_out())
        .map(|t| t.contents)
        .collect()
}

/// The first handshake message of the reply: (msg_type, message_seq, body).
fn first_message(out: &[Vec<u8>]) -> (u8, u16, Vec<u8>) {
    let rec = Records::new(out.first().expect("a reply"))
        .next()
        .expect("a record");
    assert_eq!(rec.header.content_type, ContentType::Handshake);
    assert_eq!(rec.header.version, DTLS_1_2);
    let f = rec.fragment;
    let len = u32::from_be_bytes([0, f[1], f[2], f[3]]) as usize;
    let frag_len = u32::from_be_bytes([0, f[9], f[10], f[11]]) as usize;
    assert_eq!(len, frag_len, "ServerHello fits one fragment");
    (
        f[0],
        u16::from_be_bytes([f[4], f[5]]),
        f[12..12 + len].to_vec(),
    )
}

fn check_server_hello(out: &[Vec<u8>]) -> ServerHello {
    let (ty, seq, body) = first_message(out);
    let Message::ServerHello(sh) = Message::parse(ty, &body).unwrap() else {
        panic!("not a ServerHello: {ty}");
    };
    assert_eq!(seq, 0);
    assert_eq!(sh.version, DTLS_1_2);
    assert_eq!(sh.cipher_suite, 0xc02b, "ECDHE_ECDSA_AES_128_GCM_SHA256");
    assert!(sh.extensions.extended_master_secret);
    assert_eq!(sh.extensions.renegotiation_info.as_deref(), Some(&[][..]));
    let srtp = sh.extensions.use_srtp.clone().expect("use_srtp");
    // Chromium offers SHA1_80, AEAD_256, AEAD_128; our default preference puts AEAD_128 first.
    assert_eq!(
        srtp.profiles,
        vec![SrtpProfile::AeadAes128Gcm.dtls_id().unwrap()]
    );
    assert!(
        sh.extensions.supported_groups.is_none(),
        "a server does not echo groups"
    );
    sh
}

#[test]
fn fragmented_pqc_client_hello_in_order_gets_a_dtls12_server_hello() {
    let mut s = server(false);
    assert!(
        feed(&mut s, &[FRAG1]).is_empty(),
        "half a hello is not answered"
    );
    let out = feed(&mut s, &[FRAG2]);
    check_server_hello(&out);
    // The whole flight 4 (hello, certificate, key exchange, request, done) fits the MTU.
    assert!(out.iter().all(|d| d.len() <= 1200));
}

#[test]
fn fragmented_pqc_client_hello_reversed_and_duplicated_reassembles() {
    let mut s = server(false);
    let out = feed(&mut s, &[FRAG2, FRAG2, FRAG1, FRAG1]);
    check_server_hello(&out);
}

#[test]
fn small_chromium_client_hello_is_answered_too() {
    let mut s = server(false);
    check_server_hello(&feed(&mut s, &[SMALL]));
}

#[test]
fn with_cookies_on_the_hello_gets_a_stateless_hello_verify_request() {
    let mut s = server(true);
    let out = feed(&mut s, &[FRAG1, FRAG2]);
    assert_eq!(out.len(), 1);
    let (ty, seq, body) = first_message(&out);
    let Message::HelloVerifyRequest(HelloVerifyRequest { cookie, .. }) =
        Message::parse(ty, &body).unwrap()
    else {
        panic!("not a HelloVerifyRequest");
    };
    assert_eq!(seq, 0);
    assert_eq!(cookie.len(), 32);
    // RFC 6347 §4.2.1: the reply reuses the hello's record sequence number.
    let hello_seq = Records::new(FRAG2).next().unwrap().header.sequence;
    assert_eq!(
        Records::new(&out[0]).next().unwrap().header.sequence,
        hello_seq
    );
    assert!(s.poll_timeout().is_none(), "no per-client state, no timer");
}

fn server13(hello_verify: bool) -> Connection {
    let me = Certificate::generate_self_signed().unwrap();
    let other = Certificate::generate_self_signed().unwrap();
    let cfg = Config::builder(me)
        .remote_fingerprint(other.fingerprint())
        .hello_verify(hello_verify)
        .dtls13(true)
        .build()
        .unwrap();
    Connection::server(Arc::new(cfg), Box::new(SeededRng::new(1)))
}

/// The reply's ServerHello, put back together from its clear (epoch 0) fragments.
fn server_hello_of(out: &[Vec<u8>]) -> ServerHello {
    let mut body: Vec<u8> = Vec::new();
    let mut got = 0usize;
    for d in out {
        for rec in Records::new(d) {
            if rec.header.epoch != 0 || rec.header.content_type != ContentType::Handshake {
                continue;
            }
            let f = rec.fragment;
            if f[0] != 2 {
                continue; // the rest of a DTLS 1.2 flight
            }
            let len = u32::from_be_bytes([0, f[1], f[2], f[3]]) as usize;
            let off = u32::from_be_bytes([0, f[6], f[7], f[8]]) as usize;
            let flen = u32::from_be_bytes([0, f[9], f[10], f[11]]) as usize;
            body.resize(len, 0);
            body[off..off + flen].copy_from_slice(&f[12..12 + flen]);
            got += flen;
        }
    }
    assert_eq!(got, body.len(), "the whole ServerHello");
    let Message::ServerHello(sh) = Message::parse(2, &body).unwrap() else {
        panic!("not a ServerHello");
    };
    sh
}

fn ext(sh: &ServerHello, ty: u16) -> Option<Vec<u8>> {
    sh.extensions
        .unknown
        .iter()
        .find(|(t, _)| *t == ty)
        .map(|(_, b)| b.clone())
}

#[test]
fn dtls13_server_answers_the_pqc_hello_with_a_1_3_server_hello_choosing_the_hybrid() {
    let mut s = server13(false);
    let out = feed(&mut s, &[FRAG2, FRAG1]);
    let sh = server_hello_of(&out);
    assert_eq!(sh.version, DTLS_1_2, "legacy_version");
    assert_eq!(
        ext(&sh, 43),
        Some(vec![0xfe, 0xfc]),
        "supported_versions: DTLS 1.3"
    );
    assert_eq!(sh.cipher_suite, 0x1301, "TLS_AES_128_GCM_SHA256");
    let ks = ext(&sh, 51).expect("key_share");
    assert_eq!(u16::from_be_bytes([ks[0], ks[1]]), 0x11ec, "X25519MLKEM768");
    // ML-KEM-768 ciphertext (1088) and an X25519 point (32).
    assert_eq!(u16::from_be_bytes([ks[2], ks[3]]), 1120);
    assert!(out.iter().all(|d| d.len() <= 1200));
    assert_eq!(s.protocol_version(), Some(0xfefc));
    assert!(
        s.poll_timeout().is_some(),
        "its flight is on the retransmission timer"
    );
}

#[test]
fn dtls13_server_asks_chromium_for_a_cookie_statelessly() {
    let mut s = server13(true);
    let out = feed(&mut s, &[FRAG1, FRAG2]);
    assert_eq!(out.len(), 1);
    let hrr = server_hello_of(&out);
    // HelloRetryRequest: the special random, a cookie, and no group change (Chromium sent a
    // share we take).
    assert_eq!(
        hrr.random[..4],
        [0xcf, 0x21, 0xad, 0x74],
        "HelloRetryRequest random"
    );
    assert!(ext(&hrr, 44).is_some_and(|c| c.len() > 32), "cookie");
    assert!(ext(&hrr, 51).is_none(), "no key_share change");
    assert!(s.poll_timeout().is_none(), "no per-client state, no timer");
}

#[test]
fn small_dtls12_only_chromium_hello_gets_1_2_with_the_downgrade_sentinel() {
    let mut s = server13(false);
    let out = feed(&mut s, &[SMALL]);
    let sh = server_hello_of(&out);
    assert_eq!(ext(&sh, 43), None, "no supported_versions: DTLS 1.2");
    assert_eq!(sh.cipher_suite, 0xc02b);
    // RFC 8446 §4.1.3: a 1.3-capable server negotiating 1.2 says so in its random.
    assert_eq!(&sh.random[24..], b"DOWNGRD\x01");
    assert_eq!(s.protocol_version(), Some(0xfefd));
}
