// Web vitals through the real agent, browser and Collector: each value
// equals what the page's own PerformanceObserver entries say, with the
// attribution a user would look for, and the hide-time vitals arrive in the
// flush made as the page goes away.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startStack } from '../lib/stack.mjs';
import { summarizeSpans } from '../lib/collector.mjs';
import { openPage, formatConsole } from '../lib/browser.mjs';

// OTLP doubles carry 15 significant digits (see otlp::write_f64): equal to
// the page's own value to within that.
function near(actual, expected, message) {
  assert.equal(typeof actual, 'number', message);
  const scale = Math.max(Math.abs(expected), 1e-300);
  assert.ok(actual === expected || Math.abs(actual - expected) / scale < 1e-13, `${message ?? ''} ${actual} vs ${expected}`);
}

let stack, server, collector, browser;

before(async () => {
  ({ server, collector, browser } = stack = await startStack());
});

after(async () => {
  await stack?.stop();
});

const VITALS = ['LCP', 'CLS', 'INP', 'FCP', 'TTFB'];
const THRESHOLDS = { lcp: [2500, 4000], fcp: [1800, 3000], cls: [0.1, 0.25], inp: [200, 500], ttfb: [800, 1800] };
const rating = (name, v) => (v > THRESHOLDS[name][1] ? 'poor' : v > THRESHOLDS[name][0] ? 'needs-improvement' : 'good');
const ns = (us) => BigInt(us) * 1000n;
const us = (ms) => Math.round(ms * 1000);

function vitalsOf(url) {
  return (all) => all.filter((s) => VITALS.includes(s.name) && s.attrs['browser.document.url.full'] === url);
}

function checkCommon(span, nav) {
  const name = span.name.toLowerCase();
  const a = span.attrs;
  assert.equal(a['browser.web_vital.name'], name);
  assert.equal(a['browser.web_vital.rating'], rating(name, a['browser.web_vital.value']), `${span.name} rating`);
  near(a['browser.web_vital.delta'], a['browser.web_vital.value'], 'first report: delta is the value');
  assert.equal(a['browser.web_vital.navigation_type'], nav);
  assert.match(a['browser.web_vital.id'], /^w1-\d+-\d{13}$/);
  assert.equal(span.kind, 1);
  assert.equal(span.parentSpanId ?? '', '');
  // The semantic conventions' event (its attributes as semconv 1.44 names
  // them), with the same fields.
  const events = span.events.filter((e) => e.name === 'browser.web_vital');
  assert.equal(events.length, 1, `${span.name} has one browser.web_vital event`);
  for (const f of ['name', 'value', 'delta', 'id', 'rating', 'navigation_type']) {
    assert.equal(events[0].attrs[`browser.web_vital.${f}`], a[`browser.web_vital.${f}`], `event field ${f}`);
  }
}

test('LCP, FCP and TTFB equal the page entries; LCP is final at the first click; CLS and INP come with the hide flush', async () => {
  const url = `${server.url}/pages/web-vitals/index.html?endpoint=${encodeURIComponent(collector.endpoint)}`;
  const { page, consoleMessages, pageErrors } = await openPage(browser, url);
  const context = () => `${formatConsole(consoleMessages, pageErrors)}\n${summarizeSpans(collector.spans())}`;
  await page.waitForFunction(() => window.waggleStarted || window.waggleError, null, { timeout: 10_000 });
  assert.equal(await page.evaluate(() => window.waggleError), undefined);
  await page.waitForFunction(() => window.shiftDone && seen.lcp.some((e) => e.element === '#hero'), null, { timeout: 10_000 });

  // The first click ends LCP: it is queued then, and an explicit flush
  // sends it while CLS and INP wait for the page to be hidden.
  await page.click('#slow');
  await page.waitForFunction(() => seen.events.some((e) => e.name === 'click' && e.duration >= 300), null, { timeout: 10_000 });
  const nav = await page.evaluate(() => pageNav());
  const seen = await page.evaluate(() => ({ ...window.seen, cls: pageCls() }));
  await page.evaluate(() => window.waggleFlush());
  const early = vitalsOf(url)(await collector.waitForSpans((all) => vitalsOf(url)(all).some((s) => s.name === 'LCP')));
  assert.deepEqual(early.map((s) => s.name).sort(), ['FCP', 'LCP', 'TTFB'], context());

  // LCP: the last candidate the page saw, to the microsecond.
  const lcp = early.find((s) => s.name === 'LCP');
  const lastLcp = seen.lcp.at(-1);
  checkCommon(lcp, 'navigate');
  near(lcp.attrs['browser.web_vital.value'], lastLcp.startTime - nav.activationStart);
  assert.equal(lcp.attrs['waggle.web_vital.lcp.element'], '#hero');
  assert.equal(lcp.attrs['waggle.web_vital.lcp.url'], `${server.url}/pages/web-vitals/hero.svg`);
  near(lcp.attrs['waggle.web_vital.lcp.render_time'], lastLcp.renderTime);
  near(lcp.attrs['waggle.web_vital.lcp.load_time'], lastLcp.loadTime);
  assert.equal(lcp.attrs['waggle.web_vital.lcp.size'], lastLcp.size);
  assert.equal(BigInt(lcp.startTimeUnixNano), ns(nav.originUs + us(nav.activationStart)));
  assert.equal(BigInt(lcp.endTimeUnixNano), ns(nav.originUs + us(lastLcp.startTime)));

  const fcp = early.find((s) => s.name === 'FCP');
  const paint = seen.paints.find((p) => p.name === 'first-contentful-paint');
  checkCommon(fcp, 'navigate');
  near(fcp.attrs['browser.web_vital.value'], paint.startTime);
  assert.equal(BigInt(fcp.endTimeUnixNano), ns(nav.originUs + us(paint.startTime)));

  const ttfb = early.find((s) => s.name === 'TTFB');
  checkCommon(ttfb, 'navigate');
  near(ttfb.attrs['browser.web_vital.value'], nav.responseStart - nav.activationStart);
  assert.equal(BigInt(ttfb.endTimeUnixNano) - BigInt(ttfb.startTimeUnixNano), ns(us(nav.responseStart)));

  // Leaving the page is a real pagehide and visibilitychange: the agent
  // must report CLS and INP before the exporter's last flush, which is
  // the only way they can reach the Collector (the batch delay is 60 s).
  await page.goto('about:blank');
  const all = vitalsOf(url)(await collector.waitForSpans((spans) => ['CLS', 'INP'].every((n) => vitalsOf(url)(spans).some((s) => s.name === n))));
  for (const name of VITALS) assert.equal(all.filter((s) => s.name === name).length, 1, `one ${name} span\n${context()}`);

  const cls = all.find((s) => s.name === 'CLS');
  checkCommon(cls, 'navigate');
  assert.ok(seen.cls.value > 0, 'the banner shifted the page');
  near(cls.attrs['browser.web_vital.value'], seen.cls.value);
  assert.equal(cls.attrs['waggle.web_vital.cls.largest_shift_target'], seen.cls.largest.target);
  near(cls.attrs['waggle.web_vital.cls.largest_shift_value'], seen.cls.largest.value);
  near(cls.attrs['waggle.web_vital.cls.largest_shift_time'], seen.cls.largest.startTime);

  // INP: the slow click's interaction; its latency is the longest entry.
  const inp = all.find((s) => s.name === 'INP');
  checkCommon(inp, 'navigate');
  const click = seen.events.find((e) => e.name === 'click' && e.interactionId > 0);
  const entries = seen.events.filter((e) => e.interactionId === click.interactionId);
  const latency = Math.max(...entries.map((e) => e.duration));
  const value = inp.attrs['browser.web_vital.value'];
  assert.equal(value, latency);
  assert.ok(value >= 300, `INP ${value} covers the 300 ms handler`);
  assert.equal(inp.attrs['browser.web_vital.rating'], 'needs-improvement');
  assert.equal(inp.attrs['waggle.web_vital.inp.target'], '#slow');
  assert.equal(inp.attrs['waggle.web_vital.inp.event_type'], 'click');
  const delay = inp.attrs['waggle.web_vital.inp.input_delay'];
  const processing = inp.attrs['waggle.web_vital.inp.processing_duration'];
  const presentation = inp.attrs['waggle.web_vital.inp.presentation_delay'];
  assert.ok(processing >= 300 && processing <= value, `processing ${processing}`);
  assert.ok(delay >= 0 && presentation >= 0, `${delay} ${presentation}`);
  assert.ok(Math.abs(delay + processing + presentation - value) < 1e-6, 'the phases add up to the latency');
  // The click handler's own run is inside the processing phase.
  assert.ok(processing >= click.processingEnd - click.processingStart - 1e-9, `${processing} vs the click's ${click.processingEnd - click.processingStart}`);
  const first = entries.find((e) => e.duration === latency);
  assert.equal(BigInt(inp.startTimeUnixNano), ns(nav.originUs + us(first.startTime)));
  assert.equal(BigInt(inp.endTimeUnixNano), ns(nav.originUs + us(first.startTime + latency)));
  assert.deepEqual(pageErrors, []);
});

test('a reload without input or shifts: navigation_type reload, LCP and a CLS of 0 at hide, no INP', async () => {
  const url = `${server.url}/pages/web-vitals/index.html?noshift=1&endpoint=${encodeURIComponent(collector.endpoint)}`;
  const { page, pageErrors } = await openPage(browser, url);
  await page.waitForFunction(() => window.waggleStarted, null, { timeout: 10_000 });
  await page.reload();
  await page.waitForFunction(() => window.waggleStarted && window.shiftDone && seen.lcp.some((e) => e.element === '#hero'), null, { timeout: 10_000 });
  const seen = await page.evaluate(() => ({ ...window.seen, nav: pageNav() }));
  assert.equal(seen.nav.type, 'reload');
  await page.close({ runBeforeUnload: true });
  // The first load was hidden by the reload and reports too: keep the
  // spans of the second load (navigation_type reload).
  const reloadOnly = (spans) => vitalsOf(url)(spans).filter((s) => s.attrs['browser.web_vital.navigation_type'] === 'reload');
  const spans = reloadOnly(await collector.waitForSpans((all) => ['LCP', 'CLS', 'FCP', 'TTFB'].every((n) => reloadOnly(all).some((s) => s.name === n))));
  await new Promise((r) => setTimeout(r, 300));
  const mine = reloadOnly(collector.spans());
  assert.deepEqual(mine.map((s) => s.name).sort(), ['CLS', 'FCP', 'LCP', 'TTFB']);
  for (const s of mine) checkCommon(s, 'reload');
  const lcp = spans.find((s) => s.name === 'LCP');
  near(lcp.attrs['browser.web_vital.value'], seen.lcp.at(-1).startTime);
  const cls = spans.find((s) => s.name === 'CLS');
  near(cls.attrs['browser.web_vital.value'], 0);
  assert.equal(cls.attrs['browser.web_vital.rating'], 'good');
  assert.equal(cls.attrs['waggle.web_vital.cls.largest_shift_target'], undefined);
  assert.deepEqual(pageErrors, []);
});
