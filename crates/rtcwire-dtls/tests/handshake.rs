//! In-memory client ↔ server handshakes: every suite, group and SRTP profile, fingerprints,
//! retransmission, and the failures each with its own error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use common::*;
use rtcwire_dtls::{CipherSuite, Error, Event, Fingerprint, FingerprintAlgorithm, NamedGroup};
use rtcwire_proto::{DtlsRole, SansIo, SrtpProfile};
use std::time::{Duration, Instant};

fn connected_info(
    events: &[Event],
) -> (
    Option<rtcwire_proto::KeyingMaterial>,
    Fingerprint,
    CipherSuite,
) {
    events
        .iter()
        .find_map(|e| match e {
            Event::Connected {
                srtp,
                peer_fingerprint,
                cipher_suite,
            } => Some((srtp.clone(), peer_fingerprint.clone(), *cipher_suite)),
            _ => None,
        })
        .expect("connected")
}

#[test]
fn every_ecdsa_suite_group_and_profile_connects_and_exports_same_keys() {
    let (c, s) = ident();
    let now = Instant::now();
    let suites = [
        CipherSuite::EcdheEcdsaAes128GcmSha256,
        CipherSuite::EcdheEcdsaAes256GcmSha384,
        CipherSuite::EcdheEcdsaChacha20Poly1305Sha256,
    ];
    for (i, suite) in suites.iter().enumerate() {
        for group in NamedGroup::ALL {
            for profile in [
                SrtpProfile::AeadAes128Gcm,
                SrtpProfile::AeadAes256Gcm,
                SrtpProfile::Aes128CmHmacSha1_80,
                SrtpProfile::Aes128CmHmacSha1_32,
            ] {
                let (cb, sb) = builders(&c, &s);
                let cb = cb
                    .cipher_suites(&[*suite])
                    .groups(&[*group])
                    .srtp_profiles(&[profile]);
                let (mut client, mut server) = connections(cb, sb, i as u64, now);
                let o = run(
                    &mut client,
                    &mut server,
                    now,
                    Net::perfect(),
                    Duration::from_secs(5),
                );
                let (ck, cfp, csuite) = connected_info(&o.client_events);
                let (sk, sfp, ssuite) = connected_info(&o.server_events);
                assert_eq!(csuite, *suite);
                assert_eq!(ssuite, *suite);
                assert_eq!(cfp, s.fingerprint());
                assert_eq!(sfp, c.fingerprint());
                let (ck, sk) = (ck.expect("client srtp"), sk.expect("server srtp"));
                assert_eq!(ck.profile(), profile);
                assert_eq!(ck.as_bytes(), sk.as_bytes());
                assert_eq!(ck.as_bytes().len(), profile.keying_material_len());
                assert_eq!(ck.split(DtlsRole::Client).0, sk.split(DtlsRole::Server).1);
                assert_eq!(client.extended_master_secret(), Some(true));
                assert_eq!(
                    client.export_keying_material(b"EXTRACTOR-dtls_srtp", 10),
                    server.export_keying_material(b"EXTRACTOR-dtls_srtp", 10)
                );
            }
        }
    }
}

#[test]
fn fingerprint_mismatch_fails_with_its_own_error_and_no_data() {
    let (c, s) = ident();
    let (other, _) = ident();
    let now = Instant::now();
    // The client expects someone else's certificate.
    let cb = rtcwire_dtls::Config::builder(c.clone()).remote_fingerprint(other.fingerprint());
    let (_, sb) = builders(&c, &s);
    let (mut client, mut server) = connections(cb, sb, 6, now);
    let o = run(
        &mut client,
        &mut server,
        now,
        Net::perfect(),
        Duration::from_secs(5),
    );
    assert_eq!(
        Outcome::error(&o.client_events),
        Some(&Error::FingerprintMismatch)
    );
    assert!(!Outcome::connected(&o.client_events));
    assert!(!Outcome::connected(&o.server_events));
    assert!(!o
        .client_events
        .iter()
        .any(|e| matches!(e, Event::ApplicationData(_))));
    // The server heard the bad_certificate alert.
    assert!(matches!(
        Outcome::error(&o.server_events),
        Some(Error::AlertReceived(
            rtcwire_dtls::AlertDescription::BadCertificate
        ))
    ));
}

#[test]
fn sha1_sha384_sha512_remote_fingerprints_are_accepted() {
    let (c, s) = ident();
    for alg in [
        FingerprintAlgorithm::Sha1,
        FingerprintAlgorithm::Sha384,
        FingerprintAlgorithm::Sha512,
    ] {
        let now = Instant::now();
        let cb = rtcwire_dtls::Config::builder(c.clone())
            .remote_fingerprint(s.fingerprint_with(alg).unwrap());
        let sb = rtcwire_dtls::Config::builder(s.clone())
            .remote_fingerprint(c.fingerprint_with(alg).unwrap());
        let (mut client, mut server) = connections(cb, sb, 7, now);
        let o = run(
            &mut client,
            &mut server,
            now,
            Net::perfect(),
            Duration::from_secs(5),
        );
        assert!(Outcome::connected(&o.client_events), "{alg:?}");
        assert!(Outcome::connected(&o.server_events), "{alg:?}");
    }
}

#[test]
fn certificate_key_mismatch_is_refused_at_build() {
    let (c, s) = ident();
    let mixed =
        rtcwire_dtls::Certificate::from_der(c.der().to_vec(), s.private_key_pkcs8().to_vec());
    let err = rtcwire_dtls::Config::builder(mixed).build().unwrap_err();
    assert_eq!(err, Error::CertificateKeyMismatch);
}

#[test]
fn unsupported_suite_only_fails_with_no_common_suite() {
    let (c, s) = ident();
    let now = Instant::now();
    let (cb, sb) = builders(&c, &s);
    // The client offers only an RSA suite; our server has an ECDSA certificate.
    let cb = cb.cipher_suites(&[CipherSuite::EcdheRsaAes128GcmSha256]);
    let (mut client, mut server) = connections(cb, sb, 8, now);
    let o = run(
        &mut client,
        &mut server,
        now,
        Net::perfect(),
        Duration::from_secs(5),
    );
    assert_eq!(
        Outcome::error(&o.server_events),
        Some(&Error::NoCommonCipherSuite)
    );
    assert!(matches!(
        Outcome::error(&o.client_events),
        Some(Error::AlertReceived(
            rtcwire_dtls::AlertDescription::HandshakeFailure
        ))
    ));
}

#[test]
fn srtp_preference_order_is_the_servers() {
    let (c, s) = ident();
    let now = Instant::now();
    let (cb, sb) = builders(&c, &s);
    let cb = cb.srtp_profiles(&[SrtpProfile::Aes128CmHmacSha1_80, SrtpProfile::AeadAes256Gcm]);
    let sb = sb.srtp_profiles(&[SrtpProfile::AeadAes256Gcm, SrtpProfile::Aes128CmHmacSha1_80]);
    let (mut client, mut server) = connections(cb, sb, 9, now);
    let o = run(
        &mut client,
        &mut server,
        now,
        Net::perfect(),
        Duration::from_secs(5),
    );
    let (k, _, _) = connected_info(&o.client_events);
    assert_eq!(k.unwrap().profile(), SrtpProfile::AeadAes256Gcm);
    // No common profile: connected without SRTP keys.
    let (cb, sb) = builders(&c, &s);
    let cb = cb.srtp_profiles(&[SrtpProfile::Aes128CmHmacSha1_32]);
    let sb = sb.srtp_profiles(&[SrtpProfile::AeadAes128Gcm]);
    let (mut client, mut server) = connections(cb, sb, 10, now);
    let o = run(
        &mut client,
        &mut server,
        now,
        Net::perfect(),
        Duration::from_secs(5),
    );
    assert!(connected_info(&o.client_events).0.is_none());
}

#[test]
fn handshake_deadline_fails_with_timeout_when_server_is_silent() {
    let (c, s) = ident();
    let now = Instant::now();
    let (cb, sb) = builders(&c, &s);
    let cb = cb.handshake_timeout(Duration::from_secs(10));
    let (mut client, mut server) = connections(cb, sb, 11, now);
    let net = Net {
        loss: 1.0,
        ..Net::perfect()
    };
    let o = run(&mut client, &mut server, now, net, Duration::from_secs(60));
    assert_eq!(
        Outcome::error(&o.client_events),
        Some(&Error::HandshakeTimeout)
    );
    // Retransmissions at 1, 3, 7 s (doubling from 1 s) before the 10 s deadline.
    let sends: Vec<Duration> = o.transcript.iter().filter(|t| t.1).map(|t| t.0).collect();
    assert_eq!(
        sends,
        vec![
            Duration::ZERO,
            Duration::from_secs(1),
            Duration::from_secs(3),
            Duration::from_secs(7)
        ]
    );
    assert_eq!(client.stats().timeout_retransmissions, 3);
}

#[test]
fn downgraded_client_hello_is_caught_by_certificate_verify() {
    // A middlebox rewrites the client's offered suite list (a downgrade attempt). Both sides
    // still agree on a suite, but their transcripts differ: the client's CertificateVerify
    // (a signature over the transcript) no longer verifies at the server.
    let (c, s) = ident();
    let now = Instant::now();
    let (cb, sb) = builders(&c, &s);
    let cb = cb.cipher_suites(&[
        CipherSuite::EcdheEcdsaAes128GcmSha256,
        CipherSuite::EcdheEcdsaAes256GcmSha384,
    ]);
    let sb = sb.hello_verify(false);
    let (mut client, mut server) = connections(cb, sb, 12, now);
    let mut hello = client.poll_out().unwrap().contents;
    // Suite list: after record(13) + handshake(12) + version(2) + random(32) + sid(1) + cookie(1) + len(2).
    let at = 13 + 12 + 2 + 32 + 1 + 1 + 2 + 2;
    assert_eq!(&hello[at..at + 2], &[0xc0, 0x2c]);
    hello[at + 1] = 0x2b; // offer AES_128 twice instead of AES_256
    let addr = "127.0.0.1:1".parse().unwrap();
    server
        .handle_read(now, rtcwire_proto::Datagram::udp(addr, addr, &hello))
        .unwrap();
    let (ce, se) = pump(&mut client, &mut server, now);
    assert!(
        se.iter()
            .any(|e| matches!(e, Event::Error(Error::BadSignature))),
        "{se:?}"
    );
    assert!(!se.iter().any(|e| matches!(e, Event::Connected { .. })));
    assert!(
        !ce.iter().any(|e| matches!(e, Event::Connected { .. })),
        "{ce:?}"
    );
}

/// `n − s` for P-256's group order: the other valid ECDSA signature with the same `r`.
fn negate_s(s: &[u8]) -> Vec<u8> {
    const N: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
        0x25, 0x51,
    ];
    let s: Vec<u8> = s.iter().copied().skip_while(|b| *b == 0).collect();
    let mut padded = [0u8; 32];
    padded[32 - s.len()..].copy_from_slice(&s);
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = N[i] as i16 - padded[i] as i16 - borrow;
        borrow = if d < 0 {
            d += 256;
            1
        } else {
            0
        };
        out[i] = d as u8;
    }
    let mut v: Vec<u8> = out.iter().copied().skip_while(|b| *b == 0).collect();
    if v[0] & 0x80 != 0 {
        v.insert(0, 0);
    }
    v
}

/// Rewrites an ASN.1 ECDSA signature `SEQUENCE { r, s }` into `SEQUENCE { r, n − s }`.
fn malleate(sig: &[u8]) -> Vec<u8> {
    assert_eq!(sig[0], 0x30);
    let r_len = sig[3] as usize;
    let r = &sig[2..4 + r_len];
    let s_len = sig[5 + r_len] as usize;
    let s = &sig[6 + r_len..6 + r_len + s_len];
    let ns = negate_s(s);
    let mut body = r.to_vec();
    body.extend_from_slice(&[0x02, ns.len() as u8]);
    body.extend_from_slice(&ns);
    let mut out = vec![0x30, body.len() as u8];
    out.extend_from_slice(&body);
    out
}

#[test]
fn tampered_transcript_is_caught_by_finished() {
    // ECDSA signatures are malleable: (r, n − s) verifies as well as (r, s). A middlebox that
    // rewrites the client's CertificateVerify this way passes the signature check, but the
    // transcripts now differ in that message, and the Finished check fails with its own
    // error. The server never reports Connected.
    let (c, s) = ident();
    let now = Instant::now();
    let (cb, sb) = builders(&c, &s);
    let (mut client, mut server) = connections(cb, sb.hello_verify(false), 13, now);
    let addr = "127.0.0.1:1".parse().unwrap();
    let deliver = |ep: &mut rtcwire_dtls::Connection, d: &[u8]| {
        let _ = ep.handle_read(now, rtcwire_proto::Datagram::udp(addr, addr, d));
    };
    // Flights 1 and 4 pass untouched.
    let ch = client.poll_out().unwrap().contents;
    deliver(&mut server, &ch);
    while let Some(t) = server.poll_out() {
        deliver(&mut client, &t.contents);
    }
    // Flight 5: rebuild the datagram with the CertificateVerify's signature malleated.
    let mut tampered_any = false;
    while let Some(t) = client.poll_out() {
        let mut out = Vec::new();
        for rec in rtcwire_dtls::record::Records::new(&t.contents) {
            let mut frag = rec.fragment.to_vec();
            if rec.header.epoch == 0
                && rec.header.content_type == rtcwire_dtls::record::ContentType::Handshake
                && frag[0] == 15
            {
                let sig = malleate(&frag[12 + 4..]);
                let mut body = frag[12..14].to_vec();
                body.extend_from_slice(&(sig.len() as u16).to_be_bytes());
                body.extend_from_slice(&sig);
                let n = (body.len() as u32).to_be_bytes();
                frag.truncate(12);
                frag[1..4].copy_from_slice(&n[1..]);
                frag[9..12].copy_from_slice(&n[1..]);
                frag.extend_from_slice(&body);
                tampered_any = true;
            }
            let mut h = rec.header;
            h.length = frag.len() as u16;
            h.emit(&mut out);
            out.extend_from_slice(&frag);
        }
        deliver(&mut server, &out);
    }
    assert!(tampered_any);
    let se: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    assert!(
        matches!(&se[..], [Event::Error(Error::FinishedMismatch)]),
        "{se:?}"
    );
    assert!(!server.is_connected());
    assert_eq!(server.write(b"x"), Err(Error::Closed));
}

#[test]
fn renegotiation_is_refused_and_the_connection_stays_up() {
    use rtcwire_dtls::handshake::{ClientHello, Extensions, Message};
    use rtcwire_dtls::record::{ContentType, RecordHeader, DTLS_1_2};
    let (c, s) = ident();
    let now = Instant::now();
    let (cb, sb) = builders(&c, &s);
    let (mut client, mut server) = connections(cb, sb, 14, now);
    let o = run(
        &mut client,
        &mut server,
        now,
        Net::perfect(),
        Duration::from_secs(5),
    );
    assert!(Outcome::connected(&o.server_events));
    // The client's last message was its Finished, message_seq 5 (after the cookie exchange).
    let hello = Message::ClientHello(ClientHello {
        version: DTLS_1_2,
        random: [9; 32],
        session_id: Vec::new(),
        cookie: Vec::new(),
        cipher_suites: vec![CipherSuite::EcdheEcdsaAes128GcmSha256.id()],
        compression_methods: vec![0],
        extensions: Extensions::default(),
    })
    .to_bytes(6);
    let mut d = Vec::new();
    RecordHeader {
        content_type: ContentType::Handshake,
        version: DTLS_1_2,
        epoch: 0,
        sequence: 100,
        length: hello.len() as u16,
    }
    .emit(&mut d);
    d.extend_from_slice(&hello);
    let addr = "127.0.0.1:1".parse().unwrap();
    server
        .handle_read(now, rtcwire_proto::Datagram::udp(addr, addr, &d))
        .unwrap();
    let alert = server.poll_out().expect("a no_renegotiation warning");
    let rec = rtcwire_dtls::record::Records::new(&alert.contents)
        .next()
        .unwrap();
    assert_eq!(rec.header.content_type, ContentType::Alert);
    assert_eq!(rec.header.epoch, 1, "sent under the connection's keys");
    assert!(server.is_connected());
    client
        .handle_read(
            now,
            rtcwire_proto::Datagram::udp(addr, addr, &alert.contents),
        )
        .unwrap();
    assert!(client.is_connected(), "a warning alert does not close");
    assert!(client.poll_event().is_none());
    client.write(b"still here").unwrap();
    let (_, se) = pump(&mut client, &mut server, now);
    assert!(matches!(&se[..], [Event::ApplicationData(d)] if d == b"still here"));
}

#[test]
fn lost_final_flight_is_resent_when_the_client_repeats_its_flight() {
    let (c, s) = ident();
    let now = Instant::now();
    let (cb, sb) = builders(&c, &s);
    let (mut client, mut server) = connections(
        cb.initial_retransmit_timeout(Duration::from_millis(100)),
        sb,
        15,
        now,
    );
    let addr = "127.0.0.1:1".parse().unwrap();
    let deliver = |to: &mut rtcwire_dtls::Connection, d: &[u8]| {
        to.handle_read(now, rtcwire_proto::Datagram::udp(addr, addr, d))
            .unwrap();
    };
    // Flights 1-5 pass; the server connects and its flight 6 is lost.
    for _ in 0..3 {
        while let Some(t) = client.poll_out() {
            deliver(&mut server, &t.contents);
        }
        while let Some(t) = server.poll_out() {
            if !server.is_connected() {
                deliver(&mut client, &t.contents);
            }
        }
    }
    assert!(server.is_connected());
    assert!(!client.is_connected());
    assert!(
        server.poll_timeout().is_none(),
        "the last flight has no timer"
    );
    // The client's timer fires and it repeats flight 5; the server answers with flight 6.
    let later = now + Duration::from_millis(100);
    client.handle_timeout(later);
    assert_eq!(client.stats().timeout_retransmissions, 1);
    while let Some(t) = client.poll_out() {
        deliver(&mut server, &t.contents);
    }
    assert_eq!(server.stats().triggered_retransmissions, 1);
    while let Some(t) = server.poll_out() {
        deliver(&mut client, &t.contents);
    }
    assert!(client.is_connected());
    assert!(client.poll_timeout().is_none());
}

#[test]
fn repeated_old_fragments_in_one_datagram_trigger_one_resend() {
    // Sixteen copies of the client's first flight-5 record (fresh record numbers, so the
    // replay window lets them through) arrive in one datagram after the server connected:
    // the server resends its final flight once, not sixteen times.
    let (c, s) = ident();
    let now = Instant::now();
    let (cb, sb) = builders(&c, &s);
    let (mut client, mut server) = connections(cb, sb.hello_verify(false), 16, now);
    fn dg(d: &[u8]) -> rtcwire_proto::Datagram<'_> {
        let addr = "127.0.0.1:1".parse().unwrap();
        rtcwire_proto::Datagram::udp(addr, addr, d)
    }
    let hello = client.poll_out().unwrap().contents;
    server.handle_read(now, dg(&hello)).unwrap();
    while let Some(t) = server.poll_out() {
        client.handle_read(now, dg(&t.contents)).unwrap();
    }
    let flight5: Vec<Vec<u8>> = std::iter::from_fn(|| client.poll_out())
        .map(|t| t.contents)
        .collect();
    for d in &flight5 {
        server.handle_read(now, dg(d)).unwrap();
    }
    assert!(server.is_connected());
    while server.poll_out().is_some() {}
    let first = rtcwire_dtls::record::Records::new(&flight5[0])
        .next()
        .unwrap();
    let mut burst = Vec::new();
    for i in 0..16u64 {
        let mut h = first.header;
        h.sequence = 1000 + i;
        h.emit(&mut burst);
        burst.extend_from_slice(first.fragment);
    }
    server.handle_read(now, dg(&burst)).unwrap();
    assert_eq!(server.stats().triggered_retransmissions, 1);
    let resent: Vec<_> = std::iter::from_fn(|| server.poll_out()).collect();
    assert_eq!(resent.len(), 1, "one datagram: CCS + Finished");
    // Later, the same record again is a replay: refused, not a repeat.
    assert_eq!(
        server.handle_read(now + Duration::from_secs(1), dg(&flight5[0])),
        Err(Error::DatagramRefused)
    );
    assert_eq!(
        server.stats().triggered_retransmissions,
        1,
        "a replayed record is not a repeat"
    );
}

/// A random source that has failed for good.
struct BrokenRng;

impl rtcwire_proto::Rng for BrokenRng {
    fn fill(&mut self, _dest: &mut [u8]) -> Result<(), rtcwire_proto::RngError> {
        Err(rtcwire_proto::RngError)
    }
}

#[test]
fn a_failing_random_source_stops_the_handshake_instead_of_sending_predictable_bytes() {
    let (c, s) = ident();
    let (cb, sb) = builders(&c, &s);
    let now = Instant::now();
    let mut client = rtcwire_dtls::Connection::client(
        std::sync::Arc::new(cb.build().unwrap()),
        Box::new(BrokenRng),
        now,
    );
    assert!(client.is_closed());
    assert!(
        client.poll_out().is_none(),
        "no ClientHello with an unfilled random"
    );
    assert!(matches!(
        client.poll_event(),
        Some(Event::Error(Error::RandomSourceFailed))
    ));
    let mut server = rtcwire_dtls::Connection::server(
        std::sync::Arc::new(sb.build().unwrap()),
        Box::new(BrokenRng),
    );
    assert!(server.is_closed(), "no cookie key from a failed source");
    assert!(matches!(
        server.poll_event(),
        Some(Event::Error(Error::RandomSourceFailed))
    ));
}
