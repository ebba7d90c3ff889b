// Page load through the real agent, the real browser and the real Collector:
// the trace's shape, its parent ids, and timings equal to the page's own
// Performance entries to the microsecond.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startStack } from '../lib/stack.mjs';
import { openPage, formatConsole } from '../lib/browser.mjs';

let stack, server, collector, browser;

before(async () => {
  ({ server, collector, browser } = stack = await startStack());
});

after(async () => {
  await stack?.stop();
});

// What the page itself measured, in the units the spans use.
async function pageTimings(page) {
  return page.evaluate(() => {
    const us = (ms) => Math.round(ms * 1000);
    const nav = performance.getEntriesByType('navigation')[0];
    return {
      originUs: us(performance.timeOrigin),
      href: location.href,
      nav: { startTime: us(nav.startTime), fetchStart: us(nav.fetchStart), responseEnd: us(nav.responseEnd), loadEventEnd: us(nav.loadEventEnd), domInteractive: us(nav.domInteractive), status: nav.responseStatus },
      resources: performance.getEntriesByType('resource').map((r) => ({
        name: r.name, startTime: us(r.startTime), responseEnd: us(r.responseEnd), initiatorType: r.initiatorType, encodedBodySize: r.encodedBodySize,
      })),
      paints: performance.getEntriesByType('paint').map((p) => p.name),
    };
  });
}

const ns = (us) => BigInt(us) * 1000n;

async function checkPageLoad(url, testName) {
  const { page, consoleMessages, pageErrors } = await openPage(browser, url);
  await page.waitForFunction(() => window.waggleStarted || window.waggleError, null, { timeout: 10_000 });
  assert.equal(await page.evaluate(() => window.waggleError), undefined);
  const spans = await collector.waitForSpans((all) => all.some((s) => s.name === 'documentLoad' && s.attrs['url.full'] === url));
  const t = await pageTimings(page);
  const root = spans.find((s) => s.name === 'documentLoad' && s.attrs['url.full'] === url);
  const trace = (await collector.waitForSpans((all) => {
    const mine = all.filter((s) => s.traceId === root.traceId && s.name === 'resourceFetch');
    // Every resource the page had fetched by the time of load has its span.
    return t.resources.filter((r) => r.startTime < t.nav.loadEventEnd).every((r) => mine.some((s) => s.attrs['url.full'] === r.name));
  })).filter((s) => s.traceId === root.traceId);
  const context = () => `${testName}\n${formatConsole(consoleMessages, pageErrors)}`;

  // One documentLoad root per page view.
  assert.equal(trace.filter((s) => s.name === 'documentLoad').length, 1, context());
  assert.equal(root.parentSpanId ?? '', '', 'documentLoad is a root without a server traceparent');
  assert.equal(root.kind, 1);
  assert.match(root.traceId, /^[0-9a-f]{32}$/);
  assert.notEqual(root.traceId, '0'.repeat(32));
  assert.equal(root.resource['service.name'], 'document-load-test');
  assert.equal(root.resource['telemetry.sdk.language'], 'webjs');
  assert.match(root.resource['user_agent.original'], /Chrom/);
  assert.equal(root.scope.name, 'waggle-rum');

  // documentLoad: navigation start to loadEventEnd, exactly.
  assert.equal(BigInt(root.startTimeUnixNano), ns(t.originUs + t.nav.startTime));
  assert.equal(BigInt(root.endTimeUnixNano), ns(t.originUs + t.nav.loadEventEnd));
  const events = Object.fromEntries(root.events.map((e) => [e.name, BigInt(e.timeUnixNano)]));
  assert.equal(events.domInteractive, ns(t.originUs + t.nav.domInteractive));
  for (const name of ['fetchStart', 'domContentLoadedEventEnd', 'domComplete', 'loadEventStart', 'loadEventEnd']) {
    assert.ok(events[name] > 0n, `event ${name} on documentLoad`);
  }
  if (t.paints.includes('first-contentful-paint')) assert.ok(events.firstContentfulPaint > 0n);

  // documentFetch: child of the root, fetchStart to responseEnd.
  const docs = trace.filter((s) => s.name === 'documentFetch');
  assert.equal(docs.length, 1);
  const doc = docs[0];
  assert.equal(doc.parentSpanId, root.spanId);
  assert.equal(BigInt(doc.startTimeUnixNano), ns(t.originUs + t.nav.fetchStart));
  assert.equal(BigInt(doc.endTimeUnixNano) - BigInt(doc.startTimeUnixNano), ns(t.nav.responseEnd - t.nav.fetchStart));
  assert.equal(doc.attrs['http.response.status_code'], t.nav.status);
  assert.ok(doc.events.some((e) => e.name === 'responseStart'));

  // One resourceFetch per Resource Timing entry, each a child of the root,
  // and none for the agent's own export requests.
  const resources = trace.filter((s) => s.name === 'resourceFetch');
  const names = new Set();
  for (const span of resources) {
    assert.equal(span.parentSpanId, root.spanId);
    const url = span.attrs['url.full'];
    assert.ok(!url.startsWith(collector.endpoint), `exporter request traced: ${url}`);
    assert.ok(!names.has(url), `two spans for ${url}`);
    names.add(url);
    const entry = t.resources.find((r) => r.name === url);
    assert.ok(entry, `no Resource Timing entry for ${url}`);
    assert.equal(BigInt(span.startTimeUnixNano), ns(t.originUs + entry.startTime), url);
    assert.equal(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano), ns(entry.responseEnd - entry.startTime), url);
    assert.equal(span.attrs['waggle.initiator_type'], entry.initiatorType);
    if (entry.encodedBodySize > 0) assert.equal(span.attrs['http.response.body.size'], entry.encodedBodySize);
    assert.equal(span.attrs['server.address'], 'localhost');
    assert.equal(span.attrs['server.port'], server.port);
  }
  for (const file of ['style.css', 'app.js', 'a.svg', 'b.svg', 'bg.svg']) {
    assert.ok([...names].some((n) => n.endsWith(`/pages/document-load/${file}`)), `resourceFetch for ${file}: ${[...names].join(', ')}`);
  }
  assert.deepEqual(pageErrors, []);
  await page.close();
}

test('page load with init before load: documentLoad, documentFetch, resourceFetch', async () => {
  const url = `${server.url}/pages/document-load/index.html?endpoint=${encodeURIComponent(collector.endpoint)}`;
  await checkPageLoad(url, 'init before load');
});

test('page load with init after load gives the same trace', async () => {
  const url = `${server.url}/pages/document-load/index.html?late=1&endpoint=${encodeURIComponent(collector.endpoint)}`;
  await checkPageLoad(url, 'init after load');
});
