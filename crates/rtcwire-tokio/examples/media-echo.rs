//! A media echo server: answers offers over HTTP (`POST /offer` with JSON
//! `{"type":"offer","sdp":...}`, as in datachannel-echo) and sends every track it receives
//! back on the same transceiver, frame by frame; a keyframe request from the peer is passed
//! on as a keyframe request on the incoming track. With no argument it also runs a client
//! (audio and video of made-up frames) and prints what came back. All on 127.0.0.1.
//!
//! ```sh
//! cargo run --release -p rtcwire-tokio --example media-echo                 # both
//! cargo run --release -p rtcwire-tokio --example media-echo -- server 127.0.0.1:8080
//! ```
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::net::SocketAddr;

use rtcwire_tokio::{Codec, Config, Direction, Event, MediaKind, PeerConnection};
use rtcwire_tokio::{PeerConnectionState, Server, SessionDescription, Track};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

fn loopback() -> Config {
    Config::default().bind([SocketAddr::from(([127, 0, 0, 1], 0))])
}

/// Sends `track`'s frames back on its transceiver; keyframe requests go the other way.
fn echo(mut track: Track) {
    let back = track.transceiver().clone();
    let mut asks = back.clone();
    tokio::spawn(async move {
        while asks.next_keyframe_request().await.is_ok() {
            let _ = asks.request_keyframe().await;
        }
    });
    tokio::spawn(async move {
        while let Some(f) = track.recv().await {
            if let Ok(Some(pt)) = back.payload_type(f.codec).await {
                let _ = back.write_frame(pt, f.rtp_timestamp, &f.data).await;
            }
        }
    });
}

/// Answers every `POST /offer` on `http` with a session on one shared UDP socket.
async fn serve(http: TcpListener) -> Res<()> {
    let udp = Server::bind(([127, 0, 0, 1], 0).into(), loopback().ice_lite(true)).await?;
    loop {
        let (mut tcp, _) = http.accept().await?;
        let (pc, mut events) = udp.connection()?;
        tokio::spawn(async move {
            let offer = SessionDescription::offer(sdp_of(&read_http(&mut tcp).await?)?);
            pc.set_remote_description(offer).await?;
            // Send back on every transceiver the offer made.
            for t in pc.transceivers().await? {
                t.set_direction(Direction::SendRecv).await?;
            }
            let answer = pc.create_answer().await?;
            pc.set_local_description(answer.clone()).await?;
            let json = to_json(&answer);
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close";
            let reply = format!("{head}\r\nContent-Length: {}\r\n\r\n{json}", json.len());
            tcp.write_all(reply.as_bytes()).await?;
            while let Some(e) = events.next_event().await {
                match e {
                    Event::Track(track) => echo(track),
                    Event::ConnectionStateChange(
                        PeerConnectionState::Closed | PeerConnectionState::Failed,
                    ) => break,
                    _ => {}
                }
            }
            Res::Ok(())
        });
    }
}

/// Offers audio and video to the server at `http`, sends `count` frames of each; returns
/// how many of each came back.
async fn client(http: SocketAddr, count: u32) -> Res<(u32, u32)> {
    let (pc, mut events) = PeerConnection::new(loopback()).await?;
    let audio = pc.add_track(MediaKind::Audio, &["echo"]).await?;
    let video = pc.add_track(MediaKind::Video, &["echo"]).await?;
    let offer = pc.create_offer().await?;
    pc.set_local_description(offer.clone()).await?;
    let json = to_json(&offer);
    let mut tcp = TcpStream::connect(http).await?;
    let req = format!(
        "POST /offer HTTP/1.1\r\nHost: {http}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{json}",
        json.len()
    );
    tcp.write_all(req.as_bytes()).await?;
    let answer = SessionDescription::answer(sdp_of(&read_http(&mut tcp).await?)?);
    pc.set_remote_description(answer).await?;
    pc.connected().await?;
    let mut counts = (0, 0);
    for (mut sender, codec, step, size) in [
        (audio, Codec::Opus, 960, 80),
        (video, Codec::Vp8, 3000, 3000),
    ] {
        let mut track = loop {
            match events.next_event().await {
                Some(Event::Track(t)) if t.mid() == sender.mid().await?.unwrap_or_default() => {
                    break t
                }
                Some(_) => {}
                None => return Err("session ended".into()),
            }
        };
        let pt = sender
            .payload_type(codec)
            .await?
            .ok_or("codec not negotiated")?;
        for i in 0..count {
            // An Opus TOC byte or a VP8 payload header (a keyframe every 30), the number.
            let first = match codec {
                Codec::Opus => 0xfc,
                _ if i % 30 == 0 => 0x10,
                _ => 0x11,
            };
            let mut frame = [&[first][..], &i.to_be_bytes()].concat();
            frame.resize(size, 0x5a);
            sender.write_frame(pt, i * step, &frame).await?;
            match tokio::time::timeout(std::time::Duration::from_secs(5), track.recv()).await {
                Ok(Some(f)) if f.data == frame && codec == Codec::Opus => counts.0 += 1,
                Ok(Some(f)) if f.data == frame => counts.1 += 1,
                other => return Err(format!("{codec:?} frame {i}: {other:?}").into()),
            }
        }
        if codec == Codec::Vp8 {
            // Our keyframe request on the echo comes back to us through the server.
            track.request_keyframe().await?;
            let wait = tokio::time::timeout(
                std::time::Duration::from_secs(5),
                sender.next_keyframe_request(),
            );
            wait.await
                .map_err(|_| "the keyframe request was not passed on")??;
        }
    }
    pc.close().await?;
    Ok(counts)
}

/// Reads one HTTP/1.1 message (headers and a Content-Length body, at most 64 KiB).
async fn read_http(tcp: &mut TcpStream) -> Res<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&buf);
        if let Some(end) = text.find("\r\n\r\n") {
            let len: usize = (text[..end].lines())
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return Ok(String::from_utf8(buf[end + 4..end + 4 + len].to_vec())?);
            }
        }
        let n = tcp.read(&mut chunk).await?;
        if n == 0 || buf.len() > 65_536 {
            return Err("short or oversized HTTP message".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn to_json(desc: &SessionDescription) -> String {
    serde_json::json!({ "type": desc.sdp_type.as_str(), "sdp": desc.sdp }).to_string()
}

fn sdp_of(json: &str) -> Res<String> {
    let v: serde_json::Value = serde_json::from_str(json)?;
    Ok(v["sdp"].as_str().ok_or("no sdp")?.to_owned())
}

async fn both(count: u32) -> Res<(u32, u32)> {
    let http = TcpListener::bind("127.0.0.1:0").await?;
    let addr = http.local_addr()?;
    let server = tokio::spawn(serve(http));
    let counts = client(addr, count).await;
    server.abort();
    counts
}

#[tokio::main]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("server") {
        let addr: SocketAddr = args
            .get(1)
            .map_or("127.0.0.1:8080", String::as_str)
            .parse()?;
        return serve(TcpListener::bind(addr).await?).await;
    }
    let (audio, video) = both(100).await?;
    println!("echoed back: {audio} audio frames, {video} video frames");
    Ok(())
}

#[tokio::test]
async fn every_frame_comes_back_on_the_same_transceivers() {
    let counts = both(60).await.map_err(|e| e.to_string());
    assert_eq!(counts, Ok((60, 60)));
}
