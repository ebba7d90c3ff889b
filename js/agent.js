// The shell: loads the module, feeds it the recorder's observations, and
// carries out its commands (timers, requests, storage, the console); and
// the public API. Nothing here decides anything: the module does.
import * as P from './protocol.js';
import { decode, encode, regexps } from './wire.js';

/** A missing or wrong option (a TypeError; `option` names it). */
export class WaggleConfigError extends TypeError {
  constructor(message, option) {
    super(message);
    this.name = 'WaggleConfigError';
    this.option = option;
  }
}

/** The agent's WebAssembly module could not be loaded. */
export class WaggleLoadError extends Error {
  constructor(message, cause) {
    super(message, { cause });
    this.name = 'WaggleLoadError';
  }
}

const g = globalThis;
const browser = typeof g.window === 'object' && typeof g.document === 'object';

// One of each per page: the module, the recorder now running (a new one
// after shutdown and init), and what the commands act on.
let X = null;
let H = null;
let loading = null;
let dead = false;
let started = false;
let initing = null;
const S = {
  ctx: 0,
  ck: -Infinity,
  max: 20000,
  batch: 512,
  url: '',
  gz: {},
  timers: {},
  done: {},
  token: 0,
  kept: 0,
  dropped: 0,
  reject: null,
  // What setConsent was given before init, for init to take.
  c: [],
};
// The app's ended spans, waiting for a batch.
const Q = [];

const now = () => g.performance.now();
// The wall clock, which goes on while the device sleeps and the page's
// clock does not (src/core/clock.rs).
const wall = browser ? Date.now : () => NaN;

// Flushes and shutdowns waiting for an answer that will not come.
const settled = () => {
  for (const k of Object.keys(S.done)) S.done[k]();
};

function fail() {
  if (dead) return;
  dead = true;
  if (H) H.stop();
  console.error('waggle: internal error, the agent is now off');
  settled();
  if (S.reject) S.reject(new WaggleLoadError('waggle: the agent failed while starting'));
}

// Feeds what waits, and `rec`, into the module and carries out what it
// answers; returns the answer a command left for the caller.
function call(rec) {
  if (dead || !X || !H) return undefined;
  if (rec) H.q.push(rec);
  const recs = H.q.splice(0);
  if (!recs.length) return undefined;
  H.a = undefined;
  try {
    for (const r of recs) {
      if (r[0] === P.REQUEST && r[7] === undefined) r[7] = H.rxOf(r[4]);
      if (r[0] === P.LOADED) for (const i of [2, 6]) if (typeof r[i] === 'function') r[i] = r[i]();
    }
    let n = 0;
    encode(recs, (bytes) => {
      const p = X.input(bytes.length);
      new Uint8Array(X.memory.buffer, p, bytes.length).set(bytes);
      n = X.run(bytes.length, now(), wall());
    });
    // A pull feeds the module again at once: it goes last, so what that
    // answers (newer) is carried out after what this call answered.
    let pull;
    decode(X.memory, X.output(), n, (c) => (c[0] === P.C_PULL ? (pull = c) : exec(c)));
    if (pull) exec(pull);
  } catch (e) {
    fail(e);
  }
  return H && H.a;
}

const later = (f) => (g.scheduler && g.scheduler.postTask ? g.scheduler.postTask(f, { priority: 'user-blocking' }).catch(() => {}) : H.T.call(g, f, 0));

function exec(c) {
  switch (c[0]) {
    case P.C_LOG: {
      // Level 4 is a group: its first line the heading, one entry per
      // other line. An option's RegExp is named by its index (\x01 and the
      // number): its source goes there.
      const lines = `[waggle] ${c[2]}`.replace(/\x01(\d+)/g, (_, i) => H.rx[i]).split('\n');
      console[['debug', 'info', 'warn', 'error', 'group'][c[1]]](lines[0]);
      if (c[1] > 3) {
        for (const l of lines.slice(1)) console.log(l);
        console.groupEnd();
      }
      break;
    }
    case P.C_TIMER: {
      const id = c[1];
      clearTimeout(S.timers[id]);
      if (c[2] >= 0)
        S.timers[id] = H.T.call(
          g,
          () => {
            H.frames();
            call([P.TIMER, id]);
          },
          c[2],
        );
      break;
    }
    case P.C_EXIT:
      later(() => call([P.EXIT, c[1]]));
      break;
    case P.C_CURRENT:
      H.cur = c[1] === null ? undefined : c[1];
      break;
    case P.C_CONTEXT:
      S.ctx = c[1];
      S.ck = c[2];
      break;
    case P.C_COMPRESS:
      compress(c[1], c[2]);
      break;
    case P.C_POST:
      post(c[1], c[2], c[3], c[4]);
      break;
    case P.C_STORE:
      try {
        const store = c[1] ? g.sessionStorage : g.localStorage;
        // Each write of unsent bodies is a key of its own (this page's
        // id and a number), taken out whole by a later page.
        const key = c[2] === 'waggle.unsent' ? `${H.key}.${++S.kept}` : c[2];
        if (c[3] === null) store.removeItem(key);
        else store.setItem(key, c[3]);
      } catch {
        // Storage off, or full: the module counts what it could not keep.
      }
      break;
    case P.C_PULL:
      pull(c[1], c[2]);
      break;
    case P.C_HEADERS:
      H.a = [c[1], c[2]];
      break;
    case P.C_FOLLOW:
    case P.C_IDS:
      H.a = c[1];
      break;
    case P.C_WATCH:
      H.watch(c[1]);
      break;
    case P.C_CONFIG:
      H.ev = c[1];
      H.events(c[1]);
      if (c[2] & 128) H.console();
      S.url = c[3];
      S.max = c[4];
      S.batch = c[5];
      H.sp = c[6];
      break;
    case P.C_DONE:
      if (S.done[c[1]]) S.done[c[1]]();
      break;
    case P.C_FAILED:
      if (S.reject) S.reject(new WaggleConfigError(c[2], c[1]));
      break;
    case P.C_FREE:
      delete S.gz[c[1]];
      break;
    case P.C_CLAIM:
      H.claim();
      break;
    case P.C_CONSENT:
      // Claims wait for a grant.
      H.ok = c[1] === 1;
      if (c[1] > 1) {
        H.stop();
        H.wipe();
        Q.length = S.dropped = 0;
        settled();
      }
      // Granted after denied: from now on, as init with the same options.
      if (c[2]) {
        started = false;
        init(S.o, S.r).catch(() => {});
      }
      break;
  }
}

function compress(id, bytes) {
  if (S.gz[id]) return void call([P.GZIPPED, id, S.gz[id].byteLength]);
  try {
    const cs = new CompressionStream('gzip');
    const w = cs.writable.getWriter();
    // Their promises settle with the readable side's; errors surface there.
    w.write(bytes).catch(() => {});
    w.close().catch(() => {});
    new Response(cs.readable).arrayBuffer().then(
      (b) => {
        if (id !== P.PROBE) S.gz[id] = new Uint8Array(b);
        else S.probe = new Uint8Array(b);
        call([P.GZIPPED, id, b.byteLength]);
      },
      () => call([P.GZIPPED, id, -1]),
    );
  } catch {
    call([P.GZIPPED, id, -1]);
  }
}

function post(id, bytes, gzip, keepalive) {
  const body = bytes || (id === P.PROBE ? S.probe : S.gz[id]);
  const headers = { 'Content-Type': 'application/json' };
  if (gzip) headers['Content-Encoding'] = 'gzip';
  const answer = (status, ra, text) => {
    const date = ra ? Date.parse(ra) - Date.now() : NaN;
    call([P.ANSWER, id, status, ra || '', Number.isNaN(date) ? null : date, text]);
  };
  let p;
  try {
    // The page's own fetch, from before it was wrapped: the agent's
    // requests are never traced.
    p = H.F.call(g, S.url, { method: 'POST', headers, body, keepalive });
  } catch (e) {
    p = Promise.reject(e);
  }
  p.then(
    (r) => {
      const ra = r.headers.get('retry-after');
      // The request is over (and its share of the keepalive budget free)
      // once the answer's body is in; it may hold a partialSuccess.
      return r.text().then(
        (t) => answer(r.status, ra, r.ok ? t : ''),
        () => answer(r.status, ra, ''),
      );
    },
    () => call([P.ANSWER, id, null, '', null, '']),
  );
}

// ------------------------------------------------------------- app spans

// Attributes are copied when given, as flat [key, value, ...] pairs.
const own = Object.prototype.hasOwnProperty;
function pairs(attributes, out) {
  if (attributes !== null && typeof attributes === 'object') {
    for (const k in attributes) {
      if (!own.call(attributes, k)) continue;
      const v = attributes[k];
      // Most values are strings and numbers: the array test only for objects.
      out.push(k, typeof v === 'object' && v !== null && Array.isArray(v) ? v.slice() : v);
    }
  }
  return out;
}

function pull(n, dropRest) {
  const spans = Q.splice(0, n).map((s) => [s.n, s.t, s.e, s.p, s.c, s.a, s.v, s.s, s.m, s.i]);
  if (dropRest) {
    S.dropped += Q.length;
    Q.length = 0;
  }
  const dropped = S.dropped;
  S.dropped = 0;
  call([P.SPANS, dropped, Q.length, ...spans]);
}

// An app span is recorded here: starting, annotating and ending one never
// calls into the module (the parent and the context are read from what
// the module last said).
class Span {
  constructor(name, attributes, startTime) {
    this.n = typeof name === 'string' ? name : String(name);
    this.t = startTime === undefined ? now() : typeof startTime === 'number' && Number.isFinite(startTime) ? startTime : now();
    this.e = undefined;
    this.p = H.cur;
    this.a = pairs(attributes, []);
    this.v = undefined;
    this.s = undefined;
    this.m = undefined;
    this.i = undefined;
    this.c = 0;
  }

  setAttribute(key, value) {
    if (this.e === undefined) this.a.push(String(key), Array.isArray(value) ? value.slice() : value);
    return this;
  }

  addEvent(name, attributes) {
    if (this.e === undefined) (this.v ??= []).push([String(name), now(), pairs(attributes, [])]);
    return this;
  }

  setStatus(code, message) {
    if (this.e === undefined) {
      this.s = code;
      this.m = message === undefined || message === null ? undefined : String(message);
    }
    return this;
  }

  end(endTime) {
    if (this.e !== undefined) return;
    const t = now();
    this.e = typeof endTime === 'number' && Number.isFinite(endTime) ? endTime : t;
    // The session is checked at most once a second, so a span ends in
    // the right one.
    if (t - S.ck >= 1000) call([P.SESSION, H.stored('waggle.session')]);
    this.c = S.ctx;
    Q.push(this);
    // Bounded: past the limit the oldest batch goes, and is counted.
    if (Q.length > S.max + S.batch) {
      Q.splice(0, S.batch);
      S.dropped += S.batch;
    }
    if (Q.length === 1 || Q.length % S.batch === 0) call([P.APP_WAITING, Q.length, 0]);
  }

  // The span's ids, made (with its sampling decision) when the app needs
  // them.
  ids() {
    if (this.i === undefined) this.i = call([P.IDS, this.p]) || null;
    return this.i;
  }

  traceparent() {
    const i = this.ids();
    return i ? i.split('\n')[0] : undefined;
  }

  run(fn) {
    const i = this.ids();
    if (i) call([P.ENTER, i]);
    return fn();
  }
}

// A span handle that does nothing, for calls made before init().
const inert = {
  setAttribute() {
    return this;
  },
  addEvent() {
    return this;
  },
  setStatus() {
    return this;
  },
  end() {},
  traceparent() {
    return undefined;
  },
  run(fn) {
    return fn();
  },
};

const describe = (e) => {
  const m = e !== null && typeof e === 'object' ? e.message : e;
  return typeof m === 'string' && m ? m : 'unknown error';
};

// ---------------------------------------------------------------- loading

// The script element running this file as it loads, for bundles that
// leave import.meta.url empty (esbuild's IIFE output): waggle.wasm is
// looked for next to it.
const script = browser && g.document.currentScript;

// Set when this module runs from Vite's pre-bundled dependencies.
let viteDeps = false;

// Where waggle.wasm is when nobody said: next to this module. The literal
// `new URL('waggle.wasm', import.meta.url)` is what Vite, webpack and
// Next.js look for to emit the file and rewrite the URL.
function wasmUrl() {
  let url;
  try {
    url = new URL('waggle.wasm', import.meta.url);
  } catch {
    return new URL('waggle.wasm', (script && script.src) || g.document.baseURI);
  }
  // Vite's dev server runs this module pre-bundled from
  // node_modules/.vite/deps/, without the wasm; it serves the package's
  // own copy where it was installed.
  viteDeps = url.pathname.endsWith('/node_modules/.vite/deps/waggle.wasm');
  return viteDeps ? new URL('../../waggle-rum/waggle.wasm', url) : url;
}

// What to do when waggle.wasm is not where it was looked for (`vite`: the
// answer was a page of Vite's dev server).
function advice(url, given, vite) {
  if (!given && (vite || viteDeps)) {
    return "Vite pre-bundled waggle-rum without waggle.wasm: add optimizeDeps: { exclude: ['waggle-rum'] } to vite.config";
  }
  return given ? 'serve waggle.wasm there' : `copy node_modules/waggle-rum/waggle.wasm next to your bundle (to ${url}) or pass init({ wasmUrl })`;
}

async function instantiate(source, given) {
  const imports = { w: { rand: (ptr, len) => g.crypto.getRandomValues(new Uint8Array(X.memory.buffer, ptr, len)) } };
  let res = await source;
  // The page's own fetch, not the recorder's: the agent's files are not
  // the page's requests.
  if (typeof res === 'string' || res instanceof URL) res = await (H ? H.F : g.fetch).call(g, res);
  let bytes;
  if (res instanceof Response) {
    if (!res.ok) throw new Error(`${res.url || 'the module'} answered ${res.status}: ${advice(res.url, given)}`);
    bytes = await res.arrayBuffer();
  } else bytes = res;
  const head = new Uint8Array(bytes.slice(0, 4096));
  if (head[0] !== 0 || head[1] !== 0x61 || head[2] !== 0x73 || head[3] !== 0x6d) {
    const url = res instanceof Response ? res.url : 'the module';
    const vite = new TextDecoder().decode(head).includes('/@vite/client');
    throw new Error(
      `${url} is not the agent's WebAssembly module (it answered ${res instanceof Response ? res.headers.get('content-type') || 'something else' : 'other bytes'}): ${advice(url, given, vite)}`,
    );
  }
  const { instance } = await WebAssembly.instantiate(bytes, imports);
  return (X = instance.exports);
}

/**
 * Starts loading the WebAssembly module early, from a URL, a Response or a
 * promise of one; init() uses it.
 */
export function loadAgent(source) {
  if (!loading) {
    loading = instantiate(source ?? wasmUrl(), source != null).catch((cause) => {
      loading = null;
      throw new WaggleLoadError(`waggle: could not load the agent's WebAssembly module: ${cause && cause.message ? cause.message : cause}`, cause);
    });
  }
  return loading;
}

/** Adopts a recorder already running (the snippet's). */
export function adopt(hub) {
  H = hub;
}

function env(w) {
  const nav = w.navigator;
  const ua = nav.userAgentData;
  const entry = H.NAV();
  let compressed = false;
  try {
    compressed = typeof CompressionStream === 'function';
  } catch {
    // Not there.
  }
  return [
    w.performance.timeOrigin,
    H.url(),
    w.location.origin,
    w.document.title,
    nav.userAgent,
    ua && ua.brands ? ua.brands.map((b) => `${b.brand} ${b.version}`) : [],
    (ua && ua.platform) || '',
    ua ? ua.mobile : undefined,
    nav.language,
    H.stored('waggle.session'),
    compressed,
    nav.onLine,
    w.document.visibilityState === 'hidden',
    entry.type || '',
    entry.activationStart || 0,
    !!w.document.wasDiscarded,
    !!w.document.prerendering,
    H.stored('waggle.view'),
  ];
}

/**
 * Starts the agent with `record` (the recorder: the npm module's own, or
 * the snippet's). Resolves once the module runs; rejects with a
 * WaggleConfigError (its `option` names the bad option) or a
 * WaggleLoadError, and then the page is as it was.
 */
export function init(options, record) {
  if (!browser) {
    console.warn('waggle: init() runs in a browser only; nothing was started');
    return Promise.resolve();
  }
  if (started || initing) {
    console.warn('[waggle] init was called again while the agent runs; the second call is ignored (call shutdown() first)');
    return initing || Promise.resolve();
  }
  if (dead) return Promise.reject(new WaggleLoadError('waggle: the agent is off after an internal error'));
  const w = g.window;
  // Instrumentation is active from now on: what happens while the module
  // loads is recorded, and sent later with its true times.
  if (!H || H.off) H = record(w);
  H.q.push(...early.splice(0));
  S.o = options;
  S.r = record;
  const wasmUrl = options && typeof options === 'object' && typeof options.wasmUrl === 'string' ? options.wasmUrl : undefined;
  initing = loadAgent(wasmUrl && new URL(wasmUrl, w.document.baseURI))
    .then(
      () =>
        new Promise((resolve, reject) => {
          S.reject = (e) => {
            S.reject = null;
            H.stop();
            reject(e);
          };
          H.feed = () => call();
          H.fail = fail;
          H.rx = [];
          regexps(H.rx);
          // Where the session is kept decides where init reads it, before
          // the module answers with the options it took.
          H.sp = !(options && options.session && options.session.persist === false);
          H.q.unshift([P.INIT, options, env(w), S.c.splice(0)]);
          call();
          if (dead) return reject(new WaggleLoadError('waggle: the agent failed while starting'));
          // Not refused: running, or stopped at once by consent denied.
          if (S.reject) {
            S.reject = null;
            started = true;
            H.claim();
            resolve();
          }
        }),
      (e) => {
        H.stop();
        throw e;
      },
    )
    .finally(() => {
      initing = null;
    });
  return initing;
}

function settle(kind) {
  if (!X || dead || !H) return Promise.resolve();
  return new Promise((resolve) => {
    const t = ++S.token;
    S.done[t] = () => {
      delete S.done[t];
      resolve();
    };
    call([kind, t]);
  });
}

/** Sends every queued span now; resolves when tried. Never rejects. */
export function flush() {
  return started ? settle(P.FLUSH) : Promise.resolve();
}

/** Flushes, then removes every listener and hook the agent installed. Never rejects. */
export function shutdown() {
  if (!started) return Promise.resolve();
  started = false;
  const done = settle(P.SHUTDOWN);
  // The page is as it was at once; delivery goes on until done.
  H.stop();
  return done;
}

/** Starts a span, a child of the current one. */
export function startSpan(name, attributes, startTime) {
  return started && H && !H.off && !dead ? new Span(name, attributes, startTime) : inert;
}

/**
 * Runs fn(span) inside a new span that ends when fn returns or, if fn
 * returns a promise, when it settles. Returns what fn returns.
 */
export function withSpan(name, fn, attributes) {
  const span = startSpan(name, attributes);
  if (span === inert) return fn(inert);
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
    // unhandled rejection stays unhandled.
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

// setUser/setGlobalAttributes calls made before init() resolved are
// applied, in order, once it does: they wait in the recorder's queue.
const early = [];
function apply(kind, v) {
  if (started) call([kind, v]);
  else if (H && !H.off) H.q.push([kind, v]);
  else early.push([kind, v]);
}

/** Sets user.* attributes on every later span; null clears them. */
export function setUser(user) {
  apply(P.USER, user);
}

/** Adds attributes to every later span. */
export function setGlobalAttributes(attributes) {
  apply(P.GLOBALS, attributes);
}

/**
 * Names the route of the view now shown (`'/products/:id'`): spans carry
 * it as `waggle.page.route` instead of the path until the URL's path
 * changes; null takes it back.
 */
export function setRoute(route) {
  apply(P.ROUTE, route);
}

/**
 * Sets consent: 'granted' sends what was held and goes on as usual,
 * 'denied' stops the agent and removes what it stored, 'pending' (before
 * a decision only) holds everything in memory.
 */
export function setConsent(consent) {
  if (started) call([P.CONSENT, consent]);
  else S.c.push(consent);
}

/** @internal For tests: the next call into the module fails inside it, as a bug would. */
export function __fault() {
  if (H) H.q.push([P.FAULT]);
}
