//! The running agent: configuration, clock, ids, sampler, exporter, and
//! the instrumentations it owns.

use std::any::Any;
use std::cell::RefCell;

use opentelemetry::trace::{SpanId, SpanKind, TraceFlags, TraceId};
use opentelemetry::{KeyValue, Value};
use wasm_bindgen::JsValue;

use crate::core::clock::Clock;
use crate::core::config::{AttrInput, Config, SampleBy, UrlPattern};
use crate::core::context::Contexts;
use crate::core::ids::IdGenerator;
use crate::core::limits::SpanLimits;
use crate::core::sampling::Sampler;
use crate::core::span::SpanData;
use crate::core::url::{scrub, UrlParts};

use super::exporter::Exporter;
use super::lib::js;

thread_local! {
    static AGENT: RefCell<Option<Agent>> = const { RefCell::new(None) };
}

/// Runs `f` on the agent if one is running and not already in use (a hook
/// re-entered from inside the agent sees `None` and stays out of the way).
pub fn with_agent<R>(f: impl FnOnce(&mut Agent) -> R) -> Option<R> {
    if super::lib::guard::panicked() {
        return None;
    }
    AGENT.with(|cell| {
        let mut guard = cell.try_borrow_mut().ok()?;
        guard.as_mut().map(f)
    })
}

/// Installs `agent` as the running one.
pub fn install(agent: Agent) {
    AGENT.with(|cell| *cell.borrow_mut() = Some(agent));
}

/// Removes the running agent and hands it back.
pub fn take() -> Option<Agent> {
    AGENT.with(|cell| cell.try_borrow_mut().ok()?.take())
}

/// Whether an agent is running.
pub fn running() -> bool {
    AGENT.with(|cell| cell.try_borrow().map(|a| a.is_some()).unwrap_or(true))
}

/// The context a new span continues.
#[derive(Clone, Debug)]
pub struct ParentContext {
    /// Trace to join.
    pub trace_id: TraceId,
    /// Parent span.
    pub span_id: SpanId,
    /// The parent's flags: its sampled bit decides ours.
    pub flags: TraceFlags,
    /// The parent's `tracestate`, carried along.
    pub trace_state: String,
}

impl ParentContext {
    /// The form the JS side holds: `[traceId, spanId, flags, traceState]`.
    pub fn to_js(&self) -> js_sys::Array {
        let arr = js_sys::Array::new();
        arr.push(&self.trace_id.to_string().into());
        arr.push(&self.span_id.to_string().into());
        arr.push(&JsValue::from(self.flags.to_u8()));
        arr.push(&self.trace_state.as_str().into());
        arr
    }

    /// Reads [`ParentContext::to_js`]'s form back; a missing trace state
    /// is empty.
    pub fn from_js(v: &JsValue) -> Option<Self> {
        let arr: &js_sys::Array = wasm_bindgen::JsCast::dyn_ref(v)?;
        Some(ParentContext {
            trace_id: TraceId::from_hex(&arr.get(0).as_string()?).ok()?,
            span_id: SpanId::from_hex(&arr.get(1).as_string()?).ok()?,
            flags: TraceFlags::new(arr.get(2).as_f64().unwrap_or(0.0) as u8),
            trace_state: arr.get(3).as_string().unwrap_or_default(),
        })
    }
}

/// The agent's state.
pub struct Agent {
    /// Validated options.
    pub config: Config,
    /// The page's clock.
    pub clock: Clock,
    /// Id source.
    pub ids: IdGenerator,
    /// Span limits.
    pub limits: SpanLimits,
    /// Head sampler.
    pub sampler: Sampler,
    /// Regular expressions from the options, by index.
    pub regexes: Vec<js_sys::RegExp>,
    /// The page's origin.
    pub origin: String,
    /// Absolute URL spans are sent to; never traced.
    pub export_url: String,
    /// Span queue and transport.
    pub exporter: Exporter,
    /// Instrumentations, dropped (and so detached) on shutdown.
    pub instrumentations: Vec<Box<dyn Any>>,
    /// Spans made current by an interaction or `withSpan`, innermost last:
    /// requests started while one is current become its children.
    pub context: Vec<ParentContext>,
    /// Requests under way (fetch and XHR); a route change settles when
    /// there are none.
    pub pending_requests: u32,
    /// What every span says about the page it happened on.
    pub page: PageContext,
    /// The session, added to every span as `session.id`.
    pub session_id: Option<String>,
    /// `session.previous_id` for the first span of a renewed session.
    pub session_previous_id: Option<String>,
    /// `user.*` attributes from `setUser`, added to every span.
    pub user: Vec<(String, Value)>,
    /// Global attributes (`init`'s `attributes`, `setGlobalAttributes`),
    /// converted once rather than for every span.
    pub globals: Vec<(String, Value)>,
    /// Whether the session is kept, when sampling is per session.
    pub session_sampled: bool,
    /// When storage was last read for the session, epoch ms.
    pub session_checked_ms: f64,
    /// The session's stored form, for when storage is unavailable.
    pub session_memory: Option<String>,
    /// The page, session, user and global attribute sets spans share.
    pub contexts: Contexts,
    /// What the JS side of the agent reads without calling in: the current
    /// context set (`ctx`), the current parent (`cur`), when the session
    /// was last checked (`checked`), and the app's finished spans (`q`).
    pub hooks: js_sys::Object,
}

/// The page a span happened on.
#[derive(Clone, Debug, Default)]
pub struct PageContext {
    /// `page.url`, scrubbed.
    pub url: String,
    /// `page.route`: the path (and hash route, for hash routers).
    pub route: String,
    /// `page.title`: `document.title`.
    pub title: String,
}

impl PageContext {
    /// The page as it is now.
    pub fn read(agent_scrub: impl Fn(&str) -> String) -> Self {
        let location = js::get(&js::global(), "location");
        let href = js::string(&location, "href").unwrap_or_default();
        let path = js::string(&location, "pathname").unwrap_or_default();
        let hash = js::string(&location, "hash").unwrap_or_default();
        // Hash routers keep the route after '#/'; anything else after '#' is
        // an anchor, not a route.
        let route = if hash.starts_with("#/") { format!("{path}{hash}") } else { path };
        let title = js::string(&js::get(&js::global(), "document"), "title").unwrap_or_default();
        PageContext { url: agent_scrub(&href), route, title }
    }
}

impl Agent {
    /// The current time in epoch nanoseconds.
    pub fn now_ns(&self) -> u64 {
        self.clock.epoch_ns(js::now())
    }

    /// The current time in epoch milliseconds.
    pub fn now_ms(&self) -> f64 {
        self.now_ns() as f64 / 1e6
    }

    /// Starts a span, continuing `parent` or starting a trace; the sampling
    /// decision is made here and carried in the span's flags.
    pub fn start_span(&mut self, name: &str, kind: SpanKind, parent: Option<&ParentContext>, start_ns: u64) -> SpanData {
        let span_id = self.ids.span_id();
        let (trace_id, parent_id, parent_flags, trace_state) = match parent {
            Some(p) => (p.trace_id, Some(p.span_id), Some(p.flags), p.trace_state.clone()),
            None => (self.ids.trace_id(), None, None, String::new()),
        };
        let mut span = SpanData::new(name, kind, trace_id, span_id, parent_id, start_ns);
        span.trace_state = trace_state;
        let sampled = match (self.config.sample_by, parent_flags) {
            // Per-session sampling keeps or drops the session's own traces
            // whole; a trace continued from a server follows the server.
            (SampleBy::Session, None) => self.session_sampled,
            _ => self.sampler.sample(parent_flags, trace_id),
        };
        span.flags = if sampled { TraceFlags::SAMPLED } else { TraceFlags::NOT_SAMPLED };
        span
    }

    /// Sets an attribute on `span` under the limits.
    pub fn attr(&self, span: &mut SpanData, key: &'static str, value: impl Into<Value>) {
        span.set_attribute(&self.limits, key, value.into());
    }

    /// A URL made safe to record.
    pub fn scrub_url(&self, url: &str) -> String {
        scrub(url, &self.config.redact_query_params)
    }

    /// Sets `url.full`, `server.address` and `server.port` from `url`.
    pub fn url_attributes(&self, span: &mut SpanData, url: &str) {
        let scrubbed = self.scrub_url(url);
        if let Some(parts) = UrlParts::parse(url) {
            let host = parts.host.trim_start_matches('[').trim_end_matches(']').to_owned();
            self.attr(span, "server.address", host);
            self.attr(span, "server.port", i64::from(parts.port()));
        }
        self.attr(span, "url.full", scrubbed);
    }

    /// The span requests should now be children of, if any.
    pub fn current(&self) -> Option<ParentContext> {
        self.context.last().cloned()
    }

    /// Makes `span` current until [`Agent::exit`] is called with its id.
    pub fn enter(&mut self, span: &SpanData) {
        self.enter_context(context_of(span));
    }

    /// Makes `parent` current until [`Agent::exit`] is called with its id.
    pub fn enter_context(&mut self, parent: ParentContext) {
        self.context.push(parent);
        self.publish_current();
    }

    /// Ends what [`Agent::enter`] began, wherever it is in the stack.
    pub fn exit(&mut self, span_id: SpanId) {
        if let Some(i) = self.context.iter().rposition(|c| c.span_id == span_id) {
            self.context.remove(i);
            self.publish_current();
        }
    }

    /// Tells the JS side which span is current, so the app's spans started
    /// there pick their parent without calling in.
    fn publish_current(&self) {
        let cur = self.context.last().map_or(JsValue::UNDEFINED, |c| c.to_js().into());
        js::set(&self.hooks, "cur", &cur);
    }

    /// Records the page, session, user and global attributes now in force
    /// as the context set later spans share, and tells the JS side.
    pub fn update_context(&mut self) {
        let mut attrs = Vec::with_capacity(4 + self.user.len() + self.globals.len());
        if let Some(id) = &self.session_id {
            attrs.push(KeyValue::new("session.id", id.clone()));
        }
        for (key, value) in [("page.url", &self.page.url), ("page.route", &self.page.route), ("page.title", &self.page.title)] {
            if !value.is_empty() {
                attrs.push(KeyValue::new(key, value.clone()));
            }
        }
        for (k, v) in self.user.iter().chain(&self.globals) {
            if !attrs.iter().any(|kv| kv.key.as_str() == k) {
                attrs.push(KeyValue::new(k.clone(), v.clone()));
            }
        }
        let id = self.contexts.update(attrs);
        js::set(&self.hooks, "ctx", &JsValue::from(id));
        js::set(&self.hooks, "checked", &JsValue::from(self.session_checked_ms - self.clock.origin_ns() as f64 / 1e6));
    }

    /// Re-reads `page.url`, `page.route` and `page.title`.
    pub fn refresh_page(&mut self) {
        let redact = self.config.redact_query_params.clone();
        self.page = PageContext::read(|u| scrub(u, &redact));
        self.update_context();
    }

    /// Ends `span` and hands it to the exporter if it is sampled, marked
    /// with the page, session, user and global attributes in force.
    pub fn finish(&mut self, mut span: SpanData) {
        if !span.flags.is_sampled() {
            return;
        }
        if span.end_ns == 0 {
            let now = self.now_ns();
            span.end(now);
        }
        self.mark_context(&mut span);
        self.exporter.push(span);
    }

    /// Gives `span` the current context set, checking the session first
    /// (at most once a second), and `session.previous_id` if it is the
    /// first span of a renewed session.
    pub fn mark_context(&mut self, span: &mut SpanData) {
        if self.now_ms() - self.session_checked_ms >= 1000.0 {
            super::session::refresh(self, false);
        }
        if let Some(prev) = self.session_previous_id.take() {
            span.set_attribute(&self.limits, "session.previous_id", Value::from(prev));
        }
        span.context = self.contexts.current();
    }

    /// Whether `url` matches one of `patterns`.
    pub fn matches(&self, url: &str, patterns: &[UrlPattern]) -> bool {
        patterns.iter().any(|p| match p {
            UrlPattern::Prefix(prefix) => url.starts_with(prefix.as_str()),
            UrlPattern::Regex(i) => self.regexes.get(*i as usize).is_some_and(|re| {
                // A global or sticky RegExp keeps state between tests.
                re.set_last_index(0);
                re.test(url)
            }),
        })
    }

    /// Whether requests to `url` are left alone: the exporter's own, and
    /// what `ignoreUrls` names.
    pub fn ignored(&self, url: &str) -> bool {
        url.starts_with(self.export_url.as_str()) || self.matches(url, &self.config.ignore_urls)
    }
}

/// `init`'s `attributes` as span attribute values: whole numbers as
/// integers, other numbers as doubles.
pub fn global_attributes(config: &Config) -> Vec<(String, Value)> {
    config
        .attributes
        .iter()
        .map(|(k, v)| {
            let value = match v {
                AttrInput::Str(s) => Value::from(s.clone()),
                AttrInput::Bool(b) => Value::Bool(*b),
                AttrInput::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Value::I64(*n as i64),
                AttrInput::Number(n) => Value::F64(*n),
            };
            (k.clone(), value)
        })
        .collect()
}

/// The context that makes new spans children of `span`.
pub fn context_of(span: &SpanData) -> ParentContext {
    ParentContext { trace_id: span.trace_id, span_id: span.span_id, flags: span.flags, trace_state: span.trace_state.clone() }
}

/// Converts a JS exception into a message for the console.
pub fn describe(err: &JsValue) -> String {
    let message = super::lib::http::error_message(err);
    if message.is_empty() {
        "unknown error".into()
    } else {
        message
    }
}
