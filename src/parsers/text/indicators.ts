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
  /** The writer defanged this one (marked it as malicious). */
  defanged: boolean;
  /** An IP given with a prefix length (`/24`): a network, not one host. */
  network?: boolean;
}

export interface NormalisedText {
  text: string;
  /** Line start offsets into `text`. */
  starts: number[];
  lineCount: number;
  /** Line i without its line break (cut out on demand: most lines are never looked at). */
  line(i: number): string;
  /** Whether defanging was undone between these offsets. */
  defangedIn(start: number, end: number): boolean;
}

const FULLWIDTH = /[\uff01-\uff5e\u3000]/;
const FULLWIDTH_ALL = new RegExp(FULLWIDTH.source, 'g');
const DEFANG = /h(?:xx|XX|\*\*|\[t\]\[t\]|\[tt\])p|\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}|\[:\]|\[:\/\/\]|\[\/\/\]|\[@\]|\[at\]|\(at\)|\[\/\]/i;
const DEFANG_ALL = new RegExp(DEFANG.source, 'gi');

/** Full-width ASCII to ASCII, defanged indicators restored; remembers where they were defanged. */
export function normaliseText(input: string): NormalisedText {
  // Lines keep a trailing \r of CRLF text: rewriting megabytes to drop it costs more than it helps.
  let text = input;
  if (FULLWIDTH.test(text)) text = text.replace(FULLWIDTH_ALL, (c) => c === '\u3000' ? ' ' : String.fromCharCode(c.charCodeAt(0) - 0xfee0));
  text = ideographicDots(text);
  let starts = lineStarts(text);
  // Offsets (in the restored text) of each undone defanging, in order: a line may hold a defanged
  // offender beside the plain URL of the site it imitates.
  const at: number[] = [];
  if (DEFANG.test(text)) {
    let lineStart = 0;
    const lines = starts.map((_, i) => lineOf(text, starts, i)).map((l) => {
      let out = l;
      if (DEFANG.test(l)) {
        let shift = 0;
        out = l.replace(DEFANG_ALL, (m: string, offset: number) => {
          const r = refang(m);
          at.push(lineStart + offset + shift);
          shift += r.length - m.length;
          return r;
        });
      }
      lineStart += out.length + 1;
      return out;
    });
    text = lines.join('\n');
    starts = lineStarts(text);
  }
  const t = text, st = starts;
  const defangedIn = (start: number, end: number) => {
    if (at.length === 0) return false;
    let lo = 0, hi = at.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (at[mid] < start) lo = mid + 1; else hi = mid; }
    return lo < at.length && at[lo] < end;
  };
  return { text: t, starts: st, lineCount: st.length, line: (i) => lineOf(t, st, i), defangedIn };
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', nl + 1)) starts.push(nl + 1);
  return starts;
}

function lineOf(text: string, starts: number[], i: number): string {
  return text.slice(starts[i], i + 1 < starts.length ? starts[i + 1] - 1 : text.length);
}

/** "example。jp": an ideographic full stop between ASCII letters or digits is a dot. */
function ideographicDots(text: string): string {
  const alnum = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  let out = text;
  for (const dot of ['。', '｡']) {
    for (let i = out.indexOf(dot); i >= 0; i = out.indexOf(dot, i + 1)) {
      if (alnum(out.charCodeAt(i - 1)) && alnum(out.charCodeAt(i + 1))) out = out.slice(0, i) + '.' + out.slice(i + 1);
    }
  }
  return out;
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

/** File extensions that look like top-level domains in text ("account.php", "sshd.conf"). */
const NOT_TLD = new Set('php html htm shtml zip exe js css txt log conf jpg jpeg png gif pdf doc docx xls xlsx csv json xml asp aspx jsp cgi pl py sh tar gz tgz rar eml msg ini cfg bak sql db dll bin iso apk jar ps1 vbs lnk scr bat cmd md yml yaml tmp old swp svg ico woff ttf mp3 mp4 avi mov wav ts tsx rb go rs java class so lock pem crt key asc sig gpg mkv'.split(' '));
const LABEL = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{2,59})$/;
const LOCAL_PART = /[\w.+-]+$/;

// Characters of host names and dotted addresses, and of IPv6 addresses.
const isNameChar = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95;
const isV6Char = (c: number) => (c >= 48 && c <= 58) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) || c === 46;

/**
 * Indicators in order of appearance. Names and dotted addresses are found by scanning from each
 * dot to the ends of its word, IPv6 from each "::" or long colon run: far cheaper on megabytes of
 * pasted logs than regular expressions with look-behind tried at every position.
 */
export function extractIndicators(t: NormalisedText): Indicator[] {
  const { text } = t;
  const len = text.length;
  const out: Indicator[] = [];
  const urlSpans: Array<[number, number]> = [];
  const addresses = new Map<number, string>();
  const inUrl = (a: number) => urlSpans.some(([s, e]) => a >= s && a < e);
  const lineOf = (index: number) => lineAt(t.starts, index);
  const add = (i: Indicator, end: number) => {
    i.line = lineOf(i.index);
    i.defanged = t.defangedIn(i.index, end);
    out.push(i);
  };

  if (text.includes('://')) {
    for (const m of text.matchAll(URL_RE)) {
      const raw = trimUrl(m[0]);
      const u = parseUrl(raw);
      if (!u) continue;
      urlSpans.push([m.index!, m.index! + raw.length]);
      add({ kind: 'url', value: u.url, host: u.host, port: u.port, index: m.index!, line: 0, defanged: false }, m.index! + raw.length);
    }
  }

  for (let dot = text.indexOf('.'); dot >= 0 && dot < len;) {
    let s = dot, e = dot + 1;
    while (s > 0 && isNameChar(text.charCodeAt(s - 1))) s--;
    while (e < len && isNameChar(text.charCodeAt(e))) e++;
    dot = text.indexOf('.', e);
    // A sentence ends with a dot; a word may start with one.
    while (e > s && (text.charCodeAt(e - 1) === 46 || text.charCodeAt(e - 1) === 45)) e--;
    while (s < e && text.charCodeAt(s) === 46) s++;
    if (e - s < 4 || inUrl(s)) continue;
    const before = text.charCodeAt(s - 1), after = text.charCodeAt(e);
    if (after === 64) continue; // the local part of an e-mail address
    if (before === 64) {
      const token = text.slice(s, e);
      const local = LOCAL_PART.exec(text.slice(Math.max(0, s - 65), s - 1));
      if (local && LABEL.test(token.toLowerCase())) {
        const value = `${local[0]}@${token}`.toLowerCase();
        add({ kind: 'email', value, host: token.toLowerCase(), index: s - 1 - local[0].length, line: 0, defanged: false }, e);
      }
      continue;
    }
    const c0 = text.charCodeAt(s);
    if (c0 >= 48 && c0 <= 57) {
      // Pasted logs name one address hundreds of times: each is read in place and shares one string.
      const v = parseIPv4(text, s, e);
      if (v >= 0) {
        let value = addresses.get(v);
        if (value === undefined) { value = text.slice(s, e); addresses.set(v, value); }
        const ind: Indicator = { kind: 'ip', value, index: s, line: 0, defanged: false };
        // "/24" makes it a network, ":8080" gives its port.
        const c = text.charCodeAt(e), n = c === 47 || c === 58 ? digitsAt(text, e + 1, c === 47 ? 2 : 5) : 0;
        // "/32" names one host, as firewall lists write it.
        if (c === 47 && n > 0 && n <= 2 && text.slice(e + 1, e + 3) !== '32') ind.network = true;
        else if (c === 58 && n > 0 && n <= 5) {
          const port = Number(text.slice(e + 1, e + 1 + n));
          if (port <= 65535) ind.port = port;
        }
        add(ind, e);
        continue;
      }
      // tcpdump writes the port after a fifth dot: "IP 192.0.2.1.51234 > 192.0.2.2.22: Flags [S]".
      const port = TCPDUMP_PORT.exec(text.slice(s, e));
      if (port && /(?:\bIP6?|>) $/.test(text.slice(s - 4, s)) && /^(?: > |:)/.test(text.slice(e, e + 3))) {
        const v4 = parseIPv4(port[1]);
        if (v4 >= 0 && Number(port[2]) <= 65535) {
          add({ kind: 'ip', value: port[1], port: Number(port[2]), index: s, line: 0, defanged: false }, s + port[1].length);
          continue;
        }
      }
      // Dotted digits that are no address (an octet over 255, a leading zero) are nothing.
      if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(text.slice(s, e))) continue;
    }
    const token = text.slice(s, e);
    const name = token.toLowerCase();
    if (!LABEL.test(name) || NOT_TLD.has(name.slice(name.lastIndexOf('.') + 1))) continue;
    // "secure-verify[.]example/login.php": a host name with a path is a link written without its
    // scheme (not a file path: nothing but a space or bracket stands before it).
    if (after === 47 && isPathStart(text.charCodeAt(e + 1)) && (s === 0 || /[\s(（「"'<[:：]/.test(text[s - 1]))) {
      const raw = trimUrl(PATH.exec(text.slice(e, e + 2048))![0]);
      const u = parseUrl(`http://${token}${raw}`);
      if (u) {
        urlSpans.push([s, e + raw.length]);
        add({ kind: 'url', value: u.url, host: u.host, port: u.port, index: s, line: 0, defanged: false }, e + raw.length);
        continue;
      }
    }
    add({ kind: 'fqdn', value: name, host: name, index: s, line: 0, defanged: false }, e);
  }

  if (text.includes(':')) {
    const words = new Uint32Array(4);
    for (let colon = text.indexOf(':'); colon >= 0 && colon < len;) {
      let s = colon, e = colon + 1;
      while (s > 0 && isV6Char(text.charCodeAt(s - 1))) s--;
      // "[IPv6:2001:db8::1]" in Received: headers: the 6 of the tag is no digit of the address.
      if (text.charCodeAt(s) === 54 && text.charCodeAt(s + 1) === 58 && /ipv$/i.test(text.slice(s - 3, s))) s += 2;
      // Count colons on the way: times and "sshd[1]:" are dismissed without building a string.
      let colons = 1, double = false;
      while (e < len && isV6Char(text.charCodeAt(e))) {
        if (text.charCodeAt(e) === 58) { colons++; if (text.charCodeAt(e - 1) === 58) double = true; }
        e++;
      }
      for (let k = s; k < colon; k++) if (text.charCodeAt(k) === 58) { colons++; if (text.charCodeAt(k + 1) === 58) double = true; }
      colon = text.indexOf(':', e);
      if (!double && colons < 7) continue;
      while (e > s && (text.charCodeAt(e - 1) === 46 || (text.charCodeAt(e - 1) === 58 && text.charCodeAt(e - 2) !== 58))) e--;
      const token = text.slice(s, e);
      if (token.length < 4 || !/\d/.test(token) || (!token.includes('::') && token.split(':').length !== 8) || inUrl(s)) continue;
      // "::ffff:192.0.2.1" (dovecot's rip=): the IPv4 address in it is found on its own.
      if (token.includes('.') || !parseIPv6(token, words)) continue;
      const prefix = /^\/\d{1,3}(?!\d)/.test(text.slice(e, e + 5)) && !/^\/128(?!\d)/.test(text.slice(e, e + 5));
      const ind: Indicator = { kind: 'ip', value: formatIPv6(words), index: s, line: 0, defanged: false };
      if (prefix) ind.network = true;
      add(ind, e);
    }
  }
  return out.sort((a, b) => a.index - b.index);
}

const TCPDUMP_PORT = /^(\d{1,3}(?:\.\d{1,3}){3})\.(\d{1,5})$/;
const PATH = /^\/[^\s<>"'`{}|\\^\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]*/;
const isPathStart = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 126 || c === 63 || c === 95 || c === 45 || Number.isNaN(c) || c === 32 || c === 10 || c === 13;

/** How many digits (up to max) start at i, or max + 1 when more follow: "/24" yes, "/245" no. */
function digitsAt(text: string, i: number, max: number): number {
  let n = 0;
  while (n <= max && text.charCodeAt(i + n) >= 48 && text.charCodeAt(i + n) <= 57) n++;
  return n;
}

export function lineAt(starts: number[], index: number): number {
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
  // example.jp (reserved for documentation like example.com) holds names of unrelated parties, as co.jp does.
  const second = /^(co|ne|or|ac|go|ad|ed|gr|lg|com|net|org|gov|edu|ltd|plc|sch|mil|example)$/.test(sld) && tld.length === 2;
  return labels.slice(second ? -3 : -2).join('.');
}
