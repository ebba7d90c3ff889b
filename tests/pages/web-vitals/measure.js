// What the page itself measures with PerformanceObserver, reduced to plain
// data the test reads back. CLS and the selectors follow the web-vitals
// definitions, written out independently here.
window.seen = { lcp: [], shifts: [], events: [], paints: [] };

function selectorOf(node) {
  let sel = '';
  while (node && node.nodeType !== 9) {
    const name = node.nodeType === 1 ? node.nodeName.toLowerCase() : node.nodeName.toUpperCase().replace(/^#/, '');
    const classes = node.classList && node.classList.value.trim();
    const part = node.id ? `#${node.id}` : name + (classes ? `.${classes.replace(/\s+/g, '.')}` : '');
    if (sel.length + part.length > 99) return sel || part;
    sel = sel ? `${part}>${sel}` : part;
    if (node.id) break;
    node = node.parentNode;
  }
  return sel;
}

new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    seen.lcp.push({ startTime: e.startTime, renderTime: e.renderTime, loadTime: e.loadTime, size: e.size, url: e.url, element: e.element ? selectorOf(e.element) : null });
  }
}).observe({ type: 'largest-contentful-paint', buffered: true });

new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const source = e.sources.find((s) => s.node && s.node.nodeType === 1) || e.sources[0];
    seen.shifts.push({ startTime: e.startTime, value: e.value, hadRecentInput: e.hadRecentInput, target: source ? selectorOf(source.node) : null });
  }
}).observe({ type: 'layout-shift', buffered: true });

new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    seen.events.push({ name: e.name, interactionId: e.interactionId, startTime: e.startTime, duration: e.duration, processingStart: e.processingStart, processingEnd: e.processingEnd, target: e.target ? selectorOf(e.target) : null });
  }
}).observe({ type: 'event', buffered: true, durationThreshold: 16 });

new PerformanceObserver((list) => {
  for (const e of list.getEntries()) seen.paints.push({ name: e.name, startTime: e.startTime });
}).observe({ type: 'paint', buffered: true });

// CLS: session windows of shifts without recent input, less than 1 s apart
// and within 5 s of the window's first; the largest window's sum.
window.pageCls = () => {
  let best = { value: 0, entries: [] };
  let cur = { value: 0, entries: [] };
  for (const s of seen.shifts) {
    if (s.hadRecentInput) continue;
    const first = cur.entries[0];
    const last = cur.entries[cur.entries.length - 1];
    if (cur.value && s.startTime - last.startTime < 1000 && s.startTime - first.startTime < 5000) {
      cur = { value: cur.value + s.value, entries: [...cur.entries, s] };
    } else {
      cur = { value: s.value, entries: [s] };
    }
    if (cur.value > best.value) best = cur;
  }
  const largest = best.entries.reduce((a, b) => (a && a.value > b.value ? a : b), null);
  return { value: best.value, largest };
};

window.pageNav = () => {
  const nav = performance.getEntriesByType('navigation')[0];
  return { type: nav.type, responseStart: nav.responseStart, activationStart: nav.activationStart || 0, originUs: Math.round(performance.timeOrigin * 1000) };
};
