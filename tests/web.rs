//! The browser shell in headless Chromium: listeners, the clock against the
//! page's own, ids from `crypto`, `init` validation and `shutdown`.
#![cfg(target_arch = "wasm32")]

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

use waggle_rum::browser::lib::js;
use waggle_rum::browser::lib::listener::Listener;
use waggle_rum::browser::{init, shutdown};
use waggle_rum::core::clock::Clock;

wasm_bindgen_test_configure!(run_in_browser);

fn dispatch(kind: &str) {
    let ev = web_sys::Event::new(kind).unwrap();
    let target: web_sys::EventTarget = js::global().unchecked_into();
    target.dispatch_event(&ev).unwrap();
}

#[wasm_bindgen_test]
fn listener_is_removed_when_dropped() {
    let hits = Rc::new(Cell::new(0));
    let h = hits.clone();
    let listener = Listener::new(&js::global(), "waggle-test", false, move |_| h.set(h.get() + 1)).unwrap();
    dispatch("waggle-test");
    dispatch("waggle-test");
    drop(listener);
    dispatch("waggle-test");
    assert_eq!(hits.get(), 2);
}

#[wasm_bindgen_test]
fn clock_agrees_with_date_now() {
    let perf = js::performance().unwrap();
    let clock = Clock::new(perf.time_origin());
    let ours_ms = clock.epoch_ns(perf.now()) as f64 / 1e6;
    let date_ms = js_sys::Date::now();
    assert!((ours_ms - date_ms).abs() < 50.0, "{ours_ms} vs {date_ms}");
    // Exact to the microsecond: the origin survives the round trip.
    let origin_us = (perf.time_origin() * 1000.0).round() as u64;
    assert_eq!(clock.origin_ns(), origin_us * 1000);
}

fn option_of(err: &JsValue) -> String {
    js::string(err, "option").unwrap_or_default()
}

#[wasm_bindgen_test]
async fn init_names_the_bad_option_and_shutdown_detaches() {
    let bad = js_sys::JSON::parse(r#"{"serviceName": 42}"#).unwrap();
    let err = init(bad).unwrap_err();
    assert!(err.is_instance_of::<js_sys::TypeError>());
    assert_eq!(js::string(&err, "name").as_deref(), Some("WaggleConfigError"));
    assert_eq!(option_of(&err), "serviceName");
    assert!(js::string(&err, "message").unwrap().contains("must be a string, got number"));

    let err = init(js_sys::JSON::parse(r#"{"serviceName": "x", "sampleRatio": 1}"#).unwrap()).unwrap_err();
    assert_eq!(option_of(&err), "sampleRatio");

    let opts = js_sys::Object::new();
    js::set(&opts, "serviceName", &"web-test".into());
    js::set(&opts, "ignoreUrls", &js_sys::RegExp::new("^https://ignored", "").into());
    js::set(&opts, "endpoint", &"/collector".into());
    init(opts.clone().into()).unwrap();
    let exporter_ignored = waggle_rum::browser::agent::with_agent(|a| {
        (a.ignored(&format!("{}/collector/v1/traces", js::string(&js::get(&js::global(), "location"), "origin").unwrap())),
         a.ignored("https://ignored.example/x"),
         a.ignored("https://kept.example/x"))
    });
    assert_eq!(exporter_ignored, Some((true, true, false)));
    wasm_bindgen_futures::JsFuture::from(shutdown()).await.unwrap();
    assert!(waggle_rum::browser::agent::with_agent(|_| ()).is_none());
    // A second agent can start after shutdown.
    init(opts.into()).unwrap();
    wasm_bindgen_futures::JsFuture::from(shutdown()).await.unwrap();
}

#[wasm_bindgen_test]
fn ids_from_crypto_are_random() {
    let crypto: web_sys::Crypto = js::get(&js::global(), "crypto").unchecked_into();
    let mut ids = waggle_rum::core::ids::IdGenerator::new(move |b: &mut [u8]| {
        crypto.get_random_values_with_u8_array(b).unwrap();
    });
    let a = ids.trace_id();
    let b = ids.trace_id();
    assert_ne!(a, b);
    assert_ne!(a, opentelemetry::trace::TraceId::INVALID);
}

#[path = "web/network.rs"]
mod network;

#[wasm_bindgen_test]
fn selectors_of_real_elements() {
    use waggle_rum::browser::web_vitals::selector_of;
    let document = js::get(&js::global(), "document");
    let host = js::call(&document, "createElement", &["section".into()]);
    js::set(&host, "id", &"waggle-host".into());
    js::set(&host, "innerHTML", &r#"<div class=" card  wide "><p><span>x</span></p></div>"#.into());
    js::call(&js::get(&document, "body"), "append", std::slice::from_ref(&host));
    let span = js::call(&host, "querySelector", &["span".into()]);
    assert_eq!(selector_of(&span).as_deref(), Some("#waggle-host>div.card.wide>p>span"));
    let text = js::get(&span, "firstChild");
    assert_eq!(selector_of(&text).as_deref(), Some("#waggle-host>div.card.wide>p>span>TEXT"));
    // Detached: up to the last ancestor there is.
    let lone = js::call(&document, "createElement", &["em".into()]);
    assert_eq!(selector_of(&lone).as_deref(), Some("em"));
    assert_eq!(selector_of(&JsValue::NULL), None);
    js::call(&host, "remove", &[]);
}

#[wasm_bindgen_test]
fn thrown_values_read_as_the_exception_rules_expect() {
    use waggle_rum::browser::errors::read_thrown;
    use waggle_rum::core::errors::{exception_info, Source};
    let make = js_sys::Function::new_no_args(
        "class PaymentError extends Error {}; return [new TypeError('t'), new PaymentError('p'), 'text', {a: 1}, null, 12.5, Object.create(null)];",
    );
    let values: js_sys::Array = make.call0(&JsValue::UNDEFINED).unwrap().unchecked_into();
    let info = |i: u32| exception_info(&read_thrown(&values.get(i)), Source::UnhandledRejection);
    assert_eq!((info(0).kind.as_str(), info(0).message.as_str()), ("TypeError", "t"));
    assert!(info(0).stacktrace.unwrap().starts_with("TypeError: t\n"));
    assert_eq!(info(1).kind, "PaymentError");
    assert_eq!((info(2).kind.as_str(), info(2).message.as_str()), ("UnhandledRejection", "text"));
    assert_eq!(info(3).message, r#"{"a":1}"#);
    assert_eq!(info(4).message, "null");
    assert_eq!(info(5).message, "12.5");
    assert_eq!(info(6).message, "{}");
}

#[wasm_bindgen_test]
async fn console_error_wrapped_after_the_agent_keeps_working_after_shutdown() {
    let console = js::get(&js::global(), "console");
    let original = js::get(&console, "error");
    let calls = js_sys::Array::new();
    let page_fn = js_sys::Function::new_with_args("calls", "return function pageError(...a) { calls.push(a); return 'r'; };")
        .call1(&JsValue::UNDEFINED, &calls)
        .unwrap();
    js::set(&console, "error", &page_fn);
    let opts = js_sys::JSON::parse(
        r#"{"serviceName": "web-test", "endpoint": "/nowhere", "instrumentations": {"consoleErrors": true, "webVitals": false, "documentLoad": false}}"#,
    )
    .unwrap();
    init(opts).unwrap();
    let ours = js::get(&console, "error");
    assert!(!js_sys::Object::is(&ours, &page_fn));
    assert_eq!(js::string(&ours, "name").as_deref(), Some("pageError"));
    // A library wraps console.error after the agent did.
    let later = js_sys::Function::new_with_args("inner", "return function later(...a) { return inner(...a); };")
        .call1(&JsValue::UNDEFINED, &ours)
        .unwrap();
    js::set(&console, "error", &later);
    wasm_bindgen_futures::JsFuture::from(shutdown()).await.unwrap();
    // The library's wrapper stays, and calling through the agent's old
    // wrapper still reaches the page's function.
    assert!(js_sys::Object::is(&js::get(&console, "error"), &later));
    let r = js::call(&console, "error", &["after".into(), 1.into()]);
    assert_eq!(r.as_string().as_deref(), Some("r"));
    assert_eq!(calls.length(), 1);
    js::set(&console, "error", &original);
}

#[path = "web/ui.rs"]
mod ui;

#[wasm_bindgen_test]
fn unsent_bodies_are_kept_per_endpoint_bounded_and_taken_once() {
    use waggle_rum::browser::spill;
    let storage = js::get(&js::global(), "localStorage");
    js::call(&storage, "removeItem", &["waggle.unsent".into()]);
    assert_eq!(spill::save("https://a/v1/traces", vec![("{\"a\":1}".into(), 3), ("{\"a\":2}".into(), 4)]), 0);
    assert_eq!(spill::save("https://b/v1/traces", vec![("{\"b\":1}".into(), 1)]), 0);
    // Past the bound the spans are counted as lost, not stored.
    let huge = "x".repeat(spill::MAX_CHARS);
    assert_eq!(spill::save("https://a/v1/traces", vec![(huge, 9)]), 9);
    assert_eq!(spill::take("https://a/v1/traces"), vec!["{\"a\":1}".to_string(), "{\"a\":2}".to_string()]);
    assert!(spill::take("https://a/v1/traces").is_empty(), "taken once");
    assert_eq!(spill::take("https://b/v1/traces"), vec!["{\"b\":1}".to_string()]);
    assert!(js::call(&storage, "getItem", &["waggle.unsent".into()]).is_null(), "nothing left behind");
    // Storage written by something else is ignored, not a failure.
    js::call(&storage, "setItem", &["waggle.unsent".into(), "{not json".into()]);
    assert!(spill::take("https://a/v1/traces").is_empty());
    js::call(&storage, "removeItem", &["waggle.unsent".into()]);
}
