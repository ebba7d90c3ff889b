// What most end-to-end files start alike: a static server (the package
// under /pkg/, the test pages under /pages/, plus any routes), a real
// Collector that allows the server's origin, and a browser.
import fs from 'node:fs';
import path from 'node:path';

import { launchBrowser } from './browser.mjs';
import { startCollector } from './collector.mjs';
import { startServer, REPO_ROOT } from './server.mjs';

/** pkg/snippet.html with its URLs pointing at the package served under /pkg/. */
export function pkgSnippet() {
  return fs
    .readFileSync(path.join(REPO_ROOT, 'pkg/snippet.html'), 'utf8')
    .replace(/(['"])\/waggle-rum\/([^'"]+)\1/, (m, q, file) => `${q}/pkg/${file}${q}`);
}

/** The package and the test pages. */
export const PAGE_MOUNTS = { '/pkg/': 'pkg', '/pages/': 'tests/pages' };

/**
 * @param {object} [opts]
 * @param {object} [opts.mounts] URL prefix -> directory (default PAGE_MOUNTS)
 * @param {object} [opts.routes] path -> handler, as startServer takes them
 * @param {object} [opts.collector] more options for startCollector (such as sourceMaps)
 * @returns {Promise<{ server, collector, browser, stop(): Promise<void> }>}
 */
export async function startStack({ mounts = PAGE_MOUNTS, routes, collector: collectorOpts = {} } = {}) {
  const started = [];
  try {
    const server = await startServer(routes ? { mounts, routes } : { mounts });
    started.push(() => server.close());
    const collector = await startCollector({ ...collectorOpts, allowedOrigins: [server.origin] });
    started.push(() => collector.stop());
    const browser = await launchBrowser();
    started.push(() => browser.close());
    const stop = async () => {
      for (const close of started.reverse()) await close();
    };
    return { server, collector, browser, stop };
  } catch (err) {
    for (const close of started.reverse()) await close().catch(() => {});
    throw err;
  }
}
