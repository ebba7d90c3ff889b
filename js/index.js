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

// A failure inside the agent (a WebAssembly trap; the agent has logged it
// and switched itself off) must not reach the app: the call goes on as if
// the agent were not there.
function internal(err) {
  if (!(err instanceof WebAssembly.RuntimeError)) return false;
  ready = false;
  return true;
}

/** Starts a span, a child of the current one (see withSpan). */
export function startSpan(name, attributes, startTime) {
  if (!ready) return inert;
  try {
    return wasm.startSpan(String(name), attributes, startTime);
  } catch (err) {
    if (internal(err)) return inert;
    throw err;
  }
}

/**
 * Runs fn(span) inside a new span that ends when fn returns or, if fn
 * returns a promise, when it settles. Returns what fn returns.
 */
export function withSpan(name, fn, attributes) {
  if (!ready) return fn(inert);
  let ran = false;
  let out;
  let threw = false;
  const once = (span) => {
    ran = true;
    try {
      return (out = fn(span));
    } catch (err) {
      threw = true;
      out = err;
      throw err;
    }
  };
  try {
    return wasm.withSpan(String(name), once, attributes);
  } catch (err) {
    if ((threw && err === out) || !internal(err)) throw err;
    if (!ran) return fn(inert);
    if (threw) throw out;
    return out;
  }
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
