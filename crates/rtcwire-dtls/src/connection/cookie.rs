//! The stateless HelloVerifyRequest cookie (RFC 6347 §4.2.1): an HMAC over what identifies
//! the client's attempt, so the server keeps nothing until the client proves it can receive
//! at its source address.

use crate::handshake::ClientHello;
use crate::Error;
use ring::hmac;
use std::net::SocketAddr;

/// Cookie length (a full HMAC-SHA256).
pub(crate) const COOKIE_LEN: usize = 32;

/// `HMAC-SHA256(key, source ‖ client_random ‖ cipher_suites)`. The key is made once per
/// connection; the source address goes in as raw octets and port (no formatting per
/// spoofable packet).
pub(crate) fn compute(
    key: Option<&hmac::Key>,
    source: Option<SocketAddr>,
    ch: &ClientHello,
) -> Result<Vec<u8>, Error> {
    let key = key.ok_or(Error::Crypto)?;
    let mut ctx = hmac::Context::with_key(key);
    match source {
        Some(SocketAddr::V4(a)) => {
            ctx.update(&a.ip().octets());
            ctx.update(&a.port().to_be_bytes());
        }
        Some(SocketAddr::V6(a)) => {
            ctx.update(&a.ip().octets());
            ctx.update(&a.port().to_be_bytes());
        }
        None => {}
    }
    ctx.update(&ch.random);
    for s in &ch.cipher_suites {
        ctx.update(&s.to_be_bytes());
    }
    Ok(ctx.sign().as_ref().to_vec())
}

/// Whether `ch` echoes the cookie we would give it.
pub(crate) fn verify(
    key: Option<&hmac::Key>,
    source: Option<SocketAddr>,
    ch: &ClientHello,
) -> bool {
    ch.cookie.len() == COOKIE_LEN
        && compute(key, source, ch).is_ok_and(|c| super::session::ct_eq(&ch.cookie, &c))
}
