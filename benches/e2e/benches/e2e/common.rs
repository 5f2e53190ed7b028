//! What every stack's driver shares: the pacing rule, the sizes, CPU and memory readings.

use std::time::{Duration, Instant};

/// The message size of the throughput rows: 64 KiB less one byte, the largest message
/// webrtc-rs 0.17 can receive (its data channel reads into a `u16::MAX`-byte buffer and
/// closes the channel on a larger message); every stack sends this size.
pub const MESSAGE: usize = 64 * 1024 - 1;
/// Pacing: send while the channel's buffered amount is at or below this...
pub const HIGH: usize = 1024 * 1024;
/// ...and once above it, wait until it is at or below this (`bufferedamountlow`).
pub const LOW: usize = 512 * 1024;

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Turns anything printable into the boxed error the drivers return.
pub fn err(what: impl std::fmt::Display) -> Box<dyn std::error::Error + Send + Sync> {
    what.to_string().into()
}

/// Bounds a wait: every run stops by itself.
pub async fn within<T>(what: &str, secs: u64, f: impl std::future::Future<Output = T>) -> Res<T> {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .map_err(|_| err(format!("timed out: {what}")))
}

/// One throughput run: bytes delivered, wall time, process CPU time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Thru {
    pub bytes: u64,
    pub wall: Duration,
    pub cpu: Duration,
}

impl Thru {
    pub fn gbit_s(&self) -> f64 {
        self.bytes as f64 * 8.0 / self.wall.as_secs_f64() / 1e9
    }
    /// CPU seconds (both peers, the whole process) per GB delivered.
    pub fn cpu_s_per_gb(&self) -> f64 {
        self.cpu.as_secs_f64() / (self.bytes as f64 / 1e9)
    }
}

/// Idle connections: per connection end, both ends live in this process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Idle {
    pub connections: usize,
    /// Resident memory added per connection end (KiB).
    pub kib_per_end: f64,
    /// Tokio tasks alive per connection end.
    pub tasks_per_end: f64,
    /// OS threads the process has while idle.
    pub threads: usize,
    /// CPU while idle, per 1000 connection ends, in % of one core.
    pub cpu_pct_per_1000: f64,
    /// How long setting them all up took.
    pub setup: Duration,
}

/// CPU time (user + system) of this whole process, from /proc/self/stat (clock ticks of
/// 10 ms: read over runs of a second or more).
pub fn process_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// A line of /proc/self/status, as a number (the first field).
fn status_field(name: &str) -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    s.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Resident memory of this process, KiB.
pub fn rss_kib() -> u64 {
    status_field("VmRSS:")
}

/// Threads of this process.
pub fn threads() -> usize {
    status_field("Threads:") as usize
}

/// The machine: CPU model, cores, and the load while measuring.
pub fn machine() -> (String, usize) {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (model, cores)
}

/// /proc/loadavg's three averages.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Median and 99th percentile of `samples` (sorted in place).
pub fn median_p99(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    if samples.is_empty() {
        return (Duration::ZERO, Duration::ZERO);
    }
    let med = samples[samples.len() / 2];
    let i = ((samples.len() as f64 * 0.99).ceil() as usize).clamp(1, samples.len()) - 1;
    (med, samples[i])
}

/// A fresh two-worker runtime (the machine has two cores) for one stack's scenario.
pub fn runtime() -> Res<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// Waits `d` while the runtime keeps running the connections.
pub async fn idle_for(d: Duration) -> Duration {
    let t = Instant::now();
    tokio::time::sleep(d).await;
    t.elapsed()
}

/// A boxed future of a driver's result.
pub type BoxFut<T> = std::pin::Pin<Box<dyn std::future::Future<Output = Res<T>> + Send>>;

/// An open data channel between two connected peers, ready to move `n` bytes in 64 KiB
/// messages under the pacing rule: running it returns the bytes the far end received.
pub struct Flow(pub Box<dyn FnOnce(u64) -> BoxFut<u64> + Send>);

impl Flow {
    pub async fn run(self, bytes: u64) -> Res<u64> {
        (self.0)(bytes).await
    }
}

/// Whatever keeps a set of idle connections alive (dropped to free them).
pub type Keep = Box<dyn std::any::Any + Send>;

static MESSAGE_SIZE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(MESSAGE);

/// The message size the drivers send: [`MESSAGE`] unless the allocation bench set another.
pub fn msg_size() -> usize {
    MESSAGE_SIZE.load(std::sync::atomic::Ordering::Relaxed)
}

/// Sets the drivers' message size.
pub fn set_msg_size(n: usize) {
    MESSAGE_SIZE.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// The drivers' boxed error.
pub type Err = Box<dyn std::error::Error + Send + Sync>;
