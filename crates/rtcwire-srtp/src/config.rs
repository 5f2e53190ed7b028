//! Per-context settings.

use crate::replay::MAX_WINDOW;
use crate::Error;

/// Settings of a [`Context`](crate::Context). `Config::default()` suits audio and video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// SRTP replay window in packets (RFC 3711 §3.3.2). At least 64 is required by the RFC,
    /// which is the default; video with NACK/RTX retransmissions wants 1024 or more, since a
    /// retransmission arrives well behind the newest packet. Up to 32768.
    pub replay_window: usize,
    /// SRTCP replay window in packets (default 128, like libsrtp). Up to 32768.
    pub rtcp_replay_window: usize,
    /// Most SSRCs tracked per direction and packet kind. A packet that would open one
    /// more stream fails with [`Error::TooManyStreams`] (default 64).
    pub max_streams: usize,
    /// Whether SRTCP packets are encrypted (E flag set; the default). When `false` they are
    /// only authenticated. Either form is accepted on receipt.
    pub encrypt_rtcp: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            replay_window: 64,
            rtcp_replay_window: 128,
            max_streams: 64,
            encrypt_rtcp: true,
        }
    }
}

impl Config {
    /// Largest supported replay window, in packets.
    pub const MAX_REPLAY_WINDOW: usize = MAX_WINDOW;

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if !(1..=MAX_WINDOW).contains(&self.replay_window)
            || !(1..=MAX_WINDOW).contains(&self.rtcp_replay_window)
        {
            return Err(Error::InvalidConfig(
                "replay window must be 1..=32768 packets",
            ));
        }
        if self.max_streams == 0 {
            return Err(Error::InvalidConfig("max_streams must be at least 1"));
        }
        Ok(())
    }
}
