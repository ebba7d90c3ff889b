// What `make package` ships (scripts/package.sh): the npm tarball with its
// README, LICENSE and metadata, and the versioned CDN folder whose snippet
// runs on a page with a strict Content Security Policy, loading the agent
// from another origin with Subresource Integrity. And the package README's
// minimal Collector config, run as written, receives the agent's gzipped
// spans.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { launchBrowser, openPage, formatConsole } from '../lib/browser.mjs';
import { startCollector } from '../lib/collector.mjs';
import { startServer, REPO_ROOT } from '../lib/server.mjs';

const version = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'js/package.json'), 'utf8')).version;
let work, server, collector, browser, cdnBase, printed, csp;

// The page's own script: what a team adds after the snippet (a file, so
// that the CSP needs no hash for it).
const APP = `const params = new URLSearchParams(location.search);
window.started = waggle.init({ serviceName: 'cdn-example', endpoint: params.get('endpoint'), batch: { scheduledDelayMillis: 50 } });
waggle.startSpan('cdn.work', { 'app.run': params.get('run') }).end();
window.flushed = waggle.flush();
`;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'waggle-package-'));
  const dist = path.join(work, 'dist');
  const page = (req, res) => {
    const url = new URL(req.url, 'http://x');
    const snippet = fs.readFileSync(path.join(dist, 'cdn/waggle-rum', version, 'snippet.html'), 'utf8');
    // Exactly what README says the page needs, and nothing more.
    const policy = [
      `script-src 'self' '${csp}' ${new URL(cdnBase).origin} 'wasm-unsafe-eval'`,
      `connect-src ${new URL(url.searchParams.get('endpoint')).origin} ${new URL(cdnBase).origin}`,
    ].join('; ');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': policy });
    res.end(`<!doctype html><html><head><meta charset="utf-8"><title>CDN page</title>\n${snippet}<script src="/app.js"></script>\n</head><body><h1>CDN page</h1></body></html>`);
  };
  const app = (req, res) => {
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
    res.end(APP);
  };
  // The CDN is the same server under another origin (127.0.0.1 rather
  // than localhost), answering CORS as a CDN does.
  server = await startServer({
    mounts: { '/cdn/': path.join(dist, 'cdn') },
    routes: { '/page.html': page, '/app.js': app },
    headers: (p) => (p.startsWith('/cdn/') ? { 'Access-Control-Allow-Origin': '*' } : undefined),
  });
  cdnBase = `http://127.0.0.1:${server.port}/cdn/waggle-rum`;
  printed = execFileSync('bash', [path.join(REPO_ROOT, 'scripts/package.sh')], {
    cwd: REPO_ROOT,
    env: { ...process.env, WAGGLE_DIST: dist, WAGGLE_CDN_BASE: cdnBase },
    encoding: 'utf8',
  });
  csp = printed.match(/script-src '(sha256-[^']+)'/)?.[1];
  collector = await startCollector({ allowedOrigins: [server.origin] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await collector?.stop();
  await server?.close();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const sri = (file) => `sha384-${crypto.createHash('sha384').update(fs.readFileSync(file)).digest('base64')}`;

test('make package: the tarball holds the package README, the LICENSE and the metadata; the CDN folder is versioned; the hashes are printed', () => {
  const dist = path.join(work, 'dist');
  const tarball = path.join(dist, `waggle-rum-${version}.tgz`);
  assert.ok(fs.existsSync(tarball), printed);
  const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
  assert.deepEqual(
    files,
    ['LICENSE', 'README.md', 'index.d.ts', 'index.js', 'index.js.map', 'next.d.ts', 'next.js', 'package.json', 'react-router.d.ts', 'react-router.js', 'snippet.d.ts', 'snippet.html', 'vue-router.d.ts', 'vue-router.js', 'waggle.snippet.js', 'waggle.wasm'].map((f) => `package/${f}`),
  );
  const read = (f) => execFileSync('tar', ['xzOf', tarball, `package/${f}`], { encoding: 'utf8' });
  assert.equal(read('README.md'), fs.readFileSync(path.join(REPO_ROOT, 'js/README.md'), 'utf8'));
  assert.match(read('LICENSE'), /Apache License\s+Version 2\.0, January 2004/);
  assert.match(read('LICENSE'), /END OF TERMS AND CONDITIONS/);
  const pkg = JSON.parse(read('package.json'));
  assert.equal(pkg.license, 'Apache-2.0');
  assert.match(pkg.repository.url, /github\.com\/waggle-rum\/waggle/);
  assert.ok(pkg.homepage && pkg.engines?.node && pkg.keywords.includes('opentelemetry'));

  const cdn = path.join(dist, 'cdn/waggle-rum', version);
  assert.deepEqual(fs.readdirSync(cdn).sort(), ['snippet.html', 'waggle.snippet.js', 'waggle.wasm']);
  assert.ok(printed.includes(sri(path.join(cdn, 'waggle.snippet.js'))), printed);
  assert.ok(printed.includes(sri(path.join(cdn, 'waggle.wasm'))), printed);
  // The snippet loads the versioned folder, and the CSP hash printed is
  // its inline script's.
  const html = fs.readFileSync(path.join(cdn, 'snippet.html'), 'utf8');
  assert.ok(html.includes(`"${cdnBase}/${version}/waggle.snippet.js"`));
  const inline = html.match(/<script>([\s\S]*)<\/script>/)[1];
  assert.equal(csp, `sha256-${crypto.createHash('sha256').update(inline).digest('base64')}`);
  assert.ok(html.startsWith(`<!-- Waggle ${version}: `) && html.includes(`'${csp}'`));
});

test('the CDN snippet runs under the strict CSP README gives, loading the agent from another origin with SRI', async () => {
  const url = `${server.url}/page.html?run=cdn&endpoint=${encodeURIComponent(collector.endpoint)}`;
  const { page, consoleMessages, pageErrors } = await openPage(browser, url);
  const log = () => formatConsole(consoleMessages, pageErrors);
  assert.equal(await page.evaluate(() => window.started), true, log());
  assert.equal(await page.evaluate(() => window.flushed), true, log());
  await collector.waitForSpans((all) => all.some((s) => s.name === 'cdn.work' && s.attrs['app.run'] === 'cdn'));
  await collector.waitForSpans((all) => all.some((s) => s.name === 'documentLoad' && s.resource['service.name'] === 'cdn-example'));
  assert.deepEqual(consoleMessages.filter((m) => /Content Security Policy|integrity|waggle/i.test(m.text)), [], log());
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('a changed waggle.wasm on the CDN is refused (SRI): init resolves false and the page goes on', async () => {
  const url = `${server.url}/page.html?run=tampered&endpoint=${encodeURIComponent(collector.endpoint)}`;
  const { page, context, consoleMessages, pageErrors } = await openPage(browser, null);
  const wasm = fs.readFileSync(path.join(REPO_ROOT, 'pkg/waggle.wasm'));
  await context.route('**/waggle.wasm', (route) =>
    route.fulfill({ status: 200, body: Buffer.concat([wasm, Buffer.from([0])]), headers: { 'content-type': 'application/wasm', 'access-control-allow-origin': '*' } }),
  );
  await page.goto(url);
  assert.equal(await page.evaluate(() => window.started), false, formatConsole(consoleMessages, pageErrors));
  assert.equal(await page.evaluate(() => window.flushed), false);
  assert.ok(consoleMessages.some((m) => m.type === 'error' && /^waggle: could not load the agent's WebAssembly module/.test(m.text)), formatConsole(consoleMessages));
  assert.deepEqual(pageErrors, []);
  await page.close();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(collector.spans().filter((s) => s.attrs['app.run'] === 'tampered').length, 0);
});

test("the package README's minimal Collector config, as written, receives the agent's gzipped spans", async () => {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'js/README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The Collector'));
  const yaml = section.match(/```yaml\n([\s\S]*?)```/)[1];
  const dir = path.join(work, 'readme-collector');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'readme.yaml'), yaml);
  // Only what a test must move: the address, the page's origin, where the
  // spans are written, and a health check to wait on. The rest (CORS
  // headers, pipeline) is the README's. Lists replace, maps merge.
  fs.writeFileSync(
    path.join(dir, 'test.yaml'),
    `extensions:
  health_check:
    endpoint: \${env:WAGGLE_HEALTH_ENDPOINT}
receivers:
  otlp:
    protocols:
      http:
        endpoint: \${env:WAGGLE_OTLP_HTTP_ENDPOINT}
        cors:
          allowed_origins: ["\${env:WAGGLE_ALLOWED_ORIGIN}"]
exporters:
  file:
    path: \${env:WAGGLE_OTLP_FILE}
    format: json
    flush_interval: 100ms
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      exporters: [debug, file]
`,
  );
  const readmeCollector = await startCollector({ allowedOrigins: [server.origin], config: [path.join(dir, 'readme.yaml'), path.join(dir, 'test.yaml')] });
  try {
    const url = `${server.url}/page.html?run=readme-collector&endpoint=${encodeURIComponent(readmeCollector.endpoint)}`;
    const { page, consoleMessages, pageErrors } = await openPage(browser, url);
    assert.equal(await page.evaluate(() => window.started), true, formatConsole(consoleMessages, pageErrors));
    assert.equal(await page.evaluate(() => window.flushed), true);
    await readmeCollector.waitForSpans((all) => all.some((s) => s.name === 'cdn.work' && s.attrs['app.run'] === 'readme-collector'));
    // Gzip was accepted: the agent says so once when it is refused.
    assert.deepEqual(consoleMessages.filter((m) => /waggle|CORS/i.test(m.text)), [], formatConsole(consoleMessages));
    await page.close();
  } finally {
    await readmeCollector.stop();
  }
});
