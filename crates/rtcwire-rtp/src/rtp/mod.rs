//! RTP packets (RFC 3550 §5) and header extensions (RFC 8285).
//!
//! Two levels, as in smoltcp: [`RtpPacket`] is a checked zero-copy view over any
//! `AsRef<[u8]>` buffer, with field accessors and setters; [`RtpRepr`] holds the fields as
//! values and emits them into a caller buffer. Header extension elements are iterated raw
//! ([`Extensions`]), read as typed values through an [`ExtensionMap`], and written with an
//! allocation-free [`ExtensionsBuilder`].

mod ext;
mod ext_types;
mod packet;
mod repr;

pub use ext::{
    ExtensionBlock, ExtensionElement, ExtensionForm, Extensions, ExtensionsBuilder,
    BUILDER_CAPACITY, ONE_BYTE_MAX_ID, ONE_BYTE_MAX_LEN, ONE_BYTE_PROFILE, TWO_BYTE_PROFILE,
};
pub use ext_types::{
    abs_send_time_from_micros, abs_send_time_to_micros, AudioLevel, ExtensionKind, ExtensionMap,
    HeaderExtensions, PlayoutDelay, Rotation, VideoOrientation,
};
pub use packet::{field, header_len, RtpPacket, FIXED_HEADER_LEN};
pub use repr::{Csrcs, RtpRepr};
