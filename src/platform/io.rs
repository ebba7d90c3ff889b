//! What every layer above writes its commands to, and reads the time and
//! randomness from.

use crate::core::clock::Clock;
use crate::core::ids::{Ids, SpanId, TraceId};

use super::protocol::cmd;
use super::wire::Writer;

/// The ids of the timers the module asks for: one per part that waits.
pub mod timer {
    /// Delivery's wake-ups.
    pub const DELIVERY: u32 = 1;
    /// The poll while interactions or route changes are open.
    pub const SETTLE: u32 = 2;
    /// Error bursts ending.
    pub const ERRORS: u32 = 3;
    /// Requests waiting for their Resource Timing entry.
    pub const TIMINGS: u32 = 4;
    /// A held route change letting go.
    pub const HOLD: u32 = 5;
}

/// The command buffer, the clock and the random pool.
///
/// ```
/// use waggle_rum::platform::Io;
/// let mut io = Io::new(|b| b.fill(7));
/// io.now = 12.5;
/// io.warn("careful");
/// assert!(!io.out.bytes().is_empty());
/// assert!(io.span_id().is_valid());
/// ```
pub struct Io {
    /// Commands written during this run.
    pub out: Writer,
    /// `performance.now()` when this run began, ms.
    pub now: f64,
    /// The page's clock.
    pub clock: Clock,
    ids: Ids,
    fill: fn(&mut [u8]),
}

impl Io {
    /// An `Io` drawing randomness from `fill`.
    pub fn new(fill: fn(&mut [u8])) -> Self {
        Io { out: Writer::default(), now: 0.0, clock: Clock::new(0.0), ids: Ids::new(), fill }
    }

    /// Epoch nanoseconds of a time on the page's clock.
    pub fn ns(&self, rel_ms: f64) -> u64 {
        self.clock.epoch_ns(rel_ms)
    }

    /// Epoch nanoseconds now.
    pub fn now_ns(&self) -> u64 {
        self.clock.epoch_ns(self.now)
    }

    /// A new trace id.
    pub fn trace_id(&mut self) -> TraceId {
        let mut f = self.fill;
        self.ids.trace_id(&mut f)
    }

    /// A new span id.
    pub fn span_id(&mut self) -> SpanId {
        let mut f = self.fill;
        self.ids.span_id(&mut f)
    }

    /// 16 random bytes (session ids).
    pub fn bytes16(&mut self) -> [u8; 16] {
        let mut f = self.fill;
        self.ids.bytes(&mut f)
    }

    /// A random number in 0..1.
    pub fn unit(&mut self) -> f64 {
        let mut f = self.fill;
        self.ids.unit(&mut f)
    }

    /// Starts a command of `kind` with `fields` more fields to write.
    pub fn cmd(&mut self, kind: u32, fields: usize) -> &mut Writer {
        self.out.arr(fields + 1);
        self.out.uint(kind);
        &mut self.out
    }

    /// A console message at `level` (0 debug, 1 info, 2 warn, 3 error,
    /// 4 a group: its first line the heading, each other line an entry).
    pub fn log(&mut self, level: u32, text: &str) {
        let w = self.cmd(cmd::LOG, 2);
        w.uint(level);
        w.str(text);
    }

    /// A console warning.
    pub fn warn(&mut self, text: &str) {
        self.log(2, text);
    }

    /// Asks for a `TIMER` observation with `id` in `ms` (replacing an
    /// earlier one of the same id); a negative `ms` cancels it.
    pub fn timer(&mut self, id: u32, ms: f64) {
        let w = self.cmd(cmd::TIMER, 2);
        w.uint(id);
        w.num(ms);
    }

    /// Asks for a `TIMER` observation with `id` at `at` on the page's
    /// clock.
    pub fn timer_at(&mut self, id: u32, at: f64) {
        let ms = crate::core::num::ceil((at - self.now).max(0.0));
        self.timer(id, ms);
    }
}
