//! Properties of any link configuration: every datagram is accounted for exactly once, and
//! order is kept unless reordering is on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::Duration;

use proptest::prelude::*;
use rtcwire_sim::{Direction, GilbertElliott, LinkConfig, Loss, Outcome, Outgoing, Probe, Sim};

fn loss_any() -> impl Strategy<Value = Loss> {
    prop_oneof![
        Just(Loss::None),
        (0.0..1.0f64).prop_map(Loss::Random),
        (0.0..1.0f64, 0.0..1.0f64, 0.0..1.0f64, 0.0..1.0f64).prop_map(|(p, r, g, b)| {
            Loss::GilbertElliott(GilbertElliott {
                good_to_bad: p,
                bad_to_good: r,
                loss_good: g,
                loss_bad: b,
            })
        }),
    ]
}

fn link_any() -> impl Strategy<Value = LinkConfig> {
    (
        0..50u64,
        0..50u64,
        proptest::option::of((1_000..10_000_000u64, 0..20_000usize)),
        loss_any(),
        0.0..0.5f64,
        proptest::option::of((0.0..0.5f64, 0..30u64)),
        proptest::option::of(10..1_500usize),
    )
        .prop_map(|(delay, jitter, bw, loss, dup, reorder, mtu)| {
            let mut c = LinkConfig::with_delay(Duration::from_millis(delay))
                .jitter(Duration::from_millis(jitter))
                .loss(loss)
                .duplicate(dup);
            if let Some((bps, queue)) = bw {
                c = c.bandwidth(bps, queue);
            }
            if let Some((p, extra)) = reorder {
                c = c.reorder(p, Duration::from_millis(extra));
            }
            if let Some(m) = mtu {
                c = c.mtu(m);
            }
            c
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_datagram_is_accounted_for(
        config in link_any(),
        seed in any::<u64>(),
        sends in proptest::collection::vec((0..100u64, 4..1_600usize), 1..80),
    ) {
        let mut sim = Sim::builder(seed).exact_seed().build();
        let a = sim.add_host("10.0.0.1:1".parse::<SocketAddr>().unwrap(), Probe::new());
        let b = sim.add_host("10.0.0.2:1".parse::<SocketAddr>().unwrap(), Probe::new());
        let link = sim.link(a, b, config);
        let start = sim.now();
        for (i, (at_ms, len)) in sends.iter().enumerate() {
            let mut contents = vec![0u8; *len];
            contents[..4].copy_from_slice(&(i as u32).to_be_bytes());
            let t = Outgoing { source: None, destination: None, contents };
            sim.endpoint_mut(a).send_at(start + Duration::from_millis(*at_ms), t);
        }
        let out = sim.run_until(|_| false, Duration::from_secs(3_600));
        prop_assert_eq!(out, Outcome::Idle);
        let st = *sim.stats();
        prop_assert_eq!(st.sent, sends.len() as u64);
        prop_assert_eq!(st.delivered + st.dropped_total(), st.sent + st.duplicated);
        let ls = sim.link_stats(link, Direction::Forward);
        prop_assert_eq!(ls.offered, st.sent);
        prop_assert_eq!(ls.arrived, st.delivered);
        prop_assert_eq!(ls.dropped, st.dropped_total());
        prop_assert_eq!(sim.trace().count() as u64, st.sent + st.duplicated + st.delivered + st.dropped_total());

        let got: Vec<u32> = sim
            .events(b)
            .iter()
            .map(|r| u32::from_be_bytes(r.contents[..4].try_into().unwrap()))
            .collect();
        if config.reorder.is_none() {
            // Sends at the same instant go in queue order, so send order is index order
            // among equal times; arrival order must follow send order.
            let mut order: Vec<usize> = (0..sends.len()).collect();
            order.sort_by_key(|&i| (sends[i].0, i));
            let rank: Vec<usize> = {
                let mut r = vec![0; sends.len()];
                for (pos, &i) in order.iter().enumerate() { r[i] = pos; }
                r
            };
            prop_assert!(got.windows(2).all(|w| rank[w[0] as usize] <= rank[w[1] as usize]), "{:?}", got);
        }
        if let Some(mtu) = config.mtu {
            prop_assert!(sim.events(b).iter().all(|r| r.contents.len() <= mtu));
        }
    }
}
