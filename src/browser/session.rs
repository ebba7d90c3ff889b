//! Sessions: reads and extends the session shared by every tab of the
//! origin, renews it when it has expired, and marks user activity.

use wasm_bindgen::JsValue;

use crate::core::session::{hex_id, resolve, SessionLimits};

use super::agent::{with_agent, Agent};
use super::lib::js;
use super::lib::listener::Listener;

/// Where the session lives in storage.
pub const STORAGE_KEY: &str = "waggle.session";

/// Activity that keeps a session alive.
const ACTIVITY: [&str; 4] = ["pointerdown", "keydown", "scroll", "visibilitychange"];

/// Watches for user activity; the session itself lives on the agent.
pub struct Sessions {
    _listeners: Vec<Listener>,
}

impl Sessions {
    /// Resolves the session now and listens for activity.
    pub fn start() -> Self {
        with_agent(|a| refresh(a, true));
        let document = js::get(&js::global(), "document");
        let listeners = ACTIVITY
            .iter()
            .filter_map(|kind| {
                Listener::new(&document, kind, true, |_| {
                    with_agent(|a| {
                        // Storage is read at most once a second however
                        // busy the user is.
                        if a.now_ms() - a.session_checked_ms >= 1000.0 {
                            refresh(a, true);
                        }
                    });
                })
            })
            .collect();
        Sessions { _listeners: listeners }
    }
}

fn storage(persist: bool) -> JsValue {
    // Reading the property throws in sandboxed frames and with storage off.
    let name = if persist { "localStorage" } else { "sessionStorage" };
    js_sys::Reflect::get(&js::global(), &name.into()).unwrap_or(JsValue::UNDEFINED)
}

/// Re-reads the shared session, renewing it if it has expired; `active`
/// marks user activity.
pub fn refresh(agent: &mut Agent, active: bool) {
    let now = agent.now_ms();
    agent.session_checked_ms = now;
    let store = storage(agent.config.session.persist);
    let stored = if store.is_object() { js::call(&store, "getItem", &[STORAGE_KEY.into()]).as_string() } else { None };
    // Storage can be unavailable: keep the session in memory then.
    let stored = stored.or_else(|| agent.session_memory.clone());
    let limits = SessionLimits {
        inactivity_ms: agent.config.session.inactivity_minutes * 60_000.0,
        max_ms: agent.config.session.max_minutes * 60_000.0,
    };
    let ids = &mut agent.ids;
    let r = resolve(stored.as_deref(), now, &limits, active, || hex_id(ids.bytes16()));
    let serialized = r.session.serialize();
    if store.is_object() {
        js::call(&store, "setItem", &[STORAGE_KEY.into(), serialized.as_str().into()]);
    }
    agent.session_memory = Some(serialized);
    if agent.session_id.as_deref() != Some(r.session.id.as_str()) {
        if r.previous_id.is_some() {
            agent.session_previous_id = r.previous_id;
        } else if agent.session_id.is_some() {
            // Another tab renewed it: this tab's old session is the previous one.
            agent.session_previous_id = agent.session_id.take();
        }
        agent.session_sampled = r.session.sampled(agent.config.sample_rate);
        agent.session_id = Some(r.session.id);
    }
    agent.update_context();
}
