//! Interop with a real peer: OpenSSL 3 `s_server -dtls1_2` and `s_client -dtls1_2` on
//! 127.0.0.1, every cipher suite and SRTP profile both support, both directions. The
//! handshake must complete, the exported keying material OpenSSL prints must equal ours byte
//! for byte, and a line of application data must pass each way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use rtcwire_dtls::{
    Certificate, CipherSuite, Config, Connection, Event, Fingerprint, FingerprintAlgorithm,
    NamedGroup, SystemRng,
};
mod common;
use common::PollOut;
use rtcwire_proto::{Datagram, SansIo, SrtpProfile};
use rtcwire_sim::peer::{self, ChildGuard};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PROFILES: [SrtpProfile; 4] = [
    SrtpProfile::Aes128CmHmacSha1_80,
    SrtpProfile::Aes128CmHmacSha1_32,
    SrtpProfile::AeadAes128Gcm,
    SrtpProfile::AeadAes256Gcm,
];

fn openssl_cipher(s: CipherSuite) -> &'static str {
    match s {
        CipherSuite::EcdheEcdsaAes128GcmSha256 => "ECDHE-ECDSA-AES128-GCM-SHA256",
        CipherSuite::EcdheEcdsaAes256GcmSha384 => "ECDHE-ECDSA-AES256-GCM-SHA384",
        CipherSuite::EcdheEcdsaChacha20Poly1305Sha256 => "ECDHE-ECDSA-CHACHA20-POLY1305",
        CipherSuite::EcdheRsaAes128GcmSha256 => "ECDHE-RSA-AES128-GCM-SHA256",
        CipherSuite::EcdheRsaAes256GcmSha384 => "ECDHE-RSA-AES256-GCM-SHA384",
        CipherSuite::EcdheRsaChacha20Poly1305Sha256 => "ECDHE-RSA-CHACHA20-POLY1305",
        _ => unreachable!(),
    }
}

struct PeerIdentity {
    cert: PathBuf,
    key: PathBuf,
    fingerprint: Fingerprint,
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().expect("run openssl");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An OpenSSL-made identity (`rsa`, ECDSA or Ed25519) and its SHA-256 fingerprint.
/// `curve` is an OpenSSL curve name or `ed25519`, or `None` for RSA 2048.
fn openssl_identity(dir: &Path, curve: Option<&str>) -> PeerIdentity {
    let rsa = curve.is_none();
    let tag = curve.unwrap_or("rsa");
    let key = dir.join(format!("{tag}-key.pem"));
    let cert = dir.join(format!("{tag}-cert.pem"));
    let der = dir.join(format!("{tag}-cert.der"));
    if rsa {
        run_ok(
            Command::new("openssl")
                .args(["genrsa", "-out"])
                .arg(&key)
                .arg("2048"),
        );
    } else if tag == "ed25519" {
        run_ok(
            Command::new("openssl")
                .args(["genpkey", "-algorithm", "ed25519", "-out"])
                .arg(&key),
        );
    } else {
        run_ok(
            Command::new("openssl")
                .args(["ecparam", "-name", tag, "-genkey", "-noout", "-out"])
                .arg(&key),
        );
    }
    run_ok(
        Command::new("openssl")
            .args([
                "req", "-new", "-x509", "-days", "1", "-subj", "/CN=t", "-key",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&cert),
    );
    run_ok(
        Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&cert)
            .arg("-out")
            .arg(&der),
    );
    let fingerprint = rtcwire_dtls::cert::fingerprint_of(
        FingerprintAlgorithm::Sha256,
        &std::fs::read(&der).unwrap(),
    )
    .unwrap();
    PeerIdentity {
        cert,
        key,
        fingerprint,
    }
}

fn spawn_lines(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Drives our connection over a real UDP socket until the exchange is done. Returns what
/// OpenSSL printed.
fn drive(
    mut ep: Connection,
    sock: &UdpSocket,
    mut peer_addr: Option<SocketAddr>,
    child: &mut ChildGuard,
    lines: &mpsc::Receiver<String>,
    profile: SrtpProfile,
    suite: CipherSuite,
) {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(15);
    let mut buf = vec![0u8; 2048];
    let mut printed: Vec<String> = Vec::new();
    let mut our_keys: Option<Vec<u8>> = None;
    let mut got_their_line = false;
    let mut sent_lines = false;
    let local = sock.local_addr().unwrap();
    loop {
        assert!(
            Instant::now() < deadline,
            "timed out; openssl printed:\n{}",
            printed.join("\n")
        );
        while let Ok(l) = lines.try_recv() {
            printed.push(l);
        }
        if let Some(to) = peer_addr {
            while let Some(t) = ep.poll_out() {
                sock.send_to(&t.contents, to).unwrap();
            }
        }
        while let Some(e) = ep.poll_event() {
            match e {
                Event::Connected {
                    srtp, cipher_suite, ..
                } => {
                    assert_eq!(cipher_suite, suite);
                    let k = srtp.expect("use_srtp negotiated");
                    assert_eq!(k.profile(), profile);
                    our_keys = Some(k.as_bytes().to_vec());
                }
                Event::ApplicationData(d)
                    if String::from_utf8_lossy(&d).contains("hello from openssl") =>
                {
                    got_their_line = true;
                }
                Event::Error(e) => panic!(
                    "handshake failed: {e}; openssl printed:\n{}",
                    printed.join("\n")
                ),
                Event::Closed => {}
                _ => {}
            }
        }
        if our_keys.is_some() && !sent_lines {
            sent_lines = true;
            ep.write(b"hello from rtcwire\n").unwrap();
            let stdin = child.0.stdin.as_mut().unwrap();
            stdin.write_all(b"hello from openssl\n").unwrap();
            stdin.flush().unwrap();
            continue;
        }
        let their_keys = printed.iter().find_map(|l| {
            l.trim()
                .strip_prefix("Keying material: ")
                .map(str::to_owned)
        });
        let they_got_ours = printed.iter().any(|l| l.contains("hello from rtcwire"));
        if let (Some(ours), Some(theirs), true, true) =
            (&our_keys, &their_keys, got_their_line, they_got_ours)
        {
            assert_eq!(
                hex::encode(ours),
                theirs.to_lowercase(),
                "exported keying material differs"
            );
            assert!(
                printed.iter().any(|l| l.contains(profile.name())),
                "profile line: {printed:?}"
            );
            ep.close();
            if let Some(to) = peer_addr {
                while let Some(t) = ep.poll_out() {
                    sock.send_to(&t.contents, to).unwrap();
                }
            }
            return;
        }
        let wait = ep
            .poll_timeout()
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_millis(20))
            .clamp(Duration::from_millis(1), Duration::from_millis(20));
        sock.set_read_timeout(Some(wait)).unwrap();
        match sock.recv_from(&mut buf) {
            Ok((n, from)) => {
                peer_addr.get_or_insert(from);
                let _ = ep.handle_read(Instant::now(), Datagram::udp(from, local, &buf[..n]));
            }
            Err(_) => {
                let now = Instant::now();
                if ep.poll_timeout().is_some_and(|t| t <= now) {
                    ep.handle_timeout(now);
                }
            }
        }
    }
}

fn config(
    ours: &Certificate,
    peer: &Fingerprint,
    suite: CipherSuite,
    profile: SrtpProfile,
) -> Arc<Config> {
    Arc::new(builder(ours, peer, suite, profile).build().unwrap())
}

fn builder(
    ours: &Certificate,
    peer: &Fingerprint,
    suite: CipherSuite,
    profile: SrtpProfile,
) -> rtcwire_dtls::ConfigBuilder {
    Config::builder(ours.clone())
        .remote_fingerprint(peer.clone())
        .cipher_suites(&[suite])
        .srtp_profiles(&[profile])
        .initial_retransmit_timeout(Duration::from_millis(200))
}

#[test]
fn our_client_against_openssl_s_server_every_suite_and_profile() {
    if !peer::available("openssl") {
        return;
    }
    let dir = peer::scratch_dir("dtls-s_server");
    let ours = Certificate::generate_self_signed().unwrap();
    let ec = openssl_identity(&dir, Some("prime256v1"));
    let rsa = openssl_identity(&dir, None);
    for suite in CipherSuite::ALL {
        let id = if suite.authentication() == rtcwire_dtls::Authentication::Rsa {
            &rsa
        } else {
            &ec
        };
        for profile in PROFILES {
            // Bind ours first so the port picked for OpenSSL cannot be the one we get.
            let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
            let port = peer::free_udp_port();
            let child = Command::new("openssl")
                .args([
                    "s_server",
                    "-dtls1_2",
                    "-accept",
                    &format!("127.0.0.1:{port}"),
                    "-cert",
                ])
                .arg(&id.cert)
                .arg("-key")
                .arg(&id.key)
                .args([
                    "-verify",
                    "1",
                    "-use_srtp",
                    profile.name(),
                    "-keymatexport",
                    "EXTRACTOR-dtls_srtp",
                ])
                .args([
                    "-keymatexportlen",
                    &profile.keying_material_len().to_string(),
                    "-cipher",
                    openssl_cipher(*suite),
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn openssl s_server");
            let mut child = ChildGuard(child);
            let lines = spawn_lines(&mut child.0);
            let ep = Connection::client(
                config(&ours, &id.fingerprint, *suite, profile),
                Box::new(SystemRng::new()),
                Instant::now(),
            );
            let to: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
            drive(ep, &sock, Some(to), &mut child, &lines, profile, *suite);
        }
    }
}

/// Runs `openssl s_client -dtls1_2` with the identity `client` against our server.
fn s_client_against_our_server(
    ours: &Certificate,
    client: &PeerIdentity,
    suite: CipherSuite,
    profile: SrtpProfile,
) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let child = Command::new("openssl")
        .args([
            "s_client",
            "-dtls1_2",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-cert",
        ])
        .arg(&client.cert)
        .arg("-key")
        .arg(&client.key)
        .args([
            "-use_srtp",
            profile.name(),
            "-keymatexport",
            "EXTRACTOR-dtls_srtp",
        ])
        .args([
            "-keymatexportlen",
            &profile.keying_material_len().to_string(),
            "-cipher",
            openssl_cipher(suite),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn openssl s_client");
    let mut child = ChildGuard(child);
    let lines = spawn_lines(&mut child.0);
    let ep = Connection::server(
        config(ours, &client.fingerprint, suite, profile),
        Box::new(SystemRng::new()),
    );
    drive(ep, &sock, None, &mut child, &lines, profile, suite);
}

#[test]
fn openssl_s_client_against_our_server_every_suite_and_profile() {
    if !peer::available("openssl") {
        return;
    }
    let dir = peer::scratch_dir("dtls-s_client");
    let ours = Certificate::generate_self_signed().unwrap();
    let ec = openssl_identity(&dir, Some("prime256v1"));
    for suite in CipherSuite::ALL
        .iter()
        .filter(|s| s.authentication() == rtcwire_dtls::Authentication::Ecdsa)
    {
        for profile in PROFILES {
            s_client_against_our_server(&ours, &ec, *suite, profile);
        }
    }
}

/// A client with an RSA certificate (our server's own certificate is ECDSA, so the suite is
/// ECDHE_ECDSA): our server verifies the client's RSA CertificateVerify and its fingerprint.
#[test]
fn openssl_s_client_with_an_rsa_certificate_against_our_server() {
    if !peer::available("openssl") {
        return;
    }
    let dir = peer::scratch_dir("dtls-s_client-rsa");
    let ours = Certificate::generate_self_signed().unwrap();
    let rsa = openssl_identity(&dir, None);
    for profile in [SrtpProfile::Aes128CmHmacSha1_80, SrtpProfile::AeadAes128Gcm] {
        s_client_against_our_server(&ours, &rsa, CipherSuite::EcdheEcdsaAes128GcmSha256, profile);
    }
}

/// Each of our key-exchange groups in turn (X25519, P-256, P-384), forced by OpenSSL's
/// `-groups`, and an ECDSA P-384 server certificate (P-384 signature verification). Our client also offers P-256: in TLS 1.2 the supported groups also name the
/// curves acceptable for the server's ECDSA certificate (RFC 8422 §5.1.1), and OpenSSL
/// refuses a P-256 certificate to a client that does not list P-256.
#[test]
fn our_client_against_openssl_with_each_group_and_a_p384_certificate() {
    if !peer::available("openssl") {
        return;
    }
    let dir = peer::scratch_dir("dtls-groups");
    let ours = Certificate::generate_self_signed().unwrap();
    let p256 = openssl_identity(&dir, Some("prime256v1"));
    let p384 = openssl_identity(&dir, Some("secp384r1"));
    let suite = CipherSuite::EcdheEcdsaAes256GcmSha384;
    let profile = SrtpProfile::AeadAes256Gcm;
    for (id, group, name) in [
        (&p256, NamedGroup::Secp384r1, "P-384"),
        (&p384, NamedGroup::Secp384r1, "P-384"),
        (&p256, NamedGroup::Secp256r1, "P-256"),
        (&p256, NamedGroup::X25519, "X25519"),
    ] {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = peer::free_udp_port();
        let child = Command::new("openssl")
            .args([
                "s_server",
                "-dtls1_2",
                "-accept",
                &format!("127.0.0.1:{port}"),
                "-cert",
            ])
            .arg(&id.cert)
            .arg("-key")
            .arg(&id.key)
            .args(["-groups", name, "-use_srtp", profile.name()])
            .args(["-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen"])
            .arg(profile.keying_material_len().to_string())
            .args(["-cipher", openssl_cipher(suite)])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn openssl s_server");
        let mut child = ChildGuard(child);
        let lines = spawn_lines(&mut child.0);
        let cfg = builder(&ours, &id.fingerprint, suite, profile)
            .groups(&[group, NamedGroup::Secp256r1])
            .build()
            .unwrap();
        let ep = Connection::client(Arc::new(cfg), Box::new(SystemRng::new()), Instant::now());
        let to: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        drive(ep, &sock, Some(to), &mut child, &lines, profile, suite);
    }
}

/// Our client verifies both RSA signature forms a TLS 1.2 server may use on its
/// ServerKeyExchange, each forced with OpenSSL's `-sigalgs`.
#[test]
fn our_client_verifies_rsa_pkcs1_and_pss_server_signatures() {
    if !peer::available("openssl") {
        return;
    }
    let dir = peer::scratch_dir("dtls-rsa-sigalgs");
    let ours = Certificate::generate_self_signed().unwrap();
    let rsa = openssl_identity(&dir, None);
    let suite = CipherSuite::EcdheRsaAes128GcmSha256;
    let profile = SrtpProfile::Aes128CmHmacSha1_80;
    for sigalgs in ["RSA+SHA256", "rsa_pss_rsae_sha256", "RSA+SHA384"] {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = peer::free_udp_port();
        let child = Command::new("openssl")
            .args([
                "s_server",
                "-dtls1_2",
                "-accept",
                &format!("127.0.0.1:{port}"),
                "-cert",
            ])
            .arg(&rsa.cert)
            .arg("-key")
            .arg(&rsa.key)
            .args(["-sigalgs", sigalgs, "-use_srtp", profile.name()])
            .args(["-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen"])
            .arg(profile.keying_material_len().to_string())
            .args(["-cipher", openssl_cipher(suite)])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn openssl s_server");
        let mut child = ChildGuard(child);
        let lines = spawn_lines(&mut child.0);
        let ep = Connection::client(
            config(&ours, &rsa.fingerprint, suite, profile),
            Box::new(SystemRng::new()),
            Instant::now(),
        );
        let to: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        drive(ep, &sock, Some(to), &mut child, &lines, profile, suite);
    }
}

/// Ed25519 in DTLS 1.2 (RFC 8422, ECDHE_ECDSA suites) against OpenSSL's client: our server
/// signs its ServerKeyExchange with its Ed25519 key and s_client verifies it; s_client with
/// an Ed25519 certificate signs its CertificateVerify and our server verifies it. (OpenSSL
/// 3.0 as a DTLS 1.2 server finds "no shared cipher" for its own Ed25519 certificate, even
/// against its own s_client, so our Ed25519 client is checked against our server only.)
#[test]
fn ed25519_certificates_against_openssl_s_client_both_ways() {
    if !peer::available("openssl") {
        return;
    }
    let dir = peer::scratch_dir("dtls-ed25519");
    let ours = Certificate::generate_self_signed_ed25519().unwrap();
    let ec = openssl_identity(&dir, Some("prime256v1"));
    let ed = openssl_identity(&dir, Some("ed25519"));
    let suite = CipherSuite::EcdheEcdsaAes128GcmSha256;
    let profile = SrtpProfile::AeadAes128Gcm;
    s_client_against_our_server(&ours, &ec, suite, profile);
    let ecdsa_ours = Certificate::generate_self_signed().unwrap();
    s_client_against_our_server(&ecdsa_ours, &ed, suite, profile);
}
