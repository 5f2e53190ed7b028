#![no_main]
//! The header parse paths on the sending side: arbitrary bytes given to protect (RTP and
//! RTCP) are either refused or protected, and then unprotect gives them back exactly.
use libfuzzer_sys::fuzz_target;
use rtcwire_srtp::{Config, Context, SrtpProfile};

fn context(profile: SrtpProfile) -> Context {
    let key = [0x42u8; 32];
    let salt = [0x24u8; 14];
    Context::new(
        profile,
        &key[..profile.master_key_len()],
        &salt[..profile.master_salt_len()],
        Config::default(),
    )
    .unwrap()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, packet)) = data.split_first() else {
        return;
    };
    let profile = SrtpProfile::ALL[usize::from(selector) % SrtpProfile::ALL.len()];
    let rtcp = selector & 0x80 != 0;
    let mut tx = context(profile);
    let mut rx = context(profile);
    let mut buf = packet.to_vec();
    buf.resize(packet.len() + 32, 0);
    let protected = if rtcp {
        tx.protect_rtcp(&mut buf, packet.len())
    } else {
        tx.protect_rtp(&mut buf, packet.len())
    };
    let Ok(n) = protected else { return };
    buf.truncate(n);
    let m = if rtcp {
        rx.unprotect_rtcp(&mut buf)
    } else {
        rx.unprotect_rtp(&mut buf)
    }
    .unwrap();
    assert_eq!(&buf[..m], packet);
});
