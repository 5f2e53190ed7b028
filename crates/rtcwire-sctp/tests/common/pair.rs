//! Two rtcwire associations connected over the test network, and message helpers, shared
//! by the association and transfer tests.

use std::time::Duration;

use rtcwire_sctp::{Association, Config, Event, State};

use super::{assoc, start_instant, Link, Net};

pub type Pair = Net<Association, Association>;

pub fn pair_with(ca: Config, cb: Config, link: Link, seed: u64) -> Pair {
    let now = start_instant();
    let mut net = Net::new(
        assoc(ca, seed, now),
        assoc(cb, seed + 1000, now),
        now,
        link,
        seed,
    );
    net.a.connect(now).unwrap();
    net.trace = std::env::var("SCTP_TRACE").is_ok();
    let ok = net.run_until(Duration::from_secs(300), |n| {
        n.a.is_established() && n.b.is_established()
    });
    if !ok {
        for l in &net.trace_lines {
            eprintln!("{l}");
        }
    }
    assert!(
        ok,
        "no setup: {:?} / {:?} {:?} lost {} delivered {} refused {} ({:?})",
        n_state(&net.a),
        n_state(&net.b),
        net.a_events,
        net.lost,
        net.delivered,
        net.refused,
        net.last_refusal
    );
    net
}

pub fn n_state(a: &Association) -> State {
    a.state()
}

pub fn big_config() -> Config {
    Config {
        max_message_size: 1 << 20,
        remote_max_message_size: 1 << 20,
        ..Config::default()
    }
}

pub fn pair(link: Link, seed: u64) -> Pair {
    pair_with(big_config(), big_config(), link, seed)
}

pub fn messages(events: &[Event]) -> Vec<&rtcwire_sctp::Message> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

pub fn payload(stream: u16, i: usize, len: usize) -> Vec<u8> {
    let mut v = format!("{stream}:{i}:").into_bytes();
    v.resize(len.max(v.len()), (i % 251) as u8);
    v
}
