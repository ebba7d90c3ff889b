//! Spans a hidden or unloading page could not send, kept in
//! `localStorage` for the next page of the same origin (or this one, when
//! it is shown again).
//!
//! A browser lets a page have at most 64 KiB of `keepalive` request bodies
//! in flight (`sendBeacon` shares the budget), and nothing else outlives
//! the page: whatever is queued beyond that when the page goes away would
//! be lost. Those bodies are stored instead, bounded, as complete OTLP/JSON
//! requests with the endpoint they were for; the next agent that starts on
//! the origin with that endpoint sends them and removes them. Storage that
//! is unavailable or full loses them, as before.

use js_sys::{Array, JSON};
use wasm_bindgen::{JsCast, JsValue};

use super::lib::js;

/// The storage key.
const KEY: &str = "waggle.unsent";

/// Most characters kept, all pages of the origin together: some 3,000
/// spans, and under half of the smallest per-origin storage quota (5 MiB),
/// which the app needs more than we do.
pub const MAX_CHARS: usize = 2_000_000;

fn storage() -> Option<JsValue> {
    // Reading `localStorage` throws where storage is disabled.
    let s = js::get(&js::global(), "localStorage");
    s.is_object().then_some(s)
}

fn read(storage: &JsValue) -> Vec<(String, String)> {
    let raw = js::call(storage, "getItem", &[KEY.into()]);
    let Some(text) = raw.as_string() else { return Vec::new() };
    let Ok(parsed) = JSON::parse(&text) else { return Vec::new() };
    let Ok(list) = parsed.dyn_into::<Array>() else { return Vec::new() };
    list.iter()
        .filter_map(|item| {
            let pair: Array = item.dyn_into().ok()?;
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect()
}

fn write(storage: &JsValue, entries: &[(String, String)]) {
    if entries.is_empty() {
        js::call(storage, "removeItem", &[KEY.into()]);
        return;
    }
    let list: Array = entries.iter().map(|(u, b)| JsValue::from(Array::of2(&u.as_str().into(), &b.as_str().into()))).collect();
    if let Ok(text) = JSON::stringify(&list) {
        // Full storage throws; js::call swallows it and the bodies are lost.
        js::call(storage, "setItem", &[KEY.into(), text.into()]);
    }
}

/// Keeps `bodies` (for `url`, each with its span count) for later;
/// returns how many spans did not fit.
pub fn save(url: &str, bodies: Vec<(String, usize)>) -> usize {
    if bodies.is_empty() {
        return 0;
    }
    let Some(storage) = storage() else { return bodies.iter().map(|(_, n)| n).sum() };
    let mut entries = read(&storage);
    let mut used: usize = entries.iter().map(|(u, b)| u.len() + b.len()).sum();
    let mut lost = 0;
    for (body, n) in bodies {
        if used + url.len() + body.len() > MAX_CHARS {
            lost += n;
            continue;
        }
        used += url.len() + body.len();
        entries.push((url.to_owned(), body));
    }
    write(&storage, &entries);
    lost
}

/// Takes the bodies kept for `url`, leaving those for other endpoints.
pub fn take(url: &str) -> Vec<String> {
    let Some(storage) = storage() else { return Vec::new() };
    let entries = read(&storage);
    if entries.is_empty() {
        return Vec::new();
    }
    let (mine, others): (Vec<_>, Vec<_>) = entries.into_iter().partition(|(u, _)| u == url);
    write(&storage, &others);
    mine.into_iter().map(|(_, b)| b).collect()
}
