//! Parse and write of Chromium's audio + video + data offer, side by side with webrtc-rs's
//! `sdp` crate and Mozilla's `webrtc-sdp`.
//!
//! "write" for rtcwire is measured twice: `write (lossless)` hands back the parsed text
//! (what `Sdp` keeps), `write (typed model)` formats the whole typed [`Description`] into a
//! buffer, which is the work the other crates' writers do.
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::io::Cursor;

use rtcwire_sdp::Sdp;

const OFFER: &str = include_str!("../../../testdata/sdp/chromium-offer-av-dc.sdp");

fn rtcwire_parse(s: &str) -> Sdp {
    Sdp::parse(s).unwrap_or_else(|e| unreachable!("the offer parses: {e}"))
}

fn webrtc_rs_parse(s: &str) -> sdp::SessionDescription {
    sdp::SessionDescription::unmarshal(&mut Cursor::new(s.as_bytes()))
        .unwrap_or_else(|e| unreachable!("sdp parses the offer: {e}"))
}

fn mozilla_parse(s: &str) -> webrtc_sdp::SdpSession {
    webrtc_sdp::parse_sdp(s, false)
        .unwrap_or_else(|e| unreachable!("webrtc-sdp parses the offer: {e}"))
}

fn bench(c: &mut Criterion) {
    let ours = rtcwire_parse(OFFER);
    let ours_model = ours.description();
    let theirs = webrtc_rs_parse(OFFER);
    let mozilla = mozilla_parse(OFFER);

    let mut g = c.benchmark_group("sdp/chromium-offer-av-dc");
    g.bench_function("parse/rtcwire-sdp", |b| {
        b.iter(|| rtcwire_parse(black_box(OFFER)))
    });
    g.bench_function("parse/sdp (webrtc-rs)", |b| {
        b.iter(|| webrtc_rs_parse(black_box(OFFER)))
    });
    g.bench_function("parse/webrtc-sdp (mozilla)", |b| {
        b.iter(|| mozilla_parse(black_box(OFFER)))
    });
    g.bench_function("parse+typed model/rtcwire-sdp", |b| {
        b.iter(|| {
            let sdp = rtcwire_parse(black_box(OFFER));
            black_box(sdp.description().media.len())
        })
    });
    g.bench_function("write (lossless)/rtcwire-sdp", |b| {
        let mut out = String::with_capacity(OFFER.len());
        b.iter(|| {
            out.clear();
            black_box(&ours).write_to(&mut out);
            black_box(out.len())
        })
    });
    g.bench_function("write (typed model)/rtcwire-sdp", |b| {
        let mut out = String::with_capacity(OFFER.len() * 2);
        b.iter(|| {
            out.clear();
            black_box(&ours_model).write_to(&mut out);
            black_box(out.len())
        })
    });
    g.bench_function("write/sdp (webrtc-rs)", |b| {
        b.iter(|| black_box(&theirs).marshal())
    });
    g.bench_function("write/webrtc-sdp (mozilla)", |b| {
        b.iter(|| black_box(&mozilla).to_string())
    });
    g.finish();

    let mut out = String::with_capacity(OFFER.len() * 2);
    rtcwire_bench_support::ratios(
        "sdp parse: chromium-offer-av-dc.sdp",
        &mut [
            ("rtcwire-sdp", &mut || {
                drop(black_box(rtcwire_parse(black_box(OFFER))))
            }),
            ("sdp 0.17 (webrtc-rs)", &mut || {
                drop(black_box(webrtc_rs_parse(black_box(OFFER))))
            }),
            ("webrtc-sdp 0.3 (mozilla)", &mut || {
                drop(black_box(mozilla_parse(black_box(OFFER))))
            }),
        ],
    );
    rtcwire_bench_support::ratios(
        "sdp write: chromium-offer-av-dc.sdp",
        &mut [
            ("rtcwire-sdp (typed model)", &mut || {
                out.clear();
                black_box(&ours_model).write_to(&mut out);
                black_box(out.len());
            }),
            ("sdp 0.17 (webrtc-rs)", &mut || {
                drop(black_box(black_box(&theirs).marshal()))
            }),
            ("webrtc-sdp 0.3 (mozilla)", &mut || {
                drop(black_box(black_box(&mozilla).to_string()))
            }),
        ],
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
