//! RTP header extension elements in the one-byte and two-byte forms (RFC 8285 §4).

use crate::error::{Error, Result};
use crate::wire::{put_u16, put_u8, sub, u8_at};

/// Profile value of the one-byte form (RFC 8285 §4.2).
pub const ONE_BYTE_PROFILE: u16 = 0xbede;
/// Profile value of the two-byte form, with the low 4 "appbits" zero (RFC 8285 §4.3).
pub const TWO_BYTE_PROFILE: u16 = 0x1000;
/// Most data bytes one element can carry in the one-byte form.
pub const ONE_BYTE_MAX_LEN: usize = 16;
/// Largest id usable in the one-byte form (15 is reserved).
pub const ONE_BYTE_MAX_ID: u8 = 14;

/// Which RFC 8285 form an extension block uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtensionForm {
    /// Profile 0xBEDE: ids 1–14, 1–16 data bytes.
    OneByte,
    /// Profile 0x100X: ids 1–255, 0–255 data bytes.
    TwoByte,
}

/// A raw header extension block: the 16-bit profile and the data that follows the length
/// word (a multiple of 4 bytes). Kept verbatim so that unknown profiles survive a round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtensionBlock<'a> {
    /// "defined by profile": 0xBEDE, 0x100X, or anything else.
    pub profile: u16,
    /// Block body, `4 * length` bytes.
    pub data: &'a [u8],
}

impl<'a> ExtensionBlock<'a> {
    /// The RFC 8285 form, or `None` for another profile.
    #[inline]
    pub fn form(&self) -> Option<ExtensionForm> {
        if self.profile == ONE_BYTE_PROFILE {
            Some(ExtensionForm::OneByte)
        } else if self.profile & 0xfff0 == TWO_BYTE_PROFILE {
            Some(ExtensionForm::TwoByte)
        } else {
            None
        }
    }

    /// Iterates over the elements (nothing for a profile that is not RFC 8285).
    #[inline]
    pub fn elements(&self) -> Extensions<'a> {
        Extensions {
            form: self.form(),
            data: self.data,
            pos: 0,
        }
    }
}

/// One header extension element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtensionElement<'a> {
    /// Local identifier (negotiated with `a=extmap`).
    pub id: u8,
    /// Element data.
    pub data: &'a [u8],
}

/// Iterator over RFC 8285 elements. Yields an error (and then stops) on an element that
/// overruns the block.
#[derive(Debug, Clone)]
pub struct Extensions<'a> {
    form: Option<ExtensionForm>,
    data: &'a [u8],
    pos: usize,
}

impl Extensions<'_> {
    /// An iterator that yields nothing.
    pub fn empty() -> Self {
        Extensions {
            form: None,
            data: &[],
            pos: 0,
        }
    }
}

impl<'a> Iterator for Extensions<'a> {
    type Item = Result<ExtensionElement<'a>>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let form = self.form?;
        // Each step consumes at least one byte, so this loop is bounded by the block length.
        loop {
            let b = self.data;
            if self.pos >= b.len() {
                return None;
            }
            let first = u8_at(b, self.pos);
            match form {
                ExtensionForm::OneByte => {
                    if first == 0 {
                        self.pos += 1; // padding
                        continue;
                    }
                    let id = first >> 4;
                    if id == 15 {
                        // RFC 8285 §4.2: stop processing the block.
                        self.pos = b.len();
                        return None;
                    }
                    let len = usize::from(first & 0x0f) + 1;
                    let start = self.pos + 1;
                    return Some(self.take(id, start, len));
                }
                ExtensionForm::TwoByte => {
                    if first == 0 {
                        self.pos += 1;
                        continue;
                    }
                    if self.pos + 2 > b.len() {
                        self.pos = b.len();
                        return Some(Err(Error::BadExtension("two-byte element header cut")));
                    }
                    let len = usize::from(u8_at(b, self.pos + 1));
                    let start = self.pos + 2;
                    return Some(self.take(first, start, len));
                }
            }
        }
    }
}

impl<'a> Extensions<'a> {
    #[inline]
    fn take(&mut self, id: u8, start: usize, len: usize) -> Result<ExtensionElement<'a>> {
        let end = start + len;
        if end > self.data.len() {
            self.pos = self.data.len();
            return Err(Error::BadExtension("element overruns the extension block"));
        }
        self.pos = end;
        Ok(ExtensionElement {
            id,
            data: sub(self.data, start, end),
        })
    }
}

/// Capacity of an [`ExtensionsBuilder`], in bytes of block body.
pub const BUILDER_CAPACITY: usize = 256;

/// Collects header extension elements for one packet, in an inline buffer (no allocation),
/// choosing the one-byte form while every element allows it and switching to the two-byte
/// form when one does not (id > 14, empty or longer than 16 bytes).
///
/// ```
/// use rtcwire_rtp::rtp::{ExtensionsBuilder, ExtensionForm};
/// let mut ext = ExtensionsBuilder::new();
/// ext.push(1, b"0").unwrap();
/// ext.push(3, &[0x12, 0x34, 0x56]).unwrap();
/// assert_eq!(ext.form(), ExtensionForm::OneByte);
/// ext.push(20, b"a").unwrap();
/// assert_eq!(ext.form(), ExtensionForm::TwoByte);
/// let ids: Vec<u8> = ext.block().elements().map(|e| e.unwrap().id).collect();
/// assert_eq!(ids, [1, 3, 20]);
/// ```
#[derive(Clone)]
pub struct ExtensionsBuilder {
    buf: [u8; BUILDER_CAPACITY],
    len: usize,
    form: ExtensionForm,
    force_two_byte: bool,
}

impl std::fmt::Debug for ExtensionsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtensionsBuilder")
            .field("form", &self.form)
            .field("len", &self.len)
            .finish()
    }
}

impl Default for ExtensionsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ExtensionsBuilder {
    /// An empty builder, one-byte form until an element needs two bytes.
    pub fn new() -> Self {
        ExtensionsBuilder {
            buf: [0; BUILDER_CAPACITY],
            len: 0,
            form: ExtensionForm::OneByte,
            force_two_byte: false,
        }
    }

    /// An empty builder that always writes the two-byte form (when the peer negotiated
    /// `a=extmap-allow-mixed` and the caller prefers it).
    pub fn two_byte() -> Self {
        let mut b = Self::new();
        b.form = ExtensionForm::TwoByte;
        b.force_two_byte = true;
        b
    }

    /// Removes every element (keeps the forced form).
    pub fn clear(&mut self) {
        self.len = 0;
        if !self.force_two_byte {
            self.form = ExtensionForm::OneByte;
        }
    }

    /// Whether no element was pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The current form.
    pub fn form(&self) -> ExtensionForm {
        self.form
    }

    /// Appends an element. Id 0 is reserved in both forms; data is at most 255 bytes.
    pub fn push(&mut self, id: u8, data: &[u8]) -> Result<()> {
        if id == 0 {
            return Err(Error::BadExtension("id 0 is reserved"));
        }
        if data.len() > 255 {
            return Err(Error::OutOfRange("extension element longer than 255 bytes"));
        }
        let fits_one = id <= ONE_BYTE_MAX_ID && !data.is_empty() && data.len() <= ONE_BYTE_MAX_LEN;
        if self.form == ExtensionForm::OneByte && !fits_one {
            self.convert_to_two_byte()?;
        }
        let hdr = if self.form == ExtensionForm::OneByte {
            1
        } else {
            2
        };
        let end = self.len + hdr + data.len();
        // Leave room for the padding to a 4-byte boundary.
        if end.div_ceil(4) * 4 > BUILDER_CAPACITY {
            return Err(Error::OutOfRange(
                "header extensions exceed the builder capacity",
            ));
        }
        if hdr == 1 {
            put_u8(&mut self.buf, self.len, (id << 4) | (data.len() as u8 - 1));
        } else {
            put_u8(&mut self.buf, self.len, id);
            put_u8(&mut self.buf, self.len + 1, data.len() as u8);
        }
        crate::wire::put_slice(&mut self.buf, self.len + hdr, data);
        self.len = end;
        // Zero the padding up to the next word (the buffer may hold an older packet's bytes).
        let padded = self.padded_len();
        if let Some(pad) = self.buf.get_mut(end..padded) {
            pad.fill(0);
        }
        Ok(())
    }

    fn convert_to_two_byte(&mut self) -> Result<()> {
        let old = self.buf;
        let old_len = self.len;
        let elements = ExtensionBlock {
            profile: ONE_BYTE_PROFILE,
            data: sub(&old, 0, old_len),
        }
        .elements();
        self.len = 0;
        self.form = ExtensionForm::TwoByte;
        for e in elements {
            let e = e?;
            self.push(e.id, e.data)?;
        }
        Ok(())
    }

    /// Length of the block body once padded to 4 bytes.
    pub fn padded_len(&self) -> usize {
        self.len.div_ceil(4) * 4
    }

    /// The block as it goes on the wire (padded with zero bytes). Empty when nothing was
    /// pushed; an empty block is normally omitted (X bit clear).
    pub fn block(&self) -> ExtensionBlock<'_> {
        let profile = match self.form {
            ExtensionForm::OneByte => ONE_BYTE_PROFILE,
            ExtensionForm::TwoByte => TWO_BYTE_PROFILE,
        };
        let padded = self.padded_len();
        ExtensionBlock {
            profile,
            // `push` zeroes the bytes between the last element and the word boundary.
            data: sub(&self.buf, 0, padded),
        }
    }
}

/// Writes an extension block header and body at `at` in `buf` (room already checked).
pub(crate) fn write_block(buf: &mut [u8], at: usize, block: &ExtensionBlock<'_>) {
    put_u16(buf, at, block.profile);
    put_u16(buf, at + 2, (block.data.len() / 4) as u16);
    crate::wire::put_slice(buf, at + 4, block.data);
}
