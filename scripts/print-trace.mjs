#!/usr/bin/env node
// Prints the traces in a collector file-exporter output (JSON lines of
// OTLP/JSON ExportTraceServiceRequest) as indented trees.
//
//   node scripts/print-trace.mjs FILE [--wait-ms N]
//
// --wait-ms N: the collector batches and flushes on timers, so right after a
// page run the file may be missing or still growing. Wait up to N ms for it
// to exist and then to stop changing before printing.
//
// The tree-building and formatting functions are exported for the tests.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flattenSpans, parseJsonLines } from '../tests/lib/otlp.mjs';

/** Reads a collector output file into flat spans (see tests/lib/otlp.mjs). */
export function readSpansFile(file) {
  return flattenSpans(parseJsonLines(fs.readFileSync(file, 'utf8')));
}

const ns = (v) => {
  try {
    return BigInt(v ?? 0);
  } catch {
    return 0n;
  }
};
const byStart = (a, b) => {
  const d = ns(a.span.startTimeUnixNano) - ns(b.span.startTimeUnixNano);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
};

/**
 * Groups flat spans into traces of span trees.
 *
 * @param {object[]} spans flat spans as from flattenSpans()
 * @returns {{ traceId: string, spanCount: number, services: string[],
 *   roots: { span: object, children: object[], orphan: boolean, depth: number }[] }[]}
 *   traces ordered by their first span's start; children by start time.
 *   A root whose parentSpanId names a span not in the input has orphan: true.
 */
export function buildTraces(spans) {
  const traces = new Map();
  for (const span of spans) {
    let t = traces.get(span.traceId);
    if (!t) traces.set(span.traceId, (t = []));
    t.push(span);
  }
  const out = [];
  for (const [traceId, list] of traces) {
    const nodes = new Map();
    for (const span of list) {
      // A span exported twice (a retried export) would otherwise appear
      // twice in the tree.
      if (!nodes.has(span.spanId)) nodes.set(span.spanId, { span, children: [], orphan: false, depth: 0 });
    }
    const roots = [];
    for (const node of nodes.values()) {
      const parentId = node.span.parentSpanId;
      const parent = parentId ? nodes.get(parentId) : undefined;
      if (parent && parent !== node) {
        parent.children.push(node);
      } else {
        node.orphan = !!parentId;
        roots.push(node);
      }
    }
    const sortRec = (n, depth) => {
      n.depth = depth;
      n.children.sort(byStart);
      for (const c of n.children) sortRec(c, depth + 1);
    };
    roots.sort(byStart);
    for (const r of roots) sortRec(r, 0);
    out.push({
      traceId,
      spanCount: nodes.size,
      services: [...new Set([...nodes.values()].map((n) => serviceOf(n.span)))],
      roots,
    });
  }
  out.sort((a, b) => byStart(a.roots[0], b.roots[0]));
  return out;
}

function serviceOf(span) {
  return span.resource?.['service.name'] ?? '?';
}

function hostOf(url) {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

function shortUrl(url, pageHost) {
  try {
    const u = new URL(url);
    if (pageHost && u.host === pageHost) return `${u.pathname}${u.search}`;
  } catch {
    // Not absolute; print as it is.
  }
  return url;
}

function durationMs(span) {
  const d = ns(span.endTimeUnixNano) - ns(span.startTimeUnixNano);
  // Through microseconds so huge nanosecond values keep their precision.
  return (Number(d / 1000n) / 1000).toFixed(1);
}

function fmtValue(v) {
  if (typeof v === 'string') return /[\s"]/.test(v) || v === '' ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

// Context every span of a page view carries; repeated on each line it would
// drown the attributes that tell spans apart.
const INHERITED = ['session.id', 'waggle.page.route'];

function keyAttrs(span, pageHost, parent) {
  const a = span.attrs ?? {};
  const p = parent?.attrs ?? {};
  const parts = [];
  const put = (k, v) => {
    if (v !== undefined && v !== null) parts.push(`${k}=${fmtValue(v)}`);
  };
  if (a['url.full'] !== undefined) put('url.full', shortUrl(String(a['url.full']), pageHost));
  else put('url.path', a['url.path']);
  put('http.request.method', a['http.request.method']);
  put('http.route', a['http.route']);
  put('http.response.status_code', a['http.response.status_code']);
  put('error.type', a['error.type']);
  for (const k of INHERITED) {
    if (a[k] === undefined || (parent && a[k] === p[k])) continue;
    put(k, k === 'session.id' ? String(a[k]).slice(0, 8) : a[k]);
  }
  const exc =
    a['exception.message'] ??
    span.events?.find((e) => e.name === 'exception')?.attrs?.['exception.message'];
  put('exception.message', exc);
  return parts;
}

/** Renders buildTraces() output as text, one line per span. */
export function formatTraces(traces) {
  const lines = [];
  for (const t of traces) {
    const services = t.services.length > 1 ? `  services: ${t.services.join(', ')}` : '';
    lines.push(`trace ${t.traceId}  (${t.spanCount} span${t.spanCount === 1 ? '' : 's'})${services}`);
    // Page-relative URLs are what a reader compares, so same-host URLs are
    // shown as paths; the page host is the first span in the trace that has a
    // url.full (normally the document load).
    const all = [];
    const walk = (n) => {
      all.push(n);
      n.children.forEach(walk);
    };
    t.roots.forEach(walk);
    const first = [...all].sort(byStart).find((n) => n.span.attrs?.['url.full'] !== undefined);
    const pageHost = first ? hostOf(first.span.attrs['url.full']) : null;

    const render = (n, parent) => {
      const parentService = parent ? serviceOf(parent) : undefined;
      const s = n.span;
      const svc = serviceOf(s);
      const parts = [`${'  '.repeat(n.depth + 1)}${s.name}`, `${durationMs(s)}ms`];
      if (svc !== parentService) parts.push(`[${svc}]`);
      if (s.status?.code === 2 || s.status?.code === 'STATUS_CODE_ERROR') {
        parts.push(s.status.message ? `!ERROR(${s.status.message})` : '!ERROR');
      }
      parts.push(...keyAttrs(s, pageHost, parent));
      if (n.orphan) parts.push(`(orphan: parent ${s.parentSpanId.slice(0, 16)} not in file)`);
      lines.push(parts.join('  '));
      for (const c of n.children) render(c, s);
    };
    for (const r of t.roots) render(r, undefined);
  }
  return lines.join('\n');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForStableFile(file, waitMs) {
  const until = Date.now() + waitMs;
  let last = -1;
  let stableSince = 0;
  while (Date.now() < until) {
    let size = -1;
    try {
      size = fs.statSync(file).size;
    } catch {
      // Not created yet.
    }
    if (size > 0 && size === last) {
      // Longer than the collector's batch timeout plus flush interval.
      if (Date.now() - stableSince >= 500) return;
    } else {
      last = size;
      stableSince = Date.now();
    }
    await sleep(100);
  }
}

async function main(argv) {
  let file;
  let waitMs = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--wait-ms') waitMs = Number(argv[++i]);
    else if (arg.startsWith('--wait-ms=')) waitMs = Number(arg.slice('--wait-ms='.length));
    else if (arg === '-h' || arg === '--help') {
      file = undefined;
      break;
    }
    else if (!file) file = arg;
    else {
      file = undefined;
      break;
    }
  }
  if (!file || !Number.isFinite(waitMs) || waitMs < 0) {
    console.error('usage: node scripts/print-trace.mjs FILE [--wait-ms N]');
    return 2;
  }
  if (waitMs > 0) await waitForStableFile(file, waitMs);
  if (!fs.existsSync(file)) {
    console.error(`${file}: no such file`);
    return 1;
  }
  const traces = buildTraces(readSpansFile(file));
  if (traces.length === 0) {
    console.log('(no spans)');
    return 0;
  }
  console.log(formatTraces(traces));
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
