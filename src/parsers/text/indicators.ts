// Finding indicators (IP addresses, URLs, host names, e-mail addresses) in report text as people
// write it: defanged (hxxp, [.], (dot), [:]), in full-width digits and dots, inside log lines,
// pasted headers and whois output. Each hit keeps its line and position so the caller can weigh
// what the words around it say.
import { formatIPv6, parseIPv4, parseIPv6 } from '../../attribution/ip.js';

export type IndicatorKind = 'ip' | 'url' | 'fqdn' | 'email';

export interface Indicator {
  kind: IndicatorKind;
  /** Normalised value: IPs canonical, URLs refanged, names lower-case. */
  value: string;
  /** Host of a URL or e-mail address, lower-case. */
  host?: string;
  port?: number;
  /** Offset of the hit in the normalised text, and its line number. */
  index: number;
  line: number;
  /** The text was defanged where this was found (the writer marked it as malicious). */
  defanged: boolean;
  /** An IP given with a prefix length (`/24`): a network, not one host. */
  network?: boolean;
}

export interface NormalisedText {
  text: string;
  lines: string[];
  /** Line start offsets into `text`. */
  starts: number[];
  defangedLines: Set<number>;
}

const FULLWIDTH = /[\uff01-\uff5e\u3000]/;
const IDEOGRAPHIC_DOT = /(?<=[A-Za-z0-9])[。｡](?=[A-Za-z0-9])/g;
const DEFANG = /h(?:xx|XX|\*\*|\[t\]\[t\]|\[tt\])p|\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}|\[:\]|\[:\/\/\]|\[\/\/\]|\[@\]|\[at\]|\(at\)|\[\/\]/i;
const DEFANG_ALL = new RegExp(DEFANG.source, 'gi');

/** Full-width ASCII to ASCII, defanged indicators restored; remembers which lines were defanged. */
export function normaliseText(input: string): NormalisedText {
  let text = input;
  if (FULLWIDTH.test(text)) text = text.replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).replace(/\u3000/g, ' ');
  text = text.replace(IDEOGRAPHIC_DOT, '.');
  let lines = text.split(/\r?\n/);
  const defangedLines = new Set<number>();
  if (DEFANG.test(text)) {
    lines = lines.map((l, i) => {
      if (!DEFANG.test(l)) return l;
      defangedLines.add(i);
      return l.replace(DEFANG_ALL, refang);
    });
  }
  text = lines.join('\n');
  const starts: number[] = new Array(lines.length);
  for (let i = 0, off = 0; i < lines.length; i++) { starts[i] = off; off += lines[i].length + 1; }
  return { text, lines, starts, defangedLines };
}

function refang(m: string): string {
  const l = m.toLowerCase();
  if (l.startsWith('h')) return 'http';
  if (l.includes('@') || l.includes('at')) return '@';
  if (l === '[://]') return '://';
  if (l === '[//]') return '//';
  if (l === '[/]') return '/';
  if (l.includes(':')) return ':';
  return '.';
}

const URL_RE = /\b(?:https?|ftp):\/\/[^\s<>"'`{}|\\^\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]+/gi;
const IPV4_RE = /(?<![\d.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(?!\.?\d)(\/\d{1,2})?(?::(\d{1,5})(?!\d))?/g;
const IPV6_RE = /(?<![0-9a-f:.])(?:[0-9a-f]{1,4}:|::?)(?:[0-9a-f]{0,4}:){1,7}[0-9a-f]{0,4}(?:\/\d{1,3})?(?![0-9a-f:])/gi;
const EMAIL_RE = /[\w.+-]+@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}\b/gi;
const FQDN_RE = /(?<![\w.@/-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{2,59})(?![\w-]|\.[a-z0-9])/gi;

/** File extensions that look like top-level domains in text ("account.php", "sshd.conf"). */
const NOT_TLD = new Set('php html htm shtml zip exe js css txt log conf jpg jpeg png gif pdf doc docx xls xlsx csv json xml asp aspx jsp cgi pl py sh tar gz tgz rar eml msg ini cfg bak sql db dll bin iso apk jar ps1 vbs lnk scr bat cmd md yml yaml tmp old swp svg ico woff ttf mp3 mp4 avi mov wav ts tsx rb go rs java class so lock pem crt key asc sig gpg'.split(' '));

export function extractIndicators(t: NormalisedText): Indicator[] {
  const { text } = t;
  const out: Indicator[] = [];
  const taken: Array<[number, number]> = [];
  const lineOf = (index: number) => lineAt(t.starts, index);
  const push = (i: Indicator, end: number) => { out.push(i); taken.push([i.index, end]); };
  const covered = (a: number, b: number) => taken.some(([s, e]) => a < e && b > s);

  for (const m of text.matchAll(URL_RE)) {
    const raw = trimUrl(m[0]);
    const u = parseUrl(raw);
    if (!u) continue;
    const line = lineOf(m.index!);
    push({ kind: 'url', value: u.url, host: u.host, port: u.port, index: m.index!, line, defanged: t.defangedLines.has(line) }, m.index! + raw.length);
  }
  for (const m of text.matchAll(EMAIL_RE)) {
    if (covered(m.index!, m.index! + m[0].length)) continue;
    const line = lineOf(m.index!);
    const value = m[0].toLowerCase();
    push({ kind: 'email', value, host: value.slice(value.indexOf('@') + 1), index: m.index!, line, defanged: t.defangedLines.has(line) }, m.index! + m[0].length);
  }
  for (const m of text.matchAll(IPV4_RE)) {
    if (covered(m.index!, m.index! + m[0].length)) continue;
    const addr = m[0].replace(/[/:].*$/, '');
    if (parseIPv4(addr) < 0) continue;
    const line = lineOf(m.index!);
    const ind: Indicator = { kind: 'ip', value: addr, index: m.index!, line, defanged: t.defangedLines.has(line) };
    if (m[1]) ind.network = true;
    if (m[2] && Number(m[2]) <= 65535) ind.port = Number(m[2]);
    push(ind, m.index! + m[0].length);
  }
  if (text.includes(':')) {
    const words = new Uint32Array(4);
    for (const m of text.matchAll(IPV6_RE)) {
      const [addr, prefix] = m[0].split('/');
      if (!addr.includes('::') && addr.split(':').length !== 8) continue;
      if (covered(m.index!, m.index! + m[0].length) || !parseIPv6(addr, words)) continue;
      const line = lineOf(m.index!);
      const ind: Indicator = { kind: 'ip', value: formatIPv6(words), index: m.index!, line, defanged: t.defangedLines.has(line) };
      if (prefix !== undefined) ind.network = true;
      push(ind, m.index! + m[0].length);
    }
  }
  for (const m of text.matchAll(FQDN_RE)) {
    const name = m[0].toLowerCase();
    if (NOT_TLD.has(name.slice(name.lastIndexOf('.') + 1)) || covered(m.index!, m.index! + name.length)) continue;
    if (/^[\d.]+$/.test(name)) continue;
    const line = lineOf(m.index!);
    push({ kind: 'fqdn', value: name, host: name, index: m.index!, line, defanged: t.defangedLines.has(line) }, m.index! + name.length);
  }
  return out.sort((a, b) => a.index - b.index);
}

function lineAt(starts: number[], index: number): number {
  let lo = 0, hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= index) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/** Drops trailing punctuation a sentence adds after a URL, keeping balanced brackets. */
function trimUrl(u: string): string {
  let s = u;
  for (;;) {
    const last = s[s.length - 1];
    if (/[.,;:!?'"*]/.test(last)) { s = s.slice(0, -1); continue; }
    if (last === ')' && count(s, '(') < count(s, ')')) { s = s.slice(0, -1); continue; }
    if (last === ']' && count(s, '[') < count(s, ']')) { s = s.slice(0, -1); continue; }
    if (last === '>' ) { s = s.slice(0, -1); continue; }
    return s;
  }
}

function count(s: string, c: string): number {
  let n = 0;
  for (const x of s) if (x === c) n++;
  return n;
}

/** A URL with scheme and host lower-cased; null when it has no usable host. */
export function parseUrl(raw: string): { url: string; host: string; port?: number } | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return null;
  }
  let host = u.hostname.toLowerCase().replace(/\.$/, '');
  if (host.startsWith('[')) host = host.slice(1, -1);
  if (!host || (!host.includes('.') && !host.includes(':'))) return null;
  const port = u.port ? Number(u.port) : undefined;
  return { url: u.href, host, port };
}

/** Addresses that can never be a hosting customer's: private, loopback, link-local, multicast, unspecified. */
export function isNonPublicIp(ip: string): boolean {
  if (ip.includes(':')) {
    const l = ip.toLowerCase();
    return l === '::' || l === '::1' || /^f[cd]/.test(l) || /^fe[89ab]/.test(l) || /^ff/.test(l) || l.startsWith('::ffff:');
  }
  const v = parseIPv4(ip);
  const a = v >>> 24, b = (v >>> 16) & 0xff;
  return a === 0 || a === 10 || a === 127 || a >= 224 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
}

/** The registrable part of a host name, approximately: the last two labels, three under a second-level like co.jp. */
export function baseDomain(host: string): string {
  const labels = host.toLowerCase().replace(/\.$/, '').split('.');
  if (labels.length <= 2) return labels.join('.');
  const sld = labels[labels.length - 2];
  const tld = labels[labels.length - 1];
  const second = /^(co|ne|or|ac|go|ad|ed|gr|lg|com|net|org|gov|edu|ltd|plc|sch|mil)$/.test(sld) && tld.length === 2;
  return labels.slice(second ? -3 : -2).join('.');
}
