//! fetch and XHR instrumentation in the browser, without a network: a
//! page's own wrappers, installed before the agent, see what the agent
//! hands the browser.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect};
use opentelemetry::trace::SpanKind;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

use waggle_rum::browser::agent::with_agent;
use waggle_rum::browser::lib::js;
use waggle_rum::browser::{init, shutdown};

fn options() -> JsValue {
    let opts = Object::new();
    js::set(&opts, "serviceName", &"web-network-test".into());
    js::set(&opts, "endpoint", &"/collector".into());
    let inst = Object::new();
    js::set(&inst, "documentLoad", &JsValue::FALSE);
    js::set(&opts, "instrumentations", &inst);
    opts.into()
}

fn headers_get(headers: &JsValue, name: &str) -> Option<String> {
    js::call(headers, "get", &[name.into()]).as_string()
}

/// Makes a span current, as an interaction would; returns its trace id and
/// span id in hex.
fn enter_parent(trace_state: &str) -> (String, String, opentelemetry::trace::SpanId) {
    with_agent(|a| {
        let now = a.now_ns();
        let mut s = a.start_span("parent", SpanKind::Internal, None, now);
        s.trace_state = trace_state.into();
        a.enter(&s);
        (format!("{}", s.trace_id), format!("{}", s.span_id), s.span_id)
    })
    .unwrap()
}

#[wasm_bindgen_test]
async fn fetch_joins_the_current_trace_without_touching_the_callers_objects() {
    let global = js::global();
    let browser_fetch = js::get(&global, "fetch");
    // The page's wrapper: records the arguments the agent passes on.
    let seen = Rc::new(RefCell::new(Vec::<(JsValue, JsValue)>::new()));
    let s = seen.clone();
    let page_fetch = Closure::wrap(Box::new(move |input: JsValue, init: JsValue| -> JsValue {
        s.borrow_mut().push((input, init));
        Promise::resolve(&web_sys::Response::new().unwrap()).into()
    }) as Box<dyn FnMut(JsValue, JsValue) -> JsValue>);
    js::set(&global, "fetch", page_fetch.as_ref());

    init(options()).unwrap();
    let (trace_id, parent_id, parent) = enter_parent("vendor=x");
    let wrapped = js::get(&global, "fetch");
    assert_ne!(wrapped, JsValue::from(page_fetch.as_ref()));

    // Caller's init: a Headers object and a method, both left as they were.
    let caller_headers = web_sys::Headers::new().unwrap();
    caller_headers.set("x-a", "1").unwrap();
    let caller_init = Object::new();
    js::set(&caller_init, "headers", &caller_headers);
    js::set(&caller_init, "method", &"POST".into());
    js::set(&caller_init, "body", &"12345".into());
    let p = js::call(&global, "fetch", &["/api/x".into(), caller_init.clone().into()]);
    assert_eq!(with_agent(|a| a.pending_requests), Some(1), "counted while under way");
    JsFuture::from(p.dyn_into::<Promise>().unwrap()).await.unwrap();
    // Our reaction was attached first, so it has run.
    assert_eq!(with_agent(|a| a.pending_requests), Some(0));

    // A same-origin request whose own traceparent is set by the page.
    let own = Object::new();
    let own_headers = Object::new();
    js::set(&own_headers, "TraceParent", &"00-11111111111111111111111111111111-2222222222222222-01".into());
    js::set(&own, "headers", &own_headers);
    js::call(&global, "fetch", &["/api/own".into(), own.clone().into()]);
    // Cross-origin, not allow-listed: the call is passed on as it came.
    let cross_init = Object::new();
    js::call(&global, "fetch", &["https://elsewhere.invalid/api".into(), cross_init.clone().into()]);
    // No arguments at all: the browser's own error, untouched.
    js::call(&global, "fetch", &[]);

    with_agent(|a| a.exit(parent));
    let seen = seen.borrow();
    assert_eq!(seen.len(), 4);

    let (input, init0) = &seen[0];
    assert_eq!(input.as_string().as_deref(), Some("/api/x"));
    assert_ne!(*init0, JsValue::from(caller_init.clone()), "a new init");
    assert_eq!(js::string(init0, "method").as_deref(), Some("POST"));
    assert_eq!(js::string(init0, "body").as_deref(), Some("12345"));
    let sent = js::get(init0, "headers");
    let tp = headers_get(&sent, "traceparent").unwrap();
    assert!(tp.starts_with(&format!("00-{trace_id}-")), "{tp} joins {trace_id}");
    assert!(tp.ends_with("-01"));
    assert!(!tp.contains(&parent_id), "the request is its own span, a child of the current one");
    assert_eq!(headers_get(&sent, "tracestate").as_deref(), Some("vendor=x"));
    assert_eq!(headers_get(&sent, "x-a").as_deref(), Some("1"));
    // The caller's objects are as they were.
    assert_eq!(js::get(&caller_init, "headers"), JsValue::from(caller_headers.clone()));
    assert_eq!(caller_headers.get("traceparent").unwrap(), None);
    assert_eq!(Object::keys(&caller_init).length(), 3);

    // The page's own traceparent stands: its arguments are passed as given.
    assert_eq!(seen[1].1, JsValue::from(own));
    assert_eq!(seen[2].1, JsValue::from(cross_init));
    assert!(seen[3].0.is_undefined());
    // Released before the final flush calls the same function.
    drop(seen);

    JsFuture::from(shutdown()).await.unwrap();
    assert_eq!(js::get(&global, "fetch"), JsValue::from(page_fetch.as_ref()));
    js::set(&global, "fetch", &browser_fetch);
}

#[wasm_bindgen_test]
async fn xhr_sets_traceparent_through_the_original_set_request_header() {
    let global = js::global();
    let proto = js::get(&js::get(&global, "XMLHttpRequest"), "prototype");
    let browser_set = js::get(&proto, "setRequestHeader");
    let set_fn: Function = browser_set.clone().unchecked_into();
    let seen = Rc::new(RefCell::new(Vec::<(String, String)>::new()));
    let s = seen.clone();
    // The page's own wrapper of setRequestHeader, installed before the agent.
    let page_set = Closure::wrap(Box::new(move |this: JsValue, name: JsValue, value: JsValue| {
        s.borrow_mut().push((name.as_string().unwrap_or_default(), value.as_string().unwrap_or_default()));
        let _ = Reflect::apply(&set_fn, &this, &Array::of2(&name, &value));
    }) as Box<dyn FnMut(JsValue, JsValue, JsValue)>);
    // `this` comes in as the first argument through a bound call shim.
    let shim = Function::new_with_args("f", "return function (n, v) { return f(this, n, v); }");
    let page_set_fn = shim.call1(&JsValue::NULL, page_set.as_ref()).unwrap();
    js::set(&proto, "setRequestHeader", &page_set_fn);

    init(options()).unwrap();
    let (trace_id, _, parent) = enter_parent("");
    let ctor: Function = js::get(&global, "XMLHttpRequest").unchecked_into();
    let xhr = Reflect::construct(&ctor, &Array::new()).unwrap();
    js::call(&xhr, "open", &["GET".into(), "/api/xhr".into(), JsValue::FALSE]);
    js::call(&xhr, "setRequestHeader", &["x-page".into(), "1".into()]);
    // Synchronous: over when send returns (the runner's server answers 404).
    js::call(&xhr, "send", &[]);
    assert_eq!(js::num(&xhr, "readyState"), 4.0);
    with_agent(|a| a.exit(parent));
    {
        let seen = seen.borrow();
        assert_eq!(seen[0], ("x-page".to_owned(), "1".to_owned()));
        assert_eq!(seen[1].0, "traceparent");
        assert!(seen[1].1.starts_with(&format!("00-{trace_id}-")), "{:?}", seen[1]);
        assert_eq!(seen.len(), 2, "no tracestate when the trace has none");
    }
    let pending = with_agent(|a| a.pending_requests).unwrap();
    assert_eq!(pending, 0, "the request is no longer counted once it ended");

    JsFuture::from(shutdown()).await.unwrap();
    assert_eq!(js::get(&proto, "setRequestHeader"), page_set_fn);
    js::set(&proto, "setRequestHeader", &browser_set);
}

#[wasm_bindgen_test]
async fn a_wrapper_installed_over_ours_is_left_in_place_and_keeps_working() {
    let global = js::global();
    let browser_fetch = js::get(&global, "fetch");
    init(options()).unwrap();
    let ours = js::get(&global, "fetch");
    // A library wraps fetch after the agent.
    let shim = Function::new_with_args("inner", "return function fetch(...a) { return inner.apply(this, a); }");
    let theirs = shim.call1(&JsValue::NULL, &ours).unwrap();
    js::set(&global, "fetch", &theirs);
    JsFuture::from(shutdown()).await.unwrap();
    assert_eq!(js::get(&global, "fetch"), theirs, "the library's wrapper stays");
    // Through it, our (now pass-through) proxy still reaches the browser.
    let p = js::call(&global, "fetch", &["data:text/plain,hello".into()]);
    let resp = JsFuture::from(p.dyn_into::<Promise>().unwrap()).await.unwrap();
    let text = JsFuture::from(js::call(&resp, "text", &[]).dyn_into::<Promise>().unwrap()).await.unwrap();
    assert_eq!(text.as_string().as_deref(), Some("hello"));
    js::set(&global, "fetch", &browser_fetch);
}
