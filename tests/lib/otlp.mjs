// OTLP/JSON helpers shared by the test harness and scripts/print-trace.mjs.
// Imports only Node's own modules, so the CLI works before `npm install`.
import zlib from 'node:zlib';

/**
 * The OTLP/JSON text of a request body as the browser sent it (the agent
 * gzips where the browser can).
 */
export function bodyText(buffer, contentEncoding) {
  if (!buffer) return '';
  return (String(contentEncoding ?? '').toLowerCase() === 'gzip' ? zlib.gunzipSync(buffer) : buffer).toString('utf8');
}

/** OTLP AnyValue -> plain JS value. */
export function plainValue(v) {
  if (v == null) return undefined;
  if ('stringValue' in v) return v.stringValue;
  // OTLP/JSON carries int64 as a decimal string; Number is exact for every
  // value the agent produces (counts, sizes, status codes).
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('boolValue' in v) return v.boolValue;
  if ('arrayValue' in v) return (v.arrayValue?.values ?? []).map(plainValue);
  if ('kvlistValue' in v) return attrsOf(v.kvlistValue?.values);
  if ('bytesValue' in v) return v.bytesValue;
  return undefined;
}

/** OTLP KeyValue list -> { key: plainValue }. */
export function attrsOf(list) {
  const out = {};
  for (const kv of list ?? []) out[kv.key] = plainValue(kv.value);
  return out;
}

/**
 * ExportTraceServiceRequest[] -> flat span objects. `attrs` is what a
 * backend like Honeycomb shows on a span: its resource's attributes (where
 * the page, session, user and global context travels) overlaid with its
 * own; `spanAttrs` are its own alone.
 */
export function flattenSpans(requests) {
  const spans = [];
  for (const req of requests) {
    for (const rs of req.resourceSpans ?? []) {
      const resource = attrsOf(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        const scope = ss.scope ?? {};
        for (const span of ss.spans ?? []) {
          spans.push({
            ...span,
            events: (span.events ?? []).map((e) => ({ ...e, attrs: attrsOf(e.attributes) })),
            links: (span.links ?? []).map((l) => ({ ...l, attrs: attrsOf(l.attributes) })),
            resource,
            attrs: { ...resource, ...attrsOf(span.attributes) },
            spanAttrs: attrsOf(span.attributes),
            scope,
          });
        }
      }
    }
  }
  return spans;
}

/** Parses JSON-lines text; a last line still being written is skipped. */
export function parseJsonLines(text) {
  const out = [];
  const lines = text.split('\n');
  const complete = text.endsWith('\n') ? lines : lines.slice(0, -1);
  for (const line of complete) {
    if (line.trim()) out.push(JSON.parse(line));
  }
  if (!text.endsWith('\n') && lines.at(-1).trim()) {
    try {
      out.push(JSON.parse(lines.at(-1)));
    } catch {
      // Half-written; the next poll will see it whole.
    }
  }
  return out;
}

