//! How a session is set up.

use std::time::Duration;

use rtcwire_dtls::Certificate;

/// Settings of a [`PeerConnection`](crate::PeerConnection).
#[derive(Debug, Clone)]
pub struct Config {
    /// The session seed. `Some`: every core's randomness (ICE credentials and
    /// tie-breaker, DTLS randoms and ephemeral keys, SCTP tags and TSNs, the SDP session
    /// id) is derived from it by label (`rtcwire_proto::derive_seed(seed, "ice")`, ...), so
    /// a simulation replays bit for bit. **For tests only**: the keys are then exactly as
    /// secret as the seed. `None` (the default): the operating system's CSPRNG
    /// ([`rtcwire_dtls::SystemRng`]).
    pub seed: Option<u64>,
    /// The DTLS certificate; `None` generates a self-signed ECDSA P-256 one (with the
    /// operating system's randomness, also when `seed` is set: give one here to replay).
    pub certificate: Option<Certificate>,
    /// ICE settings (STUN and TURN servers, timers, limits). `controlling` is ignored: the
    /// offerer controls (an ICE-lite agent never does). `lite` makes this session an
    /// ICE-lite server (`a=ice-lite` in its descriptions): it answers checks, sends none.
    pub ice: rtcwire_ice::Config,
    /// SCTP settings. `max_message_size` is what our SDP offers as `a=max-message-size`;
    /// the ports and the remote maximum come from SDP. The default differs from
    /// `rtcwire_sctp::Config::default()` in `zero_checksum` (on): SCTP here always runs
    /// over DTLS, whose record MAC already detects errors (RFC 9653 method 1), so a peer
    /// that announces the same sends and accepts packets without the CRC32c (which cost
    /// ~11 % of the CPU of a bulk transfer).
    pub sctp: rtcwire_sctp::Config,
    /// Largest DTLS datagram (handshake fragments and records), default 1200.
    pub dtls_mtu: usize,
    /// The SRTP protection profiles DTLS offers or accepts (`use_srtp`), in preference
    /// order. `None` (the default): rtcwire-dtls's list (AEAD_AES_128_GCM,
    /// AEAD_AES_256_GCM, AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32). One profile
    /// here makes the session insist on it (no media if the peer does not offer it).
    pub srtp_profiles: Option<Vec<rtcwire_proto::SrtpProfile>>,
    /// Offer and accept transport-wide congestion control (`transport-cc` feedback and
    /// its header extension), default on. Off, a browser peer falls back to REMB
    /// (`goog-remb`) and receiver reports for its bandwidth estimate.
    pub transport_cc: bool,
    /// The wall clock at the `now` given to
    /// [`PeerConnection::new`](crate::PeerConnection::new): the time since the UNIX epoch.
    /// Sender reports then carry real NTP time (for the peer's audio/video sync and its
    /// `remote-outbound-rtp` stats); `None` (the default): an arbitrary clock, fine for
    /// round-trip times. See also
    /// [`PeerConnection::set_wall_clock`](crate::PeerConnection::set_wall_clock).
    pub wall_clock: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: None,
            certificate: None,
            ice: rtcwire_ice::Config::default(),
            sctp: rtcwire_sctp::Config {
                zero_checksum: true,
                ..rtcwire_sctp::Config::default()
            },
            dtls_mtu: 1200,
            srtp_profiles: None,
            transport_cc: true,
            wall_clock: None,
        }
    }
}

impl Config {
    /// A deterministic configuration for simulations: seeded randomness and the given
    /// certificate.
    #[must_use]
    pub fn seeded(seed: u64, certificate: Certificate) -> Self {
        Config {
            seed: Some(seed),
            certificate: Some(certificate),
            ..Config::default()
        }
    }
}
