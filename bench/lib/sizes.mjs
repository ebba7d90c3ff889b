// Download sizes: raw, gzip -9 (the gzip program, as scripts/build.sh
// reports them) and brotli 11, and what each input adds to an esbuild
// bundle.
import fs from 'node:fs';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';

export function gzip9(buf) {
  return execFileSync('gzip', ['-9', '-n', '-c'], { input: buf, maxBuffer: 64 << 20 }).length;
}

export function sizes(buf) {
  return {
    raw: buf.length,
    gzip: gzip9(buf),
    brotli: zlib.brotliCompressSync(buf, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length } }).length,
  };
}

/** Files fetched separately: each compressed on its own, then added. */
export function sumSizes(list) {
  return list.reduce((a, s) => ({ raw: a.raw + s.raw, gzip: a.gzip + s.gzip, brotli: a.brotli + s.brotli }), { raw: 0, gzip: 0, brotli: 0 });
}

/** Minified bytes of an esbuild bundle by group of inputs (from its metafile). */
export function metaBreakdown(metaFile, groupOf) {
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
  const out = Object.values(meta.outputs)[0];
  const groups = new Map();
  for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
    const g = groupOf(input);
    groups.set(g, (groups.get(g) ?? 0) + bytesInOutput);
  }
  return [...groups.entries()].map(([key, bytes]) => ({ key, bytes })).sort((a, b) => b.bytes - a.bytes);
}
