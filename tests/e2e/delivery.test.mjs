// Delivery under faults, through the real agent in Chromium to the real
// Collector: leaving right after a burst, a Collector outage, a stand-in
// answering 429/503/400/413/partialSuccess, offline then online, a 50,000
// span burst, the app's own failing/aborted/streaming fetches, a strict CSP,
// a page of 1,000 resources, and an internal failure of the agent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startCollector } from '../lib/collector.mjs';
import { startFaultProxy } from '../lib/faulty.mjs';
import { startServer } from '../lib/server.mjs';
import { launchBrowser, openPage, formatConsole } from '../lib/browser.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Figures for the closing note, printed at the end.
const figures = {};

let server, collector, browser;

before(async () => {
  server = await startServer({ mounts: { '/pkg/': 'pkg', '/pages/': 'tests/pages' } });
  collector = await startCollector({ allowedOrigins: [server.origin] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await collector?.stop();
  await server?.close();
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
