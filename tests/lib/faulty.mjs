// A fault-injecting HTTP stand-in in front of the real Collector's OTLP/HTTP
// receiver: each POST is either answered by a rule the test sets (429 with
// Retry-After, 503, 400, 413, a partialSuccess, ...) or forwarded to the
// Collector and its answer passed back. CORS preflights are forwarded too,
// so the browser sees the Collector's own CORS answers; injected answers
// carry the same Access-Control-Allow-* headers, and expose Retry-After (the
// Collector's CORS settings have no way to expose it, so a page on another
// origin cannot read it from the Collector itself).
import http from 'node:http';

import { bodyText } from './otlp.mjs';

/**
 * @param {object} opts
 * @param {string} opts.target the Collector's endpoint, e.g. collector.endpoint
 * @returns {Promise<{ endpoint: string, port: number, requests: object[],
 *   respond: null | ((req: object) => null | { status: number, headers?: object, body?: string }),
 *   close(): Promise<void> }>}
 */
export async function startFaultProxy({ target }) {
  const upstream = new URL(target);
  const proxy = {
    requests: [],
    // (record) => an answer, or null to forward. record: { n, time, method, path, body, spans }
    respond: null,
  };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const record = { n: proxy.requests.length, time: Date.now(), method: req.method, path: req.url, bytes: body.length, encoding: req.headers['content-encoding'], spans: [] };
      if (req.method === 'POST') {
        try {
          const parsed = JSON.parse(bodyText(body, req.headers['content-encoding']));
          for (const rs of parsed.resourceSpans ?? []) {
            const resource = Object.fromEntries((rs.resource?.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]));
            for (const ss of rs.scopeSpans ?? []) {
              for (const s of ss.spans ?? []) {
                const attrs = Object.fromEntries((s.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]));
                record.spans.push({ name: s.name, spanId: s.spanId, attrs, resource });
              }
            }
          }
        } catch {
          record.unparsed = true;
        }
        proxy.requests.push(record);
      }
      const answer = req.method === 'POST' && proxy.respond ? proxy.respond(record) : null;
      if (answer) {
        record.status = answer.status;
        const origin = req.headers.origin;
        res.writeHead(answer.status, {
          ...(origin ? { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', 'Access-Control-Expose-Headers': 'Retry-After', Vary: 'Origin' } : {}),
          'Content-Type': 'application/json',
          ...(answer.headers ?? {}),
        });
        res.end(answer.body ?? '');
        return;
      }
      const headers = { ...req.headers, host: upstream.host };
      delete headers['content-length'];
      const up = http.request(
        { host: upstream.hostname === 'localhost' ? '127.0.0.1' : upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...headers, 'content-length': body.length } },
        (upRes) => {
          record.status = upRes.statusCode;
          res.writeHead(upRes.statusCode, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on('error', () => {
        record.status = 'error';
        res.destroy();
      });
      up.end(body);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = server.address().port;
  proxy.endpoint = `http://localhost:${proxy.port}`;
  proxy.close = () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); });
  return proxy;
}
