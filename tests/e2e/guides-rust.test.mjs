// docs/guides.md's Rust service (tests/guides/rust, whose build.rs takes
// the guide's ```rust block as its main.rs), run against the real
// Collector: its page's <meta name="traceparent"> names the request's
// SERVER span as the opentelemetry SDK exported it over OTLP. Its first
// build (axum, tokio, the OpenTelemetry crates) takes about a minute on two
// cores once the crates are downloaded; later runs reuse target/guide-rust.
import { test, before, after } from 'node:test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startCollector, freePorts } from '../lib/collector.mjs';
import { REPO_ROOT } from '../lib/server.mjs';
import { spawnLogged, tailFile, waitHealthy } from '../lib/process.mjs';
import { metaNamesServerSpan } from '../lib/guides.mjs';

const CRATE = path.join(REPO_ROOT, 'tests/guides/rust');
const TARGET = path.join(REPO_ROOT, 'target/guide-rust');
let collector, work;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'waggle-guide-rust-'));
  collector = await startCollector();
});

after(async () => {
  await collector?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test("Rust (axum, opentelemetry): the guide's page names the request's SERVER span", { timeout: 900_000 }, async () => {
  execFileSync('cargo', ['build', '--quiet', '--locked', '--target-dir', TARGET], { cwd: CRATE, stdio: 'inherit' });
  const [port] = await freePorts(1);
  const logFile = path.join(work, 'rust.log');
  const proc = spawnLogged(path.join(TARGET, 'debug', 'waggle-guide-rust'), [], {
    cwd: work,
    logFile,
    env: { ...process.env, LISTEN: `127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' },
  });
  try {
    const failure = (m) => new Error(`${m}\n--- log ---\n${tailFile(logFile)}`);
    await waitHealthy(proc, `http://127.0.0.1:${port}/`, { what: 'the Rust service', timeoutMs: 20_000, failure });
    await metaNamesServerSpan(`http://127.0.0.1:${port}/`, collector, 'shop-backend');
  } finally {
    await proc.stop();
  }
});
