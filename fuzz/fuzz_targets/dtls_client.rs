#![no_main]
//! Drives a DTLS client through arbitrary datagrams; see `common/dtls_driver.rs`.
use libfuzzer_sys::fuzz_target;

#[path = "common/dtls_driver.rs"]
mod driver;

fuzz_target!(|data: &[u8]| driver::run(driver::Role::Client, data));
