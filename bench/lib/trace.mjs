// A light Chromium trace of a page: its main thread's top-level tasks with
// their wall and CPU time, and the page's `bench-*` user-timing marks, so
// the longest task in a stretch of the page's life can be read even when
// it is under the 50 ms a `longtask` entry needs, and as CPU time, which
// other processes on a shared machine disturb far less than wall time.

/**
 * Starts tracing over a CDP session; `stop()` returns a view of the page's
 * main thread. `samples`: also V8's sampling profiler (a stack every
 * 0.1–0.5 ms), so the time each task spent in given scripts can be told.
 */
export async function startTrace(cdp, { samples = false } = {}) {
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  const categories = ['toplevel', 'blink.user_timing', ...(samples ? ['disabled-by-default-v8.cpu_profiler'] : [])];
  await cdp.send('Tracing.start', { categories: categories.join(','), transferMode: 'ReportEvents' });
  return {
    async stop() {
      const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
      await cdp.send('Tracing.end');
      await done;
      return mainThreadView(events);
    },
  };
}

/**
 * The main thread of the renderer that made the `bench-origin` mark.
 * `originMs` is that mark's page time (performance.now()), which ties the
 * trace's clock to the page's.
 */
export function mainThreadView(events, originMs = 0) {
  const marks = events.filter((e) => e.cat?.includes('blink.user_timing') && /^bench-/.test(e.name));
  const origin = marks.find((m) => m.name === 'bench-origin');
  if (!origin) throw new Error('trace: the page\'s bench-origin mark is not in the trace');
  const pid = origin.pid;
  const main = events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === pid && e.args?.name === 'CrRendererMain');
  if (!main) throw new Error('trace: no renderer main thread');
  const tasks = events
    .filter((e) => e.pid === pid && e.tid === main.tid && e.ph === 'X' && /RunTask/.test(e.name) && e.dur != null)
    .sort((a, b) => a.ts - b.ts);
  // Nested RunTask events (ThreadControllerImpl::RunTask inside RunTask)
  // would count twice: keep the outermost.
  const top = [];
  for (const t of tasks) if (!top.length || t.ts >= top[top.length - 1].ts + top[top.length - 1].dur) top.push(t);
  let offset = origin.ts - originMs * 1000;
  const stacks = samplesOf(events, pid, main.tid);
  return {
    /** Sets the page time of the bench-origin mark. */
    setOrigin(ms) {
      offset = origin.ts - ms * 1000;
    },
    /** Page time (ms) → trace time (µs). */
    ts: (ms) => offset + ms * 1000,
    /** Top-level tasks overlapping [fromMs, toMs] (page times): { startMs, ms, cpuMs }. */
    tasks(fromMs, toMs) {
      const from = offset + fromMs * 1000;
      const to = offset + toMs * 1000;
      return top
        .filter((t) => t.ts + t.dur > from && t.ts < to)
        .map((t) => ({ startMs: (t.ts - offset) / 1000, ms: t.dur / 1000, cpuMs: (t.tdur ?? t.dur) / 1000 }));
    },
    /** The longest of those. */
    longest(fromMs, toMs) {
      return this.tasks(fromMs, toMs).reduce((m, t) => (t.ms > m.ms ? t : m), { startMs: null, ms: 0, cpuMs: 0 });
    },
    /**
     * For each task overlapping [fromMs, toMs], the sampled time whose
     * stack has a frame `isOwn(url)` accepts: { startMs, ms, cpuMs, ownMs }.
     */
    tasksWithOwn(fromMs, toMs, isOwn) {
      if (!stacks) throw new Error('trace: no samples (start the trace with samples: true)');
      const list = this.tasks(fromMs, toMs);
      const own = new Map();
      const { times, durs, leaf, parentOf, frames } = stacks;
      const cache = new Map();
      const mine = (id) => {
        if (cache.has(id)) return cache.get(id);
        let yes = false;
        for (let n = id; n != null; n = parentOf.get(n)) {
          if (isOwn(frames.get(n)?.url ?? '')) {
            yes = true;
            break;
          }
        }
        cache.set(id, yes);
        return yes;
      };
      let k = 0;
      for (let i = 0; i < times.length; i++) {
        if (!mine(leaf[i])) continue;
        const ms = (times[i] - offset) / 1000;
        while (k < list.length && list[k].startMs + list[k].ms < ms) k++;
        if (k >= list.length) break;
        const t = list[k];
        if (ms >= t.startMs) own.set(t, (own.get(t) ?? 0) + durs[i] / 1000);
      }
      return list.map((t) => ({ ...t, ownMs: own.get(t) ?? 0 }));
    },
    /** The task running at page time `ms`. */
    taskAt(ms) {
      const ts = offset + ms * 1000;
      const t = top.find((x) => x.ts <= ts && ts <= x.ts + x.dur);
      return t ? { startMs: (t.ts - offset) / 1000, ms: t.dur / 1000, cpuMs: (t.tdur ?? t.dur) / 1000 } : null;
    },
  };
}

// The samples of V8's profiler on one thread, from the trace's Profile and
// ProfileChunk events: per sample its time (trace µs), how long it stands
// for (until the next sample) and its leaf node; the node tree.
function samplesOf(events, pid, tid) {
  const profile = events.find((e) => e.name === 'Profile' && e.pid === pid && e.tid === tid);
  if (!profile) return null;
  const chunks = events.filter((e) => e.name === 'ProfileChunk' && e.pid === pid && e.id === profile.id);
  const frames = new Map();
  const parentOf = new Map();
  const times = [];
  const leaf = [];
  let t = profile.args.data.startTime;
  for (const c of chunks) {
    const d = c.args.data;
    for (const n of d.cpuProfile?.nodes ?? []) {
      frames.set(n.id, n.callFrame);
      if (n.parent != null) parentOf.set(n.id, n.parent);
    }
    const samples = d.cpuProfile?.samples ?? [];
    const deltas = d.timeDeltas ?? [];
    for (let i = 0; i < samples.length; i++) {
      t += deltas[i] ?? 0;
      times.push(t);
      leaf.push(samples[i]);
    }
  }
  const durs = times.map((x, i) => (i + 1 < times.length ? Math.min(times[i + 1] - x, 5000) : 0));
  return { times, durs, leaf, parentOf, frames };
}
