// Records what the page's own handlers see of each error, in a form two
// page loads can be compared by.
window.seen = [];
const describe = (v) => (v instanceof Error ? `${v.constructor.name}(${v.name}: ${v.message})` : `${typeof v}(${String(v)})`);

window.onerror = (message, source, line, column, error) => {
  seen.push({ via: 'onerror', message, source, line, column, error: describe(error) });
};
addEventListener('error', (e) => {
  const target = e.target === window ? 'window' : e.target.localName;
  seen.push({ via: 'error-capture', kind: e.constructor.name, target, message: e.message, defaultPrevented: e.defaultPrevented, phase: e.eventPhase });
}, true);
addEventListener('error', (e) => {
  seen.push({ via: 'error-bubble', kind: e.constructor.name, message: e.message, error: e.error === undefined ? 'none' : describe(e.error), defaultPrevented: e.defaultPrevented });
});
addEventListener('unhandledrejection', (e) => {
  seen.push({ via: 'unhandledrejection', reason: describe(e.reason), defaultPrevented: e.defaultPrevented });
});

// A page that replaced console.error itself, so the test can tell the
// agent's wrapper passes `this`, arguments, the result and exceptions
// through untouched.
if (new URLSearchParams(location.search).get('console') === '1') {
  window.consoleCalls = [];
  window.consoleThrows = new SyntaxError('from console.error');
  window.pageConsoleError = function myError(...args) {
    consoleCalls.push({ self: this, args });
    if (args[0] === 'throw') throw consoleThrows;
    return 42;
  };
  console.error = window.pageConsoleError;
}
