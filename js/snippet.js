// The snippet a page pastes into <head>: the recorder starts here, with the
// agent's first byte, and the rest of the agent (waggle.snippet.js) and its
// module (waggle.wasm) are fetched in parallel. Until they arrive,
// window.waggle queues the app's calls; waggle.snippet.js replays them in
// order with their original times. If either cannot load (offline,
// blocked, a CSP), the page goes on: the recorder stops, every promise
// resolves false, and nothing is thrown.
import { record } from './recorder.js';

(function (w, d, src, integrity, wasmIntegrity) {
  if (w.waggle) return;
  const now = () => w.performance.now();
  const q = [];
  const a = (w.waggle = { q });
  let failed = false;
  const H = (a.H = record(w));
  // For an init after shutdown: the loader has no recorder of its own.
  a.R = record;
  const base = new URL(src, d.baseURI);
  // The page's own fetch, from before the recorder wrapped it.
  a.wasm = H.F.call(w, new URL('waggle.wasm', base), wasmIntegrity ? { integrity: wasmIntegrity } : {});
  a.wasm.catch(() => {});
  // Calls that return nothing are kept up to a bound; those that return a
  // promise always, so every promise settles.
  const push = (item) => {
    if (item[2] || q.length < 1000) q.push(item);
  };
  const handle = () => {
    const h = { c: [], t: now(), traceparent() {}, run: (f) => f() };
    for (const m of ['setAttribute', 'addEvent', 'setStatus', 'end']) {
      h[m] = function () {
        h.c.push([m, [...arguments], now()]);
        return h;
      };
    }
    return h;
  };
  for (const m of ['init', 'flush', 'shutdown']) {
    a[m] = function () {
      const args = arguments;
      return new Promise((r) => (failed ? r(false) : push([m, args, r])));
    };
  }
  for (const m of ['setUser', 'setGlobalAttributes', 'setRoute']) a[m] = (x) => push([m, [x]]);
  // Past the bound too: a choice of consent is never lost.
  a.setConsent = (x) => q.push(['setConsent', [x]]);
  a.startSpan = (n, at) => {
    const h = handle();
    push(['startSpan', [n, at], null, h]);
    return h;
  };
  a.withSpan = (n, f, at) => {
    const h = a.startSpan(n, at);
    let v;
    const bad = (e) => {
      h.setStatus('error', String((e && e.message) || e));
      h.end();
    };
    try {
      v = f(h);
    } catch (e) {
      bad(e);
      throw e;
    }
    if (v && typeof v.then === 'function') {
      return v.then(
        (x) => {
          h.end();
          return x;
        },
        (e) => {
          bad(e);
          throw e;
        },
      );
    }
    h.end();
    return v;
  };
  // Blocked, offline or refused by a CSP: the page goes on without the
  // agent.
  a.fail = () => {
    if (failed) return;
    failed = true;
    H.stop();
    for (const i of q.splice(0)) if (i[2]) i[2](false);
  };
  const s = d.createElement('script');
  s.async = true;
  s.src = base.href;
  s.crossOrigin = 'anonymous';
  if (integrity) s.integrity = integrity;
  s.onerror = a.fail;
  (d.head || d.documentElement).appendChild(s);
})(window, document, '__WAGGLE_SRC__', '__WAGGLE_INTEGRITY__', '__WAGGLE_WASM_INTEGRITY__');
