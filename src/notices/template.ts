// A small text template format for notices, plain text only (mail is never rendered as HTML):
//   {{path.to.value}}                 a value (a missing path is an error, so typos fail tests)
//   {{#if path}} ... {{else}} ... {{/if}}   truthy test (empty lists are false)
//   {{#each path}} ... {{/each}}      repeat over a list; inside, names resolve in the item first
//   {{> name}}                        another template of the same language (a shared footer)
// A file starts with a `Subject:` line, then a blank line, then the body.

export type Node =
  | { t: 'text'; s: string }
  | { t: 'var'; path: string[] }
  | { t: 'if'; path: string[]; then: Node[]; else: Node[] }
  | { t: 'each'; path: string[]; body: Node[] }
  | { t: 'partial'; name: string };

export class TemplateError extends Error {}

export function parseTemplate(src: string, where: string): Node[] {
  const tokens = src.split(/(\{\{[^{}]*\}\})/);
  let i = 0;
  const line = () => tokens.slice(0, i).join('').split('\n').length;
  const fail = (m: string): never => { throw new TemplateError(`${where}:${line()}: ${m}`); };
  const path = (p: string) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(p)) fail(`'${p}' is not a value name`);
    return p.split('.');
  };
  const block = (closers: string[]): { nodes: Node[]; closer: string } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const tok = tokens[i++];
      if (!tok.startsWith('{{')) { if (tok) nodes.push({ t: 'text', s: tok }); continue; }
      const inner = tok.slice(2, -2).trim();
      if (closers.includes(inner)) return { nodes, closer: inner };
      if (inner.startsWith('#if ')) {
        const p = path(inner.slice(4).trim());
        const a = block(['else', '/if']);
        const b = a.closer === 'else' ? block(['/if']).nodes : [];
        nodes.push({ t: 'if', path: p, then: a.nodes, else: b });
      } else if (inner.startsWith('#each ')) {
        nodes.push({ t: 'each', path: path(inner.slice(6).trim()), body: block(['/each']).nodes });
      } else if (inner.startsWith('>')) {
        const name = inner.slice(1).trim();
        if (!/^[a-z0-9_-]+$/.test(name)) fail(`bad partial name '${name}'`);
        nodes.push({ t: 'partial', name });
      } else if (/^[#/]|^else$/.test(inner)) {
        fail(`unexpected {{${inner}}}`);
      } else {
        nodes.push({ t: 'var', path: path(inner) });
      }
    }
    if (closers.length) fail(`missing {{${closers[closers.length - 1]}}}`);
    return { nodes, closer: '' };
  };
  return block([]).nodes;
}

type Scope = Record<string, unknown>;

export function renderNodes(nodes: Node[], scopes: Scope[], partial: (name: string) => Node[], where: string): string {
  let out = '';
  for (const n of nodes) {
    switch (n.t) {
      case 'text': out += n.s; break;
      case 'var': {
        const v = lookup(scopes, n.path, where);
        if (v !== null && typeof v === 'object') throw new TemplateError(`${where}: {{${n.path.join('.')}}} is not a plain value`);
        out += v == null ? '' : String(v);
        break;
      }
      case 'if': {
        const v = lookup(scopes, n.path, where);
        out += renderNodes(truthy(v) ? n.then : n.else, scopes, partial, where);
        break;
      }
      case 'each': {
        const v = lookup(scopes, n.path, where);
        if (!Array.isArray(v)) throw new TemplateError(`${where}: {{#each ${n.path.join('.')}}} needs a list`);
        for (const item of v) out += renderNodes(n.body, [item && typeof item === 'object' ? item as Scope : { this: item }, ...scopes], partial, where);
        break;
      }
      case 'partial': out += renderNodes(partial(n.name), scopes, partial, `${where} > ${n.name}`); break;
    }
  }
  return out;
}

function truthy(v: unknown): boolean {
  return Array.isArray(v) ? v.length > 0 : Boolean(v);
}

function lookup(scopes: Scope[], path: string[], where: string): unknown {
  for (const s of scopes) {
    if (!(path[0] in s)) continue;
    let v: unknown = s;
    for (const k of path) {
      if (v == null || typeof v !== 'object' || !(k in (v as Scope))) throw new TemplateError(`${where}: no value named ${path.join('.')}`);
      v = (v as Scope)[k];
    }
    return v;
  }
  throw new TemplateError(`${where}: no value named ${path.join('.')}`);
}
