// The `blocklists` configuration section, checked and typed. YAML is operator input: every
// mistake is a ConfigError naming the key, never a crash deep inside a scheduled fetch.
import { ConfigError, type Config } from '../config/config.js';
import { knownZone, type ZoneSpec } from './dnsbl.js';

/**
 * What a listing leads to. act: it goes to the desk as an event (cases follow their playbooks);
 * corroborate: only once another list from a different maintainer lists the same assignment too;
 * report: recorded and shown in the report, never an event.
 */
export type Playbook = 'act' | 'corroborate' | 'report';
export const PLAYBOOKS: readonly Playbook[] = ['act', 'corroborate', 'report'];

export interface SourceSpec {
  name: string;
  /** http(s) URL, or a local file or directory (every *.ipset / *.netset in it is a list). */
  url?: string;
  path?: string;
  /** Seconds between checks; unset: the list's own update frequency (FireHOL header), else the default. */
  every?: number;
  category?: string;
  /** Event classification type for its listings (default from the category). */
  type?: string;
  maintainer?: string;
  playbook?: Playbook;
}

export interface PlaybookRule { list?: string; category?: string; playbook: Playbook; type?: string }

export interface BlocklistSettings {
  sources: SourceSpec[];
  /** Seconds between checks of a list that says nothing about its schedule. */
  every: number;
  timeoutMs: number;
  maxBytes: number;
  playbook: Playbook;
  rules: PlaybookRule[];
  dnsbl: {
    addresses: string[];
    zones: ZoneSpec[];
    resolvers: string[];
    rate: number;
    timeoutMs: number;
    every: number;
  };
}

type Tree = Record<string, unknown>;

export function blocklistSettings(config: Config): BlocklistSettings {
  const c = config.blocklists;
  const positive = (v: number, key: string) => {
    if (!(v > 0)) throw new ConfigError(`blocklists.${key} must be a positive number`);
    return v;
  };
  const names = new Set<string>();
  const sources = c.sources.map((raw, i) => {
    const s = mapping(raw, `blocklists.sources[${i}]`);
    const where = `blocklists.sources[${i}]`;
    const url = optString(s, 'url', where), path = optString(s, 'path', where);
    if (!url === !path) throw new ConfigError(`${where}: give exactly one of url or path`);
    if (url && !/^https?:\/\//i.test(url)) throw new ConfigError(`${where}.url must be an http or https URL`);
    const name = optString(s, 'name', where) ?? (url ? undefined : '');
    if (name === undefined) throw new ConfigError(`${where}: a URL source needs a name`);
    if (name && !/^[\w.:-]{1,100}$/.test(name)) throw new ConfigError(`${where}.name may hold letters, digits, _ . : - only`);
    if (name && names.has(name)) throw new ConfigError(`${where}: the name ${name} is used twice`);
    names.add(name);
    const every = s.every === undefined ? undefined : positive(Number(s.every), `sources[${i}].every`);
    for (const k of Object.keys(s)) {
      if (!['name', 'url', 'path', 'every', 'category', 'type', 'maintainer', 'playbook'].includes(k)) throw new ConfigError(`${where}: unknown key ${k}`);
    }
    return {
      name, url, path, every,
      category: optString(s, 'category', where)?.toLowerCase(),
      type: optString(s, 'type', where),
      maintainer: optString(s, 'maintainer', where),
      playbook: optPlaybook(s, where),
    } satisfies SourceSpec;
  });
  const rules = c.playbooks.map((raw, i) => {
    const where = `blocklists.playbooks[${i}]`;
    const r = mapping(raw, where);
    const playbook = optPlaybook(r, where);
    if (!playbook) throw new ConfigError(`${where}: playbook is required (${PLAYBOOKS.join(', ')})`);
    const list = optString(r, 'list', where), category = optString(r, 'category', where)?.toLowerCase();
    if (!list === !category) throw new ConfigError(`${where}: give exactly one of list or category`);
    return { list, category, playbook, type: optString(r, 'type', where) };
  });
  if (!PLAYBOOKS.includes(c.playbook as Playbook)) throw new ConfigError(`blocklists.playbook must be one of ${PLAYBOOKS.join(', ')}`);
  const d = c.dnsbl;
  const zones = d.zones.map((z, i): ZoneSpec => {
    const where = `blocklists.dnsbl.zones[${i}]`;
    if (typeof z === 'string') {
      const known = knownZone(z);
      if (!known) throw new ConfigError(`${where}: ${z} is not a zone Madoguchi knows; give {zone, codes}`);
      return known;
    }
    const m = mapping(z, where);
    const zone = optString(m, 'zone', where);
    if (!zone || !/^[a-z0-9.-]+$/i.test(zone)) throw new ConfigError(`${where}.zone must be a DNS name`);
    const codes = m.codes === undefined ? knownZone(zone)?.codes ?? {} : mapping(m.codes, `${where}.codes`);
    for (const [k, v] of Object.entries(codes)) {
      if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(k) || typeof v !== 'string') throw new ConfigError(`${where}.codes: ${k} must be a 127.x.y.z address with a text meaning`);
    }
    return {
      zone: zone.toLowerCase(), name: optString(m, 'name', where) ?? zone.toLowerCase(),
      codes: codes as Record<string, string>, type: optString(m, 'type', where) ?? 'blacklist', playbook: optPlaybook(m, where),
    };
  });
  return {
    sources, rules,
    every: positive(c.every, 'every'),
    timeoutMs: positive(c.timeout, 'timeout') * 1000,
    maxBytes: positive(c.max_bytes, 'max_bytes'),
    playbook: c.playbook as Playbook,
    dnsbl: {
      addresses: d.addresses.map(String), zones, resolvers: d.resolvers.map(String),
      rate: positive(d.rate, 'dnsbl.rate'), timeoutMs: positive(d.timeout, 'dnsbl.timeout') * 1000, every: positive(d.every, 'dnsbl.every'),
    },
  };
}

function mapping(v: unknown, where: string): Tree {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`${where} must be a mapping`);
  return v as Tree;
}

function optString(t: Tree, key: string, where: string): string | undefined {
  const v = t[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ConfigError(`${where}.${key} must be a string`);
  return v;
}

function optPlaybook(t: Tree, where: string): Playbook | undefined {
  const v = optString(t, 'playbook', where);
  if (v !== undefined && !PLAYBOOKS.includes(v as Playbook)) throw new ConfigError(`${where}.playbook must be one of ${PLAYBOOKS.join(', ')}`);
  return v as Playbook | undefined;
}

/** The playbook and event type for a list: its own setting, then the first rule by name, then by category. */
export function playbookFor(s: BlocklistSettings, list: string, category: string | undefined, own?: Playbook): { playbook: Playbook; type?: string } {
  const rule = s.rules.find((r) => r.list === list) ?? s.rules.find((r) => r.category !== undefined && r.category === category);
  return { playbook: own ?? rule?.playbook ?? s.playbook, type: rule?.type };
}
