//! Data channels against dcsctp (Chromium's SCTP) on rtcwire-sim, with the test playing
//! the browser's DCEP by hand on the dcsctp side: our OPEN is parsed there and ACKed, its
//! OPEN reaches us and is ACKed, every PPID (51/53/56/57) both ways, and a close started by
//! the dcsctp side (stream reset) reaching Closed on ours.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use std::time::Duration;

use common::dc::{Dc, DcEvent};
use common::Peer;
use dcsctp::api::{Message as DcMessage, PpId, SendOptions, SocketEvent, SocketState, StreamId};
use rtcwire_datachannel::dcep::{self, Message as Dcep};
use rtcwire_datachannel::{ChannelConfig, Event, Payload, Reliability};
use rtcwire_proto::DtlsRole;
use rtcwire_sim::{Host, LinkConfig, Loss, Sim};

fn setup(seed: u64) -> (Sim, Host<Peer>, Host<Dc>) {
    let mut sim = Sim::new(seed);
    let now = sim.now();
    let ours = sim.add_host(
        "10.0.0.1:5000".parse().unwrap(),
        Peer::new(DtlsRole::Client, seed, now),
    );
    let theirs = sim.add_host(
        "10.0.0.2:5000".parse().unwrap(),
        Dc::new(&Dc::options(), now),
    );
    sim.link(
        ours,
        theirs,
        LinkConfig::with_delay(Duration::from_millis(15)).loss(Loss::Random(0.05)),
    );
    sim.endpoint_mut(ours).assoc.connect(now).unwrap();
    let out = sim.run_until(
        |s| {
            s.endpoint(ours).connected()
                && s.endpoint(theirs).sock.state() == SocketState::Connected
        },
        Duration::from_secs(60),
    );
    assert!(out.is_done(), "{out}");
    (sim, ours, theirs)
}

fn dc_messages(sim: &Sim, h: Host<Dc>) -> Vec<&DcMessage> {
    sim.events(h)
        .iter()
        .filter_map(|e| match e {
            DcEvent::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn dc_send(sim: &mut Sim, h: Host<Dc>, stream: u16, ppid: u32, data: Vec<u8>) {
    let now = sim.now();
    let d = sim.endpoint_mut(h);
    d.tick(now);
    d.sock
        .send(
            DcMessage::new(StreamId(stream), PpId(ppid), data),
            &SendOptions::default(),
        )
        .unwrap();
}

fn our_messages(sim: &Sim, h: Host<Peer>, id: u16) -> Vec<Payload> {
    sim.events(h)
        .iter()
        .filter_map(|e| match e {
            Event::Message { id: i, payload } if *i == id => Some(payload.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn our_open_is_understood_and_every_ppid_flows_both_ways() {
    let (mut sim, ours, theirs) = setup(1);
    let now = sim.now();
    let id = {
        let p = sim.endpoint_mut(ours);
        let cfg = ChannelConfig {
            label: "chat".into(),
            protocol: "json".into(),
            reliability: Reliability::MaxRetransmits(3),
            ..Default::default()
        };
        let id = p.dc.open(&mut p.assoc, now, cfg).unwrap();
        p.dc.send_text(&mut p.assoc, now, id, "before-ack").unwrap();
        id
    };
    assert_eq!(id % 2, 0);
    assert!(sim
        .run_until(
            |s| dc_messages(s, theirs).len() == 2,
            Duration::from_secs(30)
        )
        .is_done());
    let got = dc_messages(&sim, theirs);
    assert_eq!((got[0].stream_id, got[0].ppid), (StreamId(id), PpId(50)));
    let Dcep::Open(open) = Dcep::parse(&got[0].payload).unwrap() else {
        panic!("not an OPEN")
    };
    assert_eq!((open.label, open.protocol), ("chat", "json"));
    assert_eq!(open.reliability, Reliability::MaxRetransmits(3));
    assert_eq!(
        (got[1].ppid, got[1].payload.as_slice()),
        (PpId(51), &b"before-ack"[..])
    );
    // The "browser" ACKs, then sends every kind.
    dc_send(&mut sim, theirs, id, 50, vec![dcep::ACK]);
    dc_send(&mut sim, theirs, id, 51, "hé".as_bytes().to_vec());
    dc_send(&mut sim, theirs, id, 56, vec![0]);
    dc_send(&mut sim, theirs, id, 53, vec![1, 2, 3]);
    dc_send(&mut sim, theirs, id, 57, vec![0]);
    dc_send(&mut sim, theirs, id, 53, vec![5; 100_000]);
    assert!(sim
        .run_until(
            |s| our_messages(s, ours, id).len() == 5,
            Duration::from_secs(30)
        )
        .is_done());
    assert!(sim.events(ours).contains(&Event::Open(id)));
    assert_eq!(
        our_messages(&sim, ours, id),
        vec![
            Payload::Text("hé".into()),
            Payload::text(String::new()),
            Payload::binary(vec![1, 2, 3]),
            Payload::binary(Vec::new()),
            Payload::binary(vec![5; 100_000]),
        ]
    );
    // And from us: empty text / binary go as 56 / 57 with one byte.
    let now = sim.now();
    {
        let p = sim.endpoint_mut(ours);
        p.dc.send_text(&mut p.assoc, now, id, "").unwrap();
        p.dc.send_binary(&mut p.assoc, now, id, Vec::new()).unwrap();
        p.dc.send_binary(&mut p.assoc, now, id, vec![9; 70_000])
            .unwrap();
    }
    let out = sim.run_until(
        |s| dc_messages(s, theirs).len() == 5,
        Duration::from_secs(30),
    );
    assert!(
        out.is_done(),
        "{out}: {:?} {:?} {:?}",
        dc_messages(&sim, theirs)
            .iter()
            .map(|m| (m.ppid, m.payload.len()))
            .collect::<Vec<_>>(),
        sim.endpoint(ours).assoc.stats(),
        sim.events(theirs)
            .iter()
            .filter(|e| matches!(e, DcEvent::Socket(_)))
            .collect::<Vec<_>>()
    );
    let got: Vec<(u32, usize)> = dc_messages(&sim, theirs)[2..]
        .iter()
        .map(|m| (m.ppid.0, m.payload.len()))
        .collect();
    assert_eq!(got, vec![(56, 1), (57, 1), (53, 70_000)]);
}

#[test]
fn their_open_is_acked_and_their_close_closes_ours() {
    let (mut sim, ours, theirs) = setup(2);
    // The RFC 8832 example OPEN ("foo"/"bar", reliable), on odd stream 1 as a DTLS server.
    let open = hex::decode("030000000000000000030003666f6f626172").unwrap();
    dc_send(&mut sim, theirs, 1, 50, open);
    dc_send(&mut sim, theirs, 1, 51, b"hi".to_vec());
    assert!(sim
        .run_until(
            |s| dc_messages(s, theirs).len() == 1 && our_messages(s, ours, 1).len() == 1,
            Duration::from_secs(30)
        )
        .is_done());
    assert!(sim.events(ours).contains(&Event::ChannelOpened {
        id: 1,
        label: "foo".into(),
        protocol: "bar".into(),
        ordered: true,
        reliability: Reliability::Reliable,
        priority: 0,
    }));
    let ack = dc_messages(&sim, theirs)[0];
    assert_eq!(
        (ack.stream_id, ack.ppid, ack.payload.as_slice()),
        (StreamId(1), PpId(50), &[2u8][..])
    );
    // The browser closes: it resets its outgoing stream; we answer with ours.
    let now = sim.now();
    {
        let d = sim.endpoint_mut(theirs);
        d.tick(now);
        d.sock.reset_streams(&[StreamId(1)]).unwrap();
    }
    let out = sim.run_until(
        |s| {
            s.events(ours).contains(&Event::Closed(1))
                && s.events(theirs).iter().any(|e| {
                    matches!(e, DcEvent::Socket(SocketEvent::OnIncomingStreamReset(v)) if v == &vec![StreamId(1)])
                })
        },
        Duration::from_secs(30),
    );
    assert!(out.is_done(), "{out}");
}

#[test]
fn our_close_is_seen_by_the_browser_side() {
    let (mut sim, ours, theirs) = setup(3);
    let now = sim.now();
    let id = {
        let p = sim.endpoint_mut(ours);
        p.dc.open(&mut p.assoc, now, ChannelConfig::default())
            .unwrap()
    };
    assert!(sim
        .run_until(
            |s| dc_messages(s, theirs).len() == 1,
            Duration::from_secs(30)
        )
        .is_done());
    dc_send(&mut sim, theirs, id, 50, vec![dcep::ACK]);
    assert!(sim
        .run_until(
            |s| s.events(ours).contains(&Event::Open(id)),
            Duration::from_secs(30)
        )
        .is_done());
    let now = sim.now();
    {
        let p = sim.endpoint_mut(ours);
        p.dc.close(&mut p.assoc, now, id).unwrap();
    }
    let mut answered = false;
    let out = sim.run_until(
        |s| {
            s.events(theirs)
                .iter()
                .any(|e| matches!(e, DcEvent::Socket(SocketEvent::OnIncomingStreamReset(_))))
                && s.events(ours).contains(&Event::Closed(id))
        },
        Duration::from_secs(30),
    );
    // The browser answers the incoming reset with its own (what Chromium's data channel
    // controller does); the harness does it when it sees the event.
    if !out.is_done() {
        let now = sim.now();
        let d = sim.endpoint_mut(theirs);
        d.tick(now);
        d.sock.reset_streams(&[StreamId(id)]).unwrap();
        answered = true;
    }
    assert!(answered);
    assert!(sim
        .run_until(
            |s| s.events(ours).contains(&Event::Closed(id)),
            Duration::from_secs(30)
        )
        .is_done());
}
