//! The app's own telemetry: `startSpan`, `withSpan`, `setUser` and
//! `setGlobalAttributes`.
//!
//! A span made current by `withSpan` (or `span.run`) parents the requests
//! the callback starts synchronously and in the promise callbacks it chains
//! before the next task; after an `await` on real I/O the browser gives an
//! agent no way to know which code continues, so the context is not
//! followed there. `span.run(fn)` re-enters it explicitly.

use super::lib::guard::Timeout;
use js_sys::{Array, Function};
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{Array as OtelArray, StringValue, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::span::SpanData;

use super::agent::with_agent;
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

/// A span the app started. Ending it twice is harmless; a handle made
/// while the agent is off does nothing.
#[wasm_bindgen]
pub struct Span {
    data: Option<SpanData>,
}

fn start(name: &str, attributes: &JsValue, start_time: Option<f64>) -> Span {
    let data = with_agent(|a| {
        let parent = a.current();
        let now = start_time.filter(|t| t.is_finite()).map_or_else(|| a.now_ns(), |t| a.clock.epoch_ns(t));
        let mut span = a.start_span(name, SpanKind::Internal, parent.as_ref(), now);
        if attributes.is_object() {
            let obj: &js_sys::Object = attributes.unchecked_ref();
            for entry in js_sys::Object::entries(obj).iter() {
                let pair: Array = entry.unchecked_into();
                if let (Some(k), Some(v)) = (pair.get(0).as_string(), to_value(&pair.get(1))) {
                    span.set_attribute(&a.limits, &k, v);
                }
            }
        }
        span
    });
    Span { data }
}

/// Starts a span, a child of the current one if any. `start_time` is a
/// `performance.now()` value, for a span that began earlier.
#[wasm_bindgen(js_name = startSpan)]
pub fn start_span(name: &str, attributes: JsValue, start_time: Option<f64>) -> Span {
    start(name, &attributes, start_time)
}

#[wasm_bindgen]
impl Span {
    /// Sets an attribute (string, number, boolean or array of strings).
    #[wasm_bindgen(js_name = setAttribute)]
    pub fn set_attribute(&mut self, key: &str, value: JsValue) {
        if let (Some(span), Some(v)) = (self.data.as_mut(), to_value(&value)) {
            with_agent(|a| span.set_attribute(&a.limits, key, v));
        }
    }

    /// Adds an event now.
    #[wasm_bindgen(js_name = addEvent)]
    pub fn add_event(&mut self, name: &str, attributes: JsValue) {
        let Some(span) = self.data.as_mut() else { return };
        with_agent(|a| {
            let mut attrs = Vec::new();
            if attributes.is_object() {
                for entry in js_sys::Object::entries(attributes.unchecked_ref()).iter() {
                    let pair: Array = entry.unchecked_into();
                    if let (Some(k), Some(v)) = (pair.get(0).as_string(), to_value(&pair.get(1))) {
                        attrs.push(opentelemetry::KeyValue::new(k, v));
                    }
                }
            }
            let now = a.now_ns();
            span.add_event(&a.limits, name, now, attrs);
        });
    }

    /// Sets the status: `'ok'`, `'error'` (with a message) or `'unset'`.
    #[wasm_bindgen(js_name = setStatus)]
    pub fn set_status(&mut self, code: &str, message: Option<String>) {
        if let Some(span) = self.data.as_mut() {
            span.status = match code {
                "ok" => Status::Ok,
                "error" => Status::error(message.unwrap_or_default()),
                _ => Status::Unset,
            };
        }
    }

    /// Ends the span and queues it for export; `end_time` is a
    /// `performance.now()` value, for a span that ended earlier.
    pub fn end(&mut self, end_time: Option<f64>) {
        if let Some(mut span) = self.data.take() {
            with_agent(|a| {
                if let Some(t) = end_time.filter(|t| t.is_finite()) {
                    span.end(a.clock.epoch_ns(t));
                }
                a.finish(span)
            });
        }
    }

    /// `traceparent` of this span, for a request the agent does not see.
    pub fn traceparent(&self) -> Option<String> {
        self.data
            .as_ref()
            .map(|s| crate::core::tracecontext::format_traceparent(s.trace_id, s.span_id, s.flags))
    }

    /// Calls `f` with this span current and returns what `f` returns.
    pub fn run(&self, f: &Function) -> Result<JsValue, JsValue> {
        run_current(self.data.as_ref(), || f.call0(&JsValue::UNDEFINED))
    }
}

/// Runs `call` with `span` current, keeping it current for the promise
/// callbacks `call` chained (they run before the next task).
fn run_current(span: Option<&SpanData>, call: impl FnOnce() -> Result<JsValue, JsValue>) -> Result<JsValue, JsValue> {
    let Some(span) = span else { return call() };
    let id = span.span_id;
    with_agent(|a| a.enter(span));
    let result = call();
    Timeout::new(0, move || {
        with_agent(|a| a.exit(id));
    })
    .forget();
    result
}

/// Runs `f(span)` inside a new span that ends when `f` returns or, if it
/// returns a promise, when that settles (with error status if it rejects).
/// Whatever `f` returns or throws is passed on unchanged.
#[wasm_bindgen(js_name = withSpan)]
pub fn with_span(name: &str, f: &Function, attributes: JsValue) -> Result<JsValue, JsValue> {
    let span = start(name, &attributes, None);
    let data = span.data.clone();
    let handle = JsValue::from(span);
    let result = run_current(data.as_ref(), || f.call1(&JsValue::UNDEFINED, &handle));
    let end_with = |handle: &JsValue, error: Option<&JsValue>| {
        // The handle owns the span; end it through its own method so a
        // span the app already ended is not ended twice.
        if let Some(err) = error {
            let msg = super::agent::describe(err);
            js::call(handle, "setStatus", &["error".into(), msg.into()]);
        }
        js::call(handle, "end", &[]);
    };
    match result {
        Err(e) => {
            end_with(&handle, Some(&e));
            Err(e)
        }
        Ok(v) if js::get(&v, "then").is_function() => {
            // A derived promise settles with the same value or error, and an
            // unhandled rejection stays unhandled, as without the agent.
            Ok(js::settle(&v, move |ok, value| {
                if ok {
                    end_with(&handle, None);
                    Ok(value)
                } else {
                    end_with(&handle, Some(&value));
                    Err(value)
                }
            }))
        }
        Ok(v) => {
            end_with(&handle, None);
            Ok(v)
        }
    }
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
    });
}
