//! Attribute types and typed attribute values.
//!
//! [`AttrType`] names an attribute on the wire; [`Attribute`] is a typed, borrowed value of
//! any registered attribute, with [`Attribute::Unknown`] keeping the rest.

mod address;
mod lists;
mod value;

use std::fmt;

pub use address::AddressFamily;
pub use lists::{AttrTypeList, PasswordAlgorithm, PasswordAlgorithmList, PasswordAlgorithms};
pub use value::{Attribute, ErrorCode, Icmp};

pub(crate) use address::{decode_address, XorMode};
pub(crate) use value::{be_u32, be_u64, text, MAX_TEXT, MAX_USERNAME};

/// A 16-bit attribute type. Registered types are associated constants.
///
/// Types 0x0000–0x7FFF are comprehension-required: a receiver that does not understand one
/// must reject the message (a server answers 420 with UNKNOWN-ATTRIBUTES). Types
/// 0x8000–0xFFFF are comprehension-optional and are skipped when unknown.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttrType(pub u16);

macro_rules! attr_types {
    ($( $(#[$doc:meta])* $name:ident = $value:literal, $text:literal, $unique:literal; )*) => {
        /// The known types, numbered from 0 in declaration order.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms, dead_code)]
        #[derive(Clone, Copy)]
        enum Known { $($name),* }

        /// Number of types this crate knows (bounds [`AttrType::unique_index`]).
        pub(crate) const KNOWN_TYPES: usize = [$($value),*].len();

        impl AttrType {
            $( $(#[$doc])* pub const $name: AttrType = AttrType($value); )*

            /// The registered name, if this crate knows the type.
            #[must_use]
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($text), )*
                    _ => None,
                }
            }

            /// Whether this crate understands the type (decodes it into a typed
            /// [`Attribute`]).
            #[must_use]
            pub const fn is_known(self) -> bool {
                self.name().is_some()
            }

            /// A small index (below [`KNOWN_TYPES`]) for known types that may appear only
            /// once per message: a bit in the parser's duplicate mask and a slot in its
            /// table of attribute offsets.
            pub(crate) const fn unique_index(self) -> Option<u32> {
                match self.0 {
                    $( $value if $unique => Some(Known::$name as u32), )*
                    _ => None,
                }
            }
        }
    };
}

attr_types! {
    /// MAPPED-ADDRESS (RFC 8489 §14.1).
    MAPPED_ADDRESS = 0x0001, "MAPPED-ADDRESS", true;
    /// CHANGE-REQUEST (RFC 5780 §7.2).
    CHANGE_REQUEST = 0x0003, "CHANGE-REQUEST", true;
    /// USERNAME (RFC 8489 §14.3).
    USERNAME = 0x0006, "USERNAME", true;
    /// MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1.
    MESSAGE_INTEGRITY = 0x0008, "MESSAGE-INTEGRITY", true;
    /// ERROR-CODE (RFC 8489 §14.8).
    ERROR_CODE = 0x0009, "ERROR-CODE", true;
    /// UNKNOWN-ATTRIBUTES (RFC 8489 §14.9).
    UNKNOWN_ATTRIBUTES = 0x000A, "UNKNOWN-ATTRIBUTES", true;
    /// CHANNEL-NUMBER (RFC 8656 §18.1).
    CHANNEL_NUMBER = 0x000C, "CHANNEL-NUMBER", true;
    /// LIFETIME (RFC 8656 §18.2).
    LIFETIME = 0x000D, "LIFETIME", true;
    /// XOR-PEER-ADDRESS (RFC 8656 §18.3); may repeat in CreatePermission.
    XOR_PEER_ADDRESS = 0x0012, "XOR-PEER-ADDRESS", false;
    /// DATA (RFC 8656 §18.4).
    DATA = 0x0013, "DATA", true;
    /// REALM (RFC 8489 §14.9).
    REALM = 0x0014, "REALM", true;
    /// NONCE (RFC 8489 §14.10).
    NONCE = 0x0015, "NONCE", true;
    /// XOR-RELAYED-ADDRESS (RFC 8656 §18.5); repeats in a dual-stack allocation.
    XOR_RELAYED_ADDRESS = 0x0016, "XOR-RELAYED-ADDRESS", false;
    /// REQUESTED-ADDRESS-FAMILY (RFC 8656 §18.6).
    REQUESTED_ADDRESS_FAMILY = 0x0017, "REQUESTED-ADDRESS-FAMILY", true;
    /// EVEN-PORT (RFC 8656 §18.7).
    EVEN_PORT = 0x0018, "EVEN-PORT", true;
    /// REQUESTED-TRANSPORT (RFC 8656 §18.8).
    REQUESTED_TRANSPORT = 0x0019, "REQUESTED-TRANSPORT", true;
    /// DONT-FRAGMENT (RFC 8656 §18.9).
    DONT_FRAGMENT = 0x001A, "DONT-FRAGMENT", true;
    /// MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6).
    MESSAGE_INTEGRITY_SHA256 = 0x001C, "MESSAGE-INTEGRITY-SHA256", true;
    /// PASSWORD-ALGORITHM (RFC 8489 §14.12).
    PASSWORD_ALGORITHM = 0x001D, "PASSWORD-ALGORITHM", true;
    /// USERHASH (RFC 8489 §14.4).
    USERHASH = 0x001E, "USERHASH", true;
    /// XOR-MAPPED-ADDRESS (RFC 8489 §14.2).
    XOR_MAPPED_ADDRESS = 0x0020, "XOR-MAPPED-ADDRESS", true;
    /// RESERVATION-TOKEN (RFC 8656 §18.10).
    RESERVATION_TOKEN = 0x0022, "RESERVATION-TOKEN", true;
    /// PRIORITY (RFC 8445 §16.1).
    PRIORITY = 0x0024, "PRIORITY", true;
    /// USE-CANDIDATE (RFC 8445 §16.1).
    USE_CANDIDATE = 0x0025, "USE-CANDIDATE", true;
    /// PADDING (RFC 5780 §7.6).
    PADDING = 0x0026, "PADDING", true;
    /// RESPONSE-PORT (RFC 5780 §7.5).
    RESPONSE_PORT = 0x0027, "RESPONSE-PORT", true;
    /// CONNECTION-ID (RFC 6062 §6.2.1).
    CONNECTION_ID = 0x002A, "CONNECTION-ID", true;
    /// ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.11).
    ADDITIONAL_ADDRESS_FAMILY = 0x8000, "ADDITIONAL-ADDRESS-FAMILY", true;
    /// ADDRESS-ERROR-CODE (RFC 8656 §18.12); one per failed family.
    ADDRESS_ERROR_CODE = 0x8001, "ADDRESS-ERROR-CODE", false;
    /// PASSWORD-ALGORITHMS (RFC 8489 §14.11).
    PASSWORD_ALGORITHMS = 0x8002, "PASSWORD-ALGORITHMS", true;
    /// ALTERNATE-DOMAIN (RFC 8489 §14.16).
    ALTERNATE_DOMAIN = 0x8003, "ALTERNATE-DOMAIN", true;
    /// ICMP (RFC 8656 §18.13).
    ICMP = 0x8004, "ICMP", true;
    /// SOFTWARE (RFC 8489 §14.14).
    SOFTWARE = 0x8022, "SOFTWARE", true;
    /// ALTERNATE-SERVER (RFC 8489 §14.15).
    ALTERNATE_SERVER = 0x8023, "ALTERNATE-SERVER", true;
    /// FINGERPRINT (RFC 8489 §14.7): CRC-32 XOR 0x5354554E, always last.
    FINGERPRINT = 0x8028, "FINGERPRINT", true;
    /// ICE-CONTROLLED (RFC 8445 §16.1).
    ICE_CONTROLLED = 0x8029, "ICE-CONTROLLED", true;
    /// ICE-CONTROLLING (RFC 8445 §16.1).
    ICE_CONTROLLING = 0x802A, "ICE-CONTROLLING", true;
    /// RESPONSE-ORIGIN (RFC 5780 §7.3).
    RESPONSE_ORIGIN = 0x802B, "RESPONSE-ORIGIN", true;
    /// OTHER-ADDRESS (RFC 5780 §7.4).
    OTHER_ADDRESS = 0x802C, "OTHER-ADDRESS", true;
}

impl AttrType {
    /// Whether a receiver must understand this type (0x0000–0x7FFF) to process the message.
    #[must_use]
    pub const fn is_comprehension_required(self) -> bool {
        self.0 < 0x8000
    }
}

impl fmt::Debug for AttrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "AttrType({:#06x})", self.0),
        }
    }
}

impl fmt::Display for AttrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}({:#06x})", self.0),
            None => write!(f, "{:#06x}", self.0),
        }
    }
}

impl From<u16> for AttrType {
    fn from(v: u16) -> Self {
        AttrType(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_indices_fit_a_u64_mask_and_skip_repeatable_types() {
        let mut seen = 0u64;
        for v in 0..=u16::MAX {
            if let Some(i) = AttrType(v).unique_index() {
                assert!(i < 64 && (i as usize) < KNOWN_TYPES);
                assert_eq!(seen & (1 << i), 0, "index {i} used twice");
                seen |= 1 << i;
                assert!(AttrType(v).is_known());
            }
        }
        assert!(AttrType::XOR_PEER_ADDRESS.unique_index().is_none());
        assert!(AttrType::XOR_RELAYED_ADDRESS.unique_index().is_none());
        assert!(AttrType(0x7777).unique_index().is_none());
    }

    #[test]
    fn comprehension_ranges() {
        assert!(AttrType::USERNAME.is_comprehension_required());
        assert!(!AttrType::SOFTWARE.is_comprehension_required());
        assert_eq!(AttrType::FINGERPRINT.to_string(), "FINGERPRINT(0x8028)");
        assert_eq!(format!("{:?}", AttrType(0x7fff)), "AttrType(0x7fff)");
    }
}
