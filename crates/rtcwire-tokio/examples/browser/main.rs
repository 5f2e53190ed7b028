//! Talk to rtcwire from a browser: this serves a page on 127.0.0.1 and answers its offers.
//!
//! ```text
//! cargo run --release -p rtcwire-tokio --example browser [-- --listen 127.0.0.1:8765]
//! ```
//!
//! Open the printed URL: the page opens a data channel to rtcwire, which echoes what you
//! type, and shows live stats (RTT, bitrate, DTLS cipher, the selected candidate pair).
//! The same page, with `?scenarios=…`, is what `cargo xtask interop` runs in headless
//! Chromium. Signaling is plain JSON over HTTP (see `signaling.rs`); each browser-side
//! session has an id, so many can run at once.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod signaling;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use rtcwire_tokio::rtcwire::SrtpProfile;
use rtcwire_tokio::{
    Config, DataChannel, Event, Events, MediaKind, Payload, PeerConnection, TestLoss, Track,
    Transceiver,
};
use serde_json::{json, Value};

/// What the page can ask about a session (`GET /state`).
#[derive(Default)]
struct Info {
    candidates: Vec<Value>,
    end_of_candidates: bool,
    state: String,
    channels: Vec<String>,
    channels_closed: u32,
    messages_received: u64,
    /// Frames received (and sent back) per kind.
    audio_frames: u64,
    video_frames: u64,
    video_keyframes: u64,
    /// The transceiver the browser's video arrives on (`POST /pli` asks it for a keyframe).
    video: Option<Transceiver>,
    /// Tracks from the browser that ended (its sender removed, or the transceiver stopped).
    tracks_ended: u64,
    /// `.local` names of the browser's candidates the driver's mDNS query did not resolve.
    unresolved: Vec<String>,
}

struct Session {
    pc: PeerConnection,
    info: Mutex<Info>,
}

#[derive(Clone, Default)]
struct App {
    sessions: Arc<Mutex<HashMap<String, Arc<Session>>>>,
    /// Told each time a chat message was echoed (`GET /after-chat` waits for it).
    chatted: Arc<tokio::sync::Notify>,
    /// Where sessions gather host candidates (`--bind`, default 127.0.0.1).
    bind: Arc<Vec<SocketAddr>>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=rtcwire=debug (for example) shows what the sessions do, on stderr.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut listen: SocketAddr = "127.0.0.1:8765".parse()?;
    let mut bind = vec!["127.0.0.1:0".parse()?];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--listen", Some(v)) => listen = v.parse()?,
            // The addresses sessions gather on, comma-separated (the interop harness adds
            // the LAN address of its namespace).
            ("--bind", Some(v)) => {
                bind = v
                    .split(',')
                    .map(|ip| format!("{ip}:0").parse())
                    .collect::<Result<_, _>>()?
            }
            _ => return Err("usage: browser [--listen 127.0.0.1:PORT] [--bind IP,IP]".into()),
        }
    }
    if !listen.ip().is_loopback() {
        return Err("this demo listens on loopback only".into());
    }
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!(
        "rtcwire is listening: open http://{}/",
        listener.local_addr()?
    );
    let app = App {
        bind: Arc::new(bind),
        ..App::default()
    };
    signaling::serve(listener, app).await
}

impl App {
    fn get(&self, id: &str) -> Result<Arc<Session>, String> {
        let sessions = self.sessions.lock().map_err(|_| "poisoned")?;
        sessions
            .get(id)
            .cloned()
            .ok_or_else(|| format!("no session {id}"))
    }

    /// A new session with host candidates on the `--bind` addresses, with its event task.
    /// The request may restrict the SRTP profile (`srtp`: its name) and ask for
    /// injected loss (`loss`: per mille each way of RTP and RTCP, a test-only option),
    /// or TCP candidates only (`tcp_only`).
    async fn create(&self, id: &str, body: &Value) -> Result<Arc<Session>, String> {
        let mut config = Config::default().bind(self.bind.iter().copied());
        if let Some(name) = body["srtp"].as_str() {
            let p = SRTP_NAMES
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| format!("no SRTP profile {name}"))?;
            config.session.srtp_profiles = Some(vec![p.1]);
        }
        if body["tcp_only"].as_bool() == Some(true) {
            // ICE-TCP scenarios: TCP host candidates only (a passive listener, an active one).
            config = config.ice_udp(false).ice_tcp(true);
        }
        if let Some(per_mille) = body["loss"].as_u64() {
            config.test_loss = Some(TestLoss {
                per_mille: u16::try_from(per_mille.min(1000)).unwrap_or(1000),
                seed: id
                    .bytes()
                    .fold(0u64, |h, b| h.wrapping_mul(31) ^ u64::from(b)),
            });
        }
        let (pc, events) = PeerConnection::new(config)
            .await
            .map_err(|e| e.to_string())?;
        let session = Arc::new(Session {
            pc,
            info: Mutex::new(Info::default()),
        });
        self.sessions
            .lock()
            .map_err(|_| "poisoned")?
            .insert(id.to_owned(), session.clone());
        tokio::spawn(watch(session.clone(), events, self.chatted.clone()));
        Ok(session)
    }

    /// Handles one signaling request: `(method, path, query id, body)` → JSON reply.
    async fn handle(&self, path: &str, id: &str, body: &Value) -> Result<Value, String> {
        let sdp_of = |d: rtcwire_tokio::SessionDescription, trickle: bool| {
            // Trickle: rtcwire's candidates go out through GET /candidates instead.
            let sdp = if trickle {
                without_candidates(&d.sdp)
            } else {
                d.sdp.clone()
            };
            json!({"type": d.sdp_type.as_str(), "sdp": sdp})
        };
        let trickle = body["trickle"].as_bool().unwrap_or(true);
        let e = |e: rtcwire_tokio::Error| e.to_string();
        match path {
            "/offer" => {
                let s = match self.get(id) {
                    Ok(s) => s, // a renegotiation (ICE restart) of a session
                    Err(_) => self.create(id, body).await?,
                };
                for n in body["negotiated"].as_array().into_iter().flatten() {
                    let init = rtcwire_tokio::DataChannelInit {
                        negotiated: n["id"].as_u64().and_then(|i| u16::try_from(i).ok()),
                        ..Default::default()
                    };
                    let dc =
                        s.pc.create_data_channel(n["label"].as_str().unwrap_or(""), init)
                            .await
                            .map_err(e)?;
                    tokio::spawn(echo(s.clone(), dc, self.chatted.clone()));
                }
                let offer =
                    rtcwire_tokio::SessionDescription::offer(body["sdp"].as_str().unwrap_or(""));
                s.pc.set_remote_description(offer).await.map_err(e)?;
                // Echo: a track of each kind the browser sends, on the transceivers its
                // offer made (addTrack reuses them), so the answer says sendrecv.
                for kind in body["echo"].as_array().into_iter().flatten() {
                    let kind = match kind.as_str() {
                        Some("audio") => MediaKind::Audio,
                        Some("video") => MediaKind::Video,
                        _ => continue,
                    };
                    s.pc.add_track(kind, &["rtcwire-echo"]).await.map_err(e)?;
                }
                let answer = s.pc.create_answer().await.map_err(e)?;
                s.pc.set_local_description(answer.clone())
                    .await
                    .map_err(e)?;
                Ok(sdp_of(answer, trickle))
            }
            // rtcwire offers: a new session, an ICE restart, or a renegotiation of a running
            // session that adds a data channel (`channel`: its label) and tracks (`media`).
            "/rtcwire-offer" | "/restart" | "/renegotiate" => {
                let s = if path == "/rtcwire-offer" {
                    self.create(id, body).await?
                } else {
                    self.get(id)?
                };
                if path == "/restart" {
                    s.pc.restart_ice().await.map_err(e)?;
                }
                let label = match (path, body["channel"].as_str()) {
                    ("/rtcwire-offer", None) => Some("rtcwire"),
                    (_, label) => label,
                };
                if let Some(label) = label {
                    let dc =
                        s.pc.create_data_channel(label, Default::default())
                            .await
                            .map_err(e)?;
                    tokio::spawn(echo(s.clone(), dc, self.chatted.clone()));
                }
                // Tracks of ours: what the browser sends on their transceivers comes back.
                for kind in body["media"].as_array().into_iter().flatten() {
                    let kind = match kind.as_str() {
                        Some("audio") => MediaKind::Audio,
                        Some("video") => MediaKind::Video,
                        _ => continue,
                    };
                    s.pc.add_track(kind, &["rtcwire-media"]).await.map_err(e)?;
                }
                let offer = s.pc.create_offer().await.map_err(e)?;
                s.pc.set_local_description(offer.clone()).await.map_err(e)?;
                Ok(sdp_of(offer, trickle))
            }
            "/answer" => {
                let answer =
                    rtcwire_tokio::SessionDescription::answer(body["sdp"].as_str().unwrap_or(""));
                self.get(id)?
                    .pc
                    .set_remote_description(answer)
                    .await
                    .map_err(e)?;
                Ok(json!({"ok": true}))
            }
            "/candidate" => {
                let s = self.get(id)?;
                let c = match body["candidate"].as_str() {
                    Some(c) if !c.is_empty() => rtcwire_tokio::IceCandidate {
                        candidate: c.to_owned(),
                        sdp_mid: body["sdpMid"].as_str().map(str::to_owned),
                        sdp_m_line_index: body["sdpMLineIndex"]
                            .as_u64()
                            .and_then(|i| u16::try_from(i).ok()),
                    },
                    _ => rtcwire_tokio::IceCandidate::end_of_candidates(None),
                };
                // A candidate the session cannot use (a browser's TCP ones) is not an error
                // of the exchange: report it and go on.
                Ok(match s.pc.add_ice_candidate(c).await {
                    Ok(()) => json!({"ok": true}),
                    Err(err) => json!({"ok": false, "error": err.to_string()}),
                })
            }
            "/candidates" => {
                let s = self.get(id)?;
                let from = body["from"].as_u64().unwrap_or(0) as usize;
                let info = s.info.lock().map_err(|_| "poisoned")?;
                let list: Vec<Value> = info.candidates.iter().skip(from).cloned().collect();
                Ok(json!({"candidates": list, "end": info.end_of_candidates}))
            }
            "/state" => {
                let s = self.get(id)?;
                // A closed session has no stats any more, only its state.
                let stats = s.pc.get_stats().await.ok();
                let rtp = stats.as_ref().map(rtp_stats);
                let transport = stats.map(|stats| {
                    let t = &stats.transport;
                    json!({
                        "srtp_profile": t.srtp_profile.map(srtp_name),
                        "local": t.selected_pair.as_ref().map(|p| p.local.address.to_string()),
                        "remote": t.selected_pair.as_ref().map(|p| p.remote.address.to_string()),
                        "dtls_cipher": t.dtls_cipher.map(|c| format!("{c:?}")),
                        "dtls_role": t.dtls_role.map(|r| format!("{r:?}")),
                        "selected_pair": t.selected_pair.as_ref().map(|p| {
                            format!("{:?} {} -> {}", p.local.transport, p.local.address, p.remote.address)
                        }),
                        "selected_remote": t.selected_pair.as_ref().map(|p| {
                            format!("{:?} {}", p.remote.kind, p.remote.hostname.as_deref().unwrap_or(""))
                        }),
                        "sctp_srtt_ms": t.sctp.as_ref().and_then(|s| s.srtt).map(|d| d.as_secs_f64() * 1e3),
                    })
                });
                let mut transceivers = Vec::new();
                for t in s.pc.transceivers().await.unwrap_or_default() {
                    transceivers.push(json!({
                        "kind": format!("{:?}", t.kind()).to_lowercase(),
                        "mid": t.mid().await.ok().flatten(),
                        "current_direction": t.current_direction().await.ok().flatten()
                            .map(|d| format!("{d:?}").to_lowercase()),
                    }));
                }
                let info = s.info.lock().map_err(|_| "poisoned")?;
                Ok(json!({
                    "state": info.state,
                    "transceivers": transceivers,
                    "tracks_ended": info.tracks_ended,
                    "unresolved": info.unresolved,
                    "rtp": rtp,
                    "channels": info.channels.iter().map(|l| json!({"label": l})).collect::<Vec<_>>(),
                    "channels_closed": info.channels_closed,
                    "messages_received": info.messages_received,
                    "media": {
                        "audio_frames": info.audio_frames,
                        "video_frames": info.video_frames,
                        "video_keyframes": info.video_keyframes,
                    },
                    "transport": transport,
                }))
            }
            "/pli" => {
                let s = self.get(id)?;
                let video = s.info.lock().map_err(|_| "poisoned")?.video.clone();
                video
                    .ok_or("no video from the browser yet")?
                    .request_keyframe()
                    .await
                    .map_err(e)?;
                Ok(json!({"ok": true}))
            }
            "/close" => {
                self.get(id)?.pc.close().await.map_err(e)?;
                Ok(json!({"ok": true}))
            }
            "/result" => {
                // One line per result, read by `cargo xtask interop`.
                println!("result: {body}");
                Ok(json!({"ok": true}))
            }
            _ => Err(format!("no endpoint {path}")),
        }
    }
}

/// Follows one session's events for the page.
async fn watch(s: Arc<Session>, mut events: Events, chatted: Arc<tokio::sync::Notify>) {
    while let Some(ev) = events.next_event().await {
        match ev {
            Event::IceCandidate(c) => {
                let Ok(mut info) = s.info.lock() else { return };
                if c.is_end_of_candidates() {
                    info.end_of_candidates = true;
                } else {
                    info.candidates.push(json!({"candidate": c.candidate, "sdpMid": c.sdp_mid, "sdpMLineIndex": c.sdp_m_line_index}));
                }
            }
            Event::ConnectionStateChange(state) => {
                if let Ok(mut info) = s.info.lock() {
                    info.state = format!("{state:?}").to_lowercase();
                }
            }
            Event::DataChannel(dc) => {
                tokio::spawn(echo(s.clone(), dc, chatted.clone()));
            }
            Event::ResolveHostname(name) => {
                if let Ok(mut info) = s.info.lock() {
                    info.unresolved.push(name);
                }
            }
            Event::Track(track) => {
                tokio::spawn(echo_media(s.clone(), track));
            }
            _ => {}
        }
    }
}

/// Echoes every message on a channel. On "chat" it prints what it got and answers in
/// words; "/close" makes rtcwire close the channel.
async fn echo(s: Arc<Session>, mut dc: DataChannel, chatted: Arc<tokio::sync::Notify>) {
    if let Ok(mut info) = s.info.lock() {
        info.channels.push(dc.label().to_owned());
    }
    while let Some(payload) = dc.recv().await {
        if let Ok(mut info) = s.info.lock() {
            info.messages_received += 1;
        }
        let sent = match payload {
            Payload::Text(t) if t == "/close" => dc.close().await,
            Payload::Text(t) if dc.label() == "chat" => {
                println!("chat: {t}");
                let sent = dc
                    .send_text(&format!("you said “{t}” ({} bytes)", t.len()))
                    .await;
                chatted.notify_waiters();
                sent
            }
            p => dc.send(p).await,
        };
        if sent.is_err() {
            break;
        }
    }
    dc.closed().await;
    if let Ok(mut info) = s.info.lock() {
        info.channels_closed += 1;
    }
}

/// SRTP profiles by the names Chromium's `srtpCipher` gives them (RFC 5764's and
/// RFC 7714's `use_srtp` names).
const SRTP_NAMES: [(&str, SrtpProfile); 4] = [
    (
        "SRTP_AES128_CM_HMAC_SHA1_80",
        SrtpProfile::Aes128CmHmacSha1_80,
    ),
    (
        "SRTP_AES128_CM_HMAC_SHA1_32",
        SrtpProfile::Aes128CmHmacSha1_32,
    ),
    ("SRTP_AEAD_AES_128_GCM", SrtpProfile::AeadAes128Gcm),
    ("SRTP_AEAD_AES_256_GCM", SrtpProfile::AeadAes256Gcm),
];

fn srtp_name(p: SrtpProfile) -> String {
    SRTP_NAMES
        .iter()
        .find(|(_, q)| *q == p)
        .map_or_else(|| p.to_string(), |(n, _)| (*n).to_owned())
}

/// The RTP counters the page checks, summed over streams of each kind (NACKs we sent for
/// what we received, NACKs the browser sent us and what we retransmitted).
fn rtp_stats(st: &rtcwire_tokio::StatsReport) -> Value {
    let inbound = |f: fn(&rtcwire_tokio::rtcwire::InboundRtpStats) -> u64| -> u64 {
        st.inbound_rtp.iter().map(f).sum()
    };
    let outbound = |f: fn(&rtcwire_tokio::rtcwire::OutboundRtpStats) -> u64| -> u64 {
        st.outbound_rtp.iter().map(f).sum()
    };
    json!({
        "inbound_packets": inbound(|s| s.packets_received),
        "inbound_lost": st.inbound_rtp.iter().map(|s| s.packets_lost).sum::<i64>(),
        "nacks_sent": inbound(|s| s.nack_count),
        "repaired": inbound(|s| s.packets_repaired),
        "retransmissions_received": inbound(|s| s.retransmitted_packets_received),
        "outbound_packets": outbound(|s| s.packets_sent),
        "nacks_received": outbound(|s| s.nack_count),
        "retransmitted": outbound(|s| s.retransmitted_packets_sent),
    })
}

fn without_candidates(sdp: &str) -> String {
    sdp.split_inclusive('\n')
        .filter(|l| !l.starts_with("a=candidate:") && !l.starts_with("a=end-of-candidates"))
        .collect()
}

/// Sends every frame of a track back on its transceiver as it comes; a keyframe request
/// from the browser (about what we send) is passed on to the browser's own sender.
async fn echo_media(s: Arc<Session>, mut track: Track) {
    let mut back = track.transceiver().clone();
    let video = track.kind() == MediaKind::Video;
    if video {
        if let Ok(mut info) = s.info.lock() {
            info.video = Some(back.clone());
        }
    }
    loop {
        tokio::select! {
            frame = track.recv() => {
                let Some(frame) = frame else { break };
                if let Ok(mut info) = s.info.lock() {
                    if video {
                        info.video_frames += 1;
                        info.video_keyframes += u64::from(frame.keyframe);
                    } else {
                        info.audio_frames += 1;
                    }
                }
                // Not sending yet (still negotiating) is no reason to stop.
                let _ = back
                    .write_frame(frame.payload_type, frame.rtp_timestamp, &frame.data)
                    .await;
            }
            asked = back.next_keyframe_request() => {
                if asked.is_err() || track.request_keyframe().await.is_err() {
                    break;
                }
            }
        }
    }
    if let Ok(mut info) = s.info.lock() {
        info.tracks_ended += 1;
    }
}
