//! `cargo xtask interop`: a real browser talks to rtcwire.
//!
//! Everything runs inside a network namespace made for the run (`lo` and a veth pair of its
//! own as a LAN, nothing that leads out): the
//! rtcwire side (the `browser` example of rtcwire-tokio, serving the page and the signaling
//! endpoints on 127.0.0.1) and the browser, launched straight on the page's URL with the
//! scenarios to run in its query. The page runs them one after the other in that single
//! launch and POSTs one JSON result per scenario; the example prints each as a
//! `result: {json}` line, which this harness reads. A second, short launch loads the demo
//! page as a person would, sends one chat message and takes a screenshot.
//!
//! ```text
//! cargo xtask interop [--browser-cmd 'CMD … {url}'] [--timeout SECONDS] [SCENARIO ...]
//! cargo xtask interop --bench N     # N sessions timed against rtcwire and the aiortc stand-in
//! ```

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod bench;
use bench::bench;

/// Every scenario the page knows, in the order a run takes them.
const SCENARIOS: &[&str] = &[
    "dc-echo-browser-offers",
    "dc-echo-rtcwire-offers",
    "dc-echo-non-trickle",
    "dc-echo-non-trickle-rtcwire-offers",
    "dc-unordered-unreliable",
    "dc-negotiated",
    "dc-close-from-browser",
    "dc-close-from-rtcwire",
    "dc-100-channels",
    "ice-restart-by-browser",
    "ice-restart-by-rtcwire",
    "dtls-stats",
    "dtls-fingerprint-tampered",
    "close-by-browser",
    "close-by-rtcwire",
    "media-echo-vp8",
    "media-echo-vp9",
    "media-echo-h264",
    "media-echo-av1",
    "media-pli",
    "srtp-aead-aes-128-gcm",
    "srtp-aead-aes-256-gcm",
    "srtp-aes-cm-128-hmac-sha1-80",
    "srtp-aes-cm-128-hmac-sha1-32-not-offered",
    "media-nack-loss",
    "media-rtcwire-offers",
    "renegotiate-by-browser",
    "renegotiate-by-rtcwire",
    "ice-tcp-browser-offers",
    "ice-tcp-rtcwire-offers",
    "mdns-dc-echo",
];

const CHROMIUM: &str = "/usr/lib/chromium/chromium";

/// Joins the mDNS group (224.0.0.251) on `rtcw1` and holds the membership (see `run`).
const MDNS_MEMBER: &str = "import socket, struct, time\n\
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
mreq = struct.pack('4s4si', socket.inet_aton('224.0.0.251'), socket.inet_aton('0.0.0.0'), socket.if_nametoindex('rtcw1'))\n\
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)\n\
time.sleep(600)\n";

/// Chromium headless in a fresh profile; {profile} and {url} are filled in per launch.
/// `--allow-loopback-in-peer-connection` is what lets it gather on `lo`; the mDNS feature is
/// off so its host candidates are plain 127.0.0.1 (a scenario of its own turns it back on).
fn default_browser_cmd() -> String {
    format!(
        "{CHROMIUM} --headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run \
         --no-default-browser-check --disable-background-networking --disable-component-update \
         --disable-sync --disable-default-apps --disable-extensions --mute-audio \
         --use-fake-device-for-media-stream --use-fake-ui-for-media-stream \
         --allow-loopback-in-peer-connection --disable-features=WebRtcHideLocalIpsWithMdns \
         --autoplay-policy=no-user-gesture-required --user-data-dir={{profile}} {{url}}"
    )
}

struct Options {
    browser_cmd: String,
    /// `--bench N`: time N sessions against rtcwire and against the aiortc stand-in.
    bench: Option<u32>,
    timeout: Duration,
    scenarios: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        browser_cmd: default_browser_cmd(),
        bench: None,
        timeout: Duration::from_secs(240),
        scenarios: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--browser-cmd" => {
                o.browser_cmd = it.next().ok_or("--browser-cmd takes a command")?.clone();
                if !o.browser_cmd.contains("{url}") {
                    return Err("--browser-cmd must contain {url}".into());
                }
            }
            "--bench" => {
                o.bench = Some(
                    it.next()
                        .and_then(|s| s.parse().ok())
                        .filter(|n| (1..=200).contains(n))
                        .ok_or("--bench takes a number of runs (1-200)")?,
                )
            }
            "--timeout" => {
                o.timeout = Duration::from_secs(
                    it.next()
                        .and_then(|s| s.parse().ok())
                        .ok_or("--timeout takes seconds")?,
                )
            }
            s if s.starts_with('-') => return Err(format!("unknown interop option {s}")),
            s => {
                if !SCENARIOS.contains(&s) {
                    return Err(format!(
                        "unknown scenario {s}; known: {}",
                        SCENARIOS.join(" ")
                    ));
                }
                o.scenarios.push(s.to_owned());
            }
        }
    }
    if o.scenarios.is_empty() {
        o.scenarios = SCENARIOS.iter().map(|s| (*s).to_owned()).collect();
    }
    Ok(o)
}

/// Builds the `browser` example of rtcwire-tokio with a cargo profile; returns its binary
/// (under `dir`, the profile's output directory) and the harness's output directory.
fn build_browser_example(
    root: &Path,
    profile: &str,
    dir: &str,
) -> Result<(PathBuf, PathBuf), String> {
    let built = crate::cargo(
        root,
        &[
            "build",
            "--quiet",
            "--profile",
            profile,
            "-p",
            "rtcwire-tokio",
            "--example",
            "browser",
        ],
    )
    .status()
    .map_err(|e| format!("cargo build: {e}"))?;
    if !built.success() {
        return Err("building the browser example failed".into());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let out_dir = target.join("interop");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    Ok((target.join(dir).join("examples").join("browser"), out_dir))
}

/// A network namespace with only `lo` up, deleted on drop.
struct Netns(String);

impl Netns {
    fn create() -> Result<Self, String> {
        let name = format!("rtcwire-interop-{}", std::process::id());
        sh_ok(Command::new("ip").args(["netns", "add", &name]))?;
        let ns = Netns(name);
        // `lo`, and a LAN of its own: a veth pair with 10.77.0.1 on one end, as a machine
        // with a network card has. The browser then gathers a LAN candidate beside
        // 127.0.0.1 and checks both (and, without its fake media UI, names the LAN one by
        // mDNS), as it would for a user. Nothing leaves the namespace.
        for cmd in [
            "ip link set lo up",
            "ip link set dev lo multicast on",
            "ip link add rtcw0 type veth peer name rtcw1",
            "ip addr add 10.77.0.1/24 dev rtcw0",
            "ip link set rtcw1 up",
            "ip link set rtcw0 up",
            "ip route add 224.0.0.0/4 dev rtcw0",
        ] {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", &ns.0]).args(cmd.split(' '));
            sh_ok(&mut c)?;
        }
        Ok(ns)
    }
    /// Runs one `ip …` command line inside the namespace.
    fn run(&self, ip_args: &str) -> Result<(), String> {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0]).args(ip_args.split(' '));
        sh_ok(&mut c)
    }
    fn exec(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0, program]);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// A child started in its own process group, ended (group and all) on drop.
struct Group(Child);

impl Group {
    fn spawn(c: &mut Command) -> Result<Self, String> {
        use std::os::unix::process::CommandExt;
        c.process_group(0);
        c.spawn().map(Group).map_err(|e| format!("spawn: {e}"))
    }
    fn end(&mut self) {
        let pid = self.0.id();
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{pid}")])
            .stderr(Stdio::null())
            .status();
        for _ in 0..50 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.wait();
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.end();
    }
}

fn sh_ok(c: &mut Command) -> Result<(), String> {
    let out = c.output().map_err(|e| format!("{c:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{c:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn browser_command(ns: &Netns, template: &str, url: &str, profile: &Path) -> Command {
    let line = template
        .replace("{url}", &format!("'{url}'"))
        .replace("{profile}", &profile.display().to_string());
    let mut c = ns.exec("sh");
    c.args(["-c", &format!("exec {line}")]);
    c.stdin(Stdio::null());
    c
}

pub(crate) fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let o = parse(args)?;
    let template_program = o.browser_cmd.split_whitespace().next().unwrap_or_default();
    if !Path::new(template_program).exists() && which(template_program).is_none() {
        return Err(format!(
            "the browser `{template_program}` is not installed (cargo xtask setup installs chromium)"
        ));
    }
    if let Some(runs) = o.bench {
        return bench(root, &o, runs);
    }
    // The profile the test step built with: its artifacts are reused.
    let (example, out_dir) = build_browser_example(root, "test", "debug")?;

    let ns = Netns::create()?;
    let mut server_cmd = ns.exec(&example.display().to_string());
    server_cmd
        .args([
            "--listen",
            "127.0.0.1:8765",
            "--bind",
            "127.0.0.1,10.77.0.1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        );
    let mut server = Group::spawn(&mut server_cmd)?;
    let stdout = server.0.stdout.take().ok_or("no stdout from the example")?;
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let url = wait_for_url(&rx, Duration::from_secs(30))?;
    println!("interop: rtcwire serves {url} inside netns {}", ns.0);

    let started = Instant::now();
    // One launch for everything but the mDNS scenarios, which need a browser without the
    // fake media UI and with Chromium's default of naming its LAN candidates by mDNS.
    let (mdns, plain): (Vec<String>, Vec<String>) = o
        .scenarios
        .iter()
        .cloned()
        .partition(|s| s.starts_with("mdns-"));
    let mut results = Vec::new();
    if !plain.is_empty() {
        results.extend(launch(
            &ns,
            &o.browser_cmd,
            &url,
            &plain,
            &rx,
            &out_dir,
            "scenarios",
            o.timeout,
        )?);
    }
    if !mdns.is_empty() {
        let template = o
            .browser_cmd
            .replace(" --use-fake-ui-for-media-stream", "")
            .replace(" --disable-features=WebRtcHideLocalIpsWithMdns", "");
        // Without media permission Chromium gathers only on the "default route" address
        // (found by routing a UDP socket towards a public address, nothing is sent): a
        // namespace without a default route gives it none, and it discards its host
        // candidates. A default route into the veth (whose other end is in this namespace
        // too, so nothing leaves) makes 10.77.0.1 that address, for this launch only.
        ns.run("ip route add default dev rtcw0")?;
        // Chromium's mDNS sockets do not loop their multicast back to the host, so its
        // answer to rtcwire's query only goes out on the wire: out of rtcw0 into rtcw1.
        // A membership of the mDNS group on rtcw1 (held by a process that reads nothing)
        // has the namespace take it in there, and rtcwire's socket on port 5353 gets it.
        let mut member = Group::spawn(
            ns.exec("python3")
                .args(["-c", MDNS_MEMBER])
                .stdin(Stdio::null())
                .stdout(Stdio::null()),
        )?;
        let r = launch(
            &ns, &template, &url, &mdns, &rx, &out_dir, "mdns", o.timeout,
        );
        member.end();
        ns.run("ip route del default dev rtcw0")?;
        results.extend(r?);
    }
    let mut failed: Vec<String> = results
        .iter()
        .filter(|r| !r.1)
        .map(|r| r.0.clone())
        .collect();
    // A scenario that failed gets one more try in a fresh launch. Passing then does not hide
    // the first failure: it is printed as FLAKY with its error and diagnostics (also in
    // results.jsonl), so a flaky path is seen and can be chased.
    let mut flaky = Vec::new();
    let retry: Vec<String> = failed
        .iter()
        .filter(|s| !s.starts_with("mdns-"))
        .cloned()
        .collect();
    if !retry.is_empty() {
        println!(
            "interop: retrying {} once in a new launch",
            retry.join(", ")
        );
        let again = launch(
            &ns,
            &o.browser_cmd,
            &url,
            &retry,
            &rx,
            &out_dir,
            "retry",
            o.timeout,
        )?;
        for (name, pass, _) in &again {
            if *pass {
                failed.retain(|f| f != name);
                flaky.push(name.clone());
            }
        }
        results.extend(again);
    }
    for s in &o.scenarios {
        if !results.iter().any(|r| &r.0 == s) {
            println!("FAIL {s:<36} no result (the browser stopped or timed out)");
            failed.push(s.clone());
        }
    }
    let _ = std::fs::write(
        out_dir.join("results.jsonl"),
        results
            .iter()
            .map(|r| r.2.clone() + "\n")
            .collect::<String>(),
    );

    // The demo as a person sees it: one chat message, then a screenshot.
    let shot = out_dir.join("demo.png");
    let demo = demo_screenshot(&ns, &o.browser_cmd, &url, &out_dir, &shot, &rx);
    match &demo {
        Ok(reply) => println!(
            "PASS {:<36} the page showed {reply:?}; screenshot {}",
            "demo-page",
            shot.display()
        ),
        Err(e) => {
            println!("FAIL {:<36} {e}", "demo-page");
            failed.push("demo-page".into());
        }
    }
    server.end();
    drop(ns);
    for f in &flaky {
        println!("FLAKY {f}: failed once, passed when retried (see its first result above)");
    }
    println!(
        "interop: {} passed, {} failed, {} flaky ({:.1} s)",
        o.scenarios.len() - failed.iter().filter(|f| *f != "demo-page").count()
            + usize::from(demo.is_ok()),
        failed.len(),
        flaky.len(),
        started.elapsed().as_secs_f64()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("interop failed: {}", failed.join(", ")))
    }
}

fn demo_screenshot(
    ns: &Netns,
    template: &str,
    url: &str,
    out_dir: &Path,
    shot: &Path,
    rx: &mpsc::Receiver<String>,
) -> Result<String, String> {
    let _ = std::fs::remove_file(shot);
    let profile = out_dir.join("profile-demo");
    let _ = std::fs::remove_dir_all(&profile);
    // Headless Chromium takes the screenshot when --timeout runs out, after the page had
    // time to connect, send its message and show the echo.
    let template = template.replace(
        "{url}",
        &format!(
            "--screenshot={} --window-size=1000,900 --timeout=6000 {{url}}",
            shot.display()
        ),
    );
    let said = "hello from the browser";
    let mut browser = Group::spawn(
        browser_command(
            ns,
            &template,
            &format!("{url}?say={}", said.replace(' ', "%20")),
            &profile,
        )
        .stdout(Stdio::null())
        .stderr(log_file(&out_dir.join("browser-demo.log"))?),
    )?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut echoed, mut reply, mut picture_ok) = (None, None, false);
    while Instant::now() < deadline {
        if echoed.is_none() || reply.is_none() {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                if let Some(text) = line.strip_prefix("chat: ") {
                    echoed = Some(text.to_owned());
                }
                if line.starts_with("result: ") && line.contains("\"demo-page\"") {
                    reply = field(&line, "reply");
                    picture_ok = line.contains("\"nonblank\":true");
                }
            }
        } else {
            std::thread::sleep(Duration::from_millis(100));
        }
        if matches!(browser.0.try_wait(), Ok(Some(_))) {
            break;
        }
    }
    browser.end();
    let echoed = echoed.ok_or("rtcwire never received the demo page's chat message")?;
    if echoed != said {
        return Err(format!(
            "rtcwire received {echoed:?}, the page sent {said:?}"
        ));
    }
    let reply = reply.ok_or("the page never showed rtcwire's reply")?;
    if !picture_ok {
        return Err("the echoed camera picture is blank or missing".into());
    }
    if !reply.contains(said) {
        return Err(format!("the page got {reply:?} back for {said:?}"));
    }
    let size = std::fs::metadata(shot)
        .map_err(|_| format!("no screenshot at {}", shot.display()))?
        .len();
    if size < 2000 {
        return Err(format!("the screenshot is only {size} bytes"));
    }
    Ok(reply)
}

fn log_file(p: &Path) -> Result<Stdio, String> {
    std::fs::File::create(p)
        .map(Stdio::from)
        .map_err(|e| format!("{}: {e}", p.display()))
}

fn wait_for_url(rx: &mpsc::Receiver<String>, within: Duration) -> Result<String, String> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            if let Some(i) = line.find("http://") {
                return Ok(line[i..]
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned());
            }
        }
    }
    Err("the browser example printed no URL".into())
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.exists())
    })
}

/// The string value of a top-level JSON field (results are flat enough for this).
fn field(json: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":\"");
    let start = json.find(&pat)? + pat.len();
    let end = json[start..].find('"')? + start;
    Some(json[start..end].to_owned())
}

fn number(json: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":");
    let start = json.rfind(&pat)? + pat.len();
    let end = json[start..]
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or(json.len(), |e| e + start);
    Some(json[start..end].to_owned())
}

/// The timings object (and the error, if any) of a result, for the PASS/FAIL line.
fn summary(json: &str) -> String {
    let timings = json
        .find("\"timings\":{")
        .and_then(|s| {
            let rest = &json[s + 11..];
            rest.find('}').map(|e| rest[..e].replace('"', ""))
        })
        .unwrap_or_default();
    match field(json, "error") {
        Some(e) => format!("{timings}  error: {e}"),
        None => timings,
    }
}

/// The text of a top-level JSON object field, braces matched (strings hold no braces here).
fn object(json: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":{{");
    let start = json.find(&pat)? + pat.len() - 1;
    let mut depth = 0usize;
    for (i, c) in json[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(json[start..=start + i].to_owned());
                }
            }
            _ => {}
        }
    }
    None
}

/// Reads a server's stdout lines on a thread of their own.
fn lines_of(child: &mut Group) -> Result<mpsc::Receiver<String>, String> {
    let stdout = child.0.stdout.take().ok_or("no stdout from the peer")?;
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Ok(rx)
}

/// One browser launch on `?scenarios=…`: one PASS/FAIL line per result as it comes.
#[allow(clippy::too_many_arguments)]
fn launch(
    ns: &Netns,
    template: &str,
    url: &str,
    scenarios: &[String],
    rx: &mpsc::Receiver<String>,
    out_dir: &Path,
    tag: &str,
    timeout: Duration,
) -> Result<Vec<(String, bool, String)>, String> {
    let profile = out_dir.join(format!("profile-{tag}"));
    let _ = std::fs::remove_dir_all(&profile);
    let mut browser = Group::spawn(
        browser_command(
            ns,
            template,
            &format!("{url}?scenarios={}", scenarios.join(",")),
            &profile,
        )
        .stdout(Stdio::null())
        .stderr(log_file(&out_dir.join(format!("browser-{tag}.log")))?),
    )?;
    let mut results: Vec<(String, bool, String)> = Vec::new();
    let deadline = Instant::now() + timeout;
    let mut done = false;
    while !done && Instant::now() < deadline {
        let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        let Some(json) = line.strip_prefix("result: ") else {
            continue;
        };
        if json.contains("\"done\":true") {
            done = true;
            continue;
        }
        let name = field(json, "scenario").unwrap_or_default();
        let pass = json.contains("\"pass\":true");
        println!(
            "{} {name:<36} {:>6} ms  {}",
            if pass { "PASS" } else { "FAIL" },
            number(json, "ms").unwrap_or_default(),
            summary(json)
        );
        if !pass {
            if let Some(diag) = object(json, "diag") {
                println!("     diagnostics: {diag}");
            }
        }
        if name.starts_with("dtls-")
            || name.starts_with("mdns-")
            || name.starts_with("media-")
            || name.starts_with("srtp-")
            || name.starts_with("renegotiate-")
            || name.starts_with("ice-restart-")
            || name == "dc-unordered-unreliable"
        {
            if let Some(details) = object(json, "details") {
                println!("     {details}");
            }
        }
        results.push((name, pass, json.to_owned()));
    }
    browser.end();
    Ok(results)
}
