#![no_main]
//! The TCP framer never panics, and gives the same frames however the stream is cut.
use libfuzzer_sys::fuzz_target;
use rtcwire_stun::{Framing, TcpFramer};

fn frames(framing: Framing, stream: &[u8], cut: usize) -> (Vec<Vec<u8>>, bool) {
    let mut f = TcpFramer::new(framing);
    let mut out = Vec::new();
    for chunk in stream.chunks(cut.max(1)) {
        f.push(chunk).expect("small input fits");
        loop {
            match f.pop() {
                Ok(Some(frame)) => out.push(frame.bytes.to_vec()),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, stream)) = data.split_first() else {
        return;
    };
    let framing = if mode & 1 == 0 {
        Framing::Turn
    } else {
        Framing::Rfc4571
    };
    let whole = frames(framing, stream, stream.len());
    let cut = frames(framing, stream, usize::from(mode >> 1) + 1);
    assert_eq!(whole, cut);
});
