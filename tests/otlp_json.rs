//! The OTLP/JSON encoder against serde_json, over random spans.
//!
//! A seeded generator makes requests of random spans (every attribute type,
//! strings with control characters, quotes, backslashes and astral
//! characters, extreme numbers, events, links, statuses, context groups and
//! loss counts); each body is parsed by serde_json and checked against the
//! OTLP/JSON mapping (opentelemetry-proto's `docs/specification.md`, JSON
//! section): ids as lowercase hex of the right length, 64-bit integers as
//! decimal strings, enums as integers, lowerCamelCase field names only,
//! non-finite doubles as the protobuf JSON strings, empty lists and zero
//! counts left out, attribute keys unique within a list, and every value
//! equal to what was put in (strings cut to the value limit, numbers to 15
//! significant digits).

use serde_json::{Map, Value as J};
use waggle_rum::core::context::Contexts;
use waggle_rum::core::ids::{SpanId, TraceId};
use waggle_rum::core::otlp::{encode, Losses, SCOPE_NAME, VERSION};
use waggle_rum::core::span::{limits, status, Attrs, Span, Value};

/// xorshift64*: small, seeded, good enough to pick cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const CHARS: &[char] = &[
    'a', 'Z', '0', ' ', '"', '\\', '/', '\'', '{', '}', '[', ']', ',', ':', '\u{0}', '\u{1}', '\u{8}', '\t', '\n', '\u{c}', '\r',
    '\u{1f}', '\u{7f}', '\u{80}', '\u{a0}', 'é', 'ß', '中', '\u{2028}', '\u{2029}', '\u{fffd}', '\u{feff}', '\u{ffff}', '😀',
    '\u{10000}', '\u{1f3f3}', '\u{10ffff}', '\u{301}',
];

fn short(r: &mut Rng) -> String {
    (0..r.below(6)).map(|_| *r.pick(CHARS)).collect()
}

fn text(r: &mut Rng) -> String {
    let n = match r.below(20) {
        0 => 0,
        1 => limits::VALUE_CHARS - 2 + r.below(5),
        _ => r.below(24),
    };
    (0..n).map(|_| *r.pick(CHARS)).collect()
}

fn double(r: &mut Rng) -> f64 {
    match r.below(16) {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => f64::NEG_INFINITY,
        3 => -0.0,
        4 => 1e308,
        5 => -f64::MAX,
        6 => 5e-324,
        7 => f64::MIN_POSITIVE,
        8 => 1e15,
        9 => 0.1 + 0.2,
        10 => (r.next() % 10_000_000) as f64 / 1000.0,
        _ => loop {
            let v = f64::from_bits(r.next());
            if v.is_finite() {
                break v;
            }
        },
    }
}

fn int(r: &mut Rng) -> i64 {
    let any = r.next() as i64;
    *r.pick(&[0, 1, -1, i64::MIN, i64::MAX, 9_007_199_254_740_993, any])
}

fn value(r: &mut Rng, depth: u32) -> Value {
    match r.below(if depth > 0 { 4 } else { 5 }) {
        0 => Value::Str(text(r)),
        1 => Value::Int(int(r)),
        2 => Value::F64(double(r)),
        3 => Value::Bool(r.chance(50)),
        _ => Value::Arr((0..r.below(5)).map(|_| value(r, depth + 1)).collect()),
    }
}

/// Up to `max` attributes with distinct keys (the span model leaves that
/// to its callers).
fn attrs(r: &mut Rng, max: usize) -> Vec<(String, Value)> {
    let n = if max > 1 && r.chance(5) { limits::ATTRIBUTES as usize + r.below(4) } else { r.below(max + 1) };
    (0..n).map(|i| (format!("k{i}.{}", short(r)), value(r, 0))).collect()
}

fn put_all(list: &[(String, Value)]) -> Attrs {
    let mut a = Attrs::default();
    for (k, v) in list {
        a.put(k, v);
    }
    a
}

fn id16(r: &mut Rng) -> [u8; 16] {
    let mut b = [0u8; 16];
    for x in b.iter_mut() {
        *x = r.next() as u8;
    }
    b[15] |= 1;
    b
}

fn nanos(r: &mut Rng) -> u64 {
    let any = r.next();
    *r.pick(&[0, 1, u64::MAX, 1_724_300_000_000_000_123, any])
}

struct Model {
    span: Span,
    attrs: Vec<(String, Value)>,
    events: Vec<(String, u64, Vec<(String, Value)>)>,
    links: Vec<(TraceId, SpanId, u8, Vec<(String, Value)>)>,
    message: String,
}

fn random_span(r: &mut Rng, context: u32) -> Model {
    let trace = TraceId(id16(r));
    let span_id = SpanId(id16(r)[..8].try_into().unwrap());
    let parent = r.chance(60).then(|| SpanId(id16(r)[8..].try_into().unwrap()));
    let mut span = Span::new(text(r), r.below(6) as u8, trace, span_id, parent, nanos(r));
    span.flags = r.next() as u8;
    if r.chance(30) {
        span.trace_state = text(r);
    }
    let list = attrs(r, 12);
    for (k, v) in &list {
        span.set(k, v);
    }
    let n_events = if r.chance(3) { limits::EVENTS as usize + 2 } else { r.below(4) };
    let mut events = Vec::new();
    for _ in 0..n_events {
        let (name, t, a) = (text(r), nanos(r), attrs(r, if n_events > 3 { 1 } else { 3 }));
        span.event(&name, t, &put_all(&a));
        events.push((name, t, a));
    }
    let mut links = Vec::new();
    for _ in 0..if r.chance(3) { limits::LINKS as usize + 1 } else { r.below(3) } {
        let (t, s, f, a) = (TraceId(id16(r)), SpanId(id16(r)[..8].try_into().unwrap()), r.next() as u8, attrs(r, 2));
        span.link(t, s, f, &put_all(&a));
        links.push((t, s, f, a));
    }
    let mut message = String::new();
    match r.below(3) {
        0 => {}
        1 => span.status = status::OK,
        _ => {
            message = text(r);
            span.error(&message);
        }
    }
    if r.chance(80) {
        span.end(nanos(r));
    }
    span.context = context;
    Model { span, attrs: list, events, links, message }
}

fn cut(s: &str) -> String {
    s.chars().take(limits::VALUE_CHARS).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The one place a field name may be: every object key in a body is one of
/// these (lowerCamelCase, OTLP's), or an attribute's value type.
const FIELDS: &[&str] = &[
    "resourceSpans", "resource", "attributes", "droppedAttributesCount", "scopeSpans", "scope", "name", "version", "spans",
    "schemaUrl", "traceId", "spanId", "traceState", "parentSpanId", "flags", "kind", "startTimeUnixNano", "endTimeUnixNano",
    "events", "timeUnixNano", "droppedEventsCount", "links", "droppedLinksCount", "status", "message", "code", "key", "value",
    "stringValue", "boolValue", "intValue", "doubleValue", "arrayValue", "kvlistValue", "bytesValue", "values",
];

fn field_names(j: &J, path: &str) {
    match j {
        J::Object(m) => {
            for (k, v) in m {
                assert!(FIELDS.contains(&k.as_str()), "{path}: field {k:?}");
                assert!(k.chars().next().unwrap().is_ascii_lowercase() && k.chars().all(|c| c.is_ascii_alphanumeric()), "{path}: {k}");
                field_names(v, &format!("{path}.{k}"));
            }
        }
        J::Array(a) => a.iter().enumerate().for_each(|(i, v)| field_names(v, &format!("{path}[{i}]"))),
        _ => {}
    }
}

fn check_value(got: &J, want: &Value, at: &str) {
    let m = got.as_object().unwrap_or_else(|| panic!("{at}: AnyValue is an object: {got}"));
    assert_eq!(m.len(), 1, "{at}: one of the value fields: {got}");
    match want {
        Value::Str(s) => assert_eq!(m["stringValue"].as_str(), Some(cut(s).as_str()), "{at}"),
        Value::Bool(b) => assert_eq!(m["boolValue"].as_bool(), Some(*b), "{at}"),
        Value::Int(i) => {
            let s = m["intValue"].as_str().unwrap_or_else(|| panic!("{at}: intValue is a decimal string: {got}"));
            assert!(s.bytes().enumerate().all(|(n, c)| c.is_ascii_digit() || (n == 0 && c == b'-')), "{at}: {s}");
            assert_eq!(s.parse::<i64>().unwrap(), *i, "{at}");
        }
        Value::F64(f) => check_double(&m["doubleValue"], *f, at),
        Value::Arr(items) => {
            let values = m["arrayValue"]["values"].as_array().unwrap_or_else(|| panic!("{at}: {got}"));
            assert_eq!(values.len(), items.len(), "{at}");
            for (i, (g, w)) in values.iter().zip(items).enumerate() {
                check_value(g, w, &format!("{at}[{i}]"));
            }
        }
    }
}

fn check_double(got: &J, want: f64, at: &str) {
    if want.is_nan() {
        assert_eq!(got, "NaN", "{at}");
    } else if want.is_infinite() {
        assert_eq!(got, if want > 0.0 { "Infinity" } else { "-Infinity" }, "{at}");
    } else {
        let g = got.as_f64().unwrap_or_else(|| panic!("{at}: a finite double is a JSON number: {got}"));
        // 15 significant digits.
        assert!(g == want || ((g - want) / want).abs() < 1e-14, "{at}: {want:e} came back as {g:e} ({got})");
    }
}

fn check_attrs(obj: &Map<String, J>, want: &[(String, Value)], at: &str) {
    let kept = want.len().min(limits::ATTRIBUTES as usize);
    let dropped = want.len() - kept;
    match obj.get("attributes") {
        None => assert_eq!(kept, 0, "{at}: attributes left out only when empty"),
        Some(list) => {
            let list = list.as_array().unwrap();
            assert!(kept > 0, "{at}: an empty list is left out");
            assert_eq!(list.len(), kept, "{at}");
            check_list(list, &want[..kept], at);
        }
    }
    count(obj, "droppedAttributesCount", dropped, at);
}

fn check_list(list: &[J], want: &[(String, Value)], at: &str) {
    let mut keys: Vec<&str> = list.iter().map(|a| a["key"].as_str().unwrap()).collect();
    for (a, (k, v)) in list.iter().zip(want) {
        assert_eq!(a.as_object().unwrap().len(), 2, "{at}: key and value: {a}");
        assert_eq!(a["key"].as_str(), Some(k.as_str()), "{at}");
        check_value(&a["value"], v, &format!("{at}.{k}"));
    }
    keys.sort();
    let n = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), n, "{at}: attribute keys are unique");
}

/// A count: left out when zero, else an integer.
fn count(obj: &Map<String, J>, field: &str, n: usize, at: &str) {
    match obj.get(field) {
        None => assert_eq!(n, 0, "{at}: {field} missing"),
        Some(v) => {
            assert!(n > 0, "{at}: {field} written as 0");
            assert_eq!(v.as_u64(), Some(n as u64), "{at}: {field} is an integer");
        }
    }
}

fn nanos_str(j: &J, want: u64, at: &str) {
    assert_eq!(j.as_str(), Some(want.to_string().as_str()), "{at}: 64-bit integers are decimal strings");
}

fn check_span(s: &J, m: &Model, at: &str) {
    let o = s.as_object().unwrap();
    let sp = &m.span;
    assert_eq!(o["traceId"].as_str(), Some(hex(&sp.trace_id.0).as_str()), "{at}");
    assert_eq!(o["spanId"].as_str(), Some(hex(&sp.span_id.0).as_str()), "{at}");
    for f in ["traceId", "spanId", "parentSpanId"] {
        if let Some(h) = o.get(f) {
            let h = h.as_str().unwrap();
            assert_eq!(h.len(), if f == "traceId" { 32 } else { 16 }, "{at}: {f}");
            assert!(h.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')), "{at}: {f} is lowercase hex");
        }
    }
    assert_eq!(o.get("parentSpanId").and_then(J::as_str), sp.parent.map(|p| hex(&p.0)).as_deref(), "{at}");
    assert_eq!(o.get("traceState").and_then(J::as_str), (!sp.trace_state.is_empty()).then_some(sp.trace_state.as_str()), "{at}");
    assert_eq!(o["flags"].as_u64(), Some(u64::from(sp.flags)), "{at}: flags is an integer");
    assert_eq!(o["name"].as_str(), Some(&*sp.name), "{at}");
    assert_eq!(o["kind"].as_u64(), Some(u64::from(sp.kind)), "{at}: kind is an integer");
    nanos_str(&o["startTimeUnixNano"], sp.start_ns, at);
    nanos_str(&o["endTimeUnixNano"], sp.end_ns.max(sp.start_ns), at);
    check_attrs(o, &m.attrs, at);

    let kept = m.events.len().min(limits::EVENTS as usize);
    assert_eq!(o.get("events").map(|e| e.as_array().unwrap().len()).unwrap_or(0), kept, "{at}: events");
    assert_eq!(o.contains_key("events"), kept > 0, "{at}: no empty events list");
    for (i, (name, t, a)) in m.events.iter().take(kept).enumerate() {
        let e = o["events"][i].as_object().unwrap();
        nanos_str(&e["timeUnixNano"], *t, at);
        assert_eq!(e["name"].as_str(), Some(name.as_str()), "{at}");
        check_attrs(e, a, &format!("{at}.events[{i}]"));
    }
    count(o, "droppedEventsCount", m.events.len() - kept, at);

    let kept = m.links.len().min(limits::LINKS as usize);
    assert_eq!(o.contains_key("links"), kept > 0, "{at}: no empty links list");
    for (i, (t, s, f, a)) in m.links.iter().take(kept).enumerate() {
        let l = o["links"][i].as_object().unwrap();
        assert_eq!(l["traceId"].as_str(), Some(hex(&t.0).as_str()), "{at}");
        assert_eq!(l["spanId"].as_str(), Some(hex(&s.0).as_str()), "{at}");
        assert_eq!(l["flags"].as_u64(), Some(u64::from(*f)), "{at}");
        check_attrs(l, a, &format!("{at}.links[{i}]"));
    }
    count(o, "droppedLinksCount", m.links.len() - kept, at);

    let st = o["status"].as_object().unwrap();
    assert_eq!(st["code"].as_u64(), Some(u64::from(sp.status)), "{at}: status code is an integer");
    let msg = cut(&m.message);
    assert_eq!(st.get("message").and_then(J::as_str), (!msg.is_empty()).then_some(msg.as_str()), "{at}");
}

#[test]
fn random_requests_are_valid_otlp_json() {
    let mut r = Rng(0x5EED_0F_0A17_5EED);
    for case in 0..200 {
        // The limit applies to each list as it is made; a resource list is
        // never cut again when the context is added.
        let n = limits::ATTRIBUTES as usize;
        let resource: Vec<_> = attrs(&mut r, 4).into_iter().take(n).map(|(k, v)| (format!("res.{k}"), v)).collect();
        let mut contexts = Contexts::default();
        let sets: Vec<(u32, Vec<(String, Value)>)> = (0..r.below(4))
            .map(|_| {
                let a: Vec<_> = attrs(&mut r, 3).into_iter().take(n).map(|(k, v)| (format!("ctx.{k}"), v)).collect();
                (contexts.update(put_all(&a)), a)
            })
            .collect();
        let models: Vec<Model> = (0..r.below(6))
            .map(|_| {
                let ctx = if sets.is_empty() || r.chance(20) { 0 } else { r.pick(&sets).0 };
                random_span(&mut r, ctx)
            })
            .collect();
        // Attrs::has finds each key, and no key that is only a value.
        let res_attrs = put_all(&resource);
        for (k, _) in &resource {
            assert!(res_attrs.has(k), "{k}");
        }
        let mut decoy = Attrs::default();
        decoy.put("k", r#"{"key":"absent","value":1}"#);
        assert!(!decoy.has("absent") && decoy.has("k") && !decoy.has("k2") && !res_attrs.has("res."));
        let lost = Losses { dropped: *r.pick(&[0, 3, u64::MAX]), unconfirmed: *r.pick(&[0, 7, i64::MAX as u64 + 1]) };
        let spans: Vec<Span> = models.iter().map(|m| m.span.clone()).collect();
        let mut out = Vec::new();
        encode(&mut out, &put_all(&resource), &contexts, &spans, lost);
        let at = format!("case {case}");
        let body: J = serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{at}: not JSON ({e}): {}", String::from_utf8_lossy(&out)));
        field_names(&body, &at);
        assert_eq!(body.as_object().unwrap().len(), 1, "{at}");

        // One ResourceSpans per context set, in order of first use.
        let mut order: Vec<u32> = Vec::new();
        for m in &models {
            if !order.contains(&m.span.context) {
                order.push(m.span.context);
            }
        }
        let groups = body["resourceSpans"].as_array().unwrap();
        assert_eq!(groups.len(), order.len(), "{at}");
        for (g, (group, ctx)) in groups.iter().zip(&order).enumerate() {
            let at = format!("{at} group {g}");
            let mut want = resource.clone();
            if let Some((_, a)) = sets.iter().rev().find(|(id, _)| id == ctx) {
                want.extend(a.iter().cloned());
            }
            if g == 0 {
                for (k, n) in [("waggle.dropped_spans", lost.dropped), ("waggle.unconfirmed_spans", lost.unconfirmed)] {
                    if n > 0 {
                        want.push((k.into(), Value::Int(n.min(i64::MAX as u64) as i64)));
                    }
                }
            }
            let res = group["resource"].as_object().unwrap();
            let list = res.get("attributes").and_then(J::as_array).cloned().unwrap_or_default();
            check_list(&list, &want, &format!("{at} resource"));
            assert_eq!(list.len(), want.len(), "{at}: resource attributes");
            let scopes = group["scopeSpans"].as_array().unwrap();
            assert_eq!(scopes.len(), 1, "{at}");
            assert_eq!(scopes[0]["scope"], serde_json::json!({ "name": SCOPE_NAME, "version": VERSION }), "{at}");
            let got = scopes[0]["spans"].as_array().unwrap();
            let mine: Vec<&Model> = models.iter().filter(|m| m.span.context == *ctx).collect();
            assert_eq!(got.len(), mine.len(), "{at}");
            for (i, (s, m)) in got.iter().zip(mine).enumerate() {
                check_span(s, m, &format!("{at} span {i}"));
            }
        }
    }
}
