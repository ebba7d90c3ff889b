// Waggle's public entry point. It loads the WebAssembly agent on first use,
// so `import { init } from 'waggle-rum'` is all an app writes. If the module
// cannot load (offline, blocked, a CSP without 'wasm-unsafe-eval') the
// promise from init() rejects and the page keeps working untouched.
import loadWasm, * as wasm from './waggle_rum.js';

let loading = null;
let ready = false;
// setUser/setGlobalAttributes calls made before init() finished, applied
// in order once the agent runs.
const early = [];

function load(source) {
  if (!loading) {
    // The default URL is resolved against this module's own URL, so the
    // package works from '/' and from a sub-path alike.
    const arg = source ? { module_or_path: source } : undefined;
    loading = loadWasm(arg).catch((cause) => {
      loading = null;
      const err = new Error(`waggle: could not load the agent's WebAssembly module: ${cause && cause.message ? cause.message : cause}`);
      err.name = 'WaggleLoadError';
      err.cause = cause;
      throw err;
    });
  }
  return loading;
}

/**
 * Starts loading the WebAssembly module early, from a URL, a Response or a
 * promise of one (for example `fetch(url, { integrity })`). init() uses it.
 */
export function loadAgent(source) {
  return load(source);
}

/**
 * Starts the agent. Resolves once instrumentation is active; rejects with a
 * TypeError named WaggleConfigError (its `option` names the bad option) or an
 * Error named WaggleLoadError.
 */
export async function init(options) {
  const wasmUrl = options && typeof options === 'object' && typeof options.wasmUrl === 'string' ? options.wasmUrl : undefined;
  await load(wasmUrl);
  wasm.init(options);
  hooks = wasm.hooks() || null;
  ready = true;
  for (const [fn, arg] of early.splice(0)) wasm[fn](arg);
}

// A span handle that does nothing, for calls made before the agent runs.
const inert = {
  setAttribute() {},
  addEvent() {},
  setStatus() {},
  end() {},
  traceparent() { return undefined; },
  run(fn) { return fn(); },
};

// What the wasm side shares with this one (see hooks() in app_spans.rs):
// q, the ended spans waiting for export; ctx, the current set of session,
// page, user and global attributes; cur, the current parent span; checked,
// when the session was last read.
let hooks = null;
const perf = globalThis.performance;

// A failure inside the agent (a WebAssembly trap; the agent has logged it
// and switched itself off) must not reach the app: the app's span calls
// carry on as no-ops.
function safe(f) {
  try {
    return f();
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) ready = false;
    return undefined;
  }
}

// Attributes are copied when given, as flat [key, value, ...] pairs:
// the app may reuse or change its object afterwards.
// (for-in with an own-property check reads what Object.keys would, in
// the same order, without allocating the key array.)
const hasOwn = Object.prototype.hasOwnProperty;
function pairs(attributes, out) {
  if (attributes !== null && typeof attributes === 'object') {
    for (const k in attributes) {
      if (!hasOwn.call(attributes, k)) continue;
      const v = attributes[k];
      out.push(k, v !== null && typeof v === 'object' && Array.isArray(v) ? v.slice() : v);
    }
  }
  return out;
}

function describe(e) {
  const m = e !== null && typeof e === 'object' ? e.message : e;
  return typeof m === 'string' && m ? m : 'unknown error';
}

// An app span is recorded here, in JS, and taken into the agent a batch at
// a time in tasks of its own: starting, annotating and ending one never
// calls into WebAssembly (the parent and context are read from hooks).
class Span {
  constructor(name, attributes, startTime) {
    this.n = String(name);
    this.t0 = typeof startTime === 'number' && isFinite(startTime) ? startTime : perf.now();
    this.t1 = undefined;
    this.p = hooks.cur;
    this.i = undefined;
    this.a = pairs(attributes, []);
    this.e = undefined;
    this.st = undefined;
    this.m = undefined;
    this.c = 0;
  }

  setAttribute(key, value) {
    if (this.t1 === undefined) this.a.push(String(key), Array.isArray(value) ? value.slice() : value);
  }

  addEvent(name, attributes) {
    if (this.t1 === undefined) (this.e ??= []).push([String(name), pairs(attributes, []), perf.now()]);
  }

  setStatus(code, message) {
    if (this.t1 === undefined) {
      this.st = code;
      this.m = message === undefined || message === null ? undefined : String(message);
    }
  }

  end(endTime) {
    if (this.t1 !== undefined) return;
    const now = perf.now();
    this.t1 = typeof endTime === 'number' && isFinite(endTime) ? endTime : now;
    const h = hooks;
    if (now - h.checked >= 1000) safe(() => wasm.refreshContext());
    this.c = h.ctx;
    const q = h.q;
    q.push(this);
    // Bounded: past the limit the oldest batch goes, counted, and the
    // count is reported with the next export.
    if (q.length > h.max + h.batch) {
      q.splice(0, h.batch);
      h.dropped += h.batch;
    }
    if (q.length === 1 || q.length % h.batch === 0) safe(() => wasm.spansQueued());
  }

  // The span's ids, made (with its sampling decision) only when the app
  // needs them.
  ids() {
    if (this.i === undefined) this.i = safe(() => wasm.spanIds(this.p)) || null;
    return this.i;
  }

  traceparent() {
    const i = this.ids();
    return i ? `00-${i[0]}-${i[1]}-${(i[2] & 0xff).toString(16).padStart(2, '0')}` : undefined;
  }

  run(fn) {
    const i = this.ids();
    if (i) safe(() => wasm.enterSpan(i));
    return fn();
  }
}

/** Starts a span, a child of the current one (see withSpan). */
export function startSpan(name, attributes, startTime) {
  return ready && hooks ? new Span(name, attributes, startTime) : inert;
}

/**
 * Runs fn(span) inside a new span that ends when fn returns or, if fn
 * returns a promise, when it settles. Returns what fn returns.
 */
export function withSpan(name, fn, attributes) {
  if (!ready || !hooks) return fn(inert);
  const span = new Span(name, attributes);
  const failed = (e) => {
    span.setStatus('error', describe(e));
    span.end();
  };
  let result;
  try {
    result = span.run(() => fn(span));
  } catch (e) {
    failed(e);
    throw e;
  }
  if (result !== null && (typeof result === 'object' || typeof result === 'function') && typeof result.then === 'function') {
    // A derived promise settles with the same value or error, and an
    // unhandled rejection stays unhandled, as without the agent.
    return result.then(
      (v) => {
        span.end();
        return v;
      },
      (e) => {
        failed(e);
        throw e;
      },
    );
  }
  span.end();
  return result;
}

/** Sets user.* attributes on every later span; null clears them. */
export function setUser(user) {
  if (ready) wasm.setUser(user);
  else early.push(['setUser', user]);
}

/** Adds attributes to every later span. */
export function setGlobalAttributes(attributes) {
  if (ready) wasm.setGlobalAttributes(attributes);
  else early.push(['setGlobalAttributes', attributes]);
}

/** Sends every queued span now; resolves when the Collector has answered. */
export async function flush() {
  if (!loading) return;
  await loading;
  try {
    await wasm.flush();
  } catch {
    // Only an agent that failed internally gets here; it has nothing to send.
  }
}

/** Flushes, then removes every listener and hook the agent installed. */
export async function shutdown() {
  if (!loading) return;
  await loading;
  ready = false;
  try {
    await wasm.shutdown();
  } catch {
    // As in flush().
  }
}
