//! The DTLS 1.3 server: the stateless HelloRetryRequest cookie and the answer to a 1.3 hello.

use crate::connection::session::ct_eq;
use crate::connection::Core;
use crate::crypto::kx::NamedGroup;
use crate::crypto::suite::CipherSuite;
use crate::flight;
use crate::handshake::reassembly::Complete;
use crate::handshake::{ClientHello, Extensions, ServerHello, UseSrtp};
use crate::v13::keys;
use crate::v13::kx;
use crate::v13::messages::{self as m13, Msg13};
use crate::Error;
use rtcwire_proto::DtlsRole;
use std::time::Instant;

use super::{choose_srtp, keys_secret, message_hash, Accepted, Engine, SCHEMES13};

/// The HelloRetryRequest a server sends (and rebuilds, byte for byte, from the cookie).
fn hrr_message(
    session_id: &[u8],
    suite: CipherSuite,
    group: Option<NamedGroup>,
    cookie: &[u8],
) -> Vec<u8> {
    let mut ext = Extensions::default();
    m13::set_ext(
        &mut ext,
        m13::SUPPORTED_VERSIONS,
        m13::DTLS13.to_be_bytes().to_vec(),
    );
    if let Some(g) = group {
        m13::set_ext(&mut ext, m13::KEY_SHARE, g.id().to_be_bytes().to_vec());
    }
    m13::set_ext(&mut ext, m13::COOKIE, m13::cookie_body(cookie));
    let mut body = Vec::new();
    ServerHello {
        version: m13::DTLS12,
        random: m13::HRR_RANDOM,
        session_id: session_id.to_vec(),
        cipher_suite: suite.id(),
        compression_method: 0,
        extensions: ext,
    }
    .emit(&mut body);
    body
}

const COOKIE_MAC_LEN: usize = 32;

fn cookie_mac(core: &Core, state: &[u8]) -> Result<ring::hmac::Tag, Error> {
    let key = core.cookie_key.as_ref().ok_or(Error::Crypto)?;
    let mut ctx = ring::hmac::Context::with_key(key);
    match core.remote {
        Some(std::net::SocketAddr::V4(a)) => {
            ctx.update(&a.ip().octets());
            ctx.update(&a.port().to_be_bytes());
        }
        Some(std::net::SocketAddr::V6(a)) => {
            ctx.update(&a.ip().octets());
            ctx.update(&a.port().to_be_bytes());
        }
        None => {}
    }
    ctx.update(state);
    Ok(ctx.sign())
}

/// The stateless cookie: suite, group (0: none), the first hello's hash, and a MAC over
/// them and the peer's address.
fn make_cookie(
    core: &Core,
    suite: CipherSuite,
    group: Option<NamedGroup>,
    ch1_hash: &[u8],
) -> Result<Vec<u8>, Error> {
    let mut c = Vec::with_capacity(5 + ch1_hash.len() + COOKIE_MAC_LEN);
    c.extend_from_slice(&suite.id().to_be_bytes());
    c.extend_from_slice(&group.map_or(0, |g| g.id()).to_be_bytes());
    c.push(ch1_hash.len() as u8);
    c.extend_from_slice(ch1_hash);
    let tag = cookie_mac(core, &c)?;
    c.extend_from_slice(tag.as_ref());
    Ok(c)
}

/// Opens a cookie of ours: `(suite, group, first hello's hash)`.
fn open_cookie(core: &Core, c: &[u8]) -> Option<(CipherSuite, Option<NamedGroup>, Vec<u8>)> {
    let split = c.len().checked_sub(COOKIE_MAC_LEN)?;
    let (state, mac) = c.split_at(split);
    let tag = cookie_mac(core, state).ok()?;
    if !ct_eq(tag.as_ref(), mac) {
        return None;
    }
    let suite = CipherSuite::from_id(u16::from_be_bytes([*state.first()?, *state.get(1)?]))?;
    let gid = u16::from_be_bytes([*state.get(2)?, *state.get(3)?]);
    let group = if gid == 0 {
        None
    } else {
        Some(NamedGroup::from_id(gid)?)
    };
    let hlen = usize::from(*state.get(4)?);
    let hash = state
        .get(5..5 + hlen)
        .filter(|h| h.len() + 5 == state.len())?;
    Some((suite, group, hash.to_vec()))
}

/// A server got a ClientHello offering 1.3: answers with its whole flight (ServerHello in
/// the clear, then EncryptedExtensions, CertificateRequest, Certificate, CertificateVerify,
/// Finished under the handshake keys).
pub(crate) fn server_accept(
    core: &mut Core,
    ch: &ClientHello,
    rx: &Complete,
    now: Instant,
) -> Result<Accepted, Error> {
    let cfg = core.config.clone();
    let retried =
        m13::cookie(&ch.extensions).and_then(|c| open_cookie(core, c).map(|o| (o, c.to_vec())));
    let suite = match &retried {
        Some(((s, ..), _)) => Some(*s).filter(|s| ch.cipher_suites.contains(&s.id())),
        None => cfg
            .dtls13_cipher_suites
            .iter()
            .copied()
            .find(|s| ch.cipher_suites.contains(&s.id())),
    }
    .ok_or(Error::NoCommonCipherSuite)?;
    let scheme = cfg.signing_key.scheme().id();
    if !ch
        .extensions
        .signature_algorithms
        .as_ref()
        .is_some_and(|a| a.contains(&scheme))
    {
        return Err(Error::NoCommonSignatureScheme);
    }
    let shares = m13::client_shares(&ch.extensions)?;
    let found = cfg
        .dtls13_groups
        .iter()
        .filter(|g| match &retried {
            Some(((_, Some(want), _), _)) => *g == want,
            _ => true,
        })
        .find_map(|g| {
            shares
                .iter()
                .find(|(id, _)| *id == g.id())
                .map(|(_, k)| (*g, *k))
        });
    let mut transcript = Vec::new();
    match (&retried, found) {
        (Some(((_, group, hash), cookie)), Some(_)) => {
            message_hash(hash, &mut transcript);
            let hrr = hrr_message(&ch.session_id, suite, *group, cookie);
            m13::transcript_form(2, &hrr, &mut transcript);
        }
        (Some(_), None) => {
            return Err(Error::IllegalParameter(
                "no key share after HelloRetryRequest",
            ))
        }
        (None, found) => {
            // Ask for another share when none fits, and for a cookie when we check return
            // routability (the 1.3 form of HelloVerifyRequest).
            let want = match found {
                Some(_) => None,
                None => {
                    let offered = ch.extensions.supported_groups.clone().unwrap_or_default();
                    Some(
                        cfg.dtls13_groups
                            .iter()
                            .copied()
                            .find(|g| offered.contains(&g.id()))
                            .ok_or(Error::NoCommonGroup)?,
                    )
                }
            };
            if want.is_some() || cfg.hello_verify {
                let mut ch1 = Vec::new();
                m13::transcript_form(1, &rx.body, &mut ch1);
                let h = ring::digest::digest(suite.prf_hash().digest_alg(), &ch1);
                let cookie = make_cookie(core, suite, want, h.as_ref())?;
                let body = hrr_message(&ch.session_id, suite, want, &cookie);
                let msg = [flight::Outgoing::Handshake {
                    epoch: 0,
                    msg_type: 2,
                    seq: rx.seq,
                    body,
                }];
                let mtu = cfg.mtu;
                for d in flight::emit(&msg, mtu, &mut core.records)? {
                    core.queue(d);
                }
                core.reassembly.expect_client_hello();
                return Ok(Accepted::Retried);
            }
        }
    }
    let (group, client_key) = found.ok_or(Error::NoCommonGroup)?;
    if core.handshake_deadline.is_none() {
        core.handshake_deadline = Some(now + cfg.handshake_timeout);
    }
    let mut m = [0u8; 32];
    core.random(&mut m)?;
    let (public, shared) = kx::respond(group, client_key, &mut core.key_random(), m)?;
    let shared = keys_secret(shared);
    let mut random = [0u8; 32];
    core.random(&mut random)?;
    let mut ext = Extensions::default();
    m13::set_ext(
        &mut ext,
        m13::SUPPORTED_VERSIONS,
        m13::DTLS13.to_be_bytes().to_vec(),
    );
    m13::set_ext(
        &mut ext,
        m13::KEY_SHARE,
        m13::server_share_body(group.id(), &public),
    );
    // RFC 9147 §9 (the RFC 9146 extension): ids only when both ask; ours in the ServerHello.
    if let (Some(ours), Some(peer)) = (cfg.connection_id.clone(), &ch.extensions.connection_id) {
        core.use_connection_ids(peer);
        ext.connection_id = Some(ours);
    }
    let sh = ServerHello {
        version: m13::DTLS12,
        random,
        session_id: ch.session_id.clone(),
        cipher_suite: suite.id(),
        compression_method: 0,
        extensions: ext,
    };
    let mut sh_body = Vec::new();
    sh.emit(&mut sh_body);
    m13::transcript_form(1, &rx.body, &mut transcript);
    m13::transcript_form(2, &sh_body, &mut transcript);

    let mut e = Engine::new(core, DtlsRole::Server, suite, group, transcript, &shared.0)?;
    // The ServerHello answers hello `rx.seq` (0, or 1 after a HelloRetryRequest).
    core.send_seq = rx.seq;
    core.reassembly.expect(rx.seq.wrapping_add(1));
    core.peer_flight_start = Some(rx.seq);
    core.flight.clear();
    let seq = core.send_seq;
    core.send_seq = core.send_seq.wrapping_add(1);
    core.flight.push(flight::Outgoing::Handshake {
        epoch: 0,
        msg_type: 2,
        seq,
        body: sh_body,
    });
    e.srtp = choose_srtp(core, ch.extensions.use_srtp.as_ref());
    let ee = Msg13::EncryptedExtensions(Extensions {
        use_srtp: e.srtp.and_then(|p| p.dtls_id()).map(|id| UseSrtp {
            profiles: vec![id],
            mki: Vec::new(),
        }),
        ..Extensions::default()
    });
    e.push(core, 2, &ee);
    let cr = Msg13::CertificateRequest {
        context: Vec::new(),
        ext: Extensions {
            signature_algorithms: Some(SCHEMES13.to_vec()),
            ..Extensions::default()
        },
    };
    e.push(core, 2, &cr);
    let cert = Msg13::Certificate {
        context: Vec::new(),
        chain: vec![cfg.certificate.der().to_vec()],
    };
    e.push(core, 2, &cert);
    e.push_certificate_verify(core, true)?;
    let fin = keys::finished(e.hash, &e.s_hs, e.th().as_ref())?;
    e.push(core, 2, &Msg13::Finished(fin));
    e.derive_application()?;
    e.transmit(core)?;
    core.timer.start(now);
    Ok(Accepted::Engine(Box::new(e)))
}
