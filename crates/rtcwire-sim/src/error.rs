//! The crate's error type.

/// What went wrong in the simulator's own operations (the network's drops are not errors:
/// they are counted in [`Stats`](crate::Stats) and traced).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A pcap was asked for but the sim was built without [`capture`](crate::SimBuilder::capture).
    #[error("no datagrams were captured: build the Sim with .capture(true) to write a pcap")]
    CaptureOff,
    /// Writing a file failed.
    #[error("writing the pcap file failed: {0}")]
    Io(#[from] std::io::Error),
}
