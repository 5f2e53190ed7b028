//! The trace of a run (every send, translation, delivery and drop) and its counters.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use crate::{HostId, LinkId, NatId};

/// Why a datagram did not arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DropCause {
    /// Lost by the link's loss model.
    Loss,
    /// Larger than the link's MTU.
    Mtu,
    /// The link's queue was full (tail drop).
    QueueFull,
    /// The link was down when the datagram was sent or when it would have arrived.
    LinkDown,
    /// No link leads towards the destination.
    NoRoute,
    /// Sent from an address the host does not own, or source and destination of different
    /// address families.
    BadAddress,
    /// Arrived at a NAT's public address with no mapping for its port (or an expired one).
    NatNoMapping,
    /// A mapping exists but the NAT's filtering refused the sender.
    NatFiltered,
    /// Sent by a host behind a NAT to the NAT's own public address, with hairpinning off.
    NatHairpin,
    /// Forwarded too many times (a routing loop between NATs).
    HopLimit,
}

impl DropCause {
    /// Every cause, in counter order.
    pub const ALL: [DropCause; 10] = [
        DropCause::Loss,
        DropCause::Mtu,
        DropCause::QueueFull,
        DropCause::LinkDown,
        DropCause::NoRoute,
        DropCause::BadAddress,
        DropCause::NatNoMapping,
        DropCause::NatFiltered,
        DropCause::NatHairpin,
        DropCause::HopLimit,
    ];

    fn index(self) -> usize {
        match self {
            DropCause::Loss => 0,
            DropCause::Mtu => 1,
            DropCause::QueueFull => 2,
            DropCause::LinkDown => 3,
            DropCause::NoRoute => 4,
            DropCause::BadAddress => 5,
            DropCause::NatNoMapping => 6,
            DropCause::NatFiltered => 7,
            DropCause::NatHairpin => 8,
            DropCause::HopLimit => 9,
        }
    }

    /// A short lowercase name, as printed in traces.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            DropCause::Loss => "loss",
            DropCause::Mtu => "mtu",
            DropCause::QueueFull => "queue-full",
            DropCause::LinkDown => "link-down",
            DropCause::NoRoute => "no-route",
            DropCause::BadAddress => "bad-address",
            DropCause::NatNoMapping => "nat-no-mapping",
            DropCause::NatFiltered => "nat-filtered",
            DropCause::NatHairpin => "nat-hairpin",
            DropCause::HopLimit => "hop-limit",
        }
    }
}

impl fmt::Display for DropCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Counters of a whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Datagrams endpoints handed to the network.
    pub sent: u64,
    /// Their payload bytes.
    pub sent_bytes: u64,
    /// Datagrams handed to endpoints (duplicates included).
    pub delivered: u64,
    /// Their payload bytes.
    pub delivered_bytes: u64,
    /// Copies made by link duplication.
    pub duplicated: u64,
    /// Datagrams an endpoint's `handle_read` refused with an error.
    pub rejected: u64,
    /// Calls to endpoints' `handle_timeout`.
    pub timeouts: u64,
    dropped: [u64; DropCause::ALL.len()],
}

impl Stats {
    /// Datagrams dropped for `cause`.
    #[must_use]
    pub fn dropped(&self, cause: DropCause) -> u64 {
        self.dropped.get(cause.index()).copied().unwrap_or(0)
    }

    /// Datagrams dropped for any cause.
    #[must_use]
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().sum()
    }

    pub(crate) fn count_drop(&mut self, cause: DropCause) {
        if let Some(c) = self.dropped.get_mut(cause.index()) {
            *c += 1;
        }
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sent {} ({} B), delivered {} ({} B), duplicated {}, rejected {}, dropped {}",
            self.sent,
            self.sent_bytes,
            self.delivered,
            self.delivered_bytes,
            self.duplicated,
            self.rejected,
            self.dropped_total()
        )?;
        let mut first = true;
        for cause in DropCause::ALL {
            let n = self.dropped(cause);
            if n > 0 {
                f.write_str(if first { " (" } else { ", " })?;
                write!(f, "{cause} {n}")?;
                first = false;
            }
        }
        if !first {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// Where something happened to a datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceEvent {
    /// A host's endpoint sent it.
    Sent {
        /// The sender.
        host: HostId,
    },
    /// A NAT rewrote its addresses; the entry shows the addresses after translation.
    Translated {
        /// The NAT.
        nat: NatId,
        /// Source before translation.
        old_source: SocketAddr,
        /// Destination before translation.
        old_destination: SocketAddr,
    },
    /// Handed to a host's endpoint.
    Delivered {
        /// The receiver.
        host: HostId,
    },
    /// The receiving endpoint refused it (`handle_read` returned this error, `Debug`-printed).
    Rejected {
        /// The receiver.
        host: HostId,
        /// The error.
        error: String,
    },
    /// A link made a second copy.
    Duplicated {
        /// The link.
        link: LinkId,
    },
    /// Dropped.
    Dropped {
        /// Why.
        cause: DropCause,
        /// On which link, when a link dropped it.
        link: Option<LinkId>,
    },
}

/// One line of the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEntry {
    /// Simulated time since the start of the run.
    pub at: Duration,
    /// Number of the datagram (copies keep the original's number).
    pub packet: u64,
    /// Source address, as seen at this point (after NATs it went through).
    pub source: SocketAddr,
    /// Destination address, as seen at this point.
    pub destination: SocketAddr,
    /// Payload length.
    pub len: usize,
    /// What happened.
    pub event: TraceEvent,
}

impl fmt::Display for TraceEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>4}.{:06}s #{:<5} {} > {} len {:<5} ",
            self.at.as_secs(),
            self.at.subsec_micros(),
            self.packet,
            self.source,
            self.destination,
            self.len
        )?;
        match &self.event {
            TraceEvent::Sent { host } => write!(f, "sent by {host}"),
            TraceEvent::Translated {
                nat,
                old_source,
                old_destination,
            } => write!(f, "{nat} translated {old_source} > {old_destination}"),
            TraceEvent::Delivered { host } => write!(f, "delivered to {host}"),
            TraceEvent::Rejected { host, error } => write!(f, "rejected by {host}: {error}"),
            TraceEvent::Duplicated { link } => write!(f, "duplicated on {link}"),
            TraceEvent::Dropped {
                cause,
                link: Some(link),
            } => write!(f, "DROPPED ({cause}) on {link}"),
            TraceEvent::Dropped { cause, link: None } => write!(f, "DROPPED ({cause})"),
        }
    }
}

/// A datagram as delivered, kept for pcap export when capture is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Captured {
    pub(crate) at: Duration,
    pub(crate) source: SocketAddr,
    pub(crate) destination: SocketAddr,
    pub(crate) contents: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_display_lists_nonzero_causes() {
        let mut s = Stats::default();
        s.count_drop(DropCause::Mtu);
        s.count_drop(DropCause::Mtu);
        s.count_drop(DropCause::NatFiltered);
        assert_eq!(s.dropped(DropCause::Mtu), 2);
        assert_eq!(s.dropped_total(), 3);
        let text = s.to_string();
        assert!(
            text.ends_with("dropped 3 (mtu 2, nat-filtered 1)"),
            "{text}"
        );
    }

    #[test]
    fn every_cause_has_its_own_counter() {
        let mut s = Stats::default();
        for (i, c) in DropCause::ALL.into_iter().enumerate() {
            s.count_drop(c);
            assert_eq!(s.dropped(c), 1);
            assert_eq!(s.dropped_total(), i as u64 + 1);
        }
    }
}
