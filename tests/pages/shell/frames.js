// App code for the stack-frame tests: chains of named functions, so a stack
// trace shows which frames are the app's and which come between them.
// Classic script, so every frame here is named and points at this file.
'use strict';

// Agent frames: anything served from the package, or WebAssembly.
var AGENT_FRAME = /\/pkg\/|wasm-function|wasm:\/\//;

// Seven nested app functions (app2 ... app8); app8 calls `act`, the
// eighth app frame.
function app2(act) { return app3(act); }
function app3(act) { return app4(act); }
function app4(act) { return app5(act); }
function app5(act) { return app6(act); }
function app6(act) { return app7(act); }
function app7(act) { return app8(act); }
function app8(act) { return act(); }
var seven = app2;
var SEVEN = ['app2', 'app3', 'app4', 'app5', 'app6', 'app7', 'app8'];

/** The "    at ..." lines of a stack. */
function framesOf(stack) {
  return String(stack || '').split('\n').filter(function (l) { return /^\s+at /.test(l); }).map(function (l) { return l.trim(); });
}

function frameIndex(frames, name) {
  for (var i = 0; i < frames.length; i++) {
    if (frames[i].indexOf('at ' + name + ' ') === 0 || frames[i] === 'at ' + name) return i;
  }
  return -1;
}

/**
 * What lies between the first frame of `stack` (the app code that captured
 * it, called by the browser) and the frame of `outer` (the app function
 * whose call into the browser led there): every frame, and the agent's
 * among them. With `outer` null: everything below `inner`, the frame of the
 * function the browser called (a timer callback).
 */
function between(stack, outer, inner) {
  var frames = framesOf(stack);
  var i = inner ? frameIndex(frames, inner) : 0;
  var j = outer ? frameIndex(frames, outer) : frames.length;
  var mid = i >= 0 && j > i ? frames.slice(i + 1, j) : null;
  return {
    stack: String(stack),
    frames: frames,
    outerFound: outer ? j >= 0 : true,
    between: mid,
    agentFrames: mid ? mid.filter(function (l) { return AGENT_FRAME.test(l); }) : null,
  };
}

/** Which of `names` appear as frames of `stack`. */
function missingFrames(stack, names) {
  var frames = framesOf(stack);
  return names.filter(function (n) { return frameIndex(frames, n) < 0; });
}

// --- 1. A timer callback throwing eight app functions deep --------------

function n1() { n2(); }
function n2() { n3(); }
function n3() { n4(); }
function n4() { n5(); }
function n5() { n6(); }
function n6() { n7(); }
function n7() { n8(); }
function n8() {
  var e = new Error('app timer error ' + window.timerTag + ' ' + Error.stackTraceLimit);
  window.timerError = e;
  throw e;
}
var TIMER_CHAIN = ['n8', 'n7', 'n6', 'n5', 'n4', 'n3', 'n2', 'n1', 'timerCallback'];

window.timerRuns = [];
function timerCallback(tag) {
  // A request from the callback: with a click current it becomes the
  // click's child, which shows the agent followed this timer.
  if (tag === 'click') fetch('/api/ping?from=' + tag + '-' + Error.stackTraceLimit).catch(function () {});
  window.timerTag = tag;
  window.timerRuns.push({ tag: tag, limit: Error.stackTraceLimit });
  n1();
}

window.timerErrors = [];
window.addEventListener('error', function (ev) {
  if (!ev.error || !/^app timer error/.test(ev.error.message)) return;
  window.timerErrors.push({
    same: ev.error === window.timerError,
    message: ev.error.message,
    eventMessage: ev.message,
    limit: Error.stackTraceLimit,
    missing: missingFrames(ev.error.stack, TIMER_CHAIN),
    below: between(ev.error.stack, null, 'timerCallback'),
  });
  // Handled here: the page's own error reporting saw it.
  ev.preventDefault();
});

document.addEventListener('DOMContentLoaded', function () {
  document.getElementById('go').addEventListener('click', function onGoClick() {
    var tag = document.getElementById('go').dataset.tag || 'click';
    setTimeout(timerCallback, 20, tag);
  });
});

/** A plain timer, set outside any interaction. */
window.plainTimer = function (tag) {
  setTimeout(timerCallback, 0, tag);
};

// --- 2. A getter on a fetch init object -------------------------------------

window.fetchGetter = function (url, throwIt) {
  var stacks = [];
  var appErr = new Error('app getter error');
  var init = {
    method: 'POST',
    body: 'x',
    get headers() {
      stacks.push(new Error('where').stack);
      if (throwIt) throw appErr;
      return { 'x-app': '1' };
    },
  };
  var out = { threwSync: false, rejected: false, same: null, message: null };
  var p;
  seven(function appCallsFetch() {
    try { p = fetch(url, init); } catch (e) { out.threwSync = true; out.same = e === appErr; out.message = e && e.message; }
  });
  var settle = p ? p.then(function () {}, function (e) { out.rejected = true; out.same = e === appErr; out.message = e && e.message; }) : Promise.resolve();
  return settle.then(function () {
    out.calls = stacks.length;
    out.reports = stacks.map(function (s) {
      var b = between(s, 'appCallsFetch');
      b.missing = missingFrames(s, SEVEN.concat(['appCallsFetch']));
      return b;
    });
    return out;
  });
};

// --- 3. history.pushState with a navigate listener --------------------------

window.pushStateNavigate = function (path) {
  var stacks = [];
  function onNavigate() { stacks.push(new Error('where').stack); }
  navigation.addEventListener('navigate', onNavigate);
  try {
    seven(function appCallsPushState() { history.pushState({ n: 1 }, '', path); });
  } finally {
    navigation.removeEventListener('navigate', onNavigate);
  }
  return {
    url: location.pathname + location.search,
    calls: stacks.length,
    reports: stacks.map(function (s) {
      var b = between(s, 'appCallsPushState');
      b.missing = missingFrames(s, SEVEN.concat(['appCallsPushState']));
      return b;
    }),
  };
};

/** pushState given a URL whose toString throws the app's error. */
window.pushStateThrows = function () {
  var appErr = new Error('app url error');
  var out = { threw: false, same: null, message: null };
  var before = location.href;
  try {
    history.pushState({ n: 2 }, '', { toString: function () { throw appErr; } });
  } catch (e) {
    out.threw = true; out.same = e === appErr; out.message = e && e.message;
  }
  out.urlKept = location.href === before;
  return out;
};

// --- 4. XMLHttpRequest.send with an object body ------------------------------

/**
 * A plain object body is sent as its string form: the browser calls its
 * toString inside send(), so inside the agent's wrapper of send.
 */
window.xhrBody = function (url, throwIt) {
  var stacks = [];
  var appErr = new Error('app body error');
  var body = {
    toString: function appBodyToString() {
      stacks.push(new Error('where').stack);
      if (throwIt) throw appErr;
      return 'body-from-toString';
    },
  };
  var xhr = new XMLHttpRequest();
  xhr.open('POST', url);
  var out = { threw: false, same: null, message: null };
  seven(function appCallsSend() {
    try { xhr.send(body); } catch (e) { out.threw = true; out.same = e === appErr; out.message = e && e.message; }
  });
  return new Promise(function (resolve) {
    var finish = function () {
      out.status = xhr.status;
      out.response = xhr.responseText;
      out.calls = stacks.length;
      out.reports = stacks.map(function (s) {
        var b = between(s, 'appCallsSend');
        b.missing = missingFrames(s, SEVEN.concat(['appCallsSend']));
        return b;
      });
      resolve(out);
    };
    if (out.threw) finish();
    else xhr.addEventListener('loadend', finish);
  });
};
