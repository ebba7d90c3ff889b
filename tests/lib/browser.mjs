// Headless Chromium for the end-to-end tests.
//
// Always the distribution's Chromium: playwright-core never downloads a
// browser of its own, and the machines that run these tests cannot fetch one.
import assert from 'node:assert/strict';

import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.WAGGLE_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  // Runs as root in containers, where the sandbox cannot start.
  '--no-sandbox',
  '--disable-gpu',
  // QUIC and the background services would make requests to the outside,
  // which the test machines cannot reach and the tests must not depend on.
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Containers often have a tiny /dev/shm; Chromium crashes tabs otherwise.
  '--disable-dev-shm-usage',
];

/** @returns {Promise<import('playwright-core').Browser>} */
export async function launchBrowser({ args = [], ...rest } = {}) {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, ...args],
    ...rest,
  });
}

/**
 * Opens `url` in a fresh context, so pages never share storage or a session.
 * Console output and uncaught errors are collected from before the first
 * script runs, so a failing test can print what the page said.
 *
 * @param {import('playwright-core').Browser} browser
 * @param {string} url
 * @param {object} [opts]
 * @param {object} [opts.context] options for browser.newContext()
 * @param {object} [opts.goto] options for page.goto()
 */
export async function openPage(browser, url, { context: contextOptions = {}, goto = {} } = {}) {
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  const consoleMessages = [];
  const pageErrors = [];
  page.on('console', (msg) => {
    consoleMessages.push({ type: msg.type(), text: msg.text() });
  });
  page.on('pageerror', (err) => {
    pageErrors.push(err);
  });
  // The page's context goes with the page, so closing the page is enough.
  page.once('close', () => {
    context.close().catch(() => {});
  });
  if (url) await page.goto(url, goto);
  return { page, context, consoleMessages, pageErrors };
}

/** One line per message, for assertion messages. */
export function formatConsole(consoleMessages, pageErrors = []) {
  return [
    ...consoleMessages.map((m) => `[${m.type}] ${m.text}`),
    ...pageErrors.map((e) => `[pageerror] ${e?.stack ?? e}`),
  ].join('\n');
}

let runs = 0;

/**
 * Opens a page of the agent for one run of a test: `urlOf(run)` is its URL,
 * which must carry `run=<run>&` so the spans of that page (their
 * `browser.document.url.full`) can be told from every other page's. Waits
 * for `init` to resolve (window.waggleStarted) and fails on its error
 * (window.waggleError). Returns openPage's result with `run`, `spans()` and
 * `waitFor(pred)` over that page's spans in `collector`, and `context()`
 * (the page's console, for failure messages).
 */
export async function openRun(browser, collector, urlOf) {
  const run = `r${++runs}`;
  const opened = await openPage(browser, urlOf(run));
  await opened.page.waitForFunction(() => window.waggleStarted || window.waggleError, null, { timeout: 10_000 });
  assert.equal(await opened.page.evaluate(() => window.waggleError), undefined);
  const mine = (s) => String(s.attrs['browser.document.url.full'] ?? '').includes(`run=${run}&`);
  return {
    ...opened,
    run,
    spans: () => collector.spans().filter(mine),
    waitFor: async (pred) => (await collector.waitForSpans((all) => pred(all.filter(mine)))).filter(mine),
    context: () => formatConsole(opened.consoleMessages, opened.pageErrors),
  };
}
