#![no_main]
//! Arbitrary datagrams from arbitrary addresses into an ICE agent in every state (fresh,
//! checking, connected, restarted, closed), mixed with timeouts, trickled candidates and
//! well-signed checks whose attributes the fuzzer picks (so it gets past the integrity
//! check), answers from its TURN server (challenges, stale nonces, errors, and successes
//! signed with the long-term key for the request the agent last sent it), Data indications
//! and ChannelData, and host candidates removed and added (an ICE restart onto a new
//! interface). The agent never panics, and pairs, transactions and remembered
//! peer-reflexive candidates stay under their caps.
use std::net::SocketAddr;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use rtcwire_ice::{Agent, Candidate, Config, TurnServer};
use rtcwire_proto::{Datagram, SansIo, SeededRng, Transport};
use rtcwire_stun::{
    Attribute, ChannelData, Class, ErrorCode, IntegrityKey, Message, MessageBuilder, MessageType,
    Method, TransactionId,
};

const MAX_PAIRS: usize = 12;
const MAX_TXNS: usize = 10;
const MAX_PRFLX: usize = 5;
const MAX_REMOTE: usize = 16;
const TURN: ([u8; 4], u16) = ([198, 51, 100, 2], 3478);
const TURN_REALM: &str = "fuzz";

fn addr(b: &[u8]) -> SocketAddr {
    let b0 = b.first().copied().unwrap_or(0);
    let b1 = b.get(1).copied().unwrap_or(0);
    // A small address space so sources repeat, plus the STUN/TURN server and the local one.
    match b0 % 8 {
        0 if b1 & 1 == 1 => SocketAddr::from(TURN),
        0 => SocketAddr::from(([198, 51, 100, 1], 3478)),
        1 => SocketAddr::from(([10, 0, 0, 1], 5000)),
        _ => SocketAddr::from(([10, 0, 0, 2 + (b0 % 4)], 6000 + u16::from(b1 % 4))),
    }
}

fuzz_target!(|data: &[u8]| {
    let config = Config {
        controlling: data.first().is_some_and(|b| b & 1 == 1),
        lite: data.first().is_some_and(|b| b & 6 == 6),
        stun_servers: vec![SocketAddr::from(([198, 51, 100, 1], 3478))],
        turn_servers: if data.first().is_some_and(|b| b & 8 == 8) {
            vec![TurnServer::udp(SocketAddr::from(TURN), "u", "p")]
        } else {
            Vec::new()
        },
        max_pairs: MAX_PAIRS,
        max_transactions: MAX_TXNS,
        max_peer_reflexive: MAX_PRFLX,
        max_remote_candidates: MAX_REMOTE,
        ..Config::default()
    };
    let Ok(mut agent) = Agent::new(config, Box::new(SeededRng::new(7))) else {
        return;
    };
    // Only differences of instants matter to the agent.
    let mut now = std::time::Instant::now();
    let local: SocketAddr = SocketAddr::from(([10, 0, 0, 1], 5000));
    // A second interface, added and removed by the fuzzer.
    let local2: SocketAddr = SocketAddr::from(([10, 0, 1, 9], 5000));
    let _ = agent.add_host_candidate(now, local);
    let _ = agent.set_remote_credentials("peer", "0123456789012345678901");
    let mut local_ufrag = agent.local_credentials().ufrag.clone();
    let turn_key = IntegrityKey::long_term("u", TURN_REALM, "p");
    // The last request the agent sent to the TURN server: (transaction, method).
    let mut turn_request: Option<(TransactionId, Method)> = None;
    let mut local_key = IntegrityKey::short_term(&agent.local_credentials().pwd.clone());
    let mut buf = Vec::new();
    let mut rest = data.get(1..).unwrap_or_default();
    // Bounded: every step consumes at least one byte.
    while let Some((&op, tail)) = rest.split_first() {
        let len = usize::from(tail.first().copied().unwrap_or(0)).min(tail.len().saturating_sub(1));
        let chunk = tail.get(1..1 + len).unwrap_or_default();
        rest = tail.get(1 + len..).unwrap_or_default();
        match op % 8 {
            0 | 1 => {
                // Raw datagram.
                let src = addr(chunk);
                let d = Datagram {
                    transport: if op & 0x80 != 0 {
                        Transport::Tcp
                    } else {
                        Transport::Udp
                    },
                    source: Some(src),
                    destination: Some(if op & 0x40 != 0 { local2 } else { local }),
                    contents: chunk,
                };
                let _ = agent.accepts(&d);
                let _ = agent.handle_read(now, d);
            }
            2 => {
                // A correctly signed check with fuzzer-chosen attributes.
                let src = addr(chunk);
                let mut tid = [0u8; 12];
                for (t, b) in tid
                    .iter_mut()
                    .zip(chunk.iter().chain(std::iter::repeat(&op)))
                {
                    *t = *b;
                }
                let mut msg = Vec::new();
                if let Ok(mut b) =
                    MessageBuilder::new(&mut msg, MessageType::BINDING_REQUEST, TransactionId(tid))
                {
                    let user = format!("{local_ufrag}:peer");
                    let _ = b.attr(&Attribute::Username(&user));
                    let _ = b.attr(&Attribute::Priority(u32::from(op) << 20 | 1));
                    if chunk.get(2).is_some_and(|x| x & 1 == 1) {
                        let _ = b.attr(&Attribute::IceControlling(u64::from(op)));
                    } else {
                        let _ = b.attr(&Attribute::IceControlled(u64::from(op)));
                    }
                    if chunk.get(2).is_some_and(|x| x & 2 == 2) {
                        let _ = b.attr(&Attribute::UseCandidate);
                    }
                    let _ = b.message_integrity(&local_key);
                    let _ = b.fingerprint();
                    b.finish();
                }
                let dest = if op & 0x40 != 0 { local2 } else { local };
                let _ = agent.handle_read(now, Datagram::udp(src, dest, &msg));
            }
            3 => {
                now += Duration::from_millis(u64::from(chunk.first().copied().unwrap_or(50)) * 40);
                agent.handle_timeout(now);
            }
            4 => {
                if let Ok(s) = std::str::from_utf8(chunk) {
                    if let Ok(c) = Candidate::parse(s) {
                        let _ = agent.add_remote_candidate(now, c);
                    }
                }
                let mut c = Candidate::host(addr(chunk), 1);
                c.priority = u32::from(op) + 1;
                let _ = agent.add_remote_candidate(now, c);
            }
            5 => match chunk.first().copied().unwrap_or(0) % 8 {
                0 => {
                    if agent.restart(now).is_ok() {
                        let _ = agent.set_remote_credentials("peer", "0123456789012345678901");
                        local_ufrag = agent.local_credentials().ufrag.clone();
                        local_key =
                            IntegrityKey::short_term(&agent.local_credentials().pwd.clone());
                    }
                }
                6 => agent.remove_host_candidate(if op & 0x40 != 0 { local2 } else { local }),
                7 => {
                    let _ =
                        agent.add_host_candidate(now, if op & 0x40 != 0 { local2 } else { local });
                }
                1 => agent.end_of_remote_candidates(now),
                2 => agent.end_of_local_candidates(),
                3 => {
                    let _ = agent.send(chunk, &mut buf);
                }
                4 => agent.set_remote_lite(true),
                _ => {
                    if chunk.len() > 40 {
                        agent.close(now);
                    }
                }
            },
            6 => {
                let msg = turn_answer(chunk, turn_request, &turn_key);
                let _ = agent.handle_read(now, Datagram::udp(SocketAddr::from(TURN), local, &msg));
            }
            _ => {
                let _ = agent.poll_timeout();
            }
        }
        buf.clear();
        // Bounded drains: the agent's queues are capped.
        for _ in 0..1000 {
            buf.clear();
            let Some(t) = agent.poll_transmit(now, &mut buf) else {
                break;
            };
            if t.destination == Some(SocketAddr::from(TURN)) {
                if let Ok(m) = Message::parse(&buf) {
                    if m.message_type().class == Class::Request {
                        turn_request = Some((m.transaction_id(), m.message_type().method));
                    }
                }
            }
        }
        for _ in 0..2000 {
            if agent.poll_event().is_none() {
                break;
            }
        }
        if let Some(t) = agent.poll_timeout() {
            if t <= now {
                agent.handle_timeout(now);
            }
        }
        assert!(agent.pair_count() <= MAX_PAIRS);
        assert!(agent.transaction_count() <= MAX_TXNS);
        assert!(agent.peer_reflexive_count() <= MAX_PRFLX);
        assert!(agent.remote_candidate_count() <= MAX_REMOTE);
    }
});

/// What the TURN server might send: a challenge (401 with realm and nonce), a 438 Stale
/// Nonce, another error, a success signed with the long-term key (with fuzzer-chosen
/// relayed and mapped addresses and lifetime) for the agent's last request, a Data
/// indication, or ChannelData.
fn turn_answer(chunk: &[u8], req: Option<(TransactionId, Method)>, key: &IntegrityKey) -> Vec<u8> {
    let pick = chunk.first().copied().unwrap_or(0);
    let rest = chunk.get(1..).unwrap_or_default();
    let mut out = Vec::new();
    if pick % 6 == 5 {
        let number = 0x4000 + u16::from(rest.first().copied().unwrap_or(0) % 4);
        let _ = ChannelData { number, data: rest }.emit(rtcwire_stun::Transport::Udp, &mut out);
        return out;
    }
    let (tid, method) = req.unwrap_or((TransactionId([pick; 12]), Method::ALLOCATE));
    if pick % 6 == 4 {
        if let Ok(mut b) = MessageBuilder::new(
            &mut out,
            MessageType::new(Method::DATA, Class::Indication),
            tid,
        ) {
            let _ = b.attr(&Attribute::XorPeerAddress(addr(rest)));
            let _ = b.attr(&Attribute::Data(rest));
            b.finish();
        }
        return out;
    }
    let class = if pick % 6 == 3 {
        Class::Success
    } else {
        Class::Error
    };
    let Ok(mut b) = MessageBuilder::new(&mut out, MessageType::new(method, class), tid) else {
        return out;
    };
    let lifetime = u32::from(rest.first().copied().unwrap_or(0)) * 8;
    match pick % 6 {
        0 => {
            let _ = b.attr(&Attribute::ErrorCode(ErrorCode {
                code: ErrorCode::UNAUTHENTICATED,
                reason: "Unauthorized",
            }));
            let _ = b.attr(&Attribute::Realm(TURN_REALM));
            let _ = b.attr(&Attribute::Nonce("nonce-1"));
        }
        1 => {
            let _ = b.attr(&Attribute::ErrorCode(ErrorCode {
                code: ErrorCode::STALE_NONCE,
                reason: "Stale Nonce",
            }));
            let _ = b.attr(&Attribute::Realm(TURN_REALM));
            let _ = b.attr(&Attribute::Nonce(if pick & 0x80 != 0 {
                "nonce-2"
            } else {
                "nonce-1"
            }));
            let _ = b.message_integrity(key);
        }
        2 => {
            let code = [400, 403, 437, 441, 442, 486, 508][usize::from(pick >> 4) % 7];
            let _ = b.attr(&Attribute::ErrorCode(ErrorCode { code, reason: "no" }));
            if pick & 8 != 0 {
                let _ = b.message_integrity(key);
            }
        }
        _ => {
            let _ = b.attr(&Attribute::XorRelayedAddress(addr(rest)));
            let _ = b.attr(&Attribute::XorMappedAddress(addr(
                rest.get(1..).unwrap_or_default(),
            )));
            let _ = b.attr(&Attribute::Lifetime(lifetime));
            let _ = b.message_integrity(key);
        }
    }
    let _ = b.fingerprint();
    b.finish();
    out
}
