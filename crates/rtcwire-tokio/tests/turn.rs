//! Through a real TURN server: coturn, started by the test on 127.0.0.1. The answerer may
//! use relayed candidates only (`iceTransportPolicy: "relay"`), so every byte goes through
//! its allocation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use common::{loopback, relayed_session};
use rtcwire_sim::peer;
use rtcwire_tokio::TurnServer;

#[tokio::test]
async fn a_relay_only_answerer_connects_through_coturn() {
    let Some(turn) = peer::Turnserver::start("tokio", "u", "p", "example.org", &[]) else {
        return; // skipped (or failed under RTCWIRE_REQUIRE_PEERS=1) by the helper
    };
    let relayed = loopback().turn_server(TurnServer::udp(turn.addr, "u", "p"));
    relayed_session(relayed, 20_000).await;
}
