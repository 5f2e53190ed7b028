//! `cargo xtask` — rtcwire's task runner.
//!
//! ```text
//! cargo xtask ci [--fuzz-seconds N] [--no-setup] [--only STEP[,STEP..]]
//! cargo xtask setup                 install what the tests need (peers, cargo-fuzz)
//! cargo xtask fuzz <target>|--all [--seconds N]
//! cargo xtask bench [criterion args]
//! cargo xtask bench e2e
//! cargo xtask interop [--browser-cmd 'CMD … {url}'] [SCENARIO ..]   a real browser ↔ rtcwire
//! ```
//!
//! `ci` stops at the first failing step and always prints a table of the steps it ran with
//! their times.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::disallowed_methods)]

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

mod interop;
mod setup;

const DEFAULT_FUZZ_SECONDS: u64 = 4;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(&root, &args[1..]),
        Some("setup") => setup::run(&root).map(|_| ()),
        Some("fuzz") => fuzz_cmd(&root, &args[1..]),
        Some("bench") => bench_cmd(&root, &args[1..]),
        Some("interop") => interop::run(&root, &args[1..]),
        _ => {
            eprintln!("{}", USAGE);
            Err("unknown or missing task".into())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage:
  cargo xtask ci [--fuzz-seconds N] [--no-setup] [--only STEP[,STEP..]]
      steps: fmt clippy test interop doctest doc bench package fuzz
  cargo xtask setup
  cargo xtask fuzz <target>|--all [--seconds N]
  cargo xtask bench [NAME] [criterion args]   NAME: a package under benches/ (sctp, dtls, e2e, …)
  cargo xtask bench e2e   (end-to-end suite beside webrtc-rs and str0m; writes docs/performance.md)
  cargo xtask interop [--browser-cmd 'CMD … {url}'] [--timeout SECONDS] [SCENARIO ..]";

fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// One step of `ci`: a name and the commands it runs, in order.
struct Step {
    name: &'static str,
    commands: Vec<Command>,
}

fn cargo(root: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root).args(args);
    c
}

fn has_nextest(root: &Path) -> bool {
    cargo(root, &["nextest", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn ci(root: &Path, args: &[String]) -> Result<(), String> {
    let mut fuzz_seconds = env::var("RTCWIRE_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_FUZZ_SECONDS);
    let mut run_setup = true;
    let mut only: Option<Vec<String>> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--fuzz-seconds" => {
                fuzz_seconds = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--fuzz-seconds takes a number")?;
            }
            "--no-setup" => run_setup = false,
            "--only" => {
                only = Some(
                    it.next()
                        .ok_or("--only takes a list of steps")?
                        .split(',')
                        .map(str::to_owned)
                        .collect(),
                )
            }
            other => return Err(format!("unknown ci option {other}\n{USAGE}")),
        }
    }

    let mut table: Vec<(String, Duration, &'static str)> = Vec::new();
    let started = Instant::now();
    if run_setup {
        let t = Instant::now();
        let r = setup::run(root);
        table.push((
            "setup".into(),
            t.elapsed(),
            if r.is_ok() { "ok" } else { "FAILED" },
        ));
        if let Err(e) = r {
            print_table(&table, started.elapsed());
            return Err(e);
        }
    }

    let mut steps = Vec::new();
    steps.push(Step {
        name: "fmt",
        commands: vec![cargo(root, &["fmt", "--all", "--check"])],
    });
    let fuzz_dir = root.join("fuzz");
    let mut fmt_fuzz = cargo(root, &["fmt", "--check", "--manifest-path"]);
    fmt_fuzz.arg(fuzz_dir.join("Cargo.toml"));
    if let Some(s) = steps.last_mut() {
        s.commands.push(fmt_fuzz);
    }
    steps.push(Step {
        name: "clippy",
        commands: vec![cargo(
            root,
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
        )],
    });
    let mut test = if has_nextest(root) {
        cargo(
            root,
            &[
                "nextest",
                "run",
                "--workspace",
                "--locked",
                "--no-fail-fast",
                "--failure-output",
                "final",
            ],
        )
    } else {
        cargo(root, &["test", "--workspace", "--locked", "--no-fail-fast"])
    };
    // In CI the real peers are installed by `setup`: a test that finds one missing fails
    // instead of skipping.
    test.env("RTCWIRE_REQUIRE_PEERS", "1");
    steps.push(Step {
        name: "test",
        commands: vec![test],
    });
    // A real browser (headless Chromium) against rtcwire, in a network namespace of its own.
    steps.push(Step {
        name: "interop",
        commands: vec![cargo(root, &["xtask", "interop"])],
    });
    steps.push(Step {
        name: "doctest",
        commands: vec![cargo(root, &["test", "--workspace", "--doc", "--locked"])],
    });
    let mut doc = cargo(root, &["doc", "--workspace", "--no-deps", "--locked"]);
    doc.env("RUSTDOCFLAGS", "-D warnings");
    steps.push(Step {
        name: "doc",
        commands: vec![doc],
    });
    // Benches in test mode: each criterion benchmark runs once, unoptimised, so they
    // cannot rot. `cargo xtask bench` measures for real.
    steps.push(Step {
        name: "bench",
        commands: vec![cargo(
            root,
            &["test", "--workspace", "--bench", "*", "--locked", "--quiet"],
        )],
    });

    // Every library crate packages on its own (users pick single crates): `cargo package`
    // builds each from its packaged sources, and missing metadata fails the step.
    let mut package = cargo(
        root,
        &[
            "package",
            "--workspace",
            // Only what is published: not the simulator, the benches or xtask.
            "--exclude",
            "rtcwire-sim",
            "--exclude",
            "rtcwire-bench-*",
            "--exclude",
            "xtask",
            "--allow-dirty",
            "--locked",
        ],
    );
    // A target dir of its own: the packaged crates are built as registry crates, whose
    // artifacts cargo never rebuilds for a changed source of the same version.
    package.env(
        "CARGO_TARGET_DIR",
        root.join("target").join("package-check"),
    );
    steps.push(Step {
        name: "package",
        commands: vec![package],
    });

    let mut test_summary: Option<(u64, u64, u64)> = None;
    let selected = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|s| s == name));
    for step in steps {
        if !selected(step.name) {
            continue;
        }
        let t = Instant::now();
        let ok = if step.name == "test" {
            step.commands
                .into_iter()
                .all(|mut c| run_capturing_summary(&mut c, &mut test_summary).is_ok())
        } else if step.name == "package" {
            step.commands
                .into_iter()
                .all(|mut c| run_package(&mut c).is_ok())
        } else {
            step.commands.into_iter().all(|mut c| run(&mut c).is_ok())
        };
        table.push((
            step.name.into(),
            t.elapsed(),
            if ok { "ok" } else { "FAILED" },
        ));
        if !ok {
            print_table(&table, started.elapsed());
            return Err(format!("step `{}` failed", step.name));
        }
    }

    if selected("fuzz") {
        let t = Instant::now();
        let r = fuzz_all(root, fuzz_seconds);
        table.push((
            format!("fuzz ({fuzz_seconds} s each)"),
            t.elapsed(),
            if r.is_ok() { "ok" } else { "FAILED" },
        ));
        if let Err(e) = r {
            print_table(&table, started.elapsed());
            return Err(e);
        }
    }
    print_table(&table, started.elapsed());
    if let Some((passed, failed, skipped)) = test_summary {
        println!("tests: {passed} passed, {failed} failed, {skipped} skipped");
    }
    Ok(())
}

/// Runs the test command, echoing its output, and remembers nextest's (or libtest's) counts
/// so the summary can end with one plain `N passed, N failed` line.
fn run_capturing_summary(
    c: &mut Command,
    summary: &mut Option<(u64, u64, u64)>,
) -> Result<(), String> {
    use std::io::{BufRead, BufReader};
    eprintln!("+ {}", describe(c));
    let mut child = c
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", describe(c)))?;
    if let Some(err) = child.stderr.take() {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            eprintln!("{line}");
            if let Some(counts) = parse_counts(&line) {
                *summary = Some(counts);
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} exited with {status}", describe(c)))
    }
}

/// Reads `... 123 tests run: 120 passed, 2 failed, 3 skipped` (nextest's summary line).
fn parse_counts(line: &str) -> Option<(u64, u64, u64)> {
    let rest = &line[line.find("tests run:")? + "tests run:".len()..];
    let mut passed = 0;
    let mut failed = 0;
    let mut skipped = 0;
    for part in rest.split(',') {
        let mut words = part.split_whitespace();
        let n: u64 = match words.next().and_then(|w| w.parse().ok()) {
            Some(n) => n,
            None => continue,
        };
        match words.next() {
            Some(w) if w.starts_with("passed") => passed += n,
            Some(w) if w.starts_with("failed") || w.starts_with("timed") => failed += n,
            Some(w) if w.starts_with("skipped") => skipped += n,
            _ => {}
        }
    }
    Some((passed, failed, skipped))
}

fn print_table(rows: &[(String, Duration, &str)], total: Duration) {
    println!();
    println!("{:<24} {:>10}  result", "step", "time");
    println!("{}", "-".repeat(44));
    for (name, d, r) in rows {
        println!("{name:<24} {:>9.1}s  {r}", d.as_secs_f64());
    }
    println!("{}", "-".repeat(44));
    println!("{:<24} {:>9.1}s", "total", total.as_secs_f64());
}

fn run(c: &mut Command) -> Result<(), String> {
    eprintln!("+ {}", describe(c));
    let status = c
        .status()
        .map_err(|e| format!("cannot start {}: {e}", describe(c)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} exited with {status}", describe(c)))
    }
}

/// Runs `cargo package`, echoing its output; a manifest warning (missing description,
/// license, documentation, readme...) fails it like an error.
fn run_package(c: &mut Command) -> Result<(), String> {
    forget_packaged_copies();
    if let Some(dir) = c
        .get_envs()
        .find(|(k, _)| *k == "CARGO_TARGET_DIR")
        .and_then(|(_, v)| v)
    {
        forget_packaged_builds(Path::new(dir));
    }
    eprintln!("+ {}", describe(c));
    let out = c
        .output()
        .map_err(|e| format!("cannot start {}: {e}", describe(c)))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprint!("{stderr}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning: manifest has no"))
        .collect();
    if !out.status.success() {
        return Err(format!("{} exited with {}", describe(c), out.status));
    }
    if !warnings.is_empty() {
        return Err(format!(
            "package metadata incomplete: {}",
            warnings.join("; ")
        ));
    }
    Ok(())
}

/// Verification unpacks our crates from a temporary local registry into cargo's registry
/// sources, under the same name and version every time; a copy left by an earlier run would
/// be built instead of the new one. Only our own crates' copies are removed.
fn forget_packaged_copies() {
    let home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let Some(src) = home.map(|h| h.join("registry").join("src")) else {
        return;
    };
    let Ok(registries) = std::fs::read_dir(&src) else {
        return;
    };
    for reg in registries.flatten() {
        let Ok(crates) = std::fs::read_dir(reg.path()) else {
            continue;
        };
        for c in crates.flatten() {
            if c.file_name().to_string_lossy().starts_with("rtcwire-") {
                let _ = std::fs::remove_dir_all(c.path());
            }
        }
    }
}

/// Removes what an earlier verification built of our own crates in `target_dir` (their
/// dependencies stay cached): same name and version, so cargo would take the old build.
fn forget_packaged_builds(target_dir: &Path) {
    for sub in ["debug/deps", "debug/.fingerprint", "package"] {
        let Ok(entries) = std::fs::read_dir(target_dir.join(sub)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("rtcwire") || name.starts_with("librtcwire") {
                let p = e.path();
                let _ = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
            }
        }
    }
}

fn describe(c: &Command) -> String {
    let mut s = c.get_program().to_string_lossy().into_owned();
    for a in c.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

// ---------------------------------------------------------------------------------------
// Fuzzing on the stable toolchain
// ---------------------------------------------------------------------------------------

/// `cargo fuzz` passes `-Z` flags (sanitizer, coverage passes) that stable rustc refuses.
/// `RUSTC_BOOTSTRAP=1` lets the stable compiler accept them; it is the only toolchain here.
fn cargo_fuzz(root: &Path, args: &[&str]) -> Command {
    let mut c = cargo(root, &["fuzz"]);
    c.args(args);
    c.env("RUSTC_BOOTSTRAP", "1");
    c
}

fn sanitizer() -> String {
    env::var("RTCWIRE_FUZZ_SANITIZER").unwrap_or_else(|_| "address".into())
}

fn fuzz_targets(root: &Path) -> Result<Vec<String>, String> {
    let out = cargo_fuzz(root, &["list"])
        .output()
        .map_err(|e| format!("cargo fuzz list: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo fuzz list failed (is cargo-fuzz installed? `cargo xtask setup`): {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

fn fuzz_all(root: &Path, seconds: u64) -> Result<(), String> {
    let san = sanitizer();
    run(&mut cargo_fuzz(root, &["build", "--sanitizer", &san]))?;
    let targets = fuzz_targets(root)?;
    let mut summary = Vec::new();
    for t in &targets {
        let execs = fuzz_one(root, t, seconds)?;
        summary.push((t.clone(), execs));
    }
    println!();
    println!("{:<32} {:>12}", "fuzz target", "execs");
    for (t, e) in summary {
        println!("{t:<32} {e:>12}");
    }
    Ok(())
}

/// Runs one target for `seconds`; returns the number of executions libFuzzer reported.
fn fuzz_one(root: &Path, target: &str, seconds: u64) -> Result<String, String> {
    let corpus = root.join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    let seeds = root.join("fuzz/seeds").join(target);
    let san = sanitizer();
    let mut c = cargo_fuzz(root, &["run", "--sanitizer", &san, target]);
    c.arg(&corpus);
    if seeds.is_dir() {
        c.arg(&seeds);
    }
    c.arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-rss_limit_mb=4096")
        .arg("-print_final_stats=1");
    eprintln!("+ {}", describe(&c));
    let out = c
        .output()
        .map_err(|e| format!("cannot start cargo fuzz: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        eprintln!("{stderr}");
        return Err(format!("fuzz target {target} failed"));
    }
    let execs = stderr
        .lines()
        .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "?".into());
    eprintln!("  {target}: {execs} execs in {seconds} s");
    Ok(execs)
}

fn fuzz_cmd(root: &Path, args: &[String]) -> Result<(), String> {
    let mut seconds = 60;
    let mut target = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                seconds = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--seconds takes a number")?
            }
            t => target = Some(t.to_owned()),
        }
    }
    match target.as_deref() {
        None => Err(format!("which target?\n{USAGE}")),
        Some("--all") => fuzz_all(root, seconds),
        Some(t) => fuzz_one(root, t, seconds).map(|_| ()),
    }
}

fn bench_cmd(root: &Path, args: &[String]) -> Result<(), String> {
    // `bench <name>` where benches/<name> exists (sctp, dtls, session, e2e, …): that bench
    // package alone, every bench target of it. `bench e2e` is the end-to-end suite (rtcwire
    // beside webrtc-rs and str0m over 127.0.0.1; its binaries write docs/performance.md).
    if let Some(name) = args.first().filter(|n| {
        !n.starts_with('-')
            && root
                .join("benches")
                .join(n.as_str())
                .join("Cargo.toml")
                .is_file()
    }) {
        let package = format!("rtcwire-bench-{name}");
        let mut c = cargo(root, &["bench", "-p", &package, "--benches", "--"]);
        c.args(&args[1..]);
        return run(&mut c);
    }
    // Every bench target of the workspace (the packages under benches/), optimised; other
    // arguments go to the benches (a criterion filter, for example).
    let mut c = cargo(root, &["bench", "--workspace", "--bench", "*", "--"]);
    c.args(args);
    run(&mut c)
}
