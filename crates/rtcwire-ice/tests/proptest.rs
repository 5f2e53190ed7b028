//! Property tests: candidate attribute round trips, priority and foundation rules, pair
//! ordering and caps in the agent's check list.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use proptest::prelude::*;
use rtcwire_ice::candidate::{foundation, pair_priority, priority};
use rtcwire_ice::{Agent, Candidate, CandidateKind, Config, TcpType};
use rtcwire_proto::{SeededRng, Transport};

fn kind_any() -> impl Strategy<Value = CandidateKind> {
    prop_oneof![
        Just(CandidateKind::Host),
        Just(CandidateKind::ServerReflexive),
        Just(CandidateKind::PeerReflexive),
        Just(CandidateKind::Relayed),
    ]
}

fn ip_any() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        any::<[u8; 16]>().prop_map(|b| IpAddr::V6(Ipv6Addr::from(b))),
    ]
}

fn addr_any() -> impl Strategy<Value = SocketAddr> {
    (ip_any(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::new(ip, port))
}

fn candidate_any() -> impl Strategy<Value = Candidate> {
    (
        "[A-Za-z0-9+/]{1,32}",
        1u16..=256,
        any::<bool>(),
        1u32..,
        addr_any(),
        proptest::option::of("[a-f0-9]{8}-[a-f0-9]{4}\\.local"),
        kind_any(),
        proptest::option::of(addr_any()),
        proptest::option::of(prop_oneof![
            Just(TcpType::Active),
            Just(TcpType::Passive),
            Just(TcpType::So)
        ]),
        proptest::collection::vec(("[a-z][a-z0-9-]{0,10}", "[A-Za-z0-9+/]{1,12}"), 0..4),
    )
        .prop_map(
            |(
                foundation,
                component,
                tcp,
                priority,
                address,
                hostname,
                kind,
                related,
                tcp_type,
                ext,
            )| {
                let address = if hostname.is_some() {
                    SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), address.port())
                } else {
                    address
                };
                Candidate {
                    foundation,
                    component,
                    transport: if tcp { Transport::Tcp } else { Transport::Udp },
                    priority,
                    address,
                    hostname,
                    kind,
                    related,
                    tcp_type: if tcp { tcp_type } else { None },
                    extensions: ext
                        .into_iter()
                        .filter(|(n, _)| !matches!(n.as_str(), "raddr" | "rport" | "tcptype"))
                        .collect(),
                }
            },
        )
}

proptest! {
    #[test]
    fn candidate_attribute_round_trips(c in candidate_any()) {
        let line = c.to_string();
        let back = Candidate::parse(&line).unwrap();
        prop_assert_eq!(&back, &c);
        // With the SDP `a=` prefix too, and written again identically.
        let back2 = Candidate::parse(&format!("a={line}")).unwrap();
        prop_assert_eq!(back2.to_string(), line);
    }

    #[test]
    fn parse_never_panics(s in "\\PC{0,200}") {
        let _ = Candidate::parse(&s);
    }

    #[test]
    fn priority_orders_types_then_local_preference(lp in any::<u16>(), lp2 in any::<u16>(), comp in 1u16..=256) {
        let p = |k| priority(k, lp, comp);
        prop_assert!(p(CandidateKind::Host) > p(CandidateKind::PeerReflexive));
        prop_assert!(p(CandidateKind::PeerReflexive) > p(CandidateKind::ServerReflexive));
        prop_assert!(p(CandidateKind::ServerReflexive) > p(CandidateKind::Relayed));
        prop_assert_eq!(p(CandidateKind::Host) >> 24, 126);
        prop_assert_eq!(p(CandidateKind::Host) & 0xff, 256 - u32::from(comp));
        if lp > lp2 {
            prop_assert!(p(CandidateKind::Host) > priority(CandidateKind::Host, lp2, comp));
        }
    }

    #[test]
    fn foundation_is_equal_exactly_for_equal_inputs(
        k1 in kind_any(), k2 in kind_any(), b1 in ip_any(), b2 in ip_any(),
        s1 in proptest::option::of(ip_any()), t in any::<bool>(),
    ) {
        let tr = if t { Transport::Tcp } else { Transport::Udp };
        let f1 = foundation(k1, b1, s1, tr);
        prop_assert_eq!(&f1, &foundation(k1, b1, s1, tr));
        prop_assert!(f1.len() <= 32 && !f1.is_empty());
        if k1 != k2 || b1 != b2 {
            prop_assert_ne!(f1, foundation(k2, b2, s1, tr));
        }
    }

    #[test]
    fn pair_priority_follows_rfc8445(g in any::<u32>(), d in any::<u32>()) {
        let p = pair_priority(g, d);
        let (min, max) = (u64::from(g.min(d)), u64::from(g.max(d)));
        prop_assert_eq!(p, (min << 32) + 2 * max + u64::from(g > d));
        if g != d {
            // Seen from the two roles, the same pair differs only in the last bit.
            prop_assert_eq!(p.abs_diff(pair_priority(d, g)), 1);
        }
    }

    #[test]
    fn check_list_is_ordered_capped_and_free_of_duplicates(
        remotes in proptest::collection::vec((1u8..=40, 1000u16..1010, 1u32..), 0..80),
        max_pairs in 1usize..30,
    ) {
        let config = Config { controlling: true, max_pairs, max_remote_candidates: 50, ..Config::default() };
        let mut agent = Agent::new(config, Box::new(SeededRng::new(1))).unwrap();
        let now = rtcwire_sim::Sim::new(1).now(); // a virtual instant, no wall clock
        agent.add_host_candidate(now, "10.0.0.1:5000".parse().unwrap()).unwrap();
        agent.add_host_candidate(now, "10.0.1.1:5000".parse().unwrap()).unwrap();
        for (host, port, prio) in remotes {
            let mut c = Candidate::host(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, host)), port), 1);
            c.priority = prio;
            let _ = agent.add_remote_candidate(now, c);
        }
        let list: Vec<_> = agent.check_list().collect();
        prop_assert!(list.len() <= max_pairs);
        prop_assert!(agent.remote_candidate_count() <= 50);
        prop_assert!(list.windows(2).all(|w| w[0].2 >= w[1].2), "not sorted: {list:?}");
        let mut keys: Vec<_> = list.iter().map(|(l, r, _)| (*l, *r)).collect();
        keys.sort();
        keys.dedup();
        prop_assert_eq!(keys.len(), list.len());
    }
}

proptest! {
    #[test]
    fn mdns_answer_parsing_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = rtcwire_ice::mdns::parse_answer(&data, "x.local");
    }
}
