//! Typed access to the header extensions WebRTC negotiates, through an [`ExtensionMap`]
//! from local ids (SDP `a=extmap`) to [`ExtensionKind`]s.

use crate::error::{Error, Result};
use crate::rtp::ext::{ExtensionElement, ExtensionsBuilder};
use crate::wire::u24_at;

/// The header extensions this crate understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExtensionKind {
    /// `urn:ietf:params:rtp-hdrext:sdes:mid` (RFC 9143): the media section's mid.
    Mid,
    /// `urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id` (RFC 8852): the simulcast rid.
    Rid,
    /// `urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id` (RFC 8852).
    RepairedRid,
    /// `http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time`: 6.18 fixed-point seconds.
    AbsSendTime,
    /// Transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01).
    TransportCc,
    /// `urn:ietf:params:rtp-hdrext:ssrc-audio-level` (RFC 6464).
    AudioLevel,
    /// `urn:3gpp:video-orientation` (3GPP TS 26.114 CVO).
    VideoOrientation,
    /// `http://www.webrtc.org/experiments/rtp-hdrext/playout-delay`.
    PlayoutDelay,
}

impl ExtensionKind {
    /// Every kind, in declaration order.
    pub const ALL: [ExtensionKind; 8] = [
        ExtensionKind::Mid,
        ExtensionKind::Rid,
        ExtensionKind::RepairedRid,
        ExtensionKind::AbsSendTime,
        ExtensionKind::TransportCc,
        ExtensionKind::AudioLevel,
        ExtensionKind::VideoOrientation,
        ExtensionKind::PlayoutDelay,
    ];

    /// The URI used in `a=extmap`.
    pub fn uri(self) -> &'static str {
        match self {
            ExtensionKind::Mid => "urn:ietf:params:rtp-hdrext:sdes:mid",
            ExtensionKind::Rid => "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
            ExtensionKind::RepairedRid => "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
            ExtensionKind::AbsSendTime => {
                "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
            }
            ExtensionKind::TransportCc => {
                "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
            }
            ExtensionKind::AudioLevel => "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
            ExtensionKind::VideoOrientation => "urn:3gpp:video-orientation",
            ExtensionKind::PlayoutDelay => {
                "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
            }
        }
    }

    /// The kind named by an `a=extmap` URI.
    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.uri() == uri)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Local id ↔ kind mapping for one session (what `a=extmap` lines negotiated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionMap {
    by_id: [Option<ExtensionKind>; 256],
    by_kind: [u8; ExtensionKind::ALL.len()],
}

impl Default for ExtensionMap {
    fn default() -> Self {
        Self::new()
    }
}

impl ExtensionMap {
    /// An empty map.
    pub fn new() -> Self {
        ExtensionMap {
            by_id: [None; 256],
            by_kind: [0; ExtensionKind::ALL.len()],
        }
    }

    /// Maps `id` (1–255) to `kind`, replacing any earlier mapping of either.
    pub fn insert(&mut self, id: u8, kind: ExtensionKind) -> Result<()> {
        if id == 0 {
            return Err(Error::BadExtension("id 0 is reserved"));
        }
        let old = self.by_kind[kind.index() % ExtensionKind::ALL.len()];
        if old != 0 {
            self.by_id[usize::from(old)] = None;
        }
        if let Some(prev) = self.by_id[usize::from(id)] {
            self.by_kind[prev.index() % ExtensionKind::ALL.len()] = 0;
        }
        self.by_id[usize::from(id)] = Some(kind);
        self.by_kind[kind.index() % ExtensionKind::ALL.len()] = id;
        Ok(())
    }

    /// The kind mapped to `id`.
    #[inline]
    pub fn kind(&self, id: u8) -> Option<ExtensionKind> {
        self.by_id[usize::from(id)]
    }

    /// The id mapped to `kind`.
    #[inline]
    pub fn id(&self, kind: ExtensionKind) -> Option<u8> {
        match self.by_kind[kind.index() % ExtensionKind::ALL.len()] {
            0 => None,
            id => Some(id),
        }
    }

    /// The mapping WebRTC browsers commonly offer (ids as in Chrome's default offer):
    /// a convenience for tests and examples.
    pub fn webrtc_default() -> Self {
        let mut m = Self::new();
        for (id, kind) in [
            (1, ExtensionKind::AudioLevel),
            (2, ExtensionKind::AbsSendTime),
            (3, ExtensionKind::TransportCc),
            (4, ExtensionKind::Mid),
            (10, ExtensionKind::Rid),
            (11, ExtensionKind::RepairedRid),
            (12, ExtensionKind::PlayoutDelay),
            (13, ExtensionKind::VideoOrientation),
        ] {
            // Ids are non-zero constants.
            let _ = m.insert(id, kind);
        }
        m
    }
}

/// RFC 6464 audio level: the V flag and the level in −dBov (0 loudest, 127 silence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AudioLevel {
    /// Voice activity flag.
    pub voice: bool,
    /// Level, 0–127, in −dBov.
    pub level: u8,
}

/// Rotation of a 3GPP video orientation (CVO) element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rotation {
    /// 0°.
    Deg0,
    /// 90° (counter-clockwise).
    Deg90,
    /// 180°.
    Deg180,
    /// 270°.
    Deg270,
}

/// 3GPP coordination of video orientation: camera, flip and rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VideoOrientation {
    /// C: back-facing camera.
    pub back_camera: bool,
    /// F: horizontal flip.
    pub flip: bool,
    /// R1 R0.
    pub rotation: Rotation,
}

/// Playout delay limits, in units of 10 ms, 12 bits each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlayoutDelay {
    /// Minimum delay.
    pub min: u16,
    /// Maximum delay.
    pub max: u16,
}

/// The typed header extensions of one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeaderExtensions<'a> {
    /// RFC 9143 mid.
    pub mid: Option<&'a str>,
    /// RFC 8852 rid.
    pub rid: Option<&'a str>,
    /// RFC 8852 repaired rid.
    pub repaired_rid: Option<&'a str>,
    /// abs-send-time, 24-bit 6.18 fixed-point seconds.
    pub abs_send_time: Option<u32>,
    /// Transport-wide sequence number.
    pub transport_cc: Option<u16>,
    /// RFC 6464 audio level.
    pub audio_level: Option<AudioLevel>,
    /// 3GPP video orientation.
    pub video_orientation: Option<VideoOrientation>,
    /// Playout delay.
    pub playout_delay: Option<PlayoutDelay>,
    /// Number of elements whose id the map does not know (read them from the packet).
    pub unknown: u8,
}

#[inline]
fn text(data: &[u8]) -> Result<&str> {
    // RFC 8285 elements may be followed by padding inside the element in practice; SDES
    // items are bare UTF-8 (RFC 8852 §3.1).
    std::str::from_utf8(data).map_err(|_| Error::BadExtension("SDES item is not UTF-8"))
}

#[inline]
fn fixed<const N: usize>(data: &[u8], what: &'static str) -> Result<[u8; N]> {
    data.try_into().map_err(|_| Error::BadExtension(what))
}

impl<'a> HeaderExtensions<'a> {
    /// Reads the typed extensions from a packet's elements (the `Repr::parse` of the
    /// extension block, with the session's id map as context). Elements with unmapped ids
    /// are counted in [`HeaderExtensions::unknown`] and stay readable from the packet.
    pub fn parse<I>(elements: I, map: &ExtensionMap) -> Result<Self>
    where
        I: IntoIterator<Item = Result<ExtensionElement<'a>>>,
    {
        let mut out = HeaderExtensions::default();
        for e in elements {
            let e = e?;
            match map.kind(e.id) {
                Some(kind) => out.set_from(kind, e.data)?,
                None => out.unknown = out.unknown.saturating_add(1),
            }
        }
        Ok(out)
    }

    #[inline]
    fn set_from(&mut self, kind: ExtensionKind, d: &'a [u8]) -> Result<()> {
        match kind {
            ExtensionKind::Mid => self.mid = Some(text(d)?),
            ExtensionKind::Rid => self.rid = Some(text(d)?),
            ExtensionKind::RepairedRid => self.repaired_rid = Some(text(d)?),
            ExtensionKind::AbsSendTime => {
                let b: [u8; 3] = fixed(d, "abs-send-time is not 3 bytes")?;
                self.abs_send_time = Some(u24_at(&b, 0));
            }
            ExtensionKind::TransportCc => {
                let b: [u8; 2] = fixed(d, "transport-cc sequence is not 2 bytes")?;
                self.transport_cc = Some(u16::from_be_bytes(b));
            }
            ExtensionKind::AudioLevel => {
                let [b]: [u8; 1] = fixed(d, "audio level is not 1 byte")?;
                self.audio_level = Some(AudioLevel {
                    voice: b & 0x80 != 0,
                    level: b & 0x7f,
                });
            }
            ExtensionKind::VideoOrientation => {
                let [b]: [u8; 1] = fixed(d, "video orientation is not 1 byte")?;
                let rotation = match b & 3 {
                    0 => Rotation::Deg0,
                    1 => Rotation::Deg90,
                    2 => Rotation::Deg180,
                    _ => Rotation::Deg270,
                };
                self.video_orientation = Some(VideoOrientation {
                    back_camera: b & 0x08 != 0,
                    flip: b & 0x04 != 0,
                    rotation,
                });
            }
            ExtensionKind::PlayoutDelay => {
                let b: [u8; 3] = fixed(d, "playout delay is not 3 bytes")?;
                let v = u24_at(&b, 0);
                self.playout_delay = Some(PlayoutDelay {
                    min: (v >> 12) as u16,
                    max: (v & 0xfff) as u16,
                });
            }
        }
        Ok(())
    }

    /// Emits every present typed extension into `out` with the ids of `map`. A present
    /// value whose kind the map lacks is an error (it could not be sent).
    pub fn emit(&self, out: &mut ExtensionsBuilder, map: &ExtensionMap) -> Result<()> {
        let id = |k: ExtensionKind| {
            map.id(k)
                .ok_or(Error::BadExtension("kind has no mapped id"))
        };
        for (kind, s) in [
            (ExtensionKind::Mid, self.mid),
            (ExtensionKind::Rid, self.rid),
            (ExtensionKind::RepairedRid, self.repaired_rid),
        ] {
            if let Some(s) = s {
                out.push(id(kind)?, s.as_bytes())?;
            }
        }
        if let Some(t) = self.abs_send_time {
            if t > 0x00ff_ffff {
                return Err(Error::OutOfRange("abs-send-time is 24 bits"));
            }
            out.push(id(ExtensionKind::AbsSendTime)?, &t.to_be_bytes()[1..])?;
        }
        if let Some(s) = self.transport_cc {
            out.push(id(ExtensionKind::TransportCc)?, &s.to_be_bytes())?;
        }
        if let Some(a) = self.audio_level {
            if a.level > 127 {
                return Err(Error::OutOfRange("audio level is 7 bits"));
            }
            out.push(
                id(ExtensionKind::AudioLevel)?,
                &[u8::from(a.voice) << 7 | a.level],
            )?;
        }
        if let Some(v) = self.video_orientation {
            let r = match v.rotation {
                Rotation::Deg0 => 0,
                Rotation::Deg90 => 1,
                Rotation::Deg180 => 2,
                Rotation::Deg270 => 3,
            };
            let b = u8::from(v.back_camera) << 3 | u8::from(v.flip) << 2 | r;
            out.push(id(ExtensionKind::VideoOrientation)?, &[b])?;
        }
        if let Some(p) = self.playout_delay {
            if p.min > 0xfff || p.max > 0xfff {
                return Err(Error::OutOfRange("playout delay limits are 12 bits"));
            }
            let v = u32::from(p.min) << 12 | u32::from(p.max);
            out.push(id(ExtensionKind::PlayoutDelay)?, &v.to_be_bytes()[1..])?;
        }
        Ok(())
    }
}

/// Converts abs-send-time (6.18 fixed-point seconds, wrapping every 64 s) to microseconds.
pub fn abs_send_time_to_micros(t: u32) -> u64 {
    (u64::from(t & 0x00ff_ffff) * 1_000_000) >> 18
}

/// Converts a time in microseconds to abs-send-time (6.18 fixed point, modulo 64 s).
pub fn abs_send_time_from_micros(us: u64) -> u32 {
    (((u128::from(us) << 18) / 1_000_000) as u32) & 0x00ff_ffff
}
