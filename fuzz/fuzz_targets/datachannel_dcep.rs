#![no_main]
//! DCEP messages and data-channel payloads from a peer: the DCEP parser never panics and
//! re-emits what it parses; arbitrary messages on arbitrary streams and PPIDs go through
//! `DataChannels::handle_event` without panicking.
use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use rtcwire_datachannel::dcep::{Message, Open};
use rtcwire_datachannel::DataChannels;
use rtcwire_proto::{Datagram, DtlsRole, SansIo, SeededRng};
use rtcwire_sctp::{Association, Config, Event};

fuzz_target!(|data: &[u8]| {
    if let Ok(Message::Open(o)) = Message::parse(data) {
        let mut b = Vec::new();
        o.emit(&mut b);
        assert_eq!(Open::parse(&b).expect("reparses"), o);
    }
    if data.len() < 7 {
        return;
    }
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let cfg = Config::default;
    let mut a = Association::new(cfg(), Box::new(SeededRng::new(1)), now).expect("rng");
    let mut b = Association::new(cfg(), Box::new(SeededRng::new(2)), now).expect("rng");
    let _ = a.connect(now);
    let mut buf = Vec::new();
    for _ in 0..16 {
        buf.clear();
        if let Some(t) = a.poll_transmit(now, &mut buf) {
            let _ = b.handle_read(now, Datagram::on_path(&buf[..t.size]));
        }
        buf.clear();
        if let Some(t) = b.poll_transmit(now, &mut buf) {
            let _ = a.handle_read(now, Datagram::on_path(&buf[..t.size]));
        }
    }
    while a.poll_event().is_some() {}
    let mut dc = DataChannels::new(if data[0] & 1 == 0 {
        DtlsRole::Client
    } else {
        DtlsRole::Server
    });
    let stream = u16::from_be_bytes([data[1], data[2]]);
    let ppid = u32::from_be_bytes([data[3], data[4], data[5], data[6]]);
    let msg = rtcwire_sctp::Message {
        stream,
        ppid,
        unordered: data[0] & 2 != 0,
        data: data[7..].to_vec().into(),
    };
    let _ = dc.handle_event(&mut a, now, Event::Message(msg));
    let _ = dc.handle_event(&mut a, now, Event::IncomingStreamsReset(vec![stream]));
    while dc.poll_event().is_some() {}
    buf.clear();
    while a.poll_transmit(now, &mut buf).is_some() {
        buf.clear();
    }
});
