//! `cargo xtask interop --bench N`: session timings against rtcwire and the aiortc stand-in.

use super::*;

/// `--bench N`: the same page times N sessions (createOffer → channel open, → first echo)
/// against rtcwire (release build) and against the aiortc stand-in, in one namespace, one
/// after the other; prints both side by side.
pub(super) fn bench(root: &Path, o: &Options, runs: u32) -> Result<(), String> {
    let (example, out_dir) = build_browser_example(root, "release", "release")?;
    let page = root.join("crates/rtcwire-tokio/examples/browser/page.html");
    let stand_in = root.join("xtask/interop/aiortc_peer.py");
    let ns = Netns::create()?;
    let peers: [(&str, Command); 2] = [
        ("rtcwire", {
            let mut c = ns.exec(&example.display().to_string());
            c.args(["--listen", "127.0.0.1:8765"]);
            c
        }),
        ("aiortc", {
            let mut c = ns.exec("python3");
            c.arg(&stand_in)
                .arg("--page")
                .arg(&page)
                .args(["--listen", "127.0.0.1:8766"]);
            c
        }),
    ];
    let mut rows = Vec::new();
    for (name, mut cmd) in peers {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file(&out_dir.join(format!("bench-{name}.log")))?);
        let mut server = Group::spawn(&mut cmd)?;
        let rx = lines_of(&mut server)?;
        let url = wait_for_url(&rx, Duration::from_secs(30))?;
        let profile = out_dir.join(format!("profile-bench-{name}"));
        let _ = std::fs::remove_dir_all(&profile);
        let mut browser = Group::spawn(
            browser_command(
                &ns,
                &o.browser_cmd,
                &format!("{url}?scenarios=dc-open-timing,media-open-timing&runs={runs}"),
                &profile,
            )
            .stdout(Stdio::null())
            .stderr(log_file(
                &out_dir.join(format!("browser-bench-{name}.log")),
            )?),
        )?;
        let deadline = Instant::now() + o.timeout;
        let (mut result, mut media) = (None, None);
        while (result.is_none() || media.is_none()) && Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
                if let Some(json) = line.strip_prefix("result: ") {
                    if json.contains("\"dc-open-timing\"") {
                        result = Some(json.to_owned());
                    } else if json.contains("\"media-open-timing\"") {
                        media = Some(json.to_owned());
                    }
                }
            }
        }
        browser.end();
        server.end();
        let json = result.ok_or(format!("{name}: no timing result"))?;
        let media = media.ok_or(format!("{name}: no media timing result"))?;
        for j in [&json, &media] {
            if !j.contains("\"pass\":true") {
                return Err(format!("{name}: {}", field(j, "error").unwrap_or_default()));
            }
        }
        rows.push((
            name,
            numbers(&json, "dc_open"),
            numbers(&json, "first_echo"),
            numbers(&media, "first_video_frame"),
        ));
    }
    drop(ns);
    println!(
        "createOffer → data channel open / → first echo / → first decoded echoed video frame \
         (its own sessions, camera and microphone echoed), ms, {runs} sessions of each in a row \
         from one headless Chromium"
    );
    println!(
        "{:<8} {:>8} {:>8} {:>8} {:>8}   {:>8} {:>8}   {:>9} {:>9}",
        "peer", "median", "p90", "min", "max", "echo p50", "echo p90", "video p50", "video p90"
    );
    for (name, open, first_echo, video) in &rows {
        let (o50, o90, omin, omax) = summary_of(open);
        let (e50, e90, _, _) = summary_of(first_echo);
        let (v50, v90, _, _) = summary_of(video);
        println!(
            "{name:<8} {o50:>8.1} {o90:>8.1} {omin:>8.1} {omax:>8.1}   {e50:>8.1} {e90:>8.1}   {v50:>9.1} {v90:>9.1}"
        );
    }
    Ok(())
}

/// Median, p90, min and max of a sample.
fn summary_of(xs: &[f64]) -> (f64, f64, f64, f64) {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let at = |q: f64| {
        v.get(((v.len().saturating_sub(1)) as f64 * q).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    (at(0.5), at(0.9), at(0.0), at(1.0))
}

/// The numbers of a JSON array field (`"key":[1.5,2,…]`).
fn numbers(json: &str, key: &str) -> Vec<f64> {
    let pat = format!("\"{key}\":[");
    let Some(start) = json.find(&pat).map(|i| i + pat.len()) else {
        return Vec::new();
    };
    let end = json[start..].find(']').map_or(json.len(), |e| start + e);
    json[start..end]
        .split(',')
        .filter_map(|x| x.trim().parse().ok())
        .collect()
}
