//! Reading browser objects by property name.
//!
//! `Reflect.get` is one import however many fields are read, where typed
//! web-sys getters are one import each; at page-load time the difference in
//! speed is nil and in size it is several kilobytes.

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};

/// `obj[key]`, or `undefined` when reading throws.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `obj[key]` as a number, 0 when it is not one.
pub fn num(obj: &JsValue, key: &str) -> f64 {
    get(obj, key).as_f64().unwrap_or(0.0)
}

/// `obj[key]` as a string, if it is one.
pub fn string(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

/// `obj[key] = value`, ignoring failures (a frozen object).
pub fn set(obj: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// The global object (`window` in a page).
pub fn global() -> JsValue {
    js_sys::global().into()
}

thread_local! {
    // Looked up once: `now()` runs for every span and every request.
    static PERFORMANCE: Option<web_sys::Performance> = get(&global(), "performance").dyn_into().ok();
}

/// The page's `performance`.
pub fn performance() -> Option<web_sys::Performance> {
    PERFORMANCE.with(|p| p.clone())
}

/// `performance.now()`, or 0 where there is none.
pub fn now() -> f64 {
    PERFORMANCE.with(|p| p.as_ref().map_or(0.0, |p| p.now()))
}

/// Calls `obj.method(args...)`, returning `undefined` when it throws or is
/// missing.
pub fn call(obj: &JsValue, method: &str, args: &[JsValue]) -> JsValue {
    let f = get(obj, method);
    let Some(f) = f.dyn_ref::<js_sys::Function>() else { return JsValue::UNDEFINED };
    let arr: js_sys::Array = args.iter().collect();
    Reflect::apply(f, obj, &arr).unwrap_or(JsValue::UNDEFINED)
}

thread_local! {
    // A Rust closure, not `new Function`, which a strict CSP forbids.
    static NOOP: JsValue = wasm_bindgen::closure::Closure::wrap(Box::new(|_: JsValue| {}) as Box<dyn FnMut(JsValue)>).into_js_value();
}

/// A function that does nothing, for promise rejections already handled
/// elsewhere.
pub fn noop() -> JsValue {
    NOOP.with(|f| f.clone())
}

/// Logs one warning to the console, prefixed so a reader knows its source.
pub fn warn(message: &str) {
    web_sys::console::warn_1(&JsValue::from_str(&format!("[waggle] {message}")));
}

/// Logs a debug line when the user asked for it.
pub fn debug(enabled: bool, message: &str) {
    if enabled {
        web_sys::console::debug_1(&JsValue::from_str(&format!("[waggle] {message}")));
    }
}

/// Calls `f(true, value)` when the thenable `promise` fulfils and
/// `f(false, reason)` when it rejects, and returns the promise `then` makes,
/// which settles as `f` says (`Err` rejects with that value).
///
/// One self-freeing callback is bound twice: two one-shot closures would
/// leak the one never called, on every request and every `withSpan`.
pub fn settle(promise: &JsValue, f: impl FnOnce(bool, JsValue) -> Result<JsValue, JsValue> + 'static) -> JsValue {
    let cb = wasm_bindgen::closure::Closure::once_into_js(move |fulfilled: JsValue, value: JsValue| f(fulfilled.is_truthy(), value));
    let cb: JsValue = super::guard::settle(&cb).into();
    let ok = call(&cb, "bind", &[JsValue::NULL, JsValue::TRUE]);
    let err = call(&cb, "bind", &[JsValue::NULL, JsValue::FALSE]);
    call(promise, "then", &[ok, err])
}
