// Notice templates as files: <name>.<lang>.txt in cases.templates_dir (default: the shipped ones
// in src/notices/templates/). Files whose name starts with `_` are partials ({{> footer}}).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTemplate, renderNodes, TemplateError, type Node } from './template.js';

export const LANGUAGES = ['ja', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

const here = dirname(fileURLToPath(import.meta.url));
export const shippedTemplatesDir = [join(here, 'templates'), join(here, '../../../src/notices/templates')]
  .find((d) => { try { return readdirSync(d).some((f) => f.endsWith('.txt')); } catch { return false; } })!;

export interface RenderedMail { subject: string; body: string }

export interface TemplateSet {
  /** Template names (without partials), each present in every language. */
  names(): string[];
  has(name: string, lang: Language): boolean;
  render(name: string, lang: Language, context: Record<string, unknown>): RenderedMail;
}

export function loadTemplates(dir = shippedTemplatesDir): TemplateSet {
  const files = new Map<string, { subject: Node[]; body: Node[] } | Node[]>();
  for (const f of readdirSync(dir)) {
    const m = /^(_?[a-z0-9-]+)\.(ja|en)\.txt$/.exec(f);
    if (!m) continue;
    const where = join(dir, f);
    const src = readFileSync(where, 'utf8').replace(/\r\n/g, '\n');
    if (m[1].startsWith('_')) { files.set(`${m[1].slice(1)}.${m[2]}`, parseTemplate(src, where)); continue; }
    const head = /^Subject: (.*)\n\n/.exec(src);
    if (!head) throw new TemplateError(`${where}: a notice template starts with a 'Subject: ...' line and a blank line`);
    files.set(`${m[1]}.${m[2]}`, { subject: parseTemplate(head[1], where), body: parseTemplate(src.slice(head[0].length), where) });
  }
  const partial = (lang: Language) => (name: string): Node[] => {
    const p = files.get(`${name}.${lang}`);
    if (!Array.isArray(p)) throw new TemplateError(`no partial _${name}.${lang}.txt in ${dir}`);
    return p;
  };
  return {
    names() {
      return [...new Set([...files.entries()].filter(([, v]) => !Array.isArray(v)).map(([k]) => k.replace(/\.(ja|en)$/, '')))].sort();
    },
    has(name, lang) { const t = files.get(`${name}.${lang}`); return !!t && !Array.isArray(t); },
    render(name, lang, context) {
      const t = files.get(`${name}.${lang}`);
      if (!t || Array.isArray(t)) throw new TemplateError(`no template ${name}.${lang}.txt in ${dir}`);
      const where = `${name}.${lang}.txt`;
      const subject = renderNodes(t.subject, [context], partial(lang), where).replace(/\s+/g, ' ').trim();
      const body = renderNodes(t.body, [context], partial(lang), where).replace(/\n{3,}/g, '\n\n');
      return { subject, body };
    },
  };
}
