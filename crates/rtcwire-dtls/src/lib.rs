//! rtcwire-dtls: a sans-IO DTLS 1.2 client and server for WebRTC.
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
//! # Sans-IO
//!
//! An [`Endpoint`] owns no socket, reads no clock and spawns nothing. Datagrams go in through
//! [`SansIo::handle_read`](rtcwire_proto::SansIo::handle_read), come out of
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
//! use rtcwire_dtls::{Certificate, Config, Endpoint, Event, FingerprintAlgorithm, SystemRng};
//! use rtcwire_proto::{Datagram, SansIo};
//!
//! let (a, b) = (Certificate::generate_self_signed()?, Certificate::generate_self_signed()?);
//! let fa = a.fingerprint(FingerprintAlgorithm::Sha256); // goes into our SDP
//! let fb = b.fingerprint(FingerprintAlgorithm::Sha256); // read from the peer's SDP
//! let client_cfg = Arc::new(Config::builder(a).remote_fingerprint(fb).build()?);
//! let server_cfg = Arc::new(Config::builder(b).remote_fingerprint(fa).build()?);
//!
//! # let clock = rtcwire_sim::Sim::new(0);
//! let now = clock.now(); // the driver's clock (here rtcwire-sim's virtual one); the core never reads one
//! let mut client = Endpoint::client(client_cfg, Box::new(SystemRng::new()), now);
//! let mut server = Endpoint::server(server_cfg, Box::new(SystemRng::new()));
//!
//! // A lossless in-memory wire: move datagrams both ways until nothing is in flight.
//! fn deliver(from: &mut Endpoint, to: &mut Endpoint, now: Instant) -> bool {
//!     let addr = "127.0.0.1:5000".parse().unwrap();
//!     let mut moved = false;
//!     while let Some(t) = from.poll_transmit() {
//!         let d = Datagram { source: addr, destination: addr, contents: &t.contents };
//!         let _ = to.handle_read(now, d); // failures also surface as Event::Error
//!         moved = true;
//!     }
//!     moved
//! }
//! let mut connected = 0;
//! for _ in 0..20 {
//!     let moved = deliver(&mut client, &mut server, now) | deliver(&mut server, &mut client, now);
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
//! [`Stats`]; a failed handshake is one [`Error`] variant per cause (fingerprint mismatch,
//! tampered Finished, no common suite, ...), reported as [`Event::Error`] after the
//! matching alert is queued. The certificate parser and both handshake roles are fuzzed.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod alert;
pub mod cert;
mod codec;
mod config;
mod crypto;
mod endpoint;
mod error;
mod flight;
pub mod handshake;
pub mod record;

pub use alert::{Alert, AlertDescription, AlertLevel};
pub use cert::{Certificate, Fingerprint, FingerprintAlgorithm};
pub use config::{Config, ConfigBuilder};
pub use crypto::kx::NamedGroup;
pub use crypto::prf::{prf, PrfHash};
pub use crypto::rand::SystemRng;
pub use crypto::sign::SignatureScheme;
pub use crypto::suite::{Authentication, BulkCipher, CipherSuite};
pub use endpoint::{Endpoint, Event, Stats, MAX_PLAINTEXT};
pub use error::Error;
