// A Next.js app as a user runs it: `next build`, then `next start` on a
// free port, healthy before the test goes on.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import assert from 'node:assert/strict';

import { freePorts } from './collector.mjs';
import { spawnLogged, tailFile, waitHealthy } from './process.mjs';
import { REPO_ROOT } from './server.mjs';

/**
 * Builds the app in `dir` and starts it; `next start` logs to `logFile`.
 * @returns {Promise<{ port: number, proc: { stop(): Promise<object> } }>}
 */
export async function startNextApp(dir, logFile) {
  const next = path.join(REPO_ROOT, 'node_modules/next/dist/bin/next');
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
  try {
    execFileSync(process.execPath, [next, 'build', dir], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    assert.fail(`next build failed:\n${err.stdout}\n${err.stderr}`);
  }
  const [port] = await freePorts(1);
  const proc = spawnLogged(process.execPath, [next, 'start', dir, '-p', String(port), '-H', '127.0.0.1'], { cwd: dir, env, logFile });
  try {
    await waitHealthy(proc, `http://127.0.0.1:${port}/`, { what: 'next start', timeoutMs: 30_000, failure: (m) => new Error(`${m}\n${tailFile(logFile)}`) });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { port, proc };
}
