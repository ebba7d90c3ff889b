//! Errors as spans named `exception`: uncaught exceptions (`error` on
//! `window`), unhandled promise rejections, resources that failed to load
//! (`<img>`, `<script>`, `<link>`... whose `error` events do not bubble, so
//! the listener is in the capture phase), and optionally `console.error`.
//!
//! Attributes: `exception.type`, `exception.message`,
//! `exception.stacktrace` (trimmed to whole lines within the attribute
//! length limit), `code.file.path`, `code.line.number`,
//! `code.column.number` where known; for resources `url.full`,
//! `server.address`, `server.port`. The same three `exception.*` fields go
//! on an `exception` span event, which is what trace viewers look for.
//! Non-convention attributes, because no convention covers them:
//! `waggle.exception.source` (`uncaught`, `unhandledrejection`,
//! `console.error`, `resource`) to tell the paths apart,
//! `waggle.exception.count` for repeats folded into one span, and
//! `waggle.element.tag` for the element whose resource failed.
//!
//! The same error repeated in a burst (same type, message and stack, less
//! than a second apart) is one span, from the first occurrence to the
//! last, with `waggle.exception.count`. A burst still open when the page is
//! hidden is sent then.
//!
//! An error is a child of the span current when it happened (the
//! interaction whose handler threw), else the root of its own trace.
//! Nothing here cancels an event or changes what the page's own handlers
//! see.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use super::lib::guard::Timeout;
use js_sys::{Array, Function, Object, Reflect};
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::KeyValue;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::core::errors::{
    dedup_key, exception_info, first_frame, from_event_message, trim_stack, Burst, Bursts, ExceptionInfo, Frame, Source,
    Thrown,
};
use crate::core::limits::truncate_chars;
use crate::core::span::SpanData;

use super::agent::with_agent;
use super::lib::js;
use super::lib::listener::Listener;

/// Characters of a non-error value's rendering kept for the message.
const MAX_TEXT: usize = 1024;

/// A JS value rendered for a message without risking an exception.
fn text_of(v: &JsValue) -> String {
    if let Some(s) = v.as_string() {
        return s;
    }
    if v.is_undefined() {
        return "undefined".into();
    }
    if v.is_null() {
        return "null".into();
    }
    if let Some(b) = v.as_bool() {
        return b.to_string();
    }
    if let Some(n) = v.as_f64() {
        return js_sys::Number::from(n).to_string_with_radix(10).map(String::from).unwrap_or_else(|_| n.to_string());
    }
    if v.is_function() {
        return format!("function {}", js::string(v, "name").unwrap_or_default());
    }
    if v.is_symbol() {
        return "Symbol".into();
    }
    if v.is_object() {
        if let Ok(json) = js_sys::JSON::stringify(v) {
            if let Some(s) = json.as_string() {
                return truncate_chars(&s, MAX_TEXT).to_owned();
            }
        }
        return "[object]".into();
    }
    String::new()
}

/// Reads a thrown value or rejection reason.
pub fn read_thrown(v: &JsValue) -> Thrown {
    let looks_like_error = v.is_instance_of::<js_sys::Error>()
        || (v.is_object() && js::get(v, "stack").is_string() && js::get(v, "message").is_string());
    if looks_like_error {
        Thrown {
            is_error: true,
            name: js::string(v, "name"),
            constructor: js::string(&js::get(v, "constructor"), "name"),
            message: js::string(v, "message"),
            stack: js::string(v, "stack"),
            text: None,
        }
    } else {
        Thrown { text: Some(text_of(v)), ..Thrown::default() }
    }
}

/// One error, read, ready to become a span.
struct Occurrence {
    source: Source,
    info: ExceptionInfo,
    frame: Option<Frame>,
    url: Option<String>,
    tag: Option<String>,
}

struct State {
    bursts: Bursts<Option<SpanData>>,
    timer: Option<Timeout>,
}

fn make_span(o: &Occurrence) -> Option<SpanData> {
    with_agent(|a| {
        let parent = a.current();
        let now = a.now_ns();
        let mut span = a.start_span("exception", SpanKind::Internal, parent.as_ref(), now);
        if !span.flags.is_sampled() {
            return span;
        }
        let stack = o.info.stacktrace.as_deref().map(|s| trim_stack(s, a.limits.max_attribute_length).to_owned());
        a.attr(&mut span, "exception.type", o.info.kind.clone());
        a.attr(&mut span, "exception.message", o.info.message.clone());
        if let Some(stack) = &stack {
            a.attr(&mut span, "exception.stacktrace", stack.clone());
        }
        a.attr(&mut span, "waggle.exception.source", o.source.as_str());
        if let Some(f) = &o.frame {
            let file = a.scrub_url(&f.file);
            a.attr(&mut span, "code.file.path", file);
            if f.line > 0 {
                a.attr(&mut span, "code.line.number", i64::from(f.line));
            }
            if f.column > 0 {
                a.attr(&mut span, "code.column.number", i64::from(f.column));
            }
        }
        if let Some(url) = &o.url {
            a.url_attributes(&mut span, url);
        }
        if let Some(tag) = &o.tag {
            a.attr(&mut span, "waggle.element.tag", tag.clone());
        }
        let mut fields = vec![
            KeyValue::new("exception.type", o.info.kind.clone()),
            KeyValue::new("exception.message", o.info.message.clone()),
        ];
        if let Some(stack) = stack {
            fields.push(KeyValue::new("exception.stacktrace", stack));
        }
        span.add_event(&a.limits, "exception", now, fields);
        span.status = Status::error(truncate_chars(&o.info.message, a.limits.max_attribute_length).to_owned());
        span
    })
}

fn finish(bursts: Vec<Burst<Option<SpanData>>>) {
    if bursts.iter().all(|b| b.item.is_none()) {
        return;
    }
    with_agent(|a| {
        for b in bursts {
            let Some(mut span) = b.item else { continue };
            a.attr(&mut span, "waggle.exception.count", b.count as i64);
            let end = a.clock.epoch_ns(b.last_ms);
            span.end(end);
            a.finish(span);
        }
    });
}

/// Sends the bursts that are over and waits for the next one to end.
fn on_timer(weak: &Weak<RefCell<State>>) {
    let Some(state) = weak.upgrade() else { return };
    let due = {
        let Ok(mut s) = state.try_borrow_mut() else { return };
        s.timer = None;
        let due = s.bursts.take_due(js::now());
        schedule(&mut s, weak);
        due
    };
    finish(due);
}

fn schedule(s: &mut State, weak: &Weak<RefCell<State>>) {
    if s.timer.is_some() {
        return;
    }
    let Some(at) = s.bursts.next_due() else { return };
    let delay = (at - js::now()).clamp(0.0, 60_000.0).ceil() as u32;
    let weak = weak.clone();
    s.timer = Some(Timeout::new(delay, move || on_timer(&weak)));
}

fn record(state: &Rc<RefCell<State>>, o: Occurrence) {
    let extra = o.url.as_deref().unwrap_or("");
    let key = dedup_key(&o.info, extra);
    let now = js::now();
    let overflow = {
        let Ok(mut s) = state.try_borrow_mut() else { return };
        let (_, overflow) = s.bursts.add(&key, now, || make_span(&o));
        schedule(&mut s, &Rc::downgrade(state));
        overflow
    };
    if let Some(b) = overflow {
        finish(vec![b]);
    }
}

fn on_error(state: &Rc<RefCell<State>>, ev: &JsValue) {
    let target = js::get(ev, "target");
    if js::num(&target, "nodeType") == 1.0 {
        // A resource failed: the event is a plain Event on the element.
        let tag = js::string(&target, "localName").unwrap_or_default();
        let url = ["currentSrc", "src", "href"]
            .iter()
            .find_map(|k| js::string(&target, k).filter(|u| !u.is_empty()))
            .unwrap_or_default();
        let scrubbed = with_agent(|a| a.scrub_url(&url)).unwrap_or_default();
        let info = ExceptionInfo {
            kind: Source::Resource.non_error_type().into(),
            message: if scrubbed.is_empty() { format!("Failed to load <{tag}>") } else { format!("Failed to load <{tag}> {scrubbed}") },
            stacktrace: None,
        };
        let url = (!url.is_empty()).then_some(url);
        record(state, Occurrence { source: Source::Resource, info, frame: None, url, tag: Some(tag) });
        return;
    }
    let error = js::get(ev, "error");
    let Some(message) = js::string(ev, "message") else {
        // Not an ErrorEvent: an `error` event some other node dispatched.
        return;
    };
    let info = if error.is_undefined() || error.is_null() {
        from_event_message(&message)
    } else {
        exception_info(&read_thrown(&error), Source::Uncaught)
    };
    let file = js::string(ev, "filename").filter(|f| !f.is_empty());
    let frame = match file {
        Some(file) => Some(Frame { file, line: js::num(ev, "lineno") as u32, column: js::num(ev, "colno") as u32 }),
        None => info.stacktrace.as_deref().and_then(first_frame),
    };
    record(state, Occurrence { source: Source::Uncaught, info, frame, url: None, tag: None });
}

fn on_rejection(state: &Rc<RefCell<State>>, ev: &JsValue) {
    let info = exception_info(&read_thrown(&js::get(ev, "reason")), Source::UnhandledRejection);
    let frame = info.stacktrace.as_deref().and_then(first_frame);
    record(state, Occurrence { source: Source::UnhandledRejection, info, frame, url: None, tag: None });
}

fn on_console(state: &Rc<RefCell<State>>, args: &JsValue) {
    let Some(args) = args.dyn_ref::<Array>() else { return };
    let mut error: Option<ExceptionInfo> = None;
    let mut message = String::new();
    for arg in args.iter() {
        if !message.is_empty() {
            message.push(' ');
        }
        let t = read_thrown(&arg);
        if t.is_error {
            let info = exception_info(&t, Source::Console);
            message.push_str(&info.kind);
            if !info.message.is_empty() {
                message.push_str(": ");
                message.push_str(&info.message);
            }
            error.get_or_insert(info);
        } else {
            message.push_str(&t.text.unwrap_or_default());
        }
    }
    let info = match error {
        Some(e) => ExceptionInfo { message, ..e },
        None => ExceptionInfo { kind: Source::Console.non_error_type().into(), message, stacktrace: None },
    };
    let frame = info.stacktrace.as_deref().and_then(first_frame);
    record(state, Occurrence { source: Source::Console, info, frame, url: None, tag: None });
}

type ApplyTrap = Closure<dyn Fn(JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>>;

/// `console.error` replaced by a `Proxy` of itself: same `name`, `length`
/// and `toString()`, called with the same `this` and arguments, returning
/// what it returns and throwing what it throws.
struct ConsoleHook {
    console: JsValue,
    original: JsValue,
    proxy: JsValue,
    active: Rc<Cell<bool>>,
    trap: Option<ApplyTrap>,
}

impl ConsoleHook {
    fn install(state: Weak<RefCell<State>>) -> Option<Self> {
        let console = js::get(&js::global(), "console");
        let original = js::get(&console, "error");
        let original_fn: Function = original.clone().dyn_into().ok()?;
        let active = Rc::new(Cell::new(true));
        let busy = Rc::new(Cell::new(false));
        let on = active.clone();
        let trap: ApplyTrap = Closure::wrap(Box::new(move |target: JsValue, this: JsValue, args: JsValue| {
            // An error logged while recording one (a toJSON that logs) is
            // passed through, not recorded.
            if on.get() && !busy.get() {
                busy.set(true);
                if let Some(state) = state.upgrade() {
                    on_console(&state, &args);
                }
                busy.set(false);
            }
            let f: &Function = target.unchecked_ref();
            let args: Array = args.dyn_into().unwrap_or_default();
            Reflect::apply(f, &this, &args)
        }) as Box<dyn Fn(JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>>);
        let handler = Object::new();
        js::set(&handler, "apply", &super::lib::guard::trap(trap.as_ref()));
        let proxy: JsValue = js_sys::Proxy::new(&original_fn, &handler).into();
        if !Reflect::set(&console, &"error".into(), &proxy).unwrap_or(false) {
            return None;
        }
        Some(ConsoleHook { console, original, proxy, active, trap: Some(trap) })
    }
}

impl Drop for ConsoleHook {
    fn drop(&mut self) {
        self.active.set(false);
        let current = js::get(&self.console, "error");
        if Object::is(&current, &self.proxy) {
            js::set(&self.console, "error", &self.original);
        } else if let Some(trap) = self.trap.take() {
            // Someone wrapped console.error after us and may still call
            // the proxy: it must keep forwarding, so it stays alive.
            trap.forget();
        }
    }
}

/// Records errors; owns its listeners and the `console.error` hook.
pub struct Errors {
    _state: Rc<RefCell<State>>,
    _listeners: Vec<Listener>,
    _console: Option<ConsoleHook>,
}

impl Errors {
    /// Listens for uncaught errors, rejections and resource failures when
    /// `errors`, and records `console.error` calls when `console`.
    pub fn start(errors: bool, console: bool) -> Self {
        let state = Rc::new(RefCell::new(State { bursts: Bursts::default(), timer: None }));
        let window = js::global();
        let mut listeners = Vec::new();
        if errors {
            let weak = Rc::downgrade(&state);
            listeners.extend(Listener::new(&window, "error", true, move |ev| {
                if let Some(state) = weak.upgrade() {
                    on_error(&state, &ev.into());
                }
            }));
            let weak = Rc::downgrade(&state);
            listeners.extend(Listener::new(&window, "unhandledrejection", true, move |ev| {
                if let Some(state) = weak.upgrade() {
                    on_rejection(&state, &ev.into());
                }
            }));
        }
        // Open bursts go out before the exporter's last flush: capture
        // listeners on window run before its listeners.
        let document = js::get(&window, "document");
        for kind in ["visibilitychange", "pagehide"] {
            let weak = Rc::downgrade(&state);
            let doc = document.clone();
            listeners.extend(Listener::new(&window, kind, true, move |_| {
                if kind == "visibilitychange" && js::string(&doc, "visibilityState").as_deref() != Some("hidden") {
                    return;
                }
                let Some(state) = weak.upgrade() else { return };
                let open = match state.try_borrow_mut() {
                    Ok(mut s) => {
                        s.timer = None;
                        s.bursts.take_all()
                    }
                    Err(_) => return,
                };
                finish(open);
            }));
        }
        let console = if console { ConsoleHook::install(Rc::downgrade(&state)) } else { None };
        Errors { _state: state, _listeners: listeners, _console: console }
    }
}
