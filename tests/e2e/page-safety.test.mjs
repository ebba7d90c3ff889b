// What the browser shell owes the page it runs in, seen from outside: the
// app's stack traces keep their frames, the app's errors pass through
// unchanged, a Collector refusing every body costs a few requests and one
// console message, the snippet settles every promise it hands out, dropped
// values are said once on the console, a second init after shutdown does
// not record the page twice, and importing the package on a server is
// harmless.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { startStack, pkgSnippet } from '../lib/stack.mjs';
import { startFaultProxy } from '../lib/faulty.mjs';
import { REPO_ROOT } from '../lib/server.mjs';
import { openPage, formatConsole } from '../lib/browser.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let stack, server, collector, browser;

/** Waits for `cond()` to be true, polling; returns whether it became true. */
async function until(cond, timeoutMs, everyMs = 100) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > end) return false;
    await sleep(everyMs);
  }
}

/** A promise's outcome, or { timeout: true } after `ms`. */
const settleWithin = (p, ms) =>
  Promise.race([
    Promise.resolve(p).then((value) => ({ value }), (error) => ({ error: String(error) })),
    new Promise((r) => setTimeout(() => r({ timeout: true }), ms)),
  ]);

const html = (res, body) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
};

// pkg/snippet.html with its src pointing at the package served under /pkg/.
let snippet;
const snippetPage = (script) => (req, res) =>
  html(res, `<!doctype html><html><head><meta charset="utf-8"><title>Snippet page</title>
${snippet}
<script>
  var params = new URLSearchParams(location.search);
  window.loadedAtFirstCall = !!window.waggle.loaded;
${script}
  window.loadedAfterCalls = !!window.waggle.loaded;
</script>
<script>document.documentElement.dataset.pageScript = 'ran';</script>
</head><body><h1>Snippet page</h1></body></html>`);

const routes = {
  '/api/ping': (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end('ok');
    });
  },
  // 1,200 spans, then a flush, all before the agent can have arrived.
  '/snippet/many.html': snippetPage(`
  window.initP = waggle.init({ serviceName: 'snippet-many', endpoint: params.get('endpoint'), batch: { scheduledDelayMillis: 100 } });
  for (var i = 0; i < 1200; i++) waggle.startSpan('snippet.many', { 'test.seq': i }).end();
  window.flushP = waggle.flush();`),
  '/snippet/plain.html': snippetPage(`
  window.initP = waggle.init({ serviceName: 'snippet-plain', endpoint: params.get('endpoint'), batch: { scheduledDelayMillis: 100 } });
  waggle.startSpan('snippet.plain').end();
  window.flushP = waggle.flush();`),
};

before(async () => {
  snippet = pkgSnippet();
  ({ server, collector, browser } = stack = await startStack({ routes }));
});

after(async () => {
  await stack?.stop();
});

// --- 1. Stack frames ---------------------------------------------------------
//
// V8 keeps Error.stackTraceLimit frames (10 unless the page changes it).
// Each case builds an app stack deep enough that the 10 frames hold all of
// the app's frames and room for one frame of the agent's; with the limit
// raised to 100 the agent's frames are counted in full.

async function openFrames() {
  const opened = await openPage(browser, `${server.url}/pages/shell/frames.html`);
  await opened.page.waitForFunction(() => window.moduleReady === true);
  return opened;
}

async function startAgent(opened) {
  const ok = await opened.page.evaluate((endpoint) => window.startAgent(endpoint), collector.endpoint);
  assert.equal(ok, true, `init failed\n${formatConsole(opened.consoleMessages, opened.pageErrors)}`);
}

const setLimit = (page, limit) => page.evaluate((l) => { Error.stackTraceLimit = l; }, limit);

const showStack = (report) => (report ? `\n${report.stack}` : '');

/** Asserts a stack-frame report from frames.js. */
function checkReport(report, limit, what) {
  if (limit === 10) {
    assert.deepEqual(report.missing, [], `${what}: with 10 frames kept, app frames were pushed out of the stack by the ${report.between ? report.between.length : 'many'} frames between the app's call and its code${showStack(report)}`);
  }
  assert.ok(report.outerFound, `${what} (limit ${limit}): the app's calling frame is not in the stack${showStack(report)}`);
  assert.ok(report.agentFrames.length <= 1, `${what} (limit ${limit}): ${report.agentFrames.length} agent frames between the app's call and its code, at most 1 allowed${showStack(report)}`);
}

async function timerCase(mode) {
  const opened = await openFrames();
  const { page, consoleMessages, pageErrors } = opened;
  await startAgent(opened);
  for (const limit of [10, 100]) {
    await setLimit(page, limit);
    if (mode === 'click') await page.click('#go');
    else await page.evaluate(() => window.plainTimer('plain'));
    const ran = await until(() => page.evaluate((l) => window.timerErrors.some((e) => e.limit === l), limit), 5000);
    assert.ok(ran, `the timer's error did not reach window.onerror (limit ${limit}): ${JSON.stringify(await page.evaluate(() => window.timerRuns))}\n${formatConsole(consoleMessages, pageErrors)}`);
  }
  const errors = await page.evaluate(() => window.timerErrors);
  for (const e of errors) {
    assert.equal(e.same, true, `window.onerror got another object than the one the app threw (limit ${e.limit})`);
    assert.equal(e.message, `app timer error ${mode} ${e.limit}`);
    if (e.limit === 10) {
      assert.deepEqual(e.missing, [], `with 10 frames kept, app frames are missing from the timer error's stack${showStack(e.below)}`);
    }
    assert.ok(e.below.agentFrames.length <= 1, `${mode} timer (limit ${e.limit}): ${e.below.agentFrames.length} agent frames between the browser and the app's callback, at most 1 allowed${showStack(e.below)}`);
  }
  return opened;
}

test('stack frames: a timer set in a click handler throws through at most one agent frame, the error unchanged', async () => {
  const { page } = await timerCase('click');
  // The path under test is the followed one: the request the callback made
  // is a child of the click.
  await collector.waitForSpans((all) => {
    const req = all.find((s) => String(s.attrs['url.full'] ?? '').includes('/api/ping?from=click-10'));
    return req && all.some((s) => s.name === 'click' && s.spanId === req.parentSpanId);
  }, 10_000).catch((e) => {
    throw new Error(`the timer set in the click handler was not followed (its request is not the click's child): ${e.message}`);
  });
  await page.close();
});

test('stack frames: a plain timer throws through at most one agent frame, the error unchanged', async () => {
  const { page } = await timerCase('plain');
  await page.close();
});

test('stack frames: a getter on a fetch init runs at most one agent frame below the app, its error unchanged', async () => {
  const opened = await openFrames();
  const { page } = opened;
  // Without the agent first, for what the browser itself does.
  await setLimit(page, 10);
  const native = await page.evaluate(() => window.fetchGetter('/api/ping?case=native', true));
  assert.ok(native.same, `the test page's own check failed without the agent: ${JSON.stringify(native)}`);
  await startAgent(opened);
  for (const limit of [10, 100]) {
    await setLimit(page, limit);
    const out = await page.evaluate((l) => window.fetchGetter(`/api/ping?case=getter-${l}`, false), limit);
    assert.ok(out.calls >= 1, 'the headers getter was never called');
    out.reports.forEach((r, i) => checkReport(r, limit, `headers getter, call ${i + 1} of ${out.calls}`));
  }
  await setLimit(page, 10);
  const thrown = await page.evaluate(() => window.fetchGetter('/api/ping?case=throws', true));
  assert.equal(thrown.threwSync, native.threwSync, `fetch ${native.threwSync ? 'threw' : 'did not throw'} synchronously without the agent, and ${thrown.threwSync ? 'did' : 'did not'} with it`);
  assert.equal(thrown.rejected, native.rejected, 'fetch rejected without the agent and not with it, or the other way round');
  assert.equal(thrown.same, true, "the getter's error reached the app as another object");
  assert.equal(thrown.message, 'app getter error');
  await page.close();
});

test('stack frames: a navigate listener run by history.pushState sits at most one agent frame above the app; errors unchanged', async () => {
  const opened = await openFrames();
  const { page } = opened;
  const native = await page.evaluate(() => window.pushStateThrows());
  assert.ok(native.threw && native.same, `the test page's own check failed without the agent: ${JSON.stringify(native)}`);
  await startAgent(opened);
  for (const limit of [10, 100]) {
    await setLimit(page, limit);
    const out = await page.evaluate((l) => window.pushStateNavigate(`/pages/shell/frames.html?route=${l}`), limit);
    assert.equal(out.url, `/pages/shell/frames.html?route=${limit}`, 'pushState changed the URL');
    assert.ok(out.calls >= 1, 'the navigate listener was never called');
    out.reports.forEach((r, i) => checkReport(r, limit, `navigate listener, call ${i + 1} of ${out.calls}`));
  }
  await setLimit(page, 10);
  const thrown = await page.evaluate(() => window.pushStateThrows());
  assert.equal(thrown.threw, true, 'pushState with a URL whose toString throws did not throw');
  assert.equal(thrown.same, true, "the URL's error reached the app as another object");
  assert.equal(thrown.message, 'app url error');
  assert.equal(thrown.urlKept, true);
  await page.close();
});

test('stack frames: an XHR body stringified by send() runs at most one agent frame below the app, its error unchanged', async () => {
  const opened = await openFrames();
  const { page } = opened;
  const native = await page.evaluate(() => window.xhrBody('/api/ping?case=native', true));
  assert.ok(native.threw && native.same, `the test page's own check failed without the agent: ${JSON.stringify(native)}`);
  await startAgent(opened);
  for (const limit of [10, 100]) {
    await setLimit(page, limit);
    const out = await page.evaluate((l) => window.xhrBody(`/api/ping?case=body-${l}`, false), limit);
    assert.equal(out.threw, false);
    assert.equal(out.status, 200);
    assert.ok(out.calls >= 1, "the body's toString was never called");
    out.reports.forEach((r, i) => checkReport(r, limit, `body toString, call ${i + 1} of ${out.calls}`));
  }
  await setLimit(page, 10);
  const thrown = await page.evaluate(() => window.xhrBody('/api/ping?case=throws', true));
  assert.equal(thrown.threw, true, 'send() with a body whose toString throws did not throw');
  assert.equal(thrown.same, true, "the body's error reached the app as another object");
  assert.equal(thrown.message, 'app body error');
  await page.close();
});

// --- 2. A Collector answering 413 to everything ------------------------------

test('413 to every POST: few requests, splitting slows down, a single span is not retried, one console message, the loss reported', async () => {
  const proxy = await startFaultProxy({ target: collector.endpoint });
  try {
    proxy.respond = () => ({ status: 413 });
    const run = 'storm';
    const url = `${server.url}/pages/delivery/index.html?endpoint=${encodeURIComponent(proxy.endpoint)}`;
    const { page, consoleMessages, pageErrors } = await openPage(browser, url);
    assert.equal(await page.evaluate(() => window.ready), true, formatConsole(consoleMessages, pageErrors));
    await page.evaluate((run) => window.burst('storm.span', 70, run), run);
    assert.ok(await until(() => proxy.requests.length > 0, 10_000), 'no POST reached the proxy');
    const first = proxy.requests[0].time;
    await sleep(Math.max(0, first + 5000 - Date.now()));

    const posts = proxy.requests.slice();
    // A span is known by its id, and an app span also by its number, in
    // case a retry gave it a new id.
    const key = (s) => (s.name === 'storm.span' ? `storm.span#${s.attrs['test.seq']}` : `${s.name}#${s.spanId}`);
    const offered = new Set(posts.flatMap((r) => r.spans.map(key)));
    const timeline = posts.map((r) => `+${r.time - first}ms ${r.spans.length} spans -> ${r.status}`);
    const shown = `${posts.length} POSTs for ${offered.size} spans in 5 s:\n  ${timeline.slice(0, 40).join('\n  ')}${timeline.length > 40 ? `\n  ... ${timeline.length - 40} more` : ''}`;
    assert.ok(offered.size >= 70, `the 70 app spans were offered: ${shown}`);
    assert.ok(posts.length <= 2 * offered.size, `more than 2 POSTs per span: ${shown}`);
    const inFirstSecond = posts.filter((r) => r.time - first < 1000).length;
    // Splitting slows down: the halves of a refused batch are not all sent
    // at once. (A later batch of new spans could make "not every POST in the
    // first second" true by itself, so the bound is on the share.)
    assert.ok(posts.length <= 4 || inFirstSecond <= posts.length / 2, `${inFirstSecond} of the ${posts.length} POSTs were made within the first second (no slowing down): ${shown}`);
    // A single span refused with 413 cannot be split further: never sent again.
    posts.forEach((r, i) => {
      if (r.status !== 413 || r.spans.length !== 1) return;
      const k = key(r.spans[0]);
      const again = posts.slice(i + 1).filter((later) => later.spans.some((s) => key(s) === k));
      assert.equal(again.length, 0, `a batch of one span (${k}) answered 413 was sent again ${again.length} times: ${shown}`);
    });
    console.log(`413 storm: ${posts.length} POSTs for ${offered.size} spans, ${inFirstSecond} in the first second, last at +${posts.at(-1).time - first} ms`);
    const about413 = consoleMessages.filter((m) => /413/.test(m.text) && !/^Failed to load resource/.test(m.text));
    assert.equal(about413.length, 1, `console messages about the 413s (expected exactly one):\n${formatConsole(about413)}`);

    // The Collector takes bodies again: the loss is reported.
    proxy.respond = () => null;
    await page.evaluate((run) => { window.burst('storm.after', 3, run); return window.waggle.flush(); }, run);
    await collector.waitForSpans((all) => all.filter((s) => s.name === 'storm.after' && s.attrs['test.run'] === run).length >= 3, 20_000);
    const accepted = () => proxy.requests.filter((r) => r.status === 200);
    const refused = () => {
      const delivered = new Set(accepted().flatMap((r) => r.spans.map(key)));
      return [...new Set(proxy.requests.filter((r) => r.status === 413).flatMap((r) => r.spans.map(key)))].filter((k) => !delivered.has(k));
    };
    // Per request, the count its resources carry (the largest, should it be on each).
    const reported = () => accepted().reduce((n, r) => n + Math.max(0, ...r.spans.map((s) => Number(s.resource['waggle.dropped_spans'] ?? 0))), 0);
    await until(async () => {
      if (reported() >= refused().length) return true;
      await page.evaluate(() => window.waggle.flush());
      return false;
    }, 10_000, 500);
    assert.ok(
      reported() >= refused().length,
      `${refused().length} spans were refused and never delivered, waggle.dropped_spans reported ${reported()} (on ${accepted().length} accepted POSTs)`,
    );
    assert.deepEqual(pageErrors, []);
    await page.close();
  } finally {
    await proxy.close();
  }
});

// --- 3. The snippet's queue -------------------------------------------------

test('snippet: 1,200 calls before the agent arrives, and every promise settles', async () => {
  const url = `${server.url}/snippet/many.html?endpoint=${encodeURIComponent(collector.endpoint)}`;
  const { page, consoleMessages, pageErrors } = await openPage(browser, url);
  assert.equal(await page.evaluate(() => window.loadedAtFirstCall), false, 'the calls were made before the agent arrived');
  assert.equal(await page.evaluate(() => window.loadedAfterCalls), false, 'the agent arrived before the calls were all made');
  const results = await page.evaluate(async () => {
    const within = (p) => Promise.race([
      Promise.resolve(p).then((value) => ({ value }), (error) => ({ error: String(error) })),
      new Promise((r) => setTimeout(() => r({ timeout: true }), 15000)),
    ]);
    const [init, flush] = await Promise.all([within(window.initP), within(window.flushP)]);
    return { init, flush };
  });
  const info = `${JSON.stringify(results)}\n${formatConsole(consoleMessages, pageErrors)}`;
  assert.ok(!results.init.timeout, `init() queued before 1,200 startSpan calls never settled: ${info}`);
  assert.ok(!results.flush.timeout, `flush() queued after 1,200 startSpan calls never settled: ${info}`);
  assert.deepEqual(results.init, { value: true }, info);
  assert.equal(typeof results.flush.value, 'boolean', info);
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('snippet: with only the WebAssembly module blocked, init and flush resolve false, a second init does not fetch it again, no uncaught error', async () => {
  const url = `${server.url}/snippet/plain.html?endpoint=${encodeURIComponent(collector.endpoint)}`;
  const { page, consoleMessages, pageErrors } = await openPage(browser, null);
  const wasmRequests = [];
  const isWasm = (u) => /\.wasm(\?|#|$)/.test(u);
  page.on('request', (r) => {
    if (isWasm(r.url())) wasmRequests.push(r.url());
  });
  await page.route((u) => isWasm(u.href), (route) => route.fulfill({ status: 404, contentType: 'text/plain', body: 'blocked' }));
  await page.goto(url);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.pageScript), 'ran');
  const first = await page.evaluate(async () => {
    const within = (p) => Promise.race([
      Promise.resolve(p).then((value) => ({ value }), (error) => ({ error: String(error) })),
      new Promise((r) => setTimeout(() => r({ timeout: true }), 15000)),
    ]);
    return { init: await within(window.initP), flush: await within(window.flushP) };
  });
  const info = () => `wasm requests: ${JSON.stringify(wasmRequests)}\n${formatConsole(consoleMessages, pageErrors)}`;
  assert.ok(wasmRequests.length >= 1, `the page fetched no .wasm file, so blocking it tested nothing: ${info()}`);
  const fetchedBefore = wasmRequests.length;
  const second = await page.evaluate(() => Promise.race([
    Promise.resolve(window.waggle.init({ serviceName: 'snippet-again', endpoint: 'http://localhost:9' })).then((value) => ({ value }), (error) => ({ error: String(error) })),
    new Promise((r) => setTimeout(() => r({ timeout: true }), 15000)),
  ]));
  await sleep(500);
  // Every fact at once, so a failure shows all that differ.
  const facts = {
    init: first.init,
    flush: first.flush,
    secondInit: second,
    wasmFetchesBySecondInit: wasmRequests.length - fetchedBefore,
    pageErrors: pageErrors.map(String),
    uncaught: consoleMessages.filter((m) => /Uncaught/.test(m.text)).map((m) => m.text),
  };
  assert.deepEqual(facts, {
    init: { value: false },
    flush: { value: false },
    secondInit: { value: false },
    wasmFetchesBySecondInit: 0,
    pageErrors: [],
    uncaught: [],
  }, info());
  await page.close();
});

// --- 4. Values the agent cannot keep: one warning each ----------------------

/**
 * Runs `fn(arg)` in the page and returns the console messages it caused:
 * everything logged before a marker logged 300 ms later.
 */
let markers = 0;
async function consoleOf(opened, fn, arg) {
  const { page, consoleMessages } = opened;
  const start = consoleMessages.length;
  const threw = await page.evaluate(({ src, arg }) => {
    try {
      // eslint-disable-next-line no-new-func
      new Function('arg', src)(arg);
      return null;
    } catch (e) {
      return String(e && e.stack ? e.stack : e);
    }
  }, { src: fn, arg });
  assert.equal(threw, null, `${fn} threw`);
  const marker = `test-marker-${++markers}`;
  await page.evaluate((m) => new Promise((r) => setTimeout(() => { console.log(m); r(); }, 300)), marker);
  assert.ok(await until(() => consoleMessages.some((m) => m.text === marker), 5000), 'the marker was not logged');
  const end = consoleMessages.findIndex((m) => m.text === marker);
  return consoleMessages.slice(start, end);
}

const warningsIn = (messages) => messages.filter((m) => m.type === 'warning');
// The key as a word of its own (`user.id` names `id`; `valid` does not).
const names = (key) => new RegExp(`(^|[^\\w-])${key.replace(/[.]/g, '\\.')}($|[^\\w-])`);

async function openApi() {
  const opened = await openPage(browser, `${server.url}/pages/shell/api.html`);
  await opened.page.waitForFunction(() => window.moduleReady === true);
  const ok = await opened.page.evaluate((endpoint) => window.startAgent(endpoint), collector.endpoint);
  assert.equal(ok, true, formatConsole(opened.consoleMessages, opened.pageErrors));
  return opened;
}

test("setUser('42') (not an object) logs exactly one warning naming setUser", async () => {
  const opened = await openApi();
  const said = await consoleOf(opened, "waggle.setUser('42')");
  const about = warningsIn(said).filter((m) => /setUser/.test(m.text));
  assert.equal(about.length, 1, `warnings after setUser('42'):\n${formatConsole(said)}`);
  assert.deepEqual(opened.pageErrors, []);
  await opened.page.close();
});

test('a nested object value is dropped with one warning naming its key, and the good keys of the same call still arrive', async () => {
  const opened = await openApi();
  const { page } = opened;
  const run = `nested-${Date.now()}`;

  let said = await consoleOf(opened, 'waggle.setUser({ id: { x: 1 } })');
  assert.equal(warningsIn(said).length, 1, `warnings after setUser({ id: { x: 1 } }):\n${formatConsole(said)}`);
  assert.match(warningsIn(said)[0].text, names('id'), 'the warning names the key `id`');

  // The same call again: at most one warning, naming the key if any.
  said = await consoleOf(opened, 'waggle.setUser({ id: { x: 1 } })');
  assert.ok(warningsIn(said).length <= 1, `warnings after the same setUser again:\n${formatConsole(said)}`);
  for (const w of warningsIn(said)) assert.match(w.text, names('id'));

  said = await consoleOf(opened, "waggle.setUser({ id: '42', name: { bad: 1 } })");
  assert.equal(warningsIn(said).length, 1, `warnings after setUser({ id: '42', name: { bad: 1 } }):\n${formatConsole(said)}`);
  assert.match(warningsIn(said)[0].text, names('name'), 'the warning names the key `name`');

  said = await consoleOf(opened, "waggle.setGlobalAttributes({ 'app.nested': { a: 1 }, 'app.ok': 'yes' })");
  assert.equal(warningsIn(said).length, 1, `warnings after setGlobalAttributes({ 'app.nested': { a: 1 }, ... }):\n${formatConsole(said)}`);
  assert.match(warningsIn(said)[0].text, names('app.nested'), "the warning names the key 'app.nested'");

  await page.evaluate((run) => { window.waggle.startSpan('check.nested', { 'test.run': run }).end(); return window.waggle.flush(); }, run);
  const spans = await collector.waitForSpans((all) => all.some((s) => s.name === 'check.nested' && s.attrs['test.run'] === run), 10_000);
  const span = spans.find((s) => s.name === 'check.nested' && s.attrs['test.run'] === run);
  assert.equal(span.attrs['user.id'], '42', `user.id from setUser({ id: '42', name: { bad: 1 } }): ${JSON.stringify(span.attrs)}`);
  assert.equal(span.attrs['app.ok'], 'yes', `app.ok from the setGlobalAttributes call with a nested value: ${JSON.stringify(span.attrs)}`);
  assert.equal(span.attrs['app.nested'], undefined);
  assert.deepEqual(opened.pageErrors, []);
  await page.close();
});

test("setGlobalAttributes({ 'app.list': ['a', 'b'] }) is accepted: spans carry the array, no warning", async () => {
  const opened = await openApi();
  const { page } = opened;
  const run = `list-${Date.now()}`;
  const said = await consoleOf(opened, "waggle.setGlobalAttributes({ 'app.list': ['a', 'b'] })");
  assert.deepEqual(warningsIn(said), [], 'an array of strings is a valid attribute value');
  await page.evaluate((run) => { window.waggle.startSpan('check.list', { 'test.run': run }).end(); return window.waggle.flush(); }, run);
  const spans = await collector.waitForSpans((all) => all.some((s) => s.name === 'check.list' && s.attrs['test.run'] === run), 10_000);
  const span = spans.find((s) => s.name === 'check.list' && s.attrs['test.run'] === run);
  assert.deepEqual(span.attrs['app.list'], ['a', 'b'], `app.list on the span or its resource: ${JSON.stringify(span.attrs)}`);
  assert.deepEqual(opened.pageErrors, []);
  await page.close();
});

// --- 5. init, shutdown, init ------------------------------------------------

for (const mode of ['sync', 'await']) {
  test(`init, shutdown, init (${mode === 'sync' ? 'in one go, as React StrictMode does' : 'each awaited'}), flush: one documentLoad, FCP and TTFB for the page view`, async () => {
    const pv = `pv-${mode}-${Date.now()}`;
    const url = `${server.url}/pages/shell/restart.html?mode=${mode}&pv=${pv}&endpoint=${encodeURIComponent(collector.endpoint)}`;
    const { page, consoleMessages, pageErrors } = await openPage(browser, url);
    const result = await settleWithin(page.evaluate(() => window.result), 15_000);
    assert.deepEqual(result, { value: ['ok', 'ok', 'ok', 'ok'] }, `init, shutdown, init, flush: ${JSON.stringify(result)}\n${formatConsole(consoleMessages, pageErrors)}`);
    // The agent runs after it all.
    await page.evaluate((pv) => { window.waggle.startSpan('after.restart', { 'test.pv': pv }).end(); return window.waggle.flush(); }, pv);
    const ofView = (all, name) =>
      all.filter((s) => s.name === name && (name === 'documentLoad' ? String(s.attrs['url.full']) : String(s.attrs['browser.document.url.full'])).includes(pv));
    await collector.waitForSpans((all) => ['documentLoad', 'FCP', 'TTFB', 'after.restart'].every((n) => (n === 'after.restart' ? all.some((s) => s.name === n && s.attrs['test.pv'] === pv) : ofView(all, n).length > 0)), 15_000)
      .catch((e) => { throw new Error(`${e.message}\n${formatConsole(consoleMessages, pageErrors)}`); });
    // Leaving sends whatever is still queued; then the count is final.
    await page.goto(`${server.url}/pages/shell/blank.html`);
    await sleep(1500);
    const all = collector.spans();
    const counts = Object.fromEntries(['documentLoad', 'FCP', 'TTFB'].map((n) => [n, ofView(all, n).length]));
    assert.deepEqual(counts, { documentLoad: 1, FCP: 1, TTFB: 1 }, `spans of the page view ${pv}`);
    assert.deepEqual(pageErrors, []);
    await page.close();
  });
}

// --- 6. Imported on a server --------------------------------------------------

test('in Node (server-side rendering): import and init do not throw, one line says browser only, no network request', () => {
  const script = `
    import net from 'node:net';
    import http from 'node:http';
    import https from 'node:https';
    import { pathToFileURL } from 'node:url';
    const out = { network: [], logged: [], unhandled: [] };
    globalThis.fetch = (...a) => { out.network.push('fetch ' + String(a[0] && a[0].url ? a[0].url : a[0])); return Promise.reject(new TypeError('no network here')); };
    const connect = net.Socket.prototype.connect;
    net.Socket.prototype.connect = function (...a) { out.network.push('connect ' + JSON.stringify(a[0])); return connect.apply(this, a); };
    for (const [name, mod] of [['http', http], ['https', https]]) {
      for (const m of ['request', 'get']) {
        const orig = mod[m];
        mod[m] = function (...a) { out.network.push(name + '.' + m); return orig.apply(this, a); };
      }
    }
    for (const level of ['warn', 'error']) {
      const orig = console[level];
      console[level] = (...a) => { out.logged.push([level, a.map(String).join(' ')]); orig(...a); };
    }
    process.on('unhandledRejection', (e) => out.unhandled.push(String(e && e.stack || e)));
    let mod;
    try {
      mod = await import(pathToFileURL(process.env.PKG_INDEX).href);
      out.imported = true;
    } catch (e) {
      out.importError = String(e && e.stack || e);
    }
    if (mod) {
      try {
        const p = mod.init({ serviceName: 'x' });
        out.init = await Promise.race([
          Promise.resolve(p).then(() => 'resolved', (e) => 'rejected: ' + String(e && e.message || e)),
          new Promise((r) => setTimeout(() => r('pending after 5 s'), 5000)),
        ]);
      } catch (e) {
        out.init = 'threw: ' + String(e && e.message || e);
      }
    }
    // Anything the agent would do a little later.
    await new Promise((r) => setTimeout(r, 500));
    process.stdout.write('RESULT ' + JSON.stringify(out) + '\\n');
    process.exit(0);
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, PKG_INDEX: path.join(REPO_ROOT, 'pkg', 'index.js'), NODE_OPTIONS: '' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const line = (child.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `the Node process printed no result (status ${child.status}, signal ${child.signal}):\n${child.stdout}\n${child.stderr}`);
  const out = JSON.parse(line.slice('RESULT '.length));
  const info = `${JSON.stringify(out, null, 1)}\n--- stderr ---\n${child.stderr}`;
  assert.equal(out.importError, undefined, `importing the package threw: ${info}`);
  assert.equal(out.init, 'resolved', `init in Node: ${info}`);
  assert.deepEqual(out.unhandled, [], `unhandled rejections: ${info}`);
  assert.deepEqual(out.network, [], `network requests made in Node: ${info}`);
  assert.equal(out.logged.length, 1, `console.warn/console.error lines (expected exactly one): ${info}`);
  assert.match(out.logged[0][1], /browser/i, `the line says it runs in a browser only: ${info}`);
  const stderrLines = child.stderr.split('\n').filter((l) => l.trim());
  assert.equal(stderrLines.length, 1, `stderr has exactly one line: ${info}`);
});
