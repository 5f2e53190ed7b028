//! First-byte demultiplexing: the per-datagram cost every received packet pays.
use criterion::{criterion_group, criterion_main, Criterion};
use rtcwire_proto::classify;
use std::hint::black_box;

fn demux(c: &mut Criterion) {
    let packets: [&[u8]; 5] = [
        &[0x00, 0x01, 0, 0],
        &[0x16, 0xfe, 0xfd],
        &[0x80, 0x60, 0, 1],
        &[0x80, 0xc8, 0, 6],
        &[0x40, 0x00, 0, 4],
    ];
    c.bench_function("demux/classify x5", |b| {
        b.iter(|| {
            for p in packets {
                black_box(classify(black_box(p)));
            }
        })
    });
}

criterion_group!(benches, demux);
criterion_main!(benches);
