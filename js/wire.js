// The wire format between this side and the module (src/platform/wire.rs
// describes it): values with a one-byte tag. One encoder for observations,
// one decoder for commands.

let buf = new Uint8Array(4096);
let view = new DataView(buf.buffer);
let len = 0;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function room(n) {
  if (len + n > buf.length) {
    const bigger = new Uint8Array(Math.max(buf.length * 2, len + n + 1024));
    bigger.set(buf.subarray(0, len));
    buf = bigger;
    view = new DataView(buf.buffer);
  }
}

function varint(v) {
  room(5);
  while (v > 127) {
    buf[len++] = (v & 127) | 128;
    v = Math.floor(v / 128);
  }
  buf[len++] = v;
}

function text(s) {
  // ASCII is copied as it is; anything else goes through the encoder.
  const n = s.length;
  room(n * 3 + 5);
  let i = 0;
  for (; i < n; i++) if (s.charCodeAt(i) > 127) break;
  if (i === n) {
    varint(n);
    for (i = 0; i < n; i++) buf[len++] = s.charCodeAt(i);
    return;
  }
  const start = len;
  len += 5;
  const { written } = encoder.encodeInto(s, buf.subarray(len));
  // The length goes first, in a fixed 5-byte varint.
  for (let k = 0, v = written; k < 5; k++, v = Math.floor(v / 128)) buf[start + k] = (v & 127) | (k < 4 ? 128 : 0);
  len += written;
}

// The options' RegExps, by index: the module names them by it.
let RX = [];
/** Where the RegExps met while encoding go (the page's list of them). */
export function regexps(list) {
  RX = list;
}

/** Appends one value. */
function write(v) {
  room(10);
  if (v === undefined || v === null) buf[len++] = 0;
  else if (v === false) buf[len++] = 1;
  else if (v === true) buf[len++] = 2;
  else if (typeof v === 'number') {
    if (v >>> 0 === v) {
      buf[len++] = 9;
      varint(v);
    } else {
      buf[len++] = 3;
      view.setFloat64(len, v, true);
      len += 8;
    }
  } else if (typeof v === 'string') {
    buf[len++] = 4;
    text(v);
  } else if (Array.isArray(v)) {
    buf[len++] = 5;
    varint(v.length);
    for (let i = 0; i < v.length; i++) write(v[i]);
  } else if (v instanceof RegExp) {
    buf[len++] = 7;
    const i = RX.indexOf(v);
    varint(i < 0 ? RX.push(v) - 1 : i);
  } else if (typeof v === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(v))) {
    const keys = Object.keys(v);
    buf[len++] = 6;
    varint(keys.length);
    for (const k of keys) {
      text(k);
      write(v[k]);
    }
  } else {
    buf[len++] = 8;
    text(typeof v);
  }
}

/** Encodes `records` and hands the bytes to `put(bytes)`. */
export function encode(records, put) {
  len = 0;
  for (let i = 0; i < records.length; i++) write(records[i]);
  return put(buf.subarray(0, len));
}

/** Decodes the commands in `bytes` (module memory `mem`), calling `each(command)`. */
export function decode(mem, ptr, n, each) {
  const b = new Uint8Array(mem.buffer, ptr, n);
  const v = new DataView(mem.buffer, ptr, n);
  let i = 0;
  const vint = () => {
    let r = 0;
    let m = 1;
    for (;;) {
      const x = b[i++];
      r += (x & 127) * m;
      if (x < 128) return r;
      m *= 128;
    }
  };
  const read = () => {
    const t = b[i++];
    if (t === 2) return true;
    if (t === 1) return false;
    if (t === 9) return vint();
    if (t === 3) {
      i += 8;
      return v.getFloat64(i - 8, true);
    }
    if (t === 4) {
      const k = vint();
      i += k;
      return decoder.decode(b.subarray(i - k, i));
    }
    if (t === 5) {
      const out = [];
      for (let k = vint(); k > 0; k--) out.push(read());
      return out;
    }
    // Bytes in the module's memory, copied out: the next call may move
    // or reuse them.
    if (t === 10) return new Uint8Array(mem.buffer, vint(), vint()).slice();
    return null;
  };
  const cmds = [];
  while (i < n) cmds.push(read());
  // Read whole before acting: acting may call into the module again.
  cmds.forEach(each);
}
