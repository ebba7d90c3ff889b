// Errors through the real agent, browser and Collector: uncaught
// exceptions, unhandled rejections, bursts, resources that fail to load and
// console.error become `exception` spans; the page's own error handlers see
// exactly what they see without the agent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startStack } from '../lib/stack.mjs';
import { summarizeSpans } from '../lib/collector.mjs';
import { openPage, formatConsole } from '../lib/browser.mjs';

let stack, server, collector, browser;

before(async () => {
  ({ server, collector, browser } = stack = await startStack());
});

after(async () => {
  await stack?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const SCENARIOS = ['timeout', 'click', 'custom', 'thrownString', 'rejectError', 'rejectString', 'burst', 'brokenImage', 'brokenScript'];

// Runs every scenario on one page load; returns what the page's handlers
// and the browser's own error reporting saw.
async function runScenarios(url) {
  const { page, consoleMessages, pageErrors } = await openPage(browser, url);
  await page.waitForFunction(() => window.waggleStarted || window.waggleError, null, { timeout: 10_000 });
  assert.equal(await page.evaluate(() => window.waggleError), undefined);
  await page.waitForFunction(() => window.scenarios);
  for (const name of SCENARIOS) {
    if (name === 'click') await page.click('#throw');
    else await page.evaluate((n) => window.scenarios[n](), name);
    await sleep(name === 'burst' ? 300 : 80);
  }
  const seen = await page.evaluate(() => window.seen);
  return { page, seen, pageErrors: pageErrors.map((e) => e.message), consoleMessages };
}

const exceptionsOf = (url) => (all) => all.filter((s) => s.name === 'exception' && s.attrs['browser.document.url.full'] === url);

test('uncaught errors, rejections, a burst and broken resources become exception spans; page handlers see the same as without the agent', async () => {
  const url = `${server.url}/pages/errors/index.html?endpoint=${encodeURIComponent(collector.endpoint)}`;
  const withAgent = await runScenarios(url);
  const mine = exceptionsOf(url);
  // The burst is reported a second after its last error.
  const spans = mine(await collector.waitForSpans((all) => mine(all).length >= 9, 10_000));
  await sleep(1500);
  const all = mine(collector.spans());
  const context = `${formatConsole(withAgent.consoleMessages)}\n${summarizeSpans(all)}`;
  assert.equal(all.length, 9, context);
  assert.equal(spans.length, 9);

  const script = `${server.url}/pages/errors/scenarios.js`;
  const onerror = (message) => withAgent.seen.find((s) => s.via === 'onerror' && s.message.includes(message));
  const by = (type, message) => {
    const found = all.filter((s) => s.attrs['exception.type'] === type && s.attrs['exception.message'] === message);
    assert.equal(found.length, 1, `one span ${type}: ${message}\n${context}`);
    const s = found[0];
    assert.equal(s.kind, 1);
    assert.equal(s.status.code, 2);
    assert.equal(s.status.message, message);
    assert.equal(s.resource['service.name'], 'errors-test');
    const event = s.events.find((e) => e.name === 'exception');
    assert.equal(event.attrs['exception.type'], type);
    assert.equal(event.attrs['exception.message'], message);
    assert.equal(event.attrs['exception.stacktrace'], s.attrs['exception.stacktrace']);
    return s;
  };
  const located = (s, message) => {
    const o = onerror(message);
    assert.equal(s.attrs['code.file.path'], script);
    assert.equal(s.attrs['code.line.number'], o.line);
    assert.equal(s.attrs['code.column.number'], o.column);
  };

  const timeout = by('TypeError', 'timeout boom');
  assert.equal(timeout.attrs['waggle.exception.source'], 'uncaught');
  assert.match(timeout.attrs['exception.stacktrace'], /^TypeError: timeout boom\n\s+at timeoutThrower \(.*scenarios\.js:\d+:\d+\)/);
  assert.equal(timeout.attrs['waggle.exception.count'], 1);
  located(timeout, 'timeout boom');
  // The stack's frames as parallel arrays, as the browser reported them
  // (no source maps here, so nothing in the Collector changes them).
  const frames = ['urls', 'lines', 'columns', 'functions'].map((k) => timeout.attrs[`exception.structured_stacktrace.${k}`]);
  assert.deepEqual(frames.map((f) => f[0]), [script, onerror('timeout boom').line, onerror('timeout boom').column, 'timeoutThrower']);
  assert.ok(frames.every((f) => f.length === frames[0].length), JSON.stringify(frames));
  assert.equal(timeout.attrs['exception.symbolicator.failed'], undefined);

  const click = by('RangeError', 'click boom');
  assert.match(click.attrs['exception.stacktrace'], /at HTMLButtonElement\.clickThrower/);
  located(click, 'click boom');
  assert.equal(click.attrs['exception.structured_stacktrace.functions'][0], 'HTMLButtonElement.clickThrower');

  const custom = by('PaymentError', 'card declined');
  assert.match(custom.attrs['exception.stacktrace'], /^Error: card declined/);
  located(custom, 'card declined');

  const str = by('UncaughtException', 'a thrown string');
  assert.equal(str.attrs['exception.stacktrace'], undefined);
  assert.equal(str.attrs['exception.structured_stacktrace.urls'], undefined, 'a thrown string has no stack');
  located(str, 'a thrown string');

  const rejected = by('Error', 'rejected with an error');
  assert.equal(rejected.attrs['waggle.exception.source'], 'unhandledrejection');
  assert.match(rejected.attrs['exception.stacktrace'], /scenarios\.js/);
  assert.equal(rejected.attrs['code.file.path'], script);
  assert.ok(rejected.attrs['code.line.number'] > 0);

  const rejectedString = by('UnhandledRejection', 'rejected with a string');
  assert.equal(rejectedString.attrs['exception.stacktrace'], undefined);
  assert.equal(rejectedString.attrs['code.file.path'], undefined);

  // Twenty identical errors in 100 ms: one span, counted, from the first
  // to the last.
  const burst = by('Error', 'burst');
  assert.equal(burst.attrs['waggle.exception.count'], 20);
  assert.ok(BigInt(burst.endTimeUnixNano) - BigInt(burst.startTimeUnixNano) >= 80_000_000n, 'spans the burst');
  assert.equal(withAgent.seen.filter((s) => s.via === 'onerror' && s.message.includes('burst')).length, 20, 'the page saw all twenty');

  for (const [tag, file] of [['img', 'missing.png'], ['script', 'missing.js']]) {
    const resourceUrl = `${server.url}/pages/errors/${file}`;
    const s = by('ResourceLoadError', `Failed to load <${tag}> ${resourceUrl}`);
    assert.equal(s.attrs['waggle.exception.source'], 'resource');
    assert.equal(s.attrs['url.full'], resourceUrl);
    assert.equal(s.attrs['server.port'], server.port);
    assert.equal(s.attrs['waggle.target.tag'], tag);
  }
  // The error thrown by the click handler happened while the click was
  // current: it is the click's child. Nothing was current for the others.
  const clicks = await collector.waitForSpans((spans) => spans.some((x) => x.name === 'click' && x.attrs['browser.document.url.full'] === url));
  const clickSpan = clicks.find((x) => x.name === 'click' && x.attrs['browser.document.url.full'] === url);
  assert.equal(clickSpan.attrs['waggle.target.id'], 'throw');
  assert.equal(click.parentSpanId, clickSpan.spanId, 'the click handler\'s error is the click\'s child');
  assert.equal(click.traceId, clickSpan.traceId);
  for (const s of all) if (s !== click) assert.equal(s.parentSpanId ?? '', '', 'no interaction was current: a root');

  // The same page without the agent: the page's handlers and the browser's
  // own error reporting see exactly the same.
  const without = await runScenarios(`${server.url}/pages/errors/index.html?agent=0`);
  assert.ok(withAgent.seen.length >= 40, `${withAgent.seen.length} handler calls`);
  assert.deepEqual(withAgent.seen, without.seen);
  assert.deepEqual(withAgent.pageErrors, without.pageErrors);
  assert.ok(withAgent.seen.every((s) => !s.defaultPrevented));
  await withAgent.page.close();
  await without.page.close();
});

test('console.error, when asked for, is recorded and still behaves as the function it wraps', async () => {
  const url = `${server.url}/pages/errors/index.html?console=1&endpoint=${encodeURIComponent(collector.endpoint)}`;
  const { page, consoleMessages } = await openPage(browser, url);
  await page.waitForFunction(() => window.waggleStarted || window.waggleError, null, { timeout: 10_000 });
  assert.equal(await page.evaluate(() => window.waggleError), undefined);
  const result = await page.evaluate(() => {
    const err = new Error('disk full');
    const out = {};
    out.wrapped = console.error !== window.pageConsoleError;
    out.name = console.error.name;
    out.length = console.error.length === window.pageConsoleError.length;
    out.returned = console.error('failed to save', err, 42);
    const call = window.consoleCalls.at(-1);
    out.sameArgs = call.args.length === 3 && call.args[0] === 'failed to save' && call.args[1] === err && call.args[2] === 42;
    out.sameThis = call.self === console;
    try {
      console.error('throw');
    } catch (e) {
      out.thrown = e === window.consoleThrows;
    }
    console.error('plain text', { code: 7 });
    return out;
  });
  assert.deepEqual(result, { wrapped: true, name: 'myError', length: true, returned: 42, sameArgs: true, sameThis: true, thrown: true }, formatConsole(consoleMessages));

  const mine = exceptionsOf(url);
  const spans = mine(await collector.waitForSpans((all) => mine(all).length >= 3, 10_000));
  const withError = spans.find((s) => s.attrs['exception.message'] === 'failed to save Error: disk full 42');
  assert.ok(withError, summarizeSpans(spans));
  assert.equal(withError.attrs['exception.type'], 'Error');
  assert.equal(withError.attrs['waggle.exception.source'], 'console.error');
  assert.match(withError.attrs['exception.stacktrace'], /^Error: disk full\n/);
  const plain = spans.find((s) => s.attrs['exception.message'] === 'plain text {"code":7}');
  assert.equal(plain.attrs['exception.type'], 'ConsoleError');
  assert.ok(spans.some((s) => s.attrs['exception.message'] === 'throw'));

  // shutdown() puts the page's own function back.
  const restored = await page.evaluate(async () => {
    await window.waggleShutdown();
    return console.error === window.pageConsoleError;
  });
  assert.equal(restored, true);
  await page.close();
});

test('an error whose burst is still open when the page goes away is sent with the last flush', async () => {
  const url = `${server.url}/pages/errors/index.html?endpoint=${encodeURIComponent(collector.endpoint)}&leave=1`;
  const { page } = await openPage(browser, url);
  await page.waitForFunction(() => window.waggleStarted && window.scenarios, null, { timeout: 10_000 });
  await page.evaluate(() => { window.scenarios.burst(); });
  await page.waitForFunction(() => window.seen.filter((s) => s.via === 'onerror').length === 20);
  // Well within the burst's one-second tail: only the hide path can send it.
  await page.goto('about:blank');
  const mine = exceptionsOf(url);
  const spans = mine(await collector.waitForSpans((all) => mine(all).length >= 1, 5_000));
  assert.equal(spans.length, 1);
  assert.equal(spans[0].attrs['exception.message'], 'burst');
  assert.equal(spans[0].attrs['waggle.exception.count'], 20);
  await page.close();
});
