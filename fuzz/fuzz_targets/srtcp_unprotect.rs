#![no_main]
//! SRTCP unprotect of arbitrary bytes under a fixed key: never panics, fails cleanly. The
//! first byte picks the profile.
use libfuzzer_sys::fuzz_target;
use rtcwire_srtp::{Config, Context, SrtpProfile};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, packet)) = data.split_first() else {
        return;
    };
    let profile = SrtpProfile::ALL[usize::from(selector) % SrtpProfile::ALL.len()];
    let key = [0x42u8; 32];
    let salt = [0x24u8; 14];
    let mut ctx = Context::new(
        profile,
        &key[..profile.master_key_len()],
        &salt[..profile.master_salt_len()],
        Config::default(),
    )
    .unwrap();
    let mut buf = packet.to_vec();
    if let Ok(n) = ctx.unprotect_rtcp(&mut buf) {
        assert!(n + ctx.rtcp_overhead() == packet.len());
        let mut again = packet.to_vec();
        assert!(ctx.unprotect_rtcp(&mut again).is_err());
    }
});
