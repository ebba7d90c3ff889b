// The app's own fetch failing, aborted and streaming, described so that a
// page with the agent and one without can be compared value for value.
(function () {
  function describe(err) {
    return {
      type: typeof err,
      isError: err instanceof Error,
      isTypeError: err instanceof TypeError,
      isDOMException: typeof DOMException !== 'undefined' && err instanceof DOMException,
      ctor: err && err.constructor && err.constructor.name,
      name: err && err.name,
      message: err && err.message,
      code: err && err.code,
      string: String(err),
    };
  }

  // Calls `start()`; records a synchronous throw, or how its promise settles.
  async function settle(start, onValue) {
    let p;
    try {
      p = start();
    } catch (err) {
      return { sync: true, threw: describe(err) };
    }
    const isPromise = p instanceof Promise;
    try {
      const value = await p;
      return { isPromise, value: onValue ? await onValue(value) : String(value) };
    } catch (err) {
      return { isPromise, rejected: describe(err) };
    }
  }

  async function readChunks(res) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    const chunks = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(decoder.decode(value));
    }
    return { status: res.status, ok: res.ok, type: res.type, isResponse: res instanceof Response, chunks: chunks.join('').split('|').filter(Boolean) };
  }

  window.fetchCases = async function (closedPort) {
    const out = {};
    out.badUrl = await settle(() => fetch('http://[::1'));
    out.badScheme = await settle(() => fetch('foo://bar/'));
    out.noArgs = await settle(() => fetch());
    out.badInit = await settle(() => fetch('/x', { method: 'GET', body: 'not allowed' }));
    out.illegalThis = await settle(() => fetch.call({}, '/x'));
    out.closedPort = await settle(() => fetch(`http://127.0.0.1:${closedPort}/nothing`));

    // Aborted while waiting for the response.
    const c1 = new AbortController();
    const p1 = settle(() => fetch('/api/slow?ms=2000', { signal: c1.signal }));
    setTimeout(() => c1.abort(), 100);
    out.abortWaiting = await p1;
    // Aborted with the app's own reason: that very value rejects.
    const c2 = new AbortController();
    const reason = new Error('the app changed its mind');
    const p2 = (async () => {
      try {
        await fetch('/api/slow?ms=2000', { signal: c2.signal });
        return 'resolved';
      } catch (err) {
        return { same: err === reason, ...describe(err) };
      }
    })();
    setTimeout(() => c2.abort(reason), 100);
    out.abortReason = await p2;
    // Already aborted.
    out.abortBefore = await settle(() => fetch('/api/slow?ms=10', { signal: AbortSignal.abort() }));
    // Aborted while the body streams in.
    const c3 = new AbortController();
    out.abortBody = await settle(() => fetch('/api/chunks?n=6&ms=150', { signal: c3.signal }), async (res) => {
      const reader = res.body.getReader();
      const first = await reader.read();
      c3.abort();
      try {
        await reader.read();
        return { first: new TextDecoder().decode(first.value), after: 'read' };
      } catch (err) {
        return { first: new TextDecoder().decode(first.value), after: describe(err) };
      }
    });
    // A streamed response body, chunk by chunk.
    out.stream = await settle(() => fetch('/api/chunks?n=5&ms=50'), readChunks);
    // A streamed request body (Chromium streams uploads only over HTTP/2:
    // what matters is that it fails or works the same with the agent).
    out.streamUpload = await settle(() => {
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('up-1|'));
          controller.enqueue(new TextEncoder().encode('up-2|'));
          controller.close();
        },
      });
      return fetch('/api/echo', { method: 'POST', body, duplex: 'half' });
    }, readChunks);
    out.streamUploadNoDuplex = await settle(() => fetch('/api/echo', { method: 'POST', body: new ReadableStream() }));
    // An ordinary request still works.
    out.plain = await settle(() => fetch('/api/chunks?n=2&ms=0'), readChunks);
    return out;
  };
})();
