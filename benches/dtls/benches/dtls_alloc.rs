//! Heap allocations per 1200-byte application-data record through two connected
//! `Connection`s, counted by dhat's heap profiler (a counting global allocator in this
//! binary only). Printed when measuring (`cargo xtask bench dtls`); in test mode
//! (`cargo xtask ci` runs benches once) the steady-state figure must be zero.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::disallowed_methods
)]

use rtcwire_bench_dtls::{configs, configs13, connected_pair};
use rtcwire_dtls::{
    Certificate, CipherSuite, Config, Connection, Datagram, Event, NamedGroup, SansIo,
};
use std::sync::Arc;
use std::time::Instant;

type Configs = (Arc<Config>, Arc<Config>);

/// DTLS 1.2 (`configs`) or 1.3 (`configs13`, X25519); with `ids`, the same suites with an
/// 8-byte connection id on both sides (RFC 9146 `tls12_cid` records, 1.3 C-bit headers).
fn pair_configs(v13: bool, ids: bool) -> Configs {
    if ids {
        let a = Certificate::generate_self_signed().unwrap();
        let b = Certificate::generate_self_signed().unwrap();
        let mk = |me: &Certificate, peer: &Certificate, id: u8| {
            Arc::new(
                Config::builder(me.clone())
                    .remote_fingerprint(peer.fingerprint())
                    .cipher_suites(&[CipherSuite::EcdheEcdsaAes128GcmSha256])
                    .groups(&[NamedGroup::Secp256r1])
                    .dtls13(v13)
                    .dtls13_cipher_suites(&[CipherSuite::Tls13Aes128GcmSha256])
                    .dtls13_groups(&[NamedGroup::X25519])
                    .hello_verify(false)
                    .connection_id(Some(vec![id; 8]))
                    .build()
                    .unwrap(),
            )
        };
        return (mk(&a, &b, 0xc1), mk(&b, &a, 0x5e));
    }
    if v13 {
        let (c, s, ..) = configs13(NamedGroup::X25519);
        (c, s)
    } else {
        configs()
    }
}

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const RECORDS: u64 = 2_000;

/// One record from `client` to `server` the way a driver runs it: one lent transmit buffer,
/// and the received plaintext handed back with `recycle`.
fn one_record(
    client: &mut Connection,
    server: &mut Connection,
    lent: &mut Vec<u8>,
    payload: &[u8],
    send_with: bool,
    recycle: bool,
) {
    let now = Instant::now();
    let addr = "127.0.0.1:1".parse().unwrap();
    if send_with {
        client
            .send_with(payload.len(), |room| {
                room.copy_from_slice(payload);
                room.len()
            })
            .unwrap();
    } else {
        client.write(payload).unwrap();
    }
    let t = client.poll_transmit(now, lent).unwrap();
    server
        .handle_read(now, Datagram::udp(addr, addr, &lent[..t.size]))
        .unwrap();
    lent.clear();
    match server.poll_event() {
        Some(Event::ApplicationData(d)) => {
            assert_eq!(d.len(), payload.len());
            if recycle {
                server.recycle(d);
            }
        }
        other => panic!("expected application data, got {other:?}"),
    }
}

fn per_record(v13: bool, send_with: bool, recycle: bool) -> f64 {
    per_record_with(v13, false, send_with, recycle)
}

fn per_record_with(v13: bool, ids: bool, send_with: bool, recycle: bool) -> f64 {
    let (cc, sc) = pair_configs(v13, ids);
    let (mut client, mut server) = connected_pair(&cc, &sc);
    assert_eq!(client.connection_ids().is_some(), ids);
    let payload = vec![0x5au8; 1200];
    let mut lent = Vec::with_capacity(1500);
    // Warm up: the first records fill the spare-buffer pools.
    for _ in 0..16 {
        one_record(
            &mut client,
            &mut server,
            &mut lent,
            &payload,
            send_with,
            recycle,
        );
    }
    let before = dhat::HeapStats::get().total_blocks;
    for _ in 0..RECORDS {
        one_record(
            &mut client,
            &mut server,
            &mut lent,
            &payload,
            send_with,
            recycle,
        );
    }
    let after = dhat::HeapStats::get().total_blocks;
    (after - before) as f64 / RECORDS as f64
}

/// The in-place path: seal where the plaintext lies, open where the datagram landed.
fn per_record_in_place(v13: bool, ids: bool) -> f64 {
    let (cc, sc) = pair_configs(v13, ids);
    let (mut client, mut server) = connected_pair(&cc, &sc);
    assert_eq!(client.connection_ids().is_some(), ids);
    let now = Instant::now();
    let prefix = client.record_prefix_len();
    let mut wire = Vec::with_capacity(1500);
    let mut one = |wire: &mut Vec<u8>| {
        wire.clear();
        wire.resize(prefix + 1200, 0x5a);
        client.seal_in_place(wire, 0).unwrap();
        let r = server.handle_read_in_place(now, wire).unwrap().unwrap();
        assert_eq!(r.len(), 1200);
    };
    for _ in 0..16 {
        one(&mut wire);
    }
    let before = dhat::HeapStats::get().total_blocks;
    for _ in 0..RECORDS {
        one(&mut wire);
    }
    (dhat::HeapStats::get().total_blocks - before) as f64 / RECORDS as f64
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let write = per_record(false, false, true);
    let send_with = per_record(false, true, true);
    // The control: an application that keeps every plaintext buffer costs one allocation per
    // record, which shows the counter counts.
    let kept = per_record(false, false, false);
    let in_place = per_record_in_place(false, false);
    let write13 = per_record(true, false, true);
    let send_with13 = per_record(true, true, true);
    let in_place13 = per_record_in_place(true, false);
    // With connection ids on both sides (records carry an 8-byte id).
    let ids12 = [
        per_record_with(false, true, false, true),
        per_record_with(false, true, true, true),
        per_record_in_place(false, true),
    ];
    let ids13 = [
        per_record_with(true, true, false, true),
        per_record_with(true, true, true, true),
        per_record_in_place(true, true),
    ];
    println!("dtls 1.2 record path, heap allocations per 1200-byte record (steady state, {RECORDS} records):");
    println!(
        "  write(&[u8])  -> poll_transmit -> handle_read -> ApplicationData + recycle: {write:.3}"
    );
    println!("  send_with(..) -> poll_transmit -> handle_read -> ApplicationData + recycle: {send_with:.3}");
    println!("  write(&[u8]), application keeps each plaintext buffer (control):      {kept:.3}");
    println!(
        "  seal_in_place -> handle_read_in_place (no queue, no copy):            {in_place:.3}"
    );
    println!(
        "  DTLS 1.3: write {write13:.3}, send_with {send_with13:.3}, in place {in_place13:.3}"
    );
    println!(
        "  with connection ids (write, send_with, in place): DTLS 1.2 {ids12:?}, DTLS 1.3 {ids13:?}"
    );
    assert!(kept >= 1.0, "the control must allocate: {kept}");
    assert_eq!(
        ids12, [0.0; 3],
        "allocations per 1.2 record with connection ids"
    );
    assert_eq!(
        ids13, [0.0; 3],
        "allocations per 1.3 record with connection ids"
    );
    assert_eq!(in_place13, 0.0, "allocations per 1.3 record, in place");
    assert_eq!(write13, 0.0, "allocations per 1.3 record, write");
    assert_eq!(send_with13, 0.0, "allocations per 1.3 record, send_with");
    assert_eq!(in_place, 0.0, "allocations per record on the in-place path");
    assert_eq!(write, 0.0, "allocations per record on the write path");
    assert_eq!(
        send_with, 0.0,
        "allocations per record on the send_with path"
    );
}
