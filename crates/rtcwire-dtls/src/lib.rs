//! rtcwire-dtls: a sans-IO DTLS 1.3 and 1.2 client and server for WebRTC.
//!
//! DTLS 1.3 (RFC 9147 over TLS 1.3, RFC 8446), on by default and offered beside 1.2: the
//! unified record header with encrypted sequence numbers, epochs and the TLS 1.3 key
//! schedule, ACKs (of partial flights too, with only the unacknowledged records re-sent:
//! [`ConfigBuilder::dtls13_partial_acks`]), a stateless HelloRetryRequest cookie, KeyUpdate,
//! the TLS 1.3 AEAD suites,
//! key shares X25519MLKEM768 (ML-KEM-768 and X25519, what Chromium sends), X25519 and P-256,
//! and the TLS 1.3 exporter for SRTP. A 1.2-only peer gets 1.2, with the RFC 8446 §4.1.3
//! downgrade sentinel checked ([`Error::Downgrade`]). See [`ConfigBuilder::dtls13`].
//!
//! DTLS 1.2 (RFC 6347 over TLS 1.2, RFC 5246) with what WebRTC needs and nothing else:
//! ECDHE key exchange (X25519, P-256, P-384) authenticated by ECDSA or RSA certificates,
//! AEAD suites (AES-GCM, ChaCha20-Poly1305), mutual authentication by the certificate
//! fingerprints exchanged in SDP (RFC 8827, RFC 8122), `use_srtp` (RFC 5764),
//! extended master secret (RFC 7627), an empty `renegotiation_info` (RFC 5746, renegotiation
//! refused), the stateless HelloVerifyRequest cookie, fragmentation, reassembly and
//! retransmission with back-off, and the RFC 5705 exporter that hands SRTP its keys as
//! [`rtcwire_proto::KeyingMaterial`]. Crypto comes from ring, certificates from rcgen.
//!
//! # Connection ids
//!
//! Off by default. With [`ConfigBuilder::connection_id`] a connection offers (client) or
//! accepts (server) connection ids: RFC 9146 for DTLS 1.2 (`tls12_cid` records from epoch 1
//! on, with the real content type inside and the RFC 9146 §5 additional data), RFC 9147 §9
//! for DTLS 1.3 (the C bit of the unified header, the id after its first byte). Ids are used
//! only when both sides send the extension; each side names the id it wants to find in the
//! records sent to it, and may name an empty one (it needs none). A record whose id is not
//! ours is dropped and counted ([`Stats::wrong_cid_records`]). A server that serves many
//! peers on one socket gives each connection its own id and routes datagrams with
//! [`peek_connection_id`], so that a peer whose address changed (NAT rebinding) still finds
//! its connection; [`Connection::connection_ids`] tells what was negotiated. The server
//! should believe a peer's new address only once a datagram from it was accepted (RFC 9146
//! §6). DTLS 1.3 NewConnectionId with `cid_immediate` switches the id we send; spare ids are
//! not kept and RequestConnectionId is acknowledged but not answered with new ids.
//!
//! ```
//! use std::sync::Arc;
//! use rtcwire_dtls::{peek_connection_id, Certificate, Config};
//!
//! let (me, peer) = (Certificate::generate_self_signed()?, Certificate::generate_self_signed()?);
//! let server_cfg = Arc::new(
//!     Config::builder(me)
//!         .remote_fingerprint(peer.fingerprint())
//!         .connection_id(Some(vec![0x01, 0x02, 0x03, 0x04])) // this connection's id
//!         .build()?,
//! );
//! // In the server's receive loop: find the connection by id first, by address second.
//! let datagram = [0x3f, 0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0];
//! assert_eq!(peek_connection_id(&datagram, 4), Some(&[1, 2, 3, 4][..]));
//! # let _ = server_cfg;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Sans-IO
//!
//! A [`Connection`] owns no socket, reads no clock and spawns nothing. Datagrams go in through
//! [`SansIo::handle_read`], come out of
//! [`poll_transmit`](rtcwire_proto::SansIo::poll_transmit) (with `source` and `destination`
//! left `None`: DTLS runs over whatever path ICE chose); time is a `now` parameter and
//! randomness an injected [`rtcwire_proto::Rng`] ([`SystemRng`] in production, a seeded one
//! in simulations).
//!
//! # Run loop
//!
//! After any input, drain `poll_transmit` and `poll_event` until both return `None`, then
//! sleep until `poll_timeout` (or the next datagram). State is consistent only once drained.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Instant;
//! use rtcwire_dtls::{Certificate, Config, Connection, Event, FingerprintAlgorithm, SystemRng};
//! use rtcwire_dtls::{Datagram, SansIo}; // re-exported from rtcwire-proto
//!
//! let (a, b) = (Certificate::generate_self_signed()?, Certificate::generate_self_signed()?);
//! let fa = a.fingerprint(); // goes into our SDP
//! let fb = b.fingerprint(); // read from the peer's SDP
//! let client_cfg = Arc::new(Config::builder(a).remote_fingerprint(fb).build()?);
//! let server_cfg = Arc::new(Config::builder(b).remote_fingerprint(fa).build()?);
//!
//! # let clock = rtcwire_sim::Sim::new(0);
//! let now = clock.now(); // the driver's clock (here rtcwire-sim's virtual one); the core never reads one
//! let mut client = Connection::client(client_cfg, Box::new(SystemRng::new()), now);
//! let mut server = Connection::server(server_cfg, Box::new(SystemRng::new()));
//!
//! // A lossless in-memory wire: move datagrams both ways until nothing is in flight. One
//! // buffer is lent to poll_transmit and reused: no allocation per datagram.
//! fn deliver(from: &mut Connection, to: &mut Connection, now: Instant, buf: &mut Vec<u8>) -> bool {
//!     let mut moved = false;
//!     while let Some(t) = from.poll_transmit(now, buf) {
//!         // DTLS runs on the path ICE chose: no addresses needed.
//!         let _ = to.handle_read(now, Datagram::on_path(&buf[..t.size])); // Err = refused, counted
//!         buf.clear();
//!         moved = true;
//!     }
//!     moved
//! }
//! let mut buf = Vec::with_capacity(1500);
//! let mut connected = 0;
//! for _ in 0..20 {
//!     let moved = deliver(&mut client, &mut server, now, &mut buf)
//!         | deliver(&mut server, &mut client, now, &mut buf);
//!     for ep in [&mut client, &mut server] {
//!         while let Some(e) = ep.poll_event() {
//!             if let Event::Connected { srtp, .. } = e {
//!                 assert!(srtp.is_some()); // keys for rtcwire-srtp
//!                 connected += 1;
//!             }
//!         }
//!     }
//!     if !moved { break; }
//! }
//! assert_eq!(connected, 2);
//! client.write(b"hello")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Panics and errors
//!
//! Peer input never panics: every parser is bounds-checked, every length capped, every loop
//! bounded. Malformed, unauthenticated or replayed records are dropped and counted in
//! [`Stats`]; a datagram with nothing readable in it makes `handle_read` return
//! [`Error::DatagramRefused`] and changes nothing else. A failed handshake is one [`Error`]
//! variant per cause (fingerprint mismatch, tampered Finished, no common suite, a failing
//! random source, ...), reported exactly once as [`Event::Error`] after the matching alert
//! is queued, never as an `Err` from `handle_read`; the connection is then closed. The
//! certificate parser and both handshake roles are fuzzed.
//!
//! # Zero-copy data path
//!
//! [`Connection::send_with`] lets the layer above (SCTP) write its packet straight into the
//! record buffer, which is sealed in place; [`Connection::write`] copies a slice in once.
//! `poll_transmit` hands the sealed record over by trading buffers with the caller when the
//! lent buffer is empty, so neither side copies or allocates per record in steady state.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod alert;
pub mod cert;
mod codec;
mod config;
mod connection;
mod crypto;
mod error;
mod flight;
// DTLS 1.3: key schedule, record layer, messages, key shares (the handshake engine is in
// connection/tls13/).
#[cfg(feature = "fuzzing")]
#[allow(missing_docs)] // internals, public for the fuzz targets only
pub mod v13;
#[cfg(not(feature = "fuzzing"))]
#[allow(unreachable_pub, dead_code, unused_imports)]
mod v13;
// The wire codecs are internals. The `fuzzing` feature makes them public for the fuzz
// targets, the record-layer bench and the tests that forge messages; they are not part of
// the API.
#[cfg(feature = "fuzzing")]
pub mod handshake;
#[cfg(not(feature = "fuzzing"))]
#[allow(unreachable_pub, dead_code, unused_imports)]
mod handshake;
#[cfg(feature = "fuzzing")]
pub mod record;
#[cfg(not(feature = "fuzzing"))]
#[allow(unreachable_pub, dead_code, unused_imports)]
mod record;

pub use alert::{Alert, AlertDescription, AlertLevel};
pub use cert::{Certificate, Fingerprint, FingerprintAlgorithm};
pub use config::{Config, ConfigBuilder};
pub use connection::{Connection, ConnectionIds, Event, Stats, MAX_PLAINTEXT};
pub use crypto::kx::NamedGroup;
pub use crypto::prf::{prf, PrfHash};
pub use crypto::rand::SystemRng;
pub use crypto::sign::SignatureScheme;
pub use crypto::suite::{Authentication, BulkCipher, CipherSuite};
pub use error::Error;
pub use rtcwire_proto::{
    Datagram, DtlsRole, KeyingMaterial, Rng, SansIo, SeededRng, SrtpProfile, Transmit,
};

/// The connection id of the first record of `datagram`, given the length of the ids this
/// side hands out (the length is not on the wire): a DTLS 1.2 `tls12_cid` record (RFC 9146
/// §4) or a DTLS 1.3 unified header with its C bit set (RFC 9147 §4). `None` for anything
/// else (a record without an id, a handshake record, a non-DTLS datagram, a short one).
///
/// Cheap and allocation-free: a server that gives each connection its own id (see
/// [`ConfigBuilder::connection_id`]) routes datagrams with it, so that a peer whose address
/// changed (NAT rebinding, a new interface) still reaches its connection.
///
/// ```
/// // A DTLS 1.2 tls12_cid record header: type 25, version, epoch 1, sequence 7, id, length.
/// let d = [25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 7, 0xc1, 0xd2, 0, 0];
/// assert_eq!(rtcwire_dtls::peek_connection_id(&d, 2), Some(&[0xc1, 0xd2][..]));
/// // A DTLS 1.3 unified header with the C bit (0x10): the id follows the first byte.
/// let d = [0x3f, 0xc1, 0xd2, 0, 0, 0, 0];
/// assert_eq!(rtcwire_dtls::peek_connection_id(&d, 2), Some(&[0xc1, 0xd2][..]));
/// assert_eq!(rtcwire_dtls::peek_connection_id(&[23, 0xfe, 0xfd], 2), None);
/// ```
#[must_use]
pub fn peek_connection_id(datagram: &[u8], cid_len: usize) -> Option<&[u8]> {
    let first = *datagram.first()?;
    let at = if first == record::ContentType::Tls12Cid.code() {
        // type, version, epoch, 48-bit sequence number; the length follows the id.
        let version = datagram.get(1..3)?;
        if version != [0xfe, 0xfd] && version != [0xfe, 0xff] {
            return None;
        }
        datagram.get(11 + cid_len..13 + cid_len)?;
        11
    } else if first & 0xe0 == 0x20 && first & 0x10 != 0 {
        1
    } else {
        return None;
    };
    datagram.get(at..at + cid_len)
}

/// The README's example, compiled and run as a doc test so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
