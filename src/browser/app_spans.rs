//! The app's own telemetry: the wasm side of `startSpan` and `withSpan`,
//! and `setUser` and `setGlobalAttributes`.
//!
//! The app's spans are recorded in JS (`js/index.js`): starting one,
//! setting five attributes and ending it never calls into wasm, so it
//! costs the app about a microsecond and no task of its own. Ended spans
//! wait in a bounded JS array that the exporter takes from a batch at a
//! time, in tasks of their own ([`take`]); sampling, limits and ids are
//! applied there. A span asks for its ids early only when the app needs
//! them (`traceparent()`, `run`, `withSpan`).
//!
//! A span made current by `withSpan` (or `span.run`) parents the requests
//! the callback starts synchronously and in the promise callbacks it chains
//! before the next task; after an `await` on real I/O the browser gives an
//! agent no way to know which code continues, so the context is not
//! followed there. `span.run(fn)` re-enters it explicitly.

use super::lib::guard::Timeout;
use js_sys::{Array, Object, Reflect};
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{Array as OtelArray, KeyValue, StringValue, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::config::BatchConfig;
use crate::core::span::SpanData;

use super::agent::{with_agent, Agent, ParentContext};
use super::lib::js;

/// Converts a JS attribute value; `None` for what OTLP cannot carry.
pub fn to_value(v: &JsValue) -> Option<Value> {
    if let Some(s) = v.as_string() {
        Some(Value::from(s))
    } else if let Some(b) = v.as_bool() {
        Some(Value::Bool(b))
    } else if let Some(n) = v.as_f64() {
        Some(if n.fract() == 0.0 && n.abs() < 9.0e15 { Value::I64(n as i64) } else { Value::F64(n) })
    } else if Array::is_array(v) {
        let arr: &Array = v.unchecked_ref();
        let items: Vec<StringValue> = arr.iter().filter_map(|i| i.as_string()).map(StringValue::from).collect();
        Some(Value::Array(OtelArray::String(items)))
    } else {
        None
    }
}

/// The object both sides of the agent share (see [`Agent::hooks`]):
/// `q`, the app's ended spans, bounded by `max` (past it the oldest
/// `batch` go and are counted in `dropped`).
pub fn hooks_object(batch: &BatchConfig) -> Object {
    let hooks = Object::new();
    js::set(&hooks, "q", &Array::new());
    js::set(&hooks, "ctx", &JsValue::from(0));
    js::set(&hooks, "checked", &JsValue::from(f64::NEG_INFINITY));
    js::set(&hooks, "dropped", &JsValue::from(0));
    js::set(&hooks, "max", &JsValue::from(batch.max_queue_size as f64));
    js::set(&hooks, "batch", &JsValue::from(batch.max_export_batch_size as f64));
    hooks
}

/// The shared object, for the JS side; `undefined` when the agent is off.
#[wasm_bindgen]
pub fn hooks() -> JsValue {
    with_agent(|a| JsValue::from(a.hooks.clone())).unwrap_or(JsValue::UNDEFINED)
}

/// Called by the JS side when spans are waiting (the first, and every
/// batch-full), so the exporter schedules a send.
#[wasm_bindgen(js_name = spansQueued)]
pub fn spans_queued() {
    with_agent(|a| {
        let waiting = waiting(a);
        a.exporter.schedule(waiting);
    });
}

/// Called by the JS side when the session was last checked over a second
/// ago: re-reads it, so a span ends in the right session.
#[wasm_bindgen(js_name = refreshContext)]
pub fn refresh_context() {
    with_agent(|a| super::session::refresh(a, false));
}

/// Ids and sampling for a span whose parent is `parent` (the JS form of a
/// [`ParentContext`], or `undefined`): the span's own context in that form.
#[wasm_bindgen(js_name = spanIds)]
pub fn span_ids(parent: JsValue) -> JsValue {
    with_agent(|a| {
        let s = a.start_span("", SpanKind::Internal, ParentContext::from_js(&parent).as_ref(), 0);
        super::agent::context_of(&s).to_js().into()
    })
    .unwrap_or(JsValue::UNDEFINED)
}

/// Makes the span whose context is `ids` (from [`span_ids`]) current for
/// the rest of this task and the promise callbacks it chains.
#[wasm_bindgen(js_name = enterSpan)]
pub fn enter_span(ids: JsValue) {
    let Some(ctx) = ParentContext::from_js(&ids) else { return };
    let id = ctx.span_id;
    with_agent(|a| a.enter_context(ctx));
    Timeout::new(0, move || {
        with_agent(|a| a.exit(id));
    })
    .forget();
}

/// How many of the app's spans wait on the JS side.
pub fn waiting(a: &Agent) -> usize {
    js::num(&js::get(&a.hooks, "q"), "length") as usize
}

/// Property names of a JS span record, made JS strings once per batch
/// rather than once per read.
struct Keys {
    name: JsValue,
    start: JsValue,
    end: JsValue,
    parent: JsValue,
    ids: JsValue,
    attrs: JsValue,
    events: JsValue,
    status: JsValue,
    message: JsValue,
    context: JsValue,
}

impl Keys {
    fn new() -> Self {
        let k = JsValue::from_str;
        Keys {
            name: k("n"),
            start: k("t0"),
            end: k("t1"),
            parent: k("p"),
            ids: k("i"),
            attrs: k("a"),
            events: k("e"),
            status: k("st"),
            message: k("m"),
            context: k("c"),
        }
    }
}

/// Takes up to `n` of the app's ended spans from the JS side, oldest
/// first, as sampled, limited spans; counts what the JS side dropped.
pub fn take(a: &mut Agent, n: usize) -> Vec<SpanData> {
    let dropped = js::num(&a.hooks, "dropped");
    if dropped > 0.0 {
        js::set(&a.hooks, "dropped", &JsValue::from(0));
        a.exporter.add_dropped(dropped as u64);
    }
    let q = js::get(&a.hooks, "q");
    let len = js::num(&q, "length") as usize;
    if len == 0 || n == 0 {
        return Vec::new();
    }
    let taken: Array = js::call(&q, "splice", &[JsValue::from(0), JsValue::from(n.min(len) as u32)]).dyn_into().unwrap_or_default();
    let keys = Keys::new();
    taken.iter().filter_map(|r| record(a, &keys, &r)).collect()
}

/// Pairs `[k, v, k, v, ...]` as attributes.
fn pairs(flat: &JsValue) -> impl Iterator<Item = (String, Value)> {
    let arr: Array = flat.clone().dyn_into().unwrap_or_default();
    let len = arr.length();
    (0..len / 2).filter_map(move |i| Some((arr.get(2 * i).as_string()?, to_value(&arr.get(2 * i + 1))?)))
}

fn record(a: &mut Agent, k: &Keys, r: &JsValue) -> Option<SpanData> {
    let get = |key: &JsValue| Reflect::get(r, key).unwrap_or(JsValue::UNDEFINED);
    let name = get(&k.name).as_string().unwrap_or_default();
    let start = a.clock.epoch_ns(get(&k.start).as_f64().unwrap_or(0.0));
    let parent = ParentContext::from_js(&get(&k.parent));
    let mut span = match ParentContext::from_js(&get(&k.ids)) {
        Some(ids) => {
            let mut s = SpanData::new(name, SpanKind::Internal, ids.trace_id, ids.span_id, parent.as_ref().map(|p| p.span_id), start);
            s.flags = ids.flags;
            s.trace_state = ids.trace_state;
            s
        }
        None => a.start_span(&name, SpanKind::Internal, parent.as_ref(), start),
    };
    if !span.flags.is_sampled() {
        return None;
    }
    for (key, value) in pairs(&get(&k.attrs)) {
        span.set_attribute(&a.limits, &key, value);
    }
    if let Ok(events) = get(&k.events).dyn_into::<Array>() {
        for e in events.iter() {
            let e: Array = e.unchecked_into();
            let attrs = pairs(&e.get(1)).map(|(k, v)| KeyValue::new(k, v)).collect();
            let at = a.clock.epoch_ns(e.get(2).as_f64().unwrap_or(0.0));
            span.add_event(&a.limits, e.get(0).as_string().unwrap_or_default(), at, attrs);
        }
    }
    span.status = match get(&k.status).as_string().as_deref() {
        Some("ok") => Status::Ok,
        Some("error") => Status::error(get(&k.message).as_string().unwrap_or_default()),
        _ => Status::Unset,
    };
    span.end(a.clock.epoch_ns(get(&k.end).as_f64().unwrap_or(0.0)));
    if let Some(prev) = a.session_previous_id.take() {
        span.set_attribute(&a.limits, "session.previous_id", Value::from(prev));
    }
    span.context = get(&k.context).as_f64().unwrap_or(0.0) as u32;
    Some(span)
}

/// Sets `user.*` attributes on every later span: `id` → `user.id`, `name`
/// → `user.name`, `email` → `user.email`, `fullName` → `user.full_name`,
/// `roles` → `user.roles`, `hash` → `user.hash`, any other key `k` →
/// `user.k`. `setUser(null)` clears them.
#[wasm_bindgen(js_name = setUser)]
pub fn set_user(user: JsValue) {
    with_agent(|a| {
        a.user.clear();
        if !user.is_object() {
            return;
        }
        for entry in js_sys::Object::entries(user.unchecked_ref()).iter() {
            let pair: Array = entry.unchecked_into();
            let (Some(k), Some(v)) = (pair.get(0).as_string(), to_value(&pair.get(1))) else { continue };
            let key = match k.as_str() {
                "fullName" => "user.full_name".to_string(),
                other => format!("user.{other}"),
            };
            a.user.push((key, v));
        }
    });
    with_agent(|a| a.update_context());
}

/// Adds attributes to every later span (merged with `init`'s `attributes`).
#[wasm_bindgen(js_name = setGlobalAttributes)]
pub fn set_global_attributes(attributes: JsValue) {
    if !attributes.is_object() {
        return;
    }
    with_agent(|a| {
        for entry in js_sys::Object::entries(attributes.unchecked_ref()).iter() {
            let pair: Array = entry.unchecked_into();
            let (Some(k), v) = (pair.get(0).as_string(), pair.get(1)) else { continue };
            // Strings, numbers and booleans, as init's `attributes` takes;
            // anything else removes the key.
            let value = if v.is_string() || v.as_f64().is_some() || v.as_bool().is_some() { to_value(&v) } else { None };
            match (value, a.globals.iter_mut().find(|(key, _)| *key == k)) {
                (Some(value), Some(slot)) => slot.1 = value,
                (Some(value), None) => a.globals.push((k, value)),
                (None, _) => a.globals.retain(|(key, _)| *key != k),
            }
        }
        a.update_context();
    });
}
