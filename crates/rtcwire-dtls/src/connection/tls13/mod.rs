//! The DTLS 1.3 handshake and connection (RFC 9147 over RFC 8446), for both roles, behind
//! the same [`Connection`](super::Connection): it takes over from the DTLS 1.2 machinery
//! once the hellos show that both sides speak 1.3 (a server on a ClientHello offering 1.3,
//! a client on a ServerHello selecting it). Flights, the retransmission timer, the
//! reassembler, the output queue, events and stats are the connection's [`Core`]; the record
//! layer, the key schedule and the transcript are this engine's.

mod client;
mod engine;
mod handshake;
mod server;

pub(crate) use client::{client_on_hrr, client_on_server_hello, is_hrr};
pub(crate) use server::server_accept;

use super::Core;
use crate::cert::{subject_public_key, Fingerprint, PublicKeyKind};
use crate::crypto::kx::NamedGroup;
use crate::crypto::prf::PrfHash;
use crate::crypto::suite::CipherSuite;
use crate::handshake::{ClientHello, ServerHello, UseSrtp};
use crate::v13::keys::Secret;
use crate::v13::kx::Share13;
use crate::v13::messages::{self as m13, Msg13};
use crate::v13::record::RecordLayer13;
use crate::Error;
use rtcwire_proto::{DtlsRole, SrtpProfile};
use std::time::Instant;

/// Signature schemes we verify in DTLS 1.3 CertificateVerify, as offered.
pub(crate) const SCHEMES13: [u16; 5] = [0x0403, 0x0503, 0x0804, 0x0805, 0x0807];
/// Handshake record numbers of the peer's flight remembered for our ACK.
const MAX_PEER_RECORDS: usize = 32;
/// Retransmissions of a flight sent once connected before it is given up on.
const MAX_CONNECTED_RETRIES: u32 = 8;
/// Records of our flight remembered for matching ACKs, over all its transmissions.
const MAX_SENT_LOG: usize = 256;
/// Key updates a connection accepts from its peer (the epoch is 16 bits on our side).
const MAX_EPOCH: u16 = 0xfff0;

/// What a client offering DTLS 1.3 keeps until the ServerHello.
#[derive(Debug)]
pub(crate) struct Offer13 {
    pub(crate) shares: Vec<Share13>,
    /// After a HelloRetryRequest: the transcript so far (message_hash of the first hello,
    /// then the HelloRetryRequest) and the suite it chose.
    hrr: Option<(Vec<u8>, CipherSuite)>,
    /// The HelloRetryRequest's body (a repeated one is ignored).
    hrr_body: Vec<u8>,
}

impl Offer13 {
    /// Our key shares: the first configured group, and X25519 beside the hybrid (as
    /// Chromium does), so that a server without ML-KEM needs no HelloRetryRequest; that
    /// X25519 share is the hybrid's X25519 key (see [`Share13::x25519_of`]).
    pub(crate) fn new(core: &mut Core) -> Result<Offer13, Error> {
        let groups = core.config.dtls13_groups.clone();
        let mut want: Vec<NamedGroup> = groups.iter().copied().take(1).collect();
        if want.first() == Some(&NamedGroup::X25519MlKem768) && groups.contains(&NamedGroup::X25519)
        {
            want.push(NamedGroup::X25519);
        }
        let mut shares: Vec<Share13> = Vec::new();
        for g in want {
            // X25519 beside the hybrid: the hybrid's X25519 key again.
            if let Some(x) = shares.first().and_then(Share13::x25519_of) {
                if g == NamedGroup::X25519 {
                    shares.push(x);
                    continue;
                }
            }
            let mut seed = [0u8; 64];
            core.random(&mut seed)?;
            shares.push(Share13::generate(g, &mut core.key_random(), seed)?);
        }
        Ok(Offer13 {
            shares,
            hrr: None,
            hrr_body: Vec::new(),
        })
    }

    /// Adds the 1.3 offer to a 1.2 ClientHello: suites, versions, groups, key shares.
    pub(crate) fn extend(&self, core: &Core, ch: &mut ClientHello) {
        let cfg = &core.config;
        let mut suites: Vec<u16> = cfg.dtls13_cipher_suites.iter().map(|s| s.id()).collect();
        suites.extend_from_slice(&ch.cipher_suites);
        ch.cipher_suites = suites;
        let mut groups: Vec<u16> = cfg.dtls13_groups.iter().map(|g| g.id()).collect();
        for g in ch.extensions.supported_groups.take().unwrap_or_default() {
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        ch.extensions.supported_groups = Some(groups);
        let mut sigs = ch
            .extensions
            .signature_algorithms
            .take()
            .unwrap_or_default();
        for s in SCHEMES13 {
            if !sigs.contains(&s) {
                sigs.push(s);
            }
        }
        ch.extensions.signature_algorithms = Some(sigs);
        m13::set_ext(
            &mut ch.extensions,
            m13::SUPPORTED_VERSIONS,
            m13::client_versions_body(&[m13::DTLS13, m13::DTLS12]),
        );
        let shares: Vec<(u16, &[u8])> = self
            .shares
            .iter()
            .map(|s| (s.group().id(), s.public()))
            .collect();
        m13::set_ext(
            &mut ch.extensions,
            m13::KEY_SHARE,
            m13::client_shares_body(&shares),
        );
    }
}

/// Whether a ClientHello offers DTLS 1.3.
pub(crate) fn offers_13(ch: &ClientHello) -> bool {
    m13::client_versions(&ch.extensions).is_some_and(|v| v.contains(&m13::DTLS13))
}

/// Whether a ServerHello selects DTLS 1.3.
pub(crate) fn selects_13(sh: &ServerHello) -> bool {
    m13::server_version(&sh.extensions) == Some(m13::DTLS13)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hs {
    ClientWaitEe,
    ClientWaitCertOrCr,
    ClientWaitCert,
    ClientWaitCv,
    ClientWaitFinished,
    ServerWaitCert,
    ServerWaitCv,
    ServerWaitFinished,
    Connected,
}

/// The DTLS 1.3 side of a connection.
pub(crate) struct Engine {
    role: DtlsRole,
    suite: CipherSuite,
    hash: PrfHash,
    records: RecordLayer13,
    /// The running transcript hash (RFC 8446 §4.4.1).
    transcript: ring::digest::Context,
    hs: Hs,
    c_hs: Secret,
    s_hs: Secret,
    /// The master secret until the application secrets are derived from it.
    master: Option<Secret>,
    c_ap: Option<Secret>,
    s_ap: Option<Secret>,
    exporter: Option<Secret>,
    srtp: Option<SrtpProfile>,
    peer_cert: Vec<u8>,
    peer_fingerprint: Option<Fingerprint>,
    /// The CertificateRequest's context, once a server asked for our certificate.
    cert_context: Option<Vec<u8>>,
    /// Handshake record numbers of the peer's flight in protected epochs (for our ACK).
    peer_records: Vec<(u64, u64)>,
    /// The epoch application data goes out in (3, then one more per KeyUpdate).
    write_epoch: u16,
    /// The newest epoch we read application data in.
    read_epoch: u16,
    /// A KeyUpdate of ours waiting for its ACK: the record numbers it went out in.
    key_update_sent: Option<Vec<(u64, u64)>>,
    last_ack: Option<Instant>,
    group: NamedGroup,
    /// message_seq of each message of the flight `acked` and `sent_log` describe.
    flight_ids: Vec<u16>,
    /// Per message of our flight, the byte ranges the peer acknowledged (RFC 9147 §7).
    acked: Vec<Vec<(usize, usize)>>,
    /// The fragments of our flight's first transmission (what a retransmission picks from).
    first_pieces: Vec<crate::flight::Piece>,
    /// Record number and fragment of every record of our flight sent so far (bounded).
    sent_log: Vec<((u64, u64), crate::flight::Piece)>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dtls13")
            .field("role", &self.role)
            .field("suite", &self.suite)
            .field("group", &self.group)
            .field("state", &self.hs)
            .finish_non_exhaustive()
    }
}

fn unexpected(expected: &'static str, got: &Msg13) -> Error {
    Error::UnexpectedMessage {
        expected,
        got: got.name(),
    }
}

fn choose_srtp(core: &Core, offered: Option<&UseSrtp>) -> Option<SrtpProfile> {
    let offered = offered?;
    core.config
        .srtp_profiles
        .iter()
        .copied()
        .find(|p| p.dtls_id().is_some_and(|id| offered.profiles.contains(&id)))
}

fn check_fingerprint(core: &Core, leaf: &[u8]) -> Result<(), Error> {
    let fps = &core.config.remote_fingerprints;
    if fps.is_empty() {
        return Err(Error::NoRemoteFingerprint);
    }
    if !fps
        .iter()
        .any(|fp| crate::cert::fingerprint_matches(fp, leaf))
    {
        return Err(Error::FingerprintMismatch);
    }
    Ok(())
}

/// The content a CertificateVerify signs (RFC 8446 §4.4.3).
fn signed_content(server: bool, transcript_hash: &[u8]) -> Vec<u8> {
    let mut v = vec![0x20u8; 64];
    v.extend_from_slice(if server {
        b"TLS 1.3, server CertificateVerify"
    } else {
        b"TLS 1.3, client CertificateVerify"
    });
    v.push(0);
    v.extend_from_slice(transcript_hash);
    v
}

/// Verifies a TLS 1.3 CertificateVerify signature: ECDSA bound to its curve, RSA-PSS,
/// Ed25519.
fn verify13(cert: &[u8], scheme: u16, msg: &[u8], sig: &[u8]) -> Result<(), Error> {
    use ring::signature as s;
    let spk = subject_public_key(cert).ok_or(Error::BadCertificate("no public key found"))?;
    let alg: &dyn s::VerificationAlgorithm = match (scheme, spk.kind) {
        (0x0403, PublicKeyKind::EcdsaP256) => &s::ECDSA_P256_SHA256_ASN1,
        (0x0503, PublicKeyKind::EcdsaP384) => &s::ECDSA_P384_SHA384_ASN1,
        (0x0804, PublicKeyKind::Rsa) => &s::RSA_PSS_2048_8192_SHA256,
        (0x0805, PublicKeyKind::Rsa) => &s::RSA_PSS_2048_8192_SHA384,
        (0x0807, PublicKeyKind::Ed25519) => &s::ED25519,
        _ => return Err(Error::NoCommonSignatureScheme),
    };
    s::UnparsedPublicKey::new(alg, spk.key)
        .verify(msg, sig)
        .map_err(|_| Error::BadSignature)
}

/// The transcript's stand-in for the first ClientHello after a HelloRetryRequest (RFC 8446
/// §4.4.1): message_hash, then the hash of that hello.
fn message_hash(hash: &[u8], out: &mut Vec<u8>) {
    m13::transcript_form(m13::MESSAGE_HASH, hash, out);
}

/// Wiped on drop.
struct SharedSecret(Vec<u8>);

impl Drop for SharedSecret {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(|b| *b = 0);
    }
}

fn keys_secret(v: Vec<u8>) -> SharedSecret {
    SharedSecret(v)
}

/// What [`Engine::read_in_place`] did.
pub(crate) enum InPlace {
    /// Not a datagram of one protected record: take the ordinary path.
    NotSingle,
    /// Dropped and counted.
    Refused,
    /// Application data, at this range of the datagram.
    Data(std::ops::Range<usize>),
    /// Something else, handled (or a failure to report).
    Handled(Result<(), Error>),
}

/// What a server did with a 1.3 ClientHello.
pub(crate) enum Accepted {
    /// Answered with its flight: the connection is DTLS 1.3 from here.
    Engine(Box<Engine>),
    /// Sent a stateless HelloRetryRequest and forgot the hello.
    Retried,
}

#[cfg(test)]
mod tests {
    //! The RFC 9147 §9 id messages, sent from inside (we never send them on our own).
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::disallowed_methods
    )]

    use super::super::{Connection, State};
    use crate::v13::messages::Msg13;
    use crate::{Certificate, Config};
    use rtcwire_proto::{Datagram, SansIo, SeededRng};
    use std::sync::Arc;
    use std::time::Instant;

    /// Moves everything queued between the two until both are idle; returns the datagrams
    /// that went from `a` to `b` in the last round that had any.
    fn pump(a: &mut Connection, b: &mut Connection, now: Instant) -> Vec<Vec<u8>> {
        let mut last = Vec::new();
        for _ in 0..32 {
            let mut moved = false;
            let mut from_a = Vec::new();
            let mut buf = Vec::new();
            while a.poll_transmit(now, &mut buf).is_some() {
                let _ = b.handle_read(now, Datagram::on_path(&buf));
                from_a.push(std::mem::take(&mut buf));
                moved = true;
            }
            if !from_a.is_empty() {
                last = from_a;
            }
            while b.poll_transmit(now, &mut buf).is_some() {
                let _ = a.handle_read(now, Datagram::on_path(&buf));
                buf.clear();
                moved = true;
            }
            if !moved {
                break;
            }
        }
        last
    }

    fn connected() -> (Connection, Connection, Instant) {
        let (c, s) = (
            Certificate::generate_self_signed().unwrap(),
            Certificate::generate_self_signed().unwrap(),
        );
        let cfg = |me: &Certificate, peer: &Certificate, id: u8| {
            Arc::new(
                Config::builder(me.clone())
                    .remote_fingerprint(peer.fingerprint())
                    .connection_id(Some(vec![id; 4]))
                    .build()
                    .unwrap(),
            )
        };
        let now = rtcwire_sim::Sim::new(0).now();
        let mut client = Connection::client(cfg(&c, &s, 1), Box::new(SeededRng::new(1)), now);
        let mut server = Connection::server(cfg(&s, &c, 2), Box::new(SeededRng::new(2)));
        pump(&mut client, &mut server, now);
        assert!(client.is_connected() && server.is_connected());
        assert_eq!(client.protocol_version(), Some(0xfefc));
        (client, server, now)
    }

    /// Has `conn` send `msg` as a post-handshake message.
    fn send(conn: &mut Connection, msg: &Msg13) {
        let State::V13(e) = &mut conn.state else {
            panic!("1.3")
        };
        conn.core.flight.clear();
        let epoch = e.write_epoch;
        e.push_untracked(&mut conn.core, epoch, msg);
        e.transmit(&mut conn.core).unwrap();
    }

    #[test]
    fn new_connection_id_immediate_switches_the_id_we_write_and_is_acked() {
        let (mut client, mut server, now) = connected();
        let before = server.stats();
        send(
            &mut server,
            &Msg13::NewConnectionId {
                cids: vec![vec![9; 4], vec![8; 4]],
                immediate: true,
            },
        );
        // Server → client, then what the client answers, by hand.
        let mut buf = Vec::new();
        while server.poll_transmit(now, &mut buf).is_some() {
            let _ = client.handle_read(now, Datagram::on_path(&buf));
            buf.clear();
        }
        let mut acks = Vec::new();
        while client.poll_transmit(now, &mut buf).is_some() {
            let _ = server.handle_read(now, Datagram::on_path(&buf));
            acks.push(std::mem::take(&mut buf));
        }
        assert_eq!(client.connection_ids().unwrap().remote, vec![9; 4]);
        // The client answered with one record, the ACK, already under the new id ("used
        // immediately for all future records"). Our server never issued that id (the message
        // was forged from inside), so it drops the ACK as a wrong id: a real issuer reads it.
        assert_eq!(acks.len(), 1);
        assert_eq!(&acks[0][1..5], &[9; 4]);
        let after = server.stats();
        assert_eq!(after.bad_records, before.bad_records);
        assert_eq!(after.wrong_cid_records, 1);
        client.write(b"new id").unwrap();
        let mut d = Vec::new();
        client.poll_transmit(now, &mut d).unwrap();
        assert_eq!(&d[1..5], &[9; 4]);
        // A spare id changes nothing.
        send(
            &mut server,
            &Msg13::NewConnectionId {
                cids: vec![vec![7; 4]],
                immediate: false,
            },
        );
        pump(&mut server, &mut client, now);
        assert_eq!(client.connection_ids().unwrap().remote, vec![9; 4]);
    }

    #[test]
    fn request_connection_id_is_acknowledged_only() {
        let (mut client, mut server, now) = connected();
        send(&mut client, &Msg13::RequestConnectionId { num: 2 });
        let mut buf = Vec::new();
        while client.poll_transmit(now, &mut buf).is_some() {
            let _ = server.handle_read(now, Datagram::on_path(&buf));
            buf.clear();
        }
        let mut answers = 0;
        while server.poll_transmit(now, &mut buf).is_some() {
            client.handle_read(now, Datagram::on_path(&buf)).unwrap();
            buf.clear();
            answers += 1;
        }
        assert_eq!(answers, 1, "the server's ACK, and no NewConnectionId");
        assert_eq!(server.connection_ids().unwrap().local, vec![2; 4]);
        assert_eq!(client.stats().bad_records, 0);
        assert!(client.is_connected() && server.is_connected());
    }
}
