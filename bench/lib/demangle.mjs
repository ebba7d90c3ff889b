// Rust symbol names made readable, for the size report: the v0 scheme
// (`_R…`, what the pinned nightly emits) and the legacy one (`_ZN…E`).
// Crate disambiguators (the `[hash]` after a crate name) are left out.
//
// v0 grammar: https://doc.rust-lang.org/rustc/symbol-mangling/v0.html

const BASIC = {
  a: 'i8', b: 'bool', c: 'char', d: 'f64', e: 'str', f: 'f32', h: 'u8', i: 'isize', j: 'usize', l: 'i32', m: 'u32',
  n: 'i128', o: 'u128', s: 'i16', t: 'u16', u: '()', v: '...', x: 'i64', y: 'u64', z: '!', p: '_',
};

class Parser {
  constructor(s) {
    this.s = s;
    this.i = 0;
    this.depth = 0;
  }

  peek() {
    return this.s[this.i];
  }

  next() {
    if (this.i >= this.s.length) throw new Error('unexpected end');
    return this.s[this.i++];
  }

  eat(c) {
    if (this.s[this.i] === c) {
      this.i++;
      return true;
    }
    return false;
  }

  // <base-62-number> = {0-9a-zA-Z} "_"; "_" is 0, otherwise the value + 1.
  base62() {
    if (this.eat('_')) return 0;
    let x = 0;
    for (;;) {
      const c = this.next();
      if (c === '_') return x + 1;
      const d = c >= '0' && c <= '9' ? c.charCodeAt(0) - 48 : c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 87 : c >= 'A' && c <= 'Z' ? c.charCodeAt(0) - 29 : -1;
      if (d < 0) throw new Error(`bad base-62 digit ${c}`);
      x = x * 62 + d;
    }
  }

  decimal() {
    const start = this.i;
    while (this.peek() >= '0' && this.peek() <= '9') this.i++;
    if (start === this.i) throw new Error('expected a number');
    return Number(this.s.slice(start, this.i));
  }

  disambiguator() {
    return this.eat('s') ? this.base62() + 1 : 0;
  }

  ident() {
    const puny = this.eat('u');
    const n = this.decimal();
    this.eat('_');
    const text = this.s.slice(this.i, this.i + n);
    this.i += n;
    return puny ? `${text}(punycode)` : text;
  }

  // Parses what a backref points at, as if it were there.
  backref(parse) {
    const at = this.base62();
    if (++this.depth > 64) throw new Error('backrefs too deep');
    const saved = this.i;
    this.i = at + 2;
    const out = parse.call(this);
    this.i = saved;
    this.depth--;
    return out;
  }

  // `value` is true for a path in value position (a function), where
  // generic arguments are written `::<…>`.
  path(value = true) {
    const c = this.next();
    switch (c) {
      case 'C':
        this.disambiguator();
        return this.ident();
      case 'M': {
        this.disambiguator();
        this.path(false);
        return `<${this.type()}>`;
      }
      case 'X': {
        this.disambiguator();
        this.path(false);
        const self = this.type();
        return `<${self} as ${this.path(false)}>`;
      }
      case 'Y': {
        const self = this.type();
        return `<${self} as ${this.path(false)}>`;
      }
      case 'N': {
        const ns = this.next();
        const outer = this.path(value);
        const dis = this.disambiguator();
        const name = this.ident();
        if (ns >= 'a' && ns <= 'z') return name ? `${outer}::${name}` : outer;
        const kind = ns === 'C' ? 'closure' : ns === 'S' ? 'shim' : ns;
        return `${outer}::{${kind}${name ? `:${name}` : ''}#${dis}}`;
      }
      case 'I': {
        const base = this.path(value);
        const args = [];
        while (!this.eat('E')) {
          const a = this.genericArg();
          if (a !== null) args.push(a);
        }
        return `${base}${value ? '::' : ''}<${args.join(', ')}>`;
      }
      case 'B':
        return this.backref(() => this.path(value));
      default:
        throw new Error(`bad path tag ${c}`);
    }
  }

  genericArg() {
    if (this.eat('L')) {
      this.base62();
      return null;
    }
    if (this.eat('K')) return this.constant();
    return this.type();
  }

  lifetime() {
    if (this.eat('L')) this.base62();
  }

  binder() {
    if (this.eat('G')) this.base62();
  }

  type() {
    const c = this.peek();
    if (BASIC[c]) {
      this.i++;
      return BASIC[c];
    }
    switch (c) {
      case 'A': {
        this.i++;
        const t = this.type();
        return `[${t}; ${this.constant()}]`;
      }
      case 'S':
        this.i++;
        return `[${this.type()}]`;
      case 'T': {
        this.i++;
        const ts = [];
        while (!this.eat('E')) ts.push(this.type());
        return ts.length === 1 ? `(${ts[0]},)` : `(${ts.join(', ')})`;
      }
      case 'R':
      case 'Q': {
        this.i++;
        this.lifetime();
        return `&${c === 'Q' ? 'mut ' : ''}${this.type()}`;
      }
      case 'P':
        this.i++;
        return `*const ${this.type()}`;
      case 'O':
        this.i++;
        return `*mut ${this.type()}`;
      case 'F': {
        this.i++;
        this.binder();
        const unsafe = this.eat('U');
        let abi = '';
        if (this.eat('K')) abi = this.eat('C') ? 'extern "C" ' : `extern "${this.ident()}" `;
        const args = [];
        while (!this.eat('E')) args.push(this.type());
        const ret = this.type();
        return `${unsafe ? 'unsafe ' : ''}${abi}fn(${args.join(', ')})${ret === '()' ? '' : ` -> ${ret}`}`;
      }
      case 'D': {
        this.i++;
        this.binder();
        const traits = [];
        while (!this.eat('E')) {
          let t = this.path(false);
          const bindings = [];
          while (this.eat('p')) {
            const name = this.ident();
            bindings.push(`${name} = ${this.type()}`);
          }
          if (bindings.length) t = t.endsWith('>') ? `${t.slice(0, -1)}, ${bindings.join(', ')}>` : `${t}<${bindings.join(', ')}>`;
          traits.push(t);
        }
        this.lifetime();
        return `dyn ${traits.join(' + ')}`;
      }
      case 'B':
        this.i++;
        return this.backref(() => this.type());
      default:
        return this.path(false);
    }
  }

  constant() {
    if (this.eat('p')) return '_';
    if (this.eat('B')) return this.backref(() => this.constant());
    const t = this.next();
    if (t === 'R' || t === 'Q') return `&${this.constant()}`;
    if (t === 'A' || t === 'T') {
      const xs = [];
      while (!this.eat('E')) xs.push(this.constant());
      return t === 'A' ? `[${xs.join(', ')}]` : `(${xs.join(', ')})`;
    }
    if (t === 'V') {
      const p = this.path(false);
      return p;
    }
    const neg = this.eat('n');
    const start = this.i;
    while (this.peek() !== '_') this.i++;
    const hex = this.s.slice(start, this.i);
    this.i++;
    if (t === 'b') return hex === '1' ? 'true' : 'false';
    if (t === 'e') return '"…"';
    const v = hex ? BigInt(`0x${hex}`) : 0n;
    return `${neg ? '-' : ''}${v}`;
  }
}

function demangleV0(sym) {
  const p = new Parser(sym);
  p.i = 2;
  if (p.peek() >= '0' && p.peek() <= '9') p.decimal();
  return p.path(true);
}

function demangleLegacy(sym) {
  let i = 3;
  const parts = [];
  while (i < sym.length && sym[i] !== 'E') {
    const m = /^\d+/.exec(sym.slice(i));
    if (!m) return sym;
    i += m[0].length;
    const n = Number(m[0]);
    parts.push(sym.slice(i, i + n));
    i += n;
  }
  if (parts.length && /^h[0-9a-f]{16}$/.test(parts[parts.length - 1])) parts.pop();
  const unescape = (s) =>
    s
      .replace(/^_\$/, '$')
      .replace(/\$LT\$/g, '<').replace(/\$GT\$/g, '>').replace(/\$RF\$/g, '&').replace(/\$BP\$/g, '*')
      .replace(/\$C\$/g, ',').replace(/\$SP\$/g, '@').replace(/\$u20\$/g, ' ').replace(/\$u27\$/g, "'")
      .replace(/\$u5b\$/g, '[').replace(/\$u5d\$/g, ']').replace(/\$u7b\$/g, '{').replace(/\$u7d\$/g, '}')
      .replace(/\$u7e\$/g, '~').replace(/\.\./g, '::');
  return parts.map(unescape).join('::');
}

/** A readable name for a Rust symbol; anything else comes back as is. */
export function demangle(sym) {
  const s = sym.replace(/\.llvm\.\d+$/, '');
  try {
    if (s.startsWith('_R')) return demangleV0(s);
    if (s.startsWith('_ZN') && s.endsWith('E')) return demangleLegacy(s);
  } catch {
    return sym;
  }
  return sym;
}
