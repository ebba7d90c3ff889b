// Readable stacks: an app bundled and minified by esbuild with source maps
// throws from a named function in its original source; the agent sends
// the minified frames as exception.structured_stacktrace.*, and the real
// Collector's sourcemap processor maps them back, from a folder or from a
// URL prefix, keeping the minified frames under .original; the Honeycomb
// relay does the same when given maps. A script without a map keeps its
// frames as they came, and the span says why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';

import { startStack, PAGE_MOUNTS } from '../lib/stack.mjs';
import { startCollector, summarizeSpans } from '../lib/collector.mjs';
import { startStandin } from '../lib/standin.mjs';
import { REPO_ROOT } from '../lib/server.mjs';
import { openPage, formatConsole } from '../lib/browser.mjs';

// The deploy: root/app is what the server serves under /app/ (the page,
// the bundles and their maps); root is the folder the Collector is given,
// laid out as the URLs are. maps/ holds only the maps, served under /maps/
// for the URL case.
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'waggle-symbolication-'));
const ROOT = path.join(WORK, 'root');
const APP = path.join(ROOT, 'app');
const MAPS = path.join(WORK, 'maps');

const SOURCES = {
  'src/explode.js': `// The function the error comes from.
export function explode(reason) {
  const detail = { reason, when: 'now' };
  throw new Error('exploded: ' + detail.reason);
}
`,
  'src/app.js': `// The page's code: a click handler that calls explode().
import { explode } from './explode.js';

function handleClick(event) {
  const kind = event.type;
  return explode('clicked ' + kind);
}

function handleVendorClick() {
  return globalThis.vendorCall(() => explode('through the vendor'));
}

document.getElementById('throw').addEventListener('click', handleClick);
document.getElementById('vendor').addEventListener('click', handleVendorClick);
`,
  // A third-party script deployed without a map.
  'vendor/plain.js': `globalThis.vendorCall = function vendorCall(callback) {
  const result = callback();
  return result;
};
`,
  'index.html': `<!doctype html>
<html>
<head>
  <meta charset="utf-8">
  <title>Readable stacks</title>
  <script type="module">
    const params = new URLSearchParams(location.search);
    const { init } = await import('/pkg/index.js');
    init({ serviceName: 'symbolication-test', endpoint: params.get('endpoint'), batch: { scheduledDelayMillis: 50 } })
      .then(() => { window.waggleStarted = true; }, (err) => { window.waggleError = String(err); });
  </script>
  <script src="dist/plain.min.js"></script>
  <script src="dist/app.min.js" defer></script>
</head>
<body>
  <button id="throw" type="button">Throw</button>
  <button id="vendor" type="button">Throw through a vendor script</button>
</body>
</html>
`,
};

/** 1-based line and column where `needle` starts in the source `file`. */
function where(file, needle) {
  const lines = SOURCES[file].split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `${needle} in ${file}`);
  return { line: i + 1, column: lines[i].indexOf(needle) + 1 };
}

let stack, server, folderCollector, urlCollector, browser, minified;

before(async () => {
  for (const [name, text] of Object.entries(SOURCES)) {
    fs.mkdirSync(path.dirname(path.join(APP, name)), { recursive: true });
    fs.writeFileSync(path.join(APP, name), text);
  }
  await esbuild.build({
    absWorkingDir: APP, entryPoints: ['src/app.js'], bundle: true, format: 'iife', minify: true,
    sourcemap: true, sourcesContent: true, outfile: 'dist/app.min.js', logLevel: 'warning',
  });
  await esbuild.build({
    absWorkingDir: APP, entryPoints: ['vendor/plain.js'], minify: true, outfile: 'dist/plain.min.js', logLevel: 'warning',
  });
  minified = fs.readFileSync(path.join(APP, 'dist/app.min.js'), 'utf8');
  fs.mkdirSync(path.join(MAPS, 'app/dist'), { recursive: true });
  fs.copyFileSync(path.join(APP, 'dist/app.min.js.map'), path.join(MAPS, 'app/dist/app.min.js.map'));

  const mounts = { ...PAGE_MOUNTS, '/app/': APP, '/maps/': MAPS };
  ({ server, collector: folderCollector, browser } = stack = await startStack({ mounts, collector: { sourceMaps: { folder: ROOT } } }));
  urlCollector = await startCollector({
    allowedOrigins: [server.origin],
    sourceMaps: { url: `http://127.0.0.1:${server.port}/maps/` },
  });
});

after(async () => {
  await urlCollector?.stop();
  await stack?.stop();
  fs.rmSync(WORK, { recursive: true, force: true });
});

/**
 * Clicks `button` on the app's page sending to `collector`; the exception
 * span with `message`, as `receiver` (the collector's file, or the
 * relay's stand-in for Honeycomb) has it.
 */
async function exceptionFrom(collector, button, message, receiver = collector) {
  const url = `${server.url}/app/index.html?endpoint=${encodeURIComponent(collector.endpoint)}`;
  const { page, consoleMessages, pageErrors } = await openPage(browser, url);
  await page.waitForFunction(() => window.waggleStarted || window.waggleError, null, { timeout: 10_000 });
  assert.equal(await page.evaluate(() => window.waggleError), undefined);
  await page.click(button);
  const mine = (all) => all.filter((s) => s.name === 'exception' && s.attrs['browser.document.url.full'] === url && s.attrs['exception.message'] === message);
  const spans = mine(await receiver.waitForSpans((all) => mine(all).length > 0, 10_000).catch((err) => {
    throw new Error(`${err.message}\n${formatConsole(consoleMessages, pageErrors)}`);
  }));
  await page.close();
  assert.equal(spans.length, 1, summarizeSpans(spans));
  return spans[0];
}

const frames = (attrs, suffix = '') => {
  const get = (k) => attrs[`exception.structured_stacktrace.${k}${suffix}`];
  const urls = get('urls');
  assert.ok(Array.isArray(urls), `exception.structured_stacktrace.urls${suffix} in ${JSON.stringify(attrs, null, 1)}`);
  for (const k of ['lines', 'columns', 'functions']) assert.equal(get(k)?.length, urls.length, `${k}${suffix} has one element per frame`);
  return urls.map((url, i) => ({ url, line: get('lines')[i], column: get('columns')[i], function: get('functions')[i] }));
};

// What both sources must give for the click on #throw.
function assertReadable(span) {
  const a = span.attrs;
  const script = `${server.url}/app/dist/app.min.js`;
  const [top, caller] = frames(a);
  const thrown = where('src/explode.js', 'new Error');
  assert.deepEqual(top, { url: '/app/src/explode.js', ...thrown, function: 'explode' });
  const called = where('src/app.js', "explode('clicked ");
  assert.deepEqual(caller, { url: '/app/src/app.js', ...called, function: 'HTMLButtonElement.handleClick' });

  // The minified frames, as the browser reported them, are kept.
  const [rawTop, rawCaller] = frames(a, '.original');
  assert.equal(rawTop.url, script);
  assert.equal(rawTop.line, 1);
  assert.ok(minified.split('\n')[0].slice(rawTop.column - 1).startsWith('new Error'), `column ${rawTop.column} of the bundle is the throw`);
  assert.notEqual(rawTop.function, 'explode', 'the engine saw the minified name');
  assert.equal(rawCaller.url, script);
  assert.match(rawCaller.function, /^HTMLButtonElement\./);
  assert.notEqual(rawCaller.function, 'HTMLButtonElement.handleClick');

  assert.equal(a['exception.symbolicator.failed'], false);
  assert.equal(a['exception.symbolicator.error'], undefined);
  const readable = `Error: exploded: clicked click\n    at explode (/app/src/explode.js:${thrown.line}:${thrown.column})\n    at HTMLButtonElement.handleClick (/app/src/app.js:${called.line}:${called.column})`;
  assert.ok(a['exception.stacktrace'].startsWith(readable), a['exception.stacktrace']);
  assert.match(a['exception.stacktrace.original'], /^Error: exploded: clicked click\n\s+at \S+ \(http:\/\/localhost:\d+\/app\/dist\/app\.min\.js:1:\d+\)/);
  // The exception event reads the same as its span.
  const event = span.events.find((e) => e.name === 'exception');
  assert.equal(event.attrs['exception.stacktrace'], a['exception.stacktrace']);
  assert.equal(event.attrs['exception.stacktrace.original'], a['exception.stacktrace.original']);
}

test('maps from the Collector\'s folder give the original file, line, column and function of each frame', async () => {
  assertReadable(await exceptionFrom(folderCollector, '#throw', 'exploded: clicked click'));
});

test('maps fetched under a URL prefix give the same', async () => {
  assertReadable(await exceptionFrom(urlCollector, '#throw', 'exploded: clicked click'));
});

test('the Honeycomb relay, given maps, sends Honeycomb the same', async () => {
  const standin = await startStandin();
  let relay;
  try {
    relay = await startCollector({
      command: ['bash', path.join(REPO_ROOT, 'scripts', 'collector-honeycomb.sh')],
      sourceMaps: { folder: ROOT },
      env: {
        HONEYCOMB_API_KEY: 'test-key',
        HONEYCOMB_ENDPOINT: standin.endpoint,
        HONEYCOMB_INSECURE: 'true',
        HONEYCOMB_DATASET: '',
        WAGGLE_ALLOWED_ORIGINS: JSON.stringify([server.origin]),
      },
    });
    assertReadable(await exceptionFrom(relay, '#throw', 'exploded: clicked click', standin));
  } finally {
    await relay?.stop();
    await standin.stop();
  }
});

test('a frame in a script without a map stays as the browser reported it, and the span says why', async () => {
  const span = await exceptionFrom(folderCollector, '#vendor', 'exploded: through the vendor');
  const a = span.attrs;
  const mapped = frames(a);
  const raw = frames(a, '.original');
  const vendor = `${server.url}/app/dist/plain.min.js`;
  const i = raw.findIndex((f) => f.url === vendor);
  assert.ok(i > 0, JSON.stringify(raw));
  assert.deepEqual(mapped[i], raw[i]);
  // The frames around it are mapped still.
  assert.deepEqual(mapped[0], { url: '/app/src/explode.js', ...where('src/explode.js', 'new Error'), function: 'explode' });
  assert.equal(mapped[i + 1].url, '/app/src/app.js');
  assert.equal(mapped[i + 1].function, 'HTMLButtonElement.handleVendorClick');
  assert.equal(a['exception.symbolicator.failed'], true);
  assert.match(a['exception.symbolicator.error'], /no source map for \/app\/dist\/plain\.min\.js/);
  assert.ok(a['exception.stacktrace'].includes(`(${vendor}:${raw[i].line}:${raw[i].column})`), a['exception.stacktrace']);
});
