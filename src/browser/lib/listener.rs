//! Event listeners that remove themselves when dropped.

use std::borrow::Cow;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AddEventListenerOptions, Event, EventTarget};

/// An event listener owned by an instrumentation: dropping it removes it
/// from the target, so `shutdown()` leaves nothing behind.
pub struct Listener {
    target: EventTarget,
    kind: Cow<'static, str>,
    capture: bool,
    // What the browser holds: the closure behind a guard, so a failure in
    // the agent never reaches the page's error handlers.
    guarded: js_sys::Function,
    _closure: Closure<dyn FnMut(Event)>,
}

impl Listener {
    /// Listens for `kind` on `target`; `capture` listens in the capture
    /// phase, which sees events before page handlers can stop them.
    pub fn new(target: &JsValue, kind: &'static str, capture: bool, f: impl FnMut(Event) + 'static) -> Option<Self> {
        Self::boxed(target, Cow::Borrowed(kind), capture, Box::new(f))
    }

    /// [`Listener::new`] for an event name that comes from the options.
    pub fn named(target: &JsValue, kind: String, capture: bool, f: impl FnMut(Event) + 'static) -> Option<Self> {
        Self::boxed(target, Cow::Owned(kind), capture, Box::new(f))
    }

    // Not generic, so each listener adds its closure and not another copy
    // of this body to the module.
    fn boxed(target: &JsValue, kind: Cow<'static, str>, capture: bool, f: Box<dyn FnMut(Event)>) -> Option<Self> {
        let target: EventTarget = target.clone().dyn_into().ok()?;
        let mut f = f;
        let closure = Closure::wrap(Box::new(move |e: Event| {
            super::guard::test_hooks::check(2);
            f(e)
        }) as Box<dyn FnMut(Event)>);
        let guarded = super::guard::callback(closure.as_ref());
        let opts = AddEventListenerOptions::new();
        opts.set_capture(capture);
        opts.set_passive(true);
        target
            .add_event_listener_with_callback_and_add_event_listener_options(&kind, &guarded, &opts)
            .ok()?;
        Some(Listener { target, kind, capture, guarded, _closure: closure })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback_and_bool(
            &self.kind,
            &self.guarded,
            self.capture,
        );
    }
}
