//! Source description (RFC 3550 §6.5).

use crate::error::{Error, Result};
use crate::rtcp::{packet_type, RtcpBody};
use crate::wire::{put_slice, put_u32, put_u8, sub, u32_at, u8_at};
use crate::Ssrc;

/// SDES item types.
pub mod item_type {
    /// Canonical end-point identifier.
    pub const CNAME: u8 = 1;
    /// User name.
    pub const NAME: u8 = 2;
    /// E-mail address.
    pub const EMAIL: u8 = 3;
    /// Phone number.
    pub const PHONE: u8 = 4;
    /// Geographic location.
    pub const LOC: u8 = 5;
    /// Application or tool name.
    pub const TOOL: u8 = 6;
    /// Notice/status.
    pub const NOTE: u8 = 7;
    /// Private extension.
    pub const PRIV: u8 = 8;
}

/// One SDES item: type and value (at most 255 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SdesItem<'a> {
    /// Item type (see [`item_type`]); any non-zero value is kept.
    pub kind: u8,
    /// Value, normally UTF-8 text.
    pub value: &'a [u8],
}

/// The items of one chunk.
#[derive(Debug, Clone, Copy)]
pub enum SdesItems<'a> {
    /// Items as received, without the terminating null(s).
    Wire(&'a [u8]),
    /// Items to write.
    Items(&'a [SdesItem<'a>]),
}

impl<'a> SdesItems<'a> {
    /// Iterates over the items.
    pub fn iter(&self) -> SdesItemIter<'a> {
        SdesItemIter {
            items: *self,
            pos: 0,
        }
    }

    fn buffer_len(&self) -> usize {
        self.iter().map(|i| 2 + i.value.len()).sum()
    }
}

impl PartialEq for SdesItems<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}
impl Eq for SdesItems<'_> {}

/// Iterator over [`SdesItems`].
#[derive(Debug, Clone)]
pub struct SdesItemIter<'a> {
    items: SdesItems<'a>,
    pos: usize,
}

impl<'a> Iterator for SdesItemIter<'a> {
    type Item = SdesItem<'a>;
    #[inline]
    fn next(&mut self) -> Option<SdesItem<'a>> {
        match self.items {
            SdesItems::Wire(b) => {
                let kind = u8_at(b, self.pos);
                if self.pos >= b.len() || kind == 0 {
                    return None;
                }
                let len = usize::from(u8_at(b, self.pos + 1));
                let value = sub(b, self.pos + 2, self.pos + 2 + len);
                self.pos += 2 + len;
                Some(SdesItem { kind, value })
            }
            SdesItems::Items(v) => {
                let item = v.get(self.pos)?;
                self.pos += 1;
                Some(*item)
            }
        }
    }
}

/// One SDES chunk: a source and its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesChunk<'a> {
    /// SSRC or CSRC described.
    pub ssrc: Ssrc,
    /// Its items.
    pub items: SdesItems<'a>,
}

impl<'a> SdesChunk<'a> {
    /// The CNAME item's value, if present.
    #[inline]
    pub fn cname(&self) -> Option<&'a [u8]> {
        self.items
            .iter()
            .find(|i| i.kind == item_type::CNAME)
            .map(|i| i.value)
    }

    fn buffer_len(&self) -> usize {
        // SSRC, items, then at least one null octet padding to a word boundary.
        4 + (self.items.buffer_len() + 1).div_ceil(4) * 4
    }
}

/// The chunks of an SDES packet.
#[derive(Debug, Clone, Copy)]
pub enum SdesChunks<'a> {
    /// Chunks as received (validated), with their count.
    Wire(u8, &'a [u8]),
    /// Chunks to write.
    Items(&'a [SdesChunk<'a>]),
}

impl<'a> SdesChunks<'a> {
    /// Iterates over the chunks.
    pub fn iter(&self) -> SdesChunkIter<'a> {
        SdesChunkIter {
            chunks: *self,
            pos: 0,
            index: 0,
        }
    }

    /// Number of chunks.
    pub fn len(&self) -> usize {
        match self {
            SdesChunks::Wire(n, _) => usize::from(*n),
            SdesChunks::Items(v) => v.len(),
        }
    }

    /// Whether there is no chunk.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl PartialEq for SdesChunks<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}
impl Eq for SdesChunks<'_> {}

/// Iterator over [`SdesChunks`].
#[derive(Debug, Clone)]
pub struct SdesChunkIter<'a> {
    chunks: SdesChunks<'a>,
    pos: usize,
    index: usize,
}

impl<'a> Iterator for SdesChunkIter<'a> {
    type Item = SdesChunk<'a>;
    #[inline]
    fn next(&mut self) -> Option<SdesChunk<'a>> {
        match self.chunks {
            SdesChunks::Wire(n, b) => {
                if self.index >= usize::from(n) {
                    return None;
                }
                let (chunk, len) = read_chunk(sub(b, self.pos, b.len())).ok()?;
                self.pos += len;
                self.index += 1;
                Some(chunk)
            }
            SdesChunks::Items(v) => {
                let c = v.get(self.index)?;
                self.index += 1;
                Some(*c)
            }
        }
    }
}

fn bad(reason: &'static str) -> Error {
    Error::BadRtcp {
        what: "SDES",
        reason,
    }
}

/// Reads one chunk and returns it with its wire length (padding included).
#[inline]
fn read_chunk(b: &[u8]) -> Result<(SdesChunk<'_>, usize)> {
    if b.len() < 8 {
        return Err(bad("chunk shorter than SSRC plus terminator"));
    }
    let ssrc = Ssrc(u32_at(b, 0));
    let mut pos = 4;
    // Each item advances pos by at least 2: bounded by the chunk length.
    loop {
        let kind = *b.get(pos).ok_or(bad("chunk lacks a null terminator"))?;
        if kind == 0 {
            break;
        }
        let len = usize::from(*b.get(pos + 1).ok_or(bad("item header cut"))?);
        if pos + 2 + len > b.len() {
            return Err(bad("item overruns the packet"));
        }
        pos += 2 + len;
    }
    let items_end = pos;
    // Skip the null octet(s) up to the next word boundary.
    let end = (pos + 1).div_ceil(4) * 4;
    if end > b.len() {
        return Err(bad("chunk padding overruns the packet"));
    }
    Ok((
        SdesChunk {
            ssrc,
            items: SdesItems::Wire(sub(b, 4, items_end)),
        },
        end,
    ))
}

/// A source description packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sdes<'a> {
    /// Up to 31 chunks.
    pub chunks: SdesChunks<'a>,
}

impl<'a> RtcpBody<'a> for Sdes<'a> {
    const PACKET_TYPE: u8 = packet_type::SDES;
    const NAME: &'static str = "SDES";

    fn count(&self) -> u8 {
        self.chunks.len().min(31) as u8
    }

    fn body_len(&self) -> usize {
        self.chunks.iter().map(|c| c.buffer_len()).sum()
    }

    fn parse_body(count: u8, b: &'a [u8]) -> Result<Self> {
        let mut pos = 0;
        for _ in 0..count {
            let (_, len) = read_chunk(sub(b, pos, b.len()))?;
            pos += len;
        }
        Ok(Sdes {
            chunks: SdesChunks::Wire(count, sub(b, 0, pos)),
        })
    }

    fn emit_body(&self, b: &mut [u8]) -> Result<()> {
        if self.chunks.len() > 31 {
            return Err(Error::OutOfRange("more than 31 SDES chunks"));
        }
        let mut pos = 0;
        for c in self.chunks.iter() {
            let len = c.buffer_len();
            if let Some(z) = b.get_mut(pos..pos + len) {
                z.fill(0);
            }
            put_u32(b, pos, c.ssrc.0);
            let mut at = pos + 4;
            for item in c.items.iter() {
                if item.kind == 0 {
                    return Err(Error::OutOfRange("SDES item type 0 is the terminator"));
                }
                let l = u8::try_from(item.value.len())
                    .map_err(|_| Error::OutOfRange("SDES item longer than 255 bytes"))?;
                put_u8(b, at, item.kind);
                put_u8(b, at + 1, l);
                put_slice(b, at + 2, item.value);
                at += 2 + item.value.len();
            }
            pos += len;
        }
        Ok(())
    }
}
