//! DTLS 1.3 (RFC 9147) building blocks: the key schedule, the unified-header record layer,
//! the 1.3 handshake messages and the hybrid key share. The handshake engine that uses them
//! lives beside the DTLS 1.2 one, in the connection module.

pub mod keys;
pub(crate) mod kx;
pub mod messages;
pub mod record;
