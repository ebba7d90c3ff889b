// Waggle against the OpenTelemetry JS web stack, side by side in one run.
//
// Both agents run in the same headless Chromium, on the same pages, with
// the same workload, in alternating runs. Each figure is the median of the
// runs; the budgets of issue 12 are judged PASS or MISS on the medians and
// everything is written to bench/results.json and bench/RESULTS.md. The
// benchmark measures: it exits 0 when budgets are missed, and fails (exit
// 1) only when something cannot be measured (a page error, an agent that
// does not start, a case that did not happen as staged).
//
// The harness stays outside both agents: each page's bootstrap script runs
// before any agent and keeps its own setTimeout and fetch; the workload is
// started over CDP (Runtime.evaluate through Playwright) and its results
// come back the same way, so no agent hook sees the harness. Memory comes
// from CDP (Runtime.getHeapUsage, HeapProfiler.collectGarbage), task
// lengths from a Chromium trace and a `longtask` observer, spans and bytes
// from the sink.
//
//   node bench/run.mjs [--runs 3] [--spans 10000] [--big 50000] [--no-profile]
//                      [--only startup,early,load,burst,shut] [--from-results]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { launchBrowser } from '../tests/lib/browser.mjs';
import { contentType } from '../tests/lib/server.mjs';
import { startSink, totals } from './lib/sink.mjs';
import { startTrace } from './lib/trace.mjs';
import { pageHtml, bootstrap, inlineSnippetScript, EARLY_ERROR, PIXEL_GIF } from './lib/pages.mjs';
import { report as wasmReport, formatReport as formatWasmReport } from './lib/wasm-size.mjs';
import { sizes, sumSizes, metaBreakdown } from './lib/sizes.mjs';
import { median, summarise, rows, textTable, resultsMarkdown } from './lib/report.mjs';
import { startupParts, profileBurst, perSpanParts } from './lib/profile.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, '..');
const PKG = path.join(ROOT, 'pkg');
const OUT = path.join(BENCH, 'out');
const APP = path.join(OUT, 'app');
const DEV = path.join(OUT, 'dev');
const ESBUILD = path.join(ROOT, 'node_modules/.bin/esbuild');
// The module as rustc linked it (scripts/build.sh), before wasm-opt: it
// still has its name section.
const NAMED_WASM = path.join(ROOT, 'target/ship/wasm32-unknown-unknown/release/waggle_rum.wasm');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const RUNS = opt('runs', 3);
const SPANS = opt('spans', 10_000);
const BIG = opt('big', 50_000);
const PROFILE = !args.includes('--no-profile');
// For working on one case: `--only early,load` runs just those cases and
// prints their raw figures (no table, nothing written).
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;
const want = (c) => !ONLY || ONLY.includes(c);
const SPAN_NAME = 'bench.span';
// How long the bench server holds waggle.wasm on the early-actions pages.
const WASM_DELAY_MS = 300;
// A delivery is over once the sink has been quiet this long with every
// span in (or counted as lost by the agent), or this long without.
const QUIET_ALL_MS = 800;
const QUIET_MS = 1500;
// A recorded time is "true" within this much of the moment the page acted.
const TRUE_TIME_MS = 5;
const SERVICE = 'bench-page';

const log = (...a) => console.error(...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- builds

function sh(cmd, argv, opts = {}) {
  return execFileSync(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], ...opts }).toString();
}

function buildArtifacts() {
  for (const f of ['index.js', 'waggle.wasm', 'waggle.snippet.js', 'snippet.html', 'package.json']) {
    if (!fs.existsSync(path.join(PKG, f))) throw new Error(`pkg/${f} is missing: run scripts/build.sh first`);
  }
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const otel = path.join(BENCH, 'otel-entry.js');
  // The OpenTelemetry bundle as a page would ship it, and a readable one
  // for the CPU profile.
  sh(ESBUILD, [otel, '--bundle', '--format=esm', '--minify', `--outfile=${OUT}/otel.js`, `--metafile=${OUT}/otel.meta.json`, '--log-level=warning']);
  sh(ESBUILD, [otel, '--bundle', '--format=esm', `--outfile=${OUT}/otel.dev.js`, '--log-level=warning']);

  // The npm way: an app importing every export of the package from
  // node_modules, bundled and minified by esbuild; the module is served
  // next to the bundle (esbuild leaves `new URL('waggle.wasm',
  // import.meta.url)` as it is).
  const pkgJson = JSON.parse(fs.readFileSync(path.join(PKG, 'package.json'), 'utf8'));
  const installed = path.join(APP, 'node_modules', 'waggle-rum');
  fs.mkdirSync(installed, { recursive: true });
  for (const f of [...pkgJson.files, 'package.json']) {
    if (fs.existsSync(path.join(PKG, f))) fs.copyFileSync(path.join(PKG, f), path.join(installed, f));
  }
  fs.copyFileSync(path.join(BENCH, 'app-entry.js'), path.join(APP, 'main.js'));
  sh(ESBUILD, [path.join(APP, 'main.js'), '--bundle', '--format=esm', '--minify', `--outfile=${APP}/dist/app.js`, `--metafile=${OUT}/app.meta.json`, '--log-level=warning']);
  fs.copyFileSync(path.join(PKG, 'waggle.wasm'), path.join(APP, 'dist', 'waggle.wasm'));

  // What each source file adds to the shell's three scripts: built again
  // as scripts/build.sh builds them, with a metafile.
  const meta = path.join(OUT, 'js-meta');
  for (const [entry, format, name] of [['js/index.js', 'esm', 'index'], ['js/loader.js', 'iife', 'snippet-js'], ['js/snippet.js', 'iife', 'inline']]) {
    sh(ESBUILD, [path.join(ROOT, entry), '--bundle', '--minify', '--target=es2020', `--format=${format}`, `--outfile=${meta}/${name}.js`, `--metafile=${meta}/${name}.json`, '--log-level=error']);
  }

  // For CPU profiles: the npm module unminified, with the module that
  // still names its functions.
  const named = fs.existsSync(NAMED_WASM);
  if (PROFILE) {
    sh(ESBUILD, [path.join(ROOT, 'js/index.js'), '--bundle', '--format=esm', `--outfile=${DEV}/index.js`, '--log-level=warning']);
    fs.copyFileSync(named ? NAMED_WASM : path.join(PKG, 'waggle.wasm'), path.join(DEV, 'waggle.wasm'));
  }
  return { named };
}

function downloadSizes() {
  const file = (rel, p) => ({ file: rel, ...sizes(fs.readFileSync(p)) });
  const f = {
    inline: { file: 'pkg/snippet.html (its inline script)', ...sizes(Buffer.from(inlineSnippetScript(PKG))) },
    snippetJs: file('pkg/waggle.snippet.js', path.join(PKG, 'waggle.snippet.js')),
    wasm: file('pkg/waggle.wasm', path.join(PKG, 'waggle.wasm')),
    indexJs: file('pkg/index.js', path.join(PKG, 'index.js')),
    appJs: file('app bundle (esbuild, minified)', path.join(APP, 'dist', 'app.js')),
    otel: file('OpenTelemetry bundle (esbuild, minified)', path.join(OUT, 'otel.js')),
  };
  const appMeta = JSON.parse(fs.readFileSync(path.join(OUT, 'app.meta.json'), 'utf8'));
  const appOut = Object.values(appMeta.outputs)[0];
  const appOwn = Object.entries(appOut.inputs).filter(([k]) => !k.includes('node_modules')).reduce((s, [, v]) => s + v.bytesInOutput, 0);
  return {
    files: f,
    appEntryBytes: appOwn,
    ways: {
      snippet: sumSizes([f.inline, f.snippetJs, f.wasm]),
      npm: sumSizes([f.appJs, f.wasm]),
      esm: sumSizes([f.indexJs, f.wasm]),
      otel: f.otel,
    },
  };
}

// ---------------------------------------------------------------- server

async function startPageServer() {
  const pages = new Map();
  const mounts = [
    ['/waggle-rum/', PKG],
    ['/app/', path.join(APP, 'dist')],
    ['/otel/', OUT],
    ['/dev/', DEV],
  ];
  let next = 0;
  const acted = new Set();
  const waiting = new Map();
  const server = http.createServer(async (req, res) => {
    let p = new URL(req.url, 'http://x').pathname;
    // /slow/<page>/…: the same files, with the module held back until
    // the page has done its early actions and WASM_DELAY_MS have passed.
    const slowMatch = /^\/slow\/([\w-]+)(\/.*)$/.exec(p);
    const slow = slowMatch?.[1];
    if (slow) p = slowMatch[2];
    if (p === '/bench/acted') {
      const page = new URL(req.url, 'http://x').searchParams.get('page');
      acted.add(page);
      for (const f of waiting.get(page) ?? []) f();
      waiting.delete(page);
      res.writeHead(204, { 'Cache-Control': 'no-store' }).end();
      return;
    }
    if (pages.has(p)) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(pages.get(p));
      return;
    }
    if (p === '/img/px.gif') {
      res.writeHead(200, { 'Content-Type': 'image/gif', 'Cache-Control': 'no-store' }).end(PIXEL_GIF);
      return;
    }
    if (p === '/nowhere/v1/traces') {
      res.writeHead(204).end();
      return;
    }
    if (p === '/bench/bootstrap.js') {
      const flags = JSON.parse(new URL(req.url, 'http://x').searchParams.get('flags') || '{}');
      res.writeHead(200, { 'Content-Type': 'text/javascript', 'Cache-Control': 'no-store' }).end(bootstrap(flags));
      return;
    }
    if (p === '/bench/ping') {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' }).end('pong');
      return;
    }
    for (const [prefix, dir] of mounts) {
      if (!p.startsWith(prefix)) continue;
      const file = path.join(dir, p.slice(prefix.length));
      if (!file.startsWith(dir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) break;
      const body = fs.readFileSync(file);
      if (slow && file.endsWith('.wasm')) {
        const done = acted.has(slow) ? null : new Promise((resolve) => waiting.set(slow, [...(waiting.get(slow) ?? []), resolve]));
        await Promise.all([sleep(WASM_DELAY_MS), done && Promise.race([done, sleep(10_000)])]);
      }
      res.writeHead(200, { 'Content-Type': contentType(file), 'Content-Length': body.length, 'Cache-Control': 'no-store' }).end(body);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://localhost:${server.address().port}`;
  return {
    origin,
    /** Registers a page (see pageHtml) and returns its URL. */
    page(spec) {
      const p = `/page/${spec.id ?? next++}`;
      pages.set(p, pageHtml({ pkgDir: PKG, ...spec }));
      return origin + p;
    },
    /** A page with no script at all. */
    blank() {
      const p = `/page/blank-${next++}`;
      pages.set(p, '<!doctype html><title>blank</title>');
      return origin + p;
    },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

// ---------------------------------------------------------------- pages

class Unmeasurable extends Error {}

/** Opens a page in a fresh context; page errors other than `expect` make the run fail. */
async function open(browser, url, { trace = false, expect = [] } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const messages = [];
  const pageErrors = [];
  const expected = [];
  page.on('console', (m) => messages.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => (expect.some((x) => e.message.includes(x)) ? expected : pageErrors).push(e.message));
  const cdp = await context.newCDPSession(page);
  const tracing = trace ? await startTrace(cdp, { samples: trace === 'samples' }) : null;
  await cdp.send('HeapProfiler.enable');
  await page.goto(url);
  const run = { context, page, cdp, messages, pageErrors, expected, tracing, url };
  run.check = (what, sinkRun) => {
    if (pageErrors.length) throw new Unmeasurable(`${what}: page error\n${pageErrors.join('\n')}\n${messages.join('\n')}`);
    if (sinkRun?.errors.length) throw new Unmeasurable(`${what}: the sink could not read what the agent sent\n${sinkRun.errors.slice(0, 5).join('\n')}`);
  };
  return run;
}

/** Waits for init to have resolved (and the module's exports to be known). */
async function ready(run, what) {
  await run.page.waitForFunction(() => window.__bench.t.done || window.__bench.failed, null, { timeout: 30_000, polling: 20 });
  const failed = await run.page.evaluate(() => window.__bench.failed);
  if (failed) throw new Unmeasurable(`${what}: ${failed}\n${run.messages.join('\n')}`);
  run.check(what);
}

async function heap(run, gc) {
  if (gc) await run.cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await run.cdp.send('Runtime.getHeapUsage');
  const wasm = await run.page.evaluate(() => (window.__bench.wasmMemory ? window.__bench.wasmMemory.buffer.byteLength : 0));
  return { js: usedSize, wasm };
}

/** Until the sink has every span since `since` (or their loss counted) and has gone quiet. */
async function delivery(sinkRun, since, expected, { quiet = QUIET_MS, max = 30_000 } = {}) {
  const t0 = performance.now();
  for (;;) {
    await sleep(100);
    const now = performance.now();
    const q = now - Math.max(sinkRun.lastAt, since);
    const t = totals(sinkRun, since);
    if ((t.bench + t.dropped >= expected && q >= QUIET_ALL_MS) || q >= quiet || now - t0 > max) return Math.max(0, sinkRun.lastAt - since);
  }
}

const pageNow = (run) => run.page.evaluate(() => performance.now());

const attrsOf = (s) => Object.fromEntries((s.attributes ?? []).map((a) => [a.key, Object.values(a.value ?? {})[0]]));

// ---------------------------------------------------------------- cases

const WAYS = ['snippet', 'esm', 'bundled'];
const AGENT_FILES = {
  snippet: ['/waggle-rum/waggle.snippet.js', '/waggle-rum/waggle.wasm'],
  esm: ['/waggle-rum/index.js', '/waggle-rum/waggle.wasm'],
  bundled: ['/app/app.js', '/app/waggle.wasm'],
  otel: ['/otel/otel.js'],
};

// Navigation start → instrumentation active, on a light page.
async function startupCase(browser, server, sink, how, n) {
  const id = `start-${how}-${n}`;
  const run = await open(browser, server.page({ how, options: { serviceName: SERVICE, endpoint: sink.endpoint(id) } }));
  await ready(run, `start-up (${how})`);
  const t = await run.page.evaluate((files) => ({
    ...window.__bench.t,
    files: performance.getEntriesByType('resource').filter((e) => files.includes(new URL(e.name).pathname)).map((e) => ({ path: new URL(e.name).pathname, startTime: e.startTime, responseEnd: e.responseEnd })),
  }), AGENT_FILES[how]);
  await run.context.close();
  if (!t.hooked) throw new Unmeasurable(`start-up (${how}): window.fetch was not replaced when init() returned`);
  return {
    // The page's first script (the bootstrap, before any agent) ran: the
    // floor under every way of loading.
    firstScriptMs: t.origin,
    recordingMs: t.recording,
    readyMs: t.ready,
    initSyncMs: t.recording - t.initCalled,
    lastFileMs: t.files.length ? Math.max(...t.files.map((f) => f.responseEnd)) : null,
    files: t.files,
  };
}

// A request, a click and an error right after init(), while the bench
// server holds the module back: do they arrive, with their true times?
async function earlyCase(browser, server, sink, how, n) {
  const id = `early-${how}-${n}`;
  const what = `early actions (${how})`;
  const run = await open(browser, server.page({ how, base: `/slow/${id}`, flags: { early: id }, options: { serviceName: SERVICE, endpoint: sink.endpoint(id) } }), { expect: [EARLY_ERROR] });
  await ready(run, what);
  // Sends what is held now rather than after the batch delay.
  await run.page.evaluate(() => window.__bench.api.flush());
  const t = await run.page.evaluate(() => {
    const b = window.__bench;
    const wasm = performance.getEntriesByType('resource').find((e) => new URL(e.name).pathname.endsWith('/waggle.wasm'));
    return { early: b.early, recording: b.t.recording, ready: b.t.ready, origin: performance.timeOrigin, wasm: wasm && { startTime: wasm.startTime, responseEnd: wasm.responseEnd } };
  });
  const e = t.early;
  if (!t.wasm) throw new Unmeasurable(`${what}: no resource timing for waggle.wasm`);
  if (!e || e.fetchAt == null || e.clickAt == null || e.errorAt == null) throw new Unmeasurable(`${what}: the page did not act (${JSON.stringify(e)})`);
  if (Math.max(e.fetchAt, e.clickAt, e.errorAt) >= t.wasm.responseEnd) throw new Unmeasurable(`${what}: the page acted after the module arrived (${JSON.stringify(t)})`);
  if (!run.expected.length) throw new Unmeasurable(`${what}: the staged error was not thrown`);
  const sinkRun = sink.run(id);
  const find = () => {
    const spans = sinkRun.spans;
    return {
      // The request's own span, not the page load's resourceFetch for it.
      fetch: spans.find((s) => s.name !== 'resourceFetch' && String(attrsOf(s)['url.full'] ?? '').includes('/bench/ping?early=1')),
      click: spans.find((s) => s.name === 'click'),
      error: spans.find((s) => JSON.stringify(s).includes(EARLY_ERROR)),
    };
  };
  const deadline = performance.now() + 6000;
  let found = find();
  while (!(found.fetch && found.click && found.error) && performance.now() < deadline) {
    await sleep(100);
    found = find();
  }
  run.check(what, sinkRun);
  await run.context.close();
  const ms = (s) => Number(BigInt(s.startTimeUnixNano) / 1000n) / 1000 - t.origin;
  const item = (s, at) => {
    if (!s) return { arrived: false, ok: false, trueMs: at };
    const startMs = ms(s);
    const ok = startMs < t.wasm.responseEnd && Math.abs(startMs - at) <= TRUE_TIME_MS;
    const r = { arrived: true, name: s.name, startMs, trueMs: at, offByMs: startMs - at, beforeWasm: startMs < t.wasm.responseEnd, ok };
    // What arrived, when it is not right: the evidence.
    if (!ok) r.span = { ...s, at: undefined, events: (s.events ?? []).map((ev) => ({ ...ev, atMs: Number(BigInt(ev.timeUnixNano) / 1000n) / 1000 - t.origin })) };
    return r;
  };
  const items = { fetch: item(found.fetch, e.fetchAt), click: item(found.click, e.clickAt), error: item(found.error, e.errorEventAt ?? e.errorAt) };
  return {
    ...items,
    pass: Object.values(items).every((x) => x.ok),
    // How long after the throw the browser stamped its error event.
    errorReportedMs: e.errorEventAt == null ? null : e.errorEventAt - e.errorAt,
    recordingMs: t.recording,
    wasmArrivedMs: t.wasm.responseEnd,
    readyMs: t.ready,
    names: sinkRun.names,
    // Every request span the agent sent for this page: what it traced.
    requests: sinkRun.spans.filter((s) => s.name !== 'resourceFetch' && attrsOf(s)['http.request.method']).map((s) => `${s.name} ${attrsOf(s)['url.full']}`),
  };
}

const isAgentUrl = (pageUrl) => (url) => url === pageUrl || url.startsWith('wasm://') || /\/(waggle-rum|app|otel)\//.test(url);

const windowTasks = (view, longtasks, from, to) => {
  const lt = longtasks.filter(([s, d]) => s + d > from && s < to);
  const longest = view.longest(from, to);
  return { longestMs: longest.ms, longestCpuMs: longest.cpuMs, longestAtMs: longest.startMs, longtasks: lt.length, longestObservedMs: lt.reduce((m, [, d]) => Math.max(m, d), 0) };
};

// Page load with 1,000 resources (images), from navigation start until
// the load's spans are at the sink (the page calls flush() a second after
// load). `kind`: 'waggle' (through the snippet), 'otel', or 'none' (the
// page alone). The trace samples stacks, so each task's time in the
// agent's scripts (the page's own URL holds only the agent's snippet or
// the lines importing it: the bootstrap is external here) can be told.
async function loadCase(browser, server, sink, kind, n) {
  const id = `load-${kind}-${n}`;
  const what = `page load with 1,000 resources (${kind})`;
  const how = kind === 'waggle' ? 'snippet' : kind;
  const url = server.page({ how, body: 'many', external: true, options: { serviceName: SERVICE, endpoint: sink.endpoint(id) } });
  // The page alone needs no trace: its long tasks come from the observer.
  const run = await open(browser, url, { trace: kind === 'none' ? false : 'samples' });
  const sinkRun = sink.run(id);
  if (kind !== 'none') await ready(run, what);
  await run.page.waitForFunction(() => window.__bench.t.load !== undefined, null, { timeout: 60_000, polling: 20 });
  await sleep(500);
  if (kind !== 'none') {
    const since = performance.now();
    await run.page.evaluate(() => { window.__bench.api.flush(); });
    await delivery(sinkRun, since, Infinity, { quiet: 600, max: 8000 });
  }
  const endMs = await pageNow(run);
  const t = await run.page.evaluate(() => ({ ...window.__bench.t, longtasks: window.__bench.longtasks, resources: performance.getEntriesByType('resource').filter((e) => e.name.includes('/img/px.gif')).length }));
  run.check(what, sinkRun);
  const view = run.tracing ? await run.tracing.stop() : null;
  await run.context.close();
  if (t.resources !== 1000) throw new Unmeasurable(`${what}: the page has ${t.resources} image resources, not 1,000`);
  const observed = t.longtasks.filter(([st, d]) => st + d > 0 && st < endMs);
  const base = {
    kind,
    endMs,
    loadEventMs: t.load,
    readyMs: t.ready ?? null,
    resourceSpans: sinkRun.names.resourceFetch ?? 0,
    documentLoadSpans: sinkRun.names.documentLoad ?? 0,
    longtasks: observed.length,
    longestObservedMs: observed.reduce((m, [, d]) => Math.max(m, d), 0),
  };
  if (!view) return base;
  view.setOrigin(t.origin);
  const tasks = view.tasksWithOwn(0, endMs, isAgentUrl(url));
  const own = tasks.reduce((m, x) => (x.ownMs > m.ownMs ? x : m), { ownMs: 0, ms: 0, startMs: null });
  return {
    ...base,
    tasks: windowTasks(view, t.longtasks, 0, endMs),
    // The most agent work in one task, and that task.
    agentMs: own.ownMs,
    // The same as CPU time: the task's CPU share applied to the agent's part.
    agentCpuMs: own.ms > 0 ? (own.ownMs * own.cpuMs) / own.ms : 0,
    agentTaskMs: own.ms,
    agentTaskAtMs: own.startMs,
    agentTotalMs: tasks.reduce((a, x) => a + x.ownMs, 0),
  };
}

// The burst page (light): a burst followed at once by flush() (cost per
// span, memory, delivery, long tasks), then another burst and flush() with
// the page hidden in the next task (visibilitychange to hidden, pagehide).
async function burstCase(browser, server, sink, kind, n) {
  const id = `burst-${kind}-${n}`;
  const what = `burst (${kind})`;
  const how = kind === 'waggle' ? 'snippet' : kind;
  const run = await open(browser, server.page({ how, options: { serviceName: SERVICE, endpoint: sink.endpoint(id) } }), { trace: true });
  const sinkRun = sink.run(id);
  await ready(run, what);
  await run.page.waitForFunction(() => window.__bench.t.load !== undefined, null, { timeout: 30_000, polling: 20 });
  // The page load's spans out of the way first.
  await sleep(300);
  const settled = performance.now();
  await run.page.evaluate(() => { window.__bench.api.flush(); });
  await delivery(sinkRun, settled, Infinity, { quiet: 500, max: 5000 });
  const origin = await run.page.evaluate(() => window.__bench.t.origin);
  const out = { kind };

  const before = await heap(run, true);
  const since1 = performance.now();
  const b1 = await run.page.evaluate(([n, name]) => window.__bench.burst(n, name, { flush: true }), [SPANS, SPAN_NAME]);
  const during = await heap(run, false);
  const deliveryMs = await delivery(sinkRun, since1, SPANS);
  const end1 = await pageNow(run);
  const after = await heap(run, true);
  const sent = totals(sinkRun, since1);
  out.burst = { ...b1, endMs: end1, loopMs: b1.t1 - b1.t0, flushSyncMs: b1.t2 - b1.t1, perSpanUs: ((b1.t1 - b1.t0) * 1000) / SPANS, deliveryMs };
  out.memory = { before, during, after, jsDuring: during.js - before.js, wasmDuring: during.wasm - before.wasm, jsAfter: after.js - before.js, wasmAfter: after.wasm - before.wasm };
  out.delivered = { bench: sent.bench, dropped: sent.dropped, unconfirmed: sent.unconfirmed, requests: sent.requests, wireBytes: sent.wireBytes, bytesPerSpan: sent.spans ? sent.wireBytes / sent.spans : null, gzipBytesPerSpan: sent.spans ? sent.gzipBytes / sent.spans : null, encoding: [...new Set(sinkRun.requests.map((q) => q.encoding))] };

  const since2 = performance.now();
  const b2 = await run.page.evaluate(([n, name]) => window.__bench.burst(n, name, { flush: true, then: 'hide' }), [SPANS, SPAN_NAME]);
  await delivery(sinkRun, since2, SPANS);
  const end2 = await pageNow(run);
  const hid = totals(sinkRun, since2);
  // Each page writes its unsent bodies under keys of its own.
  const kept = await run.page.evaluate(() => {
    let n = 0;
    try {
      for (let i = 0; i < localStorage.length; i++) if (localStorage.key(i).startsWith('waggle.unsent')) n += localStorage.getItem(localStorage.key(i)).length;
    } catch {}
    return n;
  });
  out.hide = { ...b2, endMs: end2, syncMs: b2.c1 - b2.c0, delivered: hid.bench, dropped: hid.dropped, unconfirmed: hid.unconfirmed, storedChars: kept };

  const longtasks = await run.page.evaluate(() => window.__bench.longtasks);
  run.check(what, sinkRun);
  const view = await run.tracing.stop();
  view.setOrigin(origin);
  await run.context.close();
  out.burst.tasks = windowTasks(view, longtasks, out.burst.t0, out.burst.endMs);
  out.burst.ownTask = view.taskAt(out.burst.t0);
  const own = out.burst.ownTask;
  out.burst.perSpanCpuUs = own && own.ms > 0 ? ((out.burst.loopMs * own.cpuMs) / own.ms) * 1000 / SPANS : null;
  out.hide.tasks = windowTasks(view, longtasks, out.hide.c0, out.hide.endMs);
  out.sample = sinkRun.sample ?? null;
  out.console = run.messages.filter((m) => !m.startsWith('[debug]')).slice(0, 20);
  return out;
}

// A light page: (Waggle only) the module's memory after a burst of SPANS
// and after one of BIG, then a burst ended by shutdown() in the next task.
async function shutdownCase(browser, server, sink, kind, n) {
  const id = `shut-${kind}-${n}`;
  const what = `shutdown (${kind})`;
  const how = kind === 'waggle' ? 'snippet' : 'otel';
  const run = await open(browser, server.page({ how, options: { serviceName: SERVICE, endpoint: sink.endpoint(id) } }), { trace: true });
  const sinkRun = sink.run(id);
  await ready(run, what);
  const origin = await run.page.evaluate(() => window.__bench.t.origin);
  await run.page.waitForFunction(() => window.__bench.t.load !== undefined, null, { timeout: 30_000, polling: 20 });
  await sleep(300);
  const settled = performance.now();
  await run.page.evaluate(() => { window.__bench.api.flush(); });
  await delivery(sinkRun, settled, Infinity, { quiet: 500, max: 5000 });
  const out = { kind };
  if (kind === 'waggle') {
    const burst = async (count) => {
      const since = performance.now();
      const before = await heap(run, true);
      await run.page.evaluate(([n, name]) => window.__bench.burst(n, name, { flush: true }), [count, SPAN_NAME]);
      const during = await heap(run, false);
      await delivery(sinkRun, since, count);
      const after = await heap(run, true);
      const t = totals(sinkRun, since);
      return { spans: count, before, during, after, delivered: t.bench, dropped: t.dropped };
    };
    out.small = await burst(SPANS);
    out.big = await burst(BIG);
  }
  const since = performance.now();
  const b = await run.page.evaluate(([n, name]) => window.__bench.burst(n, name, { then: 'shutdown' }), [SPANS, SPAN_NAME]);
  await delivery(sinkRun, since, SPANS);
  const end = await pageNow(run);
  const t = totals(sinkRun, since);
  const hooksOut = await run.page.evaluate(() => window.fetch === window.__bench.fetch);
  const longtasks = await run.page.evaluate(() => window.__bench.longtasks);
  run.check(what, sinkRun);
  const view = await run.tracing.stop();
  view.setOrigin(origin);
  await run.context.close();
  out.shutdown = { ...b, endMs: end, syncMs: b.c1 - b.c0, delivered: t.bench, dropped: t.dropped, fetchRestored: hooksOut, tasks: windowTasks(view, longtasks, b.c0, end) };
  return out;
}

// ---------------------------------------------------------------- main

// `--from-results`: the table and RESULTS.md again from bench/results.json
// (after a change to how they are written; the figures stay those of the
// run that wrote results.json).
function rewrite() {
  const res = JSON.parse(fs.readFileSync(path.join(BENCH, 'results.json'), 'utf8'));
  res.medians = summarise(res.runs);
  const body = rows(res.sizes, res.medians, { spans: res.spansPerBurst, big: res.bigBurst, wasmDelayMs: res.wasmDelayMs });
  const header = [`Figure (median of ${res.runsPerAgent} runs)`, 'Waggle', 'OpenTelemetry', 'W/O', 'Budget', ''];
  res.table = body;
  console.log(textTable(header, body));
  fs.writeFileSync(path.join(BENCH, 'results.json'), `${JSON.stringify(res, null, 1)}\n`);
  fs.writeFileSync(path.join(BENCH, 'RESULTS.md'), resultsMarkdown(res, header, body));
}

async function main() {
  if (args.includes('--from-results')) return rewrite();
  const started = Date.now();
  const load0 = os.loadavg();
  log('bench: bundling OpenTelemetry and the npm app, measuring the downloads');
  const { named } = buildArtifacts();
  const size = downloadSizes();
  const wasmShipped = wasmReport(path.join(PKG, 'waggle.wasm'), { top: 0 });
  const wasmNamed = named ? wasmReport(NAMED_WASM, { top: 40 }) : null;
  const bySource = (name) => metaBreakdown(path.join(OUT, 'js-meta', `${name}.json`), (i) => path.basename(i));
  const shellBySource = { index: bySource('index'), snippetJs: bySource('snippet-js'), inline: bySource('inline') };
  const otelByPackage = metaBreakdown(path.join(OUT, 'otel.meta.json'), (i) => {
    const m = /node_modules\/(@[^/]+\/[^/]+|[^/]+)/.exec(i);
    return m ? m[1] : i;
  });

  const sink = await startSink({ benchSpanName: SPAN_NAME, keep: (id) => id.startsWith('early-') });
  const server = await startPageServer();
  const browser = await launchBrowser();
  const browserVersion = browser.version();
  const runs = { startup: {}, early: {}, load: { waggle: [], otel: [], none: [] }, burst: { waggle: [], otel: [] }, shut: { waggle: [], otel: [] } };
  for (const k of [...WAYS, 'otel']) runs.startup[k] = [];
  for (const k of WAYS) runs.early[k] = [];
  let profile = null;
  const caseSeconds = {};
  try {
    // One untimed page per agent first, so neither pays for a cold browser.
    for (const how of ['snippet', 'otel', 'bundled']) await startupCase(browser, server, sink, how, 'warm');
    for (let i = 0; i < RUNS; i++) {
      // Alternating, and in turn each agent first.
      const pair = i % 2 ? ['otel', 'waggle'] : ['waggle', 'otel'];
      const timed = async (c, f) => {
        const t0 = performance.now();
        await f();
        (caseSeconds[c] ??= []).push((performance.now() - t0) / 1000);
      };
      if (want('startup')) await timed('startup', async () => { for (const how of i % 2 ? ['otel', ...WAYS] : ['snippet', 'otel', 'esm', 'bundled']) runs.startup[how].push(await startupCase(browser, server, sink, how, i)); });
      if (want('early')) await timed('early', async () => { for (const how of WAYS) runs.early[how].push(await earlyCase(browser, server, sink, how, i)); });
      // The page alone, for reference: in the first run only (it costs as
      // much as an agent's run and judges nothing).
      if (want('load')) await timed('load', async () => { for (const kind of i === 0 ? [...pair, 'none'] : pair) runs.load[kind].push(await loadCase(browser, server, sink, kind, i)); });
      if (want('burst')) await timed('burst', async () => { for (const kind of pair) runs.burst[kind].push(await burstCase(browser, server, sink, kind, i)); });
      if (want('shut')) await timed('shut', async () => { for (const kind of pair) runs.shut[kind].push(await shutdownCase(browser, server, sink, kind, i)); });
      if (ONLY) {
        log(`bench: run ${i + 1}/${RUNS} done`);
        continue;
      }
      const s = (how) => runs.startup[how][i];
      const tasks = (k) => [runs.load[k][i].agentMs, runs.burst[k][i].burst.tasks.longestMs, runs.burst[k][i].hide.tasks.longestMs, runs.shut[k][i].shutdown.tasks.longestMs].map((x) => x.toFixed(0)).join('/');
      log(
        `bench: run ${i + 1}/${RUNS}: recording at ${WAYS.map((h) => s(h).recordingMs.toFixed(0)).join('/')} ms (OTel active ${s('otel').recordingMs.toFixed(0)}), ` +
          `early ${WAYS.map((h) => (runs.early[h][i].pass ? 'ok' : 'MISS')).join('/')}, ` +
          `${runs.burst.waggle[i].burst.perSpanUs.toFixed(2)} vs ${runs.burst.otel[i].burst.perSpanUs.toFixed(2)} µs/span, ` +
          `tasks W ${tasks('waggle')} O ${tasks('otel')} ms, ` +
          `wasm ${(runs.shut.waggle[i].small.after.wasm / 1e6).toFixed(2)}/${(runs.shut.waggle[i].big.after.wasm / 1e6).toFixed(2)} MB`,
      );
    }
    if (PROFILE && !ONLY) {
      log('bench: start-up split, CPU profiles of the burst, per-span split');
      profile = {
        startup: { waggle: [], otel: [] },
        burst: {},
        perSpan: {},
      };
      for (let i = 0; i < RUNS; i++) for (const kind of ['waggle', 'otel']) profile.startup[kind].push(await startupParts(browser, server, kind));
      for (const kind of ['waggle', 'otel']) {
        profile.burst[kind] = await profileBurst({ browser, server, sink, kind, spans: SPANS, spanName: SPAN_NAME, outDir: OUT, open, ready });
        profile.perSpan[kind] = await perSpanParts({ browser, server, sink, kind, spanName: SPAN_NAME, open, ready, spans: SPANS });
      }
      profile.startup = Object.fromEntries(Object.entries(profile.startup).map(([k, list]) => [k, Object.fromEntries(Object.keys(list[0]).map((f) => [f, median(list.map((x) => x[f]))]))]));
    }
  } finally {
    await browser.close();
    await server.close();
    await sink.close();
  }

  if (ONLY) {
    console.log(JSON.stringify({ runs, caseSeconds }, null, 1));
    return;
  }
  const med = summarise(runs, { spans: SPANS });
  const body = rows(size, med, { spans: SPANS, big: BIG, wasmDelayMs: WASM_DELAY_MS });
  const header = [`Figure (median of ${RUNS} runs)`, 'Waggle', 'OpenTelemetry', 'W/O', 'Budget', ''];
  const date = new Date().toISOString();
  const cpu = os.cpus();
  const machine = `${cpu.length} cores (${cpu[0]?.model ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`;
  const load1 = os.loadavg();
  const seconds = (Date.now() - started) / 1000;
  console.log(`\nWaggle vs OpenTelemetry JS web — ${date}, Chromium ${browserVersion}, ${machine}\n`);
  console.log(textTable(header, body));
  console.log(`\nload average ${load0.map((x) => x.toFixed(1)).join(' ')} at start, ${load1.map((x) => x.toFixed(1)).join(' ')} at end; ${seconds.toFixed(0)} s`);

  const results = {
    date,
    browser: `Chromium ${browserVersion}`,
    machine,
    loadAverage: { start: load0, end: load1 },
    seconds,
    caseSeconds,
    runsPerAgent: RUNS,
    spansPerBurst: SPANS,
    bigBurst: BIG,
    wasmDelayMs: WASM_DELAY_MS,
    trueTimeMs: TRUE_TIME_MS,
    otelPackages: JSON.parse(fs.readFileSync(path.join(BENCH, 'package.json'), 'utf8')).dependencies,
    sizes: size,
    medians: med,
    table: body,
    runs,
    profile,
    wasm: { shipped: wasmShipped, named: wasmNamed },
    otelByPackage,
    shellBySource,
  };
  fs.writeFileSync(path.join(BENCH, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
  fs.writeFileSync(path.join(BENCH, 'RESULTS.md'), resultsMarkdown(results, header, body));
  if (wasmNamed) fs.writeFileSync(path.join(OUT, 'wasm-size.txt'), `${formatWasmReport(wasmNamed)}\n\n--- shipped (pkg/waggle.wasm, no names) ---\n${formatWasmReport(wasmShipped)}\n`);
  log(`bench: wrote bench/results.json and bench/RESULTS.md${wasmNamed ? ', bench/out/wasm-size.txt' : ''}`);
}

main().catch((err) => {
  console.error(err instanceof Unmeasurable ? `bench: cannot measure: ${err.message}` : err);
  process.exit(1);
});
