// fail2ban filter files, read as fail2ban's FilterReader reads them: Python configparser syntax
// (case-insensitive option names, indented continuation lines, `#`/`;` comments, ` ;` inline
// comments), `[INCLUDES]` before/after with `.local` companions, `[DEFAULT]`, `%(name)s` and
// `%(section/name)s` interpolation, `known/` values from earlier files, `[Init]` and filter
// options `name.conf[key=value, ...]`, then fail2ban's recursive `<tag>` substitution.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';

export class FilterConfigError extends Error {}

type Section = Map<string, string>;

/** One parsed file: sections in order of appearance, DEFAULT kept apart. */
interface IniFile { defaults: Section; sections: Map<string, Section> }

const MAX_FILE_BYTES = 1 << 20;

/** Parses configparser syntax (strict=False semantics: a repeated option keeps the last value). */
export function parseIni(text: string, origin = '<string>'): IniFile {
  const defaults: Section = new Map();
  const sections = new Map<string, Section>();
  let cur: Section | null = null;
  let opt: string | null = null;
  let parts: string[] | null = null;
  let indent = 0;
  const flush = () => {
    if (cur && opt !== null && parts) cur.set(opt, parts.join('\n').replace(/\s+$/, ''));
  };
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    // Inline comments need whitespace before ';' (configparser: inline_comment_prefixes=';').
    let cut = -1;
    for (let i = 1; i < line.length; i++) {
      if (line[i] === ';' && /\s/.test(line[i - 1])) { cut = i; break; }
    }
    const trimmed = line.trim();
    const fullComment = trimmed.startsWith('#') || trimmed.startsWith(';');
    const value = fullComment ? '' : (cut >= 0 ? line.slice(0, cut) : line).trim();
    if (!value) {
      // Blank lines inside a value are kept (empty_lines_in_values), comment lines are not.
      if (!fullComment && cur && opt !== null && parts) parts.push('');
      continue;
    }
    const lineIndent = line.length - line.trimStart().length;
    if (cur && opt !== null && parts && lineIndent > indent) { parts.push(value); continue; }
    indent = lineIndent;
    const sec = /^\[([^\]]+)\]/.exec(value);
    if (sec) {
      flush();
      opt = null; parts = null;
      const name = sec[1];
      if (name === 'DEFAULT') cur = defaults;
      else { cur = sections.get(name) ?? new Map(); sections.set(name, cur); }
      continue;
    }
    if (!cur) throw new FilterConfigError(`${origin}:${n + 1}: option outside any section`);
    const m = /^(.*?)\s*[=:]\s*(.*)$/.exec(value);
    flush();
    if (!m || !m[1]) throw new FilterConfigError(`${origin}:${n + 1}: cannot parse line: ${value.slice(0, 80)}`);
    opt = m[1].toLowerCase().trim();
    parts = [m[2]];
  }
  flush();
  return { defaults, sections };
}

function readIni(path: string): IniFile | null {
  try {
    const st = statSync(path);
    if (!st.isFile()) return null;
    if (st.size > MAX_FILE_BYTES) throw new FilterConfigError(`${path}: file too large`);
    return parseIni(readFileSync(path, 'utf8'), path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * Files to read for `path` with its includes, leaves first (SafeConfigParserWithIncludes._getIncludes).
 * An include missing at its relative path is looked up by name in `fallbackDir`: fail2ban's own
 * test filters include `../../../../../../../config/filter.d/common.conf`, which only resolves in
 * fail2ban's source tree; fail2ban itself then fails on the undefined prefixes.
 */
function withIncludes(files: string[], fallbackDir?: string, seen: string[] = []): string[] {
  const expanded: string[] = [];
  for (const f of files) {
    expanded.push(f);
    const local = f.replace(/\.[^./]*$/, '') + '.local';
    if (!files.includes(local) && existsSync(local)) expanded.push(local);
  }
  const out: string[] = [];
  for (const f of expanded) {
    const ini = readIni(f);
    if (!ini) continue;
    const before: string[] = [], after: string[] = [];
    const inc = ini.sections.get('INCLUDES');
    for (const [key, list] of [['before', before], ['after', after]] as const) {
      const v = inc?.get(key) ?? ini.defaults.get(key);
      if (!inc || v === undefined) continue;
      for (const r of v.split('\n')) {
        let p = isAbsolute(r) ? r : join(dirname(f), r);
        if (fallbackDir && !existsSync(p) && existsSync(join(fallbackDir, basename(p)))) p = join(fallbackDir, basename(p));
        if (seen.includes(p)) continue;
        list.push(...withIncludes([p], fallbackDir, [...seen, f]));
      }
    }
    out.push(...before, f, ...after);
  }
  return out;
}

/** The merged configuration of a filter and everything it includes. */
export class ConfigSet {
  readonly defaults: Section = new Map();
  readonly sections = new Map<string, Section>();
  readonly files: string[] = [];

  /** Reads files in order, later values winning, earlier ones kept as `KNOWN/<section>`. */
  read(files: string[], fallbackDir?: string): void {
    for (const f of withIncludes(files, fallbackDir)) {
      const ini = readIni(f);
      if (!ini) continue;
      this.files.push(f);
      for (const [k, v] of ini.defaults) this.defaults.set(k, v);
      for (const [name, sec] of ini.sections) {
        const prev = this.sections.get(name);
        if (prev) {
          const known = this.sections.get('KNOWN/' + name) ?? new Map();
          for (const [k, v] of prev) if (sec.has(k)) known.set(k, v);
          this.sections.set('KNOWN/' + name, known);
          for (const [k, v] of sec) prev.set(k, v);
        } else this.sections.set(name, new Map(sec));
      }
    }
  }

  has(section: string, option: string): boolean {
    return this.sections.get(section)?.has(option) ?? false;
  }

  /** configparser's get(section, option, vars=...) with BasicInterpolation and fail2ban's section/option references. */
  get(section: string, option: string, vars: Record<string, string> = {}): string | undefined {
    const sec = this.sections.get(section);
    if (!sec && section !== 'DEFAULT') throw new FilterConfigError(`no section [${section}]`);
    const key = option.toLowerCase();
    const lookup = (name: string): string | undefined => {
      if (name in vars) return vars[name];
      const v = sec?.get(name);
      if (v !== undefined) return v;
      return this.defaults.get(name);
    };
    const raw = lookup(key);
    if (raw === undefined) return undefined;
    return this.interpolate(raw, section, option, lookup, 1);
  }

  private interpolate(value: string, section: string, option: string, lookup: (n: string) => string | undefined, depth: number): string {
    if (depth > 10) throw new FilterConfigError(`interpolation too deep for ${section}/${option}: ${value.slice(0, 80)}`);
    if (!value.includes('%')) return value;
    let out = '';
    let i = 0;
    while (i < value.length) {
      const p = value.indexOf('%', i);
      if (p < 0) { out += value.slice(i); break; }
      out += value.slice(i, p);
      const c = value[p + 1];
      if (c === '%') { out += '%'; i = p + 2; continue; }
      if (c !== '(') throw new FilterConfigError(`'%' must be followed by '%' or '(' in ${section}/${option}: ${value.slice(0, 80)}`);
      const end = value.indexOf(')s', p);
      if (end < 0) throw new FilterConfigError(`bad interpolation syntax in ${section}/${option}: ${value.slice(p, p + 40)}`);
      const name = value.slice(p + 2, end).toLowerCase();
      let v: string | undefined;
      if (name === '__name__') v = section;
      else v = lookup(name) ?? this.sectionOption(name, section);
      if (v === undefined) throw new FilterConfigError(`bad option reference %(${name})s in [${section}] ${option}`);
      out += this.interpolate(v, section, option, lookup, depth + 1);
      i = end + 2;
    }
    return out;
  }

  /** `%(section/option)s`: another section's raw value, `known/...` from earlier files, `default/...`. */
  private sectionOption(name: string, section: string): string | undefined {
    const m = /^([\w-]+)\/([^\s>]+)$/.exec(name);
    if (!m) return undefined;
    const sec = m[1].toLowerCase();
    const opt = m[2];
    if (sec === 'default') return this.defaults.get(opt);
    if (sec === 'known') return this.sections.get('KNOWN/' + section)?.get(opt) ?? this.defaults.get(opt);
    for (const [n, s] of this.sections) if (n === m[1] || n.toLowerCase() === sec) { const v = s.get(opt); if (v !== undefined) return v; }
    return this.defaults.get(opt);
  }

  /** fail2ban's get_ex: `section/option` names resolve in that section first. */
  getEx(section: string, option: string, vars: Record<string, string>): string | undefined {
    const m = /^([\w-]+)\/([^\s>]+)$/.exec(option);
    if (m) {
      const lower = m[1].toLowerCase();
      const candidates = lower === 'known' ? ['KNOWN/' + section, section] : [lower === 'default' ? 'DEFAULT' : m[1]];
      for (const s of candidates) {
        try {
          const v = s === 'DEFAULT' ? this.defaults.get(m[2].toLowerCase()) : this.sections.has(s) ? this.get(s, m[2]) : undefined;
          if (v !== undefined) return v;
        } catch (e) { if (!(e instanceof FilterConfigError)) throw e; }
      }
    }
    if (!this.sections.has(section)) return undefined;
    return this.get(section, option, vars);
  }
}

const TAG_RE = /<([^ <>]+)>/g;
const MAX_TAG_REPLACE_COUNT = 25;

/** fail2ban's substituteRecursiveTags: replaces `<tag>` by other options' values until none is left. */
export function substituteTags(input: Record<string, string>, addrepl?: (tag: string) => string | undefined, ignore: Set<string> = new Set()): Record<string, string> {
  const tags: Record<string, string> = { ...input };
  const done = new Set<string>();
  const repCounts = new Map<string, Map<string, number>>();
  for (;;) {
    let again = false;
    for (const tag of Object.keys(tags)) {
      if (ignore.has(tag) || done.has(tag)) continue;
      let value = tags[tag];
      const orig = value;
      const rplc = repCounts.get(tag) ?? new Map<string, number>();
      TAG_RE.lastIndex = 0;
      let m = TAG_RE.exec(value);
      while (m) {
        const rtag = m[1];
        if (ignore.has(rtag)) { TAG_RE.lastIndex = m.index + m[0].length; m = TAG_RE.exec(value); continue; }
        if (rtag === tag || (rplc.get(rtag) ?? 1) > MAX_TAG_REPLACE_COUNT) {
          throw new FilterConfigError(`properties contain self referencing definitions and cannot be resolved, fail tag: ${tag}, found: ${rtag}`);
        }
        let repl: string | undefined = Object.prototype.hasOwnProperty.call(tags, rtag) ? tags[rtag] : undefined;
        if (repl === undefined && addrepl) repl = addrepl(rtag);
        if (repl === undefined) { TAG_RE.lastIndex = m.index + m[0].length; m = TAG_RE.exec(value); continue; }
        value = value.split(`<${rtag}>`).join(repl);
        rplc.set(rtag, (rplc.get(rtag) ?? 0) + 1);
        TAG_RE.lastIndex = m.index;
        m = TAG_RE.exec(value);
      }
      if (orig !== value) {
        TAG_RE.lastIndex = 0;
        if (TAG_RE.test(value)) { repCounts.set(tag, rplc); again = true; }
        tags[tag] = value;
      }
      if (!value.includes('<')) done.add(tag);
    }
    if (!again) break;
  }
  return tags;
}

/** `sshd.conf[mode=aggressive, logtype="journal"]` -> name and options (fail2ban's extractOptions). */
export function parseFilterSpec(spec: string): { path: string; options: Record<string, string> } {
  const m = /^([^[]+)(?:\[([\s\S]*)\])?\s*$/.exec(spec);
  if (!m) throw new FilterConfigError(`unexpected filter syntax: ${spec}`);
  const options: Record<string, string> = {};
  const optstr = m[2];
  if (optstr) {
    const re = /\s*([\w\-_.]+)=(?:"([^"]*)"|'([^']*)'|([^,\]]*))(?:,|\]\s*\[|$|([\s\S]+))|,?\s*$|([\s\S]+)/gy;
    let o: RegExpExecArray | null;
    while (re.lastIndex < optstr.length && (o = re.exec(optstr))) {
      if (o[5] !== undefined) throw new FilterConfigError(`unexpected syntax after option ${o[1]}: ${o[5].slice(0, 25)}`);
      if (o[6] !== undefined) throw new FilterConfigError(`expected option, wrong syntax: ${o[6].slice(0, 25)}`);
      if (!o[1]) { if (o[0] === '') break; continue; }
      options[o[1].trim()] = (o[2] ?? o[3] ?? o[4] ?? '').trim();
    }
  }
  return { path: m[1].trim(), options };
}

/** What a filter file defines, after interpolation and tag substitution. */
export interface FilterDefinition {
  name: string;
  files: string[];
  prefregex?: string;
  failregex: string[];
  ignoreregex: string[];
  maxlines?: number;
  datepattern?: string;
  journalmatch?: string[];
  usedns?: string;
  logtype: string;
  /** Every combined option, for callers that need more (e.g. a jail's `mode`). */
  options: Record<string, string>;
}

const FILTER_OPTS = ['usedns', 'prefregex', 'ignoreregex', 'failregex', 'maxlines', 'datepattern', 'journalmatch'];

/**
 * Reads a filter as FilterReader does. `path` is a file (`/etc/fail2ban/filter.d/sshd.conf`) or a
 * name inside `basedir/filter.d`. Options given here take precedence over `[Init]`.
 */
export function readFilterDefinition(path: string, options: Record<string, string> = {}, basedir = '/etc/fail2ban'): FilterDefinition {
  let file = path;
  if (!path.includes('/')) {
    file = join(basedir, 'filter.d', path);
    if (!/\.(conf|local)$/.test(path) && !existsSync(file)) file += '.conf';
  }
  file = resolve(file);
  const stem = file.replace(/\.(conf|local)$/, '');
  if (!existsSync(file) && !existsSync(stem + '.conf')) throw new FilterConfigError(`filter not found: ${path}`);
  // Within a filter.d folder fail2ban reads NAME.conf, NAME.d/*.conf, NAME.local, NAME.d/*.local.
  const list = [stem + '.conf'];
  const dDir = stem + '.d';
  const inDir = (ext: string) => existsSync(dDir) ? readdirSync(dDir).filter((f) => f.endsWith(ext)).sort().map((f) => join(dDir, f)) : [];
  if (basename(dirname(file)) === 'filter.d') list.push(...inDir('.conf'), stem + '.local', ...inDir('.local'));
  else if (!list.includes(file)) list.unshift(file);
  const cfg = new ConfigSet();
  cfg.read(list.filter((f) => existsSync(f)), join(basedir, 'filter.d'));
  if (!cfg.files.length) throw new FilterConfigError(`no readable filter file for ${path}`);

  const pOpts: Record<string, string> = {};
  for (const [k, v] of Object.entries(options)) pOpts[k.toLowerCase()] = v;
  const opts: Record<string, string> = {};
  if (cfg.sections.has('Definition')) {
    for (const o of FILTER_OPTS) {
      if (o in pOpts) continue;
      const v = cfg.get('Definition', o, pOpts);
      if (v !== undefined) opts[o] = v;
    }
  }
  const initOpts: Record<string, string> = { ...pOpts };
  const init = cfg.sections.get('Init');
  if (init) {
    for (const o of init.keys()) {
      const v = cfg.get('Init', o)!;
      if (!o.startsWith('known/')) initOpts['known/' + o] = v;
      if (!(o in initOpts)) initOpts[o] = v;
    }
  }
  // fail2ban-regex's applyAutoOptions: a file backend unless the filter or options say otherwise.
  if (!initOpts.logtype && !cfg.has('Definition', 'logtype')) initOpts.logtype = 'file';
  const combined = { ...opts, ...initOpts };
  const cache = new Map<string, string | undefined>();
  const addrepl = (tag: string): string | undefined => {
    if (!cache.has(tag)) {
      let v: string | undefined;
      try { v = cfg.getEx('Definition', tag, pOpts); } catch (e) { if (!(e instanceof FilterConfigError)) throw e; }
      cache.set(tag, v);
    }
    return cache.get(tag);
  };
  const out = substituteTags(combined, addrepl);
  const lines = (v: string | undefined) => (v ?? '').split('\n').filter((x) => x !== '');
  let maxlines: number | undefined;
  if (out.maxlines !== undefined && out.maxlines !== '') {
    maxlines = Number(out.maxlines);
    if (!Number.isInteger(maxlines) || maxlines <= 0) throw new FilterConfigError(`maxlines must be an integer greater than zero: ${out.maxlines}`);
  }
  return {
    name: basename(stem),
    files: cfg.files,
    prefregex: out.prefregex || undefined,
    failregex: lines(out.failregex),
    ignoreregex: lines(out.ignoreregex),
    maxlines,
    datepattern: out.datepattern !== undefined && out.datepattern !== '' ? out.datepattern : undefined,
    journalmatch: out.journalmatch ? lines(out.journalmatch) : undefined,
    usedns: out.usedns,
    logtype: out.logtype ?? addrepl('logtype') ?? 'file',
    options: out,
  };
}
