//! Headless Chromium as a real peer, in a network namespace the test creates (only `lo`
//! up, so nothing leaves the machine): the test binary re-runs one test inside the
//! namespace, which serves a page and the signaling over HTTP on 127.0.0.1 and runs a
//! PeerConnection on a UDP socket there.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rtcwire::{Datagram, Event, Input, Output, PeerConnection, SessionDescription};
use rtcwire_sim::peer;

pub const CHROMIUM: &str = "/usr/lib/chromium/chromium";
const INSIDE: &str = "RTCWIRE_BROWSER_NETNS";

/// The network namespace, deleted on drop.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Runs `inside` in a fresh namespace (the test binary again, this test only). Returns
/// without running when Chromium, `needs` or the right to make a namespace is missing
/// (fails instead with RTCWIRE_REQUIRE_PEERS=1).
pub fn in_namespace(test: &str, needs: &[&str], inside: impl FnOnce()) {
    if std::env::var(INSIDE).is_ok() {
        inside();
        return;
    }
    let missing = [CHROMIUM, "ip"]
        .iter()
        .chain(needs)
        .find(|c| !peer::available(c));
    if let Some(m) = missing {
        assert!(!peer::required(), "{m} is missing");
        return;
    }
    let name = format!("rtcwire-br-{}-{}", std::process::id(), test.len());
    let made = Command::new("ip")
        .args(["netns", "add", &name])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        assert!(
            !peer::required(),
            "cannot create a network namespace (root needed)"
        );
        return;
    }
    let ns = Netns(name);
    let up = Command::new("ip")
        .args(["-n", &ns.0, "link", "set", "lo", "up"])
        .status()
        .unwrap();
    assert!(up.success());
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.0])
        .arg(&exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for line in text.lines() {
        if let Some(at) = line.find("chromium: ") {
            println!("{}", &line[at..]);
        }
    }
    assert!(
        out.status.success(),
        "inside the namespace:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(ns);
}

/// What the page sends the test.
pub enum Http {
    /// POST /answer: the page's answer to our offer.
    Answer(String),
    /// POST /offer: the page's offer; the answer goes back on the sender.
    Offer(String, mpsc::Sender<String>),
    /// POST /result: what the page measured (JSON).
    Result(String),
}

/// Serves `page` at `/`, `offer` at GET `/offer`, and hands the page's posts over.
fn serve(listener: TcpListener, page: String, offer: String, tx: mpsc::Sender<Http>) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { return };
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request = String::new();
        if reader.read_line(&mut request).is_err() {
            continue;
        }
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                break;
            }
            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; length];
        let _ = reader.read_exact(&mut body);
        let body = String::from_utf8_lossy(&body).into_owned();
        let mut parts = request.split_whitespace();
        let method = parts.next().unwrap_or("GET").to_owned();
        let path = parts.next().unwrap_or("/").to_owned();
        let (kind, reply) = match (method.as_str(), path.as_str()) {
            (_, "/") => ("text/html", page.clone()),
            ("GET", "/offer") => ("application/sdp", offer.clone()),
            ("POST", "/offer") => {
                let (atx, arx) = mpsc::channel();
                let _ = tx.send(Http::Offer(body, atx));
                let answer = arx
                    .recv_timeout(Duration::from_secs(20))
                    .unwrap_or_default();
                ("application/sdp", answer)
            }
            (_, "/answer") => {
                let _ = tx.send(Http::Answer(body));
                ("text/plain", String::new())
            }
            (_, "/result") => {
                let _ = tx.send(Http::Result(body));
                ("text/plain", String::new())
            }
            _ => ("text/plain", String::new()),
        };
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
            reply.len()
        );
    }
}

/// A page, its signaling and Chromium showing it.
pub struct Browser {
    pub rx: mpsc::Receiver<Http>,
    _child: peer::ChildGuard,
}

impl Browser {
    /// Serves `page` (and `offer` at GET /offer) on 127.0.0.1 and opens it in headless
    /// Chromium with a fake camera and microphone, plus `flags`.
    pub fn open(dir: &Path, page: &str, offer: String, flags: &[&str]) -> Browser {
        let http = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", http.local_addr().unwrap());
        let (tx, rx) = mpsc::channel();
        let page = page.to_owned();
        std::thread::spawn(move || serve(http, page, offer, tx));
        let profile = dir.join("profile");
        let child = Command::new(CHROMIUM)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--disable-extensions",
                "--mute-audio",
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                "--allow-loopback-in-peer-connection",
                "--disable-features=WebRtcHideLocalIpsWithMdns",
            ])
            .args(flags)
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(&url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Browser {
            rx,
            _child: peer::ChildGuard(child),
        }
    }

    /// Waits (until `deadline`) for the page's answer to the offer it was opened with,
    /// and sets it on `pc`; returns its SDP.
    pub fn answer_to(&self, pc: &mut PeerConnection, deadline: Instant) -> String {
        let answer = loop {
            assert!(Instant::now() < deadline, "no answer from Chromium");
            match self.rx.recv_timeout(Duration::from_millis(200)) {
                Ok(Http::Answer(a)) => break a,
                Ok(Http::Result(r)) => panic!("the page failed early: {r}"),
                Ok(Http::Offer(..)) | Err(_) => {}
            }
        };
        pc.set_remote_description(SessionDescription::answer(answer.clone()))
            .unwrap_or_else(|e| panic!("{e}\n{answer}"));
        answer
    }
}

/// A PeerConnection on a UDP socket on 127.0.0.1, driven on the real clock.
pub struct Driven {
    pub pc: PeerConnection,
    pub sock: UdpSocket,
    pub local: SocketAddr,
    buf: Vec<u8>,
    datagram: Vec<u8>,
    /// Why datagrams were refused (the first few).
    pub refusals: Vec<String>,
    /// Drop every Nth RTP datagram each way (0: none).
    pub loss_every: u32,
    /// RTP datagrams dropped so far, both ways.
    pub dropped: u32,
    rtp_out: u32,
    rtp_in: u32,
}

impl Driven {
    pub fn new(make: impl FnOnce(Instant) -> PeerConnection) -> Driven {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let local = sock.local_addr().unwrap();
        #[allow(clippy::disallowed_methods)]
        let mut pc = make(Instant::now());
        pc.add_local_candidate(local).unwrap();
        pc.end_of_local_candidates();
        Driven {
            pc,
            sock,
            local,
            buf: Vec::with_capacity(1500),
            datagram: vec![0u8; 2048],
            refusals: Vec::new(),
            loss_every: 0,
            dropped: 0,
            rtp_out: 0,
            rtp_in: 0,
        }
    }

    /// Sends what the session has, hands its events to `on_event`, then waits up to
    /// `max_wait` for a datagram (or the session's next timeout) and feeds it.
    pub fn turn(
        &mut self,
        max_wait: Duration,
        mut on_event: impl FnMut(&mut PeerConnection, Event),
    ) {
        let next = loop {
            self.buf.clear();
            match self.pc.poll_output(&mut self.buf) {
                Output::Transmit(t) => {
                    let d = &self.buf[..t.size];
                    if !lose(self.loss_every, &mut self.rtp_out, &mut self.dropped, d) {
                        let _ = self.sock.send_to(d, t.destination.unwrap());
                    }
                }
                Output::Event(e) => on_event(&mut self.pc, e),
                Output::Timeout(t) => break t,
            }
        };
        #[allow(clippy::disallowed_methods)]
        let wait = next
            .saturating_duration_since(Instant::now())
            .clamp(Duration::from_millis(1), max_wait);
        self.sock.set_read_timeout(Some(wait)).unwrap();
        #[allow(clippy::disallowed_methods)]
        match self.sock.recv_from(&mut self.datagram) {
            Ok((n, _))
                if lose(
                    self.loss_every,
                    &mut self.rtp_in,
                    &mut self.dropped,
                    &self.datagram[..n],
                ) => {}
            Ok((n, from)) => {
                let r = self.pc.handle_input(Input::Receive(
                    Instant::now(),
                    Datagram::udp(from, self.local, &self.datagram[..n]),
                ));
                if let Err(e) = r {
                    if self.refusals.len() < 8 {
                        self.refusals.push(e.to_string());
                    }
                }
            }
            Err(_) => self
                .pc
                .handle_input(Input::Timeout(Instant::now()))
                .unwrap(),
        }
    }
}

/// Whether to drop `d`: every `every`th RTP (not RTCP) datagram counted in `count`
/// (RFC 7983 first byte 128-191, RFC 5761 second byte); `every` 0 drops none.
fn lose(every: u32, count: &mut u32, dropped: &mut u32, d: &[u8]) -> bool {
    let rtp = matches!(d, [128..=191, b, ..] if !(192..=223).contains(b));
    if every == 0 || !rtp {
        return false;
    }
    *count += 1;
    let drop = *count % every == 0;
    *dropped += u32::from(drop);
    drop
}

/// The page Chromium answers our offer with: its fake camera (`WIDTH`x`HEIGHT`) and
/// microphone on the offered transceivers, the answer posted once gathering is complete,
/// then `THEN` (with `pc`, `post` and `sleep` in scope); whatever throws is posted as the
/// result's `error`.
const ANSWERING_PAGE: &str = r#"<!doctype html><meta charset="utf-8"><title>TITLE</title>
<script>
(async () => {
  const post = (path, body) => fetch(path, { method: "POST", body });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: WIDTH, height: HEIGHT } });
    const pc = new RTCPeerConnection();
    const offer = await (await fetch("/offer")).text();
    await pc.setRemoteDescription({ type: "offer", sdp: offer });
    for (const track of stream.getTracks()) pc.addTrack(track, stream);
    await pc.setLocalDescription(await pc.createAnswer());
    await new Promise((done) => {
      if (pc.iceGatheringState === "complete") return done();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && done();
    });
    await post("/answer", pc.localDescription.sdp);
THEN
  } catch (e) {
    await post("/result", JSON.stringify({ error: String(e) }));
  }
})();
</script>"#;

/// [`ANSWERING_PAGE`] titled `title`, with a `width`x`height` camera, running `then` once
/// the answer is posted.
pub fn answering_page(title: &str, width: u32, height: u32, then: &str) -> String {
    ANSWERING_PAGE
        .replace("TITLE", title)
        .replace("WIDTH", &width.to_string())
        .replace("HEIGHT", &height.to_string())
        .replace("THEN", then)
}

/// A number after `"key":` in a flat JSON object.
pub fn number(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &json[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// VP8 frames of a test pattern encoded by ffmpeg's libvpx (IVF parsed).
pub fn vp8_pattern(dir: &Path, size: &str, frames: u32) -> Vec<Vec<u8>> {
    let ivf = dir.join("pattern.ivf");
    let ok = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=size={size}:rate=30"))
        .args([
            "-frames:v",
            &frames.to_string(),
            "-c:v",
            "libvpx",
            "-g",
            "30",
        ])
        .args(["-b:v", "300k", "-f", "ivf"])
        .arg(&ivf)
        .status()
        .unwrap();
    assert!(ok.success());
    let bytes = std::fs::read(&ivf).unwrap();
    assert_eq!(&bytes[..4], b"DKIF");
    let mut at = usize::from(u16::from_le_bytes([bytes[6], bytes[7]]));
    let mut out = Vec::new();
    while at + 12 <= bytes.len() {
        let size = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        at += 12;
        out.push(bytes[at..at + size].to_vec());
        at += size;
    }
    out
}
