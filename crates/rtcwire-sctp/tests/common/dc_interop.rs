//! rtcwire-sctp against dcsctp on the test network: setup in either role and what the
//! tests/dcsctp*.rs files look at (ours and dcsctp's messages and events).

use std::time::Duration;

use dcsctp::api::{
    Message as DcMessage, Options, PpId, SendOptions as DcSendOptions, SocketEvent, SocketState,
    StreamId,
};
use rtcwire_sctp::{Association, Config, Event};

use super::dc::{Dc, DcEvent};
use super::{assoc, start_instant, Link, Net};

pub type Interop = Net<Association, Dc>;

pub fn our_config() -> Config {
    Config {
        max_message_size: 1 << 20,
        remote_max_message_size: 1 << 20,
        ..Config::default()
    }
}

/// Sets up with `we_connect` choosing who sends INIT.
pub fn interop(we_connect: bool, link: Link, seed: u64) -> Interop {
    interop_with(we_connect, link, seed, our_config(), &Dc::options(), false)
}

/// [`interop`] with both sides' settings given, and the trace on or off.
pub fn interop_with(
    we_connect: bool,
    link: Link,
    seed: u64,
    ours: Config,
    theirs: &Options,
    trace: bool,
) -> Interop {
    let now = start_instant();
    let mut net = Net::new(
        assoc(ours, seed, now),
        Dc::new(theirs, now),
        now,
        link,
        seed,
    );
    net.trace = trace;
    if we_connect {
        net.a.connect(now).unwrap();
    } else {
        net.b.tick(now);
        net.b.sock.connect();
    }
    assert!(
        net.run_until(Duration::from_secs(120), |n| n.a.is_established()
            && n.b.sock.state() == SocketState::Connected),
        "no setup: ours {:?}, dcsctp {:?}, refused {} ({:?})",
        net.a.state(),
        net.b.sock.state(),
        net.refused,
        net.last_refusal
    );
    net
}

pub fn ours(net: &Interop) -> Vec<&rtcwire_sctp::Message> {
    net.a_events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

pub fn theirs(net: &Interop) -> Vec<&DcMessage> {
    net.b_events
        .iter()
        .filter_map(|e| match e {
            DcEvent::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

pub fn dc_events(net: &Interop) -> Vec<&SocketEvent> {
    net.b_events
        .iter()
        .filter_map(|e| match e {
            DcEvent::Socket(s) => Some(s),
            _ => None,
        })
        .collect()
}

pub fn dc_send(net: &mut Interop, stream: u16, ppid: u32, data: Vec<u8>, opts: &DcSendOptions) {
    net.b.tick(net.now);
    net.b
        .sock
        .send(DcMessage::new(StreamId(stream), PpId(ppid), data), opts)
        .unwrap();
}

pub fn payload(i: usize, len: usize) -> Vec<u8> {
    let mut v = format!("{i}:").into_bytes();
    v.resize(len.max(v.len()), (i % 253) as u8);
    v
}

/// The index [`payload`] wrote at the front of a message.
pub fn index_of(data: &[u8]) -> usize {
    String::from_utf8_lossy(&data[..data.len().min(4)])
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

pub const SIZES: [usize; 12] = [
    1,
    2,
    3,
    4,
    100,
    1175,
    1176,
    1177,
    65535,
    65536,
    300_000,
    1 << 20,
];
