//! HEARTBEAT and HEARTBEAT ACK chunks (RFC 9260 §3.3.5, §3.3.6).

use super::init::{param_type, Param, Params};
use super::{emit_chunk_header, pad_from, RawChunk};
use crate::Error;

/// HEARTBEAT: the sender-specific information, opaque to the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat<'a> {
    /// The heartbeat info parameter's value.
    pub info: &'a [u8],
}

/// HEARTBEAT ACK: the info of the HEARTBEAT it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatAck<'a>(pub Heartbeat<'a>);

impl<'a> Heartbeat<'a> {
    /// Parses the value: one heartbeat info parameter.
    pub fn parse(raw: &RawChunk<'a>) -> Result<Self, Error> {
        let params = Params::parse(raw.value)?;
        let info = params
            .find(param_type::HEARTBEAT_INFO)
            .ok_or(Error::MissingParameter {
                what: "heartbeat info",
            })?;
        Ok(Heartbeat { info })
    }

    /// Length of the value.
    #[must_use]
    pub fn value_len(&self) -> usize {
        4 + self.info.len()
    }

    /// Appends the chunk with the given type (HEARTBEAT or HEARTBEAT ACK).
    pub fn emit(&self, buf: &mut Vec<u8>, typ: u8) {
        let start = buf.len();
        emit_chunk_header(buf, typ, 0, self.value_len());
        Param::emit(param_type::HEARTBEAT_INFO, self.info, buf);
        // The parameter's padding is not part of the chunk length.
        buf.truncate(start + 4 + self.value_len());
        pad_from(buf, start);
    }
}
