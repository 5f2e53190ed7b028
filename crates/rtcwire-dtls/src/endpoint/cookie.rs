//! The stateless HelloVerifyRequest cookie (RFC 6347 §4.2.1): an HMAC over what identifies
//! the client's attempt, so the server keeps nothing until the client proves it can receive
//! at its source address.

use crate::handshake::ClientHello;
use ring::hmac;
use std::net::SocketAddr;

/// Cookie length (a full HMAC-SHA256).
pub(crate) const COOKIE_LEN: usize = 32;

/// `HMAC-SHA256(secret, source ‖ client_random ‖ cipher_suites)`.
pub(crate) fn compute(secret: &[u8; 32], source: Option<SocketAddr>, ch: &ClientHello) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut ctx = hmac::Context::with_key(&key);
    if let Some(a) = source {
        ctx.update(a.to_string().as_bytes());
    }
    ctx.update(&ch.random);
    for s in &ch.cipher_suites {
        ctx.update(&s.to_be_bytes());
    }
    ctx.sign().as_ref().to_vec()
}

/// Whether `ch` echoes the cookie we would give it.
pub(crate) fn verify(secret: &[u8; 32], source: Option<SocketAddr>, ch: &ClientHello) -> bool {
    ch.cookie.len() == COOKIE_LEN && super::session::ct_eq(&ch.cookie, &compute(secret, source, ch))
}
