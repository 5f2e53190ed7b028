//! Shared by the DTLS bench targets: identities and a connected pair of connections.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use rtcwire_dtls::{
    Certificate, CipherSuite, Config, Connection, Datagram, NamedGroup, SansIo, SystemRng,
};
use std::sync::Arc;
use std::time::Instant;

/// Client and server configs (DTLS 1.2, ECDSA P-256, ECDHE P-256, AES-128-GCM) that trust
/// each other.
#[must_use]
pub fn configs() -> (Arc<Config>, Arc<Config>) {
    let a = Certificate::generate_self_signed().unwrap();
    let b = Certificate::generate_self_signed().unwrap();
    let mk = |me: &Certificate, peer: &Certificate| {
        Arc::new(
            Config::builder(me.clone())
                .remote_fingerprint(peer.fingerprint())
                .cipher_suites(&[CipherSuite::EcdheEcdsaAes128GcmSha256])
                .groups(&[NamedGroup::Secp256r1])
                .dtls13(false)
                .build()
                .unwrap(),
        )
    };
    (mk(&a, &b), mk(&b, &a))
}

/// DTLS 1.3 configs (TLS_AES_128_GCM_SHA256, key shares of `group` only, no cookie round
/// trip) that trust each other; also returns both certificates (for a dimpl peer).
#[must_use]
pub fn configs13(group: NamedGroup) -> (Arc<Config>, Arc<Config>, Certificate, Certificate) {
    let a = Certificate::generate_self_signed().unwrap();
    let b = Certificate::generate_self_signed().unwrap();
    let mk = |me: &Certificate, peer: &Certificate| {
        Arc::new(
            Config::builder(me.clone())
                .remote_fingerprint(peer.fingerprint())
                .dtls13(true)
                .dtls13_cipher_suites(&[CipherSuite::Tls13Aes128GcmSha256])
                .dtls13_groups(&[group])
                .hello_verify(false)
                .build()
                .unwrap(),
        )
    };
    (mk(&a, &b), mk(&b, &a), a, b)
}

/// Two connections that have completed a handshake in memory, for the application-data path.
#[must_use]
pub fn connected_pair(
    client_cfg: &Arc<Config>,
    server_cfg: &Arc<Config>,
) -> (Connection, Connection) {
    let now = Instant::now();
    let mut c = Connection::client(client_cfg.clone(), Box::new(SystemRng::new()), now);
    let mut s = Connection::server(server_cfg.clone(), Box::new(SystemRng::new()));
    let addr = "127.0.0.1:1".parse().unwrap();
    let mut buf = Vec::with_capacity(1500);
    for _ in 0..16 {
        let mut moved = false;
        while let Some(t) = c.poll_transmit(now, &mut buf) {
            moved = true;
            let _ = s.handle_read(now, Datagram::udp(addr, addr, &buf[..t.size]));
            buf.clear();
        }
        while let Some(t) = s.poll_transmit(now, &mut buf) {
            moved = true;
            let _ = c.handle_read(now, Datagram::udp(addr, addr, &buf[..t.size]));
            buf.clear();
        }
        if !moved {
            break;
        }
    }
    while c.poll_event().is_some() {}
    while s.poll_event().is_some() {}
    assert!(c.is_connected() && s.is_connected());
    (c, s)
}
