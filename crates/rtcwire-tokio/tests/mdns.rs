//! mDNS resolution of `.local` candidates, in a network namespace the test creates (only
//! loopback, with multicast on): both peers hide their host candidate behind a name that
//! aioice's mDNS responder publishes, so the sessions connect only if each driver
//! resolves the other's name. Skipped without `ip` netns rights or aioice (fails instead
//! with RTCWIRE_REQUIRE_PEERS=1).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{loopback, within};
use rtcwire_sim::peer;
use rtcwire_tokio::{DataChannelInit, Event, PeerConnection, SessionDescription};

const RESPONDER: &str = r#"
import asyncio, sys
from aioice import mdns
async def main():
    p = await mdns.create_mdns_protocol()
    for name in sys.argv[1:]:
        await p.publish(name, "127.0.0.1")
    print("ready", flush=True)
    await asyncio.sleep(60)
asyncio.run(main())
"#;

const TEST: &str = "both_peers_resolve_the_others_local_name";

/// A network namespace, deleted when dropped.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn both_peers_resolve_the_others_local_name() {
    if let Ok(names) = std::env::var("RTCWIRE_MDNS_NAMES") {
        let (a, b) = names.split_once(' ').unwrap();
        return inside_the_namespace(a, b);
    }
    if !peer::available("ip") || !peer::python_module("aioice") {
        return;
    }
    let ns = Netns(format!("rtcwire-mdns-{}", std::process::id()));
    if !ip(&["netns", "add", &ns.0]) {
        assert!(!peer::required(), "cannot create a network namespace");
        println!("SKIPPED: cannot create a network namespace");
        return;
    }
    for args in [
        &["link", "set", "lo", "up"][..],
        &["link", "set", "lo", "multicast", "on"],
        &["route", "add", "224.0.0.0/4", "dev", "lo"],
    ] {
        let mut full = vec!["-n", &ns.0];
        full.extend_from_slice(args);
        assert!(ip(&full), "ip {full:?}");
    }
    let tag = std::process::id();
    let names = [
        format!("{tag:08x}-0000-4000-8000-00000000000a.local"),
        format!("{tag:08x}-0000-4000-8000-00000000000b.local"),
    ];
    let mut responder = peer::ChildGuard(
        Command::new("ip")
            .args(["netns", "exec", &ns.0, peer::python(), "-c", RESPONDER])
            .args(&names)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(responder.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    let me = std::env::current_exe().unwrap();
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.0])
        .arg(me)
        .args(["--exact", TEST, "--nocapture"])
        .env("RTCWIRE_MDNS_NAMES", names.join(" "))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the test inside the namespace failed");
    assert!(text.contains("resolved and connected"), "it did not run");
}

/// `sdp` with its loopback host candidate on `port` named `name` instead.
fn hide(sdp: &str, port: u16, name: &str) -> String {
    let hidden = sdp.replace(
        &format!(" 127.0.0.1 {port} typ host"),
        &format!(" {name} {port} typ host"),
    );
    assert_ne!(hidden, sdp, "no host candidate on port {port}");
    hidden
}

fn inside_the_namespace(name_a: &str, name_b: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (a, mut ea) = PeerConnection::new(loopback()).await.unwrap();
        let (b, mut eb) = PeerConnection::new(loopback()).await.unwrap();
        let dc = a
            .create_data_channel("named", DataChannelInit::default())
            .await
            .unwrap();
        let offer = a.create_offer().await.unwrap();
        a.set_local_description(offer.clone()).await.unwrap();
        let offer = hide(&offer.sdp, a.local_addrs()[0].port(), name_a);
        b.set_remote_description(SessionDescription::offer(offer))
            .await
            .unwrap();
        let answer = b.create_answer().await.unwrap();
        b.set_local_description(answer.clone()).await.unwrap();
        let answer = hide(&answer.sdp, b.local_addrs()[0].port(), name_b);
        a.set_remote_description(SessionDescription::answer(answer))
            .await
            .unwrap();
        // No name is handed to the application: the drivers resolved them.
        let far = within("b's channel", async {
            loop {
                match eb.next_event().await.unwrap() {
                    Event::ResolveHostname(n) => panic!("b could not resolve {n}"),
                    Event::DataChannel(dc) => return dc,
                    _ => {}
                }
            }
        })
        .await;
        within("open", dc.wait_open()).await.unwrap();
        assert_eq!(far.label(), "named");
        while let Ok(Some(e)) =
            tokio::time::timeout(std::time::Duration::from_millis(10), ea.next_event()).await
        {
            assert!(!matches!(e, Event::ResolveHostname(_)), "{e:?}");
        }
        // With the driver's mDNS off, the same name goes to the application.
        let mut config = loopback();
        config.mdns = false;
        let (c, mut ec) = PeerConnection::new(config).await.unwrap();
        let offer = a.create_offer().await.unwrap();
        let offer = hide(&offer.sdp, a.local_addrs()[0].port(), name_a);
        c.set_remote_description(SessionDescription::offer(offer))
            .await
            .unwrap();
        let asked = within("c's ResolveHostname", async {
            loop {
                if let Event::ResolveHostname(n) = ec.next_event().await.unwrap() {
                    return n;
                }
            }
        })
        .await;
        assert_eq!(asked, name_a);
        println!("resolved and connected: {name_a} and {name_b}");
    });
}
