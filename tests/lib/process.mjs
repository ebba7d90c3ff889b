// What the harness's collectors, backends and stand-ins share: a child
// process logging to a file, killed if the test runner exits first, waited
// on until healthy, and stopped with SIGTERM then SIGKILL.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The last `lines` lines of `text`. */
export function tailText(text, lines) {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** The last `lines` lines of a log file, or `missing` when there is none. */
export function tailFile(file, lines = 40, missing = '(no log)') {
  try {
    return tailText(fs.readFileSync(file, 'utf8'), lines);
  } catch {
    return missing;
  }
}

const running = new Set();
// A test that throws before stop() must not leave processes behind holding
// ports (or keeping the test runner alive).
process.once('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/**
 * Spawns `command` with stderr (and stdout, unless `pipeStdout`) appended
 * to `logFile`.
 * @returns {{child: import('node:child_process').ChildProcess, exited: () => object|null,
 *   exitPromise: Promise<object>, stop: (graceMs?: number) => Promise<object>}}
 */
export function spawnLogged(command, args, { cwd, env, logFile, pipeStdout = false }) {
  const logFd = fs.openSync(logFile, 'a');
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', pipeStdout ? 'pipe' : logFd, logFd] });
  fs.closeSync(logFd);
  running.add(child);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    const done = (how) => {
      exited = how;
      running.delete(child);
      resolve(how);
    };
    child.once('exit', (code, signal) => done({ code, signal }));
    child.once('error', (error) => done({ code: null, signal: null, error }));
  });
  return {
    child,
    exited: () => exited,
    exitPromise,
    /** SIGTERM (so the process can flush), then SIGKILL after `graceMs`. */
    async stop(graceMs = 5000) {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exitPromise;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}

/**
 * Polls `url` until it answers 200; throws `failure(message)` if the
 * process exits first or `timeoutMs` passes (killing it then).
 */
export async function waitHealthy(proc, url, { what, timeoutMs, failure }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const exited = proc.exited();
    if (exited) {
      throw failure(`${what} exited during start-up (${exited.error?.message ?? `code ${exited.code}, signal ${exited.signal}`})`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      proc.child.kill('SIGKILL');
      await proc.exitPromise;
      throw failure(`${what} not healthy at ${url} after ${timeoutMs} ms`);
    }
    await sleep(100);
  }
}

/**
 * The Python of the virtualenv scripts/setup.sh builds as `name` from
 * `requirements` (see scripts/venv.sh), or `override` when set.
 */
export function venvPython(name, requirements, { override, what }) {
  if (override) return override;
  const venv = execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'venv.sh'), name, requirements], { encoding: 'utf8' }).trim();
  const python = path.join(venv, 'bin', 'python');
  if (!fs.existsSync(path.join(venv, '.installed')) || !fs.existsSync(python)) {
    throw new Error(`${what} virtualenv is missing (${venv}): run bash scripts/setup.sh`);
  }
  return python;
}
