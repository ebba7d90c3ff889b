#!/usr/bin/env node
// Plays a short visit to the demo shop in headless Chromium, for
// scripts/demo.sh: loads the page, clicks through it as a shopper would,
// flushes the agent, then waits until the Collector's file holds the page
// load and the backend's spans for those clicks.
//
//   node scripts/demo-driver.mjs --url URL --spans FILE [--timeout-ms N] [--screenshot PNG]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openPage, formatConsole } from '../tests/lib/browser.mjs';
import { readSpansFile } from './print-trace.mjs';

const BACKEND = 'waggle-demo-backend';
const WEB = 'waggle-demo-web';

function parseArgs(argv) {
  const opts = { timeoutMs: 15_000 };
  for (let i = 0; i < argv.length; i++) {
    const [key, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    if (key === '--url') opts.url = value();
    else if (key === '--spans') opts.spans = value();
    else if (key === '--timeout-ms') opts.timeoutMs = Number(value());
    else if (key === '--screenshot') opts.screenshot = value();
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!opts.url || !opts.spans || !(opts.timeoutMs > 0)) {
    throw new Error('usage: node scripts/demo-driver.mjs --url URL --spans FILE [--timeout-ms N] [--screenshot PNG]');
  }
  return opts;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function readSpans(file) {
  try {
    return readSpansFile(file);
  } catch (err) {
    if (err.code === 'ENOENT') return [];
    throw err;
  }
}

/** Waits until the file has the page load joined to the backend, and the backend's API spans. */
async function waitForSpans(file, serverNames, timeoutMs, webNames = []) {
  const until = Date.now() + timeoutMs;
  let spans = [];
  for (;;) {
    spans = readSpans(file);
    const load = spans.find((s) => s.name === 'documentLoad');
    const joined = load && spans.some((s) => s.spanId === load.parentSpanId);
    const names = new Set(spans.filter((s) => s.resource?.['service.name'] === BACKEND).map((s) => s.name));
    const web = new Set(spans.filter((s) => s.resource?.['service.name'] !== BACKEND).map((s) => s.name));
    const missing = [...serverNames.filter((n) => !names.has(n)), ...webNames.filter((n) => !web.has(n))];
    if (joined && missing.length === 0) return { spans, problem: null };
    if (Date.now() > until) {
      const problem = !load
        ? 'no documentLoad span from the page'
        : !joined
          ? `documentLoad's parent ${load.parentSpanId || '(none)'} did not arrive from the backend`
          : `no span named ${missing.join(', ')}`;
      return { spans, problem };
    }
    await sleep(200);
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const log = (msg) => console.log(`  ${msg}`);
  const browser = await launchBrowser();
  try {
    const { page, consoleMessages, pageErrors } = await openPage(browser, opts.url);
    const context = () => formatConsole(consoleMessages, pageErrors);
    log(`opened ${opts.url}`);

    const started = await page
      .waitForFunction(() => window.waggleReady !== undefined || document.body?.dataset.ready === 'true', null, { timeout: 10_000 })
      .then(() => page.evaluate(() => (window.waggleReady ? window.waggleReady.then(() => 'ok', (e) => String(e)) : 'the agent module did not load')));
    if (started !== 'ok') throw new Error(`the agent did not start: ${started}\n${context()}`);
    const meta = await page.evaluate(() => document.querySelector('meta[name="traceparent"]')?.content);
    log(`agent started; the page's parent (meta traceparent) is ${meta || '(none)'}`);

    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 10_000 });
    log(`products listed: ${await page.locator('#products li').count()}`);

    const click = async (selector) => {
      await page.click(selector);
      await page.waitForFunction(() => document.body.dataset.pending === '0', null, { timeout: 10_000 });
      log(`clicked ${selector.padEnd(10)} -> ${await page.textContent('#status')}`);
    };
    await click('#details-2');
    await click('#add-1');
    await click('#add-3');
    await click('#checkout');
    await click('#fail');
    // SPA navigations: two pushState routes (one fetches), then back.
    await click('#nav-orders');
    await click('#nav-about');
    await page.goBack();
    await page.waitForFunction(() => document.body.dataset.pending === '0', null, { timeout: 10_000 });
    log(`went back      -> ${await page.textContent('#status')}`);
    await click('#nav-shop');
    // A bug in a click handler: an exception span under the click.
    await page.click('#break');
    log('clicked #break    -> an uncaught TypeError');

    if (opts.screenshot) {
      await page.screenshot({ path: opts.screenshot, fullPage: true });
      log(`screenshot: ${opts.screenshot}`);
    }
    await page.evaluate(() => window.waggleFlush());
    // Leaving the page sends what is final only then (CLS, INP).
    await page.goto(new URL('/snippet.html', opts.url).href);
    await page.waitForFunction(() => document.body.dataset.agent, null, { timeout: 10_000 });
    log(`snippet page: agent ${await page.evaluate(() => document.body.dataset.agent)}`);
    await page.click('#ping');
    await page.waitForFunction(() => document.getElementById('out').textContent !== '', null, { timeout: 10_000 });
    await page.goto(new URL('/bundled/', opts.url).href);
    await page.evaluate(() => window.waggleReady);
    await page.click('#load');
    await page.waitForFunction(() => document.getElementById('out').textContent !== '', null, { timeout: 10_000 });
    log(`bundled app: ${await page.textContent('#out')}`);
    await page.evaluate(() => new Promise((r) => setTimeout(r, 600)));
    await page.close();
    log('left the pages; waiting for the Collector to write the spans ...');

    const serverNames = ['GET /', 'GET /api/products/<int:product_id>', 'POST /api/checkout', 'GET /api/fail'];
    const webNames = ['documentLoad', 'LCP', 'CLS', 'exception', 'snippet.boot', 'bundled.load_products'];
    const { spans, problem } = await waitForSpans(opts.spans, serverNames, opts.timeoutMs, webNames);
    const count = (svc) => spans.filter((s) => s.resource?.['service.name'] === svc).length;
    log(`${spans.length} spans arrived: ${count(WEB)} from ${WEB}, ${count(BACKEND)} from ${BACKEND}`);
    // The #break button's TypeError is the demo's deliberate bug.
    const unexpected = pageErrors.filter((e) => !/reading 'total'/.test(String(e?.message)));
    if (unexpected.length) console.error(`page errors:\n${formatConsole([], unexpected)}`);
    if (problem) throw new Error(`${problem} after ${opts.timeoutMs} ms\n${context()}`);
  } finally {
    await browser.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await main();
  } catch (err) {
    console.error(`demo driver: ${err.message}`);
    process.exitCode = 1;
  }
}
