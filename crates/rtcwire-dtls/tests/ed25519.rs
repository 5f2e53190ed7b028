//! Our own Ed25519 identity (RFC 8410 certificates from rcgen, signatures from ring): DTLS
//! 1.3 CertificateVerify and DTLS 1.2 ServerKeyExchange / CertificateVerify, in both roles
//! and beside an ECDSA peer. (dimpl 0.6 cannot verify Ed25519, "not yet supported by crypto
//! provider"; OpenSSL's s_client checks our 1.2 server in tests/openssl.rs.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use common::{builders, connections, pump};
use rtcwire_dtls::cert::{subject_public_key, PublicKeyKind};
use rtcwire_dtls::{Certificate, Event};
use std::time::Instant;

fn identity(ed: bool) -> Certificate {
    if ed {
        Certificate::generate_self_signed_ed25519().unwrap()
    } else {
        Certificate::generate_self_signed().unwrap()
    }
}

fn srtp(events: &[Event]) -> Vec<u8> {
    events
        .iter()
        .find_map(|e| match e {
            Event::Connected { srtp, .. } => srtp.as_ref().map(|k| k.as_bytes().to_vec()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("not connected: {events:?}"))
}

#[test]
fn ed25519_identities_connect_in_both_versions_and_roles() {
    let ed = identity(true);
    assert_eq!(
        subject_public_key(ed.der()).unwrap().kind,
        PublicKeyKind::Ed25519
    );
    for v13 in [false, true] {
        for (client_ed, server_ed) in [(true, true), (true, false), (false, true)] {
            let (c, s) = (identity(client_ed), identity(server_ed));
            let (cb, sb) = builders(&c, &s);
            let now = Instant::now();
            let (mut client, mut server) = connections(cb.dtls13(v13), sb.dtls13(v13), 3, now);
            let (ce, se) = pump(&mut client, &mut server, now);
            let what = format!("v13 {v13}, client Ed25519 {client_ed}, server Ed25519 {server_ed}");
            assert_eq!(srtp(&ce), srtp(&se), "{what}: {ce:?} {se:?}");
            assert_eq!(
                client.protocol_version(),
                Some(if v13 { 0xfefc } else { 0xfefd })
            );
            assert_eq!(client.peer_certificate(), Some(s.der()), "{what}");
            assert_eq!(server.peer_certificate(), Some(c.der()), "{what}");
        }
    }
}

#[test]
fn a_key_that_is_not_the_certificates_is_refused() {
    let a = identity(true);
    let b = identity(true);
    let mixed = Certificate::from_der(a.der().to_vec(), b.private_key_pkcs8().to_vec());
    let err = rtcwire_dtls::Config::builder(mixed).build().unwrap_err();
    assert_eq!(err, rtcwire_dtls::Error::CertificateKeyMismatch);
}
