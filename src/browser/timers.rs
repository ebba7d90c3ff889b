//! Following `setTimeout`: a timer set while an interaction or route change
//! is current runs with that span current again, so the requests its
//! callback starts (directly, or in promise callbacks it chains) become the
//! span's children, and the span stays open until the timer has fired.
//!
//! Followed: timers set while a tracked span is current and still open,
//! due before the span's bound, and timers set from such a timer's
//! callback in turn. A timer due within a second keeps the span open until
//! it fires; a later one runs with the span current only if the span is
//! still open then (something else kept it open).
//!
//! Not followed: `setInterval`, `requestAnimationFrame`,
//! `requestIdleCallback`, `MessageChannel` and `postMessage`, listeners
//! that fire later (an image's `load`, a WebSocket message), timers set
//! with a string of code, and code that runs once a request, a dynamic
//! `import()` or any other promise settled by something outside the page's
//! code has settled (what follows `await fetch(...)`). Zone.js reaches
//! some of those by patching every async API, at a cost in size and with
//! gaps across native `async`/`await`; the agent does not try.
//!
//! The page sees the same `setTimeout`: same return value (the id
//! `clearTimeout` takes), same delay, extra arguments passed to the callback,
//! `this` is the window, errors thrown by the callback reach `onerror`
//! unchanged.

use js_sys::{Array, Function, Reflect};
use opentelemetry::trace::SpanId;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use super::agent::with_agent;
use super::lib::js;
use super::lib::patch::Patch;
use super::settle::tracker;

/// The `setTimeout` hook; dropping it restores the original.
pub struct FollowTimers {
    _patch: Patch,
}

thread_local! {
    // One function for every followed timer, never freed: a timer set
    // before shutdown may fire after it, and must still run the page's
    // callback.
    static TRAMPOLINE: JsValue = super::lib::guard::timer(&Closure::wrap(Box::new(run) as Box<dyn Fn(JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>>)
        .into_js_value()).into();
}

impl FollowTimers {
    /// Hooks `window.setTimeout`; `None` if it cannot be replaced.
    pub fn start() -> Option<Self> {
        let patch = Patch::install(
            &js::global(),
            "setTimeout",
            Box::new(|original, this, args| Reflect::apply(original, this, &follow(args).unwrap_or_else(|| args.clone()))),
        )?;
        Some(FollowTimers { _patch: patch })
    }
}

/// The arguments to hand the original `setTimeout` when the timer is to be
/// followed: the callback bound to the current span, the delay as given.
fn follow(args: &Array) -> Option<Array> {
    let callback = args.get(0);
    if !callback.is_function() {
        return None;
    }
    // None while the agent is busy, which is how its own timers (set from
    // inside it) pass through untouched.
    let ctx = with_agent(|a| a.current()).flatten()?;
    let delay = args.get(1);
    // A string delay converts as the browser converts it (Number("50"));
    // an object's valueOf would be page code, and is not called.
    let ms = delay
        .as_f64()
        .or_else(|| if delay.is_string() { js::call(&js::global(), "Number", &[delay.clone()]).as_f64() } else { None })
        .unwrap_or(0.0);
    let ms = if ms.is_finite() && ms > 0.0 { ms } else { 0.0 };
    if !tracker()?.note_timer(ctx.span_id, js::now() + ms) {
        return None;
    }
    let rest = args.slice(2, args.length().max(2));
    let token = JsValue::from_str(&ctx.span_id.to_string());
    let bound = TRAMPOLINE.with(|t| js::call(t, "bind", &[JsValue::NULL, token, callback, rest.into()]));
    if !bound.is_function() {
        return None;
    }
    let out = Array::of1(&bound);
    if args.length() > 1 {
        out.push(&delay);
    }
    Some(out)
}

/// Runs a followed timer's callback with its span current.
fn run(token: JsValue, callback: JsValue, rest: JsValue) -> Result<JsValue, JsValue> {
    let span_id = token.as_string().and_then(|s| SpanId::from_hex(&s).ok());
    if let (Some(t), Some(id)) = (tracker(), span_id) {
        // The span may have ended since the timer was set; a finished span
        // gets no more children, and then this does nothing.
        t.reenter(id);
    }
    let callback: &Function = callback.unchecked_ref();
    let rest: Array = rest.dyn_into().unwrap_or_else(|_| Array::new());
    Reflect::apply(callback, &js::global(), &rest)
}
