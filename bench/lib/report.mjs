// Medians, the table of figures with their budgets, and RESULTS.md.

export const median = (xs) => {
  const v = xs.filter((x) => x != null && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

const WAYS = ['snippet', 'esm', 'bundled'];
export const WAY_NAMES = { snippet: '(a) snippet', esm: '(b) ES module, no bundler', bundled: '(c) bundled app' };

/** The medians of every figure over the runs. */
export function summarise(runs) {
  const pick = (list, f) => median(list.map(f));
  const out = { startup: {}, early: {}, load: {}, burst: {}, shut: {} };
  for (const [how, list] of Object.entries(runs.startup)) {
    out.startup[how] = {
      recordingMs: pick(list, (r) => r.recordingMs),
      readyMs: pick(list, (r) => r.readyMs),
      initSyncMs: pick(list, (r) => r.initSyncMs),
      lastFileMs: pick(list, (r) => r.lastFileMs),
      firstScriptMs: pick(list, (r) => r.firstScriptMs),
      afterFirstMs: pick(list, (r) => r.recordingMs - r.firstScriptMs),
    };
  }
  for (const [how, list] of Object.entries(runs.early)) {
    const items = ['fetch', 'click', 'error'];
    out.early[how] = {
      runs: list.length,
      passed: list.filter((r) => r.pass).length,
      arrived: Object.fromEntries(items.map((k) => [k, list.filter((r) => r[k].arrived).length])),
      onTime: Object.fromEntries(items.map((k) => [k, list.filter((r) => r[k].ok).length])),
      worstOffMs: Math.max(0, ...list.flatMap((r) => items.filter((k) => r[k].arrived).map((k) => Math.abs(r[k].offByMs)))),
      wasmArrivedMs: pick(list, (r) => r.wasmArrivedMs),
      readyMs: pick(list, (r) => r.readyMs),
      recordingMs: pick(list, (r) => r.recordingMs),
    };
  }
  for (const [kind, list] of Object.entries(runs.load)) {
    out.load[kind] = {
      agentMs: pick(list, (r) => r.agentMs),
      agentCpuMs: pick(list, (r) => r.agentCpuMs),
      agentTaskMs: pick(list, (r) => r.agentTaskMs),
      agentTotalMs: pick(list, (r) => r.agentTotalMs),
      longestMs: pick(list, (r) => r.tasks?.longestMs),
      longestCpuMs: pick(list, (r) => r.tasks?.longestCpuMs),
      longestObservedMs: pick(list, (r) => r.longestObservedMs ?? r.tasks?.longestObservedMs),
      longtasks: pick(list, (r) => r.longtasks ?? r.tasks?.longtasks),
      resourceSpans: pick(list, (r) => r.resourceSpans),
      loadEventMs: pick(list, (r) => r.loadEventMs),
    };
  }
  for (const [kind, list] of Object.entries(runs.burst)) {
    out.burst[kind] = {
      perSpanUs: pick(list, (r) => r.burst.perSpanUs),
      perSpanCpuUs: pick(list, (r) => r.burst.perSpanCpuUs),
      longestMs: pick(list, (r) => r.burst.tasks.longestMs),
      longtasks: pick(list, (r) => r.burst.tasks.longtasks),
      taskMs: pick(list, (r) => r.burst.ownTask?.ms),
      taskCpuMs: pick(list, (r) => r.burst.ownTask?.cpuMs),
      flushSyncMs: pick(list, (r) => r.burst.flushSyncMs),
      deliveryMs: pick(list, (r) => r.burst.deliveryMs),
      hideLongestMs: pick(list, (r) => r.hide.tasks.longestMs),
      hideLongtasks: pick(list, (r) => r.hide.tasks.longtasks),
      hideSyncMs: pick(list, (r) => r.hide.syncMs),
      hideDelivered: pick(list, (r) => r.hide.delivered),
      hideDropped: pick(list, (r) => r.hide.dropped),
      hideUnconfirmed: pick(list, (r) => r.hide.unconfirmed),
      jsDuring: pick(list, (r) => r.memory.jsDuring),
      wasmDuring: pick(list, (r) => r.memory.wasmDuring),
      memDuring: pick(list, (r) => r.memory.jsDuring + r.memory.wasmDuring),
      jsAfter: pick(list, (r) => r.memory.jsAfter),
      wasmAfter: pick(list, (r) => r.memory.wasmAfter),
      memAfter: pick(list, (r) => r.memory.jsAfter + r.memory.wasmAfter),
      delivered: pick(list, (r) => r.delivered.bench),
      dropped: pick(list, (r) => r.delivered.dropped),
      bytesPerSpan: pick(list, (r) => r.delivered.bytesPerSpan),
      gzipBytesPerSpan: pick(list, (r) => r.delivered.gzipBytesPerSpan),
    };
  }
  for (const [kind, list] of Object.entries(runs.shut)) {
    if (!list.length) continue;
    const s = {
      longestMs: pick(list, (r) => r.shutdown.tasks.longestMs),
      longtasks: pick(list, (r) => r.shutdown.tasks.longtasks),
      syncMs: pick(list, (r) => r.shutdown.syncMs),
      delivered: pick(list, (r) => r.shutdown.delivered),
      dropped: pick(list, (r) => r.shutdown.dropped),
      hooksRemoved: list.filter((r) => r.shutdown.fetchRestored).length,
    };
    if (list[0].small) {
      Object.assign(s, {
        wasmSmall: pick(list, (r) => r.small.after.wasm),
        wasmBig: pick(list, (r) => r.big.after.wasm),
        wasmNoGrowthRuns: list.filter((r) => r.big.after.wasm <= r.small.after.wasm).length,
        wasmBigDuring: pick(list, (r) => r.big.during.wasm - r.big.before.wasm),
        bigDelivered: pick(list, (r) => r.big.delivered),
        bigDropped: pick(list, (r) => r.big.dropped),
      });
    }
    s.runs = list.length;
    out.shut[kind] = s;
  }
  return out;
}

// ---------------------------------------------------------------- table

const num = (x) => Math.round(x).toLocaleString('en-US');
const bytesKB = (b) => (b == null ? '-' : `${num(b)} B (${(b / 1000).toFixed(1)} KB)`);
const MB = (b) => (b == null ? '-' : `${b >= 0 ? '+' : ''}${(b / 1e6).toFixed(2)} MB`);
const MBabs = (b) => (b == null ? '-' : `${(b / 1e6).toFixed(2)} MB`);
const ms = (x) => (x == null ? '-' : `${x.toFixed(1)} ms`);
const us = (x) => (x == null ? '-' : `${x.toFixed(2)} µs`);
const B = (x) => (x == null ? '-' : `${x.toFixed(0)} B`);
const int = (x) => (x == null ? '-' : num(x));
const ratio = (a, b) => (a == null || b == null || b === 0 ? '' : (a / b).toFixed(2));
const verdict = (ok) => (ok == null ? '' : ok ? 'PASS' : 'MISS');

export const DOWNLOAD_BUDGET = 28_000;
export const TASK_BUDGET_MS = 50;

/**
 * The rows of the summary: [figure, Waggle, OpenTelemetry, W/O, budget,
 * PASS/MISS]. Rows marked `detail` go to RESULTS.md, not to the terminal.
 */
export function rows(size, m, { spans, big, wasmDelayMs }) {
  const out = [];
  const row = (...cells) => out.push(cells);
  const detail = (...cells) => {
    cells.detail = true;
    out.push(cells);
  };
  const n = num(spans);
  const o = size.ways.otel;
  const dl = (label, s) => row(label, bytesKB(s.gzip), bytesKB(o.gzip), ratio(s.gzip, o.gzip), '≤ 28,000 B', verdict(s.gzip <= DOWNLOAD_BUDGET));
  dl('Download (gzip -9), snippet path: inline + waggle.snippet.js + wasm', size.ways.snippet);
  dl('Download (gzip -9), npm path: app bundle + wasm', size.ways.npm);
  detail('  … ES module, no bundler: index.js + wasm', bytesKB(size.ways.esm.gzip), bytesKB(o.gzip), ratio(size.ways.esm.gzip, o.gzip), '', '');

  const ot = m.startup.otel;
  for (const how of WAYS) {
    const s = m.startup[how];
    row(`Nav start → recording: ${WAY_NAMES[how]}`, ms(s.recordingMs), ms(ot.recordingMs), ratio(s.recordingMs, ot.recordingMs), '≤ 1/3 of OTel', verdict(s.recordingMs <= ot.recordingMs / 3));
    row('  … module ready (init resolved)', ms(s.readyMs), ms(ot.readyMs), ratio(s.readyMs, ot.readyMs), '', '');
    detail('  … the page\'s first script ran (before any agent: the floor)', ms(s.firstScriptMs), ms(ot.firstScriptMs), '', '', '');
    detail('  … recording, counted from the page\'s first script', ms(s.afterFirstMs), ms(ot.afterFirstMs), ratio(s.afterFirstMs, ot.afterFirstMs), '', '');
  }

  for (const how of WAYS) {
    const e = m.early[how];
    const onTime = ['fetch', 'click', 'error'].map((k) => `${k} ${e.onTime[k]}/${e.runs}`).join(', ');
    row(`Before the wasm, true times: ${WAY_NAMES[how]}`, onTime, '-', '', 'all three', verdict(e.passed === e.runs));
  }
  const e0 = m.early.snippet;
  detail(`  … wasm arrived / init resolved (snippet; wasm held ≥ ${wasmDelayMs} ms)`, `${ms(e0.wasmArrivedMs)} / ${ms(e0.readyMs)}`, '-', '', '', '');
  detail('  … largest gap, recorded start − true time', ms(Math.max(...WAYS.map((h) => m.early[h].worstOffMs))), '-', '', '', '');

  const lw = m.load.waggle;
  const lo = m.load.otel;
  const ln = m.load.none;
  const w = m.burst.waggle;
  const ow = m.burst.otel;
  const sw = m.shut.waggle;
  const so = m.shut.otel;
  const task = (label, a, b) => row(label, ms(a), ms(b), ratio(a, b), '< 50 ms', verdict(a < TASK_BUDGET_MS));
  task('Longest task, load of 1,000 resources: agent\'s part', lw.agentMs, lo.agentMs);
  detail('  … the agent\'s part as main-thread CPU time', ms(lw.agentCpuMs), ms(lo.agentCpuMs), ratio(lw.agentCpuMs, lo.agentCpuMs), '', '');
  detail('  … that task, whole', ms(lw.agentTaskMs), ms(lo.agentTaskMs), '', '', '');
  const lt = (x) => (x == null ? '-' : x > 0 ? ms(x) : 'none > 50 ms');
  row('  … longest long task of the load, whole (observed)', lt(lw.longestObservedMs), lt(lo.longestObservedMs), '', '', '');
  row('  … the same with no agent (page alone, run 1)', lt(ln?.longestObservedMs), lt(ln?.longestObservedMs), '', '', '');
  detail(`  … long tasks > 50 ms, observed (page alone: ${int(ln?.longtasks)})`, int(lw.longtasks), int(lo.longtasks), '', '', '');
  detail('  … longest task of the load, whole (trace)', ms(lw.longestMs), ms(lo.longestMs), '', '', '');
  detail('  … resourceFetch spans at the sink', int(lw.resourceSpans), int(lo.resourceSpans), '', '', '');
  task(`Longest task: ${n}-span burst + flush()`, w.longestMs, ow.longestMs);
  detail('  … the burst\'s own task (loop + flush()), CPU', ms(w.taskCpuMs), ms(ow.taskCpuMs), ratio(w.taskCpuMs, ow.taskCpuMs), '', '');
  row('  … the flush() call itself', ms(w.flushSyncMs), ms(ow.flushSyncMs), ratio(w.flushSyncMs, ow.flushSyncMs), '', '');
  detail('  … long tasks > 50 ms, observed', int(w.longtasks), int(ow.longtasks), '', '', '');
  task('Longest task: hide flush after the burst', w.hideLongestMs, ow.hideLongestMs);
  row('  … the hide dispatch itself', ms(w.hideSyncMs), ms(ow.hideSyncMs), ratio(w.hideSyncMs, ow.hideSyncMs), '', '');
  detail(`  … that burst: spans at the sink / counted lost (of ${n})`, `${int(w.hideDelivered)} / ${int(w.hideDropped)}`, `${int(ow.hideDelivered)} / -`, '', '', '');
  task(`Longest task: shutdown() after a ${n}-span burst`, sw.longestMs, so.longestMs);
  row('  … the shutdown() call itself', ms(sw.syncMs), ms(so.syncMs), ratio(sw.syncMs, so.syncMs), '', '');
  detail(`  … that burst: spans at the sink (of ${n})`, int(sw.delivered), int(so.delivered), '', '', '');

  row(`Cost per span (5 attributes; ${n} in one task)`, us(w.perSpanUs), us(ow.perSpanUs), ratio(w.perSpanUs, ow.perSpanUs), '≤ 1/4 of OTel', verdict(w.perSpanUs <= ow.perSpanUs / 4));
  detail('  … CPU time per span', us(w.perSpanCpuUs), us(ow.perSpanCpuUs), ratio(w.perSpanCpuUs, ow.perSpanCpuUs), '', '');

  row('Memory growth in the burst (JS heap + wasm)', MB(w.memDuring), MB(ow.memDuring), ratio(w.memDuring, ow.memDuring), '≤ 1/2 of OTel', verdict(w.memDuring <= ow.memDuring / 2));
  detail('  … JS heap', MB(w.jsDuring), MB(ow.jsDuring), ratio(w.jsDuring, ow.jsDuring), '', '');
  detail('  … wasm memory', MB(w.wasmDuring), '-', '', '', '');
  row(`Wasm memory after ${n} / ${num(big)}-span burst`, `${MBabs(sw.wasmSmall)} / ${MBabs(sw.wasmBig)}`, '-', '', 'no growth', verdict(sw.wasmNoGrowthRuns === sw.runs));
  detail('Memory growth after delivery and GC (JS heap + wasm)', MB(w.memAfter), MB(ow.memAfter), ratio(w.memAfter, ow.memAfter), '', '');

  const lossOk = w.delivered >= spans || w.delivered + w.dropped >= spans;
  row(`Spans delivered of ${n} (burst + flush())`, int(w.delivered), int(ow.delivered), ratio(w.delivered, ow.delivered), 'all, or loss counted', verdict(lossOk));
  detail('  … loss reported by the agent', int(w.dropped), '0 (silent)', '', '', '');
  row('Wire bytes per span (as sent)', B(w.bytesPerSpan), B(ow.bytesPerSpan), ratio(w.bytesPerSpan, ow.bytesPerSpan), '≤ 40 B', verdict(w.bytesPerSpan <= 40));
  detail('  … if the bodies were gzipped (level 6)', B(w.gzipBytesPerSpan), B(ow.gzipBytesPerSpan), ratio(w.gzipBytesPerSpan, ow.gzipBytesPerSpan), '', '');
  detail('Time from burst to last span at the sink', ms(w.deliveryMs), ms(ow.deliveryMs), ratio(w.deliveryMs, ow.deliveryMs), '', '');
  return out;
}

export function markdownTable(header, body) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...body.map(line)].join('\n');
}

export function textTable(header, body) {
  const all = [header, ...body.filter((r) => !r.detail)];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  return all.map((r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

// ---------------------------------------------------------------- RESULTS.md

export function resultsMarkdown(res, header, body) {
  const s = res.sizes;
  const out = [];
  const p = (...lines) => out.push(...lines);
  p('# Benchmark: Waggle and the OpenTelemetry JS web stack', '');
  p(
    `Run ${res.date} in headless ${res.browser} on ${res.machine}; ${res.runsPerAgent} runs per agent and per way of loading, alternating, medians. ` +
      `Load average ${res.loadAverage.start.map((x) => x.toFixed(1)).join('/')} at start (the machine is shared, so timings carry noise); the run took ${res.seconds.toFixed(0)} s. ` +
      'Produced by `make bench` (bench/run.mjs); every run\'s figures are in bench/results.json. KB = 1,000 B.',
    '',
  );
  p(markdownTable(header, body), '');
  notes(res, p);

  p('## Download sizes', '');
  p('Each file compressed on its own (`gzip -9 -n`, and brotli quality 11), as the browser fetches it; a way of loading is the sum of its files. The inline snippet travels inside the page\'s HTML: it is counted here as its script compressed alone.', '');
  const f = s.files;
  const line = (k, v) => [k, v.raw, v.gzip, v.brotli];
  p(markdownTable(['What', 'raw B', 'gzip -9 B', 'brotli 11 B'], [
    line('pkg/snippet.html, its inline script (recorder + queueing stub)', f.inline),
    line('pkg/waggle.snippet.js (the rest of the shell)', f.snippetJs),
    line('pkg/waggle.wasm', f.wasm),
    line('**(a) snippet path**: the three above', s.ways.snippet),
    line('pkg/index.js (the npm module, minified)', f.indexJs),
    line('**(b) ES module without a bundler**: index.js + waggle.wasm', s.ways.esm),
    line(`app bundle: bench/app-entry.js importing every export, esbuild --minify (${s.appEntryBytes} B of it the app's own code)`, f.appJs),
    line('**(c) npm path**: app bundle + waggle.wasm', s.ways.npm),
    line('**OpenTelemetry**: bench/otel-entry.js bundled, esbuild --minify', s.ways.otel),
  ]), '');

  const wn = res.wasm.named;
  const ws = res.wasm.shipped;
  p('## Where the wasm\'s bytes go', '');
  p(`The shipped pkg/waggle.wasm (${ws.bytes} B, ${s.files.wasm.gzip} B gzip -9) has no name section; its sections:`, '');
  p(markdownTable(['Section (shipped)', 'bytes'], ws.sections.filter((x) => x.bytes > 20).map((x) => [x.name, x.bytes])), '');
  if (wn) {
    p(`Functions are named from the module as rustc linked it, before wasm-opt (${wn.file}, ${wn.code} B of code against ${ws.code} B shipped: wasm-opt -Oz inlines and merges functions, so sizes there are before that). \`node bench/lib/wasm-size.mjs ${wn.file}\` prints the full report; bench/out/wasm-size.txt has it for this run.`, '');
    p(markdownTable(['Code by crate (before wasm-opt)', 'bytes', 'share', 'functions'], wn.byCrate.slice(0, 8).map((g) => [g.key, g.bytes, `${((100 * g.bytes) / wn.code).toFixed(1)}%`, g.functions])), '');
    p(markdownTable(['waggle_rum by module (before wasm-opt)', 'bytes', 'functions'], wn.byWaggleModule.slice(0, 16).map((g) => [g.key, g.bytes, g.functions])), '');
    p(markdownTable(['Largest functions (before wasm-opt)', 'bytes'], wn.topFunctions.slice(0, 15).map((x) => [`\`${x.name.slice(0, 110)}\``, x.bytes])), '');
    p(markdownTable(['Data section (before wasm-opt)', 'bytes'], Object.entries(wn.data.kinds).map(([k, v]) => [k, v])), '');
  }
  if (res.shellBySource) {
    const js = res.shellBySource;
    const files = [...new Set([...js.inline, ...js.snippetJs, ...js.index].map((g) => g.key))];
    const of = (list, k) => list.find((g) => g.key === k)?.bytes ?? '';
    p('## Where the JavaScript\'s bytes go', '');
    p('Minified bytes each source file adds to the shell\'s three scripts (built again from js/ as scripts/build.sh builds them, with an esbuild metafile):', '');
    p(markdownTable(['Source', 'inline snippet', 'waggle.snippet.js', 'index.js'], files.map((k) => [`js/${k}`, of(js.inline, k), of(js.snippetJs, k), of(js.index, k)])), '');
  }
  p(markdownTable(['OpenTelemetry bundle by package (minified bytes)', 'bytes'], res.otelByPackage.slice(0, 14).map((g) => [g.key, g.bytes])), '');

  if (res.profile) resultsProfile(res, p);
  sampleSpans(res, p);
  method(res, p);
  return `${out.join('\n')}\n`;
}

// What the runs show behind a MISS that is the agent's behaviour rather
// than its size or speed: the evidence, from the raw runs.
function notes(res, p) {
  const out = [];
  const list = (xs, f) => xs.map(f).join(', ');
  for (const how of WAYS) {
    const runs = res.runs.early[how] ?? [];
    for (const k of ['fetch', 'click', 'error']) {
      const bad = runs.filter((r) => !r[k].ok);
      if (!bad.length) continue;
      const lost = bad.filter((r) => !r[k].arrived);
      const late = bad.filter((r) => r[k].arrived);
      if (late.length) {
        out.push(`- ${WAY_NAMES[how]}: the ${k}'s span (\`${late[0][k].name}\`) starts ${list(late, (r) => (r[k].startMs - r[k].trueMs).toFixed(0))} ms after the ${k} happened (runs ${list(late, (r) => runs.indexOf(r) + 1)}): ${list(late, (r) => (r[k].startMs - r.wasmArrivedMs).toFixed(0))} ms after the module arrived and ${list(late, (r) => (r.readyMs - r[k].startMs).toFixed(0))} ms before init resolved, so it carries the time the module took it in, not its own.`);
      }
      if (lost.length) out.push(`- ${WAY_NAMES[how]}: no span for the ${k} reached the sink (runs ${list(lost, (r) => runs.indexOf(r) + 1)}).`);
    }
  }
  for (const how of WAYS) {
    const own = (res.runs.early[how] ?? []).flatMap((r) => (r.requests ?? []).filter((q) => /\/waggle\.wasm$/.test(q)));
    if (own.length) out.push(`- ${WAY_NAMES[how]}: the agent's own download of its module is sent as one of the page's requests (\`${own[0].replace(/https?:\/\/[^/]+/, '')}\`, in ${own.length} of ${res.runs.early[how].length} runs).`);
  }
  const loads = (res.runs.load.waggle ?? []).filter((r) => r.agentMs >= TASK_BUDGET_MS);
  if (loads.length) {
    const atReady = loads.filter((r) => r.readyMs != null && Math.abs(r.agentTaskAtMs - r.readyMs) < 30);
    out.push(`- Page load with 1,000 resources: Waggle's work in one task was ${list(loads, (r) => r.agentMs.toFixed(0))} ms (tasks of ${list(loads, (r) => r.agentTaskMs.toFixed(0))} ms)${atReady.length === loads.length ? `, ${loads.length > 1 ? 'each time ' : ''}in the task where init resolved (${list(loads, (r) => r.readyMs.toFixed(0))} ms, after \`load\` at ${list(loads, (r) => r.loadEventMs.toFixed(0))} ms: the module's files queue behind the 1,000 images): the module's first run takes in at once everything recorded while it loaded` : ''}.`);
  }
  const hides = (res.runs.burst.waggle ?? []).filter((r) => r.hide.syncMs >= TASK_BUDGET_MS);
  if (hides.length) {
    const r0 = hides[0];
    out.push(`- Hide after a burst: dispatching visibilitychange and pagehide took ${list(hides, (r) => r.hide.syncMs.toFixed(0))} ms, inside Waggle's handlers, with the burst's ${num(res.spansPerBurst)} spans waiting; of them ${num(r0.hide.delivered)} reached the sink, ${num(r0.hide.dropped)} were counted lost (\`waggle.dropped_spans\`) and \`localStorage['waggle.unsent']\` held ${r0.hide.storedChars.toLocaleString('en-US')} characters afterwards (run 1).`);
  }
  if (!out.length) return;
  p('What the runs show of the agent\'s behaviour, behind the misses that are not size or speed:', '', ...out, '');
}

function resultsProfile(res, p) {
  const pr = res.profile;
  const f = (x) => (x == null ? '-' : `${x.toFixed(1)} ms`);
  p('## Start-up, split', '');
  p('On a page with no agent, each step run by hand (medians of the runs). Waggle: index.js imported from a `blob:` URL (parse and evaluate), `loadAgent(bytes)` (compile and instantiate the module), `init()` up to its return (the recorder\'s hooks), and until it resolves (the module takes the options and what was recorded). OpenTelemetry: its bundle imported from a `blob:` URL, then `init()`.', '');
  const sw = pr.startup.waggle;
  const so = pr.startup.otel;
  p(markdownTable(['Step', 'Waggle', 'OpenTelemetry'], [
    ['parse + evaluate the JavaScript', f(sw.evaluateMs), f(so.evaluateMs)],
    ['loadAgent(bytes): compile + instantiate', f(sw.loadMs), '-'],
    ['init() until it returns (recording from here)', f(sw.initSyncMs), f(so.initSyncMs)],
    ['init() until it resolves', f(sw.initMs), f(so.initMs)],
  ]), '');
  p('## Per-span cost, split', '');
  for (const k of ['waggle', 'otel']) {
    const b = pr.burst[k];
    if (!b) continue;
    p(`${k === 'waggle' ? 'Waggle (the npm module unminified, with the module before wasm-opt, whose functions are named)' : 'OpenTelemetry (its bundle unminified)'}: CPU profile of one burst (sampling 50 µs; ${b.burstMs.toFixed(0)} ms for ${res.spansPerBurst} spans under the profiler; ${b.loopMs.toFixed(0)} ms of samples inside the loop), each sample charged to the first bucket a frame on its stack matches. bench/out/burst-${k}.cpuprofile opens in DevTools.`, '');
    p(markdownTable(['bucket', 'ms', 'share'], b.loop.map((e) => [e.key, e.ms.toFixed(1), `${(100 * e.share).toFixed(1)}%`])), '');
  }
  const pw = pr.perSpan.waggle;
  const po = pr.perSpan.otel;
  if (pw && po) {
    p(markdownTable(['Fastest of 5 loops of 2,000 spans (no export inside the loop for Waggle: batch size 5,000)', 'Waggle µs/span', 'OpenTelemetry µs/span'], [
      ['start, 5 string attributes, end', pw.withAttrsUs.toFixed(2), po.withAttrsUs.toFixed(2)],
      ['start, end (no attributes)', pw.bareUs.toFixed(2), po.bareUs.toFixed(2)],
      ['flush() of those 2,000 spans: its synchronous part', pw.flushUs.toFixed(2), po.flushUs.toFixed(2)],
      ['(OpenTelemetry keeps its defaults: its batch processor serialises and posts 512 spans inside each loop)', '', ''],
    ]), '');
  }
}

function sampleSpans(res, p) {
  const first = (k) => res.runs.burst[k]?.find((r) => r.sample)?.sample?.span;
  if (!first('waggle')) return;
  p('## One span on the wire', '');
  for (const k of ['waggle', 'otel']) {
    const sp = first(k);
    if (!sp) continue;
    p(`${k === 'waggle' ? 'Waggle' : 'OpenTelemetry'} (${JSON.stringify(sp).length} B as JSON, before the request's resource and scope):`, '', '```json', JSON.stringify(sp), '```', '');
  }
}

function method(res, p) {
  p('## What was measured, and how', '');
  p(
    `- Pages: a fresh browser context per page, every file served with \`Cache-Control: no-store\` by a local server; spans go as OTLP/JSON to a local sink on another origin (it decodes gzip bodies). Each of the ${res.runsPerAgent} runs opens, Waggle and OpenTelemetry alternating (and in turn first): the start-up pages, the early-actions pages, the 1,000-resource load page, the burst page and the shutdown page; the load page once more with no agent in the first run. Both agents with their default settings. Each page's bootstrap script runs before any agent: it keeps the page's own \`setTimeout\` and \`fetch\` and registers the \`longtask\` observer; the harness drives the page over CDP, so no agent hook sees it.`,
    '- Ways of loading Waggle: (a) the inline snippet of pkg/snippet.html in `<head>` (its recorder starts there; it fetches waggle.snippet.js and waggle.wasm in parallel, with their SHA-384), then `waggle.init(options)` on its queueing stub; (b) `<script type="module">` importing /waggle-rum/index.js (pkg/index.js as published), then `init(options)`; (c) bench/app-entry.js, an app importing every export of the package from node_modules, bundled and minified by esbuild, waggle.wasm served next to the bundle. OpenTelemetry: bench/otel-entry.js bundled and minified by esbuild, imported by a module script, then its `init`. The load, burst and shutdown pages load Waggle through the snippet.',
    `- OpenTelemetry packages: ${Object.entries(res.otelPackages).map(([k, v]) => `${k.replace('@opentelemetry/', '')} ${v}`).join(', ')}; web tracer provider, batch span processor, OTLP/HTTP exporter, document-load, fetch, xml-http-request and user-interaction instrumentations, no zone.js. Its \`shutdown\` unregisters the instrumentations and shuts the provider down.`,
    '- Download: the files each way of loading fetches, each compressed on its own with `gzip -9 -n` and added up; budget 28,000 B (KB = 1,000 B) on each way.',
    '- Navigation start → instrumentation active, in `performance.now()` time (0 = navigation start) on a light page. "Recording" is when `init()` has returned with its hooks in place (checked: `window.fetch` is no longer the page\'s own); through the snippet, when the stub\'s `init` returned, right after the inline snippet ran. "Module ready" is when `init()` resolved. OpenTelemetry is active when its `init` has returned (its instrumentations register synchronously; it resolves in the same task). The budget (≤ 1/3 of OpenTelemetry\'s) is on recording. "The page\'s first script" is when the bootstrap, the first script in `<head>`, began: what navigation itself costs, the same for every agent.',
    `- Before the wasm is ready: right after \`init()\` the page calls \`fetch('/bench/ping?early=1')\`, clicks its button (\`button.click()\`) and, in a timer of its own, throws an uncaught Error; the server holds waggle.wasm back until the page has done all three (it says so with its own fetch, which no agent sees) and at least ${res.wasmDelayMs} ms. The run checks that all three happened before waggle.wasm's \`responseEnd\` (Resource Timing); once init resolved the page calls \`flush()\`. PASS when in every run the sink received the fetch span, the click span and the exception span, each starting before the module arrived and within ${res.trueTimeMs} ms of the moment the page acted.`,
    '- Longest task, page load with 1,000 resources: 1,000 1×1 GIF images (in a hidden `<div>`, so laying them out costs the page nothing), from navigation start until the load\'s spans are at the sink (half a second after `load` the page calls `flush()`; then 600 ms without a request). A Chromium trace (categories toplevel, blink.user_timing and V8\'s sampling profiler) gives the main thread\'s top-level tasks and a stack every 0.1–0.5 ms; a sample is the agent\'s when a frame on its stack is in the agent\'s files or in the page\'s own inline script (on this page the bootstrap is an external file, so the page\'s inline script is only the snippet or the lines importing the agent). The figure is the most agent time in one task; the rows below give that task whole, then the longest long task the observer saw during the load whatever ran in it, with the agent and with no agent at all (the page alone, traced no further, makes long tasks of its own: parsing, 1,000 requests).',
    '- Longest task, the other cases (light page): the longest top-level task of the main thread in the window, from the trace; the `longtask` observer gives the count over 50 ms. Burst: from the task that makes the spans and calls `flush()` until its spans are at the sink. Hide: in the task after a second burst and `flush()`, `document.visibilityState` is made to read hidden and `visibilitychange` is dispatched on document, then `pagehide` (persisted false) on window, as a browser does; from that task until the sink is quiet. Shutdown: `shutdown()` in the task after a burst (without flush); from that task until the sink is quiet. The synchronous duration of `flush()`, of the hide dispatch and of `shutdown()` is timed around the call. The budget is judged on the median of the runs.',
    `- Cost per span: ${res.spansPerBurst} × (\`startSpan\` with 5 string attributes, \`end\`) in one task, timed with \`performance.now()\` around the loop (the flush() after it is not in it); the task is started over CDP with the page's own setTimeout. It includes whatever export work each agent does inside the loop. The CPU line scales the loop's wall time by its task's CPU share in the trace.`,
    `- Memory: CDP \`Runtime.getHeapUsage\` (used JS heap) after a forced GC before the burst and right after the burst's task (no GC), plus Waggle's \`WebAssembly.Memory\` size (\`(await loadAgent()).memory.buffer.byteLength\`; it never shrinks). "After delivery and GC": once the spans are at the sink, after a forced GC. The no-growth check, on the shutdown page: the wasm memory once a ${res.spansPerBurst}-span burst has been flushed and delivered, then once a ${res.bigBurst}-span burst has; PASS when the second is not larger, in every run. OpenTelemetry keeps at most 2,048 spans queued and drops the rest without a word, which bounds its memory.`,
    '- Delivered: spans named `bench.span` at the sink once it has been quiet for 0.8 s with all in (or counted lost by the agent in `waggle.dropped_spans`), else for 1.5 s. Bytes per span: request bodies as sent (after the burst began) divided by the spans in them; the gzip line compresses the same bodies at level 6, as `CompressionStream` would.',
    '- Wall-clock figures on a shared 2-core machine stretch with the load average; the CPU-time lines do not, so compare ratios on both.',
    '',
  );
}
