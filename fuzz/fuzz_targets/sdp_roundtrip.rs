#![no_main]
//! parse → write → parse is stable: the lossless text reparses to itself, and the typed
//! model, written and parsed again, reads back equal.
use libfuzzer_sys::fuzz_target;
use rtcwire_sdp::Sdp;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(sdp) = Sdp::parse(text) else {
        return;
    };
    let again = Sdp::parse(sdp.as_str()).expect("its own text parses");
    assert_eq!(again.as_str(), sdp.as_str());
    let model = sdp.description();
    let written = model.to_sdp().expect("a parsed model writes valid SDP");
    assert_eq!(written.description(), model);
    // Writing is a fixed point after one step.
    assert_eq!(written.description().to_string(), written.as_str());
});
