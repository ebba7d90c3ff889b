// A page of the soak test: the agent, and a few app spans a second, each
// with an id of its own. Every page view has its own id and counter, kept
// in sessionStorage under a key only it writes, so the test can tell which
// spans were made even by a page that was left, cached or reloaded since.
import * as waggle from '/pkg/index.js';

const params = new URLSearchParams(location.search);
const tab = params.get('tab');
const view = `${tab}.${Math.round(performance.timeOrigin)}.${Math.random().toString(36).slice(2, 8)}`;
const key = `soak.view.${view}`;
let made = 0;
let timer = null;

window.waggle = waggle;
window.soakView = view;
window.restores = 0;

// Whether the page has been hidden (pagehide) and not shown again: a span
// made then is noted apart, for the test's summary.
let hidden = false;
addEventListener('pagehide', () => { hidden = true; });
addEventListener('pageshow', () => { hidden = false; });
addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') hidden = false; });

function produce() {
  const uid = `${view}#${made}`;
  waggle.startSpan('soak.tick', { 'test.uid': uid, 'test.tab': tab }).end();
  made += 1;
  sessionStorage.setItem(key, String(made));
  if (hidden || document.visibilityState === 'hidden') {
    const late = `soak.late.${view}`;
    sessionStorage.setItem(late, `${sessionStorage.getItem(late) ?? ''}${uid} `);
  }
  if (typeof window.soakReport === 'function') window.soakReport(uid).catch(() => {});
}

function start() {
  // produce=0: the page that ends the soak only sends what is left.
  if (params.get('produce') === '0') return;
  if (timer === null && !window.soakStopped) timer = setInterval(produce, Number(params.get('every') || 300));
}

/**
 * Stops making spans; returns every view's count this tab recorded, and
 * the spans made while their page was hidden.
 */
window.soakStop = () => {
  window.soakStopped = true;
  clearInterval(timer);
  timer = null;
  const views = {};
  const late = [];
  for (let i = 0; i < sessionStorage.length; i++) {
    const k = sessionStorage.key(i);
    if (k.startsWith('soak.view.')) views[k.slice('soak.view.'.length)] = Number(sessionStorage.getItem(k));
    if (k.startsWith('soak.late.')) late.push(...sessionStorage.getItem(k).trim().split(' '));
  }
  return { views, late };
};

const tell = (kind) => {
  if (typeof window.soakEvent === 'function') window.soakEvent(kind, view).catch(() => {});
};
addEventListener('pageshow', (e) => {
  if (e.persisted) {
    window.restores += 1;
    tell('restored');
  }
});
tell('loaded');

// The page that ends the soak says what it sends and what it hears back.
const last = params.get('produce') === '0';
window.ready = waggle.init({ serviceName: 'soak', endpoint: params.get('endpoint'), debug: last }).then(
  () => {
    start();
    return true;
  },
  (e) => String(e),
);
