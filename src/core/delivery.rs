//! Delivery as a state machine, without I/O: events go in (spans waiting,
//! a timer fired, an answer, the page hidden, left, shown or frozen, the
//! network gone or back, a flush asked for), commands come out (encode a
//! batch, compress it, post it with or without `keepalive`, keep it in
//! storage, split it, forget it, wake me in N ms, warn once, a flush is
//! done).
//!
//! The driver (`crate::delivery`) owns the spans and the bodies and carries
//! the commands out; this owns every decision, so each case is a native
//! test. The rules:
//!
//! - **One batch under way at a time**, each encoded in a task of its own
//!   (a [`Cmd::Wake`] of 0 ms before every encoding), so a burst is never
//!   one long task, batches arrive in order, and an outage costs one
//!   failing request per retry.
//! - **Batching**: a batch goes when `batch_spans` spans wait, when the
//!   oldest has waited `delay_ms`, or at once during a flush.
//! - **Retries**: 429, 502, 503, 504 and no answer at all are retried with
//!   backoff ([`Backoff`]), never giving up while the spans are held;
//!   `Retry-After` is honoured. Other statuses lose the batch, counted and
//!   warned about once per cause.
//! - **413**: a batch is split in two and the halves sent one after the
//!   other, with the same backoff between attempts; a batch of one span is
//!   not split again but lost, counted, and warned about once.
//! - **Leaving**: when the page is hidden, what waits goes out in
//!   `keepalive` requests within the browser's 64 KiB budget, plain (the
//!   page cannot wait for compression), and the rest is kept in storage for
//!   the next page. When the last request got no answer at all, the
//!   Collector is unreachable, and everything is kept rather than bet on a
//!   `keepalive` request that is likely to fail.
//! - **After `pagehide`**: `keepalive` requests in flight are counted as
//!   unconfirmed at once (an unloading page never learns their fate, and a
//!   page in the back-forward cache may be evicted without running again),
//!   and uncounted if an answer comes after all; one that fails while the
//!   page lives on is kept in storage. A request that is not `keepalive`
//!   (the browser cancels those as the page goes) is kept in storage at
//!   once and its answer ignored; spans that end later are kept in storage
//!   on `freeze`, or sent when the page is shown again.
//! - **Claims**: a delivered request tells a page in view to take out
//!   what pages left in storage ([`Cmd::Claim`], at most every
//!   [`CLAIM_EVERY_MS`]), as it does when it starts.
//! - **Offline**: nothing is sent until the `online` event.
//! - **Held** (consent pending, [`super::consent`]): nothing is sent,
//!   kept in storage or claimed, not even as the page goes; spans wait,
//!   bounded as ever, until [`Machine::hold`] lets go.
//! - **Gzip**: bodies are gzipped where the browser can. Only HTTP answers
//!   decide that an endpoint refuses gzip (its CORS settings not allowing
//!   `Content-Encoding`): a gzipped request that gets no answer makes the
//!   next ones plain; once a plain one is answered an empty gzipped probe
//!   is sent; if two probes in a row get no answer while the plain requests
//!   before and after each do, the endpoint refuses gzip (warned once),
//!   else gzip comes back. An outage alone never turns gzip off, nor does a
//!   probe the browser cancels as the page goes.

use alloc::vec::Vec;

use super::export::{classify, Backoff, Outcome};
use super::otlp::Losses;

/// Least time between two [`Cmd::Claim`]s, ms.
pub const CLAIM_EVERY_MS: f64 = 2_000.0;

/// Bytes per body that may go as `keepalive`: under the browser's 64 KiB.
pub const KEEPALIVE_BODY: usize = 60_000;
/// The browser's budget for `keepalive` bodies in flight at once, per page.
pub const KEEPALIVE_QUOTA: usize = 65_536;
/// Plain bytes per body when bodies are gzipped: about a tenth of it goes
/// on the wire, well inside the `keepalive` budget, and a Collector's body
/// limit is never near.
pub const GZIP_BODY: usize = 500_000;

/// The id [`Cmd::Probe`]'s request is answered under.
pub const PROBE: u32 = u32::MAX;

/// Why spans were lost or something is worth a warning; each is warned
/// about once per page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The Collector answered with a status that is not retried.
    Refused(u16),
    /// A single span was larger than the Collector's body limit (413).
    TooLarge,
    /// The Collector accepted a request but rejected some of its spans
    /// (`partialSuccess`); the number rejected.
    Partial(u64),
    /// The endpoint does not take gzipped bodies; they go plain from now on.
    GzipRefused,
    /// More spans than the queue or storage hold.
    Overflow,
}

impl Cause {
    fn bit(self) -> u32 {
        match self {
            Cause::Refused(_) => 1,
            Cause::TooLarge => 2,
            Cause::Partial(_) => 4,
            Cause::GzipRefused => 8,
            Cause::Overflow => 16,
        }
    }
}

/// What the machine asks the driver to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    /// Encode the next batch from what waits (at most `spans` spans and
    /// about `bytes` plain bytes) and hand it to [`Machine::encoded`].
    Encode {
        /// Most spans.
        spans: usize,
        /// About the most plain bytes.
        bytes: usize,
    },
    /// The page is going: encode everything that waits in bodies of at
    /// most [`KEEPALIVE_BODY`] bytes, handing each to
    /// [`Machine::encoded`]; what neither the `keepalive` budget nor
    /// storage can take is lost (report it with [`Machine::lost`]).
    EncodeAll,
    /// Gzip batch `id`'s body, then call [`Machine::compressed`].
    Compress {
        /// The batch.
        id: u32,
    },
    /// POST batch `id`, its gzipped body if `gzip`, then call
    /// [`Machine::answered`].
    Post {
        /// The batch.
        id: u32,
        /// Send the gzipped body.
        gzip: bool,
        /// With `keepalive`.
        keepalive: bool,
    },
    /// POST an empty request, gzipped, and answer it under [`PROBE`].
    Probe,
    /// Take out what other pages kept in storage (the endpoint answers
    /// now) and hand it to this one.
    Claim,
    /// Keep batch `id`'s plain body in storage for a later page, then
    /// forget it; call [`Machine::lost`] for what storage cannot take.
    Store {
        /// The batch.
        id: u32,
    },
    /// Encode batch `id`'s spans again as two batches (first half first),
    /// handing each to [`Machine::encoded`], then forget it.
    Split {
        /// The batch.
        id: u32,
    },
    /// Batch `id` is done with (delivered, or lost and counted).
    Forget {
        /// The batch.
        id: u32,
    },
    /// Call [`Machine::tick`] in `ms`; replaces any earlier wake-up.
    Wake {
        /// Milliseconds from now.
        ms: u32,
    },
    /// Say this on the console (once per cause per page), with the spans
    /// it cost.
    Warn(Cause, u64),
    /// The flush with this token is done.
    Done(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Encoded, waiting its turn (a retry, a split half, a restored body).
    Ready,
    /// Being gzipped before its ordinary request.
    Compressing,
    /// Posted; `leave` marks the requests of a hide flush.
    InFlight { keepalive: bool, leave: bool },
}

#[derive(Clone, Copy, Debug)]
struct Batch {
    id: u32,
    spans: usize,
    bytes: usize,
    lost: Losses,
    splittable: bool,
    state: State,
    /// Counted as unconfirmed: in flight as the page unloaded.
    unsure: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gzip {
    /// The browser cannot compress.
    Off,
    Works,
    /// A gzipped request got no answer: plain until a plain one is answered.
    Suspect,
    /// The empty gzipped probe is under way; so many probes before it got
    /// no answer while the plain requests around them did.
    Probing(u8),
    /// The probe got no answer: the next plain answer decides (an outage
    /// that began with the probe fails it too).
    Doubt(u8),
    Refused,
}

/// The delivery state machine. Every method takes the time now (ms, the
/// page's clock) where it matters, and leaves its commands in
/// [`Machine::commands`].
///
/// ```
/// use waggle_rum::core::delivery::{Cmd, Machine};
/// let mut m = Machine::new(512, 1000, true, true);
/// m.waiting(0.0, 1);
/// assert_eq!(m.commands(), vec![Cmd::Wake { ms: 1000 }]);
/// m.tick(1000.0);
/// assert_eq!(m.commands(), vec![Cmd::Encode { spans: 512, bytes: 500_000 }]);
/// let id = m.new_id();
/// m.encoded(1000.0, id, 1, 700, Default::default(), false);
/// assert_eq!(m.commands(), vec![Cmd::Compress { id }]);
/// m.compressed(id, Some(300));
/// assert_eq!(m.commands(), vec![Cmd::Post { id, gzip: true, keepalive: true }]);
/// m.answered(1010.0, id, Some(200), None, 0);
/// // Delivered; and what other pages kept can go now.
/// assert_eq!(m.commands(), vec![Cmd::Forget { id }, Cmd::Claim]);
/// ```
#[derive(Debug)]
pub struct Machine {
    batch_spans: usize,
    delay_ms: f64,
    gzip: Gzip,
    waiting: usize,
    waiting_since: f64,
    batches: Vec<Batch>,
    next_id: u32,
    keepalive_bytes: usize,
    online: bool,
    held: bool,
    hidden: bool,
    leaving: bool,
    /// Left for good (`pagehide` not bound for the back-forward cache).
    gone: bool,
    unreachable: bool,
    backoff: Backoff,
    attempt: u32,
    retry_at: Option<f64>,
    wake_at: Option<f64>,
    in_tick: bool,
    flushes: Vec<u32>,
    probe: bool,
    /// When [`Cmd::Claim`] last went out.
    claimed_at: f64,
    /// The page was hidden while the probe was under way: the browser may
    /// have cancelled it, so its failure says nothing about gzip.
    probe_spoiled: bool,
    warned: u32,
    lost: Losses,
    /// Spans counted as unconfirmed whose request was answered after all.
    confirmed: u64,
    jitter: f64,
    out: Vec<Cmd>,
}

impl Machine {
    /// A machine sending batches of `batch_spans` spans after at most
    /// `delay_ms`, gzipping if `gzip_available`, starting `online` or not.
    pub fn new(batch_spans: usize, delay_ms: u32, gzip_available: bool, online: bool) -> Self {
        Machine {
            batch_spans: batch_spans.max(1),
            delay_ms: f64::from(delay_ms),
            gzip: if gzip_available { Gzip::Works } else { Gzip::Off },
            waiting: 0,
            waiting_since: 0.0,
            batches: Vec::new(),
            next_id: 0,
            keepalive_bytes: 0,
            online,
            held: false,
            hidden: false,
            leaving: false,
            gone: false,
            unreachable: false,
            backoff: Backoff::default(),
            attempt: 0,
            retry_at: None,
            wake_at: None,
            in_tick: false,
            flushes: Vec::new(),
            probe: false,
            claimed_at: f64::NEG_INFINITY,
            probe_spoiled: false,
            warned: 0,
            lost: Losses::default(),
            confirmed: 0,
            jitter: 0.5,
            out: Vec::new(),
        }
    }

    /// The commands decided since the last call, in order.
    pub fn commands(&mut self) -> Vec<Cmd> {
        core::mem::take(&mut self.out)
    }

    /// Takes the next command, if any.
    pub fn next_command(&mut self) -> Option<Cmd> {
        (!self.out.is_empty()).then(|| self.out.remove(0))
    }

    /// An id for a batch the driver is about to hand over.
    pub fn new_id(&mut self) -> u32 {
        self.next_id = self.next_id.wrapping_add(1) % PROBE;
        self.next_id
    }

    /// A random number in 0..1 for the next backoff's jitter.
    pub fn set_jitter(&mut self, unit: f64) {
        self.jitter = unit;
    }

    /// Spans lost since the last body took the counts, for that body's
    /// `waggle.dropped_spans` and `waggle.unconfirmed_spans`; the driver
    /// hands them back in [`Machine::encoded`].
    pub fn take_lost(&mut self) -> Losses {
        core::mem::take(&mut self.lost)
    }

    /// Counts a page before this one left for the next body to carry.
    pub fn carry(&mut self, lost: Losses) {
        self.lost.add(lost);
    }

    /// Spans a page before this one counted as unconfirmed and then saw
    /// answered.
    pub fn carry_confirmed(&mut self, n: u64) {
        self.lost.unconfirmed = self.lost.unconfirmed.saturating_sub(n);
    }

    /// Spans counted as unconfirmed since the last call that were answered
    /// after all: an unloading page keeps the figure for the next page.
    pub fn take_confirmed(&mut self) -> u64 {
        core::mem::take(&mut self.confirmed)
    }

    /// Whether the page was left (`pagehide`, `freeze`): what no body
    /// carries must be kept for the next page.
    pub fn is_leaving(&self) -> bool {
        self.leaving
    }

    /// Holds everything (true), from before anything was sent, until let
    /// go (false): nothing is sent or kept in storage meanwhile.
    ///
    /// ```
    /// use waggle_rum::core::delivery::{Cmd, Machine};
    /// let mut m = Machine::new(512, 1000, true, true);
    /// m.hold(0.0, true);
    /// m.waiting(0.0, 3);
    /// m.hide(true, false);
    /// assert_eq!(m.commands(), vec![]);
    /// m.show(5000.0);
    /// m.hold(5000.0, false);
    /// assert_eq!(m.commands(), vec![Cmd::Wake { ms: 0 }]);
    /// ```
    pub fn hold(&mut self, now: f64, held: bool) {
        self.held = held;
        self.pump(now);
    }

    /// Whether everything is held: nothing may be kept in storage.
    pub fn is_held(&self) -> bool {
        self.held
    }

    /// Whether the page is hidden (or gone): new batches are for leaving.
    pub fn is_hidden(&self) -> bool {
        self.hidden
    }

    /// Spans lost before they reached a batch (a full queue, storage that
    /// could not take them): counted for the next body, warned about once.
    pub fn lost(&mut self, n: u64, cause: Cause) {
        if n > 0 {
            self.lost.dropped += n;
            self.warn(cause, n);
        }
    }

    fn warn(&mut self, cause: Cause, n: u64) {
        if self.warned & cause.bit() == 0 {
            self.warned |= cause.bit();
            self.out.push(Cmd::Warn(cause, n));
        }
    }

    /// How many spans wait to be batched, counted by the driver (its own
    /// queue and the app's) after they changed.
    pub fn waiting(&mut self, now: f64, n: usize) {
        if self.waiting == 0 && n > 0 {
            self.waiting_since = now;
        }
        self.waiting = n;
        self.pump(now);
    }

    /// The wake-up asked for with [`Cmd::Wake`] is due.
    pub fn tick(&mut self, now: f64) {
        self.wake_at = None;
        self.in_tick = true;
        self.pump(now);
        self.in_tick = false;
    }

    /// The driver encoded batch `id` from waiting spans (for
    /// [`Cmd::Encode`] or [`Cmd::EncodeAll`]) or from a batch it split
    /// ([`Cmd::Split`]): `spans` spans, `bytes` plain bytes, carrying
    /// `lost`, the earlier losses.
    pub fn encoded(&mut self, now: f64, id: u32, spans: usize, bytes: usize, lost: Losses, split: bool) {
        if !split {
            self.waiting = self.waiting.saturating_sub(spans);
        }
        let b = Batch { id, spans, bytes, lost, splittable: true, state: State::Ready, unsure: false };
        if self.hidden {
            self.leave_send(b);
            return;
        }
        // Split halves and restored bodies queue up; a new batch goes now.
        let fresh = !self.batches.iter().any(|x| x.state == State::Ready);
        self.batches.push(b);
        if fresh && !self.ordinary_busy() && self.online && self.retry_at.is_none() {
            self.send(id);
        } else {
            self.pump(now);
        }
    }

    /// Batch `id` restored from storage, to be sent in turn.
    pub fn restored(&mut self, now: f64, id: u32, spans: usize, bytes: usize) {
        self.batches.push(Batch { id, spans, bytes, lost: Losses::default(), splittable: false, state: State::Ready, unsure: false });
        self.pump(now);
    }

    /// Compression of batch `id` ended with `len` gzipped bytes, or failed.
    pub fn compressed(&mut self, id: u32, len: Option<usize>) {
        let Some(i) = self.find(id) else { return };
        if self.batches[i].state != State::Compressing {
            // The hide flush took it meanwhile.
            return;
        }
        let (gzip, bytes) = match len {
            Some(n) => (true, n),
            None => (false, self.batches[i].bytes),
        };
        let keepalive = self.claim_keepalive(bytes);
        self.batches[i].state = State::InFlight { keepalive, leave: false };
        self.batches[i].bytes = bytes;
        self.out.push(Cmd::Post { id, gzip, keepalive });
    }

    /// The answer to batch `id` (or to [`PROBE`]): an HTTP status, or
    /// `None` when the request failed without one; `retry_after_ms` from
    /// `Retry-After`; `rejected`, the spans a `partialSuccess` rejected.
    pub fn answered(&mut self, now: f64, id: u32, status: Option<u16>, retry_after_ms: Option<f64>, rejected: u64) {
        self.unreachable = status.is_none();
        if id == PROBE {
            self.probe = false;
            self.gzip = match (self.gzip, status) {
                (Gzip::Probing(_), Some(_)) => Gzip::Works,
                // A page going away cancels its requests.
                (Gzip::Probing(_), None) if self.hidden || self.probe_spoiled => Gzip::Suspect,
                (Gzip::Probing(k), None) => Gzip::Doubt(k + 1),
                (g, _) => g,
            };
            self.pump(now);
            return;
        }
        let Some(i) = self.find(id) else { return };
        let State::InFlight { keepalive, leave } = self.batches[i].state else { return };
        let mut b = self.batches.remove(i);
        if keepalive {
            self.keepalive_bytes = self.keepalive_bytes.saturating_sub(b.bytes);
        }
        if b.unsure {
            if status.is_none() && self.gone {
                // As counted: the browser fails an unloading page's
                // requests though it sends `keepalive` ones on.
                self.out.push(Cmd::Forget { id });
                return;
            }
            // Answered after all: what follows is certain.
            self.confirmed += b.spans as u64;
            b.unsure = false;
        }
        self.gzip_answer(status);
        match classify(status) {
            Outcome::Done => {
                self.attempt = 0;
                self.out.push(Cmd::Forget { id });
                // The endpoint answers: what pages left in storage while
                // it did not goes now (from a page in view: one being left
                // would only keep it again). A page claims at its start too, but
                // may start before the page it follows has written (the
                // event that tells of a write can come before it is ready).
                if !self.hidden && now - self.claimed_at >= CLAIM_EVERY_MS {
                    self.claimed_at = now;
                    self.out.push(Cmd::Claim);
                }
                if rejected > 0 {
                    self.warn(Cause::Partial(rejected), rejected);
                }
            }
            Outcome::Retry if self.leaving || (leave && self.hidden) => {
                // The page lives on (this callback runs) but is going or
                // gone: keep the body for the next page.
                self.out.push(Cmd::Store { id });
            }
            Outcome::Retry => {
                self.attempt += 1;
                self.retry_at = Some(now + self.delay(retry_after_ms));
                b.state = State::Ready;
                self.batches.insert(0, b);
                self.done_flushes();
            }
            Outcome::Split => {
                // Splitting backs off like a retry, so a Collector that
                // answers 413 to everything sees a handful of requests,
                // not a storm.
                self.attempt += 1;
                self.retry_at = Some(now + self.delay(None));
                // Once per page, at the first 413, whether it splits or
                // drops.
                self.warn(Cause::TooLarge, b.spans as u64);
                if b.splittable && b.spans > 1 {
                    // The halves carry the counts this one did.
                    self.lost.add(b.lost);
                    self.out.push(Cmd::Split { id });
                } else {
                    self.give_up(b, Cause::TooLarge);
                }
            }
            Outcome::Drop => self.give_up(b, Cause::Refused(status.unwrap_or(0))),
        }
        self.pump(now);
    }

    fn give_up(&mut self, b: Batch, cause: Cause) {
        self.lost.add(b.lost);
        self.lost(b.spans.max(1) as u64, cause);
        self.out.push(Cmd::Forget { id: b.id });
    }

    fn delay(&self, retry_after_ms: Option<f64>) -> f64 {
        self.backoff.delay_ms(self.attempt.max(1), retry_after_ms, self.jitter).unwrap_or(self.backoff.max_ms)
    }

    fn gzip_answer(&mut self, status: Option<u16>) {
        // Which kind of request this was does not need remembering: in
        // Works every ordinary request is gzipped, in the other states
        // plain, and the probe is answered apart.
        self.gzip = match (self.gzip, status) {
            (Gzip::Works, None) => Gzip::Suspect,
            (Gzip::Suspect, Some(_)) => Gzip::Probing(0),
            // Two probes failed, each between plain requests answered: not
            // an outage's chance.
            (Gzip::Doubt(k), Some(_)) if k >= 2 => {
                self.warn(Cause::GzipRefused, 0);
                Gzip::Refused
            }
            (Gzip::Doubt(k), Some(_)) => Gzip::Probing(k),
            (Gzip::Doubt(_), None) => Gzip::Suspect,
            (g, _) => g,
        };
    }

    /// The page was hidden (`visibilitychange`), or left (`pagehide`,
    /// with `leaving`; `persisted` when bound for the back-forward cache):
    /// what waits goes now or is kept.
    pub fn hide(&mut self, leaving: bool, persisted: bool) {
        self.probe_spoiled |= self.probe;
        self.hidden = true;
        self.leaving |= leaving;
        self.gone |= leaving && !persisted;
        self.retry_at = None;
        let mut i = 0;
        while i < self.batches.len() {
            let b = self.batches[i];
            match b.state {
                State::Ready | State::Compressing => {
                    self.batches.remove(i);
                    self.leave_send(b);
                    continue;
                }
                State::InFlight { keepalive: false, .. } if self.leaving => {
                    // The browser cancels it as the page goes.
                    self.batches.remove(i);
                    self.out.push(Cmd::Store { id: b.id });
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        if self.waiting > 0 && !self.held {
            self.out.push(Cmd::EncodeAll);
        }
        self.mark_unsure();
        self.done_flushes();
    }

    /// A page being left rarely lives to see its requests answered (an
    /// unloading one never does; one in the back-forward cache may be
    /// evicted without running again): those in flight are counted as
    /// unconfirmed now, while the count can still be kept, and uncounted
    /// if an answer comes.
    fn mark_unsure(&mut self) {
        if !self.leaving {
            return;
        }
        for b in self.batches.iter_mut() {
            if matches!(b.state, State::InFlight { keepalive: true, .. }) && !b.unsure {
                b.unsure = true;
                self.lost.unconfirmed += b.spans as u64;
            }
        }
    }

    /// The page froze (it may be discarded without running again): what
    /// waits is kept in storage.
    pub fn freeze(&mut self) {
        self.unreachable = true;
        self.hide(true, true);
    }

    /// The page is shown again: visible, or restored from the
    /// back-forward cache (`persisted`), or the `pageshow` of a new page.
    pub fn show(&mut self, now: f64) {
        self.hidden = false;
        self.leaving = false;
        self.gone = false;
        self.pump(now);
    }

    /// `navigator.onLine` changed.
    pub fn set_online(&mut self, now: f64, online: bool) {
        self.online = online;
        if online {
            // What waited goes now, and a retry waiting out its backoff too.
            self.retry_at = None;
            self.attempt = 0;
        } else {
            self.done_flushes();
        }
        self.pump(now);
    }

    /// Send everything now; [`Cmd::Done`] with `token` once every span
    /// waiting has been tried (or nothing can be tried: offline, hidden).
    pub fn flush(&mut self, now: f64, token: u32) {
        self.flushes.push(token);
        self.retry_at = None;
        self.pump(now);
    }

    fn done_flushes(&mut self) {
        for t in core::mem::take(&mut self.flushes) {
            self.out.push(Cmd::Done(t));
        }
    }

    fn find(&self, id: u32) -> Option<usize> {
        self.batches.iter().position(|b| b.id == id)
    }

    fn ordinary_busy(&self) -> bool {
        self.probe || self.batches.iter().any(|b| matches!(b.state, State::Compressing | State::InFlight { leave: false, .. }))
    }

    fn claim_keepalive(&mut self, bytes: usize) -> bool {
        let ok = bytes <= KEEPALIVE_BODY && self.keepalive_bytes + bytes <= KEEPALIVE_QUOTA;
        if ok {
            self.keepalive_bytes += bytes;
        }
        ok
    }

    fn leave_send(&mut self, mut b: Batch) {
        if !self.unreachable && self.claim_keepalive(b.bytes) {
            b.state = State::InFlight { keepalive: true, leave: true };
            self.batches.push(b);
            self.out.push(Cmd::Post { id: b.id, gzip: false, keepalive: true });
            self.mark_unsure();
        } else {
            self.out.push(Cmd::Store { id: b.id });
        }
    }

    fn send(&mut self, id: u32) {
        let Some(i) = self.find(id) else { return };
        if self.gzip == Gzip::Works {
            self.batches[i].state = State::Compressing;
            self.out.push(Cmd::Compress { id });
        } else {
            let keepalive = self.claim_keepalive(self.batches[i].bytes);
            self.batches[i].state = State::InFlight { keepalive, leave: false };
            self.out.push(Cmd::Post { id, gzip: false, keepalive });
        }
    }

    fn wake(&mut self, now: f64, at: f64) {
        if self.wake_at.is_some_and(|w| w <= at) {
            return;
        }
        self.wake_at = Some(at);
        let ms = super::num::ceil((at - now).max(0.0));
        self.out.push(Cmd::Wake { ms: ms.min(f64::from(u32::MAX)) as u32 });
    }

    /// Decides what goes next.
    fn pump(&mut self, now: f64) {
        if self.held || !self.online || self.hidden {
            self.done_flushes();
            return;
        }
        if self.ordinary_busy() {
            return;
        }
        if let Some(at) = self.retry_at {
            if now < at {
                if self.waiting > 0 || !self.batches.is_empty() {
                    self.wake(now, at);
                }
                self.done_flushes();
                return;
            }
            self.retry_at = None;
        }
        if self.probe {
            return;
        }
        if matches!(self.gzip, Gzip::Probing(_)) {
            self.probe = true;
            self.probe_spoiled = false;
            self.out.push(Cmd::Probe);
            return;
        }
        if let Some(b) = self.batches.iter().find(|b| b.state == State::Ready).map(|b| b.id) {
            if self.in_tick || !self.flushes.is_empty() {
                self.send(b);
            } else {
                self.wake(now, now);
            }
            return;
        }
        if self.waiting == 0 {
            if self.batches.is_empty() {
                self.done_flushes();
            }
            return;
        }
        let due_at = if self.waiting >= self.batch_spans || !self.flushes.is_empty() { now } else { self.waiting_since + self.delay_ms };
        if now < due_at || !self.in_tick {
            // Encoding happens in a task of its own: one batch per task.
            self.wake(now, due_at.max(now));
            return;
        }
        let bytes = if self.gzip == Gzip::Works { GZIP_BODY } else { KEEPALIVE_BODY };
        self.out.push(Cmd::Encode { spans: self.batch_spans, bytes });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A driver stand-in: it encodes `per` spans per batch from `queue`,
    /// stores what it is told to, and records what went out.
    struct Sim {
        m: Machine,
        queue: usize,
        now: f64,
        posts: Vec<(u32, bool, bool)>,
        stored: Vec<u32>,
        forgotten: Vec<u32>,
        warned: Vec<Cause>,
        done: Vec<u32>,
        wake: Option<u32>,
        sizes: Vec<(u32, usize)>,
        probes: usize,
        claims: usize,
        bytes_per_span: usize,
        ratio: usize,
    }

    impl Sim {
        fn new(gzip: bool) -> Self {
            Sim {
                m: Machine::new(10, 1000, gzip, true),
                queue: 0,
                now: 0.0,
                posts: vec![],
                stored: vec![],
                forgotten: vec![],
                warned: vec![],
                done: vec![],
                wake: None,
                sizes: vec![],
                probes: 0,
                claims: 0,
                bytes_per_span: 100,
                ratio: 10,
            }
        }

        fn spans(&mut self, n: usize) {
            self.queue += n;
            self.m.waiting(self.now, self.queue);
            self.run();
        }

        fn make(&mut self, max_spans: usize, max_bytes: usize) {
            let n = self.queue.min(max_spans).min((max_bytes / self.bytes_per_span).max(1));
            self.queue -= n;
            let id = self.m.new_id();
            self.sizes.push((id, n));
            let lost = self.m.take_lost();
            self.m.encoded(self.now, id, n, n * self.bytes_per_span, lost, false);
        }

        fn run(&mut self) {
            while let Some(c) = self.m.next_command() {
                match c {
                    Cmd::Encode { spans, bytes } => self.make(spans, bytes),
                    Cmd::EncodeAll => {
                        while self.queue > 0 {
                            self.make(usize::MAX, KEEPALIVE_BODY);
                        }
                    }
                    Cmd::Compress { id } => {
                        let n = self.sizes.iter().find(|s| s.0 == id).unwrap().1;
                        self.m.compressed(id, Some(n * self.bytes_per_span / self.ratio));
                    }
                    Cmd::Post { id, gzip, keepalive } => self.posts.push((id, gzip, keepalive)),
                    Cmd::Probe => self.probes += 1,
                    Cmd::Claim => self.claims += 1,
                    Cmd::Store { id } => self.stored.push(id),
                    Cmd::Split { id } => {
                        let n = self.sizes.iter().find(|s| s.0 == id).unwrap().1;
                        for half in [n / 2, n - n / 2] {
                            let nid = self.m.new_id();
                            self.sizes.push((nid, half));
                            let lost = self.m.take_lost();
                            self.m.encoded(self.now, nid, half, half * self.bytes_per_span, lost, true);
                        }
                    }
                    Cmd::Forget { id } => self.forgotten.push(id),
                    Cmd::Wake { ms } => self.wake = Some(ms),
                    Cmd::Warn(c, _) => self.warned.push(c),
                    Cmd::Done(t) => self.done.push(t),
                }
            }
        }

        /// Advances time to the pending wake-up and ticks.
        fn advance(&mut self) {
            let ms = self.wake.take().expect("a wake-up is pending");
            self.now += f64::from(ms);
            self.m.tick(self.now);
            self.run();
        }

        fn answer(&mut self, status: Option<u16>) -> u32 {
            let (id, ..) = self.posts.last().copied().expect("a post");
            self.m.answered(self.now, id, status, None, 0);
            self.run();
            id
        }

        fn spans_of(&self, id: u32) -> usize {
            self.sizes.iter().find(|s| s.0 == id).unwrap().1
        }
    }

    #[test]
    fn a_lone_span_waits_for_the_delay_then_goes_gzipped_with_keepalive() {
        let mut s = Sim::new(true);
        s.spans(1);
        assert_eq!(s.wake, Some(1000));
        assert!(s.posts.is_empty());
        s.advance();
        assert_eq!(s.posts, vec![(1, true, true)]);
        s.answer(Some(200));
        assert_eq!(s.forgotten, vec![1]);
        assert!(s.wake.is_none());
    }

    #[test]
    fn held_sends_stores_and_claims_nothing_even_as_the_page_goes_then_sends_all_in_order() {
        let mut s = Sim::new(true);
        s.m.hold(s.now, true);
        s.spans(25);
        s.m.flush(s.now, 1);
        s.run();
        assert_eq!(s.done, vec![1], "a flush has nothing it may try");
        s.m.hide(false, false);
        s.m.hide(true, true);
        s.m.freeze();
        s.run();
        assert!(s.posts.is_empty() && s.stored.is_empty() && s.wake.is_none() && s.probes == 0 && s.claims == 0);
        assert_eq!(s.m.take_lost(), Losses::default(), "nothing counted as lost: it is all still held");
        // Shown again and let go: everything goes, in batches, in order.
        s.m.show(s.now);
        s.m.hold(s.now, false);
        s.run();
        for _ in 0..3 {
            s.advance();
            s.answer(Some(200));
        }
        assert_eq!(s.sizes.iter().map(|x| x.1).sum::<usize>(), 25);
        assert!(s.stored.is_empty());
        assert_eq!(s.claims, 1, "once the endpoint answers, what earlier pages kept may be claimed");
    }

    #[test]
    fn a_full_batch_goes_in_the_next_task_and_one_batch_per_task() {
        let mut s = Sim::new(true);
        s.spans(35);
        // Not encoded inside the call that queued the spans.
        assert!(s.posts.is_empty());
        assert_eq!(s.wake, Some(0));
        s.advance();
        assert_eq!(s.posts.len(), 1);
        // One under way at a time: nothing more until it is answered.
        assert!(s.wake.is_none());
        s.answer(Some(200));
        assert!(s.posts.len() == 1 && s.wake == Some(0));
        s.advance();
        s.answer(Some(200));
        s.advance();
        s.answer(Some(200));
        assert_eq!(s.posts.len(), 3);
        // The last 5 wait for the delay.
        assert_eq!(s.wake, Some(1000));
        s.advance();
        s.answer(Some(200));
        assert_eq!(s.sizes.iter().map(|x| x.1).collect::<Vec<_>>(), vec![10, 10, 10, 5]);
    }

    #[test]
    fn an_outage_is_retried_with_growing_backoff_and_never_given_up() {
        let mut s = Sim::new(false);
        s.spans(10);
        s.advance();
        let mut waits = vec![];
        for _ in 0..8 {
            s.answer(None);
            waits.push(s.wake.unwrap());
            s.advance();
        }
        assert_eq!(waits, vec![1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
        // The same batch each time.
        assert!(s.posts.iter().all(|p| p.0 == 1));
        s.answer(Some(200));
        assert_eq!(s.forgotten, vec![1]);
        assert!(s.warned.is_empty());
    }

    #[test]
    fn retry_after_is_honoured_and_online_skips_the_wait() {
        let mut s = Sim::new(false);
        s.spans(10);
        s.advance();
        let (id, ..) = s.posts[0];
        s.m.answered(s.now, id, Some(429), Some(7000.0), 0);
        s.run();
        assert_eq!(s.wake, Some(7000));
        s.m.set_online(s.now + 10.0, false);
        s.m.set_online(s.now + 20.0, true);
        s.run();
        // Back online: the retry goes at once, in a task of its own.
        assert_eq!(s.wake, Some(0));
        s.advance();
        assert_eq!(s.posts.len(), 2);
    }

    #[test]
    fn offline_sends_nothing_until_online() {
        let mut s = Sim::new(true);
        s.m.set_online(0.0, false);
        s.spans(25);
        assert!(s.wake.is_none() && s.posts.is_empty());
        s.m.set_online(5.0, true);
        s.run();
        s.advance();
        assert_eq!(s.posts.len(), 1);
    }

    #[test]
    fn refused_batches_are_lost_counted_and_warned_once() {
        let mut s = Sim::new(false);
        s.spans(20);
        s.advance();
        s.answer(Some(400));
        s.advance();
        s.answer(Some(401));
        assert_eq!(s.warned, vec![Cause::Refused(400)]);
        assert_eq!(s.m.take_lost().dropped, 20);
    }

    #[test]
    fn a_413_splits_with_backoff_and_a_single_span_is_not_split_again() {
        let mut s = Sim::new(false);
        s.spans(4);
        s.advance();
        // Every answer is 413: 4 -> 2+2 -> 1+1 each, every single one lost.
        let mut gaps = vec![];
        while let Some(ms) = {
            s.answer(Some(413));
            s.wake
        } {
            gaps.push(ms);
            s.advance();
        }
        let sent = s.posts.len();
        assert_eq!(sent, 7, "4, 2, 1, 1, 2, 1, 1");
        assert_eq!(s.warned, vec![Cause::TooLarge]);
        assert_eq!(s.m.take_lost().dropped, 4);
        // Backing off between the splits: the delays grow.
        assert!(gaps.windows(2).any(|w| w[1] > w[0]), "{gaps:?}");
        assert_eq!(gaps, vec![1000, 2000, 4000, 8000, 16000, 30000]);
    }

    #[test]
    fn hiding_sends_what_fits_keepalive_and_stores_the_rest() {
        let mut s = Sim::new(true);
        s.bytes_per_span = 1000;
        s.spans(150);
        // 150 spans of 1000 B: keepalive bodies of 60 spans; 65 536 B of
        // budget takes one.
        s.m.hide(false, false);
        s.run();
        assert_eq!(s.posts, vec![(1, false, true)]);
        assert_eq!(s.stored, vec![2, 3]);
        assert_eq!(s.spans_of(1) + s.spans_of(2) + s.spans_of(3), 150);
    }

    #[test]
    fn an_answered_request_claims_what_other_pages_kept_at_most_every_two_seconds() {
        let send = |m: &mut Machine, t: f64, status: Option<u16>| {
            let id = m.new_id();
            m.restored(t, id, 1, 100);
            m.flush(t, 1);
            assert!(m.commands().contains(&Cmd::Post { id, gzip: false, keepalive: true }));
            m.answered(t, id, status, None, 0);
            m.commands().iter().filter(|c| **c == Cmd::Claim).count()
        };
        let mut m = Machine::new(512, 1000, false, true);
        assert_eq!(send(&mut m, 0.0, Some(200)), 1);
        assert_eq!(send(&mut m, 500.0, Some(200)), 0, "too soon");
        assert_eq!(send(&mut m, 2_100.0, Some(200)), 1);
        // Not on a failure, nor on a 503.
        let mut m = Machine::new(512, 1000, false, true);
        assert_eq!(send(&mut m, 0.0, None), 0);
        let mut m = Machine::new(512, 1000, false, true);
        assert_eq!(send(&mut m, 0.0, Some(503)), 0);
    }

    #[test]
    fn leaving_while_unreachable_stores_everything() {
        let mut s = Sim::new(false);
        s.spans(10);
        s.advance();
        s.answer(None);
        s.spans(5);
        s.m.hide(true, false);
        s.run();
        // The batch waiting out its backoff and the new spans: both kept.
        assert_eq!(s.posts.len(), 1);
        assert_eq!(s.stored.len(), 2);
    }

    #[test]
    fn a_keepalive_that_fails_after_pagehide_is_stored_when_the_page_lives_on() {
        let mut s = Sim::new(true);
        s.spans(3);
        s.m.hide(true, true);
        s.run();
        let (id, gzip, keepalive) = s.posts[0];
        assert!(!gzip && keepalive);
        // Bound for the back-forward cache, the callback runs.
        s.m.answered(s.now, id, None, None, 0);
        s.run();
        assert_eq!(s.stored, vec![id]);
    }

    #[test]
    fn an_unloading_page_counts_keepalive_failures_as_unconfirmed_but_keeps_refused_bodies() {
        let mut s = Sim::new(true);
        s.bytes_per_span = 1000;
        s.spans(30);
        s.m.hide(true, false);
        s.run();
        assert_eq!(s.posts.len(), 1);
        let first = s.posts[0].0;
        let sent = s.spans_of(first);
        // Counted at once: the page rarely lives to see an answer.
        let lost = s.m.take_lost();
        assert_eq!((lost.dropped, lost.unconfirmed), (0, sent as u64));
        // The page unloads: the browser fails the promise though the
        // request goes on. Storing it would send it twice.
        s.m.answered(s.now, first, None, None, 0);
        s.run();
        assert!(!s.stored.contains(&first));
        assert_eq!(s.forgotten, vec![first]);
        assert_eq!(s.m.take_lost(), Losses::default());
        assert_eq!(s.m.take_confirmed(), 0);
        // An HTTP answer is certain: a 503 is kept for the next page.
        let mut s = Sim::new(true);
        s.spans(3);
        s.m.hide(true, false);
        s.run();
        let id = s.posts[0].0;
        s.m.answered(s.now, id, Some(503), None, 0);
        s.run();
        assert_eq!(s.stored, vec![id]);
        assert_eq!(s.m.take_confirmed(), 3, "uncounted: it is kept");
    }

    #[test]
    fn a_batch_being_compressed_when_the_page_goes_is_sent_plain_and_its_compression_ignored() {
        let mut s = Sim::new(true);
        s.spans(10);
        s.wake.take();
        s.now = 1.0;
        s.m.tick(1.0);
        // Take the encode and the compress request, but hold compression.
        let Cmd::Encode { .. } = s.m.next_command().unwrap() else { panic!() };
        let id = s.m.new_id();
        s.queue = 0;
        s.m.encoded(s.now, id, 10, 1000, Losses::default(), false);
        assert_eq!(s.m.next_command(), Some(Cmd::Compress { id }));
        s.m.hide(true, false);
        assert_eq!(s.m.next_command(), Some(Cmd::Post { id, gzip: false, keepalive: true }));
        s.m.compressed(id, Some(100));
        assert_eq!(s.m.next_command(), None);
    }

    #[test]
    fn a_request_that_is_not_keepalive_is_stored_when_the_page_goes() {
        let mut s = Sim::new(true);
        s.ratio = 1;
        s.bytes_per_span = 6000;
        s.spans(10);
        s.advance();
        // 60 000 B of body: keepalive.
        assert_eq!(s.posts[0].2, true);
        s.answer(Some(200));
        s.bytes_per_span = 7000;
        s.spans(10);
        s.advance();
        assert_eq!(s.posts[1].2, false);
        s.m.hide(true, false);
        s.run();
        assert_eq!(s.stored, vec![s.posts[1].0]);
        // Its answer, if the page ever sees one, is ignored.
        s.answer(None);
        assert_eq!(s.stored.len(), 1);
    }

    #[test]
    fn spans_ending_after_pagehide_wait_for_pageshow_or_are_stored_on_freeze() {
        let mut s = Sim::new(true);
        s.m.hide(true, false);
        s.spans(2);
        assert!(s.posts.is_empty() && s.stored.is_empty());
        s.m.show(s.now);
        s.run();
        s.advance();
        assert_eq!(s.posts.len(), 1);
        s.answer(Some(200));
        s.m.hide(true, false);
        s.spans(3);
        s.m.freeze();
        s.run();
        assert_eq!(s.stored.len(), 1);
    }

    #[test]
    fn a_keepalive_in_flight_as_the_page_enters_the_back_forward_cache_is_counted_then_uncounted_if_answered() {
        let mut s = Sim::new(true);
        s.spans(3);
        s.advance();
        let (id, _, keepalive) = s.posts[0];
        assert!(keepalive);
        // The page may be evicted from the cache without running again:
        // the request is counted as unconfirmed while that can be kept.
        s.m.hide(true, true);
        s.run();
        assert_eq!(s.m.take_lost().unconfirmed, 3);
        // Restored, it sees the answer after all.
        s.m.show(s.now);
        s.m.answered(s.now, id, Some(200), None, 0);
        s.run();
        assert_eq!(s.m.take_confirmed(), 3);
        // Or sees it fail: kept for a retry, and uncounted too.
        let mut s = Sim::new(true);
        s.spans(3);
        s.advance();
        let id = s.posts[0].0;
        s.m.hide(true, true);
        s.run();
        s.m.show(s.now);
        s.m.answered(s.now, id, None, None, 0);
        s.run();
        assert_eq!(s.m.take_confirmed(), 3);
        assert!(s.forgotten.is_empty(), "not given up");
    }

    #[test]
    fn a_probe_cancelled_by_the_page_going_says_nothing_about_gzip() {
        let mut s = Sim::new(true);
        s.spans(10);
        s.advance();
        s.answer(None);
        s.advance();
        s.answer(Some(200));
        assert_eq!(s.probes, 1);
        // The page is hidden while the probe is under way, and shown again.
        s.m.hide(false, false);
        s.m.show(s.now);
        s.m.answered(s.now, PROBE, None, None, 0);
        s.run();
        for _ in 0..3 {
            s.spans(10);
            s.advance();
            s.answer(Some(200));
            if s.probes > 1 {
                s.m.answered(s.now, PROBE, Some(200), None, 0);
                s.run();
            }
        }
        assert!(s.warned.is_empty(), "{:?}", s.warned);
    }

    #[test]
    fn an_outage_never_turns_gzip_off() {
        let mut s = Sim::new(true);
        s.spans(10);
        s.advance();
        assert!(s.posts[0].1);
        // Down: gzipped fails, then plain fails too.
        s.answer(None);
        s.advance();
        assert!(!s.posts[1].1);
        s.answer(None);
        s.advance();
        // Back: the plain retry is answered, a probe goes, and is answered.
        s.answer(Some(200));
        assert_eq!(s.probes, 1);
        s.m.answered(s.now, PROBE, Some(200), None, 0);
        s.run();
        s.spans(10);
        s.advance();
        assert!(s.posts.last().unwrap().1, "gzip again");
        assert!(s.warned.is_empty());
    }

    #[test]
    fn an_endpoint_that_refuses_gzip_is_found_from_http_answers_and_warned_once() {
        let mut s = Sim::new(true);
        s.spans(10);
        s.advance();
        s.answer(None);
        s.advance();
        s.answer(Some(200));
        assert_eq!(s.probes, 1);
        s.m.answered(s.now, PROBE, None, None, 0);
        s.run();
        s.spans(10);
        s.advance();
        assert!(!s.posts.last().unwrap().1);
        // One failed probe between answered requests could be an outage's
        // chance: a second probe goes.
        s.answer(Some(200));
        assert!(s.warned.is_empty());
        assert_eq!(s.probes, 2);
        s.m.answered(s.now, PROBE, None, None, 0);
        s.run();
        s.spans(10);
        s.advance();
        s.answer(Some(200));
        assert_eq!(s.warned, vec![Cause::GzipRefused]);
        s.spans(10);
        s.advance();
        assert!(!s.posts.last().unwrap().1, "plain from now on");
    }

    #[test]
    fn flush_sends_at_once_and_is_done_when_all_were_tried() {
        let mut s = Sim::new(false);
        s.spans(25);
        s.m.flush(s.now, 7);
        s.run();
        assert!(s.done.is_empty());
        s.advance();
        s.answer(Some(200));
        s.advance();
        s.answer(Some(200));
        s.advance();
        s.answer(Some(200));
        assert_eq!(s.done, vec![7]);
        // A flush with nothing to do is done at once.
        s.m.flush(s.now, 8);
        s.run();
        assert_eq!(s.done, vec![7, 8]);
        // During an outage a flush is done once the attempt failed.
        s.spans(1);
        s.m.flush(s.now, 9);
        s.run();
        s.advance();
        s.answer(None);
        assert_eq!(s.done, vec![7, 8, 9]);
    }

    #[test]
    fn partial_success_is_warned_once_and_not_retried() {
        let mut s = Sim::new(false);
        s.spans(10);
        s.advance();
        let id = s.posts[0].0;
        s.m.answered(s.now, id, Some(200), None, 3);
        s.run();
        assert_eq!(s.warned, vec![Cause::Partial(3)]);
        assert_eq!(s.forgotten, vec![id]);
    }

    #[test]
    fn losses_ride_on_the_next_body_and_come_back_if_it_is_refused() {
        let mut s = Sim::new(false);
        s.m.lost(5, Cause::Overflow);
        s.spans(10);
        s.advance();
        assert_eq!(s.m.take_lost().dropped, 0, "the count went into the body");
        s.answer(Some(400));
        assert_eq!(s.m.take_lost().dropped, 15);
        assert_eq!(s.warned, vec![Cause::Overflow, Cause::Refused(400)]);
    }

    #[test]
    fn restored_bodies_are_sent_one_at_a_time() {
        let mut s = Sim::new(true);
        s.sizes.push((100, 3));
        s.sizes.push((101, 3));
        s.m.restored(0.0, 100, 3, 300);
        s.m.restored(0.0, 101, 3, 300);
        s.run();
        s.advance();
        assert_eq!(s.posts, vec![(100, true, true)]);
        s.answer(Some(200));
        s.advance();
        assert_eq!(s.posts.len(), 2);
    }
}
