// The packed tarball in the bundlers teams use, each with no Waggle
// settings at all: Vite 7 and 8 (dev server and build), esbuild (ESM and
// IIFE), webpack 5, Rollup and a Next.js app. Each app is built from
// tests/apps/bundlers (Next.js: tests/apps/next), served, opened in
// Chromium, and its spans must reach the real Collector. Where a bundler
// cannot emit waggle.wasm by itself (esbuild, Rollup), the test first
// checks that init() names the exact fix, then does what it says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import * as esbuild from 'esbuild';
import { rollup } from 'rollup';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import webpack from 'webpack';

import { launchBrowser, openPage, formatConsole } from '../lib/browser.mjs';
import { startCollector, freePorts } from '../lib/collector.mjs';
import { startServer, REPO_ROOT } from '../lib/server.mjs';
import { startNextApp } from '../lib/next.mjs';

// Inside the repo (ignored by git), so Next.js and the bundlers find the
// repo's node_modules above the apps' own, which hold only the tarball.
const WORK = path.join(REPO_ROOT, 'tests/e2e/.out/bundlers');
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });

let server, collector, browser, installed;

/** A fresh copy of a fixture app, with the packed package installed. */
function app(name, fixture = 'bundlers') {
  const dir = path.join(WORK, name);
  fs.cpSync(path.join(REPO_ROOT, 'tests/apps', fixture), dir, { recursive: true });
  fs.cpSync(installed, path.join(dir, 'node_modules', 'waggle-rum'), { recursive: true });
  return dir;
}

before(async () => {
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  // The package exactly as npm would publish it, installed by npm once.
  const packed = JSON.parse(run('npm', ['pack', path.join(REPO_ROOT, 'pkg'), '--pack-destination', WORK, '--json'], { cwd: WORK }))[0];
  const base = path.join(WORK, 'install');
  fs.mkdirSync(base);
  fs.writeFileSync(path.join(base, 'package.json'), '{"private":true}\n');
  run('npm', ['install', '--no-audit', '--no-fund', '--offline', '--no-package-lock', path.join(WORK, packed.filename)], { cwd: base });
  installed = path.join(base, 'node_modules', 'waggle-rum');

  const mounts = {};
  for (const name of ['esbuild-esm', 'esbuild-iife', 'rollup', 'webpack', 'vite7-build', 'vite8-build']) mounts[`/${name}/`] = path.join(WORK, name, 'dist');
  server = await startServer({ mounts });
  // Every app is on localhost, on a port of its own (the dev servers and
  // Next.js serve themselves).
  collector = await startCollector({ allowedOrigins: ['http://localhost:*'] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await collector?.stop();
  await server?.close();
  if (!process.env.WAGGLE_KEEP_BUNDLERS) fs.rmSync(WORK, { recursive: true, force: true });
});

/** Opens the app at `url` and returns what its main() resolved to. */
async function open(url) {
  const { page, consoleMessages, pageErrors } = await openPage(browser, url);
  try {
    await page.waitForFunction(() => window.appDone !== undefined, null, { timeout: 20_000 });
    const result = await page.evaluate(() => window.appDone);
    return { result, log: formatConsole(consoleMessages, pageErrors), pageErrors };
  } finally {
    await page.close();
  }
}

/** The app at `url` starts the agent and its span reaches the Collector. */
async function works(url, bundler) {
  const { result, log, pageErrors } = await open(`${url}?bundler=${bundler}&endpoint=${encodeURIComponent(collector.endpoint)}`);
  assert.equal(result, 'ok WaggleConfigError serviceName', `${bundler}: ${result}\n${log}`);
  assert.deepEqual(pageErrors, []);
  await collector.waitForSpans((all) => all.some((s) => s.name === 'bundled.work' && s.attrs['app.bundler'] === bundler && s.resource['service.name'] === 'bundlers-example'));
}

/**
 * Without waggle.wasm next to the bundle, init() rejects with a
 * WaggleLoadError that says where to put it; once it is put there, the
 * app works.
 */
async function namesTheFixThenWorks(dir, page, wasmDir, bundler) {
  const url = `${server.url}/${bundler}/${page}`;
  const wasmAt = new URL('waggle.wasm', `${server.url}/${bundler}/${wasmDir}`).href;
  const { result } = await open(`${url}?bundler=${bundler}&endpoint=${encodeURIComponent(collector.endpoint)}`);
  assert.equal(
    result,
    `WaggleLoadError waggle: could not load the agent's WebAssembly module: ${wasmAt} answered 404: ` +
      `copy node_modules/waggle-rum/waggle.wasm next to your bundle (to ${wasmAt}) or pass init({ wasmUrl })`,
  );
  fs.copyFileSync(path.join(dir, 'node_modules/waggle-rum/waggle.wasm'), path.join(dir, 'dist', wasmDir, 'waggle.wasm'));
  await works(url, bundler);
}

const page = (dir, script, type = 'module') =>
  fs.writeFileSync(path.join(dir, 'dist/index.html'), `<!doctype html><meta charset="utf-8"><title>app</title><script ${type ? `type="${type}" ` : ''}src="${script}"></script>\n`);

test('esbuild, ESM output: the wasm copied next to the bundle, as the error says', async () => {
  const dir = app('esbuild-esm');
  await esbuild.build({ absWorkingDir: dir, entryPoints: ['src/main.js'], bundle: true, format: 'esm', minify: true, outfile: 'dist/app.js', logLevel: 'warning' });
  page(dir, './app.js');
  await namesTheFixThenWorks(dir, 'index.html', '', 'esbuild-esm');
});

test('esbuild, IIFE output (import.meta.url empty): the wasm is looked for next to the script', async () => {
  const dir = app('esbuild-iife');
  // import.meta is empty in an IIFE (esbuild says nothing of it inside
  // node_modules): the agent finds its script element instead.
  const { warnings } = await esbuild.build({ absWorkingDir: dir, entryPoints: ['src/main.js'], bundle: true, format: 'iife', minify: true, outfile: 'dist/js/app.js', logLevel: 'silent' });
  assert.deepEqual(warnings, []);
  page(dir, './js/app.js', null);
  await namesTheFixThenWorks(dir, 'index.html', 'js/', 'esbuild-iife');
});

test('Rollup (with node-resolve, as any npm import needs): the wasm copied next to the bundle, as the error says', async () => {
  const dir = app('rollup');
  const bundle = await rollup({ input: path.join(dir, 'src/main.js'), plugins: [nodeResolve({ rootDir: dir })], onwarn: (w) => assert.fail(`rollup: ${w.message}`) });
  await bundle.write({ file: path.join(dir, 'dist/app.js'), format: 'es' });
  await bundle.close();
  page(dir, './app.js');
  await namesTheFixThenWorks(dir, 'index.html', '', 'rollup');
});

test('webpack 5 with no configuration emits the wasm itself', async () => {
  const dir = app('webpack');
  const stats = await new Promise((resolve, reject) =>
    webpack({ mode: 'production', context: dir, entry: './src/main.js', output: { path: path.join(dir, 'dist') } }, (err, s) => (err ? reject(err) : resolve(s))),
  );
  assert.ok(!stats.hasErrors(), stats.toString('errors-only'));
  assert.ok(fs.readdirSync(path.join(dir, 'dist')).some((f) => f.endsWith('.wasm')), 'webpack emitted waggle.wasm');
  page(dir, './main.js', null);
  await works(`${server.url}/webpack/index.html`, 'webpack');
});

for (const [vite, pkg] of [['vite7', 'vite'], ['vite8', 'vite-8']]) {
  test(`${vite === 'vite7' ? 'Vite 7' : 'Vite 8'} build, served from a sub-path, with no configuration`, async () => {
    const { build, version } = await import(pkg);
    assert.equal(version.split('.')[0], vite.slice(4));
    const dir = app(`${vite}-build`);
    await build({ root: dir, configFile: false, base: './', logLevel: 'warn', build: { outDir: 'dist' } });
    await works(`${server.url}/${vite}-build/index.html`, `${vite}-build`);
  });

  test(`${vite === 'vite7' ? 'Vite 7' : 'Vite 8'} dev server (the package pre-bundled into .vite/deps) with no configuration`, async () => {
    const { createServer } = await import(pkg);
    const dir = app(`${vite}-dev`);
    const [port] = await freePorts(1);
    const dev = await createServer({ root: dir, configFile: false, logLevel: 'warn', clearScreen: false, server: { host: '127.0.0.1', port, strictPort: true, hmr: false } });
    try {
      await dev.listen();
      const url = `http://localhost:${port}/`;
      await works(url, `${vite}-dev`);
      assert.ok(fs.existsSync(path.join(dir, 'node_modules/.vite/deps/waggle-rum.js')), 'Vite pre-bundled waggle-rum');
    } finally {
      await dev.close();
    }
  });

  // Vite 8 rewrites the wasm's URL in the pre-bundled module itself; Vite 7
  // leaves it pointing into the deps folder, where the agent looks past it
  // unless the cache is elsewhere.
  if (vite === 'vite7') test("Vite 7 dev server where the package's own wasm cannot be found (another cacheDir): the error names the vite.config line, which works", async () => {
    const { createServer } = await import(pkg);
    const dir = app(`${vite}-dev-cache`);
    const [port] = await freePorts(1);
    const start = (config) => createServer({ root: dir, configFile: false, logLevel: 'error', clearScreen: false, cacheDir: 'node_modules/.cache/vite', server: { host: '127.0.0.1', port, strictPort: true, hmr: false }, ...config });
    let dev = await start({});
    try {
      await dev.listen();
      const { result } = await open(`http://localhost:${port}/?endpoint=${encodeURIComponent(collector.endpoint)}`);
      assert.equal(
        result,
        `WaggleLoadError waggle: could not load the agent's WebAssembly module: http://localhost:${port}/node_modules/.cache/vite/deps/waggle.wasm ` +
          "is not the agent's WebAssembly module (it answered text/html): Vite pre-bundled waggle-rum without waggle.wasm: " +
          "add optimizeDeps: { exclude: ['waggle-rum'] } to vite.config",
      );
    } finally {
      await dev.close();
    }
    dev = await start({ optimizeDeps: { exclude: ['waggle-rum'] } });
    try {
      await dev.listen();
      await works(`http://localhost:${port}/`, `${vite}-dev-cache`);
    } finally {
      await dev.close();
    }
  });
}

test('Next.js: the agent started in a client component; server rendering imports it safely', { timeout: 300_000 }, async () => {
  const dir = app('next', 'next');
  const logFile = path.join(WORK, 'next.log');
  const { port, proc } = await startNextApp(dir, logFile);
  try {
    // Server-rendered: the page's HTML comes from the server, with the
    // client component's module evaluated there.
    const html = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    assert.match(html, /<h1>Next\.js app<\/h1>/);
    const { result, log, pageErrors } = await open(`http://localhost:${port}/?endpoint=${encodeURIComponent(collector.endpoint)}`);
    assert.equal(result, 'ok', log);
    assert.deepEqual(pageErrors, []);
    await collector.waitForSpans((all) => all.some((s) => s.name === 'bundled.work' && s.attrs['app.bundler'] === 'next'));
    assert.doesNotMatch(fs.readFileSync(logFile, 'utf8'), /error|waggle/i, 'next start logged nothing about the agent');
  } finally {
    await proc.stop();
  }
});
