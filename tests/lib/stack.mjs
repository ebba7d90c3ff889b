// What most end-to-end files start alike: a static server (the package
// under /pkg/, the test pages under /pages/, plus any routes), a real
// Collector that allows the server's origin, and a browser.
import { launchBrowser } from './browser.mjs';
import { startCollector } from './collector.mjs';
import { startServer } from './server.mjs';

/** The package and the test pages. */
export const PAGE_MOUNTS = { '/pkg/': 'pkg', '/pages/': 'tests/pages' };

/**
 * @param {object} [opts]
 * @param {object} [opts.mounts] URL prefix -> directory (default PAGE_MOUNTS)
 * @param {object} [opts.routes] path -> handler, as startServer takes them
 * @returns {Promise<{ server, collector, browser, stop(): Promise<void> }>}
 */
export async function startStack({ mounts = PAGE_MOUNTS, routes } = {}) {
  const started = [];
  try {
    const server = await startServer(routes ? { mounts, routes } : { mounts });
    started.push(() => server.close());
    const collector = await startCollector({ allowedOrigins: [server.origin] });
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
