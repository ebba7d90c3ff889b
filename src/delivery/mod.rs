//! Carries out [`Machine`]'s decisions: holds the agent's finished spans
//! and the batches under way, encodes bodies, asks the page for the app's
//! spans when a batch needs them, and writes the commands that post,
//! gzip, store and wait.
//!
//! The app's spans wait on the JS side until a batch needs them, so a
//! burst of any size never grows the module's memory beyond one batch.

use alloc::string::String;
use alloc::vec::Vec;

use crate::core::context::Contexts;
use crate::core::debug::export_text;
use crate::core::delivery::{Cause, Cmd, Machine, KEEPALIVE_BODY, KEEPALIVE_QUOTA, PROBE};
use crate::core::export::{partial_success, retry_after_seconds};
use crate::core::num::u64_str;
use crate::core::otlp::{encode, Losses};
use crate::core::span::{Attrs, Span};
use crate::core::spill;
use crate::platform::io::timer;
use crate::platform::protocol::cmd;
use crate::platform::Io;

/// What a batch waits for when the app's spans had to be asked for.
#[derive(Clone, Copy, Debug)]
enum Pending {
    One { spans: usize, bytes: usize },
    All,
}

struct Held {
    id: u32,
    spans: Vec<Span>,
    body: Vec<u8>,
}

/// The delivery part: its queue, its batches, its machine.
pub struct Delivery {
    machine: Machine,
    url: String,
    /// The resource attributes every body carries.
    pub resource: Attrs,
    /// The session, page, user and global attribute sets spans share.
    pub contexts: Contexts,
    queue: Vec<Span>,
    max_queue: usize,
    app_waiting: usize,
    pulled: Vec<Span>,
    pending: Option<Pending>,
    held: Vec<Held>,
    /// What is to be kept in storage and not written yet: each write is a
    /// key of its own, taken out whole by a later page.
    stored: String,
    /// Characters this page has written to storage, for the bound.
    written: usize,
    partial_message: String,
    /// `debug`: each export's spans and answer are logged, with links to
    /// their traces when this template (`debug.traceUrl`) is not empty.
    pub debug: Option<String>,
    /// Bytes per span in the bodies encoded so far, for planning.
    span_bytes: usize,
}

fn spans_word(n: u64) -> String {
    let mut s = u64_str(n);
    s.push_str(if n == 1 { " span" } else { " spans" });
    s
}

impl Delivery {
    /// A delivery to `url` (the absolute `/v1/traces` URL) with `resource`
    /// attributes on every body.
    pub fn new(url: String, resource: Attrs, batch: usize, delay_ms: u32, max_queue: usize, gzip: bool, online: bool, debug: Option<String>) -> Self {
        Delivery {
            machine: Machine::new(batch, delay_ms, gzip, online),
            url,
            resource,
            contexts: Contexts::default(),
            queue: Vec::new(),
            max_queue: max_queue.max(1),
            app_waiting: 0,
            pulled: Vec::new(),
            pending: None,
            held: Vec::new(),
            stored: String::new(),
            written: 0,
            partial_message: String::new(),
            debug,
            span_bytes: 300,
        }
    }

    /// The URL spans are posted to: never traced.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn waiting(&mut self, io: &mut Io) {
        let n = self.queue.len() + self.pulled.len() + self.app_waiting;
        self.machine.waiting(io.now, n);
        self.run(io);
    }

    /// A finished span of the agent's own (sampled, ended).
    pub fn push(&mut self, io: &mut Io, span: Span) {
        if self.queue.len() >= self.max_queue {
            self.queue.remove(0);
            self.machine.lost(1, Cause::Overflow);
        }
        self.queue.push(span);
        self.waiting(io);
    }

    /// The page says `n` of the app's spans wait on its side, and it
    /// dropped `dropped` for its bound.
    pub fn app_waiting(&mut self, io: &mut Io, n: usize, dropped: u64) {
        self.app_waiting = n;
        self.machine.lost(dropped, Cause::Overflow);
        self.waiting(io);
    }

    /// The app's spans the module asked for, now spans; `waiting` still on
    /// the JS side.
    pub fn pulled(&mut self, io: &mut Io, spans: Vec<Span>, waiting: usize) {
        self.pulled.extend(spans);
        self.app_waiting = waiting;
        let n = self.queue.len() + self.pulled.len() + self.app_waiting;
        self.machine.waiting(io.now, n);
        if let Some(p) = self.pending.take() {
            match p {
                Pending::One { spans, bytes } => self.encode_one(io, spans, bytes),
                Pending::All => self.encode_all(io),
            }
        }
        self.run(io);
    }

    /// The delivery timer fired.
    pub fn tick(&mut self, io: &mut Io) {
        self.machine.set_jitter(io.unit());
        self.machine.tick(io.now);
        self.run(io);
    }

    /// The answer to request `id`: its status (none when it failed),
    /// `Retry-After` as given and as a delay from an HTTP date, and the
    /// body of a 2xx answer.
    pub fn answered(&mut self, io: &mut Io, id: u32, status: Option<u16>, retry_after: &str, date_delay_ms: Option<f64>, body: &str) {
        let retry = retry_after_seconds(retry_after).or(date_delay_ms.filter(|d| *d >= 0.0));
        let rejected = match status {
            Some(200..=299) => match partial_success(body) {
                Some((n, message)) => {
                    self.partial_message = message;
                    n
                }
                None => 0,
            },
            _ => 0,
        };
        if self.debug.is_some() && id != PROBE {
            let spans = self.held.iter().find(|h| h.id == id).map_or(0, |h| h.spans.len().max(1));
            let mut t = String::from("export of ");
            t.push_str(&spans_word(spans as u64));
            match status {
                Some(s) => {
                    t.push_str(" answered ");
                    t.push_str(&u64_str(u64::from(s)));
                }
                None => t.push_str(" failed"),
            }
            io.log(1, &t);
        }
        self.machine.set_jitter(io.unit());
        self.machine.answered(io.now, id, status, retry, rejected);
        self.run(io);
    }

    /// Gzipping request `id`'s body ended (`None`: it failed).
    pub fn compressed(&mut self, io: &mut Io, id: u32, len: Option<usize>) {
        if id == PROBE {
            match len {
                Some(_) => {
                    // With keepalive, as the batches it judges go: a page
                    // that goes on to another cancels what is not, and
                    // that would read as gzip refused.
                    let w = io.cmd(cmd::POST, 4);
                    w.uint(PROBE);
                    w.null();
                    w.bool(true);
                    w.bool(true);
                }
                None => self.machine.answered(io.now, PROBE, None, None, 0),
            }
        } else {
            self.machine.compressed(id, len);
        }
        self.run(io);
    }

    /// The page was hidden (or left, `leaving`, for the back-forward cache
    /// if `persisted`).
    pub fn hide(&mut self, io: &mut Io, leaving: bool, persisted: bool) {
        self.machine.hide(leaving, persisted);
        self.run(io);
    }

    /// The page froze.
    pub fn freeze(&mut self, io: &mut Io) {
        self.machine.freeze();
        self.run(io);
    }

    /// The page is shown (also a new page starting).
    pub fn show(&mut self, io: &mut Io) {
        self.machine.show(io.now);
        self.run(io);
    }

    /// Bodies and counts other pages kept, as this page took them out of
    /// storage: those for this endpoint go out, the rest is kept in this
    /// page's own storage.
    pub fn restore(&mut self, io: &mut Io, kept: &str) {
        let (mine, rest) = spill::take(kept, &self.url);
        if let Some(rest) = rest {
            // For other endpoints: kept as they were.
            for k in spill::parse(&rest) {
                spill::append(&mut self.stored, k.url, k.spans, k.body);
            }
        }
        // Counts are summed first: a page may write that it saw answered
        // what it counted as unconfirmed in an earlier write.
        let (mut lost, mut confirmed) = (Losses::default(), 0);
        for (body, spans) in mine {
            let n = spans as u64;
            match body.as_str() {
                spill::DROPPED => lost.dropped += n,
                spill::UNCONFIRMED => lost.unconfirmed += n,
                spill::CONFIRMED => confirmed += n,
                _ => {
                    let id = self.machine.new_id();
                    let bytes = body.len();
                    self.held.push(Held { id, spans: Vec::new(), body: body.into_bytes() });
                    self.machine.restored(io.now, id, spans, bytes);
                }
            }
        }
        self.machine.carry(lost);
        self.machine.carry_confirmed(confirmed);
        self.run(io);
    }

    /// `navigator.onLine` changed.
    pub fn online(&mut self, io: &mut Io, online: bool) {
        self.machine.set_online(io.now, online);
        self.run(io);
    }

    /// Holds everything (consent pending) or lets it go.
    pub fn hold(&mut self, io: &mut Io, held: bool) {
        self.machine.hold(io.now, held);
        self.run(io);
    }

    /// Send everything; `DONE` with `token` when tried.
    pub fn flush(&mut self, io: &mut Io, token: u32) {
        self.machine.flush(io.now, token);
        self.run(io);
    }

    /// Spans lost before they reached the queue.
    pub fn lost(&mut self, io: &mut Io, n: u64) {
        self.machine.lost(n, Cause::Overflow);
        self.run(io);
    }

    fn take_batch(&mut self, max_spans: usize, max_bytes: usize) -> Vec<Span> {
        let mut spans = Vec::new();
        let mut bytes = 0;
        for from_queue in [true, false] {
            let src = if from_queue { &mut self.queue } else { &mut self.pulled };
            let mut n = 0;
            for s in src.iter() {
                let size = s.size();
                if spans.len() + n >= max_spans || (spans.len() + n > 0 && bytes + size > max_bytes) {
                    break;
                }
                bytes += size;
                n += 1;
            }
            spans.extend(src.drain(..n));
        }
        spans
    }

    /// Encodes the first of `spans` as one body of at most `max_bytes`
    /// (a single span may exceed it): the body, the spans in it, and those
    /// that did not fit.
    fn encode_fit(&self, mut spans: Vec<Span>, max_bytes: usize, lost: Losses) -> (Vec<u8>, Vec<Span>, Vec<Span>) {
        let mut rest = Vec::new();
        loop {
            let mut body = Vec::with_capacity(256 + spans.len() * 300);
            encode(&mut body, &self.resource, &self.contexts, &spans, lost);
            if body.len() <= max_bytes || spans.len() <= 1 {
                return (body, spans, rest);
            }
            let keep = (spans.len() * max_bytes / body.len()).clamp(1, spans.len() - 1);
            let mut more = spans.split_off(keep);
            more.append(&mut rest);
            rest = more;
        }
    }

    fn encode_one(&mut self, io: &mut Io, max_spans: usize, max_bytes: usize) {
        let spans = self.take_batch(max_spans, max_bytes);
        if spans.is_empty() {
            self.waiting(io);
            return;
        }
        self.make(io, spans, max_bytes, false);
    }

    /// Encodes `spans` into held batches of at most `max_bytes` each,
    /// handing each to the machine.
    fn make(&mut self, io: &mut Io, mut spans: Vec<Span>, max_bytes: usize, split: bool) {
        if let (Some(links), false) = (&self.debug, split) {
            io.log(4, &export_text(&spans, links));
        }
        while !spans.is_empty() {
            let lost = self.machine.take_lost();
            let (body, taken, rest) = self.encode_fit(spans, max_bytes, lost);
            spans = rest;
            let id = self.machine.new_id();
            let n = taken.len();
            let bytes = body.len();
            if n > 0 {
                self.span_bytes = (self.span_bytes * 3 + bytes / n) / 4;
            }
            self.held.push(Held { id, spans: taken, body });
            self.machine.encoded(io.now, id, n, bytes, lost, split);
        }
    }

    fn encode_all(&mut self, io: &mut Io) {
        let mut spans = core::mem::take(&mut self.queue);
        spans.append(&mut self.pulled);
        let fit = self.leave_fit();
        if spans.len() > fit {
            self.machine.lost((spans.len() - fit) as u64, Cause::Overflow);
            spans.truncate(fit);
        }
        self.make(io, spans, KEEPALIVE_BODY, false);
    }

    /// How many spans a page being hidden or left can still send or keep:
    /// the keepalive budget and the room storage has for one hide, at the
    /// size spans have had so far.
    fn leave_fit(&self) -> usize {
        let room = spill::MAX_CHARS.saturating_sub(self.written + self.stored.len()).min(spill::HIDE_CHARS);
        (KEEPALIVE_QUOTA + room) / self.span_bytes.max(150)
    }

    /// Carries out the machine's commands until it has none, or waits for
    /// the app's spans.
    fn run(&mut self, io: &mut Io) {
        while self.pending.is_none() {
            let Some(c) = self.machine.next_command() else { break };
            match c {
                Cmd::Encode { spans, bytes } => {
                    let have = self.queue.len() + self.pulled.len();
                    if have < spans && self.app_waiting > 0 {
                        // The page's count is exact only when it last told
                        // it: ask for what the batch can take.
                        self.pending = Some(Pending::One { spans, bytes });
                        let w = io.cmd(cmd::PULL, 2);
                        w.uint((spans - have) as u32);
                        w.bool(false);
                    } else {
                        self.encode_one(io, spans, bytes);
                    }
                }
                Cmd::EncodeAll => {
                    if self.app_waiting > 0 {
                        // Only what a leaving page can still send or keep is
                        // asked for; the rest is dropped now, and counted in
                        // what is kept.
                        let fit = self.leave_fit().saturating_sub(self.queue.len() + self.pulled.len());
                        self.pending = Some(Pending::All);
                        let w = io.cmd(cmd::PULL, 2);
                        w.uint(fit as u32);
                        w.bool(true);
                    } else {
                        self.encode_all(io);
                    }
                }
                Cmd::Compress { id } => {
                    let Some(h) = self.held.iter().find(|h| h.id == id) else { continue };
                    let w = io.cmd(cmd::COMPRESS, 2);
                    w.uint(id);
                    w.bytes_at(&h.body);
                }
                Cmd::Post { id, gzip, keepalive } => {
                    let Some(h) = self.held.iter().find(|h| h.id == id) else { continue };
                    let w = io.cmd(cmd::POST, 4);
                    w.uint(id);
                    if gzip {
                        w.null();
                    } else {
                        w.bytes_at(&h.body);
                    }
                    w.bool(gzip);
                    w.bool(keepalive);
                }
                Cmd::Probe => {
                    let w = io.cmd(cmd::COMPRESS, 2);
                    w.uint(PROBE);
                    w.str("{\"resourceSpans\":[]}");
                }
                Cmd::Store { id } => {
                    if let Some(i) = self.held.iter().position(|h| h.id == id) {
                        let h = self.held.swap_remove(i);
                        let body = core::str::from_utf8(&h.body).unwrap_or("");
                        let n = h.spans.len();
                        if !self.keep(n, body) {
                            self.machine.lost(n.max(1) as u64, Cause::Overflow);
                        }
                        self.free(io, id);
                    }
                }
                Cmd::Split { id } => {
                    if let Some(i) = self.held.iter().position(|h| h.id == id) {
                        let mut h = self.held.swap_remove(i);
                        self.free(io, id);
                        let second = h.spans.split_off(h.spans.len() / 2);
                        let first = core::mem::take(&mut h.spans);
                        self.make(io, first, usize::MAX, true);
                        self.make(io, second, usize::MAX, true);
                    }
                }
                Cmd::Forget { id } => {
                    self.held.retain(|h| h.id != id);
                    self.free(io, id);
                }
                Cmd::Wake { ms } => io.timer(timer::DELIVERY, f64::from(ms)),
                Cmd::Claim => {
                    io.cmd(cmd::CLAIM, 0);
                }
                Cmd::Warn(cause, n) => self.warn(io, cause, n),
                Cmd::Done(token) => {
                    let w = io.cmd(cmd::DONE, 1);
                    w.uint(token);
                }
            }
        }
        if self.machine.is_leaving() && self.pending.is_none() && !self.machine.is_held() {
            // Counts no body will carry from this page: the next page
            // reports them (while consent is pending nothing is kept).
            let lost = self.machine.take_lost();
            let confirmed = self.machine.take_confirmed();
            for (n, what) in [(lost.dropped, spill::DROPPED), (lost.unconfirmed, spill::UNCONFIRMED), (confirmed, spill::CONFIRMED)] {
                if n > 0 {
                    // A count always fits: it tells of the bodies that did not.
                    spill::append(&mut self.stored, &self.url, n as usize, what);
                }
            }
        } else if !self.machine.is_leaving() {
            // Answered after the page came back (the back-forward cache):
            // off the count it carries, if that count is back in already.
            let confirmed = self.machine.take_confirmed();
            self.machine.carry_confirmed(confirmed);
        }
        // While the app's spans are asked for, storage is written once
        // they are in, in the run that takes them.
        if !self.stored.is_empty() && self.pending.is_none() {
            let w = io.cmd(cmd::STORE, 3);
            w.uint(0);
            w.str(spill::KEY);
            w.str(&self.stored);
            self.written += self.stored.len();
            self.stored.clear();
        }
    }

    /// Adds a body of `n` spans to what is to be stored, if this page's
    /// bound allows.
    fn keep(&mut self, n: usize, body: &str) -> bool {
        if self.written + self.stored.len() + self.url.len() + body.len() + 24 > spill::MAX_CHARS {
            return false;
        }
        spill::append(&mut self.stored, &self.url, n, body)
    }

    fn free(&mut self, io: &mut Io, id: u32) {
        let w = io.cmd(cmd::FREE, 1);
        w.uint(id);
    }

    fn warn(&mut self, io: &mut Io, cause: Cause, n: u64) {
        let mut t = String::new();
        match cause {
            Cause::Partial(rejected) => {
                t.push_str("the Collector rejected ");
                t.push_str(&spans_word(rejected));
                t.push_str(": ");
                t.push_str(&self.partial_message);
            }
            Cause::TooLarge => {
                t.push_str(&self.url);
                t.push_str(" answered 413 (too large) to a batch of ");
                t.push_str(&spans_word(n));
                t.push_str(": sending smaller batches. A span too large on its own is dropped and counted in the waggle.dropped_spans resource attribute.");
            }
            Cause::GzipRefused => {
                t.push_str(&self.url);
                t.push_str(" does not accept gzipped requests from this page (allow the Content-Encoding header in its CORS settings); sending uncompressed");
            }
            _ => {
                t.push_str(&spans_word(n));
                t.push_str(" could not be delivered to ");
                t.push_str(&self.url);
                t.push_str(": ");
                match cause {
                    Cause::Refused(status) => {
                        t.push_str("the Collector answered ");
                        t.push_str(&u64_str(u64::from(status)));
                    }
                    _ => t.push_str("more were waiting than the queue (batch.maxQueueSize) or, for a page being left, storage could hold"),
                }
                t.push_str(". Further losses are counted in the waggle.dropped_spans resource attribute.");
            }
        }
        io.warn(&t);
    }
}
