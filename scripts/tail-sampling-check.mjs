#!/usr/bin/env node
// Runs the two tiers of docs/deployment.md ("Tail sampling") on loopback:
// a gateway (collector-config/honeycomb.yaml + deploy/tail-sampling/tier1.yaml)
// routing by trace id to a sampler (deploy/tail-sampling/tier2.yaml) that
// exports to the stand-in for Honeycomb. Checks that a trace with an error
// arrives whole, an ordinary one is dropped (WAGGLE_KEEP_PERCENT=0), and
// scrubbing happened in the first tier.
//
//   node scripts/tail-sampling-check.mjs      (make sampling-check)
//
// Builds the Collector of deploy/tail-sampling/manifest.yaml the first time
// (several minutes); WAGGLE_SAMPLING_OTELCOL=/path/to/otelcol-contrib uses
// a Collector you already have.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { startCollector, freePorts } from '../tests/lib/collector.mjs';
import { startStandin } from '../tests/lib/standin.mjs';
import { REPO_ROOT } from '../tests/lib/server.mjs';

const at = (...p) => path.join(REPO_ROOT, ...p);
const bin =
  process.env.WAGGLE_SAMPLING_OTELCOL ??
  execFileSync('bash', [at('scripts', 'collector.sh'), at('deploy', 'tail-sampling', 'manifest.yaml')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .trim()
    .split('\n')
    .pop();
const hex = (n) => crypto.randomBytes(n).toString('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const standin = await startStandin();
const [samplerPort] = await freePorts(1);
let gateway;
let sampler;
let failed = false;
try {
  sampler = await startCollector({
    command: [bin, '--config', at('deploy', 'tail-sampling', 'tier2.yaml')],
    env: {
      HONEYCOMB_API_KEY: 'sampler-key',
      HONEYCOMB_ENDPOINT: standin.endpoint,
      HONEYCOMB_INSECURE: 'true',
      WAGGLE_SAMPLER_LISTEN: `127.0.0.1:${samplerPort}`,
      WAGGLE_KEEP_PERCENT: '0',
      WAGGLE_DECISION_WAIT: '2s',
      WAGGLE_MEMORY_LIMIT_MIB: '512',
      WAGGLE_MEMORY_SPIKE_MIB: '100',
    },
  });
  gateway = await startCollector({
    command: [bin, '--config', at('collector-config', 'honeycomb.yaml'), '--config', at('deploy', 'tail-sampling', 'tier1.yaml')],
    env: {
      HONEYCOMB_API_KEY: 'unused-in-tier-1',
      WAGGLE_ALLOWED_ORIGINS: '["http://localhost:8080"]',
      WAGGLE_SAMPLER_HOST: 'localhost',
      WAGGLE_SAMPLER_PORT: String(samplerPort),
    },
  });

  const errorTrace = hex(16);
  const okTrace = hex(16);
  const now = BigInt(Date.now()) * 1_000_000n;
  const span = (traceId, name, code) => ({
    traceId,
    spanId: hex(8),
    name,
    kind: 1,
    startTimeUnixNano: String(now),
    endTimeUnixNano: String(now + 100_000_000n),
    status: { code },
    attributes: [{ key: 'user.email', value: { stringValue: 'jane@example.com' } }],
  });
  const post = (spans) =>
    fetch(gateway.tracesUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'sampling-check' } }] }, scopeSpans: [{ spans }] }],
      }),
    }).then((r) => r.status);
  // A trace's spans in two requests, as a page load and a later call would send them.
  const statuses = [
    await post([span(errorTrace, 'documentLoad', 0), span(okTrace, 'documentLoad', 0)]),
    await post([span(errorTrace, 'HTTP POST', 2), span(okTrace, 'HTTP GET', 0)]),
  ];
  const until = Date.now() + 20_000;
  while (standin.spans().length < 2 && Date.now() < until) await sleep(200);
  await sleep(3000); // a late, wrong decision would show by now
  const got = standin.spans();
  const checks = [
    ['the gateway accepted both bodies', statuses.every((s) => s === 200), statuses.join(', ')],
    ['the error trace arrived whole', got.filter((s) => s.traceId === errorTrace).length === 2, ''],
    ['the ordinary trace was dropped', !got.some((s) => s.traceId === okTrace), ''],
    ['user.email was scrubbed in tier 1', got.every((s) => !('user.email' in s.attrs)), ''],
    ['the sampler sent its key', got.every((s) => s.metadata['x-honeycomb-team'] === 'sampler-key'), ''],
  ];
  for (const [what, ok, detail] of checks) {
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? ` (${detail})` : ''}`);
    if (!ok) failed = true;
  }
  if (failed) console.log(`arrived: ${JSON.stringify(got.map((s) => [s.traceId, s.name]))}\n--- gateway log ---\n${gateway.logTail(10)}\n--- sampler log ---\n${sampler.logTail(10)}`);
} finally {
  await gateway?.stop();
  await sampler?.stop();
  await standin.stop();
}
process.exit(failed ? 1 : 0);
