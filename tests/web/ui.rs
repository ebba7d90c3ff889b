//! Interactions and route changes in the browser: the context a click makes
//! current, the history hooks, and what shutdown puts back.

use js_sys::{Object, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

use waggle_rum::browser::agent::with_agent;
use waggle_rum::browser::lib::js;
use waggle_rum::browser::{init, shutdown};

fn options() -> JsValue {
    let opts = Object::new();
    js::set(&opts, "serviceName", &"web-ui-test".into());
    js::set(&opts, "endpoint", &"/collector".into());
    let inst = Object::new();
    js::set(&inst, "documentLoad", &JsValue::FALSE);
    js::set(&opts, "instrumentations", &inst);
    opts.into()
}

/// Waits for a later task with the given `setTimeout`, so the wait is not
/// itself work the agent follows.
async fn next_task(set_timeout: &JsValue) {
    let f: js_sys::Function = set_timeout.clone().into();
    let p = Promise::new(&mut |resolve, _| {
        let _ = f.call2(&JsValue::UNDEFINED, &resolve, &JsValue::from_f64(5.0));
    });
    JsFuture::from(p).await.unwrap();
}

fn history() -> JsValue {
    js::get(&js::global(), "history")
}

/// The functions the agent hooks, as they are now.
fn hooked() -> Vec<JsValue> {
    let mut out: Vec<JsValue> = ["pushState", "replaceState", "back", "forward", "go"].iter().map(|m| js::get(&history(), m)).collect();
    out.push(js::get(&js::global(), "setTimeout"));
    out
}

#[wasm_bindgen_test]
async fn shutdown_puts_history_and_set_timeout_back() {
    let before = hooked();
    init(options()).unwrap();
    let during = hooked();
    for (b, d) in before.iter().zip(&during) {
        assert_ne!(b, d, "hooked while the agent runs");
        assert_eq!(js::string(b, "name"), js::string(d, "name"));
        assert_eq!(js::num(b, "length"), js::num(d, "length"));
    }
    JsFuture::from(shutdown()).await.unwrap();
    assert_eq!(before, hooked());
}

#[wasm_bindgen_test]
async fn a_click_is_current_for_its_task_and_a_route_change_it_makes_is_its_child() {
    let set_timeout = js::get(&js::global(), "setTimeout");
    let url = js::string(&js::get(&js::global(), "location"), "href").unwrap();
    init(options()).unwrap();
    let document = js::get(&js::global(), "document");
    let button = js::call(&document, "createElement", &["button".into()]);
    js::call(&js::get(&document, "body"), "append", &[button.clone()]);

    assert!(with_agent(|a| a.current()).flatten().is_none());
    js::call(&button, "click", &[]);
    let click = with_agent(|a| a.current()).flatten().expect("the click is current while it is handled");

    js::call(&history(), "pushState", &[JsValue::NULL, "".into(), "#web-ui-test".into()]);
    let nav = with_agent(|a| a.current()).flatten().expect("the route change is current");
    assert_eq!(nav.trace_id, click.trace_id);
    assert_ne!(nav.span_id, click.span_id);
    let route = with_agent(|a| a.page.route.clone()).unwrap();
    assert!(!route.is_empty());
    assert!(with_agent(|a| a.page.url.ends_with("#web-ui-test")).unwrap(), "page.url follows the URL at once");

    next_task(&set_timeout).await;
    assert!(with_agent(|a| a.current()).flatten().is_none(), "neither is current once the task is over");

    js::call(&history(), "replaceState", &[JsValue::NULL, "".into(), url.into()]);
    js::call(&button, "remove", &[]);
    JsFuture::from(shutdown()).await.unwrap();
}

#[wasm_bindgen_test]
async fn hooked_push_state_returns_and_throws_as_the_original_does() {
    init(options()).unwrap();
    let push: js_sys::Function = js::get(&history(), "pushState").into();
    let here = js::string(&js::get(&js::global(), "location"), "href").unwrap();
    let ok = push.call3(&history(), &JsValue::NULL, &"".into(), &here.clone().into()).unwrap();
    assert!(ok.is_undefined());
    // Another origin: the browser refuses, and the page gets its own error.
    let err = push.call3(&history(), &JsValue::NULL, &"".into(), &"https://elsewhere.invalid/".into()).unwrap_err();
    assert_eq!(js::string(&err, "name").as_deref(), Some("SecurityError"));
    assert_eq!(js::num(&err, "code"), 18.0, "a DOMException, SECURITY_ERR");
    // Without `this` the original throws; so does the hook.
    let err = push.call3(&JsValue::UNDEFINED, &JsValue::NULL, &"".into(), &here.into()).unwrap_err();
    assert!(err.is_instance_of::<js_sys::TypeError>());
    JsFuture::from(shutdown()).await.unwrap();
}
