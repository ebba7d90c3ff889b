// docs/guides.md's backend examples, run as the guide shows them against
// the real Collector: each renders <meta name="traceparent"> naming the
// request's SERVER span, as that language's OpenTelemetry SDK exported it.
// The Flask and Express code is extracted from the guide; the Rust one is
// guides-rust.test.mjs, beside this file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startCollector, freePorts } from '../lib/collector.mjs';
import { backendPython } from '../lib/backend.mjs';
import { REPO_ROOT } from '../lib/server.mjs';
import { spawnLogged, tailFile, waitHealthy } from '../lib/process.mjs';
import { codeBlocks, metaNamesServerSpan, SPAN_KIND } from '../lib/guides.mjs';

let collector, work;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'waggle-guides-'));
  collector = await startCollector();
});

after(async () => {
  await collector?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** Runs a service until `fn` is done with it; its log is shown on failure. */
async function serve(name, command, args, { cwd, env }, fn) {
  const [port] = await freePorts(1);
  const logFile = path.join(work, `${name}.log`);
  const proc = spawnLogged(command, args, {
    cwd,
    logFile,
    env: { ...process.env, PORT: String(port), OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100', ...env },
  });
  const failure = (m) => new Error(`${m}\n--- ${name} log ---\n${tailFile(logFile)}`);
  try {
    await waitHealthy(proc, `http://127.0.0.1:${port}/`, { what: name, timeoutMs: 20_000, failure });
    await fn(`http://127.0.0.1:${port}/`);
  } catch (err) {
    err.message += `\n--- ${name} log ---\n${tailFile(logFile)}`;
    throw err;
  } finally {
    await proc.stop();
  }
}

test("Flask: the guide's page names the request's SERVER span", async () => {
  const [code] = codeBlocks('Flask').filter((b) => b.lang === 'python');
  fs.writeFileSync(path.join(work, 'flask_app.py'), code.code);
  await serve('flask', backendPython(), [path.join(REPO_ROOT, 'tests/guides/flask_guide.py'), path.join(work, 'flask_app.py')], { cwd: work, env: {} }, async (url) => {
    await metaNamesServerSpan(url, collector, 'guide-flask');
  });
});

test("Express: the guide's page names the HTTP SERVER span, not Express's INTERNAL handler span", async () => {
  const [tracing, server] = codeBlocks('Express').filter((b) => b.lang === 'js');
  const dir = path.join(work, 'express');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'tracing.js'), tracing.code);
  fs.writeFileSync(path.join(dir, 'server.js'), server.code);
  // CommonJS, as the guide's files are, with the repo's pinned packages.
  fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true,"type":"commonjs"}\n');
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const env = { OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', OTEL_TRACES_EXPORTER: 'otlp' };
  await serve('express', process.execPath, ['--require', './tracing.js', 'server.js'], { cwd: dir, env }, async (url) => {
    const { server: span, trace } = await metaNamesServerSpan(url, collector, 'shop-backend');
    // What trace.getActiveSpan() would have named: the handler's span,
    // a child of the SERVER span.
    const handler = await collector.waitForSpans((all) => all.some((s) => s.traceId === span.traceId && s.kind === SPAN_KIND.INTERNAL));
    const internal = handler.find((s) => s.traceId === span.traceId && s.kind === SPAN_KIND.INTERNAL && s.name.startsWith('request handler'));
    assert.ok(internal, trace.map((s) => s.name).join(', '));
    assert.equal(internal.parentSpanId, span.spanId);
  });
});
