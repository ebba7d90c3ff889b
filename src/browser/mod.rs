//! The browser shell: the JS API, and the instrumentations it starts.

pub mod agent;
pub mod app_spans;
pub mod document_load;
pub mod errors;
pub mod exporter;
pub mod fetch;
pub mod interactions;
pub mod lib;
pub mod route_change;
pub mod session;
pub mod settle;
pub mod spill;
pub mod timers;
pub mod web_vitals;
pub mod xhr;

use js_sys::{Array, Function, Object, Promise, RegExp};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::clock::Clock;
use crate::core::config::{Config, ConfigValue};
use crate::core::ids::IdGenerator;
use crate::core::limits::SpanLimits;
use crate::core::resource::ResourceInfo;
use crate::core::sampling::Sampler;

use agent::Agent;
use exporter::Exporter;
use lib::js;

/// Turns the options object into the config parser's value tree, keeping
/// regular expressions aside by index.
fn to_config_value(v: &JsValue, regexes: &mut Vec<RegExp>, depth: u32) -> ConfigValue {
    if v.is_undefined() {
        ConfigValue::Undefined
    } else if v.is_null() {
        ConfigValue::Null
    } else if let Some(b) = v.as_bool() {
        ConfigValue::Bool(b)
    } else if let Some(n) = v.as_f64() {
        ConfigValue::Number(n)
    } else if let Some(s) = v.as_string() {
        ConfigValue::Str(s)
    } else if let Some(re) = v.dyn_ref::<RegExp>() {
        regexes.push(re.clone());
        ConfigValue::Regex(regexes.len() as u32 - 1)
    } else if depth > 4 {
        ConfigValue::Other("deeply nested value".into())
    } else if Array::is_array(v) {
        let arr: &Array = v.unchecked_ref();
        ConfigValue::Array(arr.iter().map(|item| to_config_value(&item, regexes, depth + 1)).collect())
    } else if v.is_function() {
        ConfigValue::Other("function".into())
    } else if v.is_object() {
        let obj: &Object = v.unchecked_ref();
        let keys = Object::keys(obj);
        ConfigValue::Object(
            keys.iter()
                .filter_map(|k| {
                    let key = k.as_string()?;
                    let value = js::get(v, &key);
                    Some((key, to_config_value(&value, regexes, depth + 1)))
                })
                .collect(),
        )
    } else {
        ConfigValue::Other(v.js_typeof().as_string().unwrap_or_default())
    }
}

fn config_error(option: &str, message: &str) -> JsValue {
    let err = js_sys::TypeError::new(message);
    js::set(&err, "name", &"WaggleConfigError".into());
    js::set(&err, "option", &option.into());
    err.into()
}

fn resource_info(config: &Config) -> ResourceInfo {
    let nav = js::get(&js::global(), "navigator");
    let uad = js::get(&nav, "userAgentData");
    let mut brands = Vec::new();
    if let Ok(list) = js::get(&uad, "brands").dyn_into::<Array>() {
        for b in list.iter() {
            if let (Some(name), Some(version)) = (js::string(&b, "brand"), js::string(&b, "version")) {
                brands.push(format!("{name} {version}"));
            }
        }
    }
    ResourceInfo {
        service_name: config.service_name.clone(),
        service_version: config.service_version.clone(),
        environment: config.environment.clone(),
        user_agent: js::string(&nav, "userAgent"),
        brands,
        platform: js::string(&uad, "platform").filter(|p| !p.is_empty()),
        mobile: js::get(&uad, "mobile").as_bool(),
        language: js::string(&nav, "language"),
    }
}

/// Starts the agent. Throws a `TypeError` named `WaggleConfigError`, with
/// the option's name in `option`, when an option is missing or wrong.
#[wasm_bindgen(js_name = init)]
pub fn init(options: JsValue) -> Result<(), JsValue> {
    let mut regexes = Vec::new();
    let value = to_config_value(&options, &mut regexes, 0);
    let config = Config::parse(&value).map_err(|e| config_error(&e.option, &e.to_string()))?;
    lib::guard::install_panic_hook();
    if agent::running() {
        js::warn("init was called again while the agent runs; the second call is ignored (call shutdown() first)");
        return Ok(());
    }
    let perf = js::performance().ok_or_else(|| config_error("options", "waggle: this browser has no performance API"))?;
    let clock = Clock::new(perf.time_origin());
    let crypto = js::get(&js::global(), "crypto");
    let crypto: web_sys::Crypto = crypto
        .dyn_into()
        .map_err(|_| config_error("options", "waggle: this browser has no crypto.getRandomValues"))?;
    let ids = IdGenerator::new(move |buf: &mut [u8]| {
        if crypto.get_random_values_with_u8_array(buf).is_err() {
            // Never reached in a browser; fall back rather than emit zeros.
            for b in buf.iter_mut() {
                *b = (js_sys::Math::random() * 256.0) as u8;
            }
        }
    });
    let fetch: Function = js::get(&js::global(), "fetch")
        .dyn_into()
        .map_err(|_| config_error("options", "waggle: this browser has no fetch"))?;
    // Resolved as fetch resolves it, so a relative endpoint is recognised
    // (and left untraced) whatever form the page's requests take.
    let traces_url = config.traces_url();
    let export_url = lib::http::absolute_url(&traces_url).unwrap_or(traces_url);
    let origin = js::string(&js::get(&js::global(), "location"), "origin").unwrap_or_default();
    let resource = resource_info(&config).attributes();
    let exporter = Exporter::new(export_url.clone(), fetch, resource, config.batch.clone(), config.debug);
    let sampler = Sampler::new(config.sample_rate);
    let inst = config.instrumentations.clone();
    let globals = agent::global_attributes(&config);
    let hooks = app_spans::hooks_object(&config.batch);
    agent::install(Agent {
        config,
        clock,
        ids,
        limits: SpanLimits::default(),
        sampler,
        regexes,
        origin,
        export_url,
        exporter,
        instrumentations: Vec::new(),
        context: Vec::new(),
        pending_requests: 0,
        page: agent::PageContext::default(),
        session_id: None,
        session_previous_id: None,
        user: Vec::new(),
        globals,
        session_sampled: true,
        session_checked_ms: f64::NEG_INFINITY,
        session_memory: None,
        contexts: Default::default(),
        hooks,
    });
    agent::with_agent(|a| a.refresh_page());
    // Each instrumentation owns its listeners, observers and hooks and
    // removes them when dropped; shutdown() drops this list.
    let mut started: Vec<Box<dyn std::any::Any>> = Vec::new();
    started.push(Box::new(exporter::PageHide::start()));
    started.push(Box::new(session::Sessions::start()));
    if inst.document_load {
        started.push(Box::new(document_load::DocumentLoad::start()));
    }
    if inst.fetch {
        started.push(Box::new(fetch::Fetch::start()));
    }
    if inst.xhr {
        started.push(Box::new(xhr::Xhr::start()));
    }
    if inst.interactions {
        started.push(Box::new(interactions::Interactions::start()));
    }
    if inst.route_changes {
        started.push(Box::new(route_change::RouteChanges::start()));
    }
    if inst.web_vitals {
        started.push(Box::new(web_vitals::WebVitals::start()));
    }
    if inst.errors || inst.console_errors {
        started.push(Box::new(errors::Errors::start(inst.errors, inst.console_errors)));
    }
    agent::with_agent(|a| a.instrumentations = started);
    Ok(())
}

/// Sends every queued span now; the promise settles when the Collector
/// has answered.
#[wasm_bindgen]
pub fn flush() -> Promise {
    agent::with_agent(|a| exporter::flush(a)).unwrap_or_else(|| Promise::resolve(&JsValue::UNDEFINED))
}

/// Flushes, then removes every listener and hook the agent installed.
#[wasm_bindgen]
pub fn shutdown() -> Promise {
    // Instrumentations go first, while the agent still runs, so what they
    // hold (requests waiting for their timing) reaches the final flush.
    let detached = agent::with_agent(|a| std::mem::take(&mut a.instrumentations));
    drop(detached);
    match agent::take() {
        None => Promise::resolve(&JsValue::UNDEFINED),
        Some(mut a) => exporter::flush(&mut a),
    }
}
