//! Replacing a page function (`window.fetch`, `XMLHttpRequest.prototype.send`)
//! with one that observes calls, and putting it back.
//!
//! The replacement is a `Proxy` of the original with an `apply` trap,
//! rather than a new function: it receives `this` and the arguments array
//! exactly as called (so `fetch()` and `fetch(undefined)` stay different,
//! and `open(m, u)` is not `open(m, u, undefined)`), and it keeps the
//! original's `name`, `length` and native `toString()`. Page code keeps
//! working even when it holds on to the replacement after shutdown: the
//! trap is removed from the handler, and a trap-less `Proxy` simply calls
//! the original.

use js_sys::{Array, Function, Object, Proxy, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use super::js;

/// What a patched function does with a call: `(original, this, args)`.
/// It must call `original` itself (with `Reflect.apply`) and return what
/// that returned, or throw what it threw.
pub type Trap = dyn Fn(&Function, &JsValue, &Array) -> Result<JsValue, JsValue>;

/// A function property replaced by a `Proxy` of itself; dropping it puts
/// the original back.
pub struct Patch {
    owner: JsValue,
    name: &'static str,
    original: Function,
    proxy: JsValue,
    handler: Object,
    // A `Fn` closure (not `FnMut`): a trap can be re-entered, as when a
    // synchronous XHR's event handler sends another request.
    _trap: Closure<dyn Fn(JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>>,
}

impl Patch {
    /// Replaces `owner[name]` with a proxy calling `trap`; `None` when
    /// there is no such function or the property cannot be replaced.
    pub fn install(owner: &JsValue, name: &'static str, trap: Box<Trap>) -> Option<Patch> {
        let original: Function = js::get(owner, name).dyn_into().ok()?;
        let closure = Closure::wrap(Box::new(move |target: JsValue, this: JsValue, args: JsValue| {
            let target: Function = target.unchecked_into();
            let args: Array = args.unchecked_into();
            let result = trap(&target, &this, &args);
            super::guard::test_hooks::check(1);
            result
        }) as Box<dyn Fn(JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>>);
        let handler = Object::new();
        js::set(&handler, "apply", &super::guard::trap(closure.as_ref()));
        let proxy: JsValue = Proxy::new(&original, &handler).into();
        js::set(owner, name, &proxy);
        if js::get(owner, name) != proxy {
            // Frozen or an accessor that ignores us: leave the page alone.
            return None;
        }
        Some(Patch { owner: owner.clone(), name, original, proxy, handler, _trap: closure })
    }

    /// The function the page had.
    pub fn original(&self) -> &Function {
        &self.original
    }
}

/// Calls `f` with `this` and `args` as given, the way the page would have.
pub fn call_original(f: &Function, this: &JsValue, args: &Array) -> Result<JsValue, JsValue> {
    Reflect::apply(f, this, args)
}

impl Drop for Patch {
    fn drop(&mut self) {
        // First make the proxy a plain pass-through, for whoever still
        // holds it (a library that copied `window.fetch`, or a wrapper the
        // page installed over ours).
        let _ = Reflect::delete_property(&self.handler, &JsValue::from_str("apply"));
        // Then put the original back, but only if the property still holds
        // our proxy: if the page replaced it since, restoring would throw
        // away the page's own wrapper, and the pass-through proxy inside it
        // already behaves as the original.
        if js::get(&self.owner, self.name) == self.proxy {
            js::set(&self.owner, self.name, self.original.as_ref());
        }
    }
}
