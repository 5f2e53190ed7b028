//! Helpers shared by the integration tests (included with `mod common;`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rtcwire_srtp::{Config, Context, Error, SrtpProfile};

/// A context with deterministic keys derived from `seed`.
pub(crate) fn context(profile: SrtpProfile, seed: u8, config: Config) -> Context {
    let key: Vec<u8> = (0..profile.master_key_len())
        .map(|i| seed.wrapping_add(i as u8).wrapping_mul(31))
        .collect();
    let salt: Vec<u8> = (0..profile.master_salt_len())
        .map(|i| seed ^ (i as u8).wrapping_mul(17))
        .collect();
    Context::new(profile, &key, &salt, config).unwrap()
}

/// A minimal RTP packet.
pub(crate) fn rtp(seq: u16, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 111];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0]);
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// A minimal RTCP receiver report (no report blocks) followed by `extra`.
pub(crate) fn rtcp(ssrc: u32, extra: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 201, 0, 1];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(extra);
    p
}

pub(crate) fn protect_rtp(ctx: &mut Context, plain: &[u8]) -> Vec<u8> {
    let mut buf = plain.to_vec();
    buf.resize(plain.len() + ctx.rtp_overhead(), 0);
    let n = ctx.protect_rtp(&mut buf, plain.len()).unwrap();
    assert_eq!(n, buf.len());
    buf
}

pub(crate) fn protect_rtcp(ctx: &mut Context, plain: &[u8]) -> Vec<u8> {
    let mut buf = plain.to_vec();
    buf.resize(plain.len() + ctx.rtcp_overhead(), 0);
    let n = ctx.protect_rtcp(&mut buf, plain.len()).unwrap();
    assert_eq!(n, buf.len());
    buf
}

pub(crate) fn unprotect_rtp(ctx: &mut Context, wire: &[u8]) -> Result<Vec<u8>, Error> {
    let mut buf = wire.to_vec();
    let n = ctx.unprotect_rtp(&mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

pub(crate) fn unprotect_rtcp(ctx: &mut Context, wire: &[u8]) -> Result<Vec<u8>, Error> {
    let mut buf = wire.to_vec();
    let n = ctx.unprotect_rtcp(&mut buf)?;
    buf.truncate(n);
    Ok(buf)
}
