//! TURN over TCP and over TLS through a real coturn started by the test on 127.0.0.1
//! (`turn:…?transport=tcp`, `turns:…`). The answerer is relay-only, so every byte of the
//! session goes through its allocation, reached over the TCP or TLS stream; the TLS
//! server's certificate comes from a CA the test makes with rcgen and trusts alone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{loopback, relayed_session, within};
use rtcwire_sim::peer;
use rtcwire_tokio::{PeerConnection, TurnUrl};

#[tokio::test]
async fn a_relay_only_answerer_connects_through_coturn_over_tcp() {
    let Some(turn) = peer::Turnserver::start("tokio-tcp", "u", "p", "example.org", &["--verbose"])
    else {
        return; // skipped (or failed under RTCWIRE_REQUIRE_PEERS=1) by the helper
    };
    let url = format!("turn:127.0.0.1:{}?transport=tcp", turn.addr.port());
    // No ICE-TCP candidates: the only TCP stream is the one to coturn.
    let config = loopback()
        .ice_tcp(false)
        .turn_url(TurnUrl::parse(&url, "u", "p").unwrap());
    let tcp = relayed_session(config, 30_000).await;
    // Our one stream went to coturn's TCP port and carried the whole session.
    assert_eq!(tcp.connected, 1);
    assert_eq!(tcp.accepted, 0);
    assert!(tcp.frames_in > 10 && tcp.frames_out > 10, "{tcp:?}");
    assert_eq!(tcp.unframeable + tcp.write_drops + tcp.connect_failures, 0);
    // coturn took a stream client on its TCP port and allocated for it; at our close the
    // allocation was released over the stream (coturn writes its log as it goes).
    let path = turn.dir.join("turnserver.log");
    let log = within("coturn logs the deallocation", async {
        loop {
            let log = std::fs::read_to_string(&path).unwrap();
            if log.contains("delete: realm=<example.org>") {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        log.contains("tcp or tls connected to: 127.0.0.1:")
            && log.contains("ALLOCATE processed, success"),
        "coturn log shows no TCP client:\n{log}"
    );
    assert!(
        log.contains("refreshed, realm=<example.org>, username=<u>, lifetime=0"),
        "no deallocation in coturn's log:\n{log}"
    );
}

// Waits (bounded) for a real process to listen: wall-clock time is what it takes.
#[allow(clippy::disallowed_methods)]
/// coturn with a TLS listener: its certificate and key written from rcgen (signed by a
/// CA made here); returns the guard, the TLS address, the scratch dir and the CA's DER.
fn coturn_tls() -> Option<(
    peer::ChildGuard,
    std::net::SocketAddr,
    std::path::PathBuf,
    Vec<u8>,
)> {
    if !peer::available("turnserver") {
        assert!(
            !peer::required(),
            "real peer `turnserver` is missing but RTCWIRE_REQUIRE_PEERS=1: run `cargo xtask setup`"
        );
        return None;
    }
    let dir = peer::scratch_dir("coturn-tls");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "rtcwire test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();

    let port = peer::free_udp_port();
    let tls_port = loop {
        let p = peer::free_udp_port();
        if p != port {
            break p;
        }
    };
    let min = 61000 + (tls_port % 44) * 100;
    let log = std::fs::File::create(dir.join("turnserver.log")).unwrap();
    let child = Command::new("turnserver")
        .args([
            "-n".to_owned(),
            "--listening-ip=127.0.0.1".to_owned(),
            format!("--listening-port={port}"),
            format!("--tls-listening-port={tls_port}"),
            format!("--cert={}", dir.join("cert.pem").display()),
            format!("--pkey={}", dir.join("key.pem").display()),
            "--relay-ip=127.0.0.1".to_owned(),
            format!("--min-port={min}"),
            format!("--max-port={}", min + 99),
            "--user=u:p".to_owned(),
            "--realm=example.org".to_owned(),
            "--lt-cred-mech".to_owned(),
            "--fingerprint".to_owned(),
            "--no-dtls".to_owned(),
            "--no-cli".to_owned(),
            "--verbose".to_owned(),
            "--allow-loopback-peers".to_owned(),
            "--allowed-peer-ip=127.0.0.1".to_owned(),
            "--log-file=stdout".to_owned(),
            format!("--pidfile={}", dir.join("turnserver.pid").display()),
            format!("--userdb={}", dir.join("turndb").display()),
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start turnserver");
    let guard = peer::ChildGuard(child);
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], tls_port));
    // Listening once a TCP connect to the TLS port goes through (bounded: 10 s).
    for _ in 0..100 {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return Some((guard, addr, dir, ca.der().to_vec()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("coturn's TLS port did not open (log in {})", dir.display());
}

#[tokio::test]
async fn a_relay_only_answerer_connects_through_coturn_over_tls() {
    let Some((_guard, addr, dir, ca)) = coturn_tls() else {
        return;
    };
    let url = format!("turns:127.0.0.1:{}", addr.port());
    let config = loopback()
        .ice_tcp(false)
        .tls_root(ca)
        .turn_url(TurnUrl::parse(&url, "u", "p").unwrap());
    let tcp = relayed_session(config, 30_000).await;
    assert_eq!(tcp.connected, 1);
    assert!(tcp.frames_in > 10 && tcp.frames_out > 10, "{tcp:?}");
    assert_eq!(tcp.unframeable + tcp.write_drops + tcp.connect_failures, 0);
    let log = std::fs::read_to_string(dir.join("turnserver.log")).unwrap();
    // coturn's session on its TLS port: the negotiated cipher and TLS version, the
    // allocation made through it.
    assert!(
        log.contains("method=TLSv1") && log.contains("ALLOCATE processed, success"),
        "coturn log shows no TLS client:\n{log}"
    );
}

#[tokio::test]
async fn a_turns_server_with_an_untrusted_certificate_is_not_used() {
    let Some((_guard, addr, dir, _ca)) = coturn_tls() else {
        return;
    };
    // No root trusted: the handshake fails, the allocation with it; gathering still ends.
    let url = format!("turns:127.0.0.1:{}", addr.port());
    let mut config = loopback()
        .ice_tcp(false)
        .turn_url(TurnUrl::parse(&url, "u", "p").unwrap());
    config.session.ice.relay_only = true;
    let (b, _eb) = PeerConnection::new(config).await.unwrap();
    let tcp = within("the stream refused", async {
        loop {
            let t = b.tcp_stats().await.unwrap();
            if t.closed >= 1 {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    // The certificate was refused: nothing of the server's reached the session.
    assert_eq!(
        (tcp.connected, tcp.frames_in, tcp.unframeable),
        (1, 0, 1),
        "{tcp:?}"
    );
    let offer = b.create_offer().await.unwrap();
    assert!(!offer.sdp.contains("typ relay"), "{}", offer.sdp);
    b.close().await.unwrap();
    let log = std::fs::read_to_string(dir.join("turnserver.log")).unwrap();
    assert!(!log.contains("ALLOCATE processed"), "{log}");
}
