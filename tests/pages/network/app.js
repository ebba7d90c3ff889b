// The network test page. Options come from the fragment, which is never
// sent with a request: the Referer the servers see is the same with and
// without the agent, so the two runs of `behaviour` can be compared whole.
//   #agent=1&endpoint=...&service=...&cors=<prefix>&ignore=<prefix>&sample=<rate>&spy=1
import { init, flush, shutdown } from '/pkg/index.js';

const cfg = new URLSearchParams(location.hash.slice(1));

if (cfg.get('spy')) {
  // A page's own fetch wrapper, installed before the agent: it sees the
  // Response the browser returns, so the page can check it gets that very
  // object back through the agent.
  const real = window.fetch;
  const returned = new WeakSet();
  window.fetch = function fetch(input, init) {
    return real.apply(this, arguments).then((r) => {
      returned.add(r);
      return r;
    });
  };
  window.returnedByBrowser = (r) => returned.has(r);
}

window.originals = {
  fetch: window.fetch,
  open: XMLHttpRequest.prototype.open,
  send: XMLHttpRequest.prototype.send,
  setRequestHeader: XMLHttpRequest.prototype.setRequestHeader,
};

window.ready = (async () => {
  if (cfg.get('agent') !== '1') return 'no agent';
  const options = {
    serviceName: cfg.get('service') ?? 'network-test',
    endpoint: cfg.get('endpoint'),
    batch: { scheduledDelayMillis: 50 },
    instrumentations: { documentLoad: false },
  };
  if (cfg.get('cors')) options.propagateTraceHeaderCorsUrls = [cfg.get('cors')];
  if (cfg.get('ignore')) options.ignoreUrls = [cfg.get('ignore')];
  if (cfg.get('sample')) options.sampleRate = Number(cfg.get('sample'));
  await init(options);
  return 'agent';
})();
window.waggle = { flush, shutdown };

const describe = (e) => ({
  name: e?.name,
  message: e?.message ?? String(e),
  tag: Object.prototype.toString.call(e),
  isTypeError: e instanceof TypeError,
  isDOMException: e instanceof DOMException,
});
window.describeError = describe;

// Response headers a run can compare: everything but the clock.
const responseHeaders = (list) => list.filter(([k]) => k !== 'date' && k !== 'keep-alive').sort();

/** A fetch Response, read the way `how` says (json, text, stream, none). */
window.readResponse = async (r, how = 'json') => {
  const out = {
    status: r.status,
    statusText: r.statusText,
    ok: r.ok,
    type: r.type,
    url: r.url,
    redirected: r.redirected,
    isResponse: r instanceof Response,
    headers: responseHeaders([...r.headers]),
  };
  if (how === 'json') out.body = await r.json();
  else if (how === 'text') out.body = await r.text();
  else if (how === 'stream') {
    const reader = r.body.getReader();
    const chunks = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(...value);
    }
    out.body = JSON.parse(new TextDecoder().decode(new Uint8Array(chunks)));
    out.bodyUsed = r.bodyUsed;
  }
  return out;
};

/**
 * One XHR, recorded: events in order (progress left out, its count depends
 * on chunking), readyState changes, status, headers, body, and what threw.
 */
window.xhr = (method, url, { body, headers = [], timeout, abortAfter, sync = false, responseType, reuse } = {}) =>
  new Promise((resolve) => {
    const x = new XMLHttpRequest();
    const events = [];
    const note = (e) => {
      const last = events[events.length - 1];
      const entry = e.type === 'readystatechange' ? `rs:${x.readyState}` : e.type;
      if (entry !== last) events.push(entry);
    };
    for (const t of ['loadstart', 'readystatechange', 'load', 'error', 'abort', 'timeout', 'loadend']) x.addEventListener(t, note);
    const result = () => ({
      events,
      readyState: x.readyState,
      status: x.status,
      statusText: x.statusText,
      headers: responseHeaders(
        x.getAllResponseHeaders().trim().split('\r\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
      ),
      response: x.responseType === 'json' ? x.response : x.responseText && (x.responseText.startsWith('{') ? JSON.parse(x.responseText) : x.responseText),
    });
    try {
      x.open(method, url, !sync);
      if (responseType) x.responseType = responseType;
      if (timeout) x.timeout = timeout;
      for (const [k, v] of headers) x.setRequestHeader(k, v);
      if (!sync) {
        x.addEventListener('loadend', () => {
          if (reuse) {
            // The same object again, from inside its own loadend.
            const first = result();
            events.length = 0;
            x.open('GET', reuse);
            x.addEventListener('loadend', () => resolve({ first, second: result() }), { once: true });
            x.send();
          } else {
            resolve(result());
          }
        }, { once: true });
      }
      x.send(body);
      if (abortAfter != null) setTimeout(() => x.abort(), abortAfter);
      if (sync) resolve(result());
    } catch (e) {
      resolve({ threw: describe(e), ...result() });
    }
  });

/**
 * Everything a page might do with fetch and XHR, recorded as plain data.
 * The test runs it with and without the agent and compares the records.
 */
window.behaviour = async ({ b, closed }) => {
  const out = {};
  const echo = (c) => `/api/echo-headers?case=behaviour-${c}`;
  const attempt = async (f) => {
    try {
      return await f();
    } catch (e) {
      return { threw: describe(e) };
    }
  };
  const shape = (f) => [typeof f, f.length, f.name];
  const native = (f) => Function.prototype.toString.call(f).includes('[native code]');
  out.shape = {
    fetch: shape(window.fetch),
    open: [...shape(XMLHttpRequest.prototype.open), native(XMLHttpRequest.prototype.open)],
    send: [...shape(XMLHttpRequest.prototype.send), native(XMLHttpRequest.prototype.send)],
    setRequestHeader: [...shape(XMLHttpRequest.prototype.setRequestHeader), native(XMLHttpRequest.prototype.setRequestHeader)],
  };
  // A page's wrapper is a plain function, so `new` reaches the browser's
  // fetch with the wrong `this`, which rejects; without a wrapper, `new`
  // throws. Either way, the same with the agent.
  out.shape.construct = await attempt(async () => {
    const r = new window.fetch('/api/ok?case=behaviour-new');
    return { constructed: Object.prototype.toString.call(r), settled: await r.then(() => 'resolved', describe) };
  });

  const p = fetch(echo('string'));
  out.isPromise = p instanceof Promise;
  const response = await p;
  out.sameResponse = window.returnedByBrowser ? window.returnedByBrowser(response) : 'no spy';
  out.string = await readResponse(response);

  // A failed fetch the page never handles is still an unhandled rejection.
  const unhandled = [];
  const onUnhandled = (e) => { unhandled.push(e.reason && e.reason.name); e.preventDefault(); };
  window.addEventListener('unhandledrejection', onUnhandled);
  fetch(closed + '/?case=behaviour-unhandled');
  await new Promise((r) => setTimeout(r, 300));
  window.removeEventListener('unhandledrejection', onUnhandled);
  out.unhandledRejections = unhandled;
  out.url = await readResponse(await fetch(new URL(echo('url'), location.href)));
  out.text = (await readResponse(await fetch('/api/ok?case=behaviour-text'), 'text'));

  const req = new Request(echo('request'), {
    method: 'POST',
    body: 'snow ☃',
    headers: { 'content-type': 'text/plain', 'x-req': '1' },
    referrerPolicy: 'no-referrer',
  });
  out.request = { ...(await readResponse(await fetch(req))), bodyUsed: req.bodyUsed, requestHeaders: [...req.headers] };
  const req2 = new Request(echo('request-init'), { headers: { 'x-from': 'request' }, referrer: '/pages/network/elsewhere.html' });
  out.requestWithInit = await readResponse(await fetch(req2, { headers: { 'x-from': 'init' } }));
  out.requestReferrer = await readResponse(await fetch(new Request(echo('request-referrer'), { referrer: '/pages/network/elsewhere.html' })));

  const h = new Headers({ 'x-a': '1' });
  const hInit = { headers: h };
  out.headersInstance = { ...(await readResponse(await fetch(echo('headers'), hInit))), after: [...h], same: hInit.headers === h, keys: Object.keys(hInit) };
  const pairs = [['x-b', '2'], ['x-b', '3']];
  const pInit = { method: 'PUT', headers: pairs, body: 'x' };
  out.headerPairs = { ...(await readResponse(await fetch(echo('pairs'), pInit))), after: JSON.stringify(pairs), keys: Object.keys(pInit), same: pInit.headers === pairs };
  const record = { 'X-C': '4' };
  const rInit = { headers: record };
  out.headerRecord = { ...(await readResponse(await fetch(echo('record'), rInit))), after: JSON.stringify(record), keys: Object.keys(rInit) };
  let reads = 0;
  const getterInit = { get method() { reads += 1; return 'POST'; }, body: 'g' };
  out.getterInit = { ...(await readResponse(await fetch(echo('getter'), getterInit))), reads };
  class Options {
    #body = 'private';
    get body() { return this.#body; }
    get method() { return 'POST'; }
  }
  out.classInit = await attempt(async () => readResponse(await fetch(echo('class'), new Options())));

  out.stream = await readResponse(await fetch(echo('stream')), 'stream');
  out.blob = await readResponse(await fetch(echo('blob'), { method: 'POST', body: new Blob(['abc']) }));
  out.buffer = await readResponse(await fetch(echo('buffer'), { method: 'POST', body: new Uint8Array([1, 2, 3, 4]) }));
  out.params = await readResponse(await fetch(echo('params'), { method: 'POST', body: new URLSearchParams({ a: '1', b: 'é' }) }));
  const form = new FormData();
  form.append('field', 'value');
  out.form = await readResponse(await fetch(echo('form'), { method: 'POST', body: form }));
  // The multipart boundary is random on every request.
  const boundary = out.form.body.headers['content-type'].split('boundary=')[1];
  out.form.body = JSON.parse(JSON.stringify(out.form.body).replaceAll(boundary, 'BOUNDARY'));
  out.fail = await readResponse(await fetch('/api/fail?case=behaviour-fail'));
  out.ownTraceparent = await readResponse(await fetch(echo('own-tp'), { headers: { traceparent: '00-11111111111111111111111111111111-2222222222222222-01' } }));
  out.lowerPut = await readResponse(await fetch(echo('put'), { method: 'put', body: 'p' }));
  out.purge = await readResponse(await fetch(echo('purge'), { method: 'PURGE' }));

  const c1 = new AbortController();
  const aborted = fetch('/api/slow?case=behaviour-abort', { signal: c1.signal });
  setTimeout(() => c1.abort(), 50);
  out.abort = await attempt(() => aborted);
  const c2 = new AbortController();
  const reason = new Error('custom reason');
  const abortedWithReason = fetch('/api/slow?case=behaviour-abort-reason', { signal: c2.signal });
  setTimeout(() => c2.abort(reason), 50);
  out.abortReason = await abortedWithReason.then(() => 'resolved', (e) => ({ sameObject: e === reason, ...describe(e) }));
  out.alreadyAborted = await attempt(() => fetch(echo('already-aborted'), { signal: AbortSignal.abort() }));
  out.networkError = await attempt(() => fetch(closed));
  out.badUrl = await attempt(() => fetch('http://[bad'));
  out.noArgs = await attempt(() => fetch());
  out.badInit = await attempt(() => fetch(echo('bad-init'), 5));
  out.nullHeaders = await attempt(() => fetch(echo('null-headers'), { headers: null }));
  out.getWithBody = await attempt(() => fetch(echo('get-body'), { body: 'x' }));
  out.illegalThis = await attempt(() => window.fetch.call({}, echo('illegal')));
  out.crossOrigin = await readResponse(await fetch(`${b}/api/cors?case=behaviour-cross`));
  out.noCors = await readResponse(await fetch(`${b}/api/cors?case=behaviour-no-cors`, { mode: 'no-cors' }), 'none');

  out.xhr = await xhr('GET', echo('xhr'));
  out.xhrSync = await xhr('GET', echo('xhr-sync'), { sync: true });
  out.xhrPost = await xhr('POST', echo('xhr-post'), { body: 'posted ☃', headers: [['x-custom', 'a'], ['x-custom', 'b'], ['content-type', 'text/plain']] });
  out.xhrOwnTraceparent = await xhr('GET', echo('xhr-own-tp'), { headers: [['TraceParent', '00-33333333333333333333333333333333-4444444444444444-01']] });
  out.xhrJson = await xhr('GET', echo('xhr-json'), { responseType: 'json' });
  out.xhrFail = await xhr('GET', '/api/fail?case=behaviour-xhr-fail');
  out.xhrAbort = await xhr('GET', '/api/slow?case=behaviour-xhr-abort', { abortAfter: 50 });
  out.xhrTimeout = await xhr('GET', '/api/slow?case=behaviour-xhr-timeout', { timeout: 50 });
  out.xhrNetworkError = await xhr('GET', closed);
  out.xhrSyncNetworkError = await xhr('GET', closed, { sync: true });
  out.xhrReuse = await xhr('GET', echo('xhr-reuse-1'), { reuse: echo('xhr-reuse-2') });
  out.xhrUrlObject = await xhr('GET', new URL(echo('xhr-url'), location.href));
  out.xhrCross = await xhr('GET', `${b}/api/cors?case=behaviour-xhr-cross`);
  out.xhrBadMethod = await xhr('GE T', echo('xhr-bad'));
  out.xhrSendTwice = await (async () => {
    const x = new XMLHttpRequest();
    x.open('GET', echo('xhr-twice'));
    x.send();
    try {
      x.send();
      return 'sent twice';
    } catch (e) {
      x.abort();
      return describe(e);
    }
  })();
  out.xhrNotOpen = (() => {
    const x = new XMLHttpRequest();
    const r = {};
    try { x.send(); } catch (e) { r.send = describe(e); }
    try { x.setRequestHeader('a', 'b'); } catch (e) { r.setRequestHeader = describe(e); }
    return r;
  })();
  out.xhrOpenArity = await (async () => {
    // open(m, u) is asynchronous; open(m, u, undefined) is synchronous.
    const x = new XMLHttpRequest();
    x.open('GET', echo('xhr-arity'), undefined);
    x.send();
    return x.readyState;
  })();
  return out;
};
