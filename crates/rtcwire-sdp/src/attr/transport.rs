//! Transport attributes: `a=fingerprint` (RFC 8122 §5), `a=setup` (RFC 4145 §4) and
//! `a=group` (RFC 5888, BUNDLE of RFC 8843).

use std::borrow::Cow;
use std::fmt;

use super::{cut, fields, owned, token};
use crate::error::Bad;

/// Longest certificate fingerprint accepted as SDP text, in bytes (SHA-512).
const MAX_FINGERPRINT: usize = 64;
/// Most identification tags in one `a=group`.
const MAX_GROUP: usize = 256;

/// `a=fingerprint:<hash function> <XX:XX:...>`: the hash of the DTLS certificate. The type
/// is the workspace's one ([`rtcwire_proto::Fingerprint`]), which rtcwire-dtls checks the
/// peer's certificate against; this module only says how SDP lines map to it.
pub use rtcwire_proto::{Fingerprint, FingerprintAlgorithm};

/// How an `a=fingerprint` value is checked and read.
pub(crate) struct FingerprintLine;

impl FingerprintLine {
    fn split(v: &str) -> Result<(&str, &str), Bad> {
        let (hash, fp) = cut(v, b' ').ok_or(Bad("expected '<hash function> <hex pairs>'"))?;
        token(hash)?;
        if fp.len() > MAX_FINGERPRINT * 3 - 1 {
            return Err(Bad("fingerprint longer than 64 bytes"));
        }
        Ok((hash, fp))
    }

    /// The line's shape: a hash-function token and hex pairs. A hash function outside the
    /// registry, or a digest of the wrong length, still parses as SDP (the text is kept); it
    /// only has no typed value.
    pub(crate) fn validate(v: &str) -> Result<(), Bad> {
        let (_, fp) = Self::split(v)?;
        fields(fp, b':').try_for_each(|pair| {
            let b = pair.as_bytes();
            if b.len() == 2 && b.iter().all(u8::is_ascii_hexdigit) {
                Ok(())
            } else {
                Err(Bad("fingerprint is not hex pairs separated by ':'"))
            }
        })
    }

    /// The typed fingerprint (registered hash function, digest of its length).
    pub(crate) fn parse_value(v: &str) -> Result<Fingerprint, Bad> {
        Self::validate(v)?;
        Fingerprint::parse(v).map_err(|e| match e {
            rtcwire_proto::FingerprintError::UnknownAlgorithm => Bad("unknown hash function"),
            rtcwire_proto::FingerprintError::WrongLength { .. } => {
                Bad("fingerprint length does not match its hash function")
            }
            _ => Bad("expected '<hash function> <hex pairs>'"),
        })
    }
}

/// `a=setup`: which side of the DTLS connection each endpoint takes (RFC 4145 §4,
/// RFC 8842).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setup {
    /// `active`: this endpoint is the DTLS client.
    Active,
    /// `passive`: this endpoint is the DTLS server.
    Passive,
    /// `actpass`: either; offers must use this.
    ActPass,
    /// `holdconn`: no connection yet.
    HoldConn,
}

impl Setup {
    /// The token as written in SDP.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Passive => "passive",
            Self::ActPass => "actpass",
            Self::HoldConn => "holdconn",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, Bad> {
        match s {
            "active" => Ok(Self::Active),
            "passive" => Ok(Self::Passive),
            "actpass" => Ok(Self::ActPass),
            "holdconn" => Ok(Self::HoldConn),
            _ => Err(Bad("expected active, passive, actpass or holdconn")),
        }
    }
}

impl fmt::Display for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `a=group:<semantics> <mid>...` (RFC 5888 §5), e.g. `BUNDLE 0 1 2` (RFC 8843).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Group<'a> {
    /// The semantics, e.g. `"BUNDLE"`, `"LS"`.
    pub semantics: Cow<'a, str>,
    /// The media identification tags, in order.
    pub mids: Vec<Cow<'a, str>>,
}

impl<'a> Group<'a> {
    /// A BUNDLE group of the given mids.
    pub fn bundle<S: Into<Cow<'a, str>>>(mids: impl IntoIterator<Item = S>) -> Self {
        Self {
            semantics: Cow::Borrowed("BUNDLE"),
            mids: mids.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether this is a BUNDLE group.
    #[must_use]
    pub fn is_bundle(&self) -> bool {
        self.semantics == "BUNDLE"
    }

    pub(crate) fn validate(v: &str) -> Result<(), Bad> {
        let mut it = fields(v, b' ');
        token(it.next().unwrap_or(""))?;
        for (n, mid) in it.enumerate() {
            if n >= MAX_GROUP {
                return Err(Bad("too many mids"));
            }
            token(mid)?;
        }
        Ok(())
    }

    pub(crate) fn parse_value(v: &'a str) -> Result<Self, Bad> {
        Self::validate(v)?;
        let mut it = fields(v, b' ').map(Cow::Borrowed);
        let semantics = it.next().unwrap_or_default();
        Ok(Self {
            semantics,
            mids: it.collect(),
        })
    }

    /// Copies borrowed text so the value outlives the description it came from.
    #[must_use]
    pub fn into_owned(self) -> Group<'static> {
        Group {
            semantics: owned(self.semantics),
            mids: self.mids.into_iter().map(owned).collect(),
        }
    }
}

impl fmt::Display for Group<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.semantics)?;
        for m in &self.mids {
            write!(f, " {m}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_round_trip_and_errors() {
        let v = "sha-256 97:CB:0E:90:26:17:D3:A1:C1:87:5B:36:CC:23:F1:47:28:FF:96:A8:76:BE:9C:0C:FC:20:FF:FE:80:A1:FA:C7";
        let f = FingerprintLine::parse_value(v).unwrap();
        assert_eq!(f.algorithm, FingerprintAlgorithm::Sha256);
        assert_eq!(f.value.len(), 32);
        assert_eq!(f.value[0], 0x97);
        assert_eq!(f.value[31], 0xC7);
        assert_eq!(f.to_string(), v);
        // Valid SDP, but no typed value: a short digest, an unregistered hash function.
        assert!(FingerprintLine::validate("sha-1 ab:cd").is_ok());
        assert!(FingerprintLine::parse_value("sha-1 ab:cd").is_err());
        assert!(FingerprintLine::validate("sha-3 ab:cd").is_ok());
        assert!(FingerprintLine::parse_value("sha-3 ab:cd").is_err());
        assert!(FingerprintLine::validate("sha-256 AB:C").is_err());
        assert!(FingerprintLine::validate("sha-256 AB::CD").is_err());
        assert!(FingerprintLine::validate("sha-256").is_err());
        assert!(FingerprintLine::validate(&format!("sha-256 {}", ["AA"; 65].join(":"))).is_err());
    }

    #[test]
    fn bundle_group() {
        let g = Group::parse_value("BUNDLE 0 1 2").unwrap();
        assert!(g.is_bundle());
        assert_eq!(g.mids.len(), 3);
        assert_eq!(g, Group::bundle(["0", "1", "2"]));
        // A group may be empty of mids (RFC 5888 allows it syntactically).
        assert!(Group::parse_value("BUNDLE").unwrap().mids.is_empty());
    }
}
