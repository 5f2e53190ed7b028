//! The line scanner: splits the text into lines, checks the RFC 8866 §5 grammar and order,
//! validates every line and every modelled attribute, and records where each line is.
//!
//! One pass, no allocation per line: each line becomes a 16-byte [`Line`] of offsets into
//! the text, which is copied once (or rebuilt once when its line endings need normalising).

use crate::attr::{AttrKind, Direction};
use crate::error::Error;
use crate::fields::{Bandwidth, Connection, MediaLine, Origin, Timing};
use crate::Limits;

/// Where one line sits in the description's text, and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line {
    /// Byte offset of the type letter.
    pub(crate) start: u32,
    /// Length without the line ending.
    pub(crate) len: u32,
    /// For `a=` lines with a value: offset of the `:` from `start`; otherwise 0.
    pub(crate) colon: u32,
    /// The type letter, e.g. `b'a'`.
    pub(crate) ty: u8,
    /// For `a=` lines: which attribute.
    pub(crate) attr: AttrKind,
}

/// The result of a scan: lines, media section starts, and whether the text was already
/// in canonical form (every line ended by CRLF).
pub(crate) struct Scan {
    pub(crate) lines: Vec<Line>,
    pub(crate) media: Vec<u32>,
    pub(crate) canonical: bool,
}

/// Where we are in the grammar of RFC 8866 §9.
struct Order {
    /// Rank of the last line (see [`session_rank`] / [`media_rank`]); -1 before `v=`.
    rank: i8,
    in_media: bool,
    /// Attributes seen in the current section.
    attrs: usize,
    /// Single-occurrence attributes seen in the current section, one bit per [`AttrKind`].
    seen: u64,
}

/// Session-level order: v o s i u e p c b (t r*)+ z k a*.
fn session_rank(ty: u8) -> Option<(i8, bool)> {
    // (rank, may repeat)
    Some(match ty {
        b'v' => (0, false),
        b'o' => (1, false),
        b's' => (2, false),
        b'i' => (3, false),
        b'u' => (4, false),
        b'e' => (5, true),
        b'p' => (6, true),
        b'c' => (7, false),
        b'b' => (8, true),
        b't' => (9, true),
        b'r' => (10, true),
        b'z' => (11, false),
        b'k' => (12, false),
        b'a' => (13, true),
        _ => return None,
    })
}

/// Media-level order: m i c* b* k a*.
fn media_rank(ty: u8) -> Option<(i8, bool)> {
    Some(match ty {
        b'm' => (0, false),
        b'i' => (1, false),
        b'c' => (2, true),
        b'b' => (3, true),
        b'k' => (4, false),
        b'a' => (5, true),
        _ => return None,
    })
}

const TYPES: &[u8] = b"vosiuepcbtrzkam";

impl Order {
    fn step(&mut self, ty: u8, line: usize) -> Result<(), Error> {
        let kind = char::from(ty);
        let misplaced = |reason| Error::Misplaced { line, kind, reason };
        if ty == b'm' {
            if self.rank < 9 && !self.in_media {
                return Err(self.missing(line));
            }
            self.in_media = true;
            self.rank = 0;
            self.attrs = 0;
            self.seen = 0;
            return Ok(());
        }
        if self.in_media {
            let (rank, repeat) =
                media_rank(ty).ok_or(misplaced("only allowed at session level"))?;
            if rank < self.rank || (rank == self.rank && !repeat) {
                return Err(misplaced("out of order in a media section (m i c b k a)"));
            }
            self.rank = rank;
            return Ok(());
        }
        let (rank, repeat) =
            session_rank(ty).ok_or(misplaced("only allowed in a media section"))?;
        if self.rank < 2 && rank != self.rank + 1 {
            return Err(self.missing(line));
        }
        if rank == 10 && self.rank != 9 && self.rank != 10 {
            return Err(misplaced("r= must follow t="));
        }
        let new_time = rank == 9 && self.rank == 10;
        if rank > 9 && self.rank < 9 {
            return Err(self.missing(line));
        }
        if !new_time && (rank < self.rank || (rank == self.rank && !repeat)) {
            return Err(misplaced(
                "out of order at session level (v o s i u e p c b t r z k a)",
            ));
        }
        self.rank = rank;
        Ok(())
    }

    /// The required line missing before `line`.
    fn missing(&self, line: usize) -> Error {
        let kind = match self.rank {
            -1 => 'v',
            0 => 'o',
            1 => 's',
            _ => 't',
        };
        Error::Missing { line, kind }
    }
}

/// Scans and validates `input`.
pub(crate) fn scan(input: &str, limits: &Limits) -> Result<Scan, Error> {
    let max_len = limits.max_len.min(u32::MAX as usize);
    if input.len() > max_len {
        return Err(Error::TooLarge {
            len: input.len(),
            limit: max_len,
        });
    }
    if input.is_empty() {
        return Err(Error::Empty);
    }
    let bytes = input.as_bytes();
    let mut lines = Vec::with_capacity(bytes.len() / 32 + 4);
    let mut media = Vec::new();
    let mut canonical = true;
    let mut order = Order {
        rank: -1,
        in_media: false,
        attrs: 0,
        seen: 0,
    };
    let mut pos = 0usize;
    while pos < bytes.len() {
        let number = lines.len() + 1;
        if number > limits.max_lines {
            return Err(Error::TooManyLines {
                line: number,
                limit: limits.max_lines,
            });
        }
        // The line ends at LF or CRLF; any other CR, or a NUL, is an error.
        let (end, next) = match find_special(bytes, pos) {
            None => {
                canonical = false;
                (bytes.len(), bytes.len())
            }
            Some(i) => match bytes.get(i).copied().unwrap_or(0) {
                b'\n' => {
                    canonical = false;
                    (i, i + 1)
                }
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => (i, i + 2),
                byte => return Err(Error::ControlChar { line: number, byte }),
            },
        };
        let text = input
            .get(pos..end)
            .ok_or(Error::Malformed { line: number })?;
        let line = check_line(text, number, pos, limits, &mut order)?;
        if line.ty == b'm' {
            if media.len() >= limits.max_media {
                return Err(Error::TooManyMedia {
                    line: number,
                    limit: limits.max_media,
                });
            }
            media.push(lines.len() as u32);
        }
        lines.push(line);
        pos = next;
    }
    if order.rank < 9 && !order.in_media {
        return Err(order.missing(lines.len() + 1));
    }
    Ok(Scan {
        lines,
        media,
        canonical,
    })
}

/// Finds the first LF, CR or NUL at or after `from`, eight bytes at a time (SWAR).
fn find_special(bytes: &[u8], from: usize) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    // Flags the zero bytes of `v`; the lowest flag is exact (higher ones may be false
    // positives above a true zero), which is all a search for the first match needs.
    let zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let rest = bytes.get(from..)?;
    let mut chunks = rest.chunks_exact(8);
    let mut at = from;
    for chunk in &mut chunks {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let v = u64::from_le_bytes(word);
        let m = zero(v ^ (LO * u64::from(b'\n'))) | zero(v ^ (LO * u64::from(b'\r'))) | zero(v);
        if m != 0 {
            return Some(at + (m.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'\n' || b == b'\r' || b == 0)
        .map(|p| at + p)
}

/// Checks one line (without its line ending) and describes it.
fn check_line(
    text: &str,
    number: usize,
    start: usize,
    limits: &Limits,
    order: &mut Order,
) -> Result<Line, Error> {
    let b = text.as_bytes();
    if b.is_empty() {
        return Err(Error::EmptyLine { line: number });
    }
    if b.len() > limits.max_line_len {
        return Err(Error::LineTooLong {
            line: number,
            len: b.len(),
            limit: limits.max_line_len,
        });
    }
    let ty = b.first().copied().unwrap_or(0);
    if b.get(1) != Some(&b'=') || !ty.is_ascii_lowercase() {
        return Err(Error::Malformed { line: number });
    }
    if !TYPES.contains(&ty) {
        return Err(Error::UnknownType {
            line: number,
            kind: char::from(ty),
        });
    }
    order.step(ty, number)?;
    let value = text.get(2..).unwrap_or_default();
    let mut line = Line {
        start: start as u32,
        len: b.len() as u32,
        colon: 0,
        ty,
        attr: AttrKind::Other,
    };
    let field = match ty {
        b'v' if value != "0" => {
            return Err(Error::Invalid {
                line: number,
                field: "v=",
                reason: "version is not 0",
            })
        }
        b'o' => Origin::parse(value)
            .map(drop)
            .map_err(|e| e.at(number, "o=")),
        b't' => Timing::parse(value)
            .map(drop)
            .map_err(|e| e.at(number, "t=")),
        b'c' => Connection::parse(value)
            .map(drop)
            .map_err(|e| e.at(number, "c=")),
        b'b' => Bandwidth::parse(value)
            .map(drop)
            .map_err(|e| e.at(number, "b=")),
        b'm' => MediaLine::parse(value)
            .map(drop)
            .map_err(|e| e.at(number, "m=")),
        b'a' => {
            check_attribute(value, number, limits, order, &mut line)?;
            Ok(())
        }
        _ => Ok(()),
    };
    field.map(|()| line)
}

/// Checks an `a=` line's value (after `a=`) and classifies it.
fn check_attribute(
    value: &str,
    number: usize,
    limits: &Limits,
    order: &mut Order,
    line: &mut Line,
) -> Result<(), Error> {
    order.attrs += 1;
    if order.attrs > limits.max_attributes {
        return Err(Error::TooManyAttributes {
            line: number,
            limit: limits.max_attributes,
        });
    }
    let (name, val) = match value.bytes().position(|c| c == b':') {
        Some(i) => {
            line.colon = (i + 2) as u32;
            (value.get(..i).unwrap_or_default(), value.get(i + 1..))
        }
        None => (value, None),
    };
    if name.is_empty() || !name.bytes().all(crate::attr::is_token_char) {
        return Err(Error::Invalid {
            line: number,
            field: "attribute",
            reason: "name is not a token",
        });
    }
    let kind = AttrKind::from_name(name);
    line.attr = kind;
    if kind == AttrKind::Other {
        return Ok(());
    }
    kind.validate(val).map_err(|e| e.at(number, kind.field()))?;
    let bit = if Direction::from_kind(kind).is_some() {
        Some(1u64 << 63)
    } else if kind.is_single() {
        Some(1u64 << (kind as u8))
    } else {
        None
    };
    if let Some(bit) = bit {
        if order.seen & bit != 0 {
            return Err(Error::Duplicate {
                line: number,
                field: kind.field(),
            });
        }
        order.seen |= bit;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_special_agrees_with_a_plain_search() {
        let mut text = b"a=0123456789abcdefghij".to_vec();
        for at in 0..text.len() {
            for special in [b'\n', b'\r', 0u8] {
                let saved = text[at];
                text[at] = special;
                for from in 0..=at {
                    assert_eq!(find_special(&text, from), Some(at), "at {at} from {from}");
                }
                assert_eq!(find_special(&text, at + 1), None);
                text[at] = saved;
            }
        }
        assert_eq!(find_special(b"", 0), None);
        assert_eq!(find_special(b"abc", 7), None);
    }

    #[test]
    fn canonical_only_when_every_line_ends_in_crlf() {
        let l = Limits::default();
        let crlf = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";
        assert!(scan(crlf, &l).unwrap().canonical);
        assert!(
            !scan(&crlf.replace("s=-\r\n", "s=-\n"), &l)
                .unwrap()
                .canonical
        );
        assert!(!scan(crlf.trim_end(), &l).unwrap().canonical);
    }

    #[test]
    fn lines_index_the_text() {
        let text =
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=mid:a\r\n";
        let s = scan(text, &Limits::default()).unwrap();
        assert_eq!(s.lines.len(), 6);
        assert_eq!(s.media, [4]);
        let mid = s.lines[5];
        assert_eq!((mid.ty, mid.attr, mid.colon), (b'a', AttrKind::Mid, 5));
        assert_eq!(
            &text[mid.start as usize..(mid.start + mid.len) as usize],
            "a=mid:a"
        );
    }

    #[test]
    fn session_order_allows_optional_lines_and_repeats() {
        let text = "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\ni=x\nu=y\ne=a\ne=b\np=c\nc=IN IP4 0.0.0.0\n\
                    b=AS:1\nb=CT:2\nt=0 0\nr=1 2 3\nr=4 5 6\nt=1 2\nz=0 0\nk=clear:x\na=x\na=y\n\
                    m=audio 9 RTP/AVP 0\ni=m\nc=IN IP4 0.0.0.0\nc=IN IP4 0.0.0.0\nb=AS:1\nk=prompt\na=z\n";
        assert!(scan(text, &Limits::default()).is_ok());
        let bad = "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nc=IN IP4 0.0.0.0\n";
        assert!(matches!(
            scan(bad, &Limits::default()),
            Err(Error::Misplaced {
                line: 5,
                kind: 'c',
                ..
            })
        ));
    }
}
