#![no_main]
//! SRTP unprotect of arbitrary bytes under a fixed key: never panics, fails cleanly, and a
//! failure leaves no stream behind. The first byte picks the profile.
use libfuzzer_sys::fuzz_target;
use rtcwire_srtp::{Config, Context, SrtpProfile};

/// The fixed fuzzing key: master key 0x42.., master salt 0x24.. (the seeds use it too).
fn context(selector: u8) -> Context {
    let profile = SrtpProfile::ALL[usize::from(selector) % SrtpProfile::ALL.len()];
    let key = [0x42u8; 32];
    let salt = [0x24u8; 14];
    let config = Config {
        max_streams: 4,
        ..Config::default()
    };
    Context::new(
        profile,
        &key[..profile.master_key_len()],
        &salt[..profile.master_salt_len()],
        config,
    )
    .unwrap()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, packet)) = data.split_first() else {
        return;
    };
    let mut ctx = context(selector);
    let mut buf = packet.to_vec();
    match ctx.unprotect_rtp(&mut buf) {
        Ok(n) => {
            assert!(n + ctx.rtp_overhead() == packet.len());
            assert_eq!(ctx.rtp_streams(), (0, 1));
            // The same bytes again are a replay.
            let mut again = packet.to_vec();
            assert!(ctx.unprotect_rtp(&mut again).is_err());
        }
        Err(_) => assert_eq!(ctx.rtp_streams(), (0, 0)),
    }
});
