//! The app's own spans (`startSpan`, `withSpan`), `setUser` and
//! `setGlobalAttributes`.
//!
//! An app span is recorded in JavaScript (`js/api.js`): starting one,
//! setting attributes and ending it never calls into the module, so it
//! costs the app about a microsecond. Ended spans wait on the JS side
//! until delivery needs a batch, and come in as `[SPANS, dropped,
//! waitingAfter, ...spans]`, each `[name, start, end, parent, context,
//! attributes, events, status, message, ids]`: `parent` and `ids` are
//! contexts in the JS form (`runtime::Ctx::text`), `context` the context
//! set id the span ended in, `attributes` flat `[key, value, ...]`,
//! `events` `[[name, time, attributes], ...]`. Sampling, ids and limits
//! are applied here. A span asks for its ids early only when the app
//! needs them (`[IDS, parent]`: `traceparent()`, `run`, `withSpan`).

use alloc::string::String;
use alloc::vec::Vec;

use crate::core::config::ATTRIBUTE_TYPES;
use crate::core::span::{kind, status, Attrs, Span};
use crate::platform::protocol::cmd;
use crate::platform::wire::Rec;
use crate::runtime::{Ctx, Runtime};

/// Keys already warned about, so a loop does not fill the console.
#[derive(Default)]
pub struct AppSpans {
    warned: Vec<String>,
}

impl AppSpans {
    /// The app's ended spans, as delivery asked for them.
    pub fn spans(&mut self, rt: &mut Runtime, r: &mut Rec<'_, '_>) {
        let dropped = r.num();
        let waiting = r.u32() as usize;
        let mut out = Vec::with_capacity(r.left());
        while r.left() > 0 {
            let mut s = r.arr();
            if let Some(span) = self.span(rt, &mut s) {
                out.push(span);
            }
        }
        if let Some(d) = rt.delivery.as_mut() {
            if dropped > 0.0 {
                d.lost(&mut rt.io, dropped as u64);
            }
            d.pulled(&mut rt.io, out, waiting);
        }
    }

    fn span(&mut self, rt: &mut Runtime, s: &mut Rec<'_, '_>) -> Option<Span> {
        let name = String::from(s.str());
        let start = rt.ns(s.num());
        let end = s.num();
        let parent = s.opt_str().and_then(Ctx::parse);
        let context = s.u32();
        // Read before the sampling decision: the fields come in order.
        let attrs = {
            let mut a = s.arr();
            self.attrs(rt, &mut a, true)
        };
        let mut events = Vec::new();
        {
            let mut list = s.arr();
            while list.left() > 0 {
                let mut e = list.arr();
                let name = String::from(e.str());
                let t = rt.ns(e.num());
                let mut a = e.arr();
                let fields = self.attrs(rt, &mut a, false);
                drop(a);
                events.push((name, t, fields));
            }
        }
        let code = s.str();
        let message = String::from(s.str());
        let ids = s.opt_str().and_then(Ctx::parse);
        let mut span = match ids {
            Some(ids) => {
                let mut sp = Span::new(name, kind::INTERNAL, ids.trace_id, ids.span_id, parent.as_ref().map(|p| p.span_id), start);
                sp.flags = ids.flags;
                sp.trace_state = ids.trace_state;
                sp
            }
            None => rt.start_span(name, kind::INTERNAL, parent.as_ref(), start),
        };
        if !span.sampled() {
            return None;
        }
        span.attrs = attrs;
        for (name, t, fields) in events {
            span.event(&name, t, &fields);
        }
        match code {
            "ok" => span.status = status::OK,
            "error" => span.error(&message),
            _ => {}
        }
        span.end(rt.ns(end));
        span.context = context;
        Some(span)
    }

    /// Reads flat `[key, value, ...]` pairs; a key given again replaces
    /// its earlier value (the later one is kept).
    fn attrs(&mut self, rt: &mut Runtime, a: &mut Rec<'_, '_>, warn: bool) -> Attrs {
        let mut pairs = Vec::new();
        while a.left() > 1 {
            let key = a.str();
            match a.attr_value() {
                Ok(v) => pairs.push((key, v)),
                Err(got) if warn => self.warn(rt, key, got.type_name()),
                Err(_) => {}
            }
        }
        let mut out = Attrs::default();
        for (i, (k, v)) in pairs.iter().enumerate() {
            if !pairs[i + 1..].iter().any(|(later, _)| later == k) {
                out.put(k, v);
            }
        }
        out
    }

    fn warn(&mut self, rt: &mut Runtime, key: &str, got: &str) {
        if self.warned.iter().any(|k| k == key) || self.warned.len() > 32 {
            return;
        }
        self.warned.push(String::from(key));
        let mut t = String::from("span attribute `");
        t.push_str(key);
        t.push_str("` must be ");
        t.push_str(ATTRIBUTE_TYPES);
        t.push_str(", got ");
        t.push_str(got);
        t.push_str("; it is left out");
        rt.io.warn(&t);
    }
}

/// `[IDS, parent]`: ids and a sampling decision for an app span whose ids
/// the app needs now; answered with its context.
pub fn ids(rt: &mut Runtime, r: &mut Rec<'_, '_>) {
    let parent = r.opt_str().and_then(Ctx::parse);
    let span = rt.start_span("", kind::INTERNAL, parent.as_ref(), 0);
    let w = rt.io.cmd(cmd::IDS, 1);
    w.str(&Ctx::of(&span).text());
}

/// `[ENTER, context]`: the app made a span current (`withSpan`,
/// `span.run`) for the rest of this task and the promise callbacks it
/// chains.
pub fn enter(rt: &mut Runtime, r: &mut Rec<'_, '_>) {
    if let Some(ctx) = r.opt_str().and_then(Ctx::parse) {
        rt.enter_for_task(ctx);
    }
}
