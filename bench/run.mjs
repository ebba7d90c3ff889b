// Waggle against the OpenTelemetry JS web stack, side by side in one run.
//
// Both agents run in the same headless Chromium, on the same page, with
// the same workload, in alternating runs (W, O, W, O, ...). For each figure
// the medians, the ratio Waggle/OpenTelemetry and the budget from the
// issue are printed, and written to bench/results.json and bench/RESULTS.md.
//
// The harness stays outside both agents: the page's bootstrap script runs
// before either agent loads and keeps its own copy of setTimeout; the
// workload is started over CDP (Runtime.evaluate through Playwright) and
// its results come back the same way, so no agent hook (fetch, XHR, events)
// ever sees the harness. Memory comes from CDP (Runtime.getHeapUsage after
// HeapProfiler.collectGarbage), spans and bytes from the sink.
//
//   node bench/run.mjs [--runs 5] [--spans 10000] [--no-profile]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { launchBrowser } from '../tests/lib/browser.mjs';
import { contentType } from '../tests/lib/server.mjs';
import { startSink, totals } from './lib/sink.mjs';
import { report as wasmReport, formatReport as formatWasmReport } from './lib/wasm-size.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, '..');
const PKG = path.join(ROOT, 'pkg');
const OUT = path.join(BENCH, 'out');
const ESBUILD = path.join(ROOT, 'node_modules/.bin/esbuild');
const WASM_OPT = path.join(ROOT, 'node_modules/.bin/wasm-opt');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const RUNS = opt('runs', 5);
const SPANS = opt('spans', 10_000);
const PROFILE = !args.includes('--no-profile');
const SPAN_NAME = 'bench.span';
// After the burst: a run ends once the sink has been quiet this long with
// every span in, or this much longer without (OpenTelemetry's batch
// processor waits 5 s between exports by default).
const QUIET_ALL_MS = 1500;
const QUIET_MS = 6500;
const SETTLE_MS = 1500;

const log = (...a) => console.error(...a);

// ---------------------------------------------------------------- builds

function sh(cmd, argv, opts = {}) {
  return execFileSync(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], ...opts }).toString();
}

const WASM_OPT_FEATURES = [
  '--enable-bulk-memory', '--enable-reference-types', '--enable-nontrapping-float-to-int',
  '--enable-sign-ext', '--enable-mutable-globals', '--enable-multivalue',
];

function buildArtifacts() {
  for (const f of ['waggle.snippet.js', 'waggle_rum_bg.wasm', 'waggle_rum.js', 'index.js', 'snippet.html']) {
    if (!fs.existsSync(path.join(PKG, f))) throw new Error(`pkg/${f} is missing: run scripts/build.sh first`);
  }
  fs.mkdirSync(OUT, { recursive: true });
  const entry = path.join(BENCH, 'otel-entry.js');
  // The OpenTelemetry bundle as a page would ship it, and a readable one
  // for the CPU profile.
  sh(ESBUILD, [entry, '--bundle', '--format=esm', '--minify', `--outfile=${OUT}/otel.js`, `--metafile=${OUT}/otel.meta.json`, '--log-level=warning']);
  sh(ESBUILD, [entry, '--bundle', '--format=esm', `--outfile=${OUT}/otel.dev.js`, '--log-level=warning']);

  // Waggle as an npm dependency, bundled by the app: index.js and its glue.
  sh(ESBUILD, [path.join(PKG, 'index.js'), '--bundle', '--format=esm', '--minify', '--target=es2020', `--outfile=${OUT}/waggle.npm.js`, `--metafile=${OUT}/waggle.npm.meta.json`, '--log-level=warning']);
  // The snippet bundle again, only for its metafile (what each input adds).
  const tmp = path.join(OUT, 'snippet-src');
  fs.mkdirSync(tmp, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'js/snippet-loader.js'), path.join(tmp, 'snippet-loader.js'));
  fs.copyFileSync(path.join(PKG, 'index.js'), path.join(tmp, 'index.js'));
  fs.copyFileSync(path.join(PKG, 'waggle_rum.js'), path.join(tmp, 'waggle_rum.js'));
  // wasm-bindgen's inline JS (the agent's guard) lives beside its glue.
  if (fs.existsSync(path.join(PKG, 'snippets'))) fs.cpSync(path.join(PKG, 'snippets'), path.join(tmp, 'snippets'), { recursive: true });
  sh(ESBUILD, [path.join(tmp, 'snippet-loader.js'), '--bundle', '--format=esm', '--minify', '--target=es2020', `--outfile=${tmp}/out.js`, `--metafile=${OUT}/waggle.snippet.meta.json`, '--log-level=warning']);

  // The same module with its name section, for the size breakdown and a
  // CPU profile that names wasm functions: wasm-bindgen's output as is,
  // and after wasm-opt -Oz with -g (identical code, names kept).
  const named = path.join(OUT, 'named');
  const release = path.join(ROOT, 'target/wasm32-unknown-unknown/release/waggle_rum.wasm');
  let namedOk = false;
  if (fs.existsSync(release)) {
    fs.mkdirSync(named, { recursive: true });
    sh(process.env.WASM_BINDGEN ?? 'wasm-bindgen', ['--target', 'web', '--out-dir', named, '--out-name', 'waggle_rum', '--no-typescript', release], {
      env: { ...process.env, PATH: `${os.homedir()}/.cargo/bin:${process.env.PATH}` },
    });
    sh(WASM_OPT, ['-Oz', '-g', '--strip-producers', ...WASM_OPT_FEATURES, path.join(named, 'waggle_rum_bg.wasm'), '-o', path.join(named, 'waggle_rum_opt.wasm')]);
    fs.copyFileSync(path.join(PKG, 'index.js'), path.join(named, 'index.js'));
    namedOk = true;
  }
  return { namedOk };
}

// ---------------------------------------------------------------- sizes

function sizes(buf) {
  return {
    raw: buf.length,
    gzip: zlib.gzipSync(buf, { level: 9 }).length,
    brotli: zlib.brotliCompressSync(buf, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length } }).length,
  };
}
function sum(list) {
  return list.reduce((a, s) => ({ raw: a.raw + s.raw, gzip: a.gzip + s.gzip, brotli: a.brotli + s.brotli }), { raw: 0, gzip: 0, brotli: 0 });
}

function snippetStub() {
  // The inline snippet a page pastes, pointing at the bench server's copy.
  return fs.readFileSync(path.join(PKG, 'snippet.html'), 'utf8').replace(/^<!--[\s\S]*?-->\s*/, '');
}

function downloadSizes() {
  const file = (p) => ({ file: path.relative(ROOT, p), ...sizes(fs.readFileSync(p)) });
  const stub = snippetStub().replace(/^<script>|<\/script>\s*$/g, '');
  const w = {
    stub: { file: 'pkg/snippet.html (inline script)', ...sizes(Buffer.from(stub)) },
    snippet: file(path.join(PKG, 'waggle.snippet.js')),
    wasm: file(path.join(PKG, 'waggle_rum_bg.wasm')),
    npm: file(path.join(OUT, 'waggle.npm.js')),
  };
  const o = { bundle: file(path.join(OUT, 'otel.js')) };
  return {
    waggle: {
      files: w,
      // What the bench page fetches: the snippet bundle and the module.
      total: sum([w.snippet, w.wasm]),
      withStub: sum([w.stub, w.snippet, w.wasm]),
      npmTotal: sum([w.npm, w.wasm]),
    },
    otel: { files: o, total: o.bundle },
  };
}

function metaBreakdown(metaFile, groupOf) {
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
  const out = Object.values(meta.outputs)[0];
  const groups = new Map();
  for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
    const g = groupOf(input);
    groups.set(g, (groups.get(g) ?? 0) + bytesInOutput);
  }
  return [...groups.entries()].map(([key, bytes]) => ({ key, bytes })).sort((a, b) => b.bytes - a.bytes);
}

// ---------------------------------------------------------------- page

// Runs before any agent: a long-task observer, the burst, and the hook the
// agent's loader calls when init has resolved. setTimeout is the page's own,
// taken before an agent could wrap it.
const BOOTSTRAP = `(() => {
  const b = (window.__bench = { longtasks: [], t: {}, api: null, wasmMemory: null });
  const st = (b.setTimeout = window.setTimeout.bind(window));
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) b.longtasks.push([e.startTime, e.duration]); }).observe({ type: 'longtask' });
  } catch (e) { b.noLongtask = String(e); }
  b.ready = (api) => { b.t.active = performance.now(); performance.mark('bench-active'); b.api = api; };
  b.fail = (e) => { b.failed = String(e && e.message || e); };
  b.burst = (n, name) => new Promise((resolve) => st(() => {
    const api = b.api;
    performance.mark('bench-burst');
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const s = api.startSpan(name, { 'app.a': 'alpha', 'app.b': 'bravo', 'app.c': 'charlie', 'app.d': 'delta', 'app.seq': 'n' + i });
      s.end();
    }
    const t1 = performance.now();
    resolve({ t0, t1 });
  }, 0));
  b.loop = (n, name, attrs) => {
    const api = b.api;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) api.startSpan(name, attrs ? { 'app.a': 'alpha', 'app.b': 'bravo', 'app.c': 'charlie', 'app.d': 'delta', 'app.seq': 'n' + i } : undefined).end();
    return performance.now() - t0;
  };
})();`;

function loader(kind, endpoint, variant) {
  const opts = JSON.stringify({ serviceName: 'bench-page', endpoint, ...(variant?.options ?? {}) });
  if (kind === 'waggle' && variant?.esm) {
    // Profile pages: the npm entry with wasm-bindgen's module before
    // wasm-opt, whose names are exact (wasm-opt -Oz merges similar
    // functions, so a name there can stand for several).
    return `<script type="module">
import * as w from '/prof/index.js';
w.init(${JSON.stringify({ ...JSON.parse(opts), wasmUrl: '/prof/waggle_rum_bg.wasm' })})
  .then(() => w.loadAgent()).then((ex) => { __bench.wasmMemory = ex.memory; __bench.ready(w); }, __bench.fail);
</script>`;
  }
  if (kind === 'waggle') {
    return `${snippetStub()}
<script>
waggle.init(${opts}).then((ok) => {
  if (!ok) return __bench.fail('init resolved false');
  __bench.ready(window.waggle);
  window.waggle.loadAgent().then((ex) => { __bench.wasmMemory = ex.memory; });
});
</script>`;
  }
  const src = variant?.dev ? '/otel/otel.dev.js' : '/otel/otel.js';
  return `<script type="module">
import * as otel from '${src}';
otel.init(${opts}).then(() => __bench.ready(otel), __bench.fail);
</script>`;
}

function pageHtml(kind, endpoint, variant) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Benchmark page</title>
<script>${BOOTSTRAP}</script>
${loader(kind, endpoint, variant)}
</head><body>
<h1>Benchmark page</h1>
<p>The same page for both agents: a heading, some text and a button.</p>
<button id="go" type="button">Go</button>
</body></html>`;
}

async function startPageServer(sink) {
  const pages = new Map();
  const mounts = [
    ['/waggle-rum/', PKG],
    ['/otel/', OUT],
    ['/prof/', path.join(OUT, 'named')],
  ];
  const server = http.createServer(async (req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    if (pages.has(p)) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(pages.get(p));
      return;
    }
    for (const [prefix, dir] of mounts) {
      if (!p.startsWith(prefix)) continue;
      const file = path.join(dir, p.slice(prefix.length));
      if (!file.startsWith(dir) || !fs.existsSync(file)) break;
      const body = fs.readFileSync(file);
      res.writeHead(200, { 'Content-Type': contentType(file), 'Content-Length': body.length, 'Cache-Control': 'no-store' }).end(body);
      return;
    }
    res.writeHead(p === '/nowhere/v1/traces' ? 204 : 404).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://localhost:${server.address().port}`;
  return {
    origin,
    /** A page with no agent, for the start-up split. */
    blank(id) {
      const p = `/page/blank/${id}`;
      pages.set(p, '<!doctype html><title>blank</title>');
      return origin + p;
    },
    /** Registers a page for run `id` and returns its URL. */
    page(kind, id, variant) {
      const p = `/page/${kind}/${id}`;
      pages.set(p, pageHtml(kind, sink.endpoint(id), variant));
      return origin + p;
    },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

// ---------------------------------------------------------------- tracing

// A light Chromium trace (top-level tasks with their thread CPU time, and
// the page's user-timing marks), so time figures can also be given as CPU
// time on the page's main thread, which other processes on a shared
// machine disturb far less than wall-clock time.
async function startTrace(cdp) {
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  await cdp.send('Tracing.start', { categories: 'toplevel,blink.user_timing', transferMode: 'ReportEvents' });
  return {
    async stop() {
      const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
      await cdp.send('Tracing.end');
      await done;
      return mainThreadView(events);
    },
  };
}

function mainThreadView(events) {
  const marks = events.filter((e) => e.cat?.includes('blink.user_timing') && /^bench-/.test(e.name));
  const pid = marks[0]?.pid;
  const main = events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === pid && e.args?.name === 'CrRendererMain');
  const tasks = events
    .filter((e) => e.pid === pid && e.tid === main?.tid && e.ph === 'X' && /RunTask/.test(e.name) && e.dur != null)
    .sort((a, b) => a.ts - b.ts);
  // Nested RunTask events (ThreadControllerImpl::RunTask inside RunTask)
  // would count twice: keep the outermost.
  const top = [];
  for (const t of tasks) if (!top.length || t.ts >= top[top.length - 1].ts + top[top.length - 1].dur) top.push(t);
  const mark = (name) => marks.find((m) => m.name === name)?.ts;
  return {
    mark,
    /** Main-thread CPU ms in [from, to] (trace µs), tasks prorated. */
    cpuMs(from, to) {
      let cpu = 0;
      for (const t of top) {
        const overlap = Math.min(to, t.ts + t.dur) - Math.max(from, t.ts);
        if (overlap > 0 && t.dur > 0) cpu += ((t.tdur ?? t.dur) * overlap) / t.dur;
      }
      return cpu / 1000;
    },
    /** The top-level task containing `ts`. */
    taskAt(ts) {
      return top.find((t) => t.ts <= ts && ts <= t.ts + t.dur) ?? null;
    },
  };
}

// ---------------------------------------------------------------- one run

const AGENT_FILES = { waggle: ['/waggle-rum/waggle.snippet.js', '/waggle-rum/waggle_rum_bg.wasm'], otel: ['/otel/otel.js'] };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function heap(cdp, page, gc) {
  if (gc) await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  const wasm = await page.evaluate(() => (window.__bench.wasmMemory ? window.__bench.wasmMemory.buffer.byteLength : 0));
  return { js: usedSize, wasm };
}

async function openRun(browser, server, kind, id, variant, { trace = false } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const messages = [];
  page.on('console', (m) => messages.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => messages.push(`[pageerror] ${e.message}`));
  const cdp = await context.newCDPSession(page);
  const tracing = trace ? await startTrace(cdp) : null;
  await cdp.send('HeapProfiler.enable');
  await page.goto(server.page(kind, id, variant));
  await page.waitForFunction(() => window.__bench.t.active !== undefined || window.__bench.failed, null, { timeout: 30_000, polling: 20 });
  const failed = await page.evaluate(() => window.__bench.failed);
  if (failed) throw new Error(`${kind}: ${failed}\n${messages.join('\n')}`);
  return { context, page, cdp, messages, tracing };
}

async function runOnce(browser, server, sink, kind, n) {
  const id = `${kind}-${n}-${Date.now().toString(36)}`;
  const { context, page, cdp, messages, tracing } = await openRun(browser, server, kind, id, undefined, { trace: true });

  // Bytes arrived -> instrumentation active.
  const start = await page.evaluate((files) => {
    const entries = performance.getEntriesByType('resource').filter((e) => files.some((f) => new URL(e.name).pathname === f));
    return {
      active: window.__bench.t.active,
      files: entries.map((e) => ({ path: new URL(e.name).pathname, startTime: e.startTime, responseEnd: e.responseEnd, bytes: e.encodedBodySize })),
    };
  }, AGENT_FILES[kind]);
  if (start.files.length !== AGENT_FILES[kind].length) throw new Error(`${kind}: resource timing saw ${start.files.map((f) => f.path)}`);
  const lastArrived = Math.max(...start.files.map((f) => f.responseEnd));
  const startup = { arrivedToActiveMs: start.active - lastArrived, navigationToActiveMs: start.active, lastArrivedMs: lastArrived, files: start.files };

  // Let the page-load spans go out before the burst.
  await sleep(SETTLE_MS);
  const before = await heap(cdp, page, true);
  const r = sink.run(id);
  const burstAtNode = performance.now();
  const { t0, t1 } = await page.evaluate(([n, name]) => window.__bench.burst(n, name), [SPANS, SPAN_NAME]);
  const during = await heap(cdp, page, false);
  const burstEndNode = performance.now();
  const view = await tracing.stop();
  // CPU time: start-up from the agent's last byte to init resolving; the
  // loop as its task's CPU share of the loop's wall time.
  const activeTs = view.mark('bench-active');
  const burstTs = view.mark('bench-burst');
  startup.arrivedToActiveCpuMs = activeTs ? view.cpuMs(activeTs - startup.arrivedToActiveMs * 1000, activeTs) : null;
  const task = burstTs ? view.taskAt(burstTs) : null;
  const cpu = task && task.tdur != null ? { taskMs: task.dur / 1000, taskCpuMs: task.tdur / 1000, loopCpuUsPerSpan: (((t1 - t0) * task.tdur) / task.dur) * 1000 / SPANS } : null;

  // Delivery: wait for the sink to go quiet.
  for (;;) {
    await sleep(100);
    const now = performance.now();
    const quiet = now - Math.max(r.lastAt, burstEndNode);
    const got = totals(r, burstAtNode).bench;
    if ((got >= SPANS && quiet >= QUIET_ALL_MS) || quiet >= QUIET_MS || now - burstEndNode > 60_000) break;
  }
  const deliveryMs = Math.max(0, r.lastAt - burstAtNode);
  const longtasks = (await page.evaluate(() => window.__bench.longtasks)).filter(([s, d]) => s + d > t0 - 1);
  const after = await heap(cdp, page, true);
  const sent = totals(r, burstAtNode);
  const whole = totals(r);

  // Leaving the page: what each agent sends when the page goes away.
  await page.goto('about:blank');
  await sleep(1000);
  const withUnload = totals(r);
  await context.close();

  return {
    id,
    kind,
    startup,
    perSpanUs: ((t1 - t0) * 1000) / SPANS,
    perSpanCpuUs: cpu?.loopCpuUsPerSpan ?? null,
    burstTask: cpu,
    burstMs: t1 - t0,
    delivered: sent.bench,
    deliveredWithUnload: withUnload.bench,
    droppedReported: whole.dropped,
    deliveryMs,
    requests: sent.requests,
    wireBytes: sent.wireBytes,
    bytesPerSpan: sent.spans ? sent.wireBytes / sent.spans : null,
    gzipBytesPerSpan: sent.spans ? sent.gzipBytes / sent.spans : null,
    encoding: [...new Set(r.requests.map((q) => q.encoding))],
    preflights: r.preflights,
    longtasks: { count: longtasks.length, longestMs: longtasks.reduce((m, [, d]) => Math.max(m, d), 0), all: longtasks.map(([s, d]) => [Math.round(s - t0), Math.round(d)]) },
    memory: {
      before,
      jsDuring: during.js - before.js,
      wasmDuring: during.wasm - before.wasm,
      jsAfter: after.js - before.js,
      wasmAfter: after.wasm - before.wasm,
    },
    sampleAttributes: r.sample ? r.sample.span.attributes.map((a) => a.key) : [],
    sample: r.sample ?? null,
    sinkErrors: r.errors,
    console: messages.filter((m) => !m.startsWith('[debug]')).slice(0, 20),
  };
}

// ---------------------------------------------------------------- profile

const frameName = (f) => {
  const n = (f.functionName || '(anonymous)').replace(/\[[0-9a-f]{16}\]/g, '').replace(/::h[0-9a-f]{16}$/, '');
  return f.url ? `${n}@${f.url.replace(/^.*\//, '')}` : n;
};

// Where the burst's time went, from a CPU profile. Self time by function,
// and the samples taken inside the harness loop split into buckets by the
// first pattern (in order) that a frame on their stack matches.
function analyseProfile(profile, buckets) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const inLoop = new Map();
  let total = 0;
  let loopTotal = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const leaf = nodes.get(profile.samples[i]);
    if (leaf.callFrame.functionName === '(idle)') continue;
    total += dt;
    const key = frameName(leaf.callFrame);
    self.set(key, (self.get(key) ?? 0) + dt);
    const frames = [];
    for (let id = leaf.id; id; id = parent.get(id)) frames.push(nodes.get(id).callFrame);
    // The harness loop lives in the page's own inline script.
    if (!frames.some((f) => f.url.includes('/page/'))) continue;
    const stack = frames.map(frameName);
    loopTotal += dt;
    const bucket = buckets.find(([, re]) => stack.some((f) => re.test(f)))?.[0] ?? 'harness loop and other';
    inLoop.set(bucket, (inLoop.get(bucket) ?? 0) + dt);
  }
  const list = (m, of) => [...m.entries()].map(([key, us]) => ({ key, ms: us / 1000, share: us / of })).sort((a, b) => b.ms - a.ms);
  return { totalMs: total / 1000, loopMs: loopTotal / 1000, loop: list(inLoop, loopTotal), self: list(self, total).slice(0, 40) };
}

const WAGGLE_BUCKETS = [
  ['end → export inside the loop: fetch() call', /Exporter::post/],
  ['end → export inside the loop: OTLP/JSON encoding', /encode_request|encode_chunks/],
  ['end → export inside the loop: other', /Exporter::send/],
  ['end → finish: session/page/user/global attributes, queue', /Agent::finish/],
  ['end: other (glue, handle)', /span_end|^end@/],
  ['start: clock (performance looked up by name each call)', /Agent::now_ns|lib::js::now|lib::js::performance/],
  ['start: ids (crypto.getRandomValues)', /IdGenerator|getRandomValues/],
  ['start: attributes across the boundary (Object.entries, strings)', /to_value|Object::entries|ArrayIter|Array<T>::get|string_get|passStringToWasm|entries/],
  ['start: set_attribute (limits, truncation)', /set_attribute|truncate/],
  ['start: other (glue, span object)', /app_spans::start|startSpan/],
  ['GC', /garbage collector/],
];
const OTEL_BUCKETS = [
  ['export inside the loop (batch processor, serialise, fetch)', /_flushOneBatch|serializeRequest|fetch|export@/],
  ['end (SpanImpl.end, processor onEnd)', /^end@|onEnd|_addToBuffer|_maybeStartTimer/],
  ['startSpan (ids, sampler, attributes, clock)', /startSpan/],
  ['GC', /garbage collector/],
];

async function profileRun(browser, server, sink, kind, namedOk) {
  if (kind === 'waggle' && !namedOk) return null;
  const id = `prof-${kind}-${Date.now().toString(36)}`;
  const variant = kind === 'waggle' ? { esm: true } : { dev: true };
  const { context, page, cdp } = await openRun(browser, server, kind, id, variant);
  await sleep(SETTLE_MS);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
  await cdp.send('Profiler.start');
  const { t0, t1 } = await page.evaluate(([n, name]) => window.__bench.burst(n, name), [SPANS, SPAN_NAME]);
  // The work the burst leaves behind (answers to its requests) is part of
  // what it costs.
  await sleep(1000);
  const { profile } = await cdp.send('Profiler.stop');
  await context.close();
  // Kept for DevTools (Performance panel > Load profile).
  fs.writeFileSync(path.join(OUT, `burst-${kind}.cpuprofile`), JSON.stringify(profile));
  const a = analyseProfile(profile, kind === 'waggle' ? WAGGLE_BUCKETS : OTEL_BUCKETS);
  return { kind, burstMs: t1 - t0, perSpanUs: ((t1 - t0) * 1000) / SPANS, ...a };
}

// Start-up split into its parts, on a page that does each step itself:
// Waggle: compile the module, instantiate it, run init; OpenTelemetry:
// parse and evaluate the bundle (a blob: module), run init.
async function startupParts(browser, server, kind, { profile = false } = {}) {
  const id = `start-${kind}-${Date.now().toString(36)}`;
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.blank(id));
  const cdp = profile ? await context.newCDPSession(page) : null;
  if (cdp) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 20 });
    await cdp.send('Profiler.start');
  }
  const base = profile ? '/prof/' : '/waggle-rum/';
  const res = await page.evaluate(async ([kind, endpoint, base]) => {
    const opts = { serviceName: 'bench-page', endpoint };
    if (kind === 'waggle') {
      const glue = await import(`${base}waggle_rum.js`);
      const bytes = await (await fetch(`${base}waggle_rum_bg.wasm`)).arrayBuffer();
      const t0 = performance.now();
      const module = await WebAssembly.compile(bytes);
      const t1 = performance.now();
      await glue.default({ module_or_path: module });
      const t2 = performance.now();
      glue.init(opts);
      const t3 = performance.now();
      return { compileMs: t1 - t0, instantiateMs: t2 - t1, initMs: t3 - t2, totalMs: t3 - t0 };
    }
    const text = await (await fetch('/otel/otel.js')).text();
    const url = URL.createObjectURL(new Blob([text], { type: 'text/javascript' }));
    const t0 = performance.now();
    const otel = await import(url);
    const t1 = performance.now();
    await otel.init(opts);
    const t2 = performance.now();
    return { evaluateMs: t1 - t0, initMs: t2 - t1, totalMs: t2 - t0 };
  }, [kind, `${server.origin}/nowhere`, base]);
  if (cdp) {
    const { profile: p } = await cdp.send('Profiler.stop');
    fs.writeFileSync(path.join(OUT, `startup-${kind}.cpuprofile`), JSON.stringify(p));
    // Self time of what ran inside init(), by function.
    const nodes = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const self = new Map();
    let total = 0;
    for (let i = 0; i < p.samples.length; i++) {
      const dt = p.timeDeltas[i + 1] ?? 0;
      const frames = [];
      for (let nid = p.samples[i]; nid; nid = parent.get(nid)) frames.push(nodes.get(nid).callFrame);
      if (!frames.some((f) => f.functionName === 'init' && f.url.endsWith('waggle_rum.js'))) continue;
      // Charge each sample to the innermost Rust function on its stack.
      const rust = frames.find((f) => /waggle_rum::|opentelemetry::|core::|alloc::|js_sys::|wasm_bindgen::|dlmalloc/.test(f.functionName));
      const key = rust ? frameName(rust).replace(/@.*$/, '') : frameName(frames[0]);
      self.set(key, (self.get(key) ?? 0) + dt);
      total += dt;
    }
    res.initProfile = { sampledMs: total / 1000, top: [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([k, v]) => ({ key: k, ms: v / 1000 })) };
  }
  await context.close();
  return res;
}

// The per-span cost split into its parts, on fresh pages with the export
// pushed out of the loop.
async function variants(browser, server, kind) {
  const options = kind === 'waggle' ? { batch: { maxExportBatchSize: 5000, scheduledDelayMillis: 60000 } } : {};
  const id = `var-${kind}-${Date.now().toString(36)}`;
  const { context, page } = await openRun(browser, server, kind, id, { options });
  await sleep(SETTLE_MS);
  // Below the batch size, so no export runs inside the timed loops; each
  // shape five times, interleaved, keeping the fastest (the least disturbed
  // by other processes on a shared machine).
  const n = Math.min(SPANS, 2000);
  const res = await page.evaluate(async ([n, name, kind]) => {
    const b = window.__bench;
    const tick = () => new Promise((r) => b.setTimeout(r, 0));
    const drain = async () => {
      if (kind === 'waggle') b.api.flush();
      await tick();
    };
    const best = { withAttrs: Infinity, bare: Infinity, encode: Infinity };
    b.loop(200, name, true);
    b.loop(200, name, false);
    await drain();
    for (let rep = 0; rep < 5; rep++) {
      best.withAttrs = Math.min(best.withAttrs, b.loop(n, name, true));
      if (kind === 'waggle') {
        // flush() encodes and posts what is queued, in a microtask.
        const t = performance.now();
        b.api.flush();
        await tick();
        best.encode = Math.min(best.encode, performance.now() - t);
      } else await drain();
      best.bare = Math.min(best.bare, b.loop(n, name, false));
      await drain();
    }
    const us = (x) => (x * 1000) / n;
    return kind === 'waggle'
      ? { loopNoExportUs: us(best.withAttrs), bareSpanUs: us(best.bare), encodeAndPostUs: us(best.encode) }
      : { loopUs: us(best.withAttrs), bareSpanUs: us(best.bare) };
  }, [n, SPAN_NAME, kind]);
  await context.close();
  return res;
}

// ---------------------------------------------------------------- stats

const median = (xs) => {
  const v = xs.filter((x) => x != null && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

function summarise(runs) {
  const pick = (f) => median(runs.map(f));
  return {
    arrivedToActiveMs: pick((r) => r.startup.arrivedToActiveMs),
    arrivedToActiveCpuMs: pick((r) => r.startup.arrivedToActiveCpuMs),
    perSpanCpuUs: pick((r) => r.perSpanCpuUs),
    navigationToActiveMs: pick((r) => r.startup.navigationToActiveMs),
    perSpanUs: pick((r) => r.perSpanUs),
    delivered: pick((r) => r.delivered),
    deliveredWithUnload: pick((r) => r.deliveredWithUnload),
    droppedReported: pick((r) => r.droppedReported),
    deliveryMs: pick((r) => r.deliveryMs),
    bytesPerSpan: pick((r) => r.bytesPerSpan),
    gzipBytesPerSpan: pick((r) => r.gzipBytesPerSpan),
    longtaskCount: pick((r) => r.longtasks.count),
    longestTaskMs: pick((r) => r.longtasks.longestMs),
    burstTaskMs: pick((r) => r.burstTask?.taskMs),
    burstTaskCpuMs: pick((r) => r.burstTask?.taskCpuMs),
    jsHeapDuring: pick((r) => r.memory.jsDuring),
    wasmDuring: pick((r) => r.memory.wasmDuring),
    memDuring: pick((r) => r.memory.jsDuring + r.memory.wasmDuring),
    jsHeapAfter: pick((r) => r.memory.jsAfter),
    wasmAfter: pick((r) => r.memory.wasmAfter),
    memAfter: pick((r) => r.memory.jsAfter + r.memory.wasmAfter),
  };
}

// ---------------------------------------------------------------- table

const kB = (b) => (b == null ? '-' : `${(b / 1000).toFixed(1)} kB`);
const MB = (b) => (b == null ? '-' : `${b >= 0 ? '+' : ''}${(b / 1e6).toFixed(2)} MB`);
const ms = (x) => (x == null ? '-' : `${x.toFixed(1)} ms`);
const us = (x) => (x == null ? '-' : `${x.toFixed(2)} µs`);
const B = (x) => (x == null ? '-' : `${x.toFixed(0)} B`);
const int = (x) => (x == null ? '-' : `${Math.round(x)}`);

function rows(size, w, o) {
  const ratio = (a, b) => (a == null || b == null || b === 0 ? '-' : (a / b).toFixed(2));
  const verdict = (ok) => (ok == null ? '' : ok ? 'PASS' : 'MISS');
  const wDelivOk = w.delivered >= SPANS || w.delivered + w.droppedReported >= SPANS;
  return [
    ['Download, all features on: raw', kB(size.waggle.total.raw), kB(size.otel.total.raw), ratio(size.waggle.total.raw, size.otel.total.raw), '', ''],
    ['Download, all features on: gzip -9', kB(size.waggle.total.gzip), kB(size.otel.total.gzip), ratio(size.waggle.total.gzip, size.otel.total.gzip), '≤ 28.0 kB', verdict(size.waggle.total.gzip <= 28_000)],
    ['Download, all features on: brotli 11', kB(size.waggle.total.brotli), kB(size.otel.total.brotli), ratio(size.waggle.total.brotli, size.otel.total.brotli), '', ''],
    ['Bytes arrived → instrumentation active', ms(w.arrivedToActiveMs), ms(o.arrivedToActiveMs), ratio(w.arrivedToActiveMs, o.arrivedToActiveMs), '≤ 1/3 of OTel', verdict(w.arrivedToActiveMs <= o.arrivedToActiveMs / 3)],
    ['  … main-thread CPU time in that interval', ms(w.arrivedToActiveCpuMs), ms(o.arrivedToActiveCpuMs), ratio(w.arrivedToActiveCpuMs, o.arrivedToActiveCpuMs), '', ''],
    ['Navigation start → instrumentation active', ms(w.navigationToActiveMs), ms(o.navigationToActiveMs), ratio(w.navigationToActiveMs, o.navigationToActiveMs), '', ''],
    [`Cost per span (start, 5 string attrs, end; ${SPANS} spans)`, us(w.perSpanUs), us(o.perSpanUs), ratio(w.perSpanUs, o.perSpanUs), '≤ 1/4 of OTel', verdict(w.perSpanUs <= o.perSpanUs / 4)],
    ['  … CPU time per span (loop wall × its task\'s CPU share)', us(w.perSpanCpuUs), us(o.perSpanCpuUs), ratio(w.perSpanCpuUs, o.perSpanCpuUs), '', ''],
    [`Spans delivered of ${SPANS}`, int(w.delivered), int(o.delivered), ratio(w.delivered, o.delivered), 'all, or loss counted', verdict(wDelivOk)],
    ['  … plus what the page sends when it is left', int(w.deliveredWithUnload), int(o.deliveredWithUnload), ratio(w.deliveredWithUnload, o.deliveredWithUnload), '', ''],
    ['  … loss reported by the agent', int(w.droppedReported), '0 (silent)', '', '', ''],
    ['Bytes on the wire per span (as sent)', B(w.bytesPerSpan), B(o.bytesPerSpan), ratio(w.bytesPerSpan, o.bytesPerSpan), '≤ 40 B', verdict(w.bytesPerSpan <= 40)],
    ['  … if the bodies were gzipped (level 6)', B(w.gzipBytesPerSpan), B(o.gzipBytesPerSpan), ratio(w.gzipBytesPerSpan, o.gzipBytesPerSpan), '', ''],
    ['Long tasks (> 50 ms) during the burst', int(w.longtaskCount), int(o.longtaskCount), ratio(w.longtaskCount, o.longtaskCount), '', ''],
    ['Longest task during the burst', ms(w.longestTaskMs), ms(o.longestTaskMs), ratio(w.longestTaskMs, o.longestTaskMs), '< 50 ms', verdict(w.longestTaskMs < 50)],
    ['  … the burst\'s own task: wall time, from the trace', ms(w.burstTaskMs), ms(o.burstTaskMs), ratio(w.burstTaskMs, o.burstTaskMs), '', ''],
    ['  … the burst\'s own task: main-thread CPU time', ms(w.burstTaskCpuMs), ms(o.burstTaskCpuMs), ratio(w.burstTaskCpuMs, o.burstTaskCpuMs), '', ''],
    ['Memory growth during the burst (JS heap + wasm)', MB(w.memDuring), MB(o.memDuring), ratio(w.memDuring, o.memDuring), '≤ 1/2 of OTel', verdict(w.memDuring <= o.memDuring / 2)],
    ['  … JS heap', MB(w.jsHeapDuring), MB(o.jsHeapDuring), ratio(w.jsHeapDuring, o.jsHeapDuring), '', ''],
    ['  … wasm memory', MB(w.wasmDuring), '-', '', '', ''],
    ['Memory growth after delivery and GC (JS heap + wasm)', MB(w.memAfter), MB(o.memAfter), ratio(w.memAfter, o.memAfter), '', ''],
    ['  … JS heap', MB(w.jsHeapAfter), MB(o.jsHeapAfter), ratio(w.jsHeapAfter, o.jsHeapAfter), '', ''],
    ['  … wasm memory', MB(w.wasmAfter), '-', '', '', ''],
    ['Time from burst to last span at the sink', ms(w.deliveryMs), ms(o.deliveryMs), ratio(w.deliveryMs, o.deliveryMs), '', ''],
  ];
}

function markdownTable(header, body) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...body.map(line)].join('\n');
}

function textTable(header, body) {
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  return all.map((r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ')).join('\n');
}

// ---------------------------------------------------------------- main

async function main() {
  const started = Date.now();
  const load0 = os.loadavg();
  log('bench: building the OpenTelemetry bundle and the size reports');
  const { namedOk } = buildArtifacts();
  const size = downloadSizes();
  const wasmRep = namedOk ? wasmReport(path.join(OUT, 'named/waggle_rum_opt.wasm'), { top: 40 }) : null;
  const wasmRepPre = namedOk ? wasmReport(path.join(OUT, 'named/waggle_rum_bg.wasm'), { top: 40 }) : null;
  const shippedWasm = fs.statSync(path.join(PKG, 'waggle_rum_bg.wasm')).size;
  const namedMatches = wasmRep ? wasmRep.bytes - (wasmRep.sections.find((s) => s.name === 'custom:name')?.bytes ?? 0) === shippedWasm : false;
  const otelByPackage = metaBreakdown(path.join(OUT, 'otel.meta.json'), (i) => {
    const m = /node_modules\/(@[^/]+\/[^/]+|[^/]+)/.exec(i);
    return m ? m[1] : i;
  });
  const snippetByInput = metaBreakdown(path.join(OUT, 'waggle.snippet.meta.json'), (i) => path.basename(i));

  const sink = await startSink({ benchSpanName: SPAN_NAME });
  const server = await startPageServer(sink);
  const browser = await launchBrowser();
  const browserVersion = browser.version();
  const runs = { waggle: [], otel: [] };
  const profiles = {};
  const parts = {};
  const startup = {};
  try {
    // One untimed page per agent first, so neither pays for a cold browser.
    for (const kind of ['waggle', 'otel']) {
      const { context } = await openRun(browser, server, kind, `warm-${kind}`);
      await context.close();
    }
    for (let i = 0; i < RUNS; i++) {
      for (const kind of ['waggle', 'otel']) {
        const r = await runOnce(browser, server, sink, kind, i);
        runs[kind].push(r);
        log(
          `bench: ${kind.padEnd(6)} run ${i + 1}/${RUNS}: active ${r.startup.arrivedToActiveMs.toFixed(1)} ms after arrival (CPU ${r.startup.arrivedToActiveCpuMs?.toFixed(1)}), ${r.perSpanUs.toFixed(2)} µs/span (CPU ${r.perSpanCpuUs?.toFixed(2)}), ` +
            `${r.delivered}/${SPANS} delivered (+${r.deliveredWithUnload - r.delivered} on leaving), ${r.bytesPerSpan?.toFixed(0)} B/span, ` +
            `longest task ${r.longtasks.longestMs.toFixed(0)} ms, heap ${MB(r.memory.jsDuring)} wasm ${MB(r.memory.wasmDuring)}`,
        );
      }
    }
    if (PROFILE) {
      log('bench: start-up split, CPU profiles of the burst, per-span cost split');
      for (let i = 0; i < RUNS; i++) {
        for (const kind of ['waggle', 'otel']) (startup[kind] ??= []).push(await startupParts(browser, server, kind));
      }
      // The same split with V8 compiling every wasm function up front, to
      // tell compile time from init's own work (by default V8 compiles each
      // function when it is first called, inside init).
      const eager = await launchBrowser({ args: ['--js-flags=--no-wasm-lazy-compilation'] });
      try {
        for (let i = 0; i < RUNS; i++) (startup.waggleEager ??= []).push(await startupParts(eager, server, 'waggle'));
      } finally {
        await eager.close();
      }
      if (namedOk) startup.waggleInitProfile = (await startupParts(browser, server, 'waggle', { profile: true })).initProfile;
      for (const kind of ['waggle', 'otel']) {
        profiles[kind] = await profileRun(browser, server, sink, kind, namedOk);
        parts[kind] = await variants(browser, server, kind);
      }
    }
  } finally {
    await browser.close();
    await server.close();
    await sink.close();
  }

  const w = summarise(runs.waggle);
  const o = summarise(runs.otel);
  const header = ['Figure (median of ' + RUNS + ')', 'Waggle', 'OpenTelemetry', 'W/O', 'Budget', ''];
  const body = rows(size, w, o);
  const date = new Date().toISOString();
  const cpu = os.cpus();
  const machine = `${cpu.length} cores (${cpu[0]?.model ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`;
  const load1 = os.loadavg();
  const otelVersions = Object.fromEntries(
    Object.entries(JSON.parse(fs.readFileSync(path.join(BENCH, 'package.json'), 'utf8')).dependencies),
  );

  console.log(`\nWaggle vs OpenTelemetry JS web — ${date}, Chromium ${browserVersion}, ${machine}\n`);
  console.log(textTable(header, body));
  console.log(`\nload average ${load0.map((x) => x.toFixed(1)).join(' ')} at start, ${load1.map((x) => x.toFixed(1)).join(' ')} at end; ${((Date.now() - started) / 1000).toFixed(0)} s`);

  const results = {
    date,
    browser: `Chromium ${browserVersion}`,
    machine,
    loadAverage: { start: load0, end: load1 },
    runsPerAgent: RUNS,
    spansPerBurst: SPANS,
    otelPackages: otelVersions,
    sizes: size,
    medians: { waggle: w, otel: o },
    table: body,
    runs,
    profiles: PROFILE ? profiles : null,
    perSpanParts: PROFILE ? parts : null,
    waggleInitProfile: startup.waggleInitProfile ?? null,
    startupParts: PROFILE ? Object.fromEntries(Object.entries(startup).filter(([k]) => k !== 'waggleInitProfile').map(([k, list]) => [k, Object.fromEntries(Object.keys(list[0]).map((f) => [f, median(list.map((x) => x[f]))]))])) : null,
    sampleSpans: Object.fromEntries(Object.entries(runs).map(([k, list]) => [k, list[0]?.sample ?? null])),
    wasm: wasmRep && { optimisedWithNames: wasmRep, beforeWasmOpt: wasmRepPre, sameCodeAsShipped: namedMatches },
    jsBreakdown: { otelByPackage, waggleSnippetByInput: snippetByInput },
  };
  fs.writeFileSync(path.join(BENCH, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
  fs.writeFileSync(path.join(BENCH, 'RESULTS.md'), resultsMarkdown(results, header, body));
  if (wasmRep) fs.writeFileSync(path.join(OUT, 'wasm-size.txt'), `${formatWasmReport(wasmRep)}\n\n--- before wasm-opt ---\n${formatWasmReport(wasmRepPre)}\n`);
  log(`bench: wrote bench/results.json and bench/RESULTS.md${wasmRep ? ', bench/out/wasm-size.txt' : ''}`);
}

function resultsMarkdown(res, header, body) {
  const s = res.sizes;
  const sizeRows = [
    ['Waggle: inline snippet (in the page HTML)', s.waggle.files.stub],
    ['Waggle: waggle.snippet.js (loader + wrapper + wasm-bindgen glue)', s.waggle.files.snippet],
    ['Waggle: waggle_rum_bg.wasm', s.waggle.files.wasm],
    ['Waggle: snippet.js + wasm (the figure above)', s.waggle.total],
    ['Waggle: snippet.js + wasm + inline snippet', s.waggle.withStub],
    ['Waggle via npm: index.js + glue, minified, + wasm', s.waggle.npmTotal],
    ['OpenTelemetry: otel.js bundle', s.otel.total],
  ].map(([k, v]) => [k, v.raw, v.gzip, v.brotli]);
  const out = [];
  out.push('# Benchmark: Waggle and the OpenTelemetry JS web stack');
  out.push('');
  out.push(`Run ${res.date} in headless ${res.browser} on ${res.machine}; ${res.runsPerAgent} alternating runs per agent, medians. `
    + `Load average ${res.loadAverage.start.map((x) => x.toFixed(1)).join('/')} at start (the machine is shared, so timings carry noise). `
    + 'Produced by `make bench` (bench/run.mjs); raw figures in bench/results.json.');
  out.push('');
  out.push(markdownTable(header, body));
  out.push('');
  out.push('## Download sizes (bytes)');
  out.push('');
  out.push(markdownTable(['What', 'raw', 'gzip -9', 'brotli 11'], sizeRows));
  out.push('');
  const w = res.wasm?.optimisedWithNames;
  if (w) {
    out.push('## Where Waggle\'s bytes go');
    out.push('');
    out.push(`The shipped module (${w.bytes - (w.sections.find((x) => x.name === 'custom:name')?.bytes ?? 0)} B) measured with its name section kept (wasm-opt -Oz -g${res.wasm.sameCodeAsShipped ? ', byte-identical code to the shipped module' : ''}); \`node bench/lib/wasm-size.mjs <module>\` prints the full report, bench/out/wasm-size.txt has it for this run (also for the module before wasm-opt, whose names are exact: wasm-opt inlines and merges functions, so in the optimised module the exported shims absorb the bodies they call).`);
    out.push('');
    out.push(markdownTable(['Section', 'bytes'], w.sections.filter((x) => x.name !== 'custom:name' && x.bytes > 100).map((x) => [x.name, x.bytes])));
    out.push('');
    const pre = res.wasm.beforeWasmOpt;
    out.push(markdownTable(['Code by crate (before wasm-opt, exact names)', 'bytes', 'share', 'functions'], pre.byCrate.slice(0, 12).map((g) => [g.key, g.bytes, `${((100 * g.bytes) / pre.code).toFixed(1)}%`, g.functions])));
    out.push('');
    out.push(markdownTable(['waggle_rum by module (before wasm-opt)', 'bytes', 'functions'], pre.byWaggleModule.slice(0, 15).map((g) => [g.key, g.bytes, g.functions])));
    out.push('');
    out.push(markdownTable(['Largest functions (before wasm-opt)', 'bytes'], pre.topFunctions.slice(0, 20).map((f) => [`\`${f.name.slice(0, 110)}\``, f.bytes])));
    out.push('');
    out.push(markdownTable(['Data section (shipped)', 'bytes'], Object.entries(w.data.kinds).map(([k, v]) => [k, v])));
    out.push('');
  }
  const js = res.jsBreakdown;
  out.push(markdownTable(['waggle.snippet.js by input (minified bytes)', 'bytes'], js.waggleSnippetByInput.map((g) => [g.key, g.bytes])));
  out.push('');
  out.push(markdownTable(['OpenTelemetry bundle by package (minified bytes)', 'bytes'], js.otelByPackage.slice(0, 14).map((g) => [g.key, g.bytes])));
  out.push('');
  if (res.startupParts) {
    out.push('## Start-up, split');
    out.push('');
    out.push('On a page with no agent, each step run by hand (medians of the runs): Waggle compiles its module, instantiates it through the wasm-bindgen glue and calls `init`; OpenTelemetry\'s bundle is imported from a `blob:` URL (parse and evaluate) and `init` called.');
    out.push('');
    const f = (x) => (x == null ? '-' : `${x.toFixed(1)} ms`);
    const sw = res.startupParts.waggle;
    const so = res.startupParts.otel;
    out.push(markdownTable(['Step', 'Waggle', 'OpenTelemetry'], [
      ['compile (WebAssembly.compile) / parse + evaluate the bundle', f(sw.compileMs), f(so.evaluateMs)],
      ['instantiate (glue + WebAssembly.instantiate)', f(sw.instantiateMs), '-'],
      ['init()', f(sw.initMs), f(so.initMs)],
      ['total', f(sw.totalMs), f(so.totalMs)],
    ]));
    const se = res.startupParts.waggleEager;
    if (se) {
      out.push('');
      out.push(`With every wasm function compiled up front (\`--js-flags=--no-wasm-lazy-compilation\`), Waggle's compile takes ${f(se.compileMs)}, instantiate ${f(se.instantiateMs)} and init ${f(se.initMs)}: by default V8 compiles each function on its first call, so init() also pays for compiling the code it runs.`);
    }
    out.push('');
    if (res.waggleInitProfile) {
      out.push(`Inside Waggle's \`init()\` (CPU profile at 20 µs, the unoptimised module; ${res.waggleInitProfile.sampledMs.toFixed(1)} ms sampled, profiling slows it), charged to the innermost Rust function on the stack:`);
      out.push('');
      out.push(markdownTable(['function', 'ms'], res.waggleInitProfile.top.slice(0, 10).map((e) => [`\`${e.key.slice(0, 120)}\``, e.ms.toFixed(1)])));
      out.push('');
    }
  }
  if (res.profiles) {
    out.push('## Per-span cost, split');
    out.push('');
    for (const k of ['waggle', 'otel']) {
      const p = res.profiles[k];
      if (!p) continue;
      out.push(`${k === 'waggle' ? 'Waggle' : 'OpenTelemetry'}: CPU profile of one burst (sampling 50 µs; ${p.burstMs.toFixed(0)} ms for ${res.spansPerBurst} spans under the profiler; ${p.loopMs.toFixed(0)} ms of samples inside the loop), each sample charged to the first bucket a frame on its stack matches. bench/out/burst-${k}.cpuprofile opens in DevTools.`);
      out.push('');
      out.push(markdownTable(['bucket', 'ms', 'share'], p.loop.map((e) => [e.key, e.ms.toFixed(1), `${(100 * e.share).toFixed(1)}%`])));
      out.push('');
    }
    const pw = res.perSpanParts?.waggle;
    const po = res.perSpanParts?.otel;
    if (pw) {
      out.push(markdownTable(['Fastest of 5 loops of 2000 spans (Waggle with batch size 5000, so no export inside the loop)', 'Waggle µs/span', 'OpenTelemetry µs/span'], [
        ['start, 5 string attributes, end', pw.loopNoExportUs.toFixed(2), po ? po.loopUs.toFixed(2) : '-'],
        ['start, end (no attributes)', pw.bareSpanUs.toFixed(2), po ? po.bareSpanUs.toFixed(2) : '-'],
        ['encode + post, done later by flush() (Waggle)', pw.encodeAndPostUs.toFixed(2), '-'],
        ['(OpenTelemetry runs with its defaults: its batch processor serialises and posts 512 spans inside each loop)', '', ''],
      ]));
      out.push('');
    }
  }
  if (res.sampleSpans?.waggle) {
    out.push('## One span on the wire');
    out.push('');
    for (const k of ['waggle', 'otel']) {
      const sp = res.sampleSpans[k]?.span;
      if (!sp) continue;
      out.push(`${k === 'waggle' ? 'Waggle' : 'OpenTelemetry'} (${JSON.stringify(sp).length} B as JSON, before the request's resource and scope):`);
      out.push('');
      out.push('```json');
      out.push(JSON.stringify(sp));
      out.push('```');
      out.push('');
    }
  }
  out.push('## What was measured, and how');

  out.push('');
  out.push('- Same page, same Chromium, fresh browser context per run, agents alternating (Waggle, OpenTelemetry, …). Waggle loads through its inline snippet (`waggle.snippet.js`, which fetches `waggle_rum_bg.wasm` with its SHA-384); OpenTelemetry as one esbuild-minified ES module. Both with default settings, exporting OTLP/JSON to a local sink on another origin.');
  out.push(`- OpenTelemetry packages: ${Object.entries(res.otelPackages).map(([k, v]) => `${k.replace('@opentelemetry/', '')} ${v}`).join(', ')}; web tracer provider, document-load, fetch, xml-http-request, user-interaction, OTLP/HTTP exporter, no zone.js.`);
  out.push('- Bytes arrived → active: from the latest `responseEnd` (Resource Timing) of the agent\'s files to the moment `init` resolved, taken with `performance.now()` by the page\'s bootstrap script (compile, instantiate and init included).');
  out.push(`- Cost per span: ${res.spansPerBurst} × (startSpan with 5 string attributes, end) in one task, timed with \`performance.now()\` around the loop; started over CDP with the page's own setTimeout taken before the agent loaded. It includes whatever export work each agent does inside the loop.`);
  out.push('- Delivered: spans named `bench.span` at the sink once it has been quiet for 1.5 s with all in, else 6.5 s; "on leaving" adds what arrived within 1 s of navigating away (pagehide flush).');
  out.push('- Bytes per span: request bodies as sent (after the burst began) divided by the spans in them; the gzip line compresses the same bodies at level 6, as `CompressionStream` would.');
  out.push('- Long tasks: a `longtask` PerformanceObserver registered by the bootstrap script before the agent; tasks ending after the burst started until the sink went quiet.');
  out.push('- CPU-time lines: a light Chromium trace (top-level tasks with their thread CPU time, and the page\'s user-timing marks) taken over each run\'s page load and burst. Wall-clock figures on a shared 2-core machine stretch with the load average (processes of other jobs take the CPU); the CPU-time lines do not, so compare ratios on both. The start-up CPU line counts only the page\'s main thread: wasm compilation that V8 does on background threads, and waiting for them, is in the wall-clock figure only.');
  out.push('- Memory: CDP `Runtime.getHeapUsage` (used JS heap) after a forced GC before the burst, right after the burst (no GC), and after delivery plus a forced GC; Waggle\'s wasm memory is its `WebAssembly.Memory` size (it never shrinks).');
  out.push('');
  return `${out.join('\n')}\n`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
