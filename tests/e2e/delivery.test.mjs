// Delivery under faults, through the real agent in Chromium to the real
// Collector: leaving right after a burst, a Collector outage, a stand-in
// answering 429/503/400/413/partialSuccess, offline then online, a 50,000
// span burst, the app's own failing/aborted/streaming fetches, a strict CSP,
// a page of 1,000 resources, and an internal failure of the agent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import { startStack } from '../lib/stack.mjs';
import { startCollector } from '../lib/collector.mjs';
import { startFaultProxy } from '../lib/faulty.mjs';
import { startServer } from '../lib/server.mjs';
import { launchBrowser, openPage, formatConsole } from '../lib/browser.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Figures for the closing note, printed at the end.
const figures = {};

let stack, server, collector, browser;
// Requests the app's own fetches made, by path.
const hits = {};

const csp = (wasm) => `default-src 'self'; script-src 'self'${wasm ? " 'wasm-unsafe-eval'" : ''}; connect-src 'self' ${collector.endpoint}; img-src 'self'`;
const html = (res, body, headers = {}) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(body);
};
const cspPage = (wasm) => (req, res) =>
  html(res, `<!doctype html><html><head><meta charset="utf-8"><title>CSP</title>
<script type="module" src="/pages/delivery/csp.js"></script>
<script src="/pages/delivery/page-ok.js"></script>
</head><body><h1>CSP</h1></body></html>`, { 'Content-Security-Policy': csp(wasm) });

const routes = {
  '/api/slow': (req, res) => {
    const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms'));
    const t = setTimeout(() => res.end('slow'), ms);
    res.on('close', () => clearTimeout(t));
  },
  '/api/chunks': async (req, res) => {
    const q = new URL(req.url, 'http://x').searchParams;
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
    for (let i = 0; i < Number(q.get('n')) && !res.destroyed; i++) {
      res.write(`chunk-${i}|`);
      await sleep(Number(q.get('ms')));
    }
    res.end();
  },
  '/api/echo': (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    req.pipe(res);
  },
  '/api/count': (req, res) => {
    const key = new URL(req.url, 'http://x').searchParams.get('key');
    hits[key] = (hits[key] ?? 0) + 1;
    res.end(`hit ${key}`);
  },
  // The delivery page without Cache-Control: no-store, which would keep it
  // out of the back-forward cache.
  '/bfcache/index.html': (req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(fs.readFileSync(new URL('../pages/delivery/index.html', import.meta.url)));
  },
  '/csp/ok.html': cspPage(true),
  '/csp/no-wasm.html': cspPage(false),
  '/many/index.html': (req, res) => {
    const q = new URL(req.url, 'http://x').searchParams;
    const imgs = Array.from({ length: 1000 }, (_, i) => `<img src="/pages/delivery/px.gif?i=${i}" width="2" height="2" alt="">`).join('');
    html(res, `<!doctype html><html><head><meta charset="utf-8"><title>Many resources</title>
<script>
  performance.setResourceTimingBufferSize(2000);
  window.longTasks = [];
  window.frames_ = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.longTasks.push({ start: e.startTime, duration: e.duration }); }).observe({ type: 'longtask', buffered: true });
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.frames_.push({ start: e.startTime, duration: e.duration, scripts: e.scripts.map((s) => ({ url: s.sourceURL, fn: s.sourceFunctionName, invoker: s.invoker, duration: s.duration })) });
    }).observe({ type: 'long-animation-frame', buffered: true });
  } catch (e) {}
</script>
<script type="module">
  import * as waggle from '/pkg/index.js';
  window.waggle = waggle;
  const start = () => {
    window.initAt = performance.now();
    window.ready = waggle.init({ serviceName: 'delivery-many', endpoint: ${JSON.stringify(q.get('endpoint'))}, attributes: { 'test.run': 'many' } }).then(() => true, (e) => String(e));
  };
  if (document.readyState === 'complete') start(); else addEventListener('load', start);
</script>
</head><body>${imgs}</body></html>`);
  },
};

before(async () => {
  ({ server, collector, browser } = stack = await startStack({ routes }));
});

after(async () => {
  await stack?.stop();
  console.log(`delivery figures: ${JSON.stringify(figures, null, 1)}`);
});

const pageUrl = (endpoint, extra = '') => `${server.url}/pages/delivery/index.html?endpoint=${encodeURIComponent(endpoint)}${extra}`;

async function openDelivery(endpoint, extra) {
  const opened = await openPage(browser, pageUrl(endpoint, extra));
  const ok = await opened.page.evaluate(() => window.ready);
  assert.equal(ok, true, formatConsole(opened.consoleMessages, opened.pageErrors));
  return opened;
}

/** This run's spans of one name, from a list of flattened spans. */
const ofRun = (spans, name, run) => spans.filter((s) => s.name === name && s.attrs['test.run'] === run);

/** Checks `spans` hold each of 0..n-1 exactly once (distinct span ids). */
function assertEachOnce(spans, n, what) {
  const ids = new Set(spans.map((s) => s.spanId));
  const twice = spans.filter((s, i) => spans.findIndex((x) => x.spanId === s.spanId) !== i);
  assert.equal(ids.size, spans.length, `${what}: spans arrived twice: ${JSON.stringify(twice.map((s) => [s.spanId, s.attrs['test.seq'], s.startTimeUnixNano, s.endTimeUnixNano]))}`);
  const seqs = new Set(spans.map((s) => s.attrs['test.seq']));
  assert.equal(seqs.size, n, `${what}: ${seqs.size} of ${n} distinct spans arrived`);
  assert.equal(spans.length, n, `${what}: ${spans.length} spans for ${n} produced`);
}

// The browser lets a page have 64 KiB of keepalive bodies in flight; what
// is queued beyond that when the page goes is kept in storage and sent by
// the next page of the origin, as happens when a user follows a link.
test('leaving right after a burst of 2,000 spans: all arrive, once', async () => {
  const { page, consoleMessages, pageErrors } = await openDelivery(collector.endpoint, process.env.DBG ? '&debug=1' : '');
  const run = 'leave';
  await page.evaluate((run) => window.burst('fault.burst', 2000, run), run);
  await page.goto(pageUrl(collector.endpoint, '&next=1'));
  const spans = await collector.waitForSpans((all) => ofRun(all, 'fault.burst', run).length >= 2000, 15_000).catch((e) => {
    throw new Error(`${e.message}\n${formatConsole(consoleMessages, pageErrors)}`);
  });
  await sleep(500);
  const mine = ofRun(collector.spans(), 'fault.burst', run);
  if (process.env.DBG) console.log(formatConsole(consoleMessages));
  assertEachOnce(mine, 2000, 'burst then leave');
  figures.leave = { produced: 2000, delivered: mine.length };
  assert.deepEqual(pageErrors, []);
  await page.close();
});

/** Spans of `name` in the order the Collector(s) wrote them. */
const inFileOrder = (collectors, name, run) => collectors.flatMap((c) => ofRun(c.spans(), name, run));

// Spans still queued when the page is left go in the pagehide flush; the
// restored page sends what it makes next. Whether a page is kept at all is
// Chromium's call: now and then, with the machine busy, it evicts the page
// it was caching and reports the reason as "JavaScriptExecution" (DevTools)
// or "masked" (notRestoredReasons), and the way back reloads it. So the
// leave-and-return is tried up to three times: every try must deliver each
// span once, restored or not, and at least one try must be a restore.
test('a page left for another and restored from the back-forward cache sends everything, once', async () => {
  // Playwright turns the cache off by default.
  const bfBrowser = await launchBrowser({ ignoreDefaultArgs: ['--disable-back-forward-cache'] });
  const tries = [];
  try {
    const url = `${server.url}/bfcache/index.html?endpoint=${encodeURIComponent(collector.endpoint)}`;
    let delivered = 0;
    for (let t = 0; t < 3 && !tries.some((x) => x.restored); t++) {
      const { page, consoleMessages, pageErrors } = await openPage(bfBrowser, url);
      const cdp = await page.context().newCDPSession(page);
      const notUsed = [];
      cdp.on('Page.backForwardCacheNotUsed', (e) => notUsed.push(...e.notRestoredExplanations.map((x) => x.reason)));
      await cdp.send('Page.enable');
      assert.equal(await page.evaluate(() => window.ready), true);
      const run = `bfcache-${t}`;
      await page.evaluate((run) => {
        window.restored = 0;
        addEventListener('pageshow', (e) => { if (e.persisted) window.restored += 1; });
        window.burst('fault.bfcache', 30, run);
      }, run);
      await page.goto(`${server.url}/pages/delivery/plain.html`);
      await page.goBack({ waitUntil: 'commit' });
      let restored = 0;
      for (let i = 0; i < 25 && restored !== 1 && !notUsed.length; i++) {
        await sleep(200);
        restored = await page.evaluate(() => window.restored).catch(() => 0);
      }
      tries.push({ restored: restored === 1, reasons: notUsed });
      // A reloaded page has its agent again once ready; a restored one at once.
      await page.waitForFunction(() => window.ready, null, { timeout: 10_000 });
      await page.evaluate((run) => window.burst('fault.bfcache', 30, run + '-after'), run);
      await collector.waitForSpans((all) => ofRun(all, 'fault.bfcache', run).length >= 30 && ofRun(all, 'fault.bfcache', run + '-after').length >= 30, 15_000);
      await sleep(500);
      assertEachOnce(ofRun(collector.spans(), 'fault.bfcache', run), 30, `try ${t + 1}, before leaving`);
      assertEachOnce(ofRun(collector.spans(), 'fault.bfcache', run + '-after'), 30, `try ${t + 1}, after coming back`);
      delivered += ofRun(collector.spans(), 'fault.bfcache', run).length + ofRun(collector.spans(), 'fault.bfcache', run + '-after').length;
      assert.deepEqual(pageErrors, [], formatConsole(consoleMessages, pageErrors));
      await page.close();
    }
    assert.ok(tries.some((x) => x.restored), `no try came back from the back-forward cache: ${JSON.stringify(tries)}`);
    figures.bfcache = { produced: 60 * tries.length, delivered, tries };
  } finally {
    await bfBrowser.close();
  }
});

test('the Collector down for 20 s and back on the same port: all arrive, in order, once', async () => {
  const first = await startCollector({ allowedOrigins: [server.origin] });
  let second;
  try {
    const { page, consoleMessages, pageErrors } = await openDelivery(first.endpoint, '&delay=200');
    const run = 'outage';
    // One span every 50 ms, numbered in the order they end.
    await page.evaluate((run) => {
      let i = 0;
      window.producer = setInterval(() => window.waggle.startSpan('fault.outage', { 'test.seq': i++, 'test.run': run }).end(), 50);
      window.produced = () => i;
    }, run);
    await first.waitForSpans((all) => ofRun(all, 'fault.outage', run).length > 5);
    await first.stop();
    const downAt = Date.now();
    await sleep(20_000);
    second = await startCollector({ allowedOrigins: [server.origin], httpPort: first.httpPort, healthPort: first.healthPort, metricsPort: first.metricsPort });
    const upAt = Date.now();
    await sleep(1000);
    const produced = await page.evaluate(() => { clearInterval(window.producer); return window.produced(); });
    // The agent retries with backoff (1, 2, 4, 8, 16 s ±20 %, then every
    // 30 s): the retry after the Collector is back comes within 20 s.
    await second.waitForSpans((all) => ofRun(first.spans().concat(all), 'fault.outage', run).length >= produced, 30_000).catch((e) => {
      throw new Error(`${e.message}\n${formatConsole(consoleMessages, pageErrors)}`);
    });
    const deliveredAt = Date.now();
    await sleep(500);
    const all = inFileOrder([first, second], 'fault.outage', run);
    assertEachOnce(all, produced, 'outage');
    // In the order they were produced, across the outage.
    const seqs = all.map((s) => s.attrs['test.seq']);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'spans arrived out of order');
    assert.ok(ofRun(first.spans(), 'fault.outage', run).length < produced / 2, 'most spans were produced during the outage');
    figures.outage = { produced, delivered: all.length, beforeOutage: ofRun(first.spans(), 'fault.outage', run).length, outageMs: upAt - downAt, deliveredAfterRestartMs: deliveredAt - upAt };
    assert.deepEqual(pageErrors, []);
    await page.close();
  } finally {
    await first.stop();
    await second?.stop();
  }
});

test('429 with Retry-After, then 503, then accepted: the agent waits as told, backs off, and delivers once', async () => {
  const proxy = await startFaultProxy({ target: collector.endpoint });
  try {
    const run = 'retry';
    let k = 0;
    proxy.respond = (rec) => {
      if (!rec.spans.some((s) => s.name === 'fault.retry')) return null;
      k += 1;
      if (k === 1) return { status: 429, headers: { 'Retry-After': '2' } };
      if (k === 2) return { status: 503 };
      return null;
    };
    const { page, consoleMessages, pageErrors } = await openDelivery(proxy.endpoint, '&delay=100');
    await page.evaluate((run) => window.burst('fault.retry', 20, run), run);
    await collector.waitForSpans((all) => ofRun(all, 'fault.retry', run).length >= 20, 15_000);
    await sleep(500);
    const tries = proxy.requests.filter((r) => r.spans.some((s) => s.name === 'fault.retry'));
    assert.deepEqual(tries.map((r) => r.status), [429, 503, 200], formatConsole(consoleMessages, pageErrors));
    const afterRetryAfter = tries[1].time - tries[0].time;
    const afterBackoff = tries[2].time - tries[1].time;
    assert.ok(afterRetryAfter >= 1990, `retried ${afterRetryAfter} ms after a 429 with Retry-After: 2`);
    assert.ok(afterRetryAfter < 3000, `retried ${afterRetryAfter} ms after a 429 with Retry-After: 2`);
    // Second retry: 2 s ±20 %.
    assert.ok(afterBackoff >= 1500 && afterBackoff < 3000, `retried ${afterBackoff} ms after a 503`);
    for (const t of tries) assert.equal(t.spans.filter((s) => s.name === 'fault.retry').length, 20);
    assertEachOnce(ofRun(collector.spans(), 'fault.retry', run), 20, '429/503');
    figures.retry = { produced: 20, delivered: ofRun(collector.spans(), 'fault.retry', run).length, afterRetryAfterMs: afterRetryAfter, afterBackoffMs: afterBackoff };
    assert.deepEqual(pageErrors, []);
    await page.close();
  } finally {
    await proxy.close();
  }
});

test('400 is not retried and the loss is logged once and counted; 413 splits the batch until it fits', async () => {
  const proxy = await startFaultProxy({ target: collector.endpoint });
  try {
    const run = 'reject';
    proxy.respond = (rec) => {
      if (rec.spans.some((s) => s.name === 'fault.bad')) return { status: 400, body: '{"code":3,"message":"bad"}' };
      if (rec.spans.filter((s) => s.name === 'fault.big').length > 10) return { status: 413 };
      return null;
    };
    const { page, consoleMessages, pageErrors } = await openDelivery(proxy.endpoint, '&delay=100');
    // Page-load spans first, so the rejected request holds only ours.
    await collector.waitForSpans((all) => all.some((s) => s.name === 'documentLoad' && s.attrs['url.full']?.includes(`${proxy.port}`)));
    await page.evaluate((run) => window.burst('fault.bad', 7, run), run);
    await sleep(3000);
    await page.evaluate((run) => window.burst('fault.bad', 5, run), run);
    await sleep(1000);
    const bad = proxy.requests.filter((r) => r.spans.some((s) => s.name === 'fault.bad'));
    assert.equal(bad.length, 2, 'each rejected batch was sent once');
    assert.deepEqual(bad.map((r) => r.spans.filter((s) => s.name === 'fault.bad').length), [7, 5]);
    const warnings = consoleMessages.filter((m) => /could not be delivered/.test(m.text));
    assert.equal(warnings.length, 1, formatConsole(consoleMessages));
    assert.match(warnings[0].text, new RegExp(`^\\[waggle\\] ${bad[0].spans.length} spans could not be delivered .*answered 400`));

    // 40 spans against a limit of 10: 40 → 20 + 20 → 10 × 4.
    await page.evaluate((run) => window.burst('fault.big', 40, run), run);
    await collector.waitForSpans((all) => ofRun(all, 'fault.big', run).length >= 40, 15_000);
    await sleep(500);
    const big = proxy.requests.filter((r) => r.spans.some((s) => s.name === 'fault.big'));
    const sizes = big.map((r) => [r.spans.filter((s) => s.name === 'fault.big').length, r.status]);
    assert.deepEqual(sizes.filter(([, st]) => st === 413).map(([n]) => n), [40, 20, 20], JSON.stringify(sizes));
    assert.deepEqual(sizes.filter(([, st]) => st === 200).map(([n]) => n), [10, 10, 10, 10], JSON.stringify(sizes));
    assertEachOnce(ofRun(collector.spans(), 'fault.big', run), 40, '413');
    // The 12 spans refused with 400 are reported as lost on the next
    // request that got through.
    const reported = proxy.requests.filter((r) => r.status === 200).map((r) => Number(r.spans[0]?.resource['waggle.dropped_spans'] ?? 0));
    const refused = bad.reduce((n, r) => n + r.spans.length, 0);
    assert.equal(reported.reduce((a, b) => a + b, 0), refused, JSON.stringify(reported));
    figures.rejected = { produced: 12, delivered: 0, countedAsDropped: refused, requestsFor400: bad.length };
    figures.split = { produced: 40, delivered: ofRun(collector.spans(), 'fault.big', run).length, requests: sizes };
    assert.deepEqual(pageErrors, []);
    await page.close();
  } finally {
    await proxy.close();
  }
});

test('a partialSuccess answer is logged once with the count and the message', async () => {
  const proxy = await startFaultProxy({ target: collector.endpoint });
  try {
    const run = 'partial';
    proxy.respond = (rec) =>
      rec.spans.some((s) => s.name === 'fault.partial')
        ? { status: 200, body: '{"partialSuccess":{"rejectedSpans":"2","errorMessage":"2 spans were too old"}}' }
        : null;
    const { page, consoleMessages, pageErrors } = await openDelivery(proxy.endpoint, '&delay=100');
    await collector.waitForSpans((all) => all.some((s) => s.name === 'documentLoad' && s.attrs['url.full']?.includes(`${proxy.port}`)));
    await page.evaluate((run) => window.burst('fault.partial', 5, run), run);
    await sleep(1500);
    await page.evaluate((run) => window.burst('fault.partial', 5, run), run);
    await sleep(1500);
    const partial = proxy.requests.filter((r) => r.spans.some((s) => s.name === 'fault.partial'));
    assert.equal(partial.length, 2, 'a partial success is not retried');
    const logged = consoleMessages.filter((m) => /rejected 2 spans/.test(m.text));
    assert.equal(logged.length, 1, formatConsole(consoleMessages));
    assert.equal(logged[0].type, 'warning');
    assert.match(logged[0].text, /the Collector rejected 2 spans: 2 spans were too old/);
    // The real Collector's own answers (the page load's) logged nothing.
    assert.ok(proxy.requests.some((r) => r.status === 200 && !r.spans.some((s) => s.name === 'fault.partial')));
    assert.deepEqual(pageErrors, []);
    await page.close();
  } finally {
    await proxy.close();
  }
});

test('offline, spans wait without a request; online, they all go', async () => {
  const { page, context, consoleMessages, pageErrors } = await openDelivery(collector.endpoint, '&delay=100&debug=1');
  const run = 'offline';
  await collector.waitForSpans((all) => all.some((s) => s.name === 'documentLoad' && s.attrs['test.run'] === undefined && s.attrs['url.full']?.includes('debug=1')));
  await sleep(300);
  const before = consoleMessages.filter((m) => /export of/.test(m.text)).length;
  await context.setOffline(true);
  assert.equal(await page.evaluate(() => navigator.onLine), false);
  await page.evaluate((run) => window.burst('fault.offline', 30, run), run);
  await sleep(2500);
  await page.evaluate((run) => window.burst('fault.offline', 30, run).toString(), run + '-2');
  await sleep(500);
  const whileOffline = consoleMessages.slice().filter((m) => /export of/.test(m.text)).length - before;
  assert.equal(whileOffline, 0, `no export was attempted offline:\n${formatConsole(consoleMessages)}`);
  assert.equal(ofRun(collector.spans(), 'fault.offline', run).length, 0);
  await context.setOffline(false);
  await collector.waitForSpans((all) => ofRun(all, 'fault.offline', run).length >= 30 && ofRun(all, 'fault.offline', run + '-2').length >= 30, 10_000);
  await sleep(300);
  assertEachOnce(ofRun(collector.spans(), 'fault.offline', run), 30, 'offline');
  assertEachOnce(ofRun(collector.spans(), 'fault.offline', run + '-2'), 30, 'offline 2');
  assert.ok(!consoleMessages.some((m) => /failed/.test(m.text)), formatConsole(consoleMessages));
  figures.offline = { produced: 60, delivered: ofRun(collector.spans(), 'fault.offline', run).length + ofRun(collector.spans(), 'fault.offline', run + '-2').length };
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('a burst of 50,000 spans with default settings: memory stays bounded, every drop is counted', async () => {
  const { page, consoleMessages, pageErrors } = await openDelivery(collector.endpoint);
  const run = 'big-burst';
  // The page load's spans go first, so the queue holds only the burst.
  await collector.waitForSpans((all) => all.some((s) => s.name === 'documentLoad' && s.attrs['url.full'] === page.url()));
  await sleep(1200);
  const cdp = await page.context().newCDPSession(page);
  const heap = async (gc) => {
    if (gc) await cdp.send('HeapProfiler.collectGarbage');
    return (await cdp.send('Runtime.getHeapUsage')).usedSize;
  };
  const wasmBytes = () => page.evaluate(async () => (await window.waggle.loadAgent()).memory.buffer.byteLength);
  const heapBefore = await heap(true);
  const wasmBefore = await wasmBytes();
  const burst = await page.evaluate((run) => {
    const t0 = performance.now();
    window.burst('fault.burst50k', 50_000, run);
    return { start: t0, end: performance.now() };
  }, run);
  const heapAfterBurst = await heap(false);
  const wasmAfterBurst = await wasmBytes();
  // Delivered are the spans that arrived; dropped what the requests that
  // arrived report in waggle.dropped_spans.
  const count = () => {
    let delivered = 0;
    let dropped = 0;
    for (const req of collector.requests()) {
      for (const rs of req.resourceSpans ?? []) {
        const spans = (rs.scopeSpans ?? []).flatMap((ss) => ss.spans ?? []);
        const mine = spans.filter((s) => s.name === 'fault.burst50k');
        if (!mine.length) continue;
        delivered += mine.length;
        const d = (rs.resource?.attributes ?? []).find((a) => a.key === 'waggle.dropped_spans');
        if (d) dropped += Number(d.value.intValue);
      }
    }
    return { delivered, dropped };
  };
  const deadline = Date.now() + 60_000;
  let c = count();
  while (c.delivered + c.dropped < 50_000 && Date.now() < deadline) {
    await sleep(250);
    c = count();
  }
  await sleep(1000);
  c = count();
  const heapAfterGc = await heap(true);
  const wasmEnd = await wasmBytes();
  const tasks = await page.evaluate((end) => window.longTasks.filter((t) => t.start >= end), burst.end);
  const longest = Math.max(0, ...tasks.map((t) => t.duration));
  figures.burst50k = {
    produced: 50_000,
    delivered: c.delivered,
    dropped: c.dropped,
    burstMs: Math.round(burst.end - burst.start),
    jsHeapMB: { before: +(heapBefore / 2 ** 20).toFixed(1), afterBurst: +(heapAfterBurst / 2 ** 20).toFixed(1), afterDeliveryGc: +(heapAfterGc / 2 ** 20).toFixed(1) },
    wasmMemoryMB: { before: +(wasmBefore / 2 ** 20).toFixed(1), afterBurst: +(wasmAfterBurst / 2 ** 20).toFixed(1), end: +(wasmEnd / 2 ** 20).toFixed(1) },
    longestTaskAfterBurstMs: longest,
  };
  assert.equal(c.delivered + c.dropped, 50_000, JSON.stringify(figures.burst50k));
  assert.ok(c.delivered > 0);
  assert.ok(c.dropped > 0, 'the default queue (20,000) cannot hold 50,000');
  assert.equal(new Set(ofRun(collector.spans(), 'fault.burst50k', run).map((s) => s.spanId)).size, c.delivered, 'no span twice');
  assert.ok(wasmEnd < 64 * 2 ** 20, `wasm memory ${wasmEnd} bytes`);
  assert.ok(heapAfterGc < heapBefore + 16 * 2 ** 20, `JS heap ${heapBefore} → ${heapAfterGc} bytes`);
  // Sending the queue is one batch of at most ~200 KB per task (about 10
  // ms); sending it in one task would take seconds. The bound leaves room
  // for a loaded machine stretching a task (see the 1,000-resource test).
  assert.ok(longest < 100, `long tasks after the burst: ${JSON.stringify(tasks)}`);
  assert.deepEqual(pageErrors, [], formatConsole(consoleMessages, pageErrors));
  await page.close();
});

test("the app's own fetch throwing, aborted and streaming behaves exactly as without the agent", async () => {
  const closed = await startServer({});
  const closedPort = closed.port;
  await closed.close();
  const without = await openPage(browser, `${server.url}/pages/delivery/plain.html`);
  const expected = await without.page.evaluate((p) => window.fetchCases(p), closedPort);
  await without.page.close();
  const { page, consoleMessages, pageErrors } = await openDelivery(collector.endpoint, '&delay=100');
  const actual = await page.evaluate((p) => window.fetchCases(p), closedPort);
  assert.deepEqual(actual, expected, formatConsole(consoleMessages, pageErrors));
  // The cases did what they are named for.
  assert.equal(expected.closedPort.rejected.name, 'TypeError');
  assert.equal(expected.abortWaiting.rejected.name, 'AbortError');
  assert.equal(expected.abortWaiting.rejected.isDOMException, true);
  assert.equal(expected.abortReason.same, true);
  assert.equal(expected.abortBody.value.after.name, 'AbortError');
  assert.deepEqual(expected.stream.value.chunks, ['chunk-0', 'chunk-1', 'chunk-2', 'chunk-3', 'chunk-4']);
  assert.equal(expected.badUrl.rejected.isTypeError, true);
  // And the agent traced them.
  await collector.waitForSpans((all) => all.some((s) => s.attrs['url.full']?.includes('/api/chunks?n=5') && s.attrs['http.response.status_code'] === 200 && s.resource['service.name'] === 'delivery-test'));
  const spans = collector.spans();
  assert.ok(spans.some((s) => s.attrs['url.full']?.startsWith(`http://127.0.0.1:${closedPort}/`) && s.attrs['error.type'] === 'TypeError'));
  assert.ok(spans.some((s) => s.attrs['url.full']?.includes('/api/slow?ms=2000') && s.attrs['error.type'] === 'AbortError'));
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test("a strict CSP with 'wasm-unsafe-eval' runs the agent; without it the page runs and init rejects", async () => {
  for (const [path, wasm] of [['/csp/ok.html', true], ['/csp/no-wasm.html', false]]) {
    const run = `csp-${wasm}`;
    const url = `${server.url}${path}?endpoint=${encodeURIComponent(collector.endpoint)}&run=${run}`;
    const { page, consoleMessages, pageErrors } = await openPage(browser, url);
    await page.waitForFunction(() => window.ready);
    const ready = await page.evaluate(() => window.ready);
    assert.equal(await page.evaluate(() => document.documentElement.dataset.pageScript), 'ran');
    if (wasm) {
      assert.equal(ready, 'ok', formatConsole(consoleMessages, pageErrors));
      await collector.waitForSpans((all) => ofRun(all, 'fault.csp', run).length === 1);
      await collector.waitForSpans((all) => all.some((s) => s.name === 'documentLoad' && s.attrs['url.full'] === url));
      assert.ok(!consoleMessages.some((m) => /Content Security Policy/i.test(m.text)), formatConsole(consoleMessages));
    } else {
      assert.equal(ready.name, 'WaggleLoadError', JSON.stringify(ready));
      assert.match(ready.message, /WebAssembly/);
      // startSpan before and after the failed init does nothing and throws nothing.
      assert.equal(await page.evaluate(() => { const s = window.waggle.startSpan('x'); s.end(); return typeof s.end; }), 'function');
    }
    assert.deepEqual(pageErrors, []);
    await page.close();
  }
});

// Long tasks are wall-clock time: on a loaded machine a task of 10 ms can
// be stretched past 50 ms by the scheduler. So the page is loaded up to
// three times and the best load is judged; an agent that really makes a
// long task makes one every time.
test('a page of 1,000 resources loaded before init: every resourceFetch span, no long task from the agent', async () => {
  const loads = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const url = `${server.url}/many/index.html?endpoint=${encodeURIComponent(collector.endpoint)}&attempt=${attempt}`;
    const { page, consoleMessages, pageErrors } = await openPage(browser, url);
    await page.waitForFunction(() => window.ready, null, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => window.ready), true, formatConsole(consoleMessages, pageErrors));
    const spans = await collector.waitForSpans((all) => {
      const root = all.find((s) => s.name === 'documentLoad' && s.attrs['url.full'] === url);
      return root && all.filter((s) => s.traceId === root.traceId && s.name === 'resourceFetch').length >= 1000;
    }, 20_000);
    const root = spans.find((s) => s.name === 'documentLoad' && s.attrs['url.full'] === url);
    const imgs = new Set(spans.filter((s) => s.traceId === root.traceId && s.name === 'resourceFetch' && s.attrs['url.full'].includes('/px.gif?i=')).map((s) => s.attrs['url.full']));
    assert.equal(imgs.size, 1000);
    await sleep(1000);
    const { initAt, longTasks, frames } = await page.evaluate(() => ({ initAt: window.initAt, longTasks: window.longTasks, frames: window.frames_ }));
    // Tasks from init on are the agent's: the page did nothing else then.
    const after = longTasks.filter((t) => t.start + t.duration >= initAt);
    loads.push({
      longest: Math.max(0, ...after.map((t) => t.duration)),
      after,
      frames: frames.filter((f) => f.start + f.duration >= initAt),
      beforeInit: longTasks.filter((t) => t.start + t.duration < initAt).map((t) => Math.round(t.duration)),
    });
    assert.deepEqual(pageErrors, []);
    await page.close();
    if (loads.at(-1).longest <= 50) break;
  }
  const best = Math.min(...loads.map((l) => l.longest));
  figures.manyResources = { resourceFetchSpans: 1000, longestTaskFromInitMsPerLoad: loads.map((l) => l.longest), pageLongTasksBeforeInitMs: loads[0].beforeInit };
  assert.ok(best <= 50, `long tasks after init in each load: ${JSON.stringify(loads.map((l) => ({ tasks: l.after, frames: l.frames })))}`);
});

test('an internal failure turns the agent off with one message and the page keeps working', async () => {
  for (const place of ['hook', 'listener']) {
    const { page, consoleMessages, pageErrors } = await openDelivery(collector.endpoint, '&delay=100');
    const key = `panic-${place}`;
    const result = await page.evaluate(async ({ place, key }) => {
      // The next call into the module fails inside it, as a bug would.
      window.waggle.__fault();
      let first;
      if (place === 'hook') {
        // The agent fails inside its fetch hook, after the browser's fetch
        // was called: the page still gets the response, from one request.
        const res = await fetch(`/api/count?key=${key}`);
        first = { ok: res.ok, isResponse: res instanceof Response, text: await res.text() };
      } else {
        document.body.click();
        document.body.dispatchEvent(new Event('visibilitychange'));
        await new Promise((r) => setTimeout(r, 50));
      }
      const again = await fetch(`/api/count?key=${key}-again`).then((r) => r.text());
      const span = window.waggle.startSpan('after.off');
      span.end();
      const withSpan = window.waggle.withSpan('after.off', () => 42);
      return { first, again, withSpan };
    }, { place, key });
    if (place === 'hook') {
      assert.deepEqual(result.first, { ok: true, isResponse: true, text: `hit ${key}` });
      assert.equal(hits[key], 1, 'the page\'s request was made once');
    }
    assert.equal(result.again, `hit ${key}-again`);
    assert.equal(hits[`${key}-again`], 1);
    assert.equal(result.withSpan, 42);
    await sleep(300);
    const messages = consoleMessages.filter((m) => /waggle: internal error, the agent is now off/.test(m.text));
    assert.equal(messages.length, 1, formatConsole(consoleMessages, pageErrors));
    assert.equal(messages[0].type, 'error');
    assert.deepEqual(pageErrors, [], formatConsole(consoleMessages, pageErrors));
    assert.ok(!consoleMessages.some((m) => /RuntimeError|unreachable|Uncaught/.test(m.text)), formatConsole(consoleMessages, pageErrors));
    await page.close();
  }
});
