//! Small id newtypes shared across crates, made by one macro.

macro_rules! id_newtype {
    ($(#[$meta:meta])* $name:ident($inner:ty)) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub $inner);

        impl From<$inner> for $name {
            fn from(v: $inner) -> Self {
                $name(v)
            }
        }

        impl From<$name> for $inner {
            fn from(v: $name) -> Self {
                v.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl std::fmt::LowerHex for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::LowerHex::fmt(&self.0, f)
            }
        }

        impl std::fmt::UpperHex for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::UpperHex::fmt(&self.0, f)
            }
        }
    };
}

id_newtype!(
    /// RTP synchronization source identifier (RFC 3550 §3).
    Ssrc(u32)
);
id_newtype!(
    /// RTP payload type, 0–127 (RFC 3550 §5.1).
    PayloadType(u8)
);
id_newtype!(
    /// SCTP stream identifier, which is also a data channel's id (RFC 8831 §6.5).
    StreamId(u16)
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_convert_both_ways_and_print_as_their_value() {
        let ssrc = Ssrc::from(0xdead_beef_u32);
        assert_eq!(u32::from(ssrc), 0xdead_beef);
        assert_eq!(
            format!("{ssrc} {ssrc:#010x} {ssrc:X}"),
            "3735928559 0xdeadbeef DEADBEEF"
        );
        assert_eq!(PayloadType::from(111).to_string(), "111");
        assert_eq!(format!("{:x}", StreamId(255)), "ff");
    }
}
