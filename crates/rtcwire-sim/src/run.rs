//! The run loop: jump the virtual clock to the earliest timer or arrival, handle it, drain
//! every endpoint, check the stop condition.

use std::fmt;
use std::time::{Duration, Instant};

use crate::link::later;
use crate::sim::{HostId, Sim};

/// Steps allowed without the clock moving before the run is declared stalled (a core whose
/// `poll_timeout` stays in the past after `handle_timeout`, or endless ping-pong over
/// zero-delay links).
const MAX_STEPS_PER_INSTANT: u32 = 1_000_000;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The condition held.
    Done,
    /// The simulated time limit passed first; the clock is at the limit.
    Deadline,
    /// Nothing was left to happen (no datagram in flight, no timer armed) and the condition
    /// did not hold; the clock was left where the last thing happened.
    Idle,
    /// The clock stopped moving: too many steps at one instant.
    Stalled,
}

impl Outcome {
    /// Whether the condition held.
    #[must_use]
    pub fn is_done(self) -> bool {
        self == Outcome::Done
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Done => "condition met",
            Outcome::Deadline => "simulated deadline passed",
            Outcome::Idle => "network idle: nothing left to happen",
            Outcome::Stalled => "stalled: time stopped advancing",
        })
    }
}

/// What happens next.
enum Next {
    Arrival(Instant),
    Timers(Instant),
}

impl Sim {
    /// Runs until `done` holds (checked after every step, and once before the first), for at
    /// most `limit` of simulated time.
    ///
    /// Each step jumps the clock straight to the earliest of the next arrival and the
    /// endpoints' [`poll_timeout`](rtcwire_proto::SansIo::poll_timeout)s, handles it, and
    /// drains every endpoint's transmits and events. Nothing sleeps.
    #[must_use = "a run can end without its condition holding"]
    pub fn run_until(&mut self, mut done: impl FnMut(&Sim) -> bool, limit: Duration) -> Outcome {
        let deadline = later(self.now, limit);
        let mut steps_here = 0u32;
        loop {
            self.drain_all();
            if done(self) {
                return Outcome::Done;
            }
            let next = match (self.next_arrival(), self.next_timer()) {
                (None, None) => return Outcome::Idle,
                (Some(a), Some(t)) if t < a => Next::Timers(t),
                (Some(a), _) => Next::Arrival(a),
                (None, Some(t)) => Next::Timers(t),
            };
            let at = match next {
                Next::Arrival(at) | Next::Timers(at) => at,
            };
            if at > deadline {
                self.now = self.now.max(deadline);
                return Outcome::Deadline;
            }
            if at > self.now {
                self.now = at;
                steps_here = 0;
            } else {
                steps_here += 1;
                if steps_here > MAX_STEPS_PER_INSTANT {
                    return Outcome::Stalled;
                }
            }
            match next {
                Next::Arrival(_) => {
                    if let Some(s) = self.queue.pop() {
                        self.arrive(s);
                    }
                }
                Next::Timers(_) => self.fire_timers(),
            }
        }
    }

    /// Runs for `duration` of simulated time; the clock ends at `now + duration`. Returns
    /// [`Outcome::Done`], or [`Outcome::Stalled`] if time stopped advancing on the way.
    pub fn run_for(&mut self, duration: Duration) -> Outcome {
        let end = later(self.now, duration);
        let outcome = self.run_until(|_| false, duration);
        if outcome != Outcome::Stalled {
            self.now = self.now.max(end);
            return Outcome::Done;
        }
        outcome
    }

    fn drain_all(&mut self) {
        for i in 0..self.hosts.len() {
            self.drain_host(HostId(i));
        }
    }

    fn next_arrival(&self) -> Option<Instant> {
        self.queue.peek().map(|s| s.at)
    }

    fn next_timer(&self) -> Option<Instant> {
        self.hosts
            .iter()
            .filter_map(|h| h.endpoint.poll_timeout())
            .min()
    }

    /// Calls `handle_timeout` on every endpoint whose timer is due, in host order.
    fn fire_timers(&mut self) {
        let now = self.now;
        for i in 0..self.hosts.len() {
            let due = self
                .hosts
                .get(i)
                .and_then(|h| h.endpoint.poll_timeout())
                .is_some_and(|t| t <= now);
            if due {
                if let Some(h) = self.hosts.get_mut(i) {
                    h.endpoint.handle_timeout(now);
                    self.stats.timeouts += 1;
                }
                self.drain_host(HostId(i));
            }
        }
    }
}
