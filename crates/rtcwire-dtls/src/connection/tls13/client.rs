//! The DTLS 1.3 client's answers to a HelloRetryRequest and to a ServerHello selecting 1.3.

use crate::connection::Core;
use crate::crypto::kx::NamedGroup;
use crate::crypto::suite::CipherSuite;
use crate::handshake::reassembly::Complete;
use crate::handshake::{ClientHello, ServerHello};
use crate::v13::kx::Share13;
use crate::v13::messages as m13;
use crate::Error;
use rtcwire_proto::DtlsRole;
use std::time::Instant;

use super::{keys_secret, message_hash, Engine, Offer13};

/// Whether a ServerHello is a HelloRetryRequest.
pub(crate) fn is_hrr(sh: &ServerHello) -> bool {
    sh.random == m13::HRR_RANDOM
}

/// A client that offered 1.3 got a HelloRetryRequest: the second ClientHello (same hello
/// with the asked-for key share and the server's cookie) goes out, and the offer now holds
/// the transcript so far.
pub(crate) fn client_on_hrr(
    core: &mut Core,
    mut offer: Offer13,
    hello: &ClientHello,
    hrr: &ServerHello,
    rx: &Complete,
    now: Instant,
) -> Result<(ClientHello, Offer13), Error> {
    if offer.hrr.is_some() {
        if offer.hrr_body == rx.body {
            // A copy of the one we answered (the network duplicated it, or the server
            // answered a retransmitted first hello): our second hello is out already.
            core.reassembly.expect_any();
            return Ok((hello.clone(), offer));
        }
        return Err(Error::IllegalParameter("second HelloRetryRequest"));
    }
    let suite = CipherSuite::from_id(hrr.cipher_suite)
        .filter(|s| core.config.dtls13_cipher_suites.contains(s))
        .ok_or(Error::NoCommonCipherSuite)?;
    if hrr.version != m13::DTLS12
        || hrr.session_id != hello.session_id
        || hrr.compression_method != 0
    {
        return Err(Error::IllegalParameter("legacy HelloRetryRequest fields"));
    }
    let mut ch2 = hello.clone();
    let group = m13::hrr_group(&hrr.extensions);
    let cookie = m13::cookie(&hrr.extensions);
    if group.is_none() && cookie.is_none() {
        return Err(Error::IllegalParameter("HelloRetryRequest changes nothing"));
    }
    if let Some(gid) = group {
        let g = NamedGroup::from_id(gid)
            .filter(|g| core.config.dtls13_groups.contains(g))
            .ok_or(Error::IllegalParameter(
                "HelloRetryRequest group not offered",
            ))?;
        if offer.shares.iter().any(|s| s.group() == g) {
            return Err(Error::IllegalParameter(
                "HelloRetryRequest for a group we sent",
            ));
        }
        let mut seed = [0u8; 64];
        core.random(&mut seed)?;
        offer.shares = vec![Share13::generate(g, &mut core.key_random(), seed)?];
        let shares: Vec<(u16, &[u8])> = offer
            .shares
            .iter()
            .map(|s| (s.group().id(), s.public()))
            .collect();
        m13::set_ext(
            &mut ch2.extensions,
            m13::KEY_SHARE,
            m13::client_shares_body(&shares),
        );
    }
    if let Some(c) = cookie {
        m13::set_ext(&mut ch2.extensions, m13::COOKIE, m13::cookie_body(c));
    }
    let mut ch1 = Vec::new();
    hello.emit(&mut ch1);
    let mut ch1_form = Vec::new();
    m13::transcript_form(1, &ch1, &mut ch1_form);
    let h = ring::digest::digest(suite.prf_hash().digest_alg(), &ch1_form);
    let mut prefix = Vec::new();
    message_hash(h.as_ref(), &mut prefix);
    m13::transcript_form(2, &rx.body, &mut prefix);
    offer.hrr = Some((prefix, suite));
    offer.hrr_body = rx.body.clone();
    core.flight.clear();
    core.push(0, &crate::handshake::Message::ClientHello(ch2.clone()));
    core.reassembly.expect_any();
    core.send_flight(now, true)?;
    Ok((ch2, offer))
}

/// A client that offered 1.3 got a ServerHello selecting it.
pub(crate) fn client_on_server_hello(
    core: &mut Core,
    mut offer: Offer13,
    hello: &ClientHello,
    sh: &ServerHello,
    rx: &Complete,
) -> Result<Engine, Error> {
    let suite = CipherSuite::from_id(sh.cipher_suite)
        .filter(|s| core.config.dtls13_cipher_suites.contains(s))
        .ok_or(Error::NoCommonCipherSuite)?;
    if sh.version != m13::DTLS12 {
        return Err(Error::IllegalParameter("ServerHello legacy_version"));
    }
    if offer.hrr.as_ref().is_some_and(|(_, s)| *s != suite) {
        return Err(Error::IllegalParameter(
            "suite changed after HelloRetryRequest",
        ));
    }
    if sh.session_id != hello.session_id || sh.compression_method != 0 {
        return Err(Error::IllegalParameter("legacy ServerHello fields"));
    }
    let (gid, key) =
        m13::server_share(&sh.extensions).ok_or(Error::IllegalParameter("no key_share"))?;
    match (&core.config.connection_id, &sh.extensions.connection_id) {
        (Some(_), Some(peer)) => core.use_connection_ids(peer),
        (None, Some(_)) => return Err(Error::IllegalParameter("connection_id not offered")),
        _ => {}
    }
    let prefix = offer.hrr.take().map(|(p, _)| p).unwrap_or_default();
    let (group, secret) = Share13::agree_offered(offer.shares, gid, key)?;
    let shared = keys_secret(secret);
    let mut transcript = prefix;
    let mut ch_body = Vec::new();
    hello.emit(&mut ch_body);
    m13::transcript_form(1, &ch_body, &mut transcript);
    m13::transcript_form(2, &rx.body, &mut transcript);
    core.timer.stop();
    core.flight.clear();
    core.peer_flight_start = Some(rx.seq);
    Engine::new(core, DtlsRole::Client, suite, group, transcript, &shared.0)
}
