//! `cargo xtask bench e2e`: rtcwire end to end over real UDP on 127.0.0.1, beside webrtc-rs
//! (0.17, and 0.21 — the async wrapper over its sans-IO `rtc` core) and str0m driven the
//! same way, in one process and one run. Prints a markdown table with the goals of issue 17
//! and whether each is met, and (when measuring) writes it into docs/performance.md between
//! its markers.
//!
//! Test mode (no `--bench` argument, as `cargo test --bench e2e` runs it): every stack and
//! every row runs once on tiny sizes, and the deliveries are checked, so the drivers cannot
//! rot; nothing is written.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub,
    dead_code,
    clippy::type_complexity
)]

mod common;
mod ours;
mod sfu;
mod sim;
mod str0m_drv;
mod webrtc17;
mod webrtc21;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use common::{
    idle_for, loadavg, machine, median_p99, process_cpu, rss_kib, runtime, threads, BoxFut, Flow,
    Idle, Keep, Res, Thru,
};

/// How big the run is.
#[derive(Clone, Copy)]
struct Scale {
    measuring: bool,
    /// Wall time a throughput run aims at.
    run_for: Duration,
    /// Bytes of the warm-up (also the probe of the rate); of the test-mode run.
    probe: u64,
    connects: usize,
    idle_for: Duration,
    sfu_batches: usize,
    sim_run: Duration,
}

struct Stack {
    name: &'static str,
    flow: fn() -> BoxFut<Flow>,
    connect_time: fn() -> BoxFut<Duration>,
    idle: fn(usize) -> BoxFut<Keep>,
    /// Idle connection counts measured (full run).
    idle_sizes: &'static [usize],
    /// Offer→open samples (full run).
    connects: usize,
}

const STACKS: [Stack; 4] = [
    Stack {
        name: "rtcwire",
        flow: ours::flow,
        connect_time: ours::connect_time,
        idle: ours::idle,
        idle_sizes: &[1000, 10_000],
        connects: 100,
    },
    Stack {
        name: "webrtc-rs 0.17",
        flow: webrtc17::flow,
        connect_time: webrtc17::connect_time,
        idle: webrtc17::idle,
        idle_sizes: &[1000],
        connects: 100,
    },
    Stack {
        name: "webrtc-rs 0.21",
        flow: webrtc21::flow,
        connect_time: webrtc21::connect_time,
        idle: webrtc21::idle,
        idle_sizes: &[1000],
        connects: 30,
    },
    Stack {
        name: "str0m 0.24",
        flow: str0m_drv::flow,
        connect_time: str0m_drv::connect_time,
        idle: str0m_drv::idle,
        idle_sizes: &[1000],
        connects: 100,
    },
];

#[derive(Default)]
struct Results {
    one: Option<Thru>,
    ten: Option<Thru>,
    open: Option<(Duration, Duration, usize)>,
    idle: Vec<Idle>,
    errors: Vec<String>,
}

fn note(r: &mut Results, what: &str, e: impl std::fmt::Display) {
    let m = format!("{what}: {e}");
    eprintln!("  !! {m}");
    r.errors.push(m);
}

/// One throughput run of `conns` connections at once, each moving `per_conn` bytes.
async fn throughput(s: &Stack, conns: usize, per_conn: u64) -> Res<Thru> {
    let mut flows = Vec::with_capacity(conns);
    for _ in 0..conns {
        flows.push((s.flow)().await?);
    }
    let cpu = process_cpu();
    let t = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for f in flows {
        tasks.spawn(f.run(per_conn));
    }
    let mut bytes = 0;
    while let Some(r) = tasks.join_next().await {
        let got = r??;
        if got < per_conn {
            return Err(common::err(format!("delivered {got} of {per_conn} bytes")));
        }
        bytes += got;
    }
    Ok(Thru {
        bytes,
        wall: t.elapsed(),
        cpu: process_cpu().saturating_sub(cpu),
    })
}

/// Bytes per connection for a run of about `scale.run_for`, from the probe's rate.
fn sized(probe: &Thru, scale: &Scale, conns: u64) -> u64 {
    let rate = probe.bytes as f64 / probe.wall.as_secs_f64().max(1e-3);
    let total = (rate * scale.run_for.as_secs_f64()) as u64;
    let per = (total / conns).clamp(8 << 20, 4 << 30);
    per / common::MESSAGE as u64 * common::MESSAGE as u64
}

async fn idle_row(s: &Stack, rt: &tokio::runtime::Handle, n: usize, scale: &Scale) -> Res<Idle> {
    // Let the previous rows' sessions go first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss0 = rss_kib();
    let tasks0 = rt.metrics().num_alive_tasks();
    let t = Instant::now();
    let keep = (s.idle)(n).await?;
    let setup = t.elapsed();
    // Settle (handshake retransmission timers, first consent checks), then measure.
    tokio::time::sleep(Duration::from_secs(if scale.measuring { 3 } else { 0 })).await;
    let cpu = process_cpu();
    let wall = idle_for(scale.idle_for).await;
    let idle_cpu = process_cpu().saturating_sub(cpu);
    let ends = 2.0 * n as f64;
    let r = Idle {
        connections: n,
        kib_per_end: rss_kib().saturating_sub(rss0) as f64 / ends,
        tasks_per_end: rt.metrics().num_alive_tasks().saturating_sub(tasks0) as f64 / ends,
        threads: threads(),
        cpu_pct_per_1000: idle_cpu.as_secs_f64() / wall.as_secs_f64() * 100.0 / (ends / 1000.0),
        setup,
    };
    drop(keep);
    tokio::time::sleep(Duration::from_millis(if scale.measuring {
        1500
    } else {
        100
    }))
    .await;
    Ok(r)
}

fn run_stack(s: &Stack, scale: &Scale) -> Results {
    let mut r = Results::default();
    eprintln!("== {}", s.name);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            note(&mut r, "runtime", e);
            return r;
        }
    };
    let handle = rt.handle().clone();
    rt.block_on(async {
        // 1. One channel: a warm-up/probe connection, then the measured one.
        match throughput(s, 1, scale.probe).await {
            Ok(probe) => {
                if scale.measuring {
                    let per = sized(&probe, scale, 1);
                    match throughput(s, 1, per).await {
                        Ok(t) => r.one = Some(t),
                        Err(e) => note(&mut r, "one channel", e),
                    }
                } else {
                    r.one = Some(probe);
                }
                // 2. Ten connections at once (two in test mode).
                let conns = if scale.measuring { 10 } else { 2 };
                let per = if scale.measuring {
                    sized(&probe, scale, 10)
                } else {
                    scale.probe / 2
                };
                match throughput(s, conns, per).await {
                    Ok(t) => r.ten = Some(t),
                    Err(e) => note(&mut r, "ten connections", e),
                }
            }
            Err(e) => note(&mut r, "one channel (probe)", e),
        }
        eprintln!("   throughput done");
        // 3. createOffer -> open.
        let n = if scale.measuring {
            s.connects
        } else {
            scale.connects
        };
        let mut samples = Vec::with_capacity(n);
        for _ in 0..n {
            match (s.connect_time)().await {
                Ok(d) => samples.push(d),
                Err(e) => {
                    note(&mut r, "offer->open", e);
                    break;
                }
            }
        }
        if !samples.is_empty() {
            let (med, p99) = median_p99(&mut samples);
            r.open = Some((med, p99, samples.len()));
        }
        eprintln!("   offer->open done");
        // 4. Idle connections.
        let sizes: &[usize] = if scale.measuring { s.idle_sizes } else { &[4] };
        for &n in sizes {
            match idle_row(s, &handle, n, scale).await {
                Ok(i) => r.idle.push(i),
                Err(e) => note(&mut r, &format!("{n} idle"), e),
            }
            eprintln!("   {n} idle done");
        }
    });
    rt.shutdown_timeout(Duration::from_secs(3));
    r
}

struct SfuRow {
    name: &'static str,
    profile: &'static str,
    crypto_pps: f64,
    with_send_pps: f64,
}

fn sfu_rows(scale: &Scale) -> Res<Vec<SfuRow>> {
    let sink = sfu::Sink::new()?;
    let mut rows = Vec::new();
    for profile in sfu::PROFILES {
        type Make = fn(rtcwire_srtp::SrtpProfile) -> Res<Box<dyn sfu::Forward>>;
        let cands: [(&'static str, Make); 3] = [
            ("rtcwire-srtp", |p| Ok(Box::new(sfu::Ours::new(p)?))),
            ("webrtc-srtp 0.17", |p| Ok(Box::new(sfu::Webrtc17::new(p)?))),
            ("rtc-srtp 0.21", |p| Ok(Box::new(sfu::Rtc21::new(p)?))),
        ];
        for (name, make) in cands {
            let pps = |n: u64, d: Duration| n as f64 / d.as_secs_f64().max(1e-9);
            let (n, cpu, _) = sfu::run(
                profile,
                make(profile)?.as_mut(),
                scale.sfu_batches,
                None,
                &|| 0,
            )?;
            let (m, cpu2, _) = sfu::run(
                profile,
                make(profile)?.as_mut(),
                scale.sfu_batches,
                Some(&sink),
                &|| 0,
            )?;
            rows.push(SfuRow {
                name,
                profile: profile.name(),
                crypto_pps: pps(n, cpu),
                with_send_pps: pps(m, cpu2),
            });
        }
    }
    Ok(rows)
}

fn fmt_opt(v: Option<f64>, prec: usize) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{v:.prec$}"))
}

fn main() {
    let measuring = rtcwire_bench_support::measuring();
    let only: Option<String> = std::env::var("E2E_ONLY").ok();
    let scale = if measuring {
        Scale {
            measuring,
            run_for: Duration::from_secs(5),
            probe: 32 << 20,
            connects: 100,
            idle_for: Duration::from_secs(10),
            sfu_batches: 400,
            sim_run: Duration::from_secs(20),
        }
    } else {
        Scale {
            measuring,
            run_for: Duration::from_millis(200),
            probe: 2 << 20,
            connects: 2,
            idle_for: Duration::from_millis(300),
            // The warm-up batch alone (unoptimised crypto is slow).
            sfu_batches: 0,
            sim_run: Duration::from_millis(100),
        }
    };
    let (cpu_model, cores) = machine();
    let load_before = loadavg();
    let started = Instant::now();

    let mut all = Vec::new();
    for s in &STACKS {
        if only.as_deref().is_some_and(|o| !s.name.contains(o)) {
            continue;
        }
        all.push((s, run_stack(s, &scale)));
    }
    eprintln!("== SFU forwarding");
    let sfu = sfu_rows(&scale);
    eprintln!("== goodput through rtcwire-sim");
    let mut sim_rows = Vec::new();
    let certs = (
        rtcwire::Certificate::generate_self_signed(),
        rtcwire::Certificate::generate_self_signed(),
    );
    let sim_cases: &[(u64, f64)] = if measuring {
        &[
            (20, 0.0),
            (50, 0.0),
            (100, 0.0),
            (300, 0.0),
            (20, 0.01),
            (50, 0.01),
            (100, 0.01),
            (300, 0.01),
        ]
    } else {
        &[(20, 0.0)]
    };
    let mut sim_errors = Vec::new();
    let mut sim_open = None;
    if let (Ok(ca), Ok(cb)) = certs {
        let certs = (ca, cb);
        match sim::open_virtual(&certs) {
            Ok(d) => sim_open = Some(d),
            Err(e) => sim_errors.push(format!("open (virtual time): {e}")),
        }
        for &(rtt, loss) in sim_cases {
            match sim::goodput(&certs, rtt, loss, scale.sim_run) {
                Ok(g) => sim_rows.push((rtt, loss, g)),
                Err(e) => sim_errors.push(e.to_string()),
            }
        }
    } else {
        sim_errors.push("certificate generation failed".into());
    }
    let load_after = loadavg();

    // ---- the table ---------------------------------------------------------------------------
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Measured {} on {cpu_model}, {cores} cores; load average before {load_before}, after {load_after} \
         (other builds were running on the machine); {:.0} s in all.\n",
        if measuring { "by `cargo xtask bench e2e`" } else { "in test mode (tiny sizes, not figures)" },
        started.elapsed().as_secs_f64()
    );
    let _ = write!(md, "| row |");
    for (s, _) in &all {
        let _ = write!(md, " {} |", s.name);
    }
    let _ = writeln!(md, " goal | met |");
    let _ = write!(md, "|---|");
    for _ in &all {
        let _ = write!(md, "---:|");
    }
    let _ = writeln!(md, "---|---|");
    let best_other = |f: &dyn Fn(&Results) -> Option<f64>| {
        all.iter()
            .filter(|(s, _)| s.name != "rtcwire")
            .filter_map(|(_, r)| f(r))
            .fold(0.0_f64, f64::max)
    };
    let ours_v = |f: &dyn Fn(&Results) -> Option<f64>| {
        all.iter()
            .find(|(s, _)| s.name == "rtcwire")
            .and_then(|(_, r)| f(r))
    };
    let row = |md: &mut String,
               label: &str,
               f: &dyn Fn(&Results) -> Option<f64>,
               prec: usize,
               goal: &str,
               met: String| {
        let _ = write!(md, "| {label} |");
        for (_, r) in &all {
            let _ = write!(md, " {} |", fmt_opt(f(r), prec));
        }
        let _ = writeln!(md, " {goal} | {met} |");
    };
    let yes = |b: bool| {
        if b {
            "yes".to_string()
        } else {
            "**no**".to_string()
        }
    };
    let one = |r: &Results| r.one.map(|t| t.gbit_s());
    let o1 = ours_v(&one);
    let b1 = best_other(&one);
    row(
        &mut md,
        "1 channel, 65 535-byte messages: Gbit/s",
        &one,
        2,
        "≥ 2 and ≥ 3× the best other",
        o1.map_or("—".into(), |v| {
            if b1 > 0.0 {
                format!(
                    "{} ({:.1}× the best other)",
                    yes(v >= 2.0 && v >= 3.0 * b1),
                    v / b1
                )
            } else {
                yes(v >= 2.0)
            }
        }),
    );
    row(
        &mut md,
        "1 channel: CPU s per GB (both peers)",
        &|r: &Results| r.one.map(|t| t.cpu_s_per_gb()),
        2,
        "",
        String::new(),
    );
    let ten = |r: &Results| r.ten.map(|t| t.gbit_s());
    let o10 = ours_v(&ten);
    row(
        &mut md,
        "10 connections at once: aggregate Gbit/s",
        &ten,
        2,
        "≥ 4",
        o10.map_or("—".into(), |v| yes(v >= 4.0)),
    );
    row(
        &mut md,
        "10 connections: CPU s per GB",
        &|r: &Results| r.ten.map(|t| t.cpu_s_per_gb()),
        2,
        "",
        String::new(),
    );
    let med = |r: &Results| r.open.map(|o| o.0.as_secs_f64() * 1e3);
    let p99 = |r: &Results| r.open.map(|o| o.1.as_secs_f64() * 1e3);
    let om = ours_v(&med);
    let op = ours_v(&p99);
    row(
        &mut md,
        "createOffer → channel open: median ms",
        &med,
        2,
        "≤ 1",
        om.map_or("—".into(), |v| yes(v <= 1.0)),
    );
    row(
        &mut md,
        "createOffer → channel open: p99 ms",
        &p99,
        2,
        "≤ 5",
        op.map_or("—".into(), |v| yes(v <= 5.0)),
    );
    row(
        &mut md,
        "  (connections timed)",
        &|r: &Results| r.open.map(|o| o.2 as f64),
        0,
        "",
        String::new(),
    );
    let mut sizes: Vec<usize> = all
        .iter()
        .flat_map(|(_, r)| r.idle.iter().map(|i| i.connections))
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    for n in sizes {
        let get = move |r: &Results| r.idle.iter().find(|i| i.connections == n).copied();
        if !all.iter().any(|(_, r)| get(r).is_some()) {
            continue;
        }
        let kib = move |r: &Results| get(r).map(|i| i.kib_per_end);
        let ok = ours_v(&kib);
        row(
            &mut md,
            &format!("{n} idle connections: KiB per connection end (RSS)"),
            &kib,
            1,
            "≤ 32",
            ok.map_or("—".into(), |v| yes(v <= 32.0)),
        );
        row(
            &mut md,
            &format!("{n} idle: tokio tasks per connection end"),
            &move |r: &Results| get(r).map(|i| i.tasks_per_end),
            2,
            "",
            String::new(),
        );
        row(
            &mut md,
            &format!("{n} idle: CPU % of a core per 1000 ends"),
            &move |r: &Results| get(r).map(|i| i.cpu_pct_per_1000),
            2,
            "",
            String::new(),
        );
        row(
            &mut md,
            &format!("{n} idle: process threads"),
            &move |r: &Results| get(r).map(|i| i.threads as f64),
            0,
            "",
            String::new(),
        );
        row(
            &mut md,
            &format!("{n} idle: setup s"),
            &move |r: &Results| get(r).map(|i| i.setup.as_secs_f64()),
            1,
            "",
            if n == 10_000 {
                ours_v(&kib).map_or("—".into(), |_| "10 000 in one process: yes".into())
            } else {
                String::new()
            },
        );
    }
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "A cell with — was not measured or failed (see below). Idle rows: both ends of every \
         connection live in this process (rtcwire's server ends on one `rtcwire_tokio::Server` \
         socket, ICE-lite; its client ends one `PeerConnection` each), so the resident memory \
         added, the tasks and the CPU are divided by the number of connection ends.\n"
    );
    match &sfu {
        Ok(rows) => {
            let _ = writeln!(md, "SFU forwarding, {} streams, 1200-byte RTP payloads: unprotect → re-protect (→ send on a 127.0.0.1 UDP socket), packets per second of one core's CPU time:\n", sfu::STREAMS);
            let _ = writeln!(
                md,
                "| candidate | profile | unprotect + protect pkt/s | + `send_to` pkt/s | goal |"
            );
            let _ = writeln!(md, "|---|---|---:|---:|---|");
            for r in rows {
                let goal = if r.name == "rtcwire-srtp" && r.profile.contains("GCM") {
                    format!("≥ 1 M with AES-GCM: {}", yes(r.crypto_pps >= 1e6))
                } else {
                    String::new()
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {:.0} | {:.0} | {goal} |",
                    r.name, r.profile, r.crypto_pps, r.with_send_pps
                );
            }
            let _ = writeln!(md, "\nstr0m's SRTP context is not public API (only behind its `_internal_test_exports` feature), so it has no row.\n");
        }
        Err(e) => {
            let _ = writeln!(md, "SFU forwarding failed: {e}\n");
        }
    }
    let _ = writeln!(md, "Data-channel goodput through rtcwire-sim (the whole session, virtual time, {} s per case): 100 Mbit/s bottleneck, queue of one bandwidth-delay product:\n", scale.sim_run.as_secs_f64());
    let _ = writeln!(md, "| RTT | loss | goodput Mbit/s | link rate bound |");
    let _ = writeln!(md, "|---:|---:|---:|---:|");
    for (rtt, loss, g) in &sim_rows {
        let _ = writeln!(md, "| {rtt} ms | {:.0} % | {g:.1} | 100 |", loss * 100.0);
    }
    if let Some(d) = sim_open {
        let _ = writeln!(md, "\nThe same session pair over a perfect link in virtual time (no delay, no I/O, no CPU time): createOffer → channel open takes {:.1} ms of the session's own timers.", d.as_secs_f64() * 1e3);
    }
    for e in &sim_errors {
        let _ = writeln!(md, "\nsim: {e}");
    }
    let errors: Vec<String> = all
        .iter()
        .flat_map(|(s, r)| r.errors.iter().map(move |e| format!("{}: {e}", s.name)))
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(md, "\nFailures in this run:\n");
        for e in &errors {
            let _ = writeln!(md, "- {e}");
        }
    }
    println!("{md}");

    if measuring && only.is_none() {
        write_doc(&md);
    } else {
        // Test mode: every stack must have moved its bytes and opened its channels.
        let mut bad: Vec<String> = errors;
        for (s, r) in &all {
            if r.one.is_none() || r.ten.is_none() || r.open.is_none() || r.idle.is_empty() {
                bad.push(format!("{}: a row was not measured", s.name));
            }
        }
        if let Err(e) = &sfu {
            bad.push(format!("sfu: {e}"));
        }
        bad.extend(sim_errors);
        if sim_rows.iter().any(|r| r.2 <= 0.0) || sim_rows.is_empty() {
            bad.push("sim: no goodput".into());
        }
        assert!(bad.is_empty(), "e2e test mode failed:\n{}", bad.join("\n"));
    }
}

const BEGIN: &str = "<!-- e2e:begin (written by `cargo xtask bench e2e`) -->";
const END: &str = "<!-- e2e:end -->";

/// Replaces the section between the markers in docs/performance.md.
fn write_doc(md: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/performance.md");
    let Ok(doc) = std::fs::read_to_string(&path) else {
        eprintln!("{} not found: the table is printed only", path.display());
        return;
    };
    let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
        eprintln!(
            "markers not found in {}: the table is printed only",
            path.display()
        );
        return;
    };
    let out = format!("{}{BEGIN}\n\n{md}\n{}", &doc[..b], &doc[e..]);
    match std::fs::write(&path, out) {
        Ok(()) => eprintln!("wrote {}", path.display()),
        Err(e) => eprintln!("writing {}: {e}", path.display()),
    }
}
