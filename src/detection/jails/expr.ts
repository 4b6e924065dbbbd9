// The arithmetic subset of Python that fail2ban evaluates with eval(): time expressions after
// MyTime.str2seconds has rewritten them ("1*86400+12*3600") and bantime.formula
// ("ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor"). We parse and evaluate
// instead of eval-ing: a jail file is configuration, not code, and a typo must be a clear error.

export class ExprError extends Error {}

export type Scope = Record<string, number | ((...args: number[]) => number)>;

const MATH: Scope = {
  'math.exp': Math.exp, 'math.log': (x: number, b?: number) => (b === undefined ? Math.log(x) : Math.log(x) / Math.log(b)),
  'math.pow': Math.pow, 'math.sqrt': Math.sqrt, 'math.floor': Math.floor, 'math.ceil': Math.ceil,
  'math.e': Math.E, 'math.pi': Math.PI,
  float: (x: number) => x, int: (x: number) => Math.trunc(x), abs: Math.abs,
  min: (...a: number[]) => Math.min(...a), max: (...a: number[]) => Math.max(...a),
  round: (x: number, n?: number) => (n === undefined ? pyRound(x) : pyRound(x * 10 ** n) / 10 ** n),
};

/** Python 3's round(): halves go to the even neighbour (fail2ban's failure-rate estimate uses it). */
export function pyRound(x: number): number {
  const f = Math.floor(x), d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

type Tok = { t: 'num'; v: number } | { t: 'id'; v: string } | { t: 'op'; v: string };

const TOKEN = /\s*(?:(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_][\w.]*)|(\*\*|\/\/|<<|>>|<=|>=|==|!=|[-+*/%()<>,]))/y;

function tokenize(src: string): Tok[] {
  if (src.length > 2000) throw new ExprError('expression too long');
  const out: Tok[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    const at = TOKEN.lastIndex;
    if (/^\s*$/.test(src.slice(at))) break;
    const m = TOKEN.exec(src);
    if (!m) throw new ExprError(`unexpected '${src.slice(at).trim().slice(0, 10)}' in '${src}'`);
    if (m[1] !== undefined) out.push({ t: 'num', v: Number(m[1]) });
    else if (m[2] !== undefined) out.push({ t: 'id', v: m[2] });
    else out.push({ t: 'op', v: m[3] });
  }
  return out;
}

type Node = (scope: Scope) => number;

/** Compiles a Python arithmetic expression; the result evaluates it against a scope. */
export function compileExpr(src: string): Node {
  const toks = tokenize(src);
  let i = 0;
  const peek = () => toks[i];
  const isOp = (v: string) => toks[i]?.t === 'op' && toks[i].v === v;
  const isWord = (v: string) => toks[i]?.t === 'id' && toks[i].v === v;
  const expect = (v: string) => { if (!isOp(v)) throw new ExprError(`expected '${v}' in '${src}'`); i++; };

  // Python precedence, loosest first: conditional, or, and, not, comparison, shift, +-, */ // %, unary, **.
  function conditional(): Node {
    const a = orExpr();
    if (!isWord('if')) return a;
    i++;
    const c = orExpr();
    if (!isWord('else')) throw new ExprError(`expected 'else' in '${src}'`);
    i++;
    const b = conditional();
    return (s) => (c(s) ? a(s) : b(s));
  }
  function orExpr(): Node {
    let a = andExpr();
    while (isWord('or')) { i++; const l = a, r = andExpr(); a = (s) => l(s) || r(s); }
    return a;
  }
  function andExpr(): Node {
    let a = notExpr();
    while (isWord('and')) { i++; const l = a, r = notExpr(); a = (s) => l(s) && r(s); }
    return a;
  }
  function notExpr(): Node {
    if (isWord('not')) { i++; const a = notExpr(); return (s) => (a(s) ? 0 : 1); }
    return comparison();
  }
  function comparison(): Node {
    let a = shift();
    const ops: Record<string, (x: number, y: number) => boolean> = {
      '<': (x, y) => x < y, '<=': (x, y) => x <= y, '>': (x, y) => x > y, '>=': (x, y) => x >= y,
      '==': (x, y) => x === y, '!=': (x, y) => x !== y,
    };
    while (peek()?.t === 'op' && ops[peek().v as string]) {
      const f = ops[toks[i++].v as string], l = a, r = shift();
      a = (s) => (f(l(s), r(s)) ? 1 : 0);
    }
    return a;
  }
  function shift(): Node {
    let a = additive();
    while (isOp('<<') || isOp('>>')) {
      const op = toks[i++].v, l = a, r = additive();
      // Python integers do not overflow at 32 bits: shift by multiplying.
      a = op === '<<' ? (s) => Math.trunc(l(s)) * 2 ** Math.trunc(r(s)) : (s) => Math.floor(Math.trunc(l(s)) / 2 ** Math.trunc(r(s)));
    }
    return a;
  }
  function additive(): Node {
    let a = term();
    while (isOp('+') || isOp('-')) {
      const op = toks[i++].v, l = a, r = term();
      a = op === '+' ? (s) => l(s) + r(s) : (s) => l(s) - r(s);
    }
    return a;
  }
  function term(): Node {
    let a = unary();
    while (isOp('*') || isOp('/') || isOp('//') || isOp('%')) {
      const op = toks[i++].v, l = a, r = unary();
      a = op === '*' ? (s) => l(s) * r(s)
        : op === '/' ? (s) => div(l(s), r(s))
        : op === '//' ? (s) => Math.floor(div(l(s), r(s)))
        : (s) => { const y = r(s); const x = l(s); if (y === 0) throw new ExprError('modulo by zero'); return x - y * Math.floor(x / y); };
    }
    return a;
  }
  function unary(): Node {
    if (isOp('-')) { i++; const a = unary(); return (s) => -a(s); }
    if (isOp('+')) { i++; return unary(); }
    return power();
  }
  function power(): Node {
    const a = atom();
    if (!isOp('**')) return a;
    i++;
    const b = unary();
    return (s) => a(s) ** b(s);
  }
  function atom(): Node {
    const t = toks[i++];
    if (!t) throw new ExprError(`unexpected end of '${src}'`);
    if (t.t === 'num') { const v = t.v; return () => v; }
    if (t.t === 'op' && t.v === '(') { const a = conditional(); expect(')'); return a; }
    if (t.t === 'id') {
      const name = t.v;
      if (isOp('(')) {
        i++;
        const args: Node[] = [];
        if (!isOp(')')) { args.push(conditional()); while (isOp(',')) { i++; args.push(conditional()); } }
        expect(')');
        return (s) => {
          const f = s[name] ?? MATH[name];
          if (typeof f !== 'function') throw new ExprError(`unknown function ${name} in '${src}'`);
          return f(...args.map((x) => x(s)));
        };
      }
      return (s) => {
        const v = s[name] ?? MATH[name];
        if (typeof v !== 'number') throw new ExprError(`unknown name ${name} in '${src}'`);
        return v;
      };
    }
    throw new ExprError(`unexpected '${t.v}' in '${src}'`);
  }
  function div(x: number, y: number): number {
    if (y === 0) throw new ExprError(`division by zero in '${src}'`);
    return x / y;
  }

  if (toks.length === 0) throw new ExprError('empty expression');
  const root = conditional();
  if (i < toks.length) throw new ExprError(`unexpected '${String(toks[i].v)}' in '${src}'`);
  return root;
}

export function evalExpr(src: string, scope: Scope = {}): number {
  const v = compileExpr(src)(scope);
  if (!Number.isFinite(v)) throw new ExprError(`'${src}' is not a finite number`);
  return v;
}
