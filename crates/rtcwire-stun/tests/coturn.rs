//! Real peer: coturn's `turnserver` on 127.0.0.1.
//!
//! - a Binding request built by this crate gets our own address back in XOR-MAPPED-ADDRESS;
//! - an authenticated TURN Allocate (401 → REALM/NONCE → MD5 long-term key → success with
//!   XOR-RELAYED-ADDRESS), then CreatePermission with Send/Data indications, and ChannelBind
//!   with ChannelData, both ways through the relay,
//!   over UDP and over TCP (where ChannelData is padded and the stream is split by
//!   [`TcpFramer`]).
//!
//! Set `RTCWIRE_STUN_DUMP_SEEDS=<dir>` to save every message exchanged (fuzz seeds).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use rtcwire_proto::{PacketKind, SeededRng};
use rtcwire_sim::peer;
use rtcwire_stun::{
    AttrType, Attribute, ChannelData, Class, ErrorCode, Framing, IntegrityKey, Message,
    MessageBuilder, MessageType, Method, TcpFramer, TransactionId, Transport,
};

const USER: &str = "u";
const PASS: &str = "p";
const REALM: &str = "example.org";
const UDP: u8 = 17;

fn dump(tag: &str, bytes: &[u8]) {
    if let Ok(dir) = std::env::var("RTCWIRE_STUN_DUMP_SEEDS") {
        let dir = std::path::Path::new(&dir).join(tag);
        std::fs::create_dir_all(&dir).unwrap();
        let n = std::fs::read_dir(&dir).unwrap().count();
        std::fs::write(dir.join(format!("{n:03}")), bytes).unwrap();
    }
}

/// Starts turnserver on a free port; `None` if it is not installed (skips locally).
fn start_turnserver(tag: &str) -> Option<peer::Turnserver> {
    peer::Turnserver::start(&format!("stun-{tag}"), USER, PASS, REALM, &[])
}

fn binding_request(tid: TransactionId) -> Vec<u8> {
    let mut out = Vec::new();
    let mut b = MessageBuilder::new(&mut out, MessageType::BINDING_REQUEST, tid).unwrap();
    b.attr(&Attribute::Software("rtcwire-stun test")).unwrap();
    b.fingerprint().unwrap();
    b.finish();
    out
}

fn recv_udp(sock: &UdpSocket, buf: &mut [u8]) -> (usize, SocketAddr) {
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // Bounded: a signal may interrupt the wait a few times; anything else fails.
    for _ in 0..5 {
        match sock.recv_from(buf) {
            Ok(r) => return r,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("no datagram on {:?} within 5 s: {e:?}", sock.local_addr()),
        }
    }
    panic!("recv_from on {:?} interrupted 5 times", sock.local_addr());
}

#[test]
fn binding_request_returns_our_address() {
    let Some(turn) = start_turnserver("binding") else {
        return;
    };
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tid = TransactionId::random(&mut SeededRng::new(42)).unwrap();
    let req = binding_request(tid);
    dump("stun_decode", &req);
    sock.send_to(&req, turn.addr).unwrap();
    let mut buf = [0u8; 1500];
    let (n, from) = recv_udp(&sock, &mut buf);
    dump("stun_decode", &buf[..n]);
    assert_eq!(from, turn.addr);
    assert!(rtcwire_stun::is_stun(&buf[..n]));
    let resp = Message::parse(&buf[..n]).unwrap();
    assert_eq!(resp.message_type(), MessageType::BINDING_SUCCESS);
    assert_eq!(resp.transaction_id(), tid);
    resp.verify_fingerprint().unwrap();
    resp.check_comprehension().unwrap();
    for a in resp.attributes() {
        a.parse(&tid).unwrap();
    }
    assert_eq!(
        resp.xor_mapped_address().unwrap(),
        Some(sock.local_addr().unwrap())
    );
}

/// One authenticated TURN client session, generic over the transport.
struct Client<T> {
    io: T,
    key: Option<IntegrityKey>,
    nonce: String,
    rng: SeededRng,
}

trait Io {
    fn send(&mut self, bytes: &[u8]);
    fn recv(&mut self) -> (PacketKind, Vec<u8>);
}

struct UdpIo {
    sock: UdpSocket,
    server: SocketAddr,
}

impl Io for UdpIo {
    fn send(&mut self, bytes: &[u8]) {
        self.sock.send_to(bytes, self.server).unwrap();
    }
    fn recv(&mut self) -> (PacketKind, Vec<u8>) {
        let mut buf = [0u8; 2048];
        let (n, from) = recv_udp(&self.sock, &mut buf);
        assert_eq!(from, self.server);
        (rtcwire_proto::classify(&buf[..n]), buf[..n].to_vec())
    }
}

struct TcpIo {
    stream: TcpStream,
    framer: TcpFramer,
}

impl Io for TcpIo {
    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }
    fn recv(&mut self) -> (PacketKind, Vec<u8>) {
        let mut buf = [0u8; 2048];
        loop {
            if let Some(f) = self.framer.pop().unwrap() {
                return (f.kind, f.bytes.to_vec());
            }
            let n = match self.stream.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => panic!("no TCP data within 5 s: {e:?}"),
            };
            assert!(n > 0, "turnserver closed the connection");
            dump("stun_tcp_framer", &buf[..n]);
            self.framer.push(&buf[..n]).unwrap();
        }
    }
}

impl<T: Io> Client<T> {
    /// Sends a request of `method` with `attrs` (plus credentials once known) and returns
    /// the answer's bytes.
    fn request(&mut self, method: Method, attrs: &[Attribute<'_>]) -> (TransactionId, Vec<u8>) {
        let tid = TransactionId::random(&mut self.rng).unwrap();
        let mut out = Vec::new();
        let mut b =
            MessageBuilder::new(&mut out, MessageType::new(method, Class::Request), tid).unwrap();
        for a in attrs {
            b.attr(a).unwrap();
        }
        if let Some(key) = &self.key {
            b.attr(&Attribute::Username(USER)).unwrap();
            b.attr(&Attribute::Realm(REALM)).unwrap();
            b.attr(&Attribute::Nonce(&self.nonce)).unwrap();
            b.message_integrity(key).unwrap();
        }
        b.fingerprint().unwrap();
        b.finish();
        dump("stun_decode", &out);
        self.io.send(&out);
        let (kind, bytes) = self.io.recv();
        assert_eq!(kind, PacketKind::Stun);
        dump("stun_decode", &bytes);
        dump("stun_integrity", &bytes);
        (tid, bytes)
    }

    /// Allocate: the first attempt is refused with 401 and the realm and nonce; the second,
    /// with the MD5 long-term key, succeeds. Returns (relayed, mapped) addresses.
    fn allocate(&mut self) -> (SocketAddr, SocketAddr) {
        let (tid, bytes) = self.request(Method::ALLOCATE, &[Attribute::RequestedTransport(UDP)]);
        let resp = Message::parse(&bytes).unwrap();
        assert_eq!(resp.transaction_id(), tid);
        assert_eq!(
            resp.message_type(),
            MessageType::new(Method::ALLOCATE, Class::Error)
        );
        resp.verify_fingerprint().unwrap();
        let err = resp.error_code().unwrap().unwrap();
        assert_eq!(err.code, ErrorCode::UNAUTHENTICATED, "{err:?}");
        assert_eq!(resp.realm().unwrap(), Some(REALM));
        self.nonce = resp.nonce().unwrap().expect("NONCE in 401").to_owned();
        self.key = Some(IntegrityKey::long_term(USER, REALM, PASS));

        let (tid, bytes) = self.request(Method::ALLOCATE, &[Attribute::RequestedTransport(UDP)]);
        let resp = Message::parse(&bytes).unwrap();
        assert_eq!(resp.transaction_id(), tid);
        assert_eq!(
            resp.message_type(),
            MessageType::new(Method::ALLOCATE, Class::Success),
            "{:?}",
            resp.error_code()
        );
        resp.verify_fingerprint().unwrap();
        let key = self.key.as_ref().unwrap();
        resp.verify_integrity(key).unwrap();
        assert_eq!(
            resp.verify_integrity(&IntegrityKey::long_term(USER, REALM, "wrong")),
            Err(rtcwire_stun::Error::IntegrityMismatch(
                AttrType::MESSAGE_INTEGRITY
            ))
        );
        assert!(resp.lifetime().unwrap().unwrap() > 0);
        let relayed = resp
            .xor_relayed_address()
            .unwrap()
            .expect("XOR-RELAYED-ADDRESS");
        let mapped = resp
            .xor_mapped_address()
            .unwrap()
            .expect("XOR-MAPPED-ADDRESS");
        (relayed, mapped)
    }

    fn channel_bind(&mut self, number: u16, peer: SocketAddr) {
        let (_, bytes) = self.request(
            Method::CHANNEL_BIND,
            &[
                Attribute::ChannelNumber(number),
                Attribute::XorPeerAddress(peer),
            ],
        );
        let resp = Message::parse(&bytes).unwrap();
        assert_eq!(
            resp.message_type(),
            MessageType::new(Method::CHANNEL_BIND, Class::Success),
            "{:?}",
            resp.error_code()
        );
        resp.verify_integrity(self.key.as_ref().unwrap()).unwrap();
    }

    fn release(&mut self) {
        let (_, bytes) = self.request(Method::REFRESH, &[Attribute::Lifetime(0)]);
        let resp = Message::parse(&bytes).unwrap();
        assert_eq!(
            resp.message_type(),
            MessageType::new(Method::REFRESH, Class::Success)
        );
        resp.verify_integrity(self.key.as_ref().unwrap()).unwrap();
    }
}

/// Relays data both ways with Send and Data indications (XOR-PEER-ADDRESS + DATA), after a
/// CreatePermission for the peer.
fn exchange_indications<T: Io>(client: &mut Client<T>, relayed: SocketAddr) {
    let peer_sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let peer = peer_sock.local_addr().unwrap();
    let (_, bytes) = client.request(
        Method::CREATE_PERMISSION,
        &[Attribute::XorPeerAddress(peer)],
    );
    let resp = Message::parse(&bytes).unwrap();
    assert_eq!(
        resp.message_type(),
        MessageType::new(Method::CREATE_PERMISSION, Class::Success),
        "{:?}",
        resp.error_code()
    );
    resp.verify_integrity(client.key.as_ref().unwrap()).unwrap();

    let mut out = Vec::new();
    let tid = TransactionId::random(&mut client.rng).unwrap();
    let mut b = MessageBuilder::new(
        &mut out,
        MessageType::new(Method::SEND, Class::Indication),
        tid,
    )
    .unwrap();
    b.attr(&Attribute::XorPeerAddress(peer))
        .unwrap()
        .attr(&Attribute::Data(b"via send indication"))
        .unwrap()
        .fingerprint()
        .unwrap();
    b.finish();
    dump("stun_decode", &out);
    client.io.send(&out);
    let mut buf = [0u8; 1500];
    let (n, from) = recv_udp(&peer_sock, &mut buf);
    assert_eq!(from, relayed);
    assert_eq!(&buf[..n], b"via send indication");

    peer_sock
        .send_to(b"back as a data indication", relayed)
        .unwrap();
    let (kind, bytes) = client.io.recv();
    dump("stun_decode", &bytes);
    assert_eq!(kind, PacketKind::Stun);
    let ind = Message::parse(&bytes).unwrap();
    assert_eq!(
        ind.message_type(),
        MessageType::new(Method::DATA, Class::Indication)
    );
    assert_eq!(ind.xor_peer_address().unwrap(), Some(peer));
    assert_eq!(ind.data().unwrap(), Some(&b"back as a data indication"[..]));
}

/// Relays data both ways over channel 0x4000 between the client and a UDP peer.
fn exchange_channel_data<T: Io>(client: &mut Client<T>, transport: Transport, relayed: SocketAddr) {
    let peer_sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let peer = peer_sock.local_addr().unwrap();
    client.channel_bind(0x4000, peer);

    // Odd lengths, so TCP padding is exercised in both directions.
    for (i, payload) in [&b"hello peer"[..], b"odd", b"x"].iter().enumerate() {
        let mut out = Vec::new();
        let cd = ChannelData {
            number: 0x4000,
            data: payload,
        };
        cd.emit(transport, &mut out).unwrap();
        client.io.send(&out);
        let mut buf = [0u8; 1500];
        let (n, from) = recv_udp(&peer_sock, &mut buf);
        assert_eq!(from, relayed);
        assert_eq!(&buf[..n], *payload, "client → peer #{i}");
    }
    for payload in [&b"hello client!"[..], b"12345", b"ab"] {
        peer_sock.send_to(payload, relayed).unwrap();
        let (kind, bytes) = client.io.recv();
        dump("stun_decode", &bytes);
        assert_eq!(kind, PacketKind::ChannelData);
        let cd = ChannelData::parse(&bytes).unwrap();
        assert_eq!(cd.number, 0x4000);
        assert_eq!(cd.data, payload);
        if transport == Transport::Tcp {
            // The framer hands out header + data; the padding was consumed from the stream.
            assert_eq!(bytes.len(), 4 + payload.len());
        }
    }
}

#[test]
fn turn_allocate_with_long_term_credentials_over_udp() {
    let Some(turn) = start_turnserver("udp") else {
        return;
    };
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let local = sock.local_addr().unwrap();
    let mut c = Client {
        io: UdpIo {
            sock,
            server: turn.addr,
        },
        key: None,
        nonce: String::new(),
        rng: SeededRng::new(7),
    };
    let (relayed, mapped) = c.allocate();
    assert_eq!(mapped, local);
    assert_eq!(relayed.ip(), turn.addr.ip());
    assert!(turn.relay_ports.contains(&relayed.port()), "{relayed}");
    exchange_indications(&mut c, relayed);
    exchange_channel_data(&mut c, Transport::Udp, relayed);
    c.release();
}

#[test]
fn turn_allocate_and_channel_data_over_tcp() {
    let Some(turn) = start_turnserver("tcp") else {
        return;
    };
    let stream = TcpStream::connect(turn.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let local = stream.local_addr().unwrap();
    let mut c = Client {
        io: TcpIo {
            stream,
            framer: TcpFramer::new(Framing::Turn),
        },
        key: None,
        nonce: String::new(),
        rng: SeededRng::new(8),
    };
    let (relayed, mapped) = c.allocate();
    assert_eq!(mapped, local);
    assert!(turn.relay_ports.contains(&relayed.port()), "{relayed}");
    exchange_indications(&mut c, relayed);
    exchange_channel_data(&mut c, Transport::Tcp, relayed);
    c.release();
}
