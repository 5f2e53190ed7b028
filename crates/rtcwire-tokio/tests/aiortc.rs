//! The driver against a real aiortc (Python) on 127.0.0.1, in both roles: data channels
//! (text, binary, empty, 64 KiB, bursts of 1000 both ways), an unordered
//! `maxRetransmits=0` channel, a pre-negotiated channel, closes from each side; aiortc's
//! candidates come in its description, ours trickled. Skipped when aiortc is not
//! installed (fails instead with RTCWIRE_REQUIRE_PEERS=1).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use common::{loopback, within};
use rtcwire_sim::peer;
use rtcwire_tokio::{
    ChannelState, DataChannel, DataChannelInit, Event, Events, IceCandidate, Payload,
    PeerConnection, PeerConnectionState, SessionDescription,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

struct Aiortc {
    _child: Child,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<Vec<String>>,
}

impl Aiortc {
    fn start(role: &str) -> Aiortc {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/aiortc_peer.py");
        let mut child = Command::new(peer::python())
            .arg(script)
            .arg(role)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut r = BufReader::new(stdout).lines();
            while let Ok(Some(l)) = r.next_line().await {
                if tx.send(l.split('\t').map(str::to_owned).collect()).is_err() {
                    break;
                }
            }
        });
        Aiortc {
            _child: child,
            stdin,
            lines,
        }
    }

    async fn send(&mut self, fields: &[&str]) {
        let mut line = fields.join("\t");
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    async fn send_sdp(&mut self, desc: &SessionDescription) {
        // Our candidates go trickled, not in the description.
        let sdp: Vec<&str> = desc
            .sdp
            .split("\r\n")
            .filter(|l| !l.starts_with("a=candidate:") && *l != "a=end-of-candidates")
            .collect();
        assert!(!sdp.join("\n").contains("a=candidate"));
        self.send(&["sdp", desc.sdp_type.as_str(), &sdp.join("\\n")])
            .await;
    }

    /// The next line of this kind (others are kept in `seen`).
    async fn expect(&mut self, kind: &str, seen: &mut Vec<Vec<String>>) -> Vec<String> {
        within(&format!("aiortc line {kind:?} (seen {seen:?})"), async {
            loop {
                let l = self.lines.recv().await.expect("aiortc exited");
                if l[0] == kind {
                    return l;
                }
                seen.push(l);
            }
        })
        .await
    }
}

/// Sends every local candidate event to aiortc; hands data channels over.
fn trickle(
    mut events: Events,
) -> (
    mpsc::UnboundedReceiver<IceCandidate>,
    mpsc::UnboundedReceiver<DataChannel>,
) {
    let (ctx, crx) = mpsc::unbounded_channel();
    let (dtx, drx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(e) = events.next_event().await {
            match e {
                Event::IceCandidate(c) => {
                    let _ = ctx.send(c);
                }
                Event::DataChannel(dc) => {
                    let _ = dtx.send(dc);
                }
                _ => {}
            }
        }
    });
    (crx, drx)
}

async fn forward_candidates(
    aiortc: &mut Aiortc,
    cands: &mut mpsc::UnboundedReceiver<IceCandidate>,
) -> usize {
    let mut n = 0;
    loop {
        let c = within("our candidates", cands.recv()).await.unwrap();
        let mid = c.sdp_mid.clone().unwrap_or_else(|| "0".into());
        let index = c.sdp_m_line_index.unwrap_or(0).to_string();
        aiortc.send(&["cand", &mid, &index, &c.candidate]).await;
        if c.is_end_of_candidates() {
            return n;
        }
        // Our ICE-TCP candidates go too (aiortc has no ICE-TCP and skips them): count UDP.
        if c.candidate.split_whitespace().nth(2) == Some("udp") {
            n += 1;
        }
    }
}

async fn recv(dc: &mut DataChannel) -> Payload {
    within(&format!("a message on {}", dc.label()), dc.recv())
        .await
        .unwrap_or_else(|| panic!("{} closed", dc.label()))
}

/// The channels and checks both roles share.
async fn exercise(
    aiortc: &mut Aiortc,
    mut channels: HashMap<String, DataChannel>,
    seen: &mut Vec<Vec<String>>,
) {
    for dc in channels.values() {
        within(&format!("{} open", dc.label()), dc.wait_open())
            .await
            .unwrap();
    }
    let chat = channels.get_mut("chat").unwrap();
    let sent = [
        Payload::Text("hello from rtcwire-tokio".into()),
        Payload::text(String::new()),
        Payload::binary(vec![]),
        Payload::binary(vec![0, 1, 2, 255]),
        Payload::Binary((0..65_536u32).map(|i| (i % 251) as u8).collect()),
    ];
    for p in &sent {
        chat.send(p.clone()).await.unwrap();
    }
    for p in &sent {
        assert_eq!(&recv(chat).await, p);
    }
    // 1000 small ones each way, in order.
    for i in 0..1000 {
        chat.send_text(&format!("m{i}")).await.unwrap();
    }
    for i in 0..1000 {
        assert_eq!(recv(chat).await, Payload::text(format!("m{i}")));
    }
    chat.send_text("burst:1000").await.unwrap();
    for i in 0..1000 {
        assert_eq!(recv(chat).await, Payload::text(format!("p{i}")));
    }

    // Unordered, no retransmission: on an idle machine all 100 come back; on a busy one
    // SACKs come late, retransmission timeouts fire and both sides abandon messages (seen
    // down to under half while other tests load both cores), so only some are required.
    let lossy = channels.get_mut("lossy").unwrap();
    for i in 0..100 {
        lossy.send_binary(&[i; 100]).await.unwrap();
    }
    let mut got = Vec::new();
    while got.len() < 100 {
        match tokio::time::timeout(Duration::from_secs(2), lossy.recv()).await {
            Ok(Some(Payload::Binary(b))) => got.push(b[0]),
            Ok(other) => panic!("lossy: {other:?}"),
            Err(_) => break,
        }
    }
    let received = got.len();
    got.sort_unstable();
    got.dedup();
    assert_eq!(got.len(), received, "duplicates on the lossy channel");
    assert!(got.len() >= 10, "lossy echoes: {}", got.len());
    println!("lossy channel: {} of 100 echoed", got.len());

    let pre = channels.get_mut("pre").unwrap();
    assert_eq!(pre.stream_id(), Some(7));
    pre.send_text("on the pre-negotiated channel")
        .await
        .unwrap();
    assert_eq!(
        recv(pre).await,
        Payload::Text("on the pre-negotiated channel".into())
    );

    // We close "mine": closed here and there.
    let mine = channels.remove("mine").unwrap();
    mine.close().await.unwrap();
    within("mine closed here", mine.closed()).await;
    assert_eq!(mine.state(), ChannelState::Closed);
    let l = aiortc.expect("closed", seen).await;
    assert_eq!(l[1], "mine");

    // aiortc closes "theirs": closed there and here.
    let mut theirs = channels.remove("theirs").unwrap();
    theirs.send_text("close-me").await.unwrap();
    within("theirs closed here", theirs.closed()).await;
    assert_eq!(theirs.recv().await, None);
    let l = aiortc.expect("closed", seen).await;
    assert_eq!(l[1], "theirs");

    // The other channels still work.
    let chat = channels.get_mut("chat").unwrap();
    chat.send_text("still here").await.unwrap();
    assert_eq!(recv(chat).await, Payload::Text("still here".into()));
}

fn aiortc_missing() -> bool {
    !peer::python_module("aiortc")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_offer_aiortc_answers() {
    if aiortc_missing() {
        return;
    }
    let (pc, events) = PeerConnection::new(loopback()).await.unwrap();
    let (mut cands, _dcs) = trickle(events);
    let mut channels = HashMap::new();
    for (label, init) in [
        ("chat", DataChannelInit::default()),
        (
            "lossy",
            DataChannelInit {
                ordered: false,
                max_retransmits: Some(0),
                ..DataChannelInit::default()
            },
        ),
        (
            "pre",
            DataChannelInit {
                negotiated: Some(7),
                ..DataChannelInit::default()
            },
        ),
        ("mine", DataChannelInit::default()),
        ("theirs", DataChannelInit::default()),
    ] {
        let dc = pc.create_data_channel(label, init).await.unwrap();
        channels.insert(label.to_owned(), dc);
    }
    let mut aiortc = Aiortc::start("answer");
    let mut seen = Vec::new();
    let offer = pc.create_offer().await.unwrap();
    pc.set_local_description(offer.clone()).await.unwrap();
    aiortc.send_sdp(&offer).await;
    let trickled = forward_candidates(&mut aiortc, &mut cands).await;
    assert_eq!(trickled, 1);
    let answer = aiortc.expect("sdp", &mut seen).await;
    assert_eq!(answer[1], "answer");
    let answer = answer[2].replace("\\n", "\r\n");
    assert!(
        answer.contains("a=candidate:"),
        "aiortc's candidates are in its answer"
    );
    pc.set_remote_description(SessionDescription::answer(answer))
        .await
        .unwrap();
    within("connected", pc.connected()).await.unwrap();
    exercise(&mut aiortc, channels, &mut seen).await;
    // What aiortc saw of our channels.
    let lossy = seen
        .iter()
        .find(|l| l[0] == "channel" && l[1] == "lossy")
        .unwrap_or_else(|| panic!("{seen:?}"));
    assert_eq!(&lossy[3..5], ["0", "0"], "unordered, maxRetransmits=0");
    let report = pc.get_stats().await.unwrap();
    println!(
        "aiortc answered: DTLS {:?} as {:?}",
        report.transport.dtls_cipher, report.transport.dtls_role
    );
    // We close: aiortc's connection closes too.
    pc.close().await.unwrap();
    assert_eq!(pc.connection_state(), PeerConnectionState::Closed);
    loop {
        let l = aiortc.expect("state", &mut seen).await;
        if l[1] == "closed" {
            break;
        }
    }
    aiortc.send(&["quit"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aiortc_offers_we_answer() {
    if aiortc_missing() {
        return;
    }
    let (pc, events) = PeerConnection::new(loopback()).await.unwrap();
    let (mut cands, mut dcs) = trickle(events);
    let mut aiortc = Aiortc::start("offer");
    let mut seen = Vec::new();
    let offer = aiortc.expect("sdp", &mut seen).await;
    assert_eq!(offer[1], "offer");
    let offer = offer[2].replace("\\n", "\r\n");
    assert!(
        offer.contains("a=candidate:"),
        "aiortc's candidates are in its offer"
    );
    pc.set_remote_description(SessionDescription::offer(offer))
        .await
        .unwrap();
    let pre = pc
        .create_data_channel(
            "pre",
            DataChannelInit {
                negotiated: Some(7),
                ..DataChannelInit::default()
            },
        )
        .await
        .unwrap();
    let answer = pc.create_answer().await.unwrap();
    pc.set_local_description(answer.clone()).await.unwrap();
    aiortc.send_sdp(&answer).await;
    let trickled = forward_candidates(&mut aiortc, &mut cands).await;
    assert_eq!(trickled, 1);
    within("connected", pc.connected()).await.unwrap();
    let mut channels = HashMap::new();
    channels.insert("pre".to_owned(), pre);
    while channels.len() < 5 {
        let dc = within("aiortc's channels", dcs.recv()).await.unwrap();
        assert_eq!(dc.state(), ChannelState::Open);
        channels.insert(dc.label().to_owned(), dc);
    }
    exercise(&mut aiortc, channels, &mut seen).await;
    assert_eq!(
        pc.get_stats().await.unwrap().transport.dtls_role,
        Some(rtcwire_tokio::rtcwire::DtlsRole::Client)
    );
    // aiortc closes: ours reaches closed.
    aiortc.send(&["quit"]).await;
    within("closed by aiortc", pc.closed()).await;
    assert_eq!(pc.connection_state(), PeerConnectionState::Closed);
}
