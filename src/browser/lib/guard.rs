//! Keeping an internal failure inside the agent.
//!
//! With `panic = "abort"` a Rust panic is a WebAssembly trap: a
//! `WebAssembly.RuntimeError` thrown into whatever JavaScript called into
//! the module, and the module's state after it cannot be trusted. So every
//! way the browser or the page calls into the agent (listeners, observers,
//! timers, promise callbacks, the `fetch`/XHR/`console.error`/`setTimeout`
//! hooks) goes through a small JavaScript guard. On the first failure the
//! guard logs one `console.error`, switches the agent off for good, and
//! from then on never calls into the module again: listeners do nothing,
//! and hooks call the page's original function, once, exactly as without
//! the agent. Errors thrown by page code (the original `fetch`, a timer's
//! callback) pass through unchanged.

use js_sys::Function;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;

use super::js;

#[wasm_bindgen(inline_js = r#"
let off = false;
export function agent_off() {
  if (off) return;
  off = true;
  console.error('waggle: internal error, the agent is now off');
}
export function is_off() { return off; }
export function guard(f) {
  return function () {
    if (off) return undefined;
    try { return f.apply(this, arguments); } catch (e) { agent_off(); return undefined; }
  };
}
function around(trap, fallbackThis) {
  return function (target, thisArg, args) {
    const self = fallbackThis === undefined ? thisArg : fallbackThis;
    if (off) return Reflect.apply(target, self, args);
    let called = false, threw = false, value;
    const once = function () {
      called = true;
      try { return (value = Reflect.apply(target, this, arguments)); } catch (e) { threw = true; value = e; throw e; }
    };
    try {
      return trap(once, thisArg, args);
    } catch (e) {
      if (threw && e === value) throw e;
      agent_off();
      if (!called) return Reflect.apply(target, self, args);
      if (threw) throw value;
      return value;
    }
  };
}
export function guard_trap(trap) { return around(trap, undefined); }
export function guard_timer(run) {
  const g = around(function (cb, token, rest) { return run(token, cb, rest); }, globalThis);
  return function (token, cb, rest) { return g(cb, token, rest); };
}
export function guard_settle(cb) {
  return function (ok, v) {
    if (off) { if (ok) return v; throw v; }
    try { return cb(ok, v); } catch (e) {
      if (!ok && e === v) throw e;
      agent_off();
      if (ok) return v;
      throw v;
    }
  };
}
"#)]
extern "C" {
    /// Switches the agent off and logs it, once.
    pub fn agent_off();
    /// Whether an internal failure switched the agent off.
    pub fn is_off() -> bool;
    /// `f` wrapped so that a failure inside it switches the agent off
    /// instead of reaching `window.onerror`.
    fn guard(f: &JsValue) -> Function;
    /// A `Proxy` apply trap `(original, this, args)` wrapped so that the
    /// original is called exactly once whatever happens in the agent.
    fn guard_trap(trap: &JsValue) -> Function;
    /// The timer trampoline `(token, callback, rest)`, guarded the same way.
    fn guard_timer(run: &JsValue) -> Function;
    /// A settle callback `(fulfilled, value)` that passes the value on
    /// unchanged if the agent fails.
    fn guard_settle(cb: &JsValue) -> Function;
}

/// A callback for the browser (listener, observer, timer) that cannot
/// throw into the page.
pub fn callback(f: &JsValue) -> Function {
    guard(f)
}

/// An apply trap that calls the page's original exactly once.
pub fn trap(f: &JsValue) -> Function {
    guard_trap(f)
}

/// The timer trampoline, guarded.
pub fn timer(f: &JsValue) -> Function {
    guard_timer(f)
}

/// A promise callback `(fulfilled, value)`, guarded.
pub fn settle(f: &JsValue) -> Function {
    guard_settle(f)
}

/// Whether the agent may still run.
pub fn on() -> bool {
    !is_off()
}

thread_local! {
    static PANICKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a panic has happened: the agent's state may be half-changed,
/// so nothing of it runs again.
pub fn panicked() -> bool {
    PANICKED.with(|p| p.get())
}

/// Makes a panic switch the agent off with its one message, before the
/// trap it becomes unwinds into JavaScript.
pub fn install_panic_hook() {
    if panicked() {
        return;
    }
    // In tests the previous hook prints the panic's message; in a release
    // build there is nowhere to print it, and keeping it would cost the
    // module the whole of std's panic printing.
    #[cfg(debug_assertions)]
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |_info| {
        PANICKED.with(|p| p.set(true));
        agent_off();
        #[cfg(debug_assertions)]
        previous(_info);
    }));
}

/// A one-shot timer whose callback cannot throw into the page, cancelled
/// when dropped (the same use as `gloo_timers`' `Timeout`).
pub struct Timeout {
    id: JsValue,
    _closure: Closure<dyn FnMut()>,
}

impl Timeout {
    /// Runs `f` once after `ms` milliseconds unless dropped first.
    pub fn new(ms: u32, f: impl FnOnce() + 'static) -> Self {
        let mut f = Some(f);
        let closure = Closure::wrap(Box::new(move || {
            if let Some(f) = f.take() {
                f();
            }
        }) as Box<dyn FnMut()>);
        let cb = guard(closure.as_ref());
        let id = js::call(&js::global(), "setTimeout", &[cb.into(), JsValue::from(ms)]);
        Timeout { id, _closure: closure }
    }

    /// Lets the timer run even though the handle is dropped.
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        js::call(&js::global(), "clearTimeout", std::slice::from_ref(&self.id));
    }
}

/// Test hooks: make the agent fail on purpose at a chosen place, so the
/// tests can show a failure stays inside it. Not part of the API.
pub mod test_hooks {
    use std::cell::Cell;

    use wasm_bindgen::prelude::*;

    thread_local! {
        static ARMED: Cell<u8> = const { Cell::new(0) };
    }

    /// Panics if a failure was armed for `place` (1: a hook, after the
    /// page's function was called; 2: a listener).
    pub fn check(place: u8) {
        if ARMED.with(|a| a.get()) == place {
            ARMED.with(|a| a.set(0));
            panic!("waggle test panic");
        }
    }

    /// `"now"` panics at once; `"hook"` in the next `fetch`/XHR hook after
    /// the page's function ran; `"listener"` in the next event listener.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = __waggle_test_panic)]
    pub fn test_panic(place: &str) {
        match place {
            "hook" => ARMED.with(|a| a.set(1)),
            "listener" => ARMED.with(|a| a.set(2)),
            _ => panic!("waggle test panic"),
        }
    }
}
