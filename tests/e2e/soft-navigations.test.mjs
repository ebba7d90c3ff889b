// Soft navigations, as Chromium measures them, through the real agent,
// the real browser and the real Collector: each SPA view the browser
// recognizes gets its own FCP, LCP and INP, children of its routeChange.
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

const vital = (spans, name, type, path) =>
  spans.find((s) => s.name === name && s.attrs['browser.web_vital.navigation_type'] === type && (!path || String(s.attrs['url.full'] ?? '').includes(path)));
const ms = (ns) => Number(BigInt(ns) / 1000n) / 1000;

test('each soft navigation gets its own FCP, LCP and INP, children of its routeChange, measured from its start', async () => {
  const url = `${server.url}/pages/soft-nav/index.html?run=soft&endpoint=${encodeURIComponent(collector.endpoint)}`;
  const { page, consoleMessages, pageErrors } = await openPage(browser, url);
  const context = () => formatConsole(consoleMessages, pageErrors);
  await page.waitForFunction(() => window.waggleStarted || window.waggleError, null, { timeout: 10_000 });
  assert.equal(await page.evaluate(() => window.waggleError), undefined);

  await page.click('#to-two');
  await page.waitForFunction(() => window.softNavigations.length === 1, null, { timeout: 5_000 });
  const routeTo = (all, path) => all.find((s) => s.name === 'routeChange' && s.attrs['browser.document.url.full'].includes(path));
  let spans = await collector.waitForSpans((all) => vital(all, 'FCP', 'soft-navigation', 'two.html') && routeTo(all, 'two.html'));
  const [origin, two] = await page.evaluate(() => [performance.timeOrigin, window.softNavigations[0]]);
  assert.match(two.name, /\/pages\/soft-nav\/two\.html\?run=soft&/);

  // The page load's own view ended at the soft navigation: its LCP is
  // reported then, as the page load's.
  const loadLcp = spans.find((s) => s.name === 'LCP' && s.attrs['browser.web_vital.navigation_type'] === 'navigate');
  assert.ok(loadLcp, context());
  assert.equal(loadLcp.parentSpanId ?? '', '');

  // The new view's FCP: the navigation's start to its paint, a child of
  // the routeChange to the same URL.
  const route = routeTo(spans, 'two.html');
  assert.ok(route, context());
  const fcp = vital(spans, 'FCP', 'soft-navigation', 'two.html');
  assert.equal(fcp.parentSpanId, route.spanId);
  assert.equal(fcp.traceId, route.traceId);
  assert.equal(fcp.attrs['url.full'], two.name);
  assert.ok(Math.abs(fcp.attrs['browser.web_vital.value'] - (two.paintTime - two.startTime)) < 0.01, `${fcp.attrs['browser.web_vital.value']} vs ${two.paintTime - two.startTime}`);
  assert.ok(Math.abs(ms(fcp.startTimeUnixNano) - (origin + two.startTime)) < 0.01);

  // A slow click in the new view, then another soft navigation: the
  // second view's LCP and INP are final then, and are its own.
  await page.click('#slow');
  await page.waitForTimeout(300);
  await page.click('#to-three');
  await page.waitForFunction(() => window.softNavigations.length === 2, null, { timeout: 5_000 });
  spans = await collector.waitForSpans((all) => vital(all, 'LCP', 'soft-navigation', 'two.html') && vital(all, 'INP', 'soft-navigation', 'two.html') && vital(all, 'FCP', 'soft-navigation', 'three.html') && routeTo(all, 'three.html'));
  const lcp = vital(spans, 'LCP', 'soft-navigation', 'two.html');
  assert.equal(lcp.parentSpanId, route.spanId);
  assert.equal(lcp.attrs['waggle.web_vital.lcp.element'], '#text-two');
  assert.ok(lcp.attrs['browser.web_vital.value'] > 0 && lcp.attrs['browser.web_vital.value'] < 5_000, String(lcp.attrs['browser.web_vital.value']));
  assert.ok(Math.abs(ms(lcp.startTimeUnixNano) - (origin + two.startTime)) < 0.01, 'measured from the soft navigation');
  const inp = vital(spans, 'INP', 'soft-navigation', 'two.html');
  assert.equal(inp.parentSpanId, route.spanId);
  assert.ok(inp.attrs['browser.web_vital.value'] >= 150, String(inp.attrs['browser.web_vital.value']));
  assert.equal(inp.attrs['waggle.web_vital.inp.target'], '#slow');
  assert.equal(inp.attrs['waggle.loaf.script.function'], 'slowClick');
  // Each view's vitals have their own id.
  assert.notEqual(lcp.attrs['browser.web_vital.id'], loadLcp.attrs['browser.web_vital.id']);
  const route3 = routeTo(spans, 'three.html');
  assert.equal(vital(spans, 'FCP', 'soft-navigation', 'three.html').parentSpanId, route3.spanId);

  // The page load's view had no slow interaction: its INP, if any, is not
  // the slow click's.
  const loadInp = spans.find((s) => s.name === 'INP' && s.attrs['browser.web_vital.navigation_type'] === 'navigate');
  assert.ok(!loadInp || loadInp.attrs['browser.web_vital.value'] < 150);
});
