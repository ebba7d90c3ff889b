//! The whole agent, natively: observations in as the page's JavaScript
//! writes them, commands out, the bodies it posts read back as OTLP/JSON.

use serde_json::Value as J;
use waggle_rum::core::config::ConfigValue::{self, *};
use waggle_rum::platform::protocol::{cmd, rec};
use waggle_rum::platform::wire::Writer;
use waggle_rum::Waggle;

fn fill(b: &mut [u8]) {
    thread_local!(static STATE: std::cell::Cell<u64> = const { std::cell::Cell::new(0x9E3779B97F4A7C15) });
    STATE.with(|s| {
        for x in b.iter_mut() {
            let mut v = s.get();
            v ^= v << 13;
            v ^= v >> 7;
            v ^= v << 17;
            s.set(v);
            *x = v as u8;
        }
    });
}

/// A decoded command: its kind and fields.
#[derive(Debug, Clone, PartialEq)]
#[allow(dead_code)]
enum F {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<F>),
    Bytes(Vec<u8>),
}

fn decode(out: &[u8]) -> Vec<Vec<F>> {
    // The commands are a sequence of arrays; bytes point into this
    // process's memory, as into the module's in a page.
    fn read(b: &[u8], i: &mut usize) -> F {
        let vint = |b: &[u8], i: &mut usize| {
            let mut v = 0u64;
            let mut s = 0;
            loop {
                let x = b[*i];
                *i += 1;
                v |= u64::from(x & 127) << s;
                s += 7;
                if x < 128 {
                    return v;
                }
            }
        };
        let t = b[*i];
        *i += 1;
        match t {
            0 => F::Null,
            1 => F::Bool(false),
            2 => F::Bool(true),
            3 => {
                let v = f64::from_le_bytes(b[*i..*i + 8].try_into().unwrap());
                *i += 8;
                F::Num(v)
            }
            4 => {
                let n = vint(b, i) as usize;
                let s = std::str::from_utf8(&b[*i..*i + n]).unwrap().to_string();
                *i += n;
                F::Str(s)
            }
            5 => {
                let n = vint(b, i);
                F::Arr((0..n).map(|_| read(b, i)).collect())
            }
            9 => F::Num(vint(b, i) as f64),
            10 => {
                let p = vint(b, i) as usize;
                let n = vint(b, i) as usize;
                // SAFETY: the pointer is into the agent's own buffers, alive
                // until the next run.
                F::Bytes(unsafe { std::slice::from_raw_parts(p as *const u8, n) }.to_vec())
            }
            _ => panic!("tag {t}"),
        }
    }
    let mut i = 0;
    let mut out_cmds = Vec::new();
    while i < out.len() {
        match read(out, &mut i) {
            F::Arr(items) => out_cmds.push(items),
            other => panic!("{other:?}"),
        }
    }
    out_cmds
}

fn kind(c: &[F]) -> u32 {
    match c[0] {
        F::Num(n) => n as u32,
        _ => panic!(),
    }
}

struct Page {
    w: Waggle,
    now: f64,
    posted: Vec<J>,
    cmds: Vec<Vec<F>>,
    /// Bodies being gzipped, by request id; gzipping ends at once unless
    /// `hold_gzip`.
    gz: Vec<(u32, Vec<u8>)>,
    hold_gzip: bool,
    /// What `localStorage` holds when the page starts.
    unsent: String,
}

fn obj(e: &[(&str, ConfigValue)]) -> ConfigValue {
    Object(e.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

impl Page {
    fn new() -> Self {
        Page { w: Waggle::new(fill), now: 100.0, posted: vec![], cmds: vec![], gz: vec![], hold_gzip: false, unsent: String::new() }
    }

    fn send(&mut self, build: impl FnOnce(&mut Writer)) {
        let mut w = Writer::default();
        build(&mut w);
        let input = w.into_bytes();
        let out = self.w.run(&input, self.now, f64::NAN).to_vec();
        let mut gzipped = vec![];
        for c in decode(&out) {
            let id = match &c.get(1) {
                Some(F::Num(n)) => *n as u32,
                _ => 0,
            };
            if kind(&c) == cmd::POST {
                let body = match &c[2] {
                    F::Bytes(b) => Some(b.clone()),
                    _ => self.gz.iter().find(|(i, _)| *i == id).map(|(_, b)| b.clone()),
                };
                if let Some(b) = body {
                    self.posted.push(serde_json::from_slice(&b).expect("a JSON body"));
                }
            }
            if kind(&c) == cmd::COMPRESS {
                if let F::Bytes(b) = &c[2] {
                    // Ids start again with a new delivery (after a denial).
                    self.gz.retain(|(i, _)| *i != id);
                    self.gz.push((id, b.clone()));
                    gzipped.push(id);
                }
            }
            self.cmds.push(c);
        }
        if !self.hold_gzip {
            for id in gzipped {
                self.gzipped(id);
            }
        }
    }

    fn gzipped(&mut self, id: u32) {
        self.send(|w| {
            w.arr(3);
            w.uint(rec::GZIPPED);
            w.uint(id);
            w.uint(1000);
        });
    }

    fn init(&mut self, options: ConfigValue) {
        self.init_chosen(options, &[]);
    }

    /// `init` after `setConsent` was called with `chosen`.
    fn init_chosen(&mut self, options: ConfigValue, chosen: &[&str]) {
        let unsent = self.unsent.clone();
        self.send(|w| {
            w.arr(4);
            w.uint(rec::INIT);
            w.tree(&options);
            w.arr(17);
            w.num(1_764_633_600_000.0);
            w.str("https://shop.test/cart?x=1");
            w.str("https://shop.test");
            w.str("Cart");
            w.str("Mozilla/5.0 Test");
            w.arr(0);
            w.str("Linux");
            w.bool(false);
            w.str("en");
            w.null();
            // CompressionStream, online, hidden.
            w.bool(true);
            w.bool(true);
            w.bool(false);
            w.str("navigate");
            w.num(0.0);
            w.bool(false);
            w.bool(false);
            w.arr(chosen.len());
            for c in chosen {
                w.str(c);
            }
        });
        if !unsent.is_empty() {
            self.send(|w| {
                w.arr(2);
                w.uint(rec::UNSENT);
                w.str(&unsent);
            });
        }
    }

    fn flush(&mut self) {
        self.send(|w| {
            w.arr(2);
            w.uint(rec::FLUSH);
            w.uint(1);
        });
        // One batch per task: tick until nothing more is asked for.
        for _ in 0..20 {
            self.now += 1.0;
            self.send(|w| {
                w.arr(2);
                w.uint(rec::TIMER);
                w.uint(1);
            });
        }
    }

    fn spans(&self) -> Vec<(J, J)> {
        let mut out = vec![];
        for body in &self.posted {
            for rs in body["resourceSpans"].as_array().unwrap() {
                for s in rs["scopeSpans"][0]["spans"].as_array().unwrap() {
                    out.push((rs["resource"].clone(), s.clone()));
                }
            }
        }
        out
    }
}

fn resource_keys(r: &J) -> Vec<String> {
    r["attributes"].as_array().unwrap().iter().map(|a| a["key"].as_str().unwrap().to_string()).collect()
}

#[test]
fn session_and_page_travel_with_every_span() {
    let mut p = Page::new();
    p.init(obj(&[("serviceName", Str("shop".into())), ("batch", obj(&[("scheduledDelayMillis", Number(0.0))]))]));
    p.flush();
    let spans = p.spans();
    assert!(!spans.is_empty(), "{:?}", p.cmds);
    let (resource, span) = &spans[0];
    assert_eq!(span["name"], "session.start");
    let keys = resource_keys(resource);
    for k in ["service.name", "session.id", "browser.document.url.full", "waggle.page.route", "waggle.page.title"] {
        assert!(keys.contains(&k.to_string()), "{k} in {keys:?}");
    }
}


impl Page {
    fn app_spans(&mut self, from: usize, n: usize, waiting_after: usize) {
        self.send(|w| {
            w.arr(3 + n);
            w.uint(rec::SPANS);
            w.uint(0);
            w.uint(waiting_after as u32);
            for i in from..from + n {
                w.arr(10);
                w.str("burst");
                w.num(200.0);
                w.num(200.5);
                w.null();
                w.uint(0);
                w.arr(2);
                w.str("test.seq");
                w.uint(i as u32);
                w.null();
                w.null();
                w.null();
                w.null();
            }
        });
    }

    fn last_pull(&self) -> Option<(usize, bool)> {
        self.cmds.iter().rev().find(|c| kind(c) == cmd::PULL).map(|c| match (&c[1], &c[2]) {
            (F::Num(n), F::Bool(b)) => (*n as usize, *b),
            _ => panic!(),
        })
    }

    /// Every body and count kept, over all the page's storage writes.
    fn kept(&self) -> (Vec<i64>, u64) {
        let mut seqs_kept = vec![];
        let mut dropped = 0;
        for c in self.cmds.iter().filter(|c| kind(c) == cmd::STORE && matches!(&c[2], F::Str(k) if k == "waggle.unsent")) {
            let F::Str(v) = &c[3] else { continue };
            for k in waggle_rum::core::spill::parse(v) {
                if k.body == waggle_rum::core::spill::DROPPED {
                    dropped += k.spans as u64;
                } else if !waggle_rum::core::spill::is_count(k.body) {
                    seqs_kept.extend(seqs(&serde_json::from_str(k.body).unwrap()));
                }
            }
        }
        (seqs_kept, dropped)
    }

    fn stored(&self) -> Option<String> {
        self.cmds.iter().rev().find(|c| kind(c) == cmd::STORE && matches!(&c[2], F::Str(k) if k == "waggle.unsent")).map(|c| match &c[3] {
            F::Str(s) => s.clone(),
            _ => String::new(),
        })
    }
}

fn seqs(body: &J) -> Vec<i64> {
    let mut out = vec![];
    for rs in body["resourceSpans"].as_array().unwrap() {
        for s in rs["scopeSpans"][0]["spans"].as_array().unwrap() {
            for a in s["attributes"].as_array().into_iter().flatten() {
                if a["key"] == "test.seq" {
                    out.push(a["value"]["intValue"].as_str().unwrap().parse().unwrap());
                }
            }
        }
    }
    out
}

#[test]
fn leaving_after_a_burst_sends_what_fits_and_keeps_the_rest_once() {
    let mut p = Page::new();
    p.init(obj(&[("serviceName", Str("shop".into()))]));
    p.send(|w| {
        w.arr(3);
        w.uint(rec::APP_WAITING);
        w.uint(2000);
        w.uint(0);
    });
    p.send(|w| {
        w.arr(3);
        w.uint(rec::HIDE);
        w.uint(2);
        w.uint(0);
    });
    let (n, drop_rest) = p.last_pull().expect("asks for the app's spans");
    assert!(drop_rest);
    let take = n.min(2000);
    p.app_spans(0, take, 0);
    let posted: Vec<i64> = p.posted.iter().flat_map(seqs).collect();
    let (kept, dropped) = p.kept();
    assert!(!kept.is_empty(), "what does not fit is stored");
    let mut all: Vec<i64> = posted.iter().chain(&kept).copied().collect();
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(all.len(), before, "no span twice");
    assert_eq!(all.len() as u64 + dropped, take as u64, "every span pulled is posted, kept or counted ({} posted, {} kept, {dropped} dropped)", posted.len(), kept.len());
}

#[test]
fn leaving_while_a_batch_is_being_compressed_sends_or_keeps_each_span_once() {
    let mut p = Page::new();
    p.init(obj(&[("serviceName", Str("shop".into()))]));
    p.hold_gzip = true;
    p.send(|w| {
        w.arr(3);
        w.uint(rec::APP_WAITING);
        w.uint(2000);
        w.uint(0);
    });
    p.now += 1.0;
    p.send(|w| {
        w.arr(2);
        w.uint(rec::TIMER);
        w.uint(1);
    });
    let (n, _) = p.last_pull().expect("a batch asks for spans");
    p.app_spans(0, n, 2000 - n);
    let compress: Vec<_> = p.cmds.iter().filter(|c| kind(c) == cmd::COMPRESS).cloned().collect();
    assert_eq!(compress.len(), 1, "{:?}", p.cmds.iter().map(|c| kind(c)).collect::<Vec<_>>());
    let first_id = match &compress[0][1] {
        F::Num(n) => *n as u32,
        _ => panic!(),
    };
    p.cmds.clear();
    p.send(|w| {
        w.arr(3);
        w.uint(rec::HIDE);
        w.uint(2);
        w.uint(0);
    });
    let (m, _) = p.last_pull().expect("the rest is asked for");
    p.app_spans(n, m.min(2000 - n), 0);
    // Compression of the first batch ends after the page was left.
    p.gzipped(first_id);
    let posts_after = p.cmds.iter().filter(|c| kind(c) == cmd::POST).count();
    let posted: Vec<i64> = p.posted.iter().flat_map(seqs).collect();
    let (kept, dropped) = p.kept();
    // Those the page dropped itself, not asked for (the page counts them).
    let not_asked = (2000 - n - m.min(2000 - n)) as u64;
    let mut all: Vec<i64> = posted.iter().chain(&kept).copied().collect();
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(all.len(), before, "no span twice ({posts_after} posts)");
    assert_eq!(all.len() as u64 + dropped + not_asked, 2000, "{} posted, {} kept, {dropped} dropped, {not_asked} not asked for", posted.len(), kept.len());
}

#[test]
fn keepalive_requests_an_unloading_page_cannot_confirm_are_reported_by_the_next_page_not_resent() {
    let mut p = Page::new();
    p.init(obj(&[("serviceName", Str("shop".into()))]));
    p.send(|w| {
        w.arr(3);
        w.uint(rec::APP_WAITING);
        w.uint(5);
        w.uint(0);
    });
    p.send(|w| {
        w.arr(3);
        w.uint(rec::HIDE);
        w.uint(2);
        w.uint(0);
    });
    p.app_spans(0, 5, 0);
    let post = p.cmds.iter().find(|c| kind(c) == cmd::POST).expect("a keepalive post").clone();
    let F::Num(id) = post[1] else { panic!() };
    assert!(matches!(post[4], F::Bool(true)), "keepalive");
    // The document unloads: Chrome rejects the fetch, the request goes on.
    p.send(|w| {
        w.arr(6);
        w.uint(rec::ANSWER);
        w.uint(id as u32);
        w.null();
        w.str("");
        w.null();
        w.str("");
    });
    let stored = p.stored().expect("the count is kept");
    let kept = waggle_rum::core::spill::parse(&stored);
    assert_eq!(kept.len(), 1, "no body kept to be sent twice: {stored:?}");
    let in_body: usize = p.posted[0]["resourceSpans"].as_array().unwrap().iter().map(|r| r["scopeSpans"][0]["spans"].as_array().unwrap().len()).sum();
    assert!(in_body >= 5);
    assert_eq!((kept[0].spans, kept[0].body), (in_body, "unconfirmed"));

    let mut next = Page::new();
    next.unsent = stored;
    next.init(obj(&[("serviceName", Str("shop".into()))]));
    next.send(|w| {
        w.arr(3);
        w.uint(rec::APP_WAITING);
        w.uint(1);
        w.uint(0);
    });
    next.flush();
    if let Some((n, _)) = next.last_pull() {
        next.app_spans(100, n.min(1), 0);
        next.flush();
    }
    let res = next.posted.iter().flat_map(|b| b["resourceSpans"][0]["resource"]["attributes"].as_array().cloned().unwrap_or_default()).find(|a| a["key"] == "waggle.unconfirmed_spans");
    assert_eq!(res.expect("reported")["value"]["intValue"], in_body.to_string());
    assert!(next.posted.iter().flat_map(seqs).all(|s| s >= 100), "nothing resent");
}

#[test]
fn resource_attribute_keys_are_unique_whatever_the_app_names_its_globals() {
    // OTLP: "Attribute keys MUST be unique". A global attribute named like
    // one of the agent's resource or context keys would repeat it.
    let mut p = Page::new();
    let globals = obj(&[
        ("service.name", Str("other".into())),
        ("telemetry.sdk.name", Str("other".into())),
        ("session.id", Str("mine".into())),
        ("app.k", Str("v".into())),
    ]);
    p.init(obj(&[("serviceName", Str("shop".into())), ("attributes", globals), ("batch", obj(&[("scheduledDelayMillis", Number(0.0))]))]));
    p.flush();
    let spans = p.spans();
    assert!(!spans.is_empty());
    for (resource, _) in &spans {
        let mut keys = resource_keys(resource);
        assert!(keys.contains(&"app.k".to_string()), "{keys:?}");
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "{resource}");
        let attrs = resource["attributes"].as_array().unwrap();
        let value = |k: &str| attrs.iter().find(|a| a["key"] == k).map(|a| a["value"]["stringValue"].clone());
        assert_eq!(value("service.name"), Some(J::from("shop")), "init's serviceName wins");
        assert_ne!(value("session.id"), Some(J::from("mine")), "the agent's session wins");
    }
}

impl Page {
    fn url(&mut self, source: u32, href: &str, detail: &str) {
        let t = self.now;
        self.send(|w| {
            w.arr(6);
            w.uint(rec::URL);
            w.uint(source);
            w.num(t);
            w.str(href);
            w.str("Shop");
            w.str(detail);
        });
    }

    fn set_route(&mut self, v: ConfigValue) {
        self.send(|w| {
            w.arr(2);
            w.uint(rec::ROUTE);
            w.tree(&v);
        });
    }

    /// Lets the page be quiet for `ms`, polled as the page would.
    fn quiet(&mut self, ms: f64) {
        let until = self.now + ms;
        while self.now < until {
            self.now += 16.0;
            self.send(|w| {
                w.arr(2);
                w.uint(rec::TIMER);
                w.uint(2);
            });
        }
    }

    /// The console lines written: (level, text).
    fn logs(&self) -> Vec<(u32, String)> {
        self.cmds
            .iter()
            .filter(|c| kind(c) == cmd::LOG)
            .map(|c| match (&c[1], &c[2]) {
                (F::Num(l), F::Str(t)) => (*l as u32, t.clone()),
                _ => panic!(),
            })
            .collect()
    }
}

fn attr<'a>(list: &'a J, key: &str) -> Option<&'a J> {
    list["attributes"].as_array()?.iter().find(|a| a["key"] == key).map(|a| &a["value"])
}

#[test]
fn debug_logs_the_configuration_then_each_export_with_its_spans_at_a_visible_level() {
    let mut p = Page::new();
    let link = "https://ui.honeycomb.io/team/environments/env/trace?trace_id={traceId}";
    p.init(obj(&[
        ("serviceName", Str("shop".into())),
        ("batch", obj(&[("scheduledDelayMillis", Number(0.0))])),
        ("debug", obj(&[("traceUrl", Str(link.into()))])),
    ]));
    p.flush();
    let logs = p.logs();
    let (level, first) = &logs[0];
    assert_eq!(*level, 1, "info: shown at DevTools' default level");
    assert!(first.starts_with("started with { serviceName: 'shop', "), "{first}");
    assert!(first.contains(&format!("debug: {{ traceUrl: '{link}' }}")), "{first}");
    assert!(first.ends_with("spans go to http://localhost:4318/v1/traces"), "{first}");
    let (level, group) = logs.iter().find(|(_, t)| t.starts_with("export of ")).expect("an export group");
    assert_eq!(*level, 4, "a console group");
    let spans = p.spans();
    let lines: Vec<&str> = group.lines().collect();
    assert_eq!(lines[0], format!("export of {} span{}:", spans.len(), if spans.len() == 1 { "" } else { "s" }));
    for (_, s) in &spans {
        let id = s["traceId"].as_str().unwrap();
        let line = lines.iter().find(|l| l.starts_with(&format!("{} ", s["name"].as_str().unwrap()))).expect("a line per span");
        assert!(line.ends_with(&format!(" trace {id} {}", link.replace("{traceId}", id))), "{line}");
    }
    // The answer, when debug is on, at the same level.
    p.send(|w| {
        w.arr(6);
        w.uint(rec::ANSWER);
        w.uint(1);
        w.uint(200);
        w.str("");
        w.null();
        w.str("");
    });
    assert!(p.logs().iter().any(|(l, t)| *l == 1 && t.starts_with("export of ") && t.ends_with("answered 200")), "{:?}", p.logs());

    // Without debug: nothing of the kind.
    let mut q = Page::new();
    q.init(obj(&[("serviceName", Str("shop".into())), ("batch", obj(&[("scheduledDelayMillis", Number(0.0))]))]));
    q.flush();
    assert!(q.logs().is_empty(), "{:?}", q.logs());
}

#[test]
fn a_route_named_right_after_the_url_changed_is_that_route_change_s_and_the_page_s() {
    let mut p = Page::new();
    p.init(obj(&[("serviceName", Str("shop".into())), ("batch", obj(&[("scheduledDelayMillis", Number(0.0))]))]));
    // The first view, named at once.
    p.set_route(Str("/cart".into()));
    p.url(0, "https://shop.test/cart?x=1", "pushState");
    p.url(1, "https://shop.test/products/42?ref=home", "pushState");
    // The router renders, then names the new view's route.
    p.now += 20.0;
    p.set_route(Str("/products/:id".into()));
    p.quiet(300.0);
    // A query change on the same path keeps the name; a bad value is
    // refused with a warning and changes nothing.
    p.url(0, "https://shop.test/products/42?ref=home", "replaceState");
    p.url(1, "https://shop.test/products/42?tab=reviews", "replaceState");
    p.set_route(Number(3.0));
    p.quiet(300.0);
    // Another path, never named: its path.
    p.url(0, "https://shop.test/products/42?tab=reviews", "pushState");
    p.url(1, "https://shop.test/about", "pushState");
    p.quiet(300.0);
    p.flush();
    let routes: Vec<(J, J)> = p.spans().into_iter().filter(|(_, s)| s["name"] == "routeChange").collect();
    assert_eq!(routes.len(), 3);
    let s = |i: usize, k: &str| attr(&routes[i].1, k).and_then(|v| v["stringValue"].as_str()).map(String::from);
    let r = |i: usize, k: &str| attr(&routes[i].0, k).and_then(|v| v["stringValue"].as_str()).map(String::from);
    let some = |v: &str| Some(v.to_string());
    assert_eq!((s(0, "waggle.route.from"), s(0, "waggle.route.to"), s(0, "waggle.page.route")), (some("/cart"), some("/products/:id"), some("/products/:id")));
    assert_eq!(r(0, "waggle.page.route"), some("/products/:id"), "the context it ended in");
    // The raw URL stays in the URL attributes.
    assert_eq!(s(0, "browser.document.url.full"), some("https://shop.test/products/42?ref=home"));
    assert_eq!(r(0, "browser.document.url.full"), some("https://shop.test/products/42?ref=home"));
    assert_eq!((s(1, "waggle.route.from"), s(1, "waggle.route.to")), (some("/products/:id"), some("/products/:id")));
    assert_eq!((s(2, "waggle.route.from"), s(2, "waggle.route.to"), r(2, "waggle.page.route")), (some("/products/:id"), some("/about"), some("/about")));
    let warned = p.logs().into_iter().filter(|(l, t)| *l == 2 && t.starts_with("setRoute takes a route template")).count();
    assert_eq!(warned, 1);
}


impl Page {
    fn consent(&mut self, v: ConfigValue) {
        self.send(|w| {
            w.arr(2);
            w.uint(rec::CONSENT);
            w.tree(&v);
        });
    }

    fn record(&mut self, kind: u32, n: u32) {
        self.send(|w| {
            w.arr(3);
            w.uint(kind);
            w.uint(n);
            w.uint(0);
        });
    }

    /// The commands of these kinds since command `from`.
    fn of(&self, from: usize, kinds: &[u32]) -> Vec<Vec<F>> {
        self.cmds[from..].iter().filter(|c| kinds.contains(&kind(c))).cloned().collect()
    }

    fn warnings(&self) -> Vec<String> {
        self.cmds
            .iter()
            .filter(|c| kind(c) == cmd::LOG)
            .filter_map(|c| match (&c[1], &c[2]) {
                (F::Num(l), F::Str(s)) if *l == 2.0 => Some(s.clone()),
                _ => None,
            })
            .collect()
    }
}

fn consent_cmds(cmds: &[Vec<F>]) -> Vec<(u32, bool)> {
    cmds.iter()
        .filter(|c| kind(c) == cmd::CONSENT)
        .map(|c| match (&c[1], &c[2]) {
            (F::Num(n), F::Bool(b)) => (*n as u32, *b),
            other => panic!("{other:?}"),
        })
        .collect()
}

fn quick(consent: &str) -> ConfigValue {
    obj(&[("serviceName", Str("shop".into())), ("batch", obj(&[("scheduledDelayMillis", Number(0.0))])), ("consent", Str(consent.into()))])
}

#[test]
fn pending_sends_stores_and_claims_nothing_even_as_the_page_goes_and_a_grant_sends_it_all() {
    let mut p = Page::new();
    p.init(quick("pending"));
    assert_eq!(consent_cmds(&p.cmds), vec![(0, false)]);
    // The app's spans wait; the page is hidden, left, frozen; a flush.
    p.record(rec::APP_WAITING, 3);
    p.record(rec::HIDE, 0);
    p.record(rec::HIDE, 2);
    p.send(|w| {
        w.arr(1);
        w.uint(rec::FREEZE);
    });
    p.flush();
    let io = [cmd::POST, cmd::COMPRESS, cmd::STORE, cmd::CLAIM, cmd::PULL, cmd::TIMER];
    assert_eq!(p.of(0, &io), Vec::<Vec<F>>::new(), "nothing sent, stored, claimed, asked for or waited for");
    assert!(p.of(0, &[cmd::DONE]).len() == 1, "the flush is done: there is nothing it may try");
    // Back, and granted: the session is written, earlier pages' bodies
    // claimed, and what was recorded asked for and sent.
    p.record(rec::SHOW, 0);
    let from = p.cmds.len();
    p.consent(Str("granted".into()));
    assert_eq!(consent_cmds(&p.cmds[from..]), vec![(1, false)]);
    let stores = p.of(from, &[cmd::STORE]);
    assert_eq!(stores.len(), 1);
    assert!(matches!(&stores[0][2], F::Str(k) if k == "waggle.session"));
    assert_eq!(p.of(from, &[cmd::CLAIM]).len(), 1);
    p.flush();
    assert!(p.last_pull().is_some(), "the app's spans are asked for");
    p.app_spans(0, 3, 0);
    p.flush();
    let names: Vec<String> = p.spans().iter().map(|(_, s)| s["name"].as_str().unwrap().to_string()).collect();
    assert!(names.contains(&"session.start".to_string()), "{names:?}");
    assert_eq!(names.iter().filter(|n| *n == "burst").count(), 3, "{names:?}");
}

#[test]
fn denied_stops_without_sending_and_a_later_grant_starts_again_with_a_new_session() {
    let mut p = Page::new();
    p.init(quick("granted"));
    p.flush();
    let first = p.spans().iter().find(|(_, s)| s["name"] == "session.start").map(|(r, _)| r.clone()).expect("session.start");
    let posted = p.posted.len();
    p.record(rec::APP_WAITING, 5);
    let from = p.cmds.len();
    p.consent(Str("denied".into()));
    assert_eq!(consent_cmds(&p.cmds[from..]), vec![(2, false)]);
    p.record(rec::APP_WAITING, 5);
    p.record(rec::HIDE, 2);
    p.flush();
    assert_eq!(p.posted.len(), posted, "nothing more is sent");
    assert_eq!(p.of(from, &[cmd::STORE, cmd::CLAIM, cmd::PULL, cmd::POST]), Vec::<Vec<F>>::new());
    // Denied again: nothing to do.
    let from = p.cmds.len();
    p.consent(Str("denied".into()));
    assert_eq!(consent_cmds(&p.cmds[from..]), vec![]);
    // Granted: the page is asked to start again, and does, with the options it had.
    p.consent(Str("granted".into()));
    assert_eq!(consent_cmds(&p.cmds[from..]), vec![(1, true)]);
    p.init(quick("denied"));
    assert_eq!(consent_cmds(&p.cmds[from..]), vec![(1, true), (1, false)], "the page's choice wins over the option");
    p.flush();
    let starts: Vec<_> = p.spans().into_iter().filter(|(_, s)| s["name"] == "session.start").collect();
    assert_eq!(starts.len(), 2);
    let id = |r: &J| attr(r, "session.id").unwrap()["stringValue"].clone();
    assert_eq!(id(&starts[0].0), id(&first));
    assert_ne!(id(&starts[1].0), id(&first), "a new session");
}

#[test]
fn consent_chosen_before_init_wins_over_the_option_and_bad_values_are_named_once() {
    let mut p = Page::new();
    p.init_chosen(quick("granted"), &["pending", "maybe"]);
    assert_eq!(consent_cmds(&p.cmds), vec![(0, false)], "the last good choice");
    p.consent(Number(1.0));
    p.consent(Str("granted".into()));
    p.consent(Str("pending".into()));
    assert_eq!(
        p.warnings(),
        vec![
            "setConsent: must be 'granted', 'pending' or 'denied', got \"maybe\"; the call is ignored".to_string(),
            "setConsent: must be 'granted', 'pending' or 'denied', got number; the call is ignored".to_string(),
            "setConsent('pending') is ignored once consent was granted or denied".to_string(),
        ]
    );
    // Denied by the option: stopped at once, nothing stored.
    let mut p = Page::new();
    p.init(quick("denied"));
    assert_eq!(consent_cmds(&p.cmds), vec![(2, false)]);
    p.flush();
    assert_eq!(p.of(0, &[cmd::STORE, cmd::POST, cmd::CONFIG]), Vec::<Vec<F>>::new());
}

#[test]
fn what_was_held_when_the_agent_was_shut_down_goes_out_at_the_next_init_once_granted() {
    let mut p = Page::new();
    p.init(quick("pending"));
    p.send(|w| {
        w.arr(2);
        w.uint(rec::SHUTDOWN);
        w.uint(7);
    });
    p.flush();
    assert!(p.posted.is_empty());
    // setConsent('granted') while shut down reaches the next init.
    p.init_chosen(quick("pending"), &["granted"]);
    p.flush();
    let names: Vec<String> = p.spans().iter().map(|(_, s)| s["name"].as_str().unwrap().to_string()).collect();
    assert!(names.contains(&"session.start".to_string()), "{names:?}");
}
