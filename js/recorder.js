// The recorder: everything the agent observes on the page, as raw
// observations for the module to decide about. It starts with the agent's
// first byte (inline in the snippet; from init() in the npm module) and
// records into `H.q` until the module is ready; from then on the shell
// feeds them in (`H.push` batches, `H.call` when an answer is needed at
// once: the headers of a request, whether a timer is followed).
//
// Nothing here decides anything: hooks read what happened and pass it on.
// Every hook behaves as the function it wraps: same `this`, arguments,
// return value and errors, at most one stack frame of its own between the
// page's code and the browser's, and the page's original called exactly
// once whatever happens in the agent.
import * as P from './protocol.js';

const RESOURCE_FIELDS = [
  'name', 'initiatorType', 'startTime', 'responseEnd', 'fetchStart', 'domainLookupStart', 'domainLookupEnd',
  'connectStart', 'secureConnectionStart', 'connectEnd', 'requestStart', 'responseStart', 'workerStart',
  'responseStatus', 'transferSize', 'encodedBodySize', 'decodedBodySize', 'nextHopProtocol',
];
const NAVIGATION_FIELDS = [
  'type', 'unloadEventStart', 'unloadEventEnd', 'domInteractive', 'domContentLoadedEventStart',
  'domContentLoadedEventEnd', 'domComplete', 'loadEventStart', 'loadEventEnd', 'redirectEnd', 'activationStart',
];
// The RequestInit members browsers read: copied onto a new init when a
// request gets trace headers, read once with the caller's object as
// receiver, so no getter runs twice or with the wrong `this`.
const UNSENT = 'waggle.unsent';
const INIT_MEMBERS = [
  'adAuctionHeaders', 'attributionReporting', 'body', 'browsingTopics', 'cache', 'credentials', 'duplex',
  'headers', 'integrity', 'keepalive', 'method', 'mode', 'priority', 'privateToken', 'redirect', 'referrer',
  'referrerPolicy', 'sharedStorageWritable', 'signal', 'targetAddressSpace', 'window',
];

/**
 * Starts recording on window `w`. Returns the hub the shell attaches to:
 * `q` (observations waiting), `push`, `call`, `cur` (the current span's
 * context, for the app's spans), `F`/`T` (the page's own fetch and
 * setTimeout), `stop()`.
 */
export function record(w) {
  const d = w.document;
  const perf = w.performance;
  const now = () => perf.now();
  const undo = [];
  const H = {
    q: [],
    // Set by the shell: feeds observations into the module.
    feed: null,
    // The answer of the last call, set by the shell from a command.
    a: undefined,
    cur: undefined,
    off: false,
    rx: [],
    ev: ['click'],
    sp: true,
    F: w.fetch,
    T: w.setTimeout,
    scheduled: false,
    // Until the module runs, a page that never gets it must not grow
    // without bound.
    push(rec) {
      if (H.off) return;
      if (H.q.length < 5000) H.q.push(rec);
      if (H.feed && !H.scheduled) {
        H.scheduled = true;
        queueMicrotask(() => {
          H.scheduled = false;
          H.feed();
        });
      }
    },
    call(rec) {
      H.a = undefined;
      if (H.off) return undefined;
      H.q.push(rec);
      if (H.feed) H.feed();
      return H.a;
    },
    stop() {
      H.off = true;
      for (const u of undo.splice(0)) {
        try {
          u();
        } catch {
          // A listener or hook that cannot be removed stays inert.
        }
      }
    },
  };

  // ------------------------------------------------------------- helpers

  const listen = (target, type, fn, capture = true) => {
    if (!target) return;
    const h = (e) => {
      if (!H.off) fn(e);
    };
    target.addEventListener(type, h, { capture, passive: true });
    undo.push(() => target.removeEventListener(type, h, { capture }));
  };

  // Replaces obj[name] with a Proxy of itself (same name, length and
  // toString()) whose `apply` trap is the hook: the one frame between the
  // caller and the original. `stop()` deletes the trap, so a Proxy someone
  // kept (or wrapped after us) calls straight through, and puts the very
  // original back unless someone wrapped it after us.
  const hook = (obj, name, apply) => {
    const orig = obj && obj[name];
    if (typeof orig !== 'function') return;
    const handler = { apply };
    const proxy = new Proxy(orig, handler);
    obj[name] = proxy;
    undo.push(() => {
      delete handler.apply;
      if (obj[name] === proxy) obj[name] = orig;
    });
  };

  // Runs agent work so that a failure of its own never reaches the page.
  const safe = (f) => {
    try {
      return f();
    } catch (e) {
      H.fail && H.fail(e);
      return undefined;
    }
  };

  const rx = (url) => {
    let bits = 0;
    H.rx.forEach((re, i) => {
      re.lastIndex = 0;
      if (i < 31 && re.test(url)) bits |= 1 << i;
    });
    return bits;
  };

  const abs = (u) => {
    try {
      if (typeof u === 'string') return new URL(u, d.baseURI).href;
      if (u instanceof URL) return u.href;
    } catch {
      // Not a URL: the browser rejects the call itself.
    }
    return undefined;
  };

  // The size of a body the browser sends without reading it: a string
  // (as UTF-8), bytes, a Blob, URLSearchParams. FormData and streams have
  // none until sent.
  const size = (b) => {
    if (typeof b === 'string') return new TextEncoder().encode(b).length;
    if (b instanceof ArrayBuffer || ArrayBuffer.isView(b)) return b.byteLength;
    if (w.Blob && b instanceof Blob) return b.size;
    if (b instanceof URLSearchParams) return b.toString().length;
    return undefined;
  };

  const serverTiming = (list) => {
    for (const s of list || []) if (/^traceparent$/i.test(s.name)) return s.description;
    return '';
  };

  const entry = (e) => [...RESOURCE_FIELDS.map((k) => e[k]), serverTiming(e.serverTiming)];

  // The path from a node up the DOM: [nodeType, name, id, class, nth,
  // ofType, idIsUnique] per element, up to an id that names it alone.
  const path = (n) => {
    const out = [];
    for (let depth = 0; n && n.nodeType !== 9 && depth < 32; depth++, n = n.parentNode) {
      if (n.nodeType !== 1) {
        out.push([n.nodeType, n.nodeName]);
        continue;
      }
      const tag = n.localName;
      const id = n.id || '';
      const unique = !!id && d.getElementById(id) === n;
      let nth = 1;
      let of = 1;
      for (let s = n.previousElementSibling; s; s = s.previousElementSibling) if (s.localName === tag) nth++;
      for (let s = n.nextElementSibling; s; s = s.nextElementSibling) if (s.localName === tag) of++;
      out.push([1, tag, id, (n.getAttribute && n.getAttribute('class')) || '', nth, nth + of - 1, unique]);
      if (unique) break;
    }
    return out;
  };

  // The session, and the newest page view (waggle.view) kept beside it.
  const stored = (key) => {
    try {
      return (H.sp ? w.localStorage : w.sessionStorage).getItem(key);
    } catch {
      return null;
    }
  };
  H.stored = stored;

  // What a page could not send is kept under keys of its own, one per
  // write, so tabs leaving at once never overwrite each other's; a living
  // page takes them all out and sends them. Under a lock where there is
  // one, held a moment after, so another tab's take sees the keys gone.
  H.key = `${UNSENT}.${Math.random().toString(36).slice(2)}`;
  const claim = () => {
    // Only with consent granted (the shell sets `ok`).
    if (!H.ok) return;
    const take = () =>
      safe(() => {
        const ls = w.localStorage;
        const keys = [];
        for (let i = 0; i < ls.length; i++) keys.push(ls.key(i));
        let v = '';
        for (const k of keys) {
          if (!k.startsWith(UNSENT)) continue;
          const s = ls.getItem(k);
          ls.removeItem(k);
          if (s && s.startsWith('w1')) v += s.slice(2);
        }
        if (v) H.push([P.UNSENT, `w1${v}`]);
      });
    const locks = w.navigator.locks;
    if (!locks) return take();
    locks.request(UNSENT, () => {
      take();
      return new Promise((r) => H.T.call(w, r, 50));
    }).catch(() => {});
  };
  H.claim = claim;
  // Consent denied: every key the agent writes goes, whichever page wrote it.
  H.wipe = () => {
    for (const n of ['localStorage', 'sessionStorage']) {
      try {
        const s = w[n];
        for (let i = s.length; i--; ) {
          const k = s.key(i);
          if (k === 'waggle.session' || k === 'waggle.view' || k.startsWith(UNSENT)) s.removeItem(k);
        }
      } catch {
        // Storage off: nothing was kept there.
      }
    }
  };

  // What a thrown value or rejection reason says, read here since its
  // getters are page code: [isError, name, constructorName, message,
  // stack, text].
  const thrown = (v) => {
    try {
      if (v instanceof Error || (v && typeof v === 'object' && typeof v.stack === 'string' && typeof v.message === 'string')) {
        return [true, v.name, v.constructor && v.constructor.name, v.message, v.stack, undefined];
      }
      let text;
      if (typeof v === 'string') text = v;
      else if (typeof v === 'function') text = `function ${v.name}`;
      else if (typeof v === 'symbol') text = 'Symbol';
      else if (v && typeof v === 'object') {
        try {
          text = String(JSON.stringify(v)).slice(0, 1024);
        } catch {
          text = '[object]';
        }
      } else text = String(v);
      return [false, undefined, undefined, undefined, undefined, text];
    } catch {
      return [false, undefined, undefined, undefined, undefined, ''];
    }
  };
  H.thrown = thrown;

  // --------------------------------------------------------------- fetch

  let nextId = 0;
  hook(w, 'fetch', (orig, self, args) => {
    const start = now();
    const init = args[1];
    let members;
    if (init !== undefined && init !== null && (typeof init === 'object' || typeof init === 'function')) {
      members = [];
      // Read here, in the hook's one frame: a getter is page code. One that
      // throws rejects the fetch with its error, as the browser's would,
      // without running the getter twice.
      try {
        for (const k of INIT_MEMBERS) {
          const v = init[k];
          if (v !== undefined) members.push([k, v]);
        }
      } catch (e) {
        return Promise.reject(e);
      }
    }
    let call;
    try {
      call = prepareFetch(args, start, members);
    } catch {
      // The caller's headers are not headers: the browser's fetch will
      // reject the same with the caller's own arguments.
    }
    if (!call) return Reflect.apply(orig, self, args);
    let p;
    try {
      p = Reflect.apply(orig, self, call.args);
    } catch (e) {
      // A wrong `this` throws rather than rejects.
      safe(() => H.push([P.RESPONSE, call.id, now(), undefined, e && e.name, e && e.message, '']));
      throw e;
    }
    if (!p || typeof p.then !== 'function') return p;
    // A promise chained on the browser's, settling with the very same
    // Response or error; an unhandled rejection stays unhandled.
    return p.then(
      (r) => {
        safe(() => H.push([P.RESPONSE, call.id, now(), r.status, '', '', (r.headers && r.headers.get('server-timing')) || '']));
        return r;
      },
      (e) => {
        safe(() => H.push([P.RESPONSE, call.id, now(), undefined, (e && e.name) || '_OTHER', (e && e.message) || String(e), '']));
        throw e;
      },
    );
  });

  const prepareFetch = (args, start, read) => {
    if (!args.length) return undefined;
    const [input, init] = args;
    const hasInit = !!read;
    // An init that is not an object: the browser rejects it.
    if (!read && init !== undefined && init !== null) return undefined;
    const members = read || [];
    const member = (k) => (members.find((m) => m[0] === k) || [])[1];
    const isRequest = input instanceof Request;
    const url = isRequest ? input.url : abs(input);
    if (url === undefined) return undefined;
    let method = member('method');
    // Anything but a string would be stringified by the browser, running
    // page code: such calls are passed on untraced.
    if (method !== undefined && typeof method !== 'string') return undefined;
    if (method === undefined) method = isRequest ? input.method : 'GET';
    const given = members.some((m) => m[0] === 'headers');
    const headers = new Headers(given ? member('headers') : isRequest ? input.headers : undefined);
    const own = headers.has('traceparent');
    const id = ++nextId;
    const h = H.call([P.REQUEST, id, start, 0, url, method, size(member('body')), undefined, own]);
    if (!h || !h[0]) return { id, args };
    headers.set('traceparent', h[0]);
    if (h[1] && !headers.has('tracestate')) headers.set('tracestate', h[1]);
    // A new init: the caller's (and its Headers) are never changed. Its
    // prototype is the caller's init, so members not listed are still
    // found; listed ones are own data properties, defined (an assignment
    // would run a setter the caller's init may have).
    const next = Object.create(hasInit ? init : null);
    const own2 = (k, v) => Object.defineProperty(next, k, { value: v, writable: true, enumerable: true, configurable: true });
    for (const [k, v] of members) own2(k, v);
    own2('headers', headers);
    // A non-empty init resets a Request's referrer and referrer policy;
    // the caller's was empty, so keep the Request's.
    if (isRequest && !members.length) for (const k of ['referrer', 'referrerPolicy']) own2(k, input[k]);
    return { id, args: [input, next] };
  };

  // ----------------------------------------------------------------- XHR

  const X = w.XMLHttpRequest && w.XMLHttpRequest.prototype;
  if (X) {
    // Per request object: [method, url, page set traceparent, page set
    // tracestate, id under way]; a WeakMap, so a dropped request takes its
    // record with it.
    const recs = new WeakMap();
    const setHeader = X.setRequestHeader;
    const allHeaders = X.getAllResponseHeaders;
    const end = (xhr, r, how, err) => {
      const id = r[4];
      if (!id) return;
      r[4] = 0;
      r[5]();
      if (how === 'threw') return H.push([P.RESPONSE, id, now(), undefined, (err && err.name) || '_OTHER', err && err.message, '']);
      if (how === 'reopened') return H.push([P.RESPONSE, id, now(), undefined, 'abort', '', '']);
      if (r[6]) return H.push([P.RESPONSE, id, now(), undefined, r[6], '', '']);
      let st = '';
      try {
        // Only the headers the page may read: asking getResponseHeader
        // for a hidden one logs a console error.
        st = String(Reflect.apply(allHeaders, xhr, []))
          .split('\r\n')
          .filter((l) => /^\s*server-timing\s*:/i.test(l))
          .map((l) => l.slice(l.indexOf(':') + 1).trim())
          .join(', ');
      } catch {
        // No headers to read.
      }
      H.push([P.RESPONSE, id, now(), xhr.status, '', '', st]);
    };
    hook(X, 'open', (orig, self, args) => {
      const r = recs.get(self);
      // A request done whose loadend has not reached us yet (the page
      // reopens from an earlier listener) ends now, while its status is
      // still there to read.
      if (r && r[4] && self.readyState === 4) safe(() => end(self, r, 'loaded'));
      const result = Reflect.apply(orig, self, args);
      safe(() => {
        if (r && r[4]) end(self, r, 'reopened');
        const url = abs(args[1]);
        if (typeof args[0] === 'string' && url) recs.set(self, [args[0], url, false, false, 0]);
        else recs.delete(self);
      });
      return result;
    });
    hook(X, 'setRequestHeader', (orig, self, args) => {
      const result = Reflect.apply(orig, self, args);
      const r = recs.get(self);
      const name = typeof args[0] === 'string' ? args[0].trim().toLowerCase() : '';
      if (r && name === 'traceparent') r[2] = true;
      if (r && name === 'tracestate') r[3] = true;
      return result;
    });
    hook(X, 'send', (orig, self, args) => {
      const r = recs.get(self);
      safe(() => {
        // Already sent, or not open: the browser's send throws.
        if (!r || r[4] || self.readyState !== 1) return;
        const id = ++nextId;
        const bodyless = /^(get|head)$/i.test(r[0]);
        const h = H.call([P.REQUEST, id, now(), 1, r[1], r[0], bodyless ? undefined : size(args[0]), undefined, r[2]]);
        if (h && h[0] && !r[2]) {
          Reflect.apply(setHeader, self, ['traceparent', h[0]]);
          if (h[1] && !r[3]) Reflect.apply(setHeader, self, ['tracestate', h[1]]);
        }
        r[4] = id;
        r[6] = '';
        const on = (type, fn) => self.addEventListener(type, fn);
        const cause = (e) => {
          r[6] = e.type;
        };
        const done = () => safe(() => end(self, r, 'loaded'));
        ['abort', 'timeout', 'error'].forEach((t) => on(t, cause));
        on('loadend', done);
        r[5] = () => {
          ['abort', 'timeout', 'error'].forEach((t) => self.removeEventListener(t, cause));
          self.removeEventListener('loadend', done);
        };
      });
      let result;
      try {
        result = Reflect.apply(orig, self, args);
      } catch (e) {
        // A synchronous request's network error.
        if (r && r[4]) safe(() => end(self, r, 'threw', e));
        throw e;
      }
      // A synchronous request is over when send returns.
      if (r && r[4] && self.readyState === 4) safe(() => end(self, r, 'loaded'));
      return result;
    });
  }

  // ------------------------------------------------------------- history

  const href = () => w.location.href;
  const url = (source, detail) => [P.URL_CHANGE, source, now(), href(), d.title, detail, stored('waggle.view')];
  const hist = w.history;
  for (const m of ['pushState', 'replaceState']) {
    hook(hist, m, (orig, self, args) => {
      safe(() => H.push(url(0, m)));
      let ok = false;
      try {
        const r = Reflect.apply(orig, self, args);
        ok = true;
        return r;
      } finally {
        // A throwing call changed nothing, and is reported with the URL
        // as it was.
        safe(() => H.call(url(1, ok ? m : '')));
      }
    });
  }
  for (const m of ['back', 'forward', 'go']) {
    hook(hist, m, (orig, self, args) => {
      safe(() => H.call(url(5, '')));
      return Reflect.apply(orig, self, args);
    });
  }
  listen(w.navigation, 'currententrychange', (e) => safe(() => H.call(url(2, e.navigationType))), false);
  listen(w, 'popstate', () => safe(() => H.call(url(3, ''))));
  listen(w, 'hashchange', () => safe(() => H.call(url(4, ''))));

  // -------------------------------------------------------------- timers

  hook(w, 'setTimeout', (orig, self, args) => {
    const cb = args[0];
    if (H.cur === undefined || typeof cb !== 'function') return Reflect.apply(orig, self, args);
    // A string delay converts as the browser converts it; an object's
    // valueOf would be page code, and is not called.
    const delay = args[1];
    const ms = typeof delay === 'number' ? delay : typeof delay === 'string' ? Number(delay) : 0;
    const token = safe(() => H.call([P.TIMER_SET, ms > 0 ? ms : 0]));
    if (!token) return Reflect.apply(orig, self, args);
    const a = args.slice();
    a[0] = function () {
      if (!H.off) safe(() => H.call([P.TIMER_RUN, token]));
      return cb.apply(this, arguments);
    };
    return Reflect.apply(orig, self, a);
  });

  // --------------------------------------------------------- interactions

  const onEvent = (e) => {
    const t = e.target;
    if (H.off || !t || t.nodeType !== 1) return;
    safe(() => {
      const named = t.closest('[data-waggle-name]');
      H.call([P.EVENT, e.timeStamp, e.type, path(t), !!t.closest(P.ACTIONABLE), named ? named.getAttribute('data-waggle-name') : '']);
    });
  };
  const events = [];
  H.events = (types) => {
    for (const [t] of events.splice(0)) w.removeEventListener(t, onEvent, { capture: true });
    for (const t of types) {
      w.addEventListener(t, onEvent, { capture: true, passive: true });
      events.push([t]);
    }
  };
  H.events(H.ev);
  undo.push(() => H.events([]));

  // ------------------------------------------------------------- activity

  let checked = -Infinity;
  const activity = (e) => {
    const t = now();
    const fresh = t - checked >= 1000;
    if (!fresh && (e.type === 'scroll' || e.type === 'visibilitychange')) return;
    if (fresh) checked = t;
    H.push([P.ACTIVITY, e.type, fresh ? stored('waggle.session') : undefined, e.isTrusted]);
  };
  for (const t of ['pointerdown', 'keydown', 'scroll']) listen(d, t, activity);

  // --------------------------------------------------------------- errors

  // An event's own time: on performance.now()'s clock in every current browser.
  const when = (e) => (e.timeStamp > 0 ? e.timeStamp : now());
  listen(w, 'error', (e) => {
    const t = e.target;
    if (t && t.nodeType === 1) {
      // A resource failed: a plain Event on the element.
      const src = t.currentSrc || t.src || t.href || '';
      return H.push([P.ERROR, 3, when(e), false, '', '', '', '', '', '', 0, 0, t.localName, typeof src === 'string' ? src : '']);
    }
    // Not an ErrorEvent: an `error` some other node dispatched.
    if (typeof e.message !== 'string') return;
    // The browser's time for the event, not the listener's: other
    // listeners may have run first, and reading a stack the first time
    // formats it, which takes milliseconds.
    const at = when(e);
    const v = e.error === undefined || e.error === null ? [false, '', '', e.message, '', undefined] : thrown(e.error);
    H.push([P.ERROR, 0, at, ...v, e.filename, e.lineno, e.colno, '', '']);
  });
  listen(w, 'unhandledrejection', (e) => H.push([P.ERROR, 1, when(e), ...thrown(e.reason), '', 0, 0, '', '']));

  // ------------------------------------------------------------ lifecycle

  const vitals = [];
  const hide = (leaving) => {
    // What the vitals observers hold but have not delivered goes first.
    for (const [po, type] of vitals) for (const e of po.takeRecords()) onEntry(type, e);
    H.call([P.HIDE, leaving, perf.interactionCount || 0]);
  };
  const show = () => {
    H.call([P.SHOW]);
    if (H.feed) claim();
  };
  listen(d, 'visibilitychange', (e) => {
    if (d.visibilityState === 'hidden') return safe(() => hide(0));
    safe(show);
    // Coming back to the page is the user's activity; leaving it is not.
    activity(e);
  });
  listen(w, 'pagehide', (e) => safe(() => hide(e.persisted ? 1 : 2)));
  listen(w, 'pageshow', (e) => {
    if (e.persisted) safe(show);
  });
  listen(d, 'freeze', () => safe(() => H.call([P.FREEZE])));
  // Another page kept what it could not send (often as it unloads while
  // this one starts): this one sends it.
  listen(w, 'storage', (e) => H.feed && d.visibilityState !== 'hidden' && e.newValue && e.key && e.key.startsWith(UNSENT) && claim(), false);
  listen(w, 'online', () => H.push([P.ONLINE, true]));
  listen(w, 'offline', () => H.push([P.ONLINE, false]));

  // ---------------------------------------------------- performance entries

  const TYPES = {
    resource: 1,
    paint: 3,
    'largest-contentful-paint': 4,
    'layout-shift': 5,
    event: 6,
    'first-input': 7,
    'long-animation-frame': 8,
    'soft-navigation': 9,
    'interaction-contentful-paint': 10,
  };
  const onEntry = (type, e) => {
    let rec;
    // The view an entry belongs to: soft navigations start new ones.
    const nav = String(e.navigationId || '');
    const lcp = (l) => [l.startTime, l.renderTime, l.loadTime, l.size, l.url, path(l.element), nav];
    if (type === 1) rec = [...entry(e), rx(e.name)];
    else if (type === 3) rec = [e.name, e.startTime];
    else if (type === 4) rec = lcp(e);
    else if (type === 5) {
      const src = (e.sources || []).find((s) => s.node && s.node.nodeType === 1) || (e.sources || [])[0];
      rec = [e.startTime, e.value, e.hadRecentInput, path(src && src.node), nav];
    } else if (type === 9) rec = [nav, e.name, e.startTime, e.presentationTime || e.paintTime || 0, perf.interactionCount || 0];
    else if (type === 10) {
      if (!e.largestContentfulPaint) return;
      rec = lcp(e.largestContentfulPaint);
    } else if (type === 8) {
      rec = [e.startTime, e.duration, e.blockingDuration, e.renderStart, e.styleAndLayoutStart, (e.scripts || []).map((s) => [s.sourceURL, s.sourceFunctionName, s.invoker, s.invokerType, s.startTime, s.duration, s.forcedStyleAndLayoutDuration])];
    } else rec = [e.interactionId, e.name, e.startTime, e.duration, e.processingStart, e.processingEnd, path(e.target), nav];
    H.push([P.ENTRY, type, ...rec]);
  };
  const supported = (w.PerformanceObserver && PerformanceObserver.supportedEntryTypes) || [];
  for (const name of Object.keys(TYPES)) {
    if (!supported.includes(name)) continue;
    const type = TYPES[name];
    const po = new PerformanceObserver((list) => {
      if (!H.off) safe(() => list.getEntries().forEach((e) => onEntry(type, e)));
    });
    po.observe({ type: name, buffered: true, ...(type === 6 ? { durationThreshold: 40 } : {}) });
    if (type > 3) vitals.push([po, type]);
    undo.push(() => po.disconnect());
  }
  // Long frames the browser has recorded but not yet delivered (its
  // observer callbacks wait behind other tasks on a busy page): taken
  // before the agent's timers, so an interaction that settles names the
  // script that held it.
  H.frames = () => safe(() => vitals.forEach(([po, type]) => type === 8 && po.takeRecords().forEach((e) => onEntry(type, e))));

  // The page load, once its load handlers are done (loadEventEnd is set
  // only then).
  let tries = 0;
  const loaded = () => {
    const nav = perf.getEntriesByType('navigation')[0];
    if (!nav) return;
    if (nav.loadEventEnd <= 0 && tries++ < 50) return H.T.call(w, loaded, 20);
    const meta = (n) => {
      const el = d.querySelector(`meta[name="${n}"]`);
      return (el && el.getAttribute('content')) || '';
    };
    safe(() =>
      H.push([
        P.LOADED,
        [...entry(nav), ...NAVIGATION_FIELDS.map((k) => nav[k])],
        () => perf.getEntriesByType('paint').map((p) => [p.name, p.startTime]),
        meta('traceparent'),
        meta('tracestate'),
        href(),
        // Read when the module takes the record, so the resources still
        // loading at `load` (the agent's own module, often) and a first
        // paint after it are in.
        () => perf.getEntriesByType('resource').filter((e) => e.startTime < nav.loadEventEnd).map((e) => [...entry(e), rx(e.name)]),
      ]),
    );
  };
  if (d.readyState === 'complete') H.T.call(w, loaded, 0);
  else listen(w, 'load', () => H.T.call(w, loaded, 0), false);

  // ------------------------------------------------------------ mutations

  const mo = w.MutationObserver && new MutationObserver(() => H.push([P.MUTATION, now(), d.title]));
  H.watch = (on) => {
    if (!mo) return;
    if (on) mo.observe(d, { subtree: true, childList: true, attributes: true, characterData: true });
    else mo.disconnect();
  };
  undo.push(() => H.watch(false));

  // ---------------------------------------------------------------- console

  H.console = () => {
    const c = w.console;
    let busy = false;
    hook(c, 'error', (orig, self, args) => {
      // An error logged while recording one (a toJSON that logs) is passed
      // through, not recorded.
      if (!busy) {
        busy = true;
        safe(() => {
          let first;
          const parts = args.map((a) => {
            const t = thrown(a);
            if (!t[0]) return t[5];
            first = first || t;
            return t[3] ? `${t[1]}: ${t[3]}` : t[1];
          });
          const text = parts.join(' ');
          const e = first || [false, '', '', undefined, '', text];
          H.push([P.ERROR, 2, now(), e[0], e[1], e[2], first ? text : undefined, e[4], e[5], '', 0, 0, '', '']);
        });
        busy = false;
      }
      return Reflect.apply(orig, self, args);
    });
  };

  H.url = href;
  H.rxOf = rx;
  H.NAV = () => perf.getEntriesByType('navigation')[0] || {};
  return H;
}
