//! RE-CONFIG chunk (RFC 6525 §3.1) and its request / response parameters (§4).

use super::init::{Param, Params};
use super::list::List;
use super::{be32, chunk_type, emit_chunk_header, need, pad_from, RawChunk};
use crate::Error;

/// Parameter types of RE-CONFIG.
pub mod param_type {
    /// Outgoing SSN reset request.
    pub const OUTGOING_RESET: u16 = 13;
    /// Incoming SSN reset request.
    pub const INCOMING_RESET: u16 = 14;
    /// SSN/TSN reset request.
    pub const SSN_TSN_RESET: u16 = 15;
    /// Re-configuration response.
    pub const RESPONSE: u16 = 16;
    /// Add outgoing streams request.
    pub const ADD_OUTGOING: u16 = 17;
    /// Add incoming streams request.
    pub const ADD_INCOMING: u16 = 18;
}

/// Result codes of a re-configuration response (RFC 6525 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconfigResult {
    /// 0: nothing to do.
    SuccessNothingToDo,
    /// 1: performed.
    SuccessPerformed,
    /// 2: denied.
    Denied,
    /// 3: wrong SSN.
    ErrorWrongSsn,
    /// 4: a request is already in progress.
    ErrorRequestAlreadyInProgress,
    /// 5: bad sequence number.
    ErrorBadSequenceNumber,
    /// 6: in progress (ask again).
    InProgress,
    /// Anything else.
    Other(u32),
}

impl ReconfigResult {
    /// The wire value.
    #[must_use]
    pub fn code(self) -> u32 {
        match self {
            Self::SuccessNothingToDo => 0,
            Self::SuccessPerformed => 1,
            Self::Denied => 2,
            Self::ErrorWrongSsn => 3,
            Self::ErrorRequestAlreadyInProgress => 4,
            Self::ErrorBadSequenceNumber => 5,
            Self::InProgress => 6,
            Self::Other(c) => c,
        }
    }

    /// From the wire value.
    #[must_use]
    pub fn from_code(c: u32) -> Self {
        match c {
            0 => Self::SuccessNothingToDo,
            1 => Self::SuccessPerformed,
            2 => Self::Denied,
            3 => Self::ErrorWrongSsn,
            4 => Self::ErrorRequestAlreadyInProgress,
            5 => Self::ErrorBadSequenceNumber,
            6 => Self::InProgress,
            c => Self::Other(c),
        }
    }
}

/// One RE-CONFIG parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReconfigParam<'a> {
    /// The sender resets its outgoing streams (the receiver's incoming ones).
    OutgoingReset {
        /// Request sequence number.
        request_seq: u32,
        /// The last response sequence number the sender received.
        response_seq: u32,
        /// The last TSN the sender assigned.
        last_tsn: u32,
        /// Streams to reset; empty means all.
        streams: List<'a, u16>,
    },
    /// The sender asks the receiver to reset its outgoing streams.
    IncomingReset {
        /// Request sequence number.
        request_seq: u32,
        /// Streams; empty means all.
        streams: List<'a, u16>,
    },
    /// Response to a request.
    Response {
        /// The request sequence number answered.
        response_seq: u32,
        /// Result.
        result: ReconfigResult,
        /// Sender's and receiver's next TSN (only after an SSN/TSN reset).
        next_tsns: Option<(u32, u32)>,
    },
    /// The sender asks to reset every stream's sequence numbers and the TSNs in both
    /// directions (§4.3).
    SsnTsnReset {
        /// Request sequence number.
        request_seq: u32,
    },
    /// The sender adds outgoing streams (the receiver's incoming ones, §4.5).
    AddOutgoing {
        /// Request sequence number.
        request_seq: u32,
        /// How many streams are added.
        new_streams: u16,
    },
    /// The sender asks the receiver to add outgoing streams (§4.6).
    AddIncoming {
        /// Request sequence number.
        request_seq: u32,
        /// How many streams are added.
        new_streams: u16,
    },
    /// Any other parameter, kept as it was.
    Other(Param<'a>),
}

impl<'a> ReconfigParam<'a> {
    /// Parses one parameter.
    pub fn parse(p: Param<'a>) -> Result<Self, Error> {
        let v = p.value;
        Ok(match p.typ {
            param_type::OUTGOING_RESET => {
                need(v, 12)?;
                ReconfigParam::OutgoingReset {
                    request_seq: be32(v, 0)?,
                    response_seq: be32(v, 4)?,
                    last_tsn: be32(v, 8)?,
                    streams: List::from_wire(&v[12..]),
                }
            }
            param_type::INCOMING_RESET => {
                need(v, 4)?;
                ReconfigParam::IncomingReset {
                    request_seq: be32(v, 0)?,
                    streams: List::from_wire(&v[4..]),
                }
            }
            param_type::RESPONSE => {
                need(v, 8)?;
                let next_tsns = if v.len() >= 16 {
                    Some((be32(v, 8)?, be32(v, 12)?))
                } else {
                    None
                };
                ReconfigParam::Response {
                    response_seq: be32(v, 0)?,
                    result: ReconfigResult::from_code(be32(v, 4)?),
                    next_tsns,
                }
            }
            param_type::SSN_TSN_RESET => {
                need(v, 4)?;
                ReconfigParam::SsnTsnReset {
                    request_seq: be32(v, 0)?,
                }
            }
            param_type::ADD_OUTGOING | param_type::ADD_INCOMING => {
                need(v, 8)?;
                let request_seq = be32(v, 0)?;
                let new_streams = u16::from_be_bytes([v[4], v[5]]);
                if p.typ == param_type::ADD_OUTGOING {
                    ReconfigParam::AddOutgoing {
                        request_seq,
                        new_streams,
                    }
                } else {
                    ReconfigParam::AddIncoming {
                        request_seq,
                        new_streams,
                    }
                }
            }
            _ => ReconfigParam::Other(p),
        })
    }

    /// Appends the parameter (with padding).
    pub fn emit(&self, buf: &mut Vec<u8>) {
        let start = buf.len();
        let (typ, len) = match self {
            ReconfigParam::OutgoingReset { streams, .. } => {
                (param_type::OUTGOING_RESET, 16 + streams.wire_len())
            }
            ReconfigParam::IncomingReset { streams, .. } => {
                (param_type::INCOMING_RESET, 8 + streams.wire_len())
            }
            ReconfigParam::Response { next_tsns, .. } => (
                param_type::RESPONSE,
                if next_tsns.is_some() { 20 } else { 12 },
            ),
            ReconfigParam::SsnTsnReset { .. } => (param_type::SSN_TSN_RESET, 8),
            ReconfigParam::AddOutgoing { .. } => (param_type::ADD_OUTGOING, 12),
            ReconfigParam::AddIncoming { .. } => (param_type::ADD_INCOMING, 12),
            ReconfigParam::Other(p) => {
                Param::emit(p.typ, p.value, buf);
                return;
            }
        };
        buf.extend_from_slice(&typ.to_be_bytes());
        buf.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
        match self {
            ReconfigParam::OutgoingReset {
                request_seq,
                response_seq,
                last_tsn,
                streams,
            } => {
                buf.extend_from_slice(&request_seq.to_be_bytes());
                buf.extend_from_slice(&response_seq.to_be_bytes());
                buf.extend_from_slice(&last_tsn.to_be_bytes());
                streams.write(buf);
            }
            ReconfigParam::IncomingReset {
                request_seq,
                streams,
            } => {
                buf.extend_from_slice(&request_seq.to_be_bytes());
                streams.write(buf);
            }
            ReconfigParam::Response {
                response_seq,
                result,
                next_tsns,
            } => {
                buf.extend_from_slice(&response_seq.to_be_bytes());
                buf.extend_from_slice(&result.code().to_be_bytes());
                if let Some((s, r)) = next_tsns {
                    buf.extend_from_slice(&s.to_be_bytes());
                    buf.extend_from_slice(&r.to_be_bytes());
                }
            }
            ReconfigParam::SsnTsnReset { request_seq } => {
                buf.extend_from_slice(&request_seq.to_be_bytes());
            }
            ReconfigParam::AddOutgoing {
                request_seq,
                new_streams,
            }
            | ReconfigParam::AddIncoming {
                request_seq,
                new_streams,
            } => {
                buf.extend_from_slice(&request_seq.to_be_bytes());
                buf.extend_from_slice(&new_streams.to_be_bytes());
                buf.extend_from_slice(&[0, 0]);
            }
            ReconfigParam::Other(_) => {}
        }
        pad_from(buf, start);
    }
}

/// RE-CONFIG: one or two request / response parameters, as on the wire (checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReConfig<'a> {
    /// The parameters' bytes.
    pub params: &'a [u8],
}

impl<'a> ReConfig<'a> {
    /// Parses and checks the value: at most two parameters, each well-formed.
    pub fn parse(raw: &RawChunk<'a>) -> Result<Self, Error> {
        let params = Params::parse(raw.value)?;
        let mut n = 0;
        for p in params.iter() {
            n += 1;
            if n > 2 {
                return Err(Error::TooMany {
                    what: "re-config parameters",
                });
            }
            ReconfigParam::parse(p)?;
        }
        Ok(ReConfig { params: raw.value })
    }

    /// The parameters (malformed ones, refused by `parse`, are skipped).
    pub fn iter(&self) -> impl Iterator<Item = ReconfigParam<'a>> + 'a {
        Params(self.params)
            .iter()
            .filter_map(|p| ReconfigParam::parse(p).ok())
    }

    /// Appends the chunk.
    pub fn emit(&self, buf: &mut Vec<u8>) {
        let start = buf.len();
        emit_chunk_header(buf, chunk_type::RE_CONFIG, 0, self.params.len());
        buf.extend_from_slice(self.params);
        pad_from(buf, start);
    }
}
