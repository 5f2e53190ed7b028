//! The certificate fingerprint SDP carries and DTLS checks (RFC 8122 §5): one type and one
//! parser for both, so that what `a=fingerprint` says reaches the DTLS config unchanged.

use std::fmt;

/// The hash functions of the RFC 8122 registry ("Hash Function Textual Names").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FingerprintAlgorithm {
    /// `md2` (registered, obsolete).
    Md2,
    /// `md5` (registered, obsolete).
    Md5,
    /// `sha-1`.
    Sha1,
    /// `sha-224`.
    Sha224,
    /// `sha-256`: what browsers send.
    Sha256,
    /// `sha-384`.
    Sha384,
    /// `sha-512`.
    Sha512,
}

impl FingerprintAlgorithm {
    const ALL: [FingerprintAlgorithm; 7] = [
        FingerprintAlgorithm::Md2,
        FingerprintAlgorithm::Md5,
        FingerprintAlgorithm::Sha1,
        FingerprintAlgorithm::Sha224,
        FingerprintAlgorithm::Sha256,
        FingerprintAlgorithm::Sha384,
        FingerprintAlgorithm::Sha512,
    ];

    /// The name as SDP writes it (`"sha-256"`).
    #[must_use]
    pub const fn sdp_name(self) -> &'static str {
        match self {
            FingerprintAlgorithm::Md2 => "md2",
            FingerprintAlgorithm::Md5 => "md5",
            FingerprintAlgorithm::Sha1 => "sha-1",
            FingerprintAlgorithm::Sha224 => "sha-224",
            FingerprintAlgorithm::Sha256 => "sha-256",
            FingerprintAlgorithm::Sha384 => "sha-384",
            FingerprintAlgorithm::Sha512 => "sha-512",
        }
    }

    /// The algorithm named `name` (case-insensitive, as RFC 8122 asks).
    #[must_use]
    pub fn from_sdp_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.sdp_name().eq_ignore_ascii_case(name))
    }

    /// The digest length in bytes.
    #[must_use]
    pub const fn digest_len(self) -> usize {
        match self {
            FingerprintAlgorithm::Md2 | FingerprintAlgorithm::Md5 => 16,
            FingerprintAlgorithm::Sha1 => 20,
            FingerprintAlgorithm::Sha224 => 28,
            FingerprintAlgorithm::Sha256 => 32,
            FingerprintAlgorithm::Sha384 => 48,
            FingerprintAlgorithm::Sha512 => 64,
        }
    }
}

impl fmt::Display for FingerprintAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sdp_name())
    }
}

/// Why a fingerprint's text did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FingerprintError {
    /// Not `<hash function> <hex pairs>`.
    Shape,
    /// A hash function outside the registry.
    UnknownAlgorithm,
    /// Something other than two hex digits between the colons.
    NotHexPairs,
    /// The digest length does not match the hash function.
    WrongLength {
        /// Bytes the hash function produces.
        expected: usize,
        /// Bytes written.
        found: usize,
    },
}

impl fmt::Display for FingerprintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FingerprintError::Shape => f.write_str("expected '<hash function> <hex pairs>'"),
            FingerprintError::UnknownAlgorithm => f.write_str("unknown hash function"),
            FingerprintError::NotHexPairs => {
                f.write_str("fingerprint is not hex pairs separated by ':'")
            }
            FingerprintError::WrongLength { expected, found } => write!(
                f,
                "fingerprint has {found} bytes, the hash function gives {expected}"
            ),
        }
    }
}

impl std::error::Error for FingerprintError {}

/// A certificate fingerprint: the hash function and the digest.
///
/// Its text form is SDP's (`sha-256 AB:CD:…`, upper-case hex; parsing accepts either case).
///
/// ```
/// use rtcwire_proto::{Fingerprint, FingerprintAlgorithm};
///
/// let text = "sha-256 97:CB:0E:90:26:17:D3:A1:C1:87:5B:36:CC:23:F1:47:28:FF:96:A8:76:BE:9C:0C:FC:20:FF:FE:80:A1:FA:C7";
/// let fp = Fingerprint::parse(text)?;
/// assert_eq!(fp.algorithm, FingerprintAlgorithm::Sha256);
/// assert_eq!(fp.value[0], 0x97);
/// assert_eq!(fp.to_string(), text);
/// # Ok::<(), rtcwire_proto::FingerprintError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// The hash function.
    pub algorithm: FingerprintAlgorithm,
    /// The digest, exactly [`FingerprintAlgorithm::digest_len`] bytes when parsed.
    pub value: Vec<u8>,
}

impl Fingerprint {
    /// A fingerprint from its parts.
    pub fn new(algorithm: FingerprintAlgorithm, value: impl Into<Vec<u8>>) -> Self {
        Fingerprint {
            algorithm,
            value: value.into(),
        }
    }

    /// Parses SDP's text form, `<hash function> <XX:XX:…>` (the value of `a=fingerprint`).
    /// The digest must have the hash function's length, which also bounds the work done.
    pub fn parse(text: &str) -> Result<Fingerprint, FingerprintError> {
        let text = text.trim_matches(|c| c == ' ' || c == '\t');
        let (name, hexs) = text.split_once(' ').ok_or(FingerprintError::Shape)?;
        let algorithm =
            FingerprintAlgorithm::from_sdp_name(name).ok_or(FingerprintError::UnknownAlgorithm)?;
        let hexs = hexs.trim_matches(|c| c == ' ' || c == '\t');
        let expected = algorithm.digest_len();
        // Two digits per byte and a colon between: anything longer cannot be right.
        if hexs.len() > expected * 3 {
            return Err(FingerprintError::WrongLength {
                expected,
                found: hexs.len().div_ceil(3),
            });
        }
        let mut value = Vec::with_capacity(expected);
        for pair in hexs.split(':') {
            match pair.as_bytes() {
                [h, l] => value.push(hex(*h)? << 4 | hex(*l)?),
                _ => return Err(FingerprintError::NotHexPairs),
            }
        }
        if value.len() != expected {
            return Err(FingerprintError::WrongLength {
                expected,
                found: value.len(),
            });
        }
        Ok(Fingerprint { algorithm, value })
    }
}

fn hex(c: u8) -> Result<u8, FingerprintError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(FingerprintError::NotHexPairs),
    }
}

impl fmt::Display for Fingerprint {
    /// The hash function and the digest in upper-case hex pairs (RFC 8122's form).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.algorithm.sdp_name())?;
        for (i, b) in self.value.iter().enumerate() {
            write!(f, "{}{b:02X}", if i == 0 { ' ' } else { ':' })?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Fingerprint {
    type Err = FingerprintError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fingerprint::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_round_trips_in_either_case() {
        for a in FingerprintAlgorithm::ALL {
            let fp = Fingerprint::new(a, (0..a.digest_len() as u8).collect::<Vec<_>>());
            let text = fp.to_string();
            assert_eq!(Fingerprint::parse(&text), Ok(fp.clone()));
            assert_eq!(Fingerprint::parse(&text.to_lowercase()), Ok(fp));
        }
    }

    #[test]
    fn bad_text_gets_a_precise_error() {
        use FingerprintError as E;
        assert_eq!(Fingerprint::parse("sha-256"), Err(E::Shape));
        assert_eq!(Fingerprint::parse("sha-3 AB"), Err(E::UnknownAlgorithm));
        assert_eq!(Fingerprint::parse("sha-1 AB:C"), Err(E::NotHexPairs));
        assert_eq!(Fingerprint::parse("sha-1 AB:CG"), Err(E::NotHexPairs));
        assert_eq!(
            Fingerprint::parse("sha-1 AB:CD"),
            Err(E::WrongLength {
                expected: 20,
                found: 2
            })
        );
        let long = format!("sha-1 {}", vec!["AB"; 10_000].join(":"));
        assert!(matches!(
            Fingerprint::parse(&long),
            Err(E::WrongLength { expected: 20, .. })
        ));
    }
}
