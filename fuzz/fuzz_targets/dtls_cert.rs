#![no_main]
//! The certificate walk and the SDP fingerprint parser are total: any bytes give a key view
//! inside the input or nothing, any text a fingerprint that prints back to itself or nothing.
use libfuzzer_sys::fuzz_target;
use rtcwire_dtls::cert::subject_public_key;
use rtcwire_dtls::Fingerprint;

fuzz_target!(|data: &[u8]| {
    if let Some(k) = subject_public_key(data) {
        let start = data.as_ptr() as usize;
        let key = k.key.as_ptr() as usize;
        assert!(key >= start && key + k.key.len() <= start + data.len());
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(fp) = Fingerprint::parse(s) {
            assert_eq!(Fingerprint::parse(&fp.to_string()), Ok(fp));
        }
    }
});
