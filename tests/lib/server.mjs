// A tiny static file server for the end-to-end tests.
//
// Hand-rolled on node:http so the tests depend on nothing but the browser
// driver, and so every response header (Content-Type for wasm streaming
// compilation, Server-Timing, caching) is exactly what a test asks for.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The repo root, so mounts given as relative paths mean the same thing
// whatever directory `node --test` was started from.
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
};

export function contentType(file) {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function normalisePrefix(prefix) {
  let p = prefix.startsWith('/') ? prefix : `/${prefix}`;
  if (!p.endsWith('/')) p += '/';
  return p;
}

/**
 * @param {object} [opts]
 * @param {string} [opts.root] directory that relative mount dirs resolve against (default: repo root)
 * @param {Record<string,string>} [opts.mounts] URL prefix -> directory
 * @param {Record<string,(req: http.IncomingMessage, res: http.ServerResponse) => any>} [opts.routes] exact pathname -> handler
 * @param {string} [opts.host]
 * @param {number} [opts.port]
 * @param {(pathname: string) => Record<string,string>|undefined} [opts.headers] extra headers for static files
 */
export async function startServer({
  root = REPO_ROOT,
  mounts = { '/': 'www' },
  routes = {},
  host = 'localhost',
  port = 0,
  headers,
} = {}) {
  // Longest prefix first so '/pkg/' wins over '/'.
  const table = Object.entries(mounts)
    .map(([prefix, dir]) => [normalisePrefix(prefix), path.resolve(root, dir)])
    .sort((a, b) => b[0].length - a[0].length);

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://placeholder');
      const pathname = url.pathname;
      const route = routes[pathname];
      if (route) {
        await route(req, res);
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
        return;
      }
      const file = resolveFile(table, pathname);
      if (!file) {
        send(res, 404, 'not found\n');
        return;
      }
      const body = await fs.promises.readFile(file);
      res.writeHead(200, {
        'Content-Type': contentType(file),
        'Content-Length': body.length,
        'Cache-Control': 'no-store',
        ...(headers?.(pathname) ?? {}),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      // A throwing route handler must show up in the test output, and the
      // browser must still get an answer rather than hang until timeout.
      console.error(`test server: ${req.method} ${req.url}:`, err);
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    }
  });

  // Node binds "localhost" to whichever address resolves first, which is
  // ::1 on some machines; the URLs still say localhost (the page origin the
  // collector's CORS list names) but the socket is pinned to IPv4 like the
  // collector's, and browsers try both families for localhost.
  const listenHost = host === 'localhost' ? '127.0.0.1' : host;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.address().port;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  return {
    url: origin,
    origin,
    port: actualPort,
    close: () =>
      new Promise((resolve) => {
        // Browsers keep connections alive; without this close() waits for
        // their idle timeout.
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

function resolveFile(table, pathname) {
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  for (const [prefix, dir] of table) {
    if (!decoded.startsWith(prefix) && decoded !== prefix.slice(0, -1)) continue;
    const rest = decoded.slice(prefix.length);
    let file = path.resolve(dir, `.${path.sep}${rest}`);
    // Checked after resolution so '..' and encoded '%2e%2e' cannot climb out.
    if (file !== dir && !file.startsWith(dir + path.sep)) return null;
    let stat;
    try {
      stat = fs.statSync(file);
    } catch {
      return null;
    }
    if (stat.isDirectory()) {
      file = path.join(file, 'index.html');
      try {
        if (!fs.statSync(file).isFile()) return null;
      } catch {
        return null;
      }
    } else if (!stat.isFile()) {
      return null;
    }
    return file;
  }
  return null;
}

function send(res, status, body, extra = {}) {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(body);
}
