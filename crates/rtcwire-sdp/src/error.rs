//! The crate's one error type.

/// What was wrong with a session description, and on which line.
///
/// Line numbers are 1-based and count lines as they appear in the input (after splitting on
/// LF; a trailing CR is part of the line ending). Values parsed on their own, outside a
/// description (for example [`Candidate::parse`](crate::Candidate::parse) on a trickled
/// candidate), fail with [`Error::InvalidValue`], which has no line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The whole description is longer than [`Limits::max_len`](crate::Limits::max_len).
    #[error("description is {len} bytes long, more than the limit of {limit}")]
    TooLarge {
        /// Length of the input in bytes.
        len: usize,
        /// The limit in force.
        limit: usize,
    },
    /// More lines than [`Limits::max_lines`](crate::Limits::max_lines).
    #[error("line {line}: more than {limit} lines")]
    TooManyLines {
        /// First line over the limit.
        line: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A line longer than [`Limits::max_line_len`](crate::Limits::max_line_len).
    #[error("line {line}: {len} bytes long, more than the limit of {limit}")]
    LineTooLong {
        /// The line.
        line: usize,
        /// Its length in bytes, without the line ending.
        len: usize,
        /// The limit in force.
        limit: usize,
    },
    /// More media sections than [`Limits::max_media`](crate::Limits::max_media).
    #[error("line {line}: more than {limit} media sections")]
    TooManyMedia {
        /// The first `m=` line over the limit.
        line: usize,
        /// The limit in force.
        limit: usize,
    },
    /// More attributes in one section than
    /// [`Limits::max_attributes`](crate::Limits::max_attributes).
    #[error("line {line}: more than {limit} attributes in one section")]
    TooManyAttributes {
        /// The first attribute over the limit.
        line: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The input is empty.
    #[error("empty description")]
    Empty,
    /// An empty line (SDP has none).
    #[error("line {line}: empty line")]
    EmptyLine {
        /// The line.
        line: usize,
    },
    /// A line that is not `<letter>=<value>`.
    #[error("line {line}: not of the form <type>=<value>")]
    Malformed {
        /// The line.
        line: usize,
    },
    /// A NUL or a carriage return inside a line.
    #[error("line {line}: forbidden control character {byte:#04x}")]
    ControlChar {
        /// The line.
        line: usize,
        /// The byte found.
        byte: u8,
    },
    /// A type letter RFC 8866 does not define (a parser must reject these).
    #[error("line {line}: unknown line type '{kind}='")]
    UnknownType {
        /// The line.
        line: usize,
        /// The type letter.
        kind: char,
    },
    /// A line in a place RFC 8866 §5 does not allow (wrong order, repeated, or at the wrong
    /// level).
    #[error("line {line}: '{kind}=' not allowed here: {reason}")]
    Misplaced {
        /// The line.
        line: usize,
        /// Its type letter.
        kind: char,
        /// What the grammar expected.
        reason: &'static str,
    },
    /// A required line is missing.
    #[error("line {line}: missing '{kind}=' line")]
    Missing {
        /// Where it was expected.
        line: usize,
        /// The missing type letter.
        kind: char,
    },
    /// A line or attribute whose value does not follow its grammar.
    #[error("line {line}: invalid {field}: {reason}")]
    Invalid {
        /// The line.
        line: usize,
        /// The line type or attribute, e.g. `"o="` or `"a=candidate"`.
        field: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
    /// An attribute that may appear once per section appears again.
    #[error("line {line}: {field} appears more than once in this section")]
    Duplicate {
        /// The second occurrence.
        line: usize,
        /// The attribute, e.g. `"a=mid"`.
        field: &'static str,
    },
    /// A value parsed on its own (not inside a description) does not follow its grammar.
    #[error("invalid {field}: {reason}")]
    InvalidValue {
        /// The attribute, e.g. `"a=candidate"`.
        field: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
}

impl Error {
    /// The 1-based line the error is about, if it is about one.
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        match *self {
            Error::TooManyLines { line, .. }
            | Error::LineTooLong { line, .. }
            | Error::TooManyMedia { line, .. }
            | Error::TooManyAttributes { line, .. }
            | Error::EmptyLine { line }
            | Error::Malformed { line }
            | Error::ControlChar { line, .. }
            | Error::UnknownType { line, .. }
            | Error::Misplaced { line, .. }
            | Error::Missing { line, .. }
            | Error::Invalid { line, .. }
            | Error::Duplicate { line, .. } => Some(line),
            Error::TooLarge { .. } | Error::Empty | Error::InvalidValue { .. } => None,
        }
    }
}

/// What a value parser found wrong; the caller adds the line and the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bad(pub(crate) &'static str);

impl Bad {
    /// This error, placed on a line of a description.
    pub(crate) fn at(self, line: usize, field: &'static str) -> Error {
        Error::Invalid {
            line,
            field,
            reason: self.0,
        }
    }

    /// This error, for a value parsed on its own.
    pub(crate) fn value(self, field: &'static str) -> Error {
        Error::InvalidValue {
            field,
            reason: self.0,
        }
    }
}
