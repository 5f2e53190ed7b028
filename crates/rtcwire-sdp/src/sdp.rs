//! [`Sdp`]: a parsed session description that keeps every line.

use std::fmt;
use std::str::FromStr;

use crate::attr::AttrKind;
use crate::error::Error;
use crate::model::Description;
use crate::parse::{scan, Line};
use crate::view::{MediaView, SessionView};

/// Caps applied while parsing. Every one is checked before the input can cost more than it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest description in bytes (at most `u32::MAX`).
    pub max_len: usize,
    /// Most lines.
    pub max_lines: usize,
    /// Longest line in bytes, without its line ending.
    pub max_line_len: usize,
    /// Most media sections (`m=` lines).
    pub max_media: usize,
    /// Most attributes in one section (the session, or one media section).
    pub max_attributes: usize,
}

impl Default for Limits {
    /// Roomy enough for a browser offer with hundreds of transceivers: 1 MiB, 32768 lines of
    /// up to 8 KiB, 1024 media sections of up to 4096 attributes.
    fn default() -> Self {
        Self {
            max_len: 1 << 20,
            max_lines: 32 * 1024,
            max_line_len: 8 * 1024,
            max_media: 1024,
            max_attributes: 4096,
        }
    }
}

/// A session description, parsed without loss.
///
/// It keeps the text once (line endings normalised to CRLF) and an index of its lines, so
/// [`as_str`](Self::as_str) gives back exactly what was parsed, unknown attributes and all.
/// Typed values are read through [`session`](Self::session) and [`media`](Self::media)
/// views, which parse the lines they need on each call and borrow from the text; the whole
/// typed model is [`description`](Self::description).
///
/// Parsing checks the grammar and order of RFC 8866 and the syntax of every attribute this
/// crate models, so a typed accessor never meets a malformed line.
#[derive(Clone, PartialEq, Eq)]
pub struct Sdp {
    text: String,
    lines: Vec<Line>,
    media: Vec<u32>,
}

impl Sdp {
    /// Parses with the default [`Limits`].
    pub fn parse(input: &str) -> Result<Self, Error> {
        Self::parse_with(input, &Limits::default())
    }

    /// Parses with the given limits.
    pub fn parse_with(input: &str, limits: &Limits) -> Result<Self, Error> {
        let mut scan = scan(input, limits)?;
        let text = if scan.canonical {
            input.to_owned()
        } else {
            let mut text = String::with_capacity(input.len() + scan.lines.len());
            for line in &mut scan.lines {
                let (s, e) = (line.start as usize, (line.start + line.len) as usize);
                line.start = text.len() as u32;
                text.push_str(input.get(s..e).unwrap_or_default());
                text.push_str("\r\n");
            }
            text
        };
        Ok(Self {
            text,
            lines: scan.lines,
            media: scan.media,
        })
    }

    /// The description as text: every line as parsed, each ended by CRLF.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Appends the description's text to `out`.
    pub fn write_to(&self, out: &mut String) {
        out.push_str(&self.text);
    }

    /// Takes the text out.
    #[must_use]
    pub fn into_string(self) -> String {
        self.text
    }

    /// Every line in order.
    pub fn lines(&self) -> impl ExactSizeIterator<Item = LineRef<'_>> + '_ {
        self.lines
            .iter()
            .enumerate()
            .map(|(i, l)| LineRef::new(self, i, *l))
    }

    /// The session-level part (everything before the first `m=`).
    #[must_use]
    pub fn session(&self) -> SessionView<'_> {
        let end = self.media.first().map_or(self.lines.len(), |&m| m as usize);
        SessionView::new(self, self.lines.get(..end).unwrap_or_default())
    }

    /// The media sections in order.
    pub fn media(&self) -> impl ExactSizeIterator<Item = MediaView<'_>> + '_ {
        (0..self.media.len()).map(move |i| self.section(i))
    }

    /// How many media sections there are.
    #[must_use]
    pub fn media_count(&self) -> usize {
        self.media.len()
    }

    /// The media section at `index`.
    #[must_use]
    pub fn media_at(&self, index: usize) -> Option<MediaView<'_>> {
        (index < self.media.len()).then(|| self.section(index))
    }

    /// Media section `index`, which must exist (an empty view otherwise).
    fn section(&self, index: usize) -> MediaView<'_> {
        let start = self.media.get(index).map_or(0, |&m| m as usize);
        let end = self
            .media
            .get(index + 1)
            .map_or(self.lines.len(), |&m| m as usize);
        MediaView::new(
            self,
            self.lines.get(start..end).unwrap_or_default(),
            index,
            start + 1,
        )
    }

    /// The media section whose `a=mid` is `mid`.
    #[must_use]
    pub fn media_by_mid(&self, mid: &str) -> Option<MediaView<'_>> {
        self.media().find(|m| m.mid() == Some(mid))
    }

    /// The whole typed model, borrowing from this description.
    #[must_use]
    pub fn description(&self) -> Description<'_> {
        Description::from_sdp(self)
    }

    /// The text of a line without its type letter and `=`.
    pub(crate) fn value_of(&self, l: &Line) -> &str {
        let s = l.start as usize;
        self.text.get(s + 2..s + l.len as usize).unwrap_or_default()
    }

    /// An `a=` line's name and value.
    pub(crate) fn attr_of(&self, l: &Line) -> (&str, Option<&str>) {
        let s = l.start as usize;
        let e = s + l.len as usize;
        if l.colon == 0 {
            (self.text.get(s + 2..e).unwrap_or_default(), None)
        } else {
            let c = s + l.colon as usize;
            (
                self.text.get(s + 2..c).unwrap_or_default(),
                self.text.get(c + 1..e),
            )
        }
    }

    pub(crate) fn is_attr(l: &Line, kind: AttrKind) -> bool {
        l.ty == b'a' && l.attr == kind
    }
}

impl FromStr for Sdp {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl fmt::Display for Sdp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Sdp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sdp")
            .field("lines", &self.lines.len())
            .field("media", &self.media.len())
            .field("text", &self.text)
            .finish()
    }
}

impl AsRef<str> for Sdp {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

/// One line of a description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRef<'a> {
    number: usize,
    ty: u8,
    value: &'a str,
    name: Option<&'a str>,
    attr_value: Option<&'a str>,
}

impl<'a> LineRef<'a> {
    fn new(sdp: &'a Sdp, index: usize, l: Line) -> Self {
        let (name, attr_value) = if l.ty == b'a' {
            let (n, v) = sdp.attr_of(&l);
            (Some(n), v)
        } else {
            (None, None)
        };
        Self {
            number: index + 1,
            ty: l.ty,
            value: sdp.value_of(&l),
            name,
            attr_value,
        }
    }

    /// The 1-based line number.
    #[must_use]
    pub fn number(&self) -> usize {
        self.number
    }

    /// The type letter, e.g. `'a'`.
    #[must_use]
    pub fn kind(&self) -> char {
        char::from(self.ty)
    }

    /// Everything after `<type>=`.
    #[must_use]
    pub fn value(&self) -> &'a str {
        self.value
    }

    /// For an `a=` line, the attribute name.
    #[must_use]
    pub fn attribute_name(&self) -> Option<&'a str> {
        self.name
    }

    /// For an `a=` line with a value, what follows the colon.
    #[must_use]
    pub fn attribute_value(&self) -> Option<&'a str> {
        self.attr_value
    }
}
