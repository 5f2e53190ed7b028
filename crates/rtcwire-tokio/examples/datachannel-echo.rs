//! A data-channel echo server answering offers over HTTP (`POST /offer` with JSON
//! `{"type":"offer","sdp":...}`, answered with the same shape), its client, or both in one
//! process (no argument), printing round trips. All on 127.0.0.1.
//!
//! ```sh
//! cargo run --release -p rtcwire-tokio --example datachannel-echo                 # both
//! cargo run --release -p rtcwire-tokio --example datachannel-echo -- server 127.0.0.1:8080
//! cargo run --release -p rtcwire-tokio --example datachannel-echo -- client 127.0.0.1:8080
//! ```
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::net::SocketAddr;
use tokio::time::Instant;

use rtcwire_tokio::{Config, DataChannelInit, Event, Payload, PeerConnection, PeerConnectionState};
use rtcwire_tokio::{Server, SessionDescription};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

fn loopback() -> Config {
    Config::default().bind([SocketAddr::from(([127, 0, 0, 1], 0))])
}

/// Answers every `POST /offer` on `http` with a session on the shared UDP socket that echoes.
async fn serve(http: TcpListener) -> Res<()> {
    let udp = Server::bind(([127, 0, 0, 1], 0).into(), loopback().ice_lite(true)).await?;
    loop {
        let (mut tcp, _) = http.accept().await?;
        let (pc, mut events) = udp.connection()?;
        tokio::spawn(async move {
            let body = read_http(&mut tcp).await?;
            let offer = SessionDescription::offer(sdp_of(&body)?);
            pc.set_remote_description(offer).await?;
            let answer = pc.create_answer().await?;
            pc.set_local_description(answer.clone()).await?;
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close";
            let json = to_json(&answer);
            let reply = format!("{head}\r\nContent-Length: {}\r\n\r\n{json}", json.len());
            tcp.write_all(reply.as_bytes()).await?;
            while let Some(e) = events.next_event().await {
                match e {
                    Event::DataChannel(mut dc) => drop(tokio::spawn(async move {
                        while let Some(m) = dc.recv().await {
                            let _ = dc.send(m).await;
                        }
                    })),
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

/// Connects to the server at `http`, sends `count` messages one at a time; the round trips.
async fn client(http: SocketAddr, count: usize) -> Res<Vec<std::time::Duration>> {
    let (pc, _events) = PeerConnection::new(loopback()).await?;
    let mut dc = pc
        .create_data_channel("echo", DataChannelInit::default())
        .await?;
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
    let body = read_http(&mut tcp).await?;
    let answer = SessionDescription::answer(sdp_of(&body)?);
    pc.set_remote_description(answer).await?;
    let start = Instant::now();
    dc.wait_open().await?;
    println!("channel open after {:?}", start.elapsed());
    let mut rtts = Vec::with_capacity(count);
    for i in 0..count {
        let sent = Payload::text(format!("ping {i}"));
        let t = Instant::now();
        dc.send(sent.clone()).await?;
        let back = dc.recv().await.ok_or("channel closed")?;
        rtts.push(t.elapsed());
        if back != sent {
            return Err(format!("echo mismatch: {back:?}").into());
        }
    }
    pc.close().await?;
    Ok(rtts)
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

/// `{"type":...,"sdp":...}` as JSON.
fn to_json(desc: &SessionDescription) -> String {
    serde_json::json!({ "type": desc.sdp_type.as_str(), "sdp": desc.sdp }).to_string()
}

/// The SDP text of a JSON description.
fn sdp_of(json: &str) -> Res<String> {
    let v: serde_json::Value = serde_json::from_str(json)?;
    Ok(v["sdp"].as_str().ok_or("no sdp")?.to_owned())
}

/// Server and client in one process.
async fn both(count: usize) -> Res<Vec<std::time::Duration>> {
    let http = TcpListener::bind("127.0.0.1:0").await?;
    let addr = http.local_addr()?;
    let server = tokio::spawn(serve(http));
    let rtts = client(addr, count).await;
    server.abort();
    rtts
}

#[tokio::main]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = |i: usize| {
        args.get(i)
            .map_or("127.0.0.1:8080", String::as_str)
            .parse::<SocketAddr>()
    };
    let rtts = match args.first().map(String::as_str) {
        Some("server") => return serve(TcpListener::bind(addr(1)?).await?).await,
        Some("client") => client(addr(1)?, 10).await?,
        _ => both(10).await?,
    };
    for (i, rtt) in rtts.iter().enumerate() {
        println!("ping {i}: round trip {rtt:?}");
    }
    Ok(())
}

#[tokio::test]
async fn echoes_through_the_http_signalled_server() {
    let rtts = both(20).await.map_err(|e| e.to_string());
    assert_eq!(rtts.map(|r| r.len()), Ok(20));
}
