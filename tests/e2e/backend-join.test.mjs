// The browser and the backend in one trace: the demo page served by the real
// Flask backend (OpenTelemetry Python SDK), the agent in headless Chromium,
// both exporting to one real Collector.
//
// Tests named "documentLoad ..." and "backend ..." need only what the agent
// already has (document load) and the backend itself. Tests named
// "fetch ..." check the fetch instrumentation's contract with the backend:
// a CLIENT span named by the method with url.full, http.request.method and
// http.response.status_code, whose `traceparent` request header
// (00-<its trace id>-<its span id>-01) makes it the parent of the backend's
// SERVER span. Run one group with --test-name-pattern='^(documentLoad|backend)'
// or --test-name-pattern='^fetch'.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startCollector, freePorts, summarizeSpans } from '../lib/collector.mjs';
import { startBackend } from '../lib/backend.mjs';
import { launchBrowser, openPage, formatConsole } from '../lib/browser.mjs';

const BACKEND_SERVICE = 'waggle-demo-backend';
const WEB_SERVICE = 'waggle-demo-web';
const SERVER = 2;
const CLIENT = 3;
const STATUS_ERROR = 2;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

let collector, backend, browser;

before(async () => {
  // The backend's port first: the collector must allow its origins (the
  // page is loaded as localhost, and as 127.0.0.1 for cross-origin cases).
  const [port] = await freePorts(1);
  collector = await startCollector({ allowedOrigins: [`http://localhost:${port}`, `http://127.0.0.1:${port}`] });
  [backend, browser] = await Promise.all([
    startBackend({ port, collectorEndpoint: collector.endpoint, corsOrigins: [`http://localhost:${port}`] }),
    launchBrowser(),
  ]);
});

after(async () => {
  await browser?.close();
  await backend?.stop();
  await collector?.stop();
});

const hex = (bytes) => Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');

/** Opens the demo shop and waits until the agent runs and the products are listed. */
async function openShop(query, { origin = backend.origin } = {}) {
  const url = `${origin}/?${new URLSearchParams(query)}`;
  const opened = await openPage(browser, url);
  const { page, consoleMessages, pageErrors } = opened;
  const context = () => formatConsole(consoleMessages, pageErrors);
  await page.waitForFunction(() => document.body?.dataset.ready === 'true', null, { timeout: 15_000 }).catch((err) => {
    throw new Error(`the shop did not load: ${err.message}\n${context()}`);
  });
  const started = await page.evaluate(() =>
    window.waggleReady ? window.waggleReady.then(() => true, (e) => String(e)) : 'the agent module did not load',
  );
  assert.equal(started, true, `agent init: ${started}\n${context()}`);
  return { ...opened, url, context };
}

/** Clicks a button and waits for the API calls it started to finish. */
async function click(page, selector) {
  await page.click(selector);
  await page.waitForFunction(() => document.body.dataset.pending === '0', null, { timeout: 10_000 });
}

/** The server trace the page last saw in Server-Timing, as the page shows it. */
async function lastServerTrace(page) {
  const text = await page.textContent('#last-trace');
  const m = /^([0-9a-f]{32}) \(span ([0-9a-f]{16})\)$/.exec(text);
  assert.ok(m, `#last-trace shows a trace: ${text}`);
  return { traceId: m[1], spanId: m[2] };
}

const byId = (spans, id) => spans.find((s) => s.spanId === id);
const childrenOf = (spans, span) => spans.filter((s) => s.traceId === span.traceId && s.parentSpanId === span.spanId);
const ms = (ns) => Number(BigInt(ns) / 1000n) / 1000;

/** The backend's spans below a server span all carry the request's user id. */
function assertChildSpans(spans, server, user, expectedNames) {
  const children = childrenOf(spans, server);
  const names = children.map((s) => s.name).sort();
  for (const name of expectedNames) assert.ok(names.includes(name), `${server.name} has a child ${name}: ${names.join(', ')}`);
  for (const child of children) {
    assert.equal(child.resource['service.name'], BACKEND_SERVICE, child.name);
    assert.equal(child.attrs['user.id'], user, `user.id on ${child.name}`);
    assert.ok(BigInt(child.startTimeUnixNano) >= BigInt(server.startTimeUnixNano), `${child.name} starts inside ${server.name}`);
    assert.ok(BigInt(child.endTimeUnixNano) <= BigInt(server.endTimeUnixNano), `${child.name} ends inside ${server.name}`);
  }
  return children;
}

test('documentLoad is a child of the backend span that rendered the page', async () => {
  const user = 'u-docload';
  const { page, url, pageErrors, context } = await openShop({ user });
  const meta = await page.evaluate(() => document.querySelector('meta[name="traceparent"]').content);
  const m = TRACEPARENT.exec(meta);
  assert.ok(m, `meta traceparent: ${meta}`);
  const [, traceId, serverSpanId, flags] = m;
  assert.equal(Number.parseInt(flags, 16) & 1, 1, 'the page span is sampled');
  const nav = await page.evaluate(() => {
    const e = performance.getEntriesByType('navigation')[0];
    return { originMs: performance.timeOrigin, fetchStart: e.fetchStart, responseEnd: e.responseEnd };
  });
  await page.evaluate(() => window.waggleFlush());

  const spans = await collector.waitForSpans((all) => {
    const load = all.find((s) => s.name === 'documentLoad' && s.attrs['url.full'] === url);
    return load && byId(all, load.parentSpanId) && all.some((s) => s.name === 'documentFetch' && s.parentSpanId === load.spanId);
  });
  const load = spans.find((s) => s.name === 'documentLoad' && s.attrs['url.full'] === url);
  const server = byId(spans, load.parentSpanId);
  const detail = () => `${context()}\n${summarizeSpans(spans.filter((s) => s.traceId === traceId))}`;

  // The page's parent is the server span named in the page's meta tag.
  assert.equal(load.traceId, traceId, detail());
  assert.equal(load.parentSpanId, serverSpanId, detail());
  assert.equal(load.resource['service.name'], WEB_SERVICE);
  assert.equal(load.attrs['user.id'], user);

  assert.equal(server.traceId, traceId);
  assert.equal(server.kind, SERVER);
  assert.equal(server.name, 'GET /');
  assert.equal(server.parentSpanId ?? '', '', 'the page span is the trace root');
  assert.equal(server.resource['service.name'], BACKEND_SERVICE);
  assert.equal(server.scope.name, 'opentelemetry.instrumentation.flask');
  assert.equal(server.attrs['http.request.method'], 'GET');
  assert.equal(server.attrs['http.route'], '/');
  assert.equal(server.attrs['http.response.status_code'], 200);
  assert.equal(server.attrs['user.id'], user, 'user.id from ?user= on the page request');

  // documentFetch (the browser's view of that same request) is in the trace,
  // and the server's work happened while the browser waited for the page.
  // Both clocks are this machine's; the slack allows for Chromium's
  // timeOrigin being fixed at navigation start.
  const docFetch = spans.find((s) => s.name === 'documentFetch' && s.parentSpanId === load.spanId);
  assert.equal(docFetch.traceId, traceId);
  const slackMs = 100;
  const fetchStartMs = nav.originMs + nav.fetchStart;
  const responseEndMs = nav.originMs + nav.responseEnd;
  assert.ok(ms(server.startTimeUnixNano) >= fetchStartMs - slackMs, `server span starts after fetchStart (${ms(server.startTimeUnixNano) - fetchStartMs} ms)`);
  assert.ok(ms(server.endTimeUnixNano) <= responseEndMs + slackMs, `server span ends before responseEnd (${ms(server.endTimeUnixNano) - responseEndMs} ms)`);

  // The page's own files are fetched in the same trace, under documentLoad.
  const resources = spans.filter((s) => s.traceId === traceId && s.name === 'resourceFetch');
  for (const file of ['/app.js', '/user.js', '/style.css', '/pkg/index.js']) {
    assert.ok(resources.some((s) => s.attrs['url.full'] === `${backend.url}${file}` && s.parentSpanId === load.spanId), `resourceFetch for ${file}\n${detail()}`);
  }
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('backend: an allowed cross-origin page sends traceparent, reads Server-Timing, and parents the server span', async () => {
  const user = 'u-cors';
  const { page, pageErrors } = await openShop({ user });
  const traceId = hex(16);
  const parentId = hex(8);
  const traceparent = `00-${traceId}-${parentId}-01`;
  const apiUrl = `${backend.altOrigin}/api/products/3`;
  // The page is http://localhost:PORT; the API is called as 127.0.0.1, a
  // different origin, with the headers the agent adds, so the browser asks
  // permission first (a preflight) and applies CORS to the answer.
  const r = await page.evaluate(
    async ({ apiUrl, traceparent, user }) => {
      const res = await fetch(apiUrl, { headers: { traceparent, tracestate: 'shop=1', 'X-User-Id': user } });
      await res.json();
      const entry = performance.getEntriesByName(apiUrl).at(-1);
      return {
        status: res.status,
        serverTiming: res.headers.get('Server-Timing'),
        entryTiming: entry ? entry.serverTiming.map((t) => ({ name: t.name, description: t.description })) : null,
      };
    },
    { apiUrl, traceparent, user },
  );
  assert.equal(r.status, 200);
  const m = /^traceparent;desc="(00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2})"$/.exec(r.serverTiming ?? '');
  assert.ok(m, `Server-Timing readable cross-origin: ${r.serverTiming}`);
  const [, tpTrace, serverSpanId, flags] = TRACEPARENT.exec(m[1]);
  assert.equal(tpTrace, traceId, 'Server-Timing names the trace the page started');
  assert.equal(flags, '01');
  // Timing-Allow-Origin lets Resource Timing show it too.
  assert.deepEqual(r.entryTiming, [{ name: 'traceparent', description: m[1] }]);

  const spans = await collector.waitForSpans((all) => {
    const server = byId(all, serverSpanId);
    return server && childrenOf(all, server).length >= 2;
  });
  const server = byId(spans, serverSpanId);
  assert.equal(server.traceId, traceId);
  assert.equal(server.parentSpanId, parentId, 'the page-sent traceparent is the server span parent');
  assert.equal(server.kind, SERVER);
  assert.equal(server.name, 'GET /api/products/<int:product_id>');
  assert.equal(server.attrs['http.route'], '/api/products/<int:product_id>');
  assert.equal(server.attrs['http.response.status_code'], 200);
  assert.deepEqual(server.attrs['http.request.header.traceparent'], [traceparent]);
  assert.deepEqual(server.attrs['http.request.header.tracestate'], ['shop=1']);
  assert.equal(server.attrs['user.id'], user);
  assert.equal(server.attrs['app.product_id'], 3);
  const children = assertChildSpans(spans, server, user, ['SELECT products', 'pricing.compute']);
  const db = children.find((s) => s.name === 'SELECT products');
  assert.equal(db.kind, CLIENT);
  assert.equal(db.attrs['db.system.name'], 'sqlite');
  assert.equal(db.attrs['db.response.returned_rows'], 1);
  const pricing = children.find((s) => s.name === 'pricing.compute');
  assert.equal(pricing.attrs['app.product_id'], 3);
  assert.equal(pricing.attrs['app.quantity'], 3);
  assert.equal(pricing.attrs['app.discount_pct'], 10);
  assert.equal(pricing.attrs['app.price_cents'], 6480);
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('backend: a page on an origin it does not list cannot send it trace headers', async () => {
  // Loaded as 127.0.0.1, which the backend does not list; its API as
  // localhost is then cross-origin and not allowed.
  const { page } = await openShop({ user: 'u-denied' }, { origin: backend.altOrigin });
  const traceId = hex(16);
  const denied = await page.evaluate(async ({ url, traceparent }) => {
    try {
      const res = await fetch(url, { headers: { traceparent } });
      return `answered ${res.status}`;
    } catch (err) {
      return err.name;
    }
  }, { url: `${backend.url}/api/products`, traceparent: `00-${traceId}-${hex(8)}-01` });
  assert.equal(denied, 'TypeError', 'the browser refuses the request after the preflight');
  // The page's own same-origin calls still work and are traced; once one
  // has arrived, the refused request would have too, had it been sent.
  await click(page, '#details-4');
  const { spanId } = await lastServerTrace(page);
  const spans = await collector.waitForSpans((all) => byId(all, spanId));
  assert.equal(spans.filter((s) => s.traceId === traceId).length, 0, 'no server span for the refused request');
  await page.close();
});

test('backend: checkout and a server error, as the page sees them in Server-Timing', async () => {
  const user = 'u-checkout';
  const { page, pageErrors } = await openShop({ user });
  await click(page, '#add-1');
  await click(page, '#add-1');
  await click(page, '#add-4');
  await click(page, '#checkout');
  assert.match(await page.textContent('#status'), /^Order \d+ placed: \$/);
  const order = await lastServerTrace(page);
  await click(page, '#fail');
  assert.equal(await page.textContent('#status'), 'The server answered 500: inventory service unavailable');
  const failure = await lastServerTrace(page);

  const spans = await collector.waitForSpans((all) => {
    const a = byId(all, order.spanId);
    const b = byId(all, failure.spanId);
    return a && b && childrenOf(all, a).length >= 5 && childrenOf(all, b).length >= 1;
  });
  const checkout = byId(spans, order.spanId);
  assert.equal(checkout.traceId, order.traceId);
  assert.equal(checkout.name, 'POST /api/checkout');
  assert.equal(checkout.kind, SERVER);
  assert.equal(checkout.attrs['http.response.status_code'], 201);
  assert.equal(checkout.attrs['user.id'], user, 'user.id from the X-User-Id header');
  assert.equal(checkout.attrs['app.cart_items'], 2);
  assert.equal(checkout.attrs['app.cart_quantity'], 3);
  assert.equal(checkout.attrs['app.order_total_cents'], 2 * 850 + 600);
  assert.equal(typeof checkout.attrs['app.order_id'], 'number');
  const children = assertChildSpans(spans, checkout, user, ['SELECT products', 'pricing.compute', 'payment.authorize', 'INSERT orders']);
  assert.equal(children.filter((s) => s.name === 'pricing.compute').length, 2, 'one price per cart line');
  assert.equal(children.find((s) => s.name === 'payment.authorize').attrs['app.order_total_cents'], 2300);

  const fail = byId(spans, failure.spanId);
  assert.equal(fail.name, 'GET /api/fail');
  assert.equal(fail.attrs['http.response.status_code'], 500);
  assert.equal(fail.status?.code, STATUS_ERROR);
  const [lookup] = assertChildSpans(spans, fail, user, ['inventory.lookup']);
  assert.equal(lookup.status?.code, STATUS_ERROR);
  const exception = lookup.events.find((e) => e.name === 'exception');
  assert.equal(exception?.attrs['exception.type'], 'RuntimeError');
  assert.equal(exception?.attrs['exception.message'], 'inventory service unavailable');
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('backend: SIGTERM sends the spans still queued before the process exits', async () => {
  // A schedule far longer than the test: only the shutdown flush can send.
  const lazy = await startBackend({ collectorEndpoint: collector.endpoint, scheduleDelayMs: 600_000 });
  try {
    const traceId = hex(16);
    const res = await fetch(`${lazy.altOrigin}/api/slow?ms=0`, { headers: { traceparent: `00-${traceId}-${hex(8)}-01` } });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    // The span is queued, not sent.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(collector.spans().filter((s) => s.traceId === traceId).length, 0, 'nothing exported before shutdown');
    const exited = await lazy.stop();
    assert.equal(exited.code, 0, `clean exit: ${JSON.stringify(exited)}`);
    const spans = await collector.waitForSpans((all) => all.filter((s) => s.traceId === traceId).length >= 2);
    const names = spans.filter((s) => s.traceId === traceId).map((s) => s.name).sort();
    assert.deepEqual(names, ['GET /api/slow', 'report.generate']);
  } finally {
    await lazy.stop();
  }
});

// --- fetch instrumentation ↔ backend ---------------------------------------

/** Records the traceparent header of every request the page sends to `prefix`. */
function recordTraceHeaders(page, prefix) {
  const seen = [];
  page.on('request', (req) => {
    if (!req.url().startsWith(prefix)) return;
    const entry = { url: req.url(), method: req.method(), traceparent: undefined };
    seen.push(entry);
    entry.done = req.allHeaders().then((h) => {
      entry.traceparent = h.traceparent;
    });
  });
  return async () => {
    await Promise.all(seen.map((e) => e.done));
    return seen;
  };
}

/**
 * The browser's CLIENT span for `url`/`method` and the backend's SERVER span
 * whose parent it is, once both have arrived. `user` picks this test's
 * request where other tests of the file made the same one.
 */
async function clientServerPair(url, method, user) {
  const find = (all) => {
    const client = all.find((s) => s.kind === CLIENT && s.name === method && s.attrs['url.full'] === url && s.resource['service.name'] === WEB_SERVICE && (user === undefined || s.attrs['user.id'] === user));
    const server = client && all.find((s) => s.kind === SERVER && s.parentSpanId === client.spanId);
    return client && server && childrenOf(all, server).length > 0 ? { client, server } : null;
  };
  const spans = await collector.waitForSpans((all) => !!find(all));
  return { ...find(spans), spans };
}

function assertJoined({ client, server }, { method, status, headers, url }) {
  assert.equal(client.kind, CLIENT);
  assert.equal(client.attrs['http.request.method'], method);
  assert.equal(client.attrs['http.response.status_code'], status);
  assert.equal(server.kind, SERVER);
  assert.equal(server.resource['service.name'], BACKEND_SERVICE);
  assert.equal(server.traceId, client.traceId, 'one trace across browser and backend');
  assert.equal(server.parentSpanId, client.spanId);
  assert.equal(server.attrs['http.response.status_code'], status);
  // Waggle starts traces with random ids and says so (W3C Trace Context
  // Level 2 random-trace-id flag, 02) besides the sampled flag.
  const expected = `00-${client.traceId}-${client.spanId}-03`;
  assert.deepEqual(server.attrs['http.request.header.traceparent'], [expected], 'the header the backend received');
  const sent = headers.filter((h) => h.url === url && h.method === method);
  assert.equal(sent.length, 1, `one ${method} ${url} request: ${JSON.stringify(headers)}`);
  assert.equal(sent[0].traceparent, expected, 'the header the browser sent');
}

test('fetch: a same-origin API call is the parent of the backend span', async () => {
  const user = 'u-fetch';
  const { page, pageErrors } = await openShop({ user });
  const headers = recordTraceHeaders(page, `${backend.url}/api/`);
  await click(page, '#details-2');
  await page.evaluate(() => window.waggleFlush());
  const url = `${backend.url}/api/products/2`;
  const pair = await clientServerPair(url, 'GET', user);
  assertJoined(pair, { method: 'GET', status: 200, headers: await headers(), url });
  assert.equal(pair.client.attrs['url.full'], url);
  assert.equal(pair.server.attrs['app.product_id'], 2);
  assert.equal(pair.server.attrs['user.id'], user);
  const children = assertChildSpans(pair.spans, pair.server, user, ['SELECT products', 'pricing.compute']);
  assert.equal(children.find((s) => s.name === 'pricing.compute').attrs['app.product_id'], 2);
  // What the page read from Server-Timing names the same server span.
  assert.deepEqual(await lastServerTrace(page), { traceId: pair.client.traceId, spanId: pair.server.spanId });
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('fetch: POST checkout and a 500 join their backend spans', async () => {
  const user = 'u-fetch-post';
  const { page, pageErrors } = await openShop({ user });
  const headers = recordTraceHeaders(page, `${backend.url}/api/`);
  await click(page, '#add-2');
  await click(page, '#add-3');
  await click(page, '#checkout');
  await click(page, '#fail');
  await page.evaluate(() => window.waggleFlush());
  const sent = await headers();

  const checkoutUrl = `${backend.url}/api/checkout`;
  const post = await clientServerPair(checkoutUrl, 'POST', user);
  assertJoined(post, { method: 'POST', status: 201, headers: sent, url: checkoutUrl });
  assert.equal(post.server.name, 'POST /api/checkout');
  assert.equal(post.server.attrs['app.cart_items'], 2);
  assertChildSpans(post.spans, post.server, user, ['SELECT products', 'pricing.compute', 'payment.authorize', 'INSERT orders']);

  const failUrl = `${backend.url}/api/fail`;
  const failed = await clientServerPair(failUrl, 'GET', user);
  assertJoined(failed, { method: 'GET', status: 500, headers: sent, url: failUrl });
  assert.equal(failed.server.status?.code, STATUS_ERROR);
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('fetch: a cross-origin API listed in propagateTraceHeaderCorsUrls gets traceparent and joins', async () => {
  const user = 'u-fetch-cors';
  // ?api= makes the page call the API as 127.0.0.1 while it is loaded as
  // localhost, and lists that origin in propagateTraceHeaderCorsUrls.
  const { page, pageErrors } = await openShop({ user, api: backend.altOrigin });
  const headers = recordTraceHeaders(page, `${backend.altOrigin}/api/`);
  await click(page, '#details-1');
  await page.evaluate(() => window.waggleFlush());
  const url = `${backend.altOrigin}/api/products/1`;
  const pair = await clientServerPair(url, 'GET');
  assertJoined(pair, { method: 'GET', status: 200, headers: await headers(), url });
  assert.equal(pair.server.attrs['user.id'], user);
  assert.deepEqual(pageErrors, []);
  await page.close();
});
