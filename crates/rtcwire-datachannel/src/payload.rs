//! A message's content: [`Payload`], and [`Text`], UTF-8 held in `Bytes`.

use std::fmt;
use std::ops::Deref;

use bytes::Bytes;

/// A message's content. Received messages share memory the association reuses (see
/// [`rtcwire_sctp::Message::data`]): cloning is cheap, and nothing is allocated per
/// message in steady state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Payload {
    /// UTF-8 text (PPID 51, or 56 when empty).
    Text(Text),
    /// Binary (PPID 53, or 57 when empty).
    Binary(Bytes),
}

impl Payload {
    /// The content's bytes (text as UTF-8).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Payload::Text(t) => t.as_bytes(),
            Payload::Binary(b) => b,
        }
    }

    /// Length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the message is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// A text message.
    pub fn text(t: impl Into<Text>) -> Self {
        Payload::Text(t.into())
    }

    /// A binary message.
    pub fn binary(b: impl Into<Bytes>) -> Self {
        Payload::Binary(b.into())
    }
}

/// UTF-8 text in `Bytes` (checked when made): a received text message without a copy.
/// Derefs to `str`. Without unsafe code the check cannot be remembered, so
/// [`as_str`](Self::as_str) runs it again (vectorized, several GB/s); keep the `&str` when
/// using it many times.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(Bytes);

impl Text {
    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Checked at construction: never empty by failure.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The UTF-8 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The UTF-8 bytes, as `Bytes`.
    #[must_use]
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Text from a `&'static str`, without a copy.
    #[must_use]
    pub const fn from_static(s: &'static str) -> Self {
        Text(Bytes::from_static(s.as_bytes()))
    }
}

impl TryFrom<Bytes> for Text {
    type Error = std::str::Utf8Error;
    /// Checks that `b` is UTF-8 (no copy).
    fn try_from(b: Bytes) -> Result<Self, Self::Error> {
        std::str::from_utf8(&b)?;
        Ok(Text(b))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(Bytes::from(s))
    }
}

impl From<&str> for Text {
    /// Copies `s`.
    fn from(s: &str) -> Self {
        Text(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<Text> for String {
    fn from(t: Text) -> Self {
        t.as_str().to_owned()
    }
}

impl From<Text> for Bytes {
    fn from(t: Text) -> Self {
        t.0
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_checks_utf8_and_reads_as_str() {
        assert!(Text::try_from(Bytes::from_static(b"\xff\xfe")).is_err());
        let t = Text::try_from(Bytes::from_static("é€😀".as_bytes())).unwrap_or_default();
        assert_eq!(t, "é€😀");
        assert_eq!(t.chars().count(), 3);
        assert_eq!(format!("{t} {t:?}"), "é€😀 \"é€😀\"");
        assert_eq!(String::from(t.clone()), "é€😀");
        assert_eq!(Text::from("a"), Text::from(String::from("a")));
        assert_eq!(Text::from_static("a"), "a");
        let p = Payload::text("hi");
        assert_eq!((p.len(), p.as_bytes()), (2, &b"hi"[..]));
        assert!(Payload::binary(Vec::new()).is_empty());
    }
}
