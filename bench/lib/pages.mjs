// The benchmark's pages: one bootstrap script that runs before any agent,
// and a loader per way of loading one.
//
// The bootstrap keeps the page's own setTimeout and fetch (taken before an
// agent could wrap them), registers a `longtask` observer before the agent
// loads, and offers what the harness starts over CDP: `start` (called by
// each loader with the agent's API: calls init and notes when it returned
// and when it resolved), the burst, the hide, the early actions. Nothing
// of the harness goes through an agent hook.
import fs from 'node:fs';
import path from 'node:path';

/** The error the early-actions page throws on purpose. */
export const EARLY_ERROR = 'bench: an error before the module is ready';

/**
 * Runs first in every page. `flags.early` (the page's id): do a request, a
 * click and throw right after init, then tell the server (with the page's
 * own fetch), which holds the module back until then.
 */
export function bootstrap(flags = {}) {
  return `(() => {
  const b = (window.__bench = { longtasks: [], t: {}, api: null, how: null, wasmMemory: null, flags: ${JSON.stringify(flags)} });
  const now = () => performance.now();
  const st = (b.setTimeout = window.setTimeout.bind(window));
  b.fetch = window.fetch;
  // The trace's clock against the page's: a mark at a known time.
  b.t.origin = performance.mark('bench-origin').startTime;
  try { performance.setResourceTimingBufferSize(5000); } catch (e) {}
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) b.longtasks.push([e.startTime, e.duration]); }).observe({ type: 'longtask', buffered: true });
  } catch (e) { b.noLongtask = String(e); }
  addEventListener('load', () => { b.t.load = now(); }, { once: true });
  b.fail = (e) => { b.failed = String((e && e.message) || e); };
  b.start = (api, options, how) => {
    b.how = how;
    b.api = api;
    const t0 = now();
    let p;
    try { p = api.init(options); } catch (e) { return b.fail(e); }
    const t1 = now();
    // Instrumentation active: init has returned, its hooks are in.
    b.t.initCalled = t0;
    b.t.recording = t1;
    b.t.hooked = window.fetch !== b.fetch;
    performance.mark('bench-recording');
    if (b.flags.early) b.earlyActions();
    Promise.resolve(p).then((ok) => {
      if (ok === false) return b.fail('init resolved false');
      b.t.ready = now();
      // Through the snippet, window.waggle is the full API once it resolved.
      if (how === 'snippet') b.api = window.waggle;
      const load = b.api.loadAgent ? b.api.loadAgent() : null;
      if (!load) { b.t.done = true; return; }
      load.then((ex) => { b.wasmMemory = ex.memory; b.t.done = true; }, b.fail);
    }, b.fail);
  };
  // Right after init, before the module can be there: a request, a click
  // on the page's button and an uncaught error, each with its true time.
  b.earlyActions = () => {
    const e = (b.early = {});
    // The browser's own time for the error: a listener cannot see the throw
    // itself, and Chromium takes 2 to 6 ms to report a page's first one.
    addEventListener('error', (ev) => { if (String(ev.message).includes(${JSON.stringify(EARLY_ERROR)})) e.errorEventAt = ev.timeStamp; });
    const act = () => {
      e.fetchAt = now();
      fetch('/bench/ping?early=1').then((r) => r.text()).then(() => { e.fetchDone = now(); }, (x) => { e.fetchError = String(x); });
      const button = document.getElementById('go');
      e.clickAt = now();
      button.click();
      st(() => { e.errorAt = now(); throw new Error(${JSON.stringify(EARLY_ERROR)}); }, 0);
      st(() => { b.fetch.call(window, '/bench/acted?page=' + encodeURIComponent(b.flags.early)); }, 0);
    };
    if (document.getElementById('go')) act();
    else document.addEventListener('DOMContentLoaded', act, { once: true });
  };
  const attrs = (i) => ({ 'app.a': 'alpha', 'app.b': 'bravo', 'app.c': 'charlie', 'app.d': 'delta', 'app.seq': 'n' + i });
  // The page going away as the browser tells it: hidden, then pagehide.
  b.hide = () => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    document.dispatchEvent(new Event('visibilitychange'));
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
  };
  // n spans in one task, then (in the same task) flush() if asked, and in
  // the next task the hide or shutdown() if asked. Times are page times.
  b.burst = (n, name, { flush = false, then = null } = {}) => new Promise((resolve, reject) => st(() => {
    try {
      const api = b.api;
      performance.mark('bench-burst');
      const t0 = now();
      for (let i = 0; i < n; i++) api.startSpan(name, attrs(i)).end();
      const t1 = now();
      if (flush) b.flushed = api.flush();
      const t2 = now();
      const out = { t0, t1, t2 };
      if (!then) return resolve(out);
      st(() => {
        try {
          out.c0 = now();
          if (then === 'hide') b.hide();
          else b.shut = api.shutdown();
          out.c1 = now();
          resolve(out);
        } catch (e) { reject(e); }
      }, 0);
    } catch (e) { reject(e); }
  }, 0));
  b.loop = (n, name, withAttrs) => {
    const api = b.api;
    const t0 = now();
    for (let i = 0; i < n; i++) api.startSpan(name, withAttrs ? attrs(i) : undefined).end();
    return now() - t0;
  };
})();`;
}

/** The inline snippet a page pastes, from pkg/snippet.html; `base` moves its files. */
export function inlineSnippet(pkgDir, base = '') {
  const html = fs.readFileSync(path.join(pkgDir, 'snippet.html'), 'utf8').replace(/^<!--[\s\S]*?-->\s*/, '').trim();
  if (!html.includes('"/waggle-rum/waggle.snippet.js"')) throw new Error('pkg/snippet.html does not load /waggle-rum/waggle.snippet.js: rebuild with scripts/build.sh');
  return base ? html.replace('"/waggle-rum/waggle.snippet.js"', `"${base}/waggle-rum/waggle.snippet.js"`) : html;
}

/** Its script alone, as counted in the download. */
export function inlineSnippetScript(pkgDir) {
  return inlineSnippet(pkgDir).replace(/^<script>/, '').replace(/<\/script>$/, '');
}

/**
 * The tags that load an agent, by way of loading:
 * - snippet: the inline snippet, then init through its queueing stub;
 * - esm: the npm module imported by the page, no bundler;
 * - bundled: the app bundle (bench/app-entry.js bundled by esbuild);
 * - otel: OpenTelemetry's bundle (bench/otel-entry.js), imported;
 * - none: no agent.
 * `base` ('' or '/slow/<page>') is where the agent's files are served from.
 */
export function loader(how, options, { pkgDir, base = '' } = {}) {
  const opts = JSON.stringify(options);
  switch (how) {
    case 'snippet':
      return `${inlineSnippet(pkgDir, base)}
<script>__bench.start(window.waggle, ${opts}, 'snippet');</script>`;
    case 'esm':
      return `<script type="module">
import * as waggle from '${base}/waggle-rum/index.js';
__bench.start(waggle, ${opts}, 'esm');
</script>`;
    case 'bundled':
      return `<script>__bench.options = ${opts};</script>
<script type="module" src="${base}/app/app.js"></script>`;
    case 'otel':
      return `<script type="module">
import * as otel from '/otel/otel.js';
__bench.start(otel, ${opts}, 'otel');
</script>`;
    case 'otel-dev':
      return `<script type="module">
import * as otel from '/otel/otel.dev.js';
__bench.start(otel, ${opts}, 'otel');
</script>`;
    case 'waggle-dev':
      return `<script type="module">
import * as waggle from '/dev/index.js';
__bench.start(waggle, ${opts}, 'esm');
</script>`;
    case 'none':
      return '';
    default:
      throw new Error(`no loader ${how}`);
  }
}

/**
 * A page: `body` 'light' (a heading, some text, a button) or 'many' (the
 * same and 1,000 images). `external`: the bootstrap from
 * /bench/bootstrap.js rather than inline, so that script on the page's own
 * URL is the agent's alone (its snippet, or the lines that import it).
 */
export function pageHtml({ how, options, pkgDir, base = '', body = 'light', flags = {}, external = false }) {
  const images = body === 'many' ? `\n<div hidden>${Array.from({ length: 1000 }, (_, i) => `<img src="/img/px.gif?i=${i}" width="2" height="2" alt="">`).join('')}</div>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Benchmark page</title>
${external ? `<script src="/bench/bootstrap.js?flags=${encodeURIComponent(JSON.stringify(flags))}"></script>` : `<script>${bootstrap(flags)}</script>`}
${loader(how, options, { pkgDir, base })}
</head><body>
<h1>Benchmark page</h1>
<p>The same page for both agents: a heading, some text and a button.</p>
<button id="go" type="button">Go</button>${images}
</body></html>`;
}

/** A 1×1 GIF: the images of the 1,000-resource page (SVG images would each build a document, and make the page itself slow). */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAP/MAAAAACH5BAAAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');
