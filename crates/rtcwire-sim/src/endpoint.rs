//! Endpoints: the sans-IO cores the simulator drives, stored behind a type-erased slot and
//! reached again through typed [`Host`] handles.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::time::Instant;

use rtcwire_proto::{Datagram, SansIo, Transmit};

use crate::HostId;

/// A typed handle to a host added with [`Sim::add_host`](crate::Sim::add_host): it gives back
/// the endpoint as its own type (`sim.endpoint(a)`) and its events (`sim.events(a)`).
pub struct Host<T> {
    id: HostId,
    _core: PhantomData<fn() -> T>,
}

impl<T> Host<T> {
    pub(crate) fn new(id: HostId) -> Self {
        Host {
            id,
            _core: PhantomData,
        }
    }

    /// The untyped id, for the methods that do not need the endpoint's type.
    #[must_use]
    pub fn id(self) -> HostId {
        self.id
    }
}

impl<T> Clone for Host<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Host<T> {}

impl<T> fmt::Debug for Host<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Host({})", self.id)
    }
}

impl<T> PartialEq for Host<T> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl<T> Eq for Host<T> {}

impl<T> From<Host<T>> for HostId {
    fn from(h: Host<T>) -> HostId {
        h.id
    }
}

/// A core with the events it has emitted so far.
pub(crate) struct Slot<T: SansIo> {
    pub(crate) core: T,
    pub(crate) events: Vec<T::Event>,
}

/// What the driver needs from any slot, whatever the core's type.
pub(crate) trait Driven {
    /// Feeds a datagram; an error comes back `Debug`-printed.
    fn handle_read(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), String>;
    fn handle_timeout(&mut self, now: Instant);
    fn poll_timeout(&self) -> Option<Instant>;
    fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit>;
    /// Moves pending events into the slot's list; returns how many.
    fn collect_events(&mut self, limit: usize) -> usize;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

/// What stays on a host whose endpoint was taken out: it refuses what arrives and does
/// nothing else.
pub(crate) struct Removed;

impl Driven for Removed {
    fn handle_read(&mut self, _now: Instant, _d: Datagram<'_>) -> Result<(), String> {
        Err("the host's endpoint was taken out of the simulation".into())
    }
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    fn poll_transmit(&mut self, _now: Instant, _buf: &mut Vec<u8>) -> Option<Transmit> {
        None
    }
    fn collect_events(&mut self, _limit: usize) -> usize {
        0
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

impl<T> Driven for Slot<T>
where
    T: SansIo + 'static,
    T::Event: 'static,
    T::Error: fmt::Debug,
{
    fn handle_read(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), String> {
        self.core.handle_read(now, d).map_err(|e| format!("{e:?}"))
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.core.handle_timeout(now);
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.core.poll_timeout()
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        self.core.poll_transmit(now, buf)
    }

    fn collect_events(&mut self, limit: usize) -> usize {
        let mut n = 0;
        while n < limit {
            let Some(e) = self.core.poll_event() else {
                break;
            };
            self.events.push(e);
            n += 1;
        }
        n
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}
