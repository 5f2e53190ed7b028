//! Alerts (RFC 5246 §7.2).

/// Alert level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertLevel {
    /// `warning(1)`.
    Warning,
    /// `fatal(2)`.
    Fatal,
}

macro_rules! alerts {
    ($($name:ident = $v:expr),* $(,)?) => {
        /// Alert description. Unknown codes are kept as [`AlertDescription::Other`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum AlertDescription {
            $(
                #[doc = concat!("`", stringify!($name), "` (", stringify!($v), ").")]
                $name,
            )*
            /// A code we do not name.
            Other(u8),
        }

        impl AlertDescription {
            /// The wire code.
            #[must_use]
            pub fn code(self) -> u8 {
                match self {
                    $(AlertDescription::$name => $v,)*
                    AlertDescription::Other(c) => c,
                }
            }

            /// The description for a wire code.
            #[must_use]
            pub fn from_code(c: u8) -> Self {
                match c {
                    $($v => AlertDescription::$name,)*
                    c => AlertDescription::Other(c),
                }
            }
        }
    };
}

alerts! {
    CloseNotify = 0,
    UnexpectedMessage = 10,
    BadRecordMac = 20,
    RecordOverflow = 22,
    HandshakeFailure = 40,
    BadCertificate = 42,
    UnsupportedCertificate = 43,
    CertificateExpired = 45,
    CertificateUnknown = 46,
    IllegalParameter = 47,
    DecodeError = 50,
    DecryptError = 51,
    ProtocolVersion = 70,
    InsufficientSecurity = 71,
    InternalError = 80,
    UserCanceled = 90,
    NoRenegotiation = 100,
    UnsupportedExtension = 110,
}

/// A decoded alert record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    /// Level.
    pub level: AlertLevel,
    /// Description.
    pub description: AlertDescription,
}

impl Alert {
    /// Decodes the two-byte alert body. Unknown levels are treated as fatal.
    #[must_use]
    pub fn parse(b: &[u8]) -> Option<Alert> {
        match b {
            [level, desc] => Some(Alert {
                level: if *level == 1 {
                    AlertLevel::Warning
                } else {
                    AlertLevel::Fatal
                },
                description: AlertDescription::from_code(*desc),
            }),
            _ => None,
        }
    }

    /// The two-byte wire form.
    #[must_use]
    pub fn to_bytes(self) -> [u8; 2] {
        let level = match self.level {
            AlertLevel::Warning => 1,
            AlertLevel::Fatal => 2,
        };
        [level, self.description.code()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in 0..=255u8 {
            assert_eq!(AlertDescription::from_code(c).code(), c);
        }
        let a = Alert {
            level: AlertLevel::Fatal,
            description: AlertDescription::BadCertificate,
        };
        assert_eq!(a.to_bytes(), [2, 42]);
        assert_eq!(Alert::parse(&a.to_bytes()), Some(a));
        assert_eq!(Alert::parse(&[1]), None);
    }
}
