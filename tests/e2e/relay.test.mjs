// The bundled Honeycomb relay (collector-config/honeycomb.yaml, started by
// scripts/collector-honeycomb.sh) between the real agent in Chromium and a
// stand-in for Honeycomb's OTLP/gRPC endpoint built from the official
// protobuf definitions: CORS, the API key header, every span once with its
// attributes, scrubbing, an outage of the ingest, the body limit, the Classic
// dataset header and a short replay of the load test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';

import { startCollector, flattenSpans } from '../lib/collector.mjs';
import { bodyText } from '../lib/otlp.mjs';
import { startStandin } from '../lib/standin.mjs';
import { startServer, REPO_ROOT } from '../lib/server.mjs';
import { launchBrowser, openPage, formatConsole } from '../lib/browser.mjs';
import { prepareBodies, runStep } from '../../scripts/load-test.mjs';

const SCRIPT = path.join(REPO_ROOT, 'scripts', 'collector-honeycomb.sh');
const API_KEY = `test-key-${crypto.randomBytes(6).toString('hex')}`;
// Small, so a test body can exceed it; the agent's own bodies here are a few KB.
const MAX_BODY = 131072;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const hex = (n) => crypto.randomBytes(n).toString('hex');

let server, denied, standin, collector, browser;

/** The environment scripts/collector-honeycomb.sh needs, pointed at the stand-in. */
function relayEnv(extra = {}) {
  return {
    HONEYCOMB_API_KEY: API_KEY,
    HONEYCOMB_ENDPOINT: standin.endpoint,
    HONEYCOMB_INSECURE: 'true',
    WAGGLE_ALLOWED_ORIGINS: JSON.stringify([server.origin]),
    WAGGLE_MAX_BODY_BYTES: String(MAX_BODY),
    // Retries every second at most, so the outage test waits seconds, not minutes.
    WAGGLE_RETRY_INITIAL_INTERVAL: '200ms',
    WAGGLE_RETRY_MAX_INTERVAL: '1s',
    HONEYCOMB_DATASET: '',
    ...extra,
  };
}

before(async () => {
  [server, denied, standin, browser] = await Promise.all([
    startServer({ mounts: { '/pkg/': 'pkg', '/pages/': 'tests/pages' }, host: 'localhost' }),
    // The same pages on a second origin, which the relay does not allow.
    startServer({ mounts: { '/pkg/': 'pkg', '/pages/': 'tests/pages' }, host: '127.0.0.1' }),
    startStandin(),
    launchBrowser(),
  ]);
  collector = await startCollector({ command: ['bash', SCRIPT], env: relayEnv() });
});

after(async () => {
  await Promise.allSettled([browser?.close(), server?.close(), denied?.close()]);
  await collector?.stop();
  await standin?.stop();
});

/**
 * Opens the relay page on `origin` and records every OTLP body the agent
 * POSTs and the status it got back.
 */
async function openRelayPage(origin, { service = 'relay-test', query = '' } = {}) {
  const url = `${origin}/pages/relay/index.html?endpoint=${encodeURIComponent(collector.endpoint)}&service=${service}${query}`;
  const { page, consoleMessages, pageErrors } = await openPage(browser, null);
  const sent = [];
  const statuses = [];
  page.on('request', (req) => {
    if (req.method() === 'POST' && req.url() === collector.tracesUrl) sent.push(JSON.parse(bodyText(req.postDataBuffer(), req.headers()['content-encoding'])));
  });
  page.on('response', (res) => {
    if (res.request().method() === 'POST' && res.url() === collector.tracesUrl) statuses.push(res.status());
  });
  await page.goto(url);
  assert.equal(await page.evaluate(() => window.ready), true, formatConsole(consoleMessages, pageErrors));
  const diag = () => formatConsole(consoleMessages, pageErrors);
  return { page, sent, statuses, consoleMessages, diag };
}

/** Waits until the agent has had an answer for each of its POSTs. */
async function settled(r, timeoutMs = 5000) {
  const until = Date.now() + timeoutMs;
  while (r.statuses.length < r.sent.length && Date.now() < until) await sleep(50);
}

/** Spans the app starts, with `tag` in their names so each test finds its own. */
function appSpans(page, tag) {
  return page.evaluate(async (tag) => {
    const { startSpan, flush } = window.waggle;
    const signed = startSpan(`${tag}.download`, {
      'url.full': 'https://user:pw@files.example.com/report.pdf?sig=abc&X-Amz-Signature=def&ok=1',
      'http.request.header.authorization': 'Bearer abc',
      'app.items': 3,
      'app.ratio': 0.25,
      'app.ok': true,
      'app.tags': ['a', 'b'],
    });
    signed.addEvent('chunk', { 'app.bytes': 1024 });
    signed.end();
    const failed = startSpan(`${tag}.checkout`, {
      'exception.message': 'no account for jane.doe@mail.example.com, try again',
    });
    failed.addEvent('exception', { 'exception.type': 'Error', 'exception.message': 'mail to bob@corp.example failed' });
    failed.setStatus('error', 'checkout failed');
    failed.end();
    const plain = startSpan(`${tag}.plain`, { 'url.full': 'https://api.example.com/items?page=2' });
    plain.end();
    await flush();
  }, tag);
}

/** What a test compares of a span, sent or received. */
function comparable(span) {
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId || '',
    name: span.name,
    kind: span.kind ?? 0,
    startTimeUnixNano: String(span.startTimeUnixNano),
    endTimeUnixNano: String(span.endTimeUnixNano),
    attrs: span.attrs,
    events: (span.events ?? []).map((e) => ({ name: e.name, timeUnixNano: String(e.timeUnixNano), attrs: e.attrs })),
    links: (span.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId, attrs: l.attrs })),
    status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
    resource: span.resource,
    scope: { name: span.scope?.name, version: span.scope?.version },
  };
}

/**
 * The span as the relay must deliver it: everything as sent, less what
 * honeycomb.yaml's transform/scrub removes. The scrubbed values are written
 * out in the tests; this only drops and fills in what they name.
 */
function expectedAfterRelay(sent, scrubbed = {}) {
  const want = comparable(sent);
  want.attrs = { ...want.attrs };
  want.resource = { ...want.resource };
  for (const key of ['user.email', 'http.request.header.authorization', 'http.request.header.cookie']) {
    delete want.attrs[key];
    delete want.resource[key];
  }
  Object.assign(want.attrs, scrubbed.attrs ?? {});
  // The page's URL travels as a resource attribute (one per batch).
  if (scrubbed.attrs?.['browser.document.url.full'] && 'browser.document.url.full' in want.resource) want.resource['browser.document.url.full'] = scrubbed.attrs['browser.document.url.full'];
  want.events = want.events.map((e) => ({ ...e, attrs: { ...e.attrs, ...(scrubbed.events?.[e.name] ?? {}) } }));
  return want;
}

/**
 * What honeycomb.yaml must have changed in a span from appSpans() or the
 * page load, written out: the page's URL (where a test put a secret in it),
 * the signed download URL, the e-mail addresses in the checkout error.
 */
function scrubbedFor(s, pageUrl, pageUrlScrubbed) {
  const attrs = {};
  const events = {};
  for (const key of ['url.full', 'browser.document.url.full']) {
    if (pageUrl && s.attrs[key] === pageUrl) attrs[key] = pageUrlScrubbed;
  }
  if (s.name.endsWith('.download')) {
    attrs['url.full'] = 'https://REDACTED:REDACTED@files.example.com/report.pdf?sig=REDACTED&X-Amz-Signature=REDACTED&ok=1';
  }
  if (s.name.endsWith('.checkout')) {
    attrs['exception.message'] = 'no account for REDACTED_EMAIL, try again';
    events.exception = { 'exception.message': 'mail to REDACTED_EMAIL failed' };
  }
  return { attrs, events };
}

/** Asserts each sent span arrived exactly once, as `expect(span)` says. */
function assertRelayed(sentSpans, received, expect) {
  for (const s of sentSpans) {
    const copies = received.filter((r) => r.spanId === s.spanId && r.traceId === s.traceId);
    assert.equal(copies.length, 1, `span ${s.name} ${s.spanId} arrived ${copies.length} times`);
    assert.deepEqual(comparable(copies[0]), expect(s), `span ${s.name} differs after the relay`);
  }
}

const has = (spans, ids) => ids.every((id) => spans.some((s) => s.spanId === id));

test('scripts/collector-honeycomb.sh refuses to start without its key or with a wildcard origin', () => {
  const run = (env) =>
    spawnSync('bash', [SCRIPT], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, encoding: 'utf8', timeout: 10_000 });
  const noKey = run({ WAGGLE_ALLOWED_ORIGINS: '["https://shop.example.com"]' });
  assert.equal(noKey.status, 2);
  assert.match(noKey.stderr, /HONEYCOMB_API_KEY is not set/);
  const noOrigins = run({ HONEYCOMB_API_KEY: 'k' });
  assert.equal(noOrigins.status, 2);
  assert.match(noOrigins.stderr, /WAGGLE_ALLOWED_ORIGINS is not set/);
  for (const origins of ['["*"]', '[ "https://shop.example.com", "*" ]', "['*']", '*']) {
    const wild = run({ HONEYCOMB_API_KEY: 'k', WAGGLE_ALLOWED_ORIGINS: origins });
    assert.equal(wild.status, 2, `${origins} was accepted`);
    assert.match(wild.stderr, /must not contain a bare "\*"/);
  }
});

test('a page on an allowed origin exports through the relay: the key header, every span once, scrubbed', async () => {
  const r = await openRelayPage(server.origin, { query: '&token=s3cret&q=shoes' });
  await appSpans(r.page, 'allowed');
  await settled(r);
  assert.ok(r.sent.length > 0, `the agent sent nothing\n${r.diag()}`);
  assert.deepEqual(r.statuses, r.sent.map(() => 200), `every export succeeds\n${r.diag()}`);

  const sentSpans = flattenSpans(r.sent);
  const names = sentSpans.map((s) => s.name);
  for (const n of ['documentLoad', 'documentFetch', 'resourceFetch', 'allowed.download', 'allowed.checkout', 'allowed.plain']) {
    assert.ok(names.includes(n), `the page sent no ${n}: ${names.join(', ')}`);
  }
  const received = await standin.waitForSpans((all) => has(all, sentSpans.map((s) => s.spanId)));

  // The key reached Honeycomb's endpoint on every call, and no dataset
  // header without HONEYCOMB_DATASET.
  const mine = received.filter((s) => sentSpans.some((x) => x.spanId === s.spanId));
  for (const s of mine) {
    assert.equal(s.metadata['x-honeycomb-team'], API_KEY);
    assert.equal(s.metadata['x-honeycomb-dataset'], undefined);
  }

  // What the browser sent carries what must be scrubbed: the agent leaves
  // `token` in the page's URL (its own list is the signed-URL keys) ...
  const pageUrl = r.page.url();
  assert.match(pageUrl, /&token=s3cret&q=shoes$/);
  const pageUrlScrubbed = pageUrl.replace('&token=s3cret&', '&token=REDACTED&');
  const download = sentSpans.find((s) => s.name === 'allowed.download');
  assert.equal(download.attrs['url.full'], 'https://user:pw@files.example.com/report.pdf?sig=abc&X-Amz-Signature=def&ok=1');
  assert.equal(download.attrs['user.email'], 'jane.doe@mail.example.com');
  assert.equal(download.attrs['browser.document.url.full'], pageUrl);
  assert.equal(sentSpans.find((s) => s.name === 'documentLoad').attrs['url.full'], pageUrl);

  // ... and what arrived is the same spans, less exactly that.
  assertRelayed(sentSpans, received, (s) => expectedAfterRelay(s, scrubbedFor(s, pageUrl, pageUrlScrubbed)));
  const arrived = (name) => received.find((s) => s.name === name);
  assert.equal(arrived('allowed.download').attrs['user.email'], undefined);
  assert.equal(arrived('allowed.download').attrs['http.request.header.authorization'], undefined);
  assert.equal(arrived('allowed.download').attrs['user.id'], 'user-42');
  assert.equal(arrived('allowed.plain').attrs['url.full'], 'https://api.example.com/items?page=2');
  assert.equal(arrived('allowed.plain').attrs['browser.document.url.full'], pageUrlScrubbed);
  assert.equal(arrived('documentLoad').resource['service.name'], 'relay-test');
  await r.page.close();
});

test('a page on another origin is blocked by CORS and nothing reaches Honeycomb', async () => {
  const before = standin.calls().length;
  const r = await openRelayPage(denied.origin, { service: 'relay-denied' });
  await appSpans(r.page, 'denied');
  // Longer than the relay's batch timeout (1 s) and an export together.
  await sleep(2000);
  assert.ok(
    r.consoleMessages.some((m) => /CORS/i.test(m.text)),
    `expected a CORS error in the console, got:\n${r.diag()}`,
  );
  assert.equal(r.statuses.length, 0, 'no POST got an answer the page could read');
  // Other pages' last flushes may still be relayed meanwhile; none of this
  // page's spans may be.
  assert.ok(standin.calls().length >= before);
  assert.ok(!standin.spans().some((s) => s.resource['service.name'] === 'relay-denied' || s.name.startsWith('denied.')));
  await r.page.close();
});

test('Honeycomb refusing, then down, then back: everything queued arrives, once', async () => {
  const r = await openRelayPage(server.origin, { service: 'relay-outage' });
  // Whatever the page load produced is delivered first, so the outage holds
  // only the spans sent during it.
  await settled(r);
  await standin.waitForSpans((all) => has(all, flattenSpans(r.sent).map((s) => s.spanId)));
  const sentBefore = r.sent.length;
  const callsBefore = standin.calls().length;

  // Overloaded: every Export answers UNAVAILABLE.
  standin.refuse();
  await appSpans(r.page, 'refused');
  await settled(r);
  await sleep(2500);
  assert.equal(standin.calls().length, callsBefore, 'nothing is recorded while the stand-in refuses');

  // Gone: connections are refused.
  await standin.down();
  await appSpans(r.page, 'outage');
  await settled(r);
  await sleep(5000);
  const during = r.sent.slice(sentBefore);
  assert.ok(during.length >= 2, `${during.length} exports during the outage`);
  assert.deepEqual(r.statuses.slice(sentBefore), during.map(() => 200), 'the relay takes spans in while Honeycomb is away');

  await standin.up();
  const t0 = Date.now();
  const duringSpans = flattenSpans(during);
  assert.ok(duringSpans.some((s) => s.name === 'refused.download') && duringSpans.some((s) => s.name === 'outage.download'));
  const received = await standin.waitForSpans((all) => has(all, duringSpans.map((s) => s.spanId)), 30_000);
  const recoveredMs = Date.now() - t0;
  // Every span of the whole page, before and during the outage, exactly once.
  assertRelayed(flattenSpans(r.sent), received, (s) => expectedAfterRelay(s, scrubbedFor(s)));
  // The queue counts a batch until its export call has returned.
  let m = await collector.metrics();
  for (const until = Date.now() + 5000; m.otelcol_exporter_queue_size !== 0 && Date.now() < until; ) {
    await sleep(100);
    m = await collector.metrics();
  }
  assert.equal(m.otelcol_exporter_send_failed_spans ?? 0, 0, 'no batch given up');
  assert.equal(m.otelcol_exporter_enqueue_failed_spans ?? 0, 0, 'none dropped by a full queue');
  assert.equal(m.otelcol_exporter_queue_size, 0, 'the queue drained');
  console.log(`# outage: ${duringSpans.length} spans held, all delivered ${recoveredMs} ms after the endpoint came back`);
  await r.page.close();
});

test('a body over max_request_body_size is refused before it is read, and the relay keeps serving', async () => {
  const r = await openRelayPage(server.origin, { service: 'relay-limit' });
  await settled(r);
  const body = (spanId, padding) =>
    JSON.stringify({
      resourceSpans: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'relay-limit' } }] },
        scopeSpans: [{
          scope: { name: 'relay-test' },
          spans: [{
            traceId: hex(16), spanId, name: 'limit.span', kind: 1,
            startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000001000000',
            attributes: [{ key: 'app.padding', value: { stringValue: 'x'.repeat(padding) } }],
          }],
        }],
      }],
    });
  const bigId = hex(8);
  const big = body(bigId, MAX_BODY);
  assert.ok(big.length > MAX_BODY);
  const refused = await r.page.evaluate(([url, b]) => window.post(url, b), [collector.tracesUrl, big]);
  // Collector v0.159.0's OTLP/HTTP receiver answers an over-limit body with
  // 400 and this message (a gRPC INVALID_ARGUMENT status), not 413; the
  // CORS headers are there, so the page can read it.
  assert.equal(refused.status, 400, JSON.stringify(refused));
  assert.match(refused.text, /request body too large/);

  const okId = hex(8);
  const ok = await r.page.evaluate(([url, b]) => window.post(url, b), [collector.tracesUrl, body(okId, 1000)]);
  assert.equal(ok.status, 200, JSON.stringify(ok));
  // The agent's own exports go on too.
  const before = r.sent.length;
  await appSpans(r.page, 'afterlimit');
  await settled(r);
  assert.deepEqual(r.statuses.slice(before), r.sent.slice(before).map(() => 200));
  const ids = [okId, ...flattenSpans(r.sent.slice(before)).map((s) => s.spanId)];
  const received = await standin.waitForSpans((all) => has(all, ids));
  assert.equal(received.filter((s) => s.spanId === okId).length, 1);
  assert.ok(!received.some((s) => s.spanId === bigId), 'the refused body never reached Honeycomb');
  const health = await fetch(`http://127.0.0.1:${collector.healthPort}/`);
  assert.equal(health.status, 200);
  await r.page.close();
});

test('load smoke: captured agent bodies replayed at 1,000 spans/s for 2 s all arrive', async () => {
  // The measurement is `make load`; this only proves its path works end to end.
  const bodies = prepareBodies(2);
  // Only the replayed spans (service shop-web) count: pages of earlier
  // tests may still send their last spans meanwhile.
  const replayed = () => standin.spans().filter((s) => s.resource['service.name'] === 'shop-web').length;
  const before = replayed();
  const r = await runStep({ url: collector.tracesUrl, bodies, spansPerSec: 1000, seconds: 2, collector });
  assert.ok(r.sentSpans >= 1500, `${r.sentSpans} spans sent`);
  assert.deepEqual(Object.keys(r.statuses), ['200'], JSON.stringify(r.statuses));
  assert.equal(r.collectorAccepted, r.sentSpans);
  assert.ok(r.alive && r.cores > 0 && r.peakRss > 0 && r.p99 > 0);
  const until = Date.now() + 10_000;
  while (replayed() - before < r.sentSpans && Date.now() < until) await sleep(100);
  assert.equal(replayed() - before, r.sentSpans);
});

test('with HONEYCOMB_DATASET (Classic environments) the dataset header is sent too', async () => {
  const classic = await startCollector({ command: ['bash', SCRIPT], env: relayEnv({ HONEYCOMB_DATASET: 'browser-classic' }) });
  try {
    const spanId = hex(8);
    const res = await fetch(classic.tracesUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [{
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'relay-classic' } }] },
          scopeSpans: [{ spans: [{ traceId: hex(16), spanId, name: 'classic.span', kind: 1, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000001000000' }] }],
        }],
      }),
    });
    assert.equal(res.status, 200, await res.text());
    const received = await standin.waitForSpans((all) => has(all, [spanId]));
    const span = received.find((s) => s.spanId === spanId);
    assert.equal(span.metadata['x-honeycomb-team'], API_KEY);
    assert.equal(span.metadata['x-honeycomb-dataset'], 'browser-classic');
  } finally {
    await classic.stop();
  }
});
