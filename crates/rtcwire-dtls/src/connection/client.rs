//! The client's handshake states: one variant per awaited message, each handler consuming
//! the state and returning the next (RFC 6347 §4.2.4 flights 1, 3 and 5).

use super::session::{ct_eq, Authenticated, Keyed, Negotiated, Secret};
use super::Core;
use crate::crypto::kx::{KeyShare, NamedGroup};
use crate::crypto::sign::{self, SignatureScheme};
use crate::handshake::reassembly::Complete;
use crate::handshake::{
    Certificate, CertificateVerify, ClientHello, ClientKeyExchange, Extensions, Finished, Message,
    UseSrtp,
};
use crate::record::DTLS_1_2;
use crate::Error;
use rtcwire_proto::{DtlsRole, SrtpProfile};
use std::time::Instant;

/// The client's handshake, between ClientHello and the server's Finished.
#[derive(Debug)]
#[allow(clippy::enum_variant_names)] // named by the awaited message, as rustls does
pub(crate) enum ClientState {
    /// Sent a ClientHello; a HelloVerifyRequest or ServerHello comes next.
    ExpectServerHello {
        client_random: [u8; 32],
        hello: Box<ClientHello>,
        cookie_seen: bool,
        /// Our DTLS 1.3 key shares, when we offered 1.3 too.
        offer13: Option<Box<super::tls13::Offer13>>,
    },
    /// Got ServerHello; the server's Certificate comes next.
    ExpectCertificate(Negotiated),
    /// The ServerKeyExchange comes next.
    ExpectServerKeyExchange(Authenticated),
    /// A CertificateRequest or the ServerHelloDone comes next.
    ExpectCertificateRequest(KeyExchanged),
    /// The ServerHelloDone comes next.
    ExpectServerHelloDone {
        kx: KeyExchanged,
        cert_requested: bool,
    },
    /// Sent flight 5; the server's Finished comes next.
    ExpectFinished(Keyed),
}

/// The server's key share is verified and ours agreed: the premaster secret and the public
/// share for our ClientKeyExchange.
#[derive(Debug)]
pub(crate) struct KeyExchanged {
    a: Authenticated,
    pre_master: Secret,
    public: Vec<u8>,
}

fn unexpected(expected: &'static str, got: &Message) -> Error {
    Error::UnexpectedMessage {
        expected,
        got: got.kind().name(),
    }
}

fn client_hello(
    core: &mut Core,
    random: [u8; 32],
    cookie: Vec<u8>,
    offer13: Option<&super::tls13::Offer13>,
) -> ClientHello {
    let mut ch = client_hello12(core, random, cookie);
    if let Some(o) = offer13 {
        o.extend(core, &mut ch);
    }
    ch
}

fn client_hello12(core: &mut Core, random: [u8; 32], cookie: Vec<u8>) -> ClientHello {
    let cfg = &core.config;
    let srtp: Vec<u16> = cfg
        .srtp_profiles
        .iter()
        .filter_map(|p| p.dtls_id())
        .collect();
    ClientHello {
        version: DTLS_1_2,
        random,
        session_id: Vec::new(),
        cookie,
        cipher_suites: cfg.cipher_suites.iter().map(|s| s.id()).collect(),
        compression_methods: vec![0],
        extensions: Extensions {
            supported_groups: Some(cfg.groups.iter().map(|g| g.id()).collect()),
            ec_point_formats: Some(vec![0]),
            signature_algorithms: Some(SignatureScheme::ALL.iter().map(|s| s.id()).collect()),
            use_srtp: (!srtp.is_empty()).then(|| UseSrtp {
                profiles: srtp,
                mki: Vec::new(),
            }),
            extended_master_secret: true,
            renegotiation_info: Some(Vec::new()),
            connection_id: cfg.connection_id.clone(),
            unknown: Vec::new(),
        },
    }
}

/// Sends the first ClientHello.
pub(crate) fn start(core: &mut Core, now: Instant) -> Result<ClientState, Error> {
    let mut client_random = [0u8; 32];
    core.random(&mut client_random)?;
    let offer13 = if core.config.dtls13 {
        Some(Box::new(super::tls13::Offer13::new(core)?))
    } else {
        None
    };
    let hello = client_hello(core, client_random, Vec::new(), offer13.as_deref());
    core.new_flight();
    core.push(0, &Message::ClientHello(hello.clone()));
    core.reassembly().expect_any();
    core.send_flight(now, true)?;
    Ok(ClientState::ExpectServerHello {
        client_random,
        hello: Box::new(hello),
        cookie_seen: false,
        offer13,
    })
}

/// Handles one complete message. `Ok(None)` means connected.
pub(crate) fn handle(
    core: &mut Core,
    state: ClientState,
    now: Instant,
    msg: Message,
    rx: &Complete,
) -> Result<Option<ClientState>, Error> {
    use ClientState as S;
    Ok(Some(match (state, msg) {
        (
            S::ExpectServerHello {
                client_random,
                hello,
                cookie_seen,
                offer13,
            },
            Message::HelloVerifyRequest(hvr),
        ) => {
            if cookie_seen {
                // A duplicate HelloVerifyRequest: our second hello is already out (and its
                // timer runs).
                core.reassembly().expect_any();
                return Ok(Some(S::ExpectServerHello {
                    client_random,
                    hello,
                    cookie_seen,
                    offer13,
                }));
            }
            let hello = client_hello(core, client_random, hvr.cookie, offer13.as_deref());
            core.new_flight();
            core.push(0, &Message::ClientHello(hello.clone()));
            core.reassembly().expect_any();
            core.send_flight(now, true)?;
            S::ExpectServerHello {
                client_random,
                hello: Box::new(hello),
                cookie_seen: true,
                offer13,
            }
        }
        (
            S::ExpectServerHello {
                client_random,
                hello,
                offer13,
                ..
            },
            Message::ServerHello(sh),
        ) => {
            if sh.version != DTLS_1_2 {
                return Err(Error::UnsupportedVersion(sh.version));
            }
            // RFC 8446 §4.1.3: we offered 1.3, a 1.3-capable server answered 1.2: someone
            // took 1.3 out of our hello.
            if offer13.is_some()
                && sh.random.get(24..) == Some(&crate::v13::messages::DOWNGRADE_TLS12[..])
            {
                return Err(Error::Downgrade);
            }
            let suite = crate::CipherSuite::from_id(sh.cipher_suite)
                .filter(|s| core.config.cipher_suites.contains(s))
                .ok_or(Error::NoCommonCipherSuite)?;
            if sh.compression_method != 0 {
                return Err(Error::Malformed("compression method"));
            }
            if sh
                .extensions
                .renegotiation_info
                .as_ref()
                .is_some_and(|r| !r.is_empty())
            {
                return Err(Error::RenegotiationRefused);
            }
            let srtp = match &sh.extensions.use_srtp {
                None => None,
                Some(u) => match u.profiles.as_slice() {
                    [id] => Some(
                        SrtpProfile::from_dtls_id(*id)
                            .filter(|p| core.config.srtp_profiles.contains(p))
                            .ok_or(Error::BadSrtpNegotiation)?,
                    ),
                    _ => return Err(Error::BadSrtpNegotiation),
                },
            };
            match (&core.config.connection_id, &sh.extensions.connection_id) {
                (Some(_), Some(peer)) => core.use_connection_ids(peer),
                (None, Some(_)) => {
                    return Err(Error::IllegalParameter("connection_id not offered"));
                }
                _ => {}
            }
            let mut hs = Negotiated {
                role: DtlsRole::Client,
                transcript: Vec::new(),
                client_random,
                server_random: sh.random,
                suite,
                ems: sh.extensions.extended_master_secret,
                srtp,
            };
            // The hello that got the ServerHello (not a cookie-less one answered with
            // HelloVerifyRequest) starts the transcript.
            let ch_seq = seq_of_last(core);
            hs.add(&Message::ClientHello(*hello), ch_seq);
            hs.add_raw(rx);
            core.set_peer_flight_start(rx.seq);
            core.stop_timer();
            S::ExpectCertificate(hs)
        }
        (S::ExpectCertificate(mut hs), Message::Certificate(c)) => {
            hs.add_raw(rx);
            let need = Some(hs.suite.authentication());
            S::ExpectServerKeyExchange(hs.authenticate(core, &c, need)?)
        }
        (S::ExpectServerKeyExchange(mut a), Message::ServerKeyExchange(ske)) => {
            let group = NamedGroup::from_id(ske.group)
                .filter(|g| core.config.groups.contains(g))
                .ok_or(Error::NoCommonGroup)?;
            let scheme =
                SignatureScheme::from_id(ske.scheme).ok_or(Error::NoCommonSignatureScheme)?;
            let spk = crate::cert::subject_public_key(&a.peer_cert)
                .ok_or(Error::BadCertificate("no public key found"))?;
            let mut signed = Vec::with_capacity(64 + ske.public.len() + 4);
            signed.extend_from_slice(&a.n.client_random);
            signed.extend_from_slice(&a.n.server_random);
            signed.extend_from_slice(&ske.params());
            sign::verify(&spk, scheme, &signed, &ske.signature)?;
            let share = KeyShare::generate(group, &mut core.key_random())?;
            let public = share.public().to_vec();
            let pre_master = share.agree(&ske.public)?;
            a.n.add_raw(rx);
            S::ExpectCertificateRequest(KeyExchanged {
                a,
                pre_master: Secret(pre_master),
                public,
            })
        }
        (S::ExpectCertificateRequest(mut kx), Message::CertificateRequest(_)) => {
            kx.a.n.add_raw(rx);
            S::ExpectServerHelloDone {
                kx,
                cert_requested: true,
            }
        }
        (S::ExpectCertificateRequest(kx), Message::ServerHelloDone) => {
            return flight5(core, kx, now, false, rx).map(Some);
        }
        (S::ExpectServerHelloDone { kx, cert_requested }, Message::ServerHelloDone) => {
            return flight5(core, kx, now, cert_requested, rx).map(Some)
        }
        (S::ExpectFinished(mut hs), Message::Finished(f)) => {
            let expected = hs.verify_data(false);
            if !ct_eq(&expected, &f.verify_data) {
                return Err(Error::FinishedMismatch);
            }
            hs.add_raw(rx);
            core.stop_timer();
            core.connected(hs)?;
            return Ok(None);
        }
        (s, m) => {
            return Err(unexpected(
                match s {
                    S::ExpectServerHello { .. } => "ServerHello",
                    S::ExpectCertificate(_) => "Certificate",
                    S::ExpectServerKeyExchange(_) => "ServerKeyExchange",
                    S::ExpectCertificateRequest(_) => "CertificateRequest",
                    S::ExpectServerHelloDone { .. } => "ServerHelloDone",
                    S::ExpectFinished(_) => "Finished",
                },
                &m,
            ))
        }
    }))
}

/// message_seq of the ClientHello we sent last.
fn seq_of_last(core: &Core) -> u16 {
    core.send_seq.wrapping_sub(1)
}

/// Flight 5: Certificate, ClientKeyExchange, CertificateVerify, ChangeCipherSpec, Finished.
fn flight5(
    core: &mut Core,
    kx: KeyExchanged,
    now: Instant,
    cert_requested: bool,
    rx: &Complete,
) -> Result<ClientState, Error> {
    let KeyExchanged {
        mut a,
        pre_master,
        public,
    } = kx;
    a.n.add_raw(rx);
    core.new_flight();
    if cert_requested {
        let m = Message::Certificate(Certificate {
            chain: vec![core.config.certificate.der().to_vec()],
        });
        let s = core.push(0, &m);
        a.n.add(&m, s);
    }
    let m = Message::ClientKeyExchange(ClientKeyExchange { public });
    let s = core.push(0, &m);
    a.n.add(&m, s);
    let mut hs = a.derive_master(&pre_master.0);
    if cert_requested {
        let config = core.config.clone();
        let key = &config.signing_key;
        let signature = key.sign(hs.transcript(), &mut core.key_random())?;
        let m = Message::CertificateVerify(CertificateVerify {
            scheme: key.scheme().id(),
            signature,
        });
        let s = core.push(0, &m);
        hs.add(&m, s);
    }
    core.push_ccs();
    let (write, read) = hs.protections()?;
    core.records().install_write(write);
    core.records().install_read(read);
    let m = Message::Finished(Finished {
        verify_data: hs.verify_data(true).to_vec(),
    });
    let s = core.push(1, &m);
    hs.add(&m, s);
    core.send_flight(now, true)?;
    Ok(ClientState::ExpectFinished(hs))
}
