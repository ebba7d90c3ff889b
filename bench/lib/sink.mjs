// The benchmark's trace sink: an OTLP/HTTP JSON endpoint that counts.
//
// Each run posts under its own path prefix (/r/<run>/v1/traces), so runs
// never mix. For every request it keeps the body's size as it came over
// the wire (compressed if the agent compressed it), its size decoded, what
// gzip would make of the decoded body, how many spans it carried and the
// losses the agent reported with them; per run, how many spans of each
// name arrived, and for the runs `keep` picks, the spans themselves.
import http from 'node:http';
import zlib from 'node:zlib';

/**
 * @param {object} opts
 * @param {string} opts.benchSpanName the name of the spans the workload makes
 * @param {(run: string) => boolean} [opts.keep] runs whose spans are kept
 *   whole (other than the workload's), for checks of what they carry
 */
export async function startSink({ benchSpanName, keep = () => false }) {
  /** @type {Map<string, object>} */
  const runs = new Map();
  const run = (id) => {
    if (!runs.has(id)) runs.set(id, { requests: [], preflights: 0, errors: [], lastAt: 0, names: {}, spans: [] });
    return runs.get(id);
  };

  const server = http.createServer((req, res) => {
    const origin = req.headers.origin;
    // Echo the page's origin with credentials allowed: fetch keepalive and
    // sendBeacon requests are credentialed, and '*' would be refused.
    const cors = origin
      ? {
          'Access-Control-Allow-Origin': origin,
          'Access-Control-Allow-Credentials': 'true',
          Vary: 'Origin',
        }
      : {};
    const m = /^\/r\/([\w-]+)\/v1\/traces$/.exec(new URL(req.url, 'http://x').pathname);
    if (!m) {
      res.writeHead(404, cors).end();
      return;
    }
    const r = run(m[1]);
    if (req.method === 'OPTIONS') {
      r.preflights++;
      res
        .writeHead(204, {
          ...cors,
          'Access-Control-Allow-Methods': 'POST, OPTIONS',
          'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? 'content-type',
          'Access-Control-Max-Age': '600',
        })
        .end();
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, cors).end();
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const wire = Buffer.concat(chunks);
      const at = performance.now();
      try {
        const encoding = (req.headers['content-encoding'] ?? '').toLowerCase();
        const body = encoding === 'gzip' ? zlib.gunzipSync(wire) : encoding === 'br' ? zlib.brotliDecompressSync(wire) : wire;
        const json = JSON.parse(body.toString('utf8'));
        let spans = 0;
        let bench = 0;
        let dropped = 0;
        let unconfirmed = 0;
        let sample = null;
        const kept = keep(m[1]);
        for (const rs of json.resourceSpans ?? []) {
          for (const a of rs.resource?.attributes ?? []) {
            const n = Number(a.value?.intValue ?? a.value?.doubleValue ?? 0);
            if (a.key === 'waggle.dropped_spans') dropped += n;
            if (a.key === 'waggle.unconfirmed_spans') unconfirmed += n;
          }
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans++;
              r.names[s.name] = (r.names[s.name] ?? 0) + 1;
              if (s.name === benchSpanName) {
                bench++;
                if (!sample) sample = { span: s, resource: rs.resource };
              } else if (kept) {
                r.spans.push({ ...s, at });
              }
            }
          }
        }
        r.requests.push({
          at,
          wireBytes: wire.length,
          bodyBytes: body.length,
          // CompressionStream('gzip') compresses at zlib's default level.
          gzipBytes: encoding ? wire.length : zlib.gzipSync(body, { level: 6 }).length,
          encoding: encoding || null,
          spans,
          bench,
          dropped,
          unconfirmed,
        });
        if (sample && !r.sample) r.sample = sample;
        r.lastAt = at;
        res.writeHead(200, { ...cors, 'Content-Type': 'application/json' }).end('{}');
      } catch (err) {
        r.errors.push(String(err));
        res.writeHead(400, cors).end();
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return {
    /** The OTLP base URL for run `id`: agents append /v1/traces. */
    endpoint: (id) => `http://localhost:${port}/r/${id}`,
    run,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Totals over a run's requests, optionally only those after `sinceMs`. */
export function totals(r, sinceMs = -Infinity) {
  const t = { requests: 0, spans: 0, bench: 0, dropped: 0, unconfirmed: 0, wireBytes: 0, bodyBytes: 0, gzipBytes: 0 };
  for (const q of r.requests) {
    if (q.at < sinceMs) continue;
    t.requests++;
    t.spans += q.spans;
    t.bench += q.bench;
    t.dropped += q.dropped;
    t.unconfirmed += q.unconfirmed;
    t.wireBytes += q.wireBytes;
    t.bodyBytes += q.bodyBytes;
    t.gzipBytes += q.gzipBytes;
  }
  return t;
}
