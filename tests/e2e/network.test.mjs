// fetch and XHR through the real agent, the real browser and the real
// Collector: CLIENT spans, the traceparent the servers receive, CORS
// preflights, errors, Server-Timing links, Resource Timing, and the page
// seeing exactly what it sees without the agent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startCollector, freePorts, summarizeSpans } from '../lib/collector.mjs';
import { startServer } from '../lib/server.mjs';
import { launchBrowser, openPage, formatConsole } from '../lib/browser.mjs';

// The server span each API names in its Server-Timing header.
const A_TIMING = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
const B_TIMING = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };

let A, B, collector, browser, closedUrl;
// Every API request each server received: { server, case, method, path, headers }.
const received = [];

const caseOf = (req) => new URL(req.url, 'http://x').searchParams.get('case');

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

function note(server, req) {
  received.push({ server, case: caseOf(req), method: req.method, path: new URL(req.url, 'http://x').pathname, headers: req.headers });
}

const json = (res, status, body, headers = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
};

const timingHeader = (t) => `traceparent;desc="00-${t.traceId}-${t.spanId}-01"`;

// Same-origin API, on the page's own server.
const sameOriginRoutes = {
  '/api/ok': (req, res) => {
    note('A', req);
    json(res, 200, { ok: true });
  },
  '/api/fail': (req, res) => {
    note('A', req);
    json(res, 500, { ok: false });
  },
  '/api/slow': (req, res) => {
    note('A', req);
    const timer = setTimeout(() => json(res, 200, { slow: true }), 3000);
    res.on('close', () => clearTimeout(timer));
  },
  '/api/echo-headers': async (req, res) => {
    note('A', req);
    const body = await readBody(req);
    json(res, 200, { method: req.method, url: req.url, headers: req.headers, body }, { 'x-test': 'yes', 'server-timing': timingHeader(A_TIMING) });
  },
  // A Collector on the page's own origin, for a relative `endpoint`.
  '/collector/v1/traces': async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const headers = { 'content-type': req.headers['content-type'] };
    if (req.headers['content-encoding']) headers['content-encoding'] = req.headers['content-encoding'];
    const r = await fetch(collector.tracesUrl, { method: 'POST', headers, body });
    res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
    res.end(Buffer.from(await r.arrayBuffer()));
  },
};

// The cross-origin API: answers preflights for the page's origin, and
// records them.
function crossOrigin(req, res) {
  note('B', req);
  const cors = { 'access-control-allow-origin': A.origin, vary: 'origin', 'cache-control': 'no-store' };
  if (req.method === 'OPTIONS') {
    res.writeHead(204, {
      ...cors,
      'access-control-allow-methods': 'GET, POST, PUT',
      'access-control-allow-headers': 'traceparent, tracestate, content-type, x-custom',
    });
    res.end();
    return;
  }
  json(res, 200, { method: req.method, headers: req.headers }, {
    ...cors,
    'timing-allow-origin': A.origin,
    'access-control-expose-headers': 'server-timing',
    'server-timing': timingHeader(B_TIMING),
  });
}

before(async () => {
  A = await startServer({ mounts: { '/pkg/': 'pkg', '/pages/': 'tests/pages' }, routes: sameOriginRoutes });
  B = await startServer({ host: '127.0.0.1', mounts: {}, routes: { '/api/cors': crossOrigin, '/api/allowed': crossOrigin } });
  collector = await startCollector({ allowedOrigins: [A.origin] });
  browser = await launchBrowser();
  const [port] = await freePorts(1);
  closedUrl = `http://127.0.0.1:${port}/closed`;
});

after(async () => {
  await browser?.close();
  await collector?.stop();
  await A?.close();
  await B?.close();
});

/** Opens the test page with `options` in its fragment; waits for init. */
async function openNetworkPage(options = {}) {
  const hash = new URLSearchParams({ agent: '1', endpoint: collector.endpoint, ...options });
  const opened = await openPage(browser, `${A.url}/pages/network/index.html#${hash}`);
  const state = await opened.page.evaluate(() => window.ready);
  assert.equal(state, options.agent === '0' ? 'no agent' : 'agent', formatConsole(opened.consoleMessages, opened.pageErrors));
  return opened;
}

const urlFor = (c) => (s) => typeof s.attrs['url.full'] === 'string' && new URL(s.attrs['url.full']).searchParams.get('case') === c;

/** The one span of request `c`, once it has arrived. */
async function spanOf(c) {
  const spans = await collector.waitForSpans((all) => all.some(urlFor(c)));
  const mine = spans.filter(urlFor(c));
  assert.equal(mine.length, 1, `one span for ${c}:\n${summarizeSpans(mine)}`);
  return mine[0];
}

/** The one request of case `c` with `method` that `server` received. */
function requestOf(server, c, method = 'GET') {
  const got = received.filter((r) => r.server === server && r.case === c && r.method === method);
  assert.equal(got.length, 1, `${server} received ${c} ${method} once: ${JSON.stringify(got.map((r) => r.method))}`);
  return got[0];
}

const statusCode = (span) => span.status?.code ?? 0;
const ns = (us) => BigInt(us) * 1000n;
const us = (ms) => Math.round(ms * 1000);

test('same-origin fetch and XHR carry the traceparent of their CLIENT span, with Resource Timing and the Server-Timing link', async () => {
  const { page } = await openNetworkPage({ service: 'net-same' });
  const entries = await page.evaluate(async () => {
    await fetch('/api/echo-headers?case=same-fetch').then((r) => r.json());
    await xhr('GET', '/api/echo-headers?case=same-xhr');
    await xhr('GET', '/api/echo-headers?case=same-xhr-sync', { sync: true });
    await fetch('/api/ok?case=same-post', { method: 'POST', body: 'snow ☃' }).then((r) => r.text());
    const origin = performance.timeOrigin;
    return performance.getEntriesByType('resource').filter((e) => e.name.includes('case=same')).map((e) => ({
      name: e.name, initiatorType: e.initiatorType, origin, startTime: e.startTime, fetchStart: e.fetchStart,
      responseStart: e.responseStart, responseEnd: e.responseEnd, encodedBodySize: e.encodedBodySize,
    }));
  });
  for (const c of ['same-fetch', 'same-xhr', 'same-xhr-sync']) {
    const span = await spanOf(c);
    const url = `${A.url}/api/echo-headers?case=${c}`;
    assert.equal(requestOf('A', c).headers.traceparent, `00-${span.traceId}-${span.spanId}-03`, c);
    assert.equal(span.kind, 3, 'CLIENT');
    assert.equal(span.name, 'GET');
    assert.equal(span.parentSpanId ?? '', '', 'a new trace when no span is current');
    assert.equal(span.resource['service.name'], 'net-same');
    assert.equal(span.attrs['http.request.method'], 'GET');
    assert.equal(span.attrs['http.request.method_original'], undefined);
    assert.equal(span.attrs['url.full'], url);
    assert.equal(span.attrs['server.address'], 'localhost');
    assert.equal(span.attrs['server.port'], A.port);
    assert.equal(span.attrs['http.response.status_code'], 200);
    assert.equal(span.attrs['error.type'], undefined);
    assert.equal(statusCode(span), 0);
    // The server's span from Server-Timing, once (header and entry agree).
    assert.deepEqual(span.links.map((l) => [l.traceId, l.spanId]), [[A_TIMING.traceId, A_TIMING.spanId]], c);

    // Network phases from this request's own Resource Timing entry.
    const entry = entries.find((e) => e.name === url);
    assert.ok(entry, `Resource Timing entry for ${c}`);
    assert.equal(entry.initiatorType, c.includes('xhr') ? 'xmlhttprequest' : 'fetch');
    const at = (t) => ns(us(entry.origin) + us(t));
    const events = Object.fromEntries(span.events.map((e) => [e.name, BigInt(e.timeUnixNano)]));
    assert.equal(events.fetchStart, at(entry.fetchStart), `${c} fetchStart`);
    assert.equal(events.responseStart, at(entry.responseStart), `${c} responseStart`);
    assert.equal(events.responseEnd, at(entry.responseEnd), `${c} responseEnd`);
    assert.equal(span.attrs['http.response.body.size'], entry.encodedBodySize);
    // The span is the wrapper's own measurement, around the browser's.
    assert.ok(BigInt(span.startTimeUnixNano) <= events.fetchStart, `${c} starts before fetchStart`);
    if (c.includes('xhr')) assert.ok(BigInt(span.endTimeUnixNano) >= events.responseEnd, `${c} ends after responseEnd`);
  }
  const post = await spanOf('same-post');
  assert.equal(post.name, 'POST');
  assert.equal(post.attrs['http.request.body.size'], Buffer.byteLength('snow ☃'));
  assert.equal(requestOf('A', 'same-post', 'POST').headers.traceparent, `00-${post.traceId}-${post.spanId}-03`);
  await page.close();
});

test('cross-origin requests get traceparent only where propagateTraceHeaderCorsUrls allows, and a preflight only there', async () => {
  const { page } = await openNetworkPage({ service: 'net-cors', cors: `${B.url}/api/allowed` });
  const entries = await page.evaluate(async (b) => {
    await fetch(`${b}/api/cors?case=cross-fetch-no`).then((r) => r.json());
    await xhr('GET', `${b}/api/cors?case=cross-xhr-no`);
    await fetch(`${b}/api/allowed?case=cross-fetch-yes`).then((r) => r.json());
    await xhr('GET', `${b}/api/allowed?case=cross-xhr-yes`);
    return performance.getEntriesByType('resource').filter((e) => e.name.includes('case=cross')).map((e) => ({ name: e.name, startTime: e.startTime, responseEnd: e.responseEnd }));
  }, B.url);
  for (const c of ['cross-fetch-no', 'cross-xhr-no']) {
    const span = await spanOf(c);
    assert.equal(requestOf('B', c).headers.traceparent, undefined, `${c} must not carry traceparent`);
    assert.equal(received.filter((r) => r.case === c && r.method === 'OPTIONS').length, 0, `${c} must not cause a preflight`);
    assert.equal(span.attrs['server.address'], '127.0.0.1');
    assert.equal(span.attrs['server.port'], B.port);
    assert.equal(span.attrs['http.response.status_code'], 200);
  }
  for (const c of ['cross-fetch-yes', 'cross-xhr-yes']) {
    const span = await spanOf(c);
    assert.equal(requestOf('B', c).headers.traceparent, `00-${span.traceId}-${span.spanId}-03`, c);
    const preflight = requestOf('B', c, 'OPTIONS');
    assert.match(preflight.headers['access-control-request-headers'], /\btraceparent\b/);
    // Exposed by Access-Control-Expose-Headers and Timing-Allow-Origin.
    assert.deepEqual(span.links.map((l) => [l.traceId, l.spanId]), [[B_TIMING.traceId, B_TIMING.spanId]], c);
    assert.ok(span.events.some((e) => e.name === 'responseEnd'), `${c} has its timing`);
    // Chromium reports the preflight inside the request's entry, not as an
    // entry of its own: one entry, so no preflight events.
    assert.equal(entries.filter((e) => e.name.endsWith(`case=${c}`)).length, 1);
    assert.ok(!span.events.some((e) => e.name.startsWith('waggle.cors_preflight')));
  }
  await page.close();
});

test('500s, aborts, timeouts and network failures end their spans with an error', async () => {
  const { page } = await openNetworkPage({ service: 'net-errors' });
  const seen = await page.evaluate(async (closed) => {
    const out = {};
    out.fetchFail = (await fetch('/api/fail?case=err-fetch-500')).status;
    out.xhrFail = (await xhr('GET', '/api/fail?case=err-xhr-500')).status;
    const c = new AbortController();
    const p = fetch('/api/slow?case=err-fetch-abort', { signal: c.signal });
    setTimeout(() => c.abort(), 50);
    out.fetchAbort = await p.then(() => 'resolved', (e) => e.name);
    out.xhrAbort = (await xhr('GET', '/api/slow?case=err-xhr-abort', { abortAfter: 50 })).events;
    out.xhrTimeout = (await xhr('GET', '/api/slow?case=err-xhr-timeout', { timeout: 50 })).events;
    out.fetchClosed = await fetch(`${closed}?case=err-fetch-closed`).then(() => 'resolved', (e) => `${e.name}: ${e.message}`);
    out.xhrClosed = (await xhr('GET', `${closed}?case=err-xhr-closed`)).events;
    out.xhrSyncClosed = (await xhr('GET', `${closed}?case=err-xhr-sync-closed`, { sync: true })).threw.name;
    return out;
  }, closedUrl);
  assert.equal(seen.fetchFail, 500);
  assert.equal(seen.fetchAbort, 'AbortError');
  assert.equal(seen.fetchClosed, 'TypeError: Failed to fetch');
  assert.ok(seen.xhrAbort.includes('abort') && seen.xhrTimeout.includes('timeout') && seen.xhrClosed.includes('error'));

  for (const c of ['err-fetch-500', 'err-xhr-500']) {
    const span = await spanOf(c);
    assert.equal(statusCode(span), 2, c);
    assert.equal(span.attrs['error.type'], '500');
    assert.equal(span.attrs['http.response.status_code'], 500);
  }
  const expected = {
    'err-fetch-abort': 'AbortError',
    'err-xhr-abort': 'abort',
    'err-xhr-timeout': 'timeout',
    'err-fetch-closed': 'TypeError',
    'err-xhr-closed': 'error',
    'err-xhr-sync-closed': 'NetworkError',
  };
  for (const [c, type] of Object.entries(expected)) {
    const span = await spanOf(c);
    assert.equal(statusCode(span), 2, c);
    assert.equal(span.attrs['error.type'], type, c);
    assert.equal(span.attrs['http.response.status_code'], undefined, c);
  }
  assert.equal((await spanOf('err-fetch-closed')).status.message, 'Failed to fetch');
  await page.close();
});

/** Removes the trace headers the agent adds from a behaviour record. */
function withoutTraceHeaders(value) {
  if (Array.isArray(value)) return value.map(withoutTraceHeaders);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'traceparent' || k === 'tracestate') continue;
      out[k] = withoutTraceHeaders(v);
    }
    return out;
  }
  return value;
}

test('the page sees exactly what it sees without the agent', async () => {
  const run = async (agent) => {
    const { page, consoleMessages, pageErrors } = await openNetworkPage({ agent, spy: '1', service: 'net-behaviour' });
    const out = await page.evaluate((args) => window.behaviour(args), { b: B.url, closed: closedUrl });
    await page.close();
    return { out, log: formatConsole(consoleMessages, pageErrors), errors: pageErrors };
  };
  const without = await run('0');
  const withAgent = await run('1');
  assert.deepEqual(withAgent.errors, [], withAgent.log);

  // The comparison is not empty: the agent was there, and added headers.
  assert.equal(without.out.string.body.headers.traceparent, undefined);
  assert.match(withAgent.out.string.body.headers.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-03$/);
  assert.match(withAgent.out.request.body.headers.traceparent, /^00-/);
  assert.match(withAgent.out.xhrPost.response.headers.traceparent, /^00-/);
  assert.equal(withAgent.out.crossOrigin.body.headers.traceparent, undefined);
  // The page's own traceparent is what arrives, in both runs.
  assert.equal(withAgent.out.ownTraceparent.body.headers.traceparent, '00-11111111111111111111111111111111-2222222222222222-01');
  assert.equal(withAgent.out.xhrOwnTraceparent.response.headers.traceparent, '00-33333333333333333333333333333333-4444444444444444-01');
  // Things this page checks that are easy to get wrong.
  assert.equal(withAgent.out.sameResponse, true);
  assert.deepEqual(withAgent.out.unhandledRejections, ['TypeError']);
  assert.equal(withAgent.out.getterInit.reads, without.out.getterInit.reads);
  assert.deepEqual(withAgent.out.headersInstance.after, [['x-a', '1']]);
  assert.equal(withAgent.out.request.body.headers.referer, undefined, 'the Request kept referrerPolicy no-referrer');
  assert.match(withAgent.out.requestReferrer.body.headers.referer, /\/pages\/network\/elsewhere\.html$/);

  assert.deepEqual(withoutTraceHeaders(withAgent.out), withoutTraceHeaders(without.out));

  // And the agent did trace them.
  const span = await spanOf('behaviour-request');
  assert.equal(span.attrs['http.request.method'], 'POST');
  // A Request's body is a stream the agent does not read.
  assert.equal(span.attrs['http.request.body.size'], undefined);
  assert.equal((await spanOf('behaviour-blob')).attrs['http.request.body.size'], 3);
  assert.equal((await spanOf('behaviour-illegal')).attrs['error.type'], 'TypeError');
});

test('methods are normalised, body sizes recorded, the page\'s own traceparent kept, ignoreUrls honoured', async () => {
  const { page } = await openNetworkPage({ service: 'net-attrs', ignore: `${A.url}/api/ok?case=ignored` });
  await page.evaluate(async () => {
    const echo = (c) => `/api/echo-headers?case=${c}`;
    await fetch(echo('m-put'), { method: 'put', body: 'x' });
    await fetch(echo('m-purge'), { method: 'PURGE' });
    await fetch(echo('b-blob'), { method: 'POST', body: new Blob(['0123456789']) });
    await fetch(echo('b-buffer'), { method: 'POST', body: new Uint16Array(3) });
    await fetch(echo('b-params'), { method: 'POST', body: new URLSearchParams({ a: 'é' }) });
    await fetch(echo('b-form'), { method: 'POST', body: new FormData() });
    await xhr('PUT', echo('b-xhr'), { body: '€€' });
    await fetch(echo('own-fetch'), { headers: { TraceParent: '00-11111111111111111111111111111111-2222222222222222-01' } });
    await xhr('GET', echo('own-xhr'), { headers: [['traceparent', '00-33333333333333333333333333333333-4444444444444444-01']] });
    await fetch('/api/ok?case=ignored');
    await xhr('GET', '/api/ok?case=ignored');
    await fetch('/api/ok?case=after-ignored');
  });
  // fetch sends `put` as PUT, so nothing differs from what was sent.
  const put = await spanOf('m-put');
  assert.deepEqual([put.name, put.attrs['http.request.method'], put.attrs['http.request.method_original']], ['PUT', 'PUT', undefined]);
  assert.equal(requestOf('A', 'm-put', 'PUT').headers.traceparent, `00-${put.traceId}-${put.spanId}-03`);
  const purge = await spanOf('m-purge');
  assert.deepEqual([purge.name, purge.attrs['http.request.method'], purge.attrs['http.request.method_original']], ['HTTP', '_OTHER', 'PURGE']);
  assert.equal(requestOf('A', 'm-purge', 'PURGE').headers.traceparent, `00-${purge.traceId}-${purge.spanId}-03`);

  assert.equal((await spanOf('b-blob')).attrs['http.request.body.size'], 10);
  assert.equal((await spanOf('b-buffer')).attrs['http.request.body.size'], 6);
  assert.equal((await spanOf('b-params')).attrs['http.request.body.size'], 'a=%C3%A9'.length);
  assert.equal((await spanOf('b-form')).attrs['http.request.body.size'], undefined, 'multipart size is unknown before sending');
  assert.equal((await spanOf('b-xhr')).attrs['http.request.body.size'], 6);

  for (const [c, own] of [['own-fetch', '00-11111111111111111111111111111111-2222222222222222-01'], ['own-xhr', '00-33333333333333333333333333333333-4444444444444444-01']]) {
    const span = await spanOf(c);
    assert.equal(requestOf('A', c).headers.traceparent, own, `${c}: the page's header stands`);
    assert.match(span.spanId, /^[0-9a-f]{16}$/);
  }

  // Nothing for the ignored URL: no header, and no span (the span of the
  // request after it arrived, so the ignored ones would have too).
  await spanOf('after-ignored');
  const ignored = received.filter((r) => r.case === 'ignored');
  assert.equal(ignored.length, 2);
  assert.ok(ignored.every((r) => r.headers.traceparent === undefined));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(collector.spans().filter(urlFor('ignored')).length, 0);
  await page.close();
});

// Level 2 of Trace Context: the agent's trace ids are random, so the
// random flag (02) is set; the sampled flag (01) is not.
test('sampleRate 0 still propagates, with flags 02 (random, not sampled), and exports nothing', async () => {
  const unsampled = await openNetworkPage({ service: 'net-unsampled', sample: '0' });
  await unsampled.page.evaluate(async () => {
    await fetch('/api/echo-headers?case=unsampled-fetch').then((r) => r.json());
    await xhr('GET', '/api/echo-headers?case=unsampled-xhr');
    await new Promise((r) => setTimeout(r, 400));
    await window.waggle.flush();
  });
  const ids = [];
  for (const c of ['unsampled-fetch', 'unsampled-xhr']) {
    const tp = requestOf('A', c).headers.traceparent;
    assert.match(tp, /^00-[0-9a-f]{32}-[0-9a-f]{16}-02$/, c);
    ids.push(tp.split('-')[1]);
  }
  await unsampled.page.close();
  // A sampled page after it: once its span is in, anything the unsampled
  // page had sent would be in too.
  const sampled = await openNetworkPage({ service: 'net-sampled' });
  await sampled.page.evaluate(() => fetch('/api/ok?case=sampled-control'));
  await spanOf('sampled-control');
  await sampled.page.close();
  const all = collector.spans();
  assert.equal(all.filter((s) => ids.includes(s.traceId)).length, 0);
  assert.equal(all.filter((s) => s.resource['service.name'] === 'net-unsampled').length, 0);
});

test('the exporter\'s own requests are never traced, also with a relative endpoint', async () => {
  const { page } = await openNetworkPage({ service: 'net-relative', endpoint: '/collector' });
  await page.evaluate(async () => {
    await fetch('/api/ok?case=relative-1');
    await window.waggle.flush();
    await fetch('/api/ok?case=relative-2');
    await window.waggle.flush();
  });
  await spanOf('relative-1');
  await spanOf('relative-2');
  const mine = collector.spans().filter((s) => s.resource['service.name'] === 'net-relative' && s.kind === 3);
  assert.deepEqual(mine.map((s) => new URL(s.attrs['url.full']).pathname), ['/api/ok', '/api/ok']);
  // Nor, in any test, requests to the Collector itself.
  assert.deepEqual(collector.spans().filter((s) => String(s.attrs['url.full']).startsWith(collector.endpoint)), []);
  await page.close();
});

test('shutdown() puts back the very functions the page had; a kept wrapper still works, untraced', async () => {
  const { page } = await openNetworkPage({ service: 'net-shutdown' });
  const result = await page.evaluate(async () => {
    const o = window.originals;
    const current = () => [window.fetch === o.fetch, XMLHttpRequest.prototype.open === o.open, XMLHttpRequest.prototype.send === o.send, XMLHttpRequest.prototype.setRequestHeader === o.setRequestHeader];
    const during = current();
    const keptFetch = window.fetch;
    const keptOpen = XMLHttpRequest.prototype.open;
    await fetch('/api/ok?case=before-shutdown');
    await window.waggle.shutdown();
    const afterShutdown = current();
    const r = await keptFetch('/api/echo-headers?case=kept-fetch').then((res) => res.json());
    const x = new XMLHttpRequest();
    keptOpen.call(x, 'GET', '/api/echo-headers?case=kept-xhr', false);
    x.send();
    return { during, afterShutdown, keptFetch: r.headers.traceparent ?? null, keptXhr: JSON.parse(x.responseText).headers.traceparent ?? null };
  });
  assert.deepEqual(result.during, [false, false, false, false]);
  assert.deepEqual(result.afterShutdown, [true, true, true, true]);
  assert.equal(result.keptFetch, null);
  assert.equal(result.keptXhr, null);
  await spanOf('before-shutdown');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(collector.spans().filter((s) => urlFor('kept-fetch')(s) || urlFor('kept-xhr')(s)).length, 0);
  await page.close();
});
