//! Property tests of the session (proptest), two rtcwire sessions on rtcwire-sim links:
//! any messages on an ordered channel arrive intact and in order under random loss; any
//! order of tracks and channels added by either side, each followed by an offer/answer
//! from the side that added it, leaves both sides stable with the same sections.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Duo, Signaling};
use proptest::collection::vec;
use proptest::prelude::*;
use rtcwire::{MediaKind, Payload, SignalingState};
use rtcwire_sim::{LinkConfig, Loss};

/// A message from its shape: text (ASCII from the byte) or binary, of `len` bytes.
fn message((text, len, byte): (bool, usize, u8)) -> Payload {
    if text {
        Payload::text(char::from(b'a' + byte % 26).to_string().repeat(len))
    } else {
        Payload::binary(vec![byte; len])
    }
}

fn sections(duo: &Duo, side_a: bool) -> Vec<(String, u16)> {
    let sdp = rtcwire_sdp::Sdp::parse(&duo.local_sdp(side_a)).unwrap();
    sdp.media()
        .map(|m| (format!("{:?}", m.kind()), m.port()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn an_ordered_channel_delivers_any_messages_intact_and_in_order_under_loss(
        seed in any::<u64>(),
        loss in 0.0f64..0.08,
        shapes in vec((any::<bool>(), 0usize..20_000, any::<u8>()), 1..10),
    ) {
        let link = LinkConfig::with_delay(Duration::from_millis(5)).loss(Loss::Random(loss));
        let mut duo = Duo::new(seed, link, Signaling::Trickle);
        let (ca, cb) = duo.connect_with_channel();
        let msgs: Vec<Payload> = shapes.into_iter().map(message).collect();
        for m in &msgs {
            duo.with(true, |pc| match m {
                Payload::Text(t) => pc.send_text(ca, t).unwrap(),
                Payload::Binary(b) => pc.send_binary(ca, b).unwrap(),
            });
        }
        let n = msgs.len();
        let all = duo.run_until(Duration::from_secs(60), |d| d.messages(false, cb).len() >= n);
        prop_assert!(all, "{} of {n} arrived\n{}", duo.messages(false, cb).len(), duo.sim.report());
        prop_assert_eq!(duo.messages(false, cb), msgs);
    }

    #[test]
    fn tracks_and_channels_added_in_any_order_by_either_side_negotiate(
        seed in any::<u64>(),
        ops in vec((any::<bool>(), 0u8..3), 1..6),
    ) {
        let mut duo = Duo::new(seed, LinkConfig::with_delay(Duration::from_millis(5)), Signaling::Trickle);
        let (mut channels, mut tracks) = (0usize, 0usize);
        for (i, (by_a, what)) in ops.into_iter().enumerate() {
            duo.with(by_a, |pc| match what {
                0 => drop(pc.add_track(MediaKind::Audio, &["s"]).unwrap()),
                1 => drop(pc.add_track(MediaKind::Video, &["s"]).unwrap()),
                _ => drop(pc.create_data_channel("c", rtcwire::DataChannelInit::default()).unwrap()),
            });
            if what < 2 { tracks += 1 } else { channels += 1 }
            duo.renegotiate(by_a);
            if i == 0 {
                duo.add_hosts();
            }
            let _ = duo.run_until(Duration::from_millis(20), |_| false);
            for side_a in [true, false] {
                let h = if side_a { duo.a } else { duo.b };
                prop_assert_eq!(duo.sim.endpoint(h).signaling_state(), SignalingState::Stable);
            }
            // The same sections in the same order on both sides, none rejected; a section
            // a track each, and one data section once there is a channel.
            let (a, b) = (sections(&duo, true), sections(&duo, false));
            prop_assert_eq!(&a, &b);
            prop_assert!(a.iter().all(|(_, port)| *port != 0), "{:?}", a);
            prop_assert!(a.len() >= tracks.min(1) + usize::from(channels > 0), "{:?}", a);
        }
        // Connected over the one transport the sections bundle on.
        duo.connected();
    }
}
