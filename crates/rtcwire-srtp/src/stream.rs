//! Per-SSRC state, created on a stream's first packet, up to a cap.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rtcwire_proto::Ssrc;

use crate::replay::ReplayWindow;
use crate::Error;

/// Hashes an SSRC with one multiplication (SSRCs are random, and the table is capped, so a
/// keyed hash buys nothing against a peer choosing colliding SSRCs: at most `max_streams`
/// entries can ever collide).
#[derive(Default)]
pub(crate) struct SsrcHasher(u64);

impl Hasher for SsrcHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (u64::from(n) ^ 0x5bd1_e995).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Sending-side SRTP state: the highest index sent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RtpSend {
    pub(crate) highest: u64,
}

/// Receiving-side SRTP state: highest index received and the replay window.
#[derive(Debug, Clone)]
pub(crate) struct RtpRecv {
    pub(crate) window: ReplayWindow,
}

/// Sending-side SRTCP state: the next SRTCP index.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RtcpSend {
    pub(crate) next_index: u32,
}

/// Receiving-side SRTCP state.
#[derive(Debug, Clone)]
pub(crate) struct RtcpRecv {
    pub(crate) window: ReplayWindow,
}

/// SSRC → state, holding at most `max` entries.
#[derive(Debug)]
pub(crate) struct Streams<S> {
    map: HashMap<Ssrc, S, BuildHasherDefault<SsrcHasher>>,
    max: usize,
}

impl<S> Streams<S> {
    pub(crate) fn new(max: usize) -> Self {
        Streams {
            map: HashMap::default(),
            max,
        }
    }

    #[inline]
    pub(crate) fn get(&self, ssrc: Ssrc) -> Option<&S> {
        self.map.get(&ssrc)
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, ssrc: Ssrc) -> Option<&mut S> {
        self.map.get_mut(&ssrc)
    }

    /// Fails if `ssrc` is unknown and the table is full.
    #[inline]
    pub(crate) fn check_room(&self, ssrc: Ssrc) -> Result<(), Error> {
        if self.map.len() >= self.max && !self.map.contains_key(&ssrc) {
            return Err(Error::TooManyStreams {
                ssrc,
                max: self.max,
            });
        }
        Ok(())
    }

    /// The entry for `ssrc`, created with `make` if absent and there is room.
    #[inline]
    pub(crate) fn get_or_insert(
        &mut self,
        ssrc: Ssrc,
        make: impl FnOnce() -> S,
    ) -> Result<&mut S, Error> {
        self.check_room(ssrc)?;
        Ok(self.map.entry(ssrc).or_insert_with(make))
    }

    pub(crate) fn remove(&mut self, ssrc: Ssrc) -> Option<S> {
        self.map.remove(&ssrc)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}
