//! rtcwire-ice: a connectivity check answered by a connected agent (parse, FINGERPRINT and
//! MESSAGE-INTEGRITY verified, role and pair looked up, success response built and signed,
//! queued and drained), and the memory an idle connected agent holds (issue goal: ≤ 4 KiB).
//!
//! Beside it, str0m's standalone agent (`is` 0.9) answers the same request, connected the
//! same way over an in-memory wire. Its heap use is not measured (it has no estimate API);
//! only the inline sizes of the two agents are printed for it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rtcwire_bench_ice::{addr, connected_pair, str0m_is, PA, PB};
use rtcwire_ice::Agent;
use rtcwire_proto::{Datagram, SansIo};
use rtcwire_stun::{Attribute, IntegrityKey, MessageBuilder, MessageType, TransactionId};

/// The check a controlling peer sends: USERNAME, PRIORITY, ICE-CONTROLLING, integrity,
/// fingerprint.
fn request(user: &str, pwd: &str) -> Vec<u8> {
    let key = IntegrityKey::short_term(pwd);
    let mut req = Vec::new();
    let mut m = MessageBuilder::new(
        &mut req,
        MessageType::BINDING_REQUEST,
        TransactionId([7; 12]),
    )
    .unwrap();
    m.attr(&Attribute::Username(user)).unwrap();
    m.attr(&Attribute::Priority(0x6e00_01ff)).unwrap();
    m.attr(&Attribute::IceControlling(u64::MAX)).unwrap();
    m.message_integrity(&key).unwrap().fingerprint().unwrap();
    m.finish();
    req
}

fn bench(c: &mut Criterion) {
    let (pa, pb) = (addr(PA), addr(PB));
    let (a, mut b, now) = connected_pair();
    let user = format!(
        "{}:{}",
        b.local_credentials().ufrag,
        a.local_credentials().ufrag
    );
    let req = request(&user, &b.local_credentials().pwd.clone());
    let mut out = Vec::with_capacity(1500);
    let mut answer = || {
        b.handle_datagram(now, Datagram::udp(pa, pb, black_box(&req)))
            .unwrap();
        out.clear();
        let t = b.poll_transmit(now, &mut out).unwrap();
        black_box(t.size);
        while b.poll_transmit(now, &mut out).is_some() {}
    };

    let (sa, mut sb, snow) = str0m_is::connected_pair();
    let suser = format!(
        "{}:{}",
        sb.local_credentials().ufrag,
        sa.local_credentials().ufrag
    );
    let sreq = request(&suser, &sb.local_credentials().pass.clone());
    let mut answer_is = || {
        let packet = is::stun::StunPacket {
            proto: str0m_proto::Protocol::Udp,
            source: pa,
            destination: pb,
            message: is::stun::StunMessage::parse(black_box(&sreq)).unwrap(),
        };
        sb.handle_packet(snow, packet);
        let t = sb.poll_transmit().expect("is answers every check");
        black_box(t.contents.len());
        // Anything else it queued (a triggered check) is drained too, as ours would be.
        while let Some(t) = sb.poll_transmit() {
            black_box(t.contents.len());
        }
    };

    let mut g = c.benchmark_group("ice");
    g.bench_function("check_answered", |bn| bn.iter(&mut answer));
    g.bench_function("check_answered_str0m_is", |bn| bn.iter(&mut answer_is));
    g.finish();
    let best = rtcwire_bench_support::ratios(
        "ice/check_answered",
        &mut [
            ("rtcwire-ice", &mut answer),
            ("str0m is 0.9", &mut answer_is),
        ],
    );
    if let Some(ns) = best.first() {
        println!(
            "rtcwire-ice: {:.0} checks answered per second (one core, best round)",
            1e9 / ns
        );
    }
    if let Some(ns) = best.get(1) {
        println!(
            "str0m is 0.9: {:.0} checks answered per second (one core, best round)",
            1e9 / ns
        );
    }
    if rtcwire_bench_support::measuring() {
        let (a, b, _) = connected_pair();
        println!(
            "rtcwire-ice: connected agent idle for 20 s holds ~{} B (controlling) / ~{} B (controlled) by estimate; size_of::<Agent>() = {} B; goal ≤ 4096 B",
            a.memory_estimate(),
            b.memory_estimate(),
            std::mem::size_of::<Agent>()
        );
        println!(
            "str0m is 0.9: size_of::<IceAgent>() = {} B (heap not measured)",
            std::mem::size_of::<is::IceAgent>()
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
