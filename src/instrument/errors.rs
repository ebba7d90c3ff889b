//! Errors: uncaught exceptions, unhandled promise rejections, resources
//! that failed to load, and (when asked) `console.error` calls, each as an
//! `exception` span with an error status.
//!
//! The page reads the thrown value (its getters are page code, so the
//! page's side does it) and reports `[ERROR, source, t, isError, name,
//! constructorName, message, stack, text, filename, line, column, tag,
//! url]`: source 0 uncaught, 1 unhandled rejection, 2 `console.error`, 3 a
//! resource (`tag` and `url` of the element).
//!
//! Attributes: `exception.type`, `exception.message`,
//! `exception.stacktrace` (cut at whole lines within the value limit),
//! `code.file.path`, `code.line.number`, `code.column.number` where known;
//! the stack's frames (at most 50) as Honeycomb's
//! `exception.structured_stacktrace.urls`, `.lines`, `.columns` and
//! `.functions`, parallel arrays that a Collector maps back through source
//! maps;
//! for resources `url.full`, `server.address`, `server.port`. The same
//! three `exception.*` fields go on an `exception` span event, which is
//! what trace viewers look for. Not in the conventions:
//! `waggle.exception.source` (`uncaught`, `unhandledrejection`,
//! `console.error`, `resource`), `waggle.exception.count` for repeats
//! folded into one span, and `waggle.target.tag` for the element whose
//! resource failed.
//!
//! The same error repeated in a burst (same type, message and stack, less
//! than a second apart) is one span, from the first occurrence to the
//! last, with `waggle.exception.count`. A burst still open when the page is
//! hidden is sent then. An error is a child of the span current when it
//! happened (the interaction whose handler threw), else the root of its own
//! trace.

use alloc::string::String;
use alloc::vec::Vec;

use crate::core::config::inst;
use crate::core::errors::{dedup_key, exception_info, first_frame, from_event_message, trim_stack, Burst, Bursts, ExceptionInfo, Frame, Source, Thrown};
use crate::core::span::{kind, limits, Attrs, Span};
use crate::core::stack::{parse_stack, Column, KEYS};
use crate::platform::io::timer;
use crate::platform::wire::Rec;
use crate::runtime::Runtime;

/// Open bursts of identical errors.
#[derive(Default)]
pub struct Errors {
    bursts: Bursts<Option<Span>>,
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| String::from(s))
}

impl Errors {
    /// An error the page saw.
    pub fn error(&mut self, rt: &mut Runtime, r: &mut Rec<'_, '_>) {
        let source = match r.u32() {
            0 => Source::Uncaught,
            1 => Source::UnhandledRejection,
            2 => Source::Console,
            _ => Source::Resource,
        };
        let on = if source == Source::Console { rt.config.on(inst::CONSOLE_ERRORS) } else { rt.config.on(inst::ERRORS) };
        // When it happened: the record may reach the module much later
        // (sent before the module was ready).
        let t = r.num();
        let thrown = Thrown {
            is_error: r.bool(),
            name: opt(r.str()),
            constructor: opt(r.str()),
            message: r.opt_str().map(String::from),
            stack: opt(r.str()),
            text: r.opt_str().map(String::from),
        };
        let filename = r.str();
        let line = r.num();
        let column = r.num();
        let tag = r.str();
        let url = r.str();
        if matches!(source, Source::Uncaught | Source::UnhandledRejection) {
            rt.page_errored();
        }
        if !on {
            return;
        }
        let (info, frame, url, tag) = match source {
            Source::Resource => {
                let scrubbed = rt.scrub(url);
                let mut message = String::from("Failed to load <");
                message.push_str(tag);
                message.push('>');
                if !scrubbed.is_empty() {
                    message.push(' ');
                    message.push_str(&scrubbed);
                }
                let info = ExceptionInfo { kind: String::from(source.non_error_type()), message, stacktrace: None };
                (info, None, opt(url), Some(String::from(tag)))
            }
            Source::Uncaught if !thrown.is_error && thrown.text.is_none() => {
                // An ErrorEvent without an error object (a cross-origin
                // script's "Script error."): its message says it all.
                let info = from_event_message(thrown.message.as_deref().unwrap_or(""));
                (info, frame_of(filename, line, column), None, None)
            }
            _ => {
                let info = exception_info(&thrown, source);
                let frame = frame_of(filename, line, column);
                (info, frame, None, None)
            }
        };
        let key = dedup_key(&info, url.as_deref().unwrap_or(""));
        let (_, overflow) = self.bursts.add(&key, t, || make_span(rt, t, source, &info, frame, url, tag));
        if let Some(b) = overflow {
            finish(rt, alloc::vec![b]);
        }
        self.schedule(rt);
    }

    fn schedule(&self, rt: &mut Runtime) {
        if let Some(at) = self.bursts.next_due() {
            rt.io.timer_at(timer::ERRORS, at);
        }
    }

    /// The burst timer fired: the bursts that are over go.
    pub fn tick(&mut self, rt: &mut Runtime) {
        let due = self.bursts.take_due(rt.io.now);
        finish(rt, due);
        self.schedule(rt);
    }

    /// The page is hidden or the agent stops: every open burst goes now.
    pub fn flush(&mut self, rt: &mut Runtime) {
        let all = self.bursts.take_all();
        finish(rt, all);
    }
}

/// The event's location; without one, the stack's first is taken when
/// the span is made.
fn frame_of(filename: &str, line: f64, column: f64) -> Option<Frame> {
    if filename.is_empty() {
        return None;
    }
    let n = |v: f64| if v > 0.0 && v < 4e9 { v as u32 } else { 0 };
    Some(Frame { file: String::from(filename), line: n(line), column: n(column) })
}

fn make_span(rt: &mut Runtime, t: f64, source: Source, info: &ExceptionInfo, frame: Option<Frame>, url: Option<String>, tag: Option<String>) -> Option<Span> {
    let mut span = rt.child_span("exception", kind::INTERNAL, t);
    if !span.sampled() {
        return None;
    }
    let stack = info.stacktrace.as_deref().map(|s| String::from(trim_stack(s, limits::VALUE_CHARS)));
    span.set("exception.type", info.kind.as_str());
    span.set("exception.message", info.message.as_str());
    if let Some(s) = &stack {
        span.set("exception.stacktrace", s.as_str());
    }
    // From the whole stack: frames past the string's cut are still whole.
    let frames = info.stacktrace.as_deref().map(parse_stack).unwrap_or_default();
    // The URLs as the stack string has them, unscrubbed like it.
    if !frames.is_empty() {
        for (i, key) in KEYS.into_iter().enumerate() {
            span.set(key, Column(&frames, i));
        }
    }
    span.set("waggle.exception.source", source.as_str());
    if let Some(f) = frame.or_else(|| first_frame(&frames)) {
        span.set("code.file.path", rt.scrub(&f.file));
        if f.line > 0 {
            span.set("code.line.number", i64::from(f.line));
        }
        if f.column > 0 {
            span.set("code.column.number", i64::from(f.column));
        }
    }
    if let Some(u) = url {
        rt.url_attrs(&mut span, &u);
    }
    if let Some(t) = tag {
        span.set("waggle.target.tag", t);
    }
    let mut fields = Attrs::default();
    fields.put("exception.type", info.kind.as_str());
    fields.put("exception.message", info.message.as_str());
    if let Some(s) = stack {
        fields.put("exception.stacktrace", s);
    }
    let t = span.start_ns;
    span.event("exception", t, &fields);
    span.error(&info.message);
    Some(span)
}

fn finish(rt: &mut Runtime, bursts: Vec<Burst<Option<Span>>>) {
    for b in bursts {
        let Some(mut span) = b.item else { continue };
        span.set("waggle.exception.count", b.count as i64);
        span.end(rt.ns(b.last_ms));
        rt.finish(span);
    }
}
