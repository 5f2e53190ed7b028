//! Two PeerConnections on an rtcwire-sim LAN; the test is their signaling channel.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use rtcwire::{
    Certificate, ChannelId, Config, Event, Input, MediaKind, PeerConnection, PeerConnectionState,
    SessionDescription, TransceiverId,
};
use rtcwire_sim::{Host, LinkConfig, LinkId, Sim};

pub const ADDR_A: &str = "10.0.0.1:5000";
pub const ADDR_B: &str = "10.0.0.2:6000";

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Two certificates made once per test binary (generating one draws from the OS), so the
/// same seed replays the same session.
pub fn certificates() -> &'static (Certificate, Certificate) {
    static CERTS: OnceLock<(Certificate, Certificate)> = OnceLock::new();
    CERTS.get_or_init(|| {
        (
            Certificate::generate_self_signed().unwrap(),
            Certificate::generate_self_signed().unwrap(),
        )
    })
}

/// How the offer/answer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signaling {
    /// Candidates trickle as events; descriptions carry none.
    Trickle,
    /// Every candidate is in the descriptions (gathered before the offer); trickled ones
    /// are not forwarded.
    Full,
}

pub struct Duo {
    pub sim: Sim,
    pub a: Host<PeerConnection>,
    pub b: Host<PeerConnection>,
    pub signaling: Signaling,
    pub link: LinkId,
    /// Events seen, in order, per side (trickled candidates included).
    pub log_a: Vec<Event>,
    pub log_b: Vec<Event>,
}

impl Duo {
    pub fn new(seed: u64, link: LinkConfig, signaling: Signaling) -> Duo {
        Self::with_configs(seed, link, signaling, |_| {}, |_| {})
    }

    /// As `new`, with each side's configuration adjusted first.
    pub fn with_configs(
        seed: u64,
        link: LinkConfig,
        signaling: Signaling,
        fa: impl FnOnce(&mut Config),
        fb: impl FnOnce(&mut Config),
    ) -> Duo {
        let (ca, cb) = certificates().clone();
        let mut sim = Sim::new(seed);
        let now = sim.now();
        let mut config_a = Config::seeded(seed ^ 0xa, ca);
        fa(&mut config_a);
        let mut config_b = Config::seeded(seed ^ 0xb, cb);
        fb(&mut config_b);
        let pa = PeerConnection::new(config_a, now).unwrap();
        let pb = PeerConnection::new(config_b, now).unwrap();
        let a = sim.add_host(addr(ADDR_A), pa);
        let b = sim.add_host(addr(ADDR_B), pb);
        let link = sim.link(a, b, link);
        Duo {
            link,
            sim,
            a,
            b,
            signaling,
            log_a: Vec::new(),
            log_b: Vec::new(),
        }
    }

    /// Runs an application call on one side at the simulator's current time.
    pub fn with<R>(&mut self, side_a: bool, f: impl FnOnce(&mut PeerConnection) -> R) -> R {
        let now = self.sim.now();
        let h = if side_a { self.a } else { self.b };
        let pc = self.sim.endpoint_mut(h);
        pc.handle_input(Input::Timeout(now)).unwrap();
        f(pc)
    }

    /// The transceiver of the first `kind` track announced to `side_a` (or B).
    pub fn track(&self, side_a: bool, kind: MediaKind) -> TransceiverId {
        self.log(side_a)
            .iter()
            .find_map(|e| match e {
                Event::Track {
                    transceiver,
                    kind: k,
                    ..
                } if *k == kind => Some(*transceiver),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no {kind:?} track on {}", if side_a { "A" } else { "B" }))
    }

    /// `side_a` (or B) makes an offer and takes it as its local description.
    pub fn offer(&mut self, side_a: bool) -> SessionDescription {
        self.with(side_a, |pc| {
            let o = pc.create_offer().unwrap();
            pc.set_local_description(o.clone()).unwrap();
            o
        })
    }

    /// `side_a` (or B) takes `offer`, adds its own tracks of the kinds in `sends` (as a
    /// browser application calling addTrack before createAnswer does), answers and takes
    /// the answer as its local description.
    pub fn answer(
        &mut self,
        side_a: bool,
        offer: SessionDescription,
        sends: &[MediaKind],
    ) -> SessionDescription {
        self.with(side_a, |pc| {
            pc.set_remote_description(offer).unwrap();
            for k in sends {
                pc.add_track(*k, &["b-stream"]).unwrap();
            }
            let a = pc.create_answer().unwrap();
            pc.set_local_description(a.clone()).unwrap();
            a
        })
    }

    /// A's offer, B's answer (B adds its own tracks of the kinds in `b_sends` to the
    /// transceivers the offer made), then host candidates; returns the offer.
    pub fn negotiate_media(&mut self, b_sends: &[MediaKind]) -> SessionDescription {
        let offer = self.offer(true);
        let answer = self.answer(false, offer.clone(), b_sends);
        self.with(true, |pc| pc.set_remote_description(answer).unwrap());
        self.add_hosts();
        self.exchange();
        offer
    }

    /// Runs until both sides are connected (30 s at most), then 100 ms more: SRTP is
    /// keyed on both sides once DTLS is connected on both.
    pub fn connected(&mut self) {
        let ok = self.run_until(Duration::from_secs(30), |d| {
            d.state(true) == PeerConnectionState::Connected
                && d.state(false) == PeerConnectionState::Connected
        });
        assert!(ok, "not connected\n{}", self.sim.report());
        let _ = self.run_until(Duration::from_millis(100), |_| false);
    }

    /// Offer from A, answer from B, as a browser application would.
    pub fn negotiate(&mut self) {
        if self.signaling == Signaling::Full {
            self.with(true, |pc| {
                pc.add_local_candidate(addr(ADDR_A)).unwrap();
                pc.end_of_local_candidates();
            });
            self.with(false, |pc| {
                pc.add_local_candidate(addr(ADDR_B)).unwrap();
                pc.end_of_local_candidates();
            });
        }
        let offer = self.offer(true);
        let answer: SessionDescription = self.answer(false, offer, &[]);
        self.with(true, |pc| pc.set_remote_description(answer).unwrap());
        if self.signaling == Signaling::Trickle {
            self.with(true, |pc| {
                pc.add_local_candidate(addr(ADDR_A)).unwrap();
                pc.end_of_local_candidates();
            });
            self.with(false, |pc| {
                pc.add_local_candidate(addr(ADDR_B)).unwrap();
                pc.end_of_local_candidates();
            });
        }
        self.exchange();
    }

    /// Gives each side its host candidate (trickled as events).
    pub fn add_hosts(&mut self) {
        self.with(true, |pc| {
            pc.add_local_candidate(addr(ADDR_A)).unwrap();
            pc.end_of_local_candidates();
        });
        self.with(false, |pc| {
            pc.add_local_candidate(addr(ADDR_B)).unwrap();
            pc.end_of_local_candidates();
        });
    }

    /// A later offer/answer, from A or from B.
    pub fn renegotiate(&mut self, offerer_a: bool) {
        let offer = self.offer(offerer_a);
        let answer = self.answer(!offerer_a, offer, &[]);
        self.with(offerer_a, |pc| pc.set_remote_description(answer).unwrap());
        self.exchange();
    }

    /// Takes the events both sides produced, forwards trickled candidates, logs the rest.
    pub fn exchange(&mut self) {
        let ea = self.sim.take_events(self.a);
        let eb = self.sim.take_events(self.b);
        for (events, to_a) in [(ea, false), (eb, true)] {
            for e in events {
                if let (Event::IceCandidate(c), Signaling::Trickle) = (&e, self.signaling) {
                    let c = c.clone();
                    self.with(to_a, |pc| pc.add_ice_candidate(&c).unwrap());
                }
                if to_a {
                    self.log_b.push(e);
                } else {
                    self.log_a.push(e);
                }
            }
        }
    }

    /// Runs in 5 ms slices (forwarding candidates between them) until `done` or `limit`.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Duo) -> bool) -> bool {
        let end = self.sim.elapsed() + limit;
        loop {
            self.exchange();
            if done(self) {
                return true;
            }
            if self.sim.elapsed() >= end {
                return false;
            }
            let outcome = self.sim.run_for(Duration::from_millis(5));
            assert!(outcome.is_done(), "{outcome}\n{}", self.sim.report());
        }
    }

    pub fn state(&self, side_a: bool) -> PeerConnectionState {
        let h = if side_a { self.a } else { self.b };
        self.sim.endpoint(h).connection_state()
    }

    /// A side's local description, as SDP text.
    pub fn local_sdp(&self, side_a: bool) -> String {
        let h = if side_a { self.a } else { self.b };
        self.sim
            .endpoint(h)
            .local_description()
            .map(|d| d.sdp.clone())
            .unwrap_or_default()
    }

    pub fn log(&self, side_a: bool) -> &[Event] {
        if side_a {
            &self.log_a
        } else {
            &self.log_b
        }
    }

    /// The channel ids announced on one side (ours opened, or the peer's via ondatachannel).
    pub fn opened(&self, side_a: bool) -> Vec<ChannelId> {
        self.log(side_a)
            .iter()
            .filter_map(|e| match e {
                Event::ChannelOpen(id) => Some(*id),
                Event::DataChannel { id, .. } => Some(*id),
                _ => None,
            })
            .collect()
    }

    pub fn messages(&self, side_a: bool, id: ChannelId) -> Vec<rtcwire::Payload> {
        self.log(side_a)
            .iter()
            .filter_map(|e| match e {
                Event::ChannelMessage { id: i, payload } if *i == id => Some(payload.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn closed(&self, side_a: bool, id: ChannelId) -> bool {
        self.log(side_a)
            .iter()
            .any(|e| matches!(e, Event::ChannelClosed(i) if *i == id))
    }

    /// Negotiates, opens a channel "chat" from A and waits until both sides have it open.
    /// Returns (A's id, B's id).
    pub fn connect_with_channel(&mut self) -> (ChannelId, ChannelId) {
        let ca = self.with(true, |pc| {
            pc.create_data_channel("chat", rtcwire::DataChannelInit::default())
                .unwrap()
        });
        self.negotiate();
        let ok = self.run_until(Duration::from_secs(30), |d| {
            d.opened(true).contains(&ca) && !d.opened(false).is_empty()
        });
        assert!(ok, "channel did not open\n{}", self.sim.report());
        let cb = self.opened(false)[0];
        (ca, cb)
    }
}
