//! The pcap the simulator writes opens in a real Wireshark: `tshark -r` reads it, finds the
//! right number of UDP packets with the simulated IPv4 and IPv6 addresses, and finds the
//! checksums correct.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use rtcwire_sim::{Error, LinkConfig, NatConfig, Probe, Sim};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// An IPv4 exchange through a NAT and an IPv6 one; returns the sim.
fn exchange() -> Sim {
    let mut sim = Sim::builder(5).capture(true).build();
    let a = sim.add_host(addr("192.168.0.2:5000"), Probe::new());
    let b = sim.add_host(addr("198.51.100.7:6000"), Probe::echo());
    let nat = sim.add_nat("203.0.113.1".parse().unwrap(), NatConfig::full_cone());
    let wire = LinkConfig::with_delay(Duration::from_millis(10));
    sim.link(a, nat.inside(), wire);
    sim.link(nat.outside(), b, wire);
    let c = sim.add_host(addr("[2001:db8::1]:7000"), Probe::new());
    let d = sim.add_host(addr("[2001:db8::2]:8000"), Probe::echo());
    sim.link(c, d, wire);
    for i in 0..3u8 {
        sim.endpoint_mut(a)
            .send_to(addr("198.51.100.7:6000"), vec![i; 100 + usize::from(i)]);
        sim.endpoint_mut(c).send(vec![i; 33]);
    }
    let _ = sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.stats().delivered, 12, "{}", sim.report());
    sim
}

#[test]
fn pcap_needs_capture_on() {
    let sim = Sim::new(1);
    assert!(matches!(sim.pcap_bytes(), Err(Error::CaptureOff)));
}

#[test]
fn tshark_reads_the_pcap() {
    if !rtcwire_sim::peer::available("tshark") {
        return;
    }
    let sim = exchange();
    let dir = rtcwire_sim::peer::scratch_dir("sim-pcap");
    let path = dir.join("exchange.pcap");
    sim.write_pcap(&path).unwrap();

    let out = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args([
            "-o",
            "udp.check_checksum:TRUE",
            "-o",
            "ip.check_checksum:TRUE",
        ])
        .args(["-T", "fields"])
        .args(["-e", "ip.src", "-e", "ipv6.src", "-e", "udp.srcport"])
        .args(["-e", "ip.dst", "-e", "ipv6.dst", "-e", "udp.dstport"])
        .args([
            "-e",
            "udp.length",
            "-e",
            "udp.checksum.status",
            "-e",
            "frame.time_epoch",
        ])
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 12, "{text}");

    let src = |r: &Vec<&str>| format!("{}{}:{}", r[0], r[1], r[2]);
    let dst = |r: &Vec<&str>| format!("{}{}:{}", r[3], r[4], r[5]);
    // As delivered: after the NAT on the way in, before it on the way back.
    let v4_in = rows
        .iter()
        .filter(|r| src(r) == "203.0.113.1:49152" && dst(r) == "198.51.100.7:6000");
    let v4_back = rows
        .iter()
        .filter(|r| src(r) == "198.51.100.7:6000" && dst(r) == "192.168.0.2:5000");
    let v6_out = rows
        .iter()
        .filter(|r| src(r) == "2001:db8::1:7000" && dst(r) == "2001:db8::2:8000");
    let v6_back = rows
        .iter()
        .filter(|r| src(r) == "2001:db8::2:8000" && dst(r) == "2001:db8::1:7000");
    assert_eq!(v4_in.clone().count(), 3, "{text}");
    assert_eq!(v4_back.count(), 3, "{text}");
    assert_eq!(v6_out.count(), 3, "{text}");
    assert_eq!(v6_back.count(), 3, "{text}");
    let lengths: Vec<&str> = v4_in.map(|r| r[6]).collect();
    assert_eq!(lengths, ["108", "109", "110"]);
    // Checksum status 1 = good.
    assert!(rows.iter().all(|r| r[7] == "1"), "{text}");
    // Simulated times, from 2000-01-01: IPv6 at 10 ms and back at 20 ms; IPv4 across two
    // links at 20 ms and back at 40 ms.
    let mut ms: Vec<u64> = rows
        .iter()
        .map(|r| ((r[8].parse::<f64>().unwrap() - 946_684_800.0) * 1000.0).round() as u64)
        .collect();
    ms.dedup();
    assert_eq!(ms, [10, 20, 40], "{text}");
    let _ = std::fs::remove_dir_all(dir);
}
