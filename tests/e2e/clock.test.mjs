// A device that sleeps: performance.now() stops and Date.now() does not.
// No machine here can be put to sleep under a test, so the page's wall
// clock is moved on by an hour while its performance clock runs on, which
// is what the agent sees after a real resume. Through the real agent and
// the real Collector: times before the sleep stay as they were, times
// after it follow the wall clock, and a span across it lasts as long as it
// did on the wall.
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

const HOUR = 3_600_000;
const ms = (ns) => Number(BigInt(ns) / 1000n) / 1000;

test('after a sleep, span times follow the wall clock; before it they stay; a span across it includes it', async () => {
  const { page, context, consoleMessages, pageErrors } = await openPage(browser, null);
  await context.addInitScript(() => {
    const real = Date.now;
    window.slept = 0;
    Date.now = () => real() + window.slept;
  });
  const url = `${server.url}/pages/clock/index.html?endpoint=${encodeURIComponent(collector.endpoint)}`;
  await page.goto(url);
  await page.waitForFunction(() => window.waggleStarted || window.waggleError, null, { timeout: 10_000 });
  assert.equal(await page.evaluate(() => window.waggleError), undefined, formatConsole(consoleMessages, pageErrors));

  // A span begun before the sleep, and the agent run since (a page being
  // hidden as the lid closes does that).
  const startedAt = await page.evaluate(async () => {
    const t = performance.now();
    window.across = window.waggle.startSpan('across', {}, t);
    await window.waggle.flush();
    return t;
  });
  await page.evaluate((h) => { window.slept = h; }, HOUR);
  // After the resume: a click, then the span ends.
  await page.click('#after');
  const [origin, endedAt, wallAtEnd] = await page.evaluate(() => {
    const t = performance.now();
    window.across.end(t);
    return [performance.timeOrigin, t, Date.now()];
  });
  await page.evaluate(() => window.waggle.flush());
  const spans = await collector.waitForSpans((all) => ['documentLoad', 'across', 'click'].every((n) => all.some((s) => s.name === n)));
  const [load, across, click] = ['documentLoad', 'across', 'click'].map((n) => spans.find((s) => s.name === n));

  // Before the sleep: the page's own clock, exactly.
  assert.equal(ms(load.startTimeUnixNano), Math.round(origin * 1000) / 1000);
  assert.ok(Math.abs(ms(across.startTimeUnixNano) - (origin + startedAt)) < 0.01, `${ms(across.startTimeUnixNano) - origin} vs ${startedAt}`);
  // After it: an hour on, where the wall clock is.
  // Date.now() counts whole milliseconds: the time slept is known to
  // within about one either way.
  assert.ok(Math.abs(ms(across.endTimeUnixNano) - (origin + endedAt + HOUR)) < 2, `${ms(across.endTimeUnixNano)} vs ${origin + endedAt + HOUR}`);
  assert.ok(Math.abs(ms(across.endTimeUnixNano) - wallAtEnd) < 50, 'the end is where the wall clock was');
  const clickStart = ms(click.startTimeUnixNano);
  assert.ok(clickStart > origin + HOUR && clickStart <= wallAtEnd, `the click is after the sleep: ${clickStart - origin}`);
  // The span across the sleep lasts as long as it did on the wall.
  const lasted = ms(across.endTimeUnixNano) - ms(across.startTimeUnixNano);
  assert.ok(Math.abs(lasted - (endedAt - startedAt + HOUR)) < 2, String(lasted));
});
