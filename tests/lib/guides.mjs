// What the guide tests share: docs/guides.md's code blocks, section by
// section, and the check every backend guide must pass.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './server.mjs';

export const GUIDES = path.join(REPO_ROOT, 'docs', 'guides.md');

/**
 * The fenced code blocks of the section of `file` whose heading starts with
 * `heading` (up to the next heading of the same or a higher level):
 * [{ lang, code }], in order.
 */
export function codeBlocks(heading, file = GUIDES) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const at = lines.findIndex((l) => /^#+ /.test(l) && l.replace(/^#+ /, '').startsWith(heading));
  assert.ok(at >= 0, `no section "${heading}" in ${path.relative(REPO_ROOT, file)}`);
  const level = lines[at].match(/^#+/)[0].length;
  const blocks = [];
  let open = null;
  for (const line of lines.slice(at + 1)) {
    if (!open) {
      const h = line.match(/^(#+) /);
      if (h && h[1].length <= level) break;
      const fence = line.match(/^```(\w*)\s*$/);
      if (fence) open = { lang: fence[1], code: '' };
    } else if (line.startsWith('```')) {
      blocks.push(open);
      open = null;
    } else {
      open.code += `${line}\n`;
    }
  }
  return blocks;
}

/** A browser's request span's traceparent, as Waggle sends it. */
export function browserTraceparent() {
  return `00-${crypto.randomBytes(16).toString('hex')}-${crypto.randomBytes(8).toString('hex')}-01`;
}

// OTLP's SpanKind numbers, as the Collector's JSON carries them.
export const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 };

/**
 * Asks the service at `url` for its page with the browser's `traceparent`,
 * and checks the page's `<meta name="traceparent">` names the request's
 * SERVER span, as the service's OpenTelemetry SDK exported it to the
 * Collector: same trace, the browser's span its parent. Returns that
 * trace's spans.
 */
export async function metaNamesServerSpan(url, collector, serviceName) {
  const incoming = browserTraceparent();
  const [, traceId, parentId] = incoming.split('-');
  const res = await fetch(url, { headers: { traceparent: incoming } });
  const html = await res.text();
  assert.equal(res.status, 200, html);
  const meta = html.match(/<meta name="traceparent" content="([^"]*)">/);
  assert.ok(meta, `no <meta name="traceparent"> in ${html}`);
  const [version, metaTrace, metaSpan, flags] = meta[1].split('-');
  assert.equal(version, '00');
  assert.equal(metaTrace, traceId, "the page continues the browser's trace");
  assert.equal(flags, '01');
  const spans = await collector.waitForSpans((all) => all.some((s) => s.traceId === traceId && s.spanId === metaSpan), 15_000);
  const named = spans.find((s) => s.spanId === metaSpan);
  const trace = spans.filter((s) => s.traceId === traceId);
  const shown = trace.map((s) => `${s.name} kind=${s.kind} span=${s.spanId} parent=${s.parentSpanId}`).join('\n');
  assert.equal(named.kind, SPAN_KIND.SERVER, `the meta names ${named.name} (kind ${named.kind}), not the SERVER span:\n${shown}`);
  assert.equal(named.parentSpanId, parentId, "the SERVER span is the browser's request span's child");
  assert.equal(named.resource['service.name'], serviceName);
  return { server: named, trace };
}
