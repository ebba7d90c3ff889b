// Where a wasm module's bytes go: sections, functions by crate and by
// module, and what the data section holds. Functions are named from the
// module's name section (demangled), so give it a module that still has
// one: scripts/build.sh leaves the module as rustc linked it, before
// wasm-opt, in target/ship/wasm32-unknown-unknown/release/waggle_rum.wasm;
// the shipped pkg/waggle.wasm has no names (its sections are still
// reported).
//
//   node bench/lib/wasm-size.mjs <module.wasm> [--top N] [--json out.json]
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

import { demangle } from './demangle.mjs';

const SECTION_NAMES = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'datacount', 'tag'];

function reader(buf, pos = 0) {
  return {
    get pos() {
      return pos;
    },
    set pos(p) {
      pos = p;
    },
    u8: () => buf[pos++],
    leb() {
      let result = 0;
      let shift = 0;
      for (;;) {
        const b = buf[pos++];
        result += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if (!(b & 0x80)) return result;
      }
    },
    str() {
      const n = this.leb();
      const s = buf.toString('utf8', pos, pos + n);
      pos += n;
      return s;
    },
  };
}

/** Parses the parts of a module this report needs. */
export function parseModule(buf) {
  if (buf.readUInt32LE(0) !== 0x6d736100) throw new Error('not a wasm module');
  const r = reader(buf, 8);
  const sections = [];
  let importedFuncs = 0;
  const bodies = [];
  const names = new Map();
  const data = [];
  const imports = [];
  const exports = [];
  while (r.pos < buf.length) {
    const id = r.u8();
    const size = r.leb();
    const start = r.pos;
    const end = start + size;
    let name = SECTION_NAMES[id] ?? `#${id}`;
    if (id === 0) {
      name = `custom:${r.str()}`;
      if (name === 'custom:name') {
        while (r.pos < end) {
          const sub = r.u8();
          const subSize = r.leb();
          const subEnd = r.pos + subSize;
          if (sub === 1) {
            const n = r.leb();
            for (let i = 0; i < n; i++) {
              const idx = r.leb();
              names.set(idx, r.str());
            }
          }
          r.pos = subEnd;
        }
      }
    } else if (id === 2) {
      const n = r.leb();
      for (let i = 0; i < n; i++) {
        const at = r.pos;
        const module = r.str();
        const field = r.str();
        const kind = r.u8();
        if (kind === 0) {
          r.leb();
          importedFuncs++;
        } else if (kind === 1) {
          r.u8();
          const flags = r.leb();
          r.leb();
          if (flags & 1) r.leb();
        } else if (kind === 2) {
          const flags = r.leb();
          r.leb();
          if (flags & 1) r.leb();
        } else if (kind === 3) {
          r.u8();
          r.u8();
        } else if (kind === 4) {
          r.u8();
          r.leb();
        }
        imports.push({ module, field, kind, bytes: r.pos - at });
      }
    } else if (id === 7) {
      const n = r.leb();
      for (let i = 0; i < n; i++) {
        const at = r.pos;
        const field = r.str();
        const kind = r.u8();
        const index = r.leb();
        exports.push({ field, kind, index, bytes: r.pos - at });
      }
    } else if (id === 10) {
      const n = r.leb();
      for (let i = 0; i < n; i++) {
        const at = r.pos;
        const len = r.leb();
        r.pos += len;
        bodies.push({ index: importedFuncs + i, bytes: r.pos - at });
      }
    } else if (id === 11) {
      const n = r.leb();
      for (let i = 0; i < n; i++) {
        const flags = r.leb();
        if (flags === 2) r.leb();
        if (flags !== 1) {
          // The offset expression: read to its `end` opcode.
          while (buf[r.pos] !== 0x0b) r.pos++;
          r.pos++;
        }
        const len = r.leb();
        data.push(buf.subarray(r.pos, r.pos + len));
        r.pos += len;
      }
    }
    sections.push({ name, bytes: end - start + 1 + lebLength(size) });
    r.pos = end;
  }
  for (const b of bodies) b.name = names.get(b.index) ?? `func[${b.index}]`;
  for (const e of exports) if (e.kind === 0) e.name = names.get(e.index);
  return { sections, bodies, data, imports, exports, importedFuncs };
}

function lebLength(n) {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** A Rust item name made readable: no crate disambiguators, no hash. */
export function cleanName(name) {
  return name.replace(/\[[0-9a-f]{16}\]/g, '').replace(/::h[0-9a-f]{16}$/, '').replace(/\[\d+\]$/, '');
}

const PRIMITIVE = /^(&|\*|\[|\(|u8|u16|u32|u64|u128|usize|i8|i16|i32|i64|i128|isize|f32|f64|bool|char|str|T|dyn )/;

/** The crate a function is charged to. */
export function crateOf(name) {
  const n = cleanName(name);
  // The module's own exports (#[no_mangle] in src/wasm.rs).
  if (/^(input|output|run)$/.test(n)) return 'waggle_rum';
  if (/^(memcpy|memmove|memset|memcmp|bcmp|__multi3|__udivti3|__umodti3|__divti3|__ashlti3|__lshrti3)$/.test(n)) return 'compiler_builtins';
  if (/^__r(ust|dl|g)_/.test(n) || /^__rustc::/.test(n)) return 'alloc (allocator shims)';
  let path = n;
  if (path.startsWith('<')) {
    // `<Type as Trait>::method`: charge the type's crate, or the trait's
    // when the type is a primitive or a reference.
    const inner = path.slice(1);
    const asAt = inner.indexOf(' as ');
    const self = asAt >= 0 ? inner.slice(0, asAt) : inner;
    if (PRIMITIVE.test(self) && asAt >= 0) path = inner.slice(asAt + 4);
    // A primitive's own methods (`<str>::trim_matches`) are core's.
    else if (PRIMITIVE.test(self) || /^\[/.test(self)) return 'core';
    else path = self.replace(/^<+/, '');
  }
  const m = /^([A-Za-z_][A-Za-z0-9_]*)::/.exec(path);
  return m ? m[1] : '(unnamed)';
}

/** waggle_rum's own module a function is charged to, else null. */
export function waggleModuleOf(name) {
  const n = cleanName(name);
  const m = /(?:^|<)(waggle_rum(?:::[a-z_][a-z0-9_]*)*)/.exec(n);
  if (!m) return null;
  // Up to the first segment that names an item (not a module).
  const segs = m[1].split('::');
  return segs.slice(0, Math.min(segs.length, 3)).join('::');
}

function group(bodies, keyOf) {
  const map = new Map();
  for (const b of bodies) {
    const k = keyOf(b.name);
    if (k == null) continue;
    const g = map.get(k) ?? { key: k, bytes: 0, functions: 0 };
    g.bytes += b.bytes;
    g.functions++;
    map.set(k, g);
  }
  return [...map.values()].sort((a, b) => b.bytes - a.bytes);
}

/** Printable strings in the data section, classified. */
function dataStrings(data) {
  const kinds = { 'source paths (panic locations)': 0, 'other text': 0, binary: 0 };
  const samples = [];
  let total = 0;
  for (const seg of data) {
    total += seg.length;
    const text = seg.toString('latin1');
    let printable = 0;
    for (const m of text.matchAll(/[\x20-\x7e]{6,}/g)) {
      printable += m[0].length;
      if (/(\.rs|\/src\/|rustc\/|\.cargo\/)/.test(m[0])) kinds['source paths (panic locations)'] += m[0].length;
      else {
        kinds['other text'] += m[0].length;
        if (samples.length < 400) samples.push(m[0]);
      }
    }
    kinds.binary += seg.length - printable;
  }
  return { total, kinds, samples };
}

export function report(file, { top = 40 } = {}) {
  const buf = fs.readFileSync(file);
  const mod = parseModule(buf);
  for (const b of mod.bodies) b.name = demangle(b.name);
  const code = mod.bodies.reduce((s, b) => s + b.bytes, 0);
  const byCrate = group(mod.bodies, crateOf);
  const byModule = group(mod.bodies, waggleModuleOf);
  const topFunctions = [...mod.bodies].sort((a, b) => b.bytes - a.bytes).slice(0, top).map((b) => ({ name: cleanName(b.name), bytes: b.bytes, crate: crateOf(b.name) }));
  const monomorphised = group(
    mod.bodies.filter((b) => /waggle_rum|opentelemetry/.test(b.name) && !/^waggle_rum|^<waggle_rum|^opentelemetry|^<opentelemetry/.test(cleanName(b.name))),
    crateOf,
  );
  return {
    // Relative to the working directory, so results name no machine path.
    file: path.relative(process.cwd(), file),
    bytes: buf.length,
    gzip: zlib.gzipSync(buf, { level: 9 }).length,
    sections: mod.sections,
    functions: mod.bodies.length,
    importedFunctions: mod.importedFuncs,
    importBytes: mod.imports.reduce((s, i) => s + i.bytes, 0),
    exportBytes: mod.exports.reduce((s, e) => s + e.bytes, 0),
    code,
    byCrate,
    byWaggleModule: byModule,
    genericsForWaggleTypes: monomorphised,
    topFunctions,
    data: dataStrings(mod.data),
  };
}

function pad(s, n) {
  s = String(s);
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}
function lpad(s, n) {
  s = String(s);
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

export function formatReport(rep) {
  const out = [];
  const pct = (b, of) => `${((100 * b) / of).toFixed(1)}%`;
  out.push(`${rep.file}: ${rep.bytes} B (${rep.gzip} B gzip -9), ${rep.functions} functions, ${rep.importedFunctions} imported`);
  out.push('', 'sections:');
  for (const s of rep.sections) out.push(`  ${pad(s.name, 22)} ${lpad(s.bytes, 8)} B  ${lpad(pct(s.bytes, rep.bytes), 6)}`);
  out.push('', `code by crate (function bodies, ${rep.code} B):`);
  for (const g of rep.byCrate) out.push(`  ${pad(g.key, 30)} ${lpad(g.bytes, 8)} B  ${lpad(pct(g.bytes, rep.code), 6)}  ${lpad(g.functions, 4)} fns`);
  out.push('', 'waggle_rum by module:');
  for (const g of rep.byWaggleModule) out.push(`  ${pad(g.key, 36)} ${lpad(g.bytes, 8)} B  ${lpad(g.functions, 4)} fns`);
  out.push('', 'generic std/alloc/core code instantiated for waggle or opentelemetry types:');
  for (const g of rep.genericsForWaggleTypes) out.push(`  ${pad(g.key, 30)} ${lpad(g.bytes, 8)} B  ${lpad(g.functions, 4)} fns`);
  out.push('', `largest functions:`);
  for (const f of rep.topFunctions) out.push(`  ${lpad(f.bytes, 7)} B  ${f.name}`);
  out.push('', `data section ${rep.data.total} B:`);
  for (const [k, v] of Object.entries(rep.data.kinds)) out.push(`  ${pad(k, 32)} ${lpad(v, 8)} B`);
  return out.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  const topAt = args.indexOf('--top');
  const jsonAt = args.indexOf('--json');
  const rep = report(file, { top: topAt >= 0 ? Number(args[topAt + 1]) : 40 });
  console.log(formatReport(rep));
  if (jsonAt >= 0) fs.writeFileSync(args[jsonAt + 1], JSON.stringify(rep, null, 2));
}
