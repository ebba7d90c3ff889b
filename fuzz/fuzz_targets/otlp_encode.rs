//! Whatever strings and numbers spans carry, the body is JSON that
//! serde_json reads, in the OTLP/JSON mapping's shape: hex ids, 64-bit
//! integers as decimal strings, doubles as numbers or the protobuf JSON
//! strings for non-finite ones. Spans are built from the fuzz bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde_json::Value as J;
use waggle_rum::core::context::Contexts;
use waggle_rum::core::ids::{SpanId, TraceId};
use waggle_rum::core::otlp::{encode, Losses};
use waggle_rum::core::span::{Attrs, Span, Value};

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else { return 0 };
        self.0 = rest;
        b
    }
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut a = [0u8; N];
        for x in a.iter_mut() {
            *x = self.byte();
        }
        a
    }
    fn text(&mut self) -> String {
        let n = usize::from(self.byte() % 32);
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        String::from_utf8_lossy(a).into_owned()
    }
    fn value(&mut self, depth: u32) -> Value {
        match self.byte() % 5 {
            0 => Value::Str(self.text()),
            1 => Value::Int(i64::from_le_bytes(self.array())),
            2 => Value::F64(f64::from_le_bytes(self.array())),
            3 => Value::Bool(self.byte() & 1 == 1),
            _ if depth < 2 => Value::Arr((0..self.byte() % 4).map(|_| self.value(depth + 1)).collect()),
            _ => Value::Bool(false),
        }
    }
    fn attrs(&mut self) -> Attrs {
        let mut a = Attrs::default();
        for i in 0..self.byte() % 6 {
            let key = format!("{i}{}", self.text());
            a.put(&key, self.value(0));
        }
        a
    }
}

fn check_value(v: &J) {
    let m = v.as_object().expect("AnyValue is an object");
    assert_eq!(m.len(), 1);
    let (k, x) = m.iter().next().unwrap();
    match k.as_str() {
        "stringValue" => assert!(x.is_string()),
        "boolValue" => assert!(x.is_boolean()),
        "intValue" => assert!(x.as_str().expect("a decimal string").parse::<i64>().is_ok()),
        "doubleValue" => assert!(x.is_number() || ["NaN", "Infinity", "-Infinity"].contains(&x.as_str().unwrap_or(""))),
        "arrayValue" => x["values"].as_array().expect("values").iter().for_each(check_value),
        other => panic!("value field {other}"),
    }
}

fn check_attrs(o: &J) {
    for a in o["attributes"].as_array().into_iter().flatten() {
        assert!(a["key"].is_string());
        check_value(&a["value"]);
    }
}

fn hex(j: &J, len: usize) {
    let s = j.as_str().expect("hex id");
    assert_eq!(s.len(), len);
    assert!(s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')));
}

fuzz_target!(|data: &[u8]| {
    let mut d = Bytes(data);
    let resource = d.attrs();
    let mut contexts = Contexts::default();
    let ctx = contexts.update(d.attrs());
    let mut spans = Vec::new();
    for _ in 0..d.byte() % 4 {
        let name = d.text();
        let mut s = Span::new(name, d.byte() % 6, TraceId(d.array()), SpanId(d.array()), (d.byte() & 1 == 1).then(|| SpanId([7; 8])), u64::from_le_bytes(d.array()));
        s.flags = d.byte();
        s.trace_state = d.text();
        s.attrs = d.attrs();
        for _ in 0..d.byte() % 3 {
            let (name, t, a) = (d.text(), u64::from_le_bytes(d.array()), d.attrs());
            s.event(&name, t, &a);
        }
        if d.byte() & 1 == 1 {
            let a = d.attrs();
            s.link(TraceId(d.array()), SpanId(d.array()), d.byte(), &a);
        }
        if d.byte() & 1 == 1 {
            let m = d.text();
            s.error(&m);
        }
        s.end(u64::from_le_bytes(d.array()));
        s.context = if d.byte() & 1 == 1 { ctx } else { 0 };
        spans.push(s);
    }
    let lost = Losses { dropped: u64::from(d.byte()), unconfirmed: u64::from_le_bytes(d.array()) };
    let mut out = Vec::new();
    encode(&mut out, &resource, &contexts, &spans, lost);
    let body: J = serde_json::from_slice(&out).expect("valid JSON");
    let mut n = 0;
    for rs in body["resourceSpans"].as_array().expect("resourceSpans") {
        check_attrs(&rs["resource"]);
        for s in rs["scopeSpans"][0]["spans"].as_array().expect("spans") {
            n += 1;
            hex(&s["traceId"], 32);
            hex(&s["spanId"], 16);
            if !s["parentSpanId"].is_null() {
                hex(&s["parentSpanId"], 16);
            }
            assert!(s["startTimeUnixNano"].as_str().expect("a decimal string").parse::<u64>().is_ok());
            assert!(s["endTimeUnixNano"].as_str().expect("a decimal string").parse::<u64>().is_ok());
            assert!(s["kind"].is_u64() && s["flags"].is_u64() && s["status"]["code"].is_u64());
            check_attrs(s);
            for e in s["events"].as_array().into_iter().flatten() {
                assert!(e["timeUnixNano"].as_str().expect("a decimal string").parse::<u64>().is_ok());
                check_attrs(e);
            }
            for l in s["links"].as_array().into_iter().flatten() {
                hex(&l["traceId"], 32);
                hex(&l["spanId"], 16);
                check_attrs(l);
            }
        }
    }
    assert_eq!(n, spans.len());
});
