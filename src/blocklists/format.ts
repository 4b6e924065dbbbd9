// Blocklist files: FireHOL's .ipset / .netset (a comment header with maintainer, category, dates,
// update frequency and entry counts, then one address or CIDR a line) and plain lists with
// comments (Spamhaus DROP: `192.0.2.0/24 ; SBL123`). IPv4 and IPv6, addresses, CIDRs and
// first-last ranges. Parsed as a stream: a bad line is counted and sampled, never fatal, and the
// input is cut at a byte cap instead of filling memory.
import { createReadStream } from 'node:fs';
import { applyPrefix, parseIPv4, parseIPv6 } from '../attribution/ip.js';
import { canonical, RangeBuilder, type Ranges } from './ranges.js';

/** What a FireHOL header says about the list (every field optional: plain lists have none). */
export interface ListHeader {
  name?: string;
  /** "ipv4 hash:ip ipset" / "ipv4 hash:net ipset". */
  kind?: string;
  description?: string;
  maintainer?: string;
  maintainerUrl?: string;
  sourceUrl?: string;
  /** When the maintainer last changed the list (ISO 8601). */
  sourceDate?: string;
  /** When FireHOL wrote this file (ISO 8601). */
  fileDate?: string;
  category?: string;
  version?: number;
  /** Seconds between updates the maintainer promises. */
  updateEvery?: number;
  aggregation?: string;
  /** Entry counts the header declares, to notice a file cut short. */
  declaredEntries?: number;
  declaredAddresses?: number;
}

export interface MalformedLine { line: number; text: string }

export interface ParsedList {
  header: ListHeader;
  /** Canonical entries (sorted, none inside another) per family. */
  v4: Ranges;
  v6: Ranges;
  /** Lines that held an entry (before duplicates and nested entries were dropped). */
  entries: number;
  malformed: number;
  /** The first few malformed lines, for the operator. */
  malformedSamples: MalformedLine[];
  /** CIDRs written with host bits set (192.0.2.1/24): read as their network, as iprange does. */
  hostBitsFixed: number;
  bytes: number;
  /** The input went past the byte cap and the rest was not read. */
  overCap: boolean;
}

export interface ParseOptions {
  /** Bytes after which the input is no longer read. */
  maxBytes?: number;
  /** Malformed lines kept as samples. */
  samples?: number;
}

const MAX_SAMPLE_CHARS = 200;

/** Reads a list chunk by chunk (latin1 text: list entries are ASCII, anything else is malformed). */
export class ListParser {
  private readonly v4 = new RangeBuilder(1);
  private readonly v6 = new RangeBuilder(4);
  private readonly f6 = new Uint32Array(4);
  private readonly l6 = new Uint32Array(4);
  private readonly header: ListHeader = {};
  private readonly headerLines: string[] = [];
  private inHeader = true;
  private rest = '';
  private lineNo = 0;
  private entries = 0;
  private malformed = 0;
  private hostBitsFixed = 0;
  private bytes = 0;
  private overCap = false;
  private readonly samples: MalformedLine[] = [];
  private readonly maxBytes: number;
  private readonly maxSamples: number;

  constructor(opts: ParseOptions = {}) {
    this.maxBytes = opts.maxBytes ?? Infinity;
    this.maxSamples = opts.samples ?? 10;
  }

  /** Feeds the next chunk; returns false once the byte cap is reached (stop reading then). */
  push(chunk: string): boolean {
    if (this.overCap) return false;
    if (this.bytes === 0 && chunk.startsWith('\xef\xbb\xbf')) chunk = chunk.slice(3);
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      this.overCap = true;
      return false;
    }
    const s = this.rest ? this.rest + chunk : chunk;
    let pos = 0;
    for (let nl = s.indexOf('\n'); nl >= 0; nl = s.indexOf('\n', pos)) {
      this.line(s, pos, nl);
      pos = nl + 1;
    }
    this.rest = s.slice(pos);
    // A line longer than any real entry is malformed; keep only enough of it to sample.
    if (this.rest.length > 65536) this.rest = this.rest.slice(0, 1024);
    return true;
  }

  end(): ParsedList {
    if (this.rest && !this.overCap) this.line(this.rest, 0, this.rest.length);
    this.rest = '';
    parseHeader(this.headerLines, this.header);
    return {
      header: this.header,
      v4: canonical(this.v4.ranges()),
      v6: canonical(this.v6.ranges()),
      entries: this.entries,
      malformed: this.malformed,
      malformedSamples: this.samples,
      hostBitsFixed: this.hostBitsFixed,
      bytes: this.bytes,
      overCap: this.overCap,
    };
  }

  private line(s: string, start: number, end: number): void {
    this.lineNo++;
    while (start < end && isSpace(s.charCodeAt(start))) start++;
    while (end > start && isSpace(s.charCodeAt(end - 1))) end--;
    if (start === end) return;
    const c = s.charCodeAt(start);
    if (c === 35 /* # */ || c === 59 /* ; */) {
      if (this.inHeader && this.headerLines.length < 200) this.headerLines.push(s.slice(start + 1, end));
      return;
    }
    this.inHeader = false;
    // The entry is the first word; after it only a comment may follow (`1.2.3.0/24 ; SBL123`).
    let e = start;
    while (e < end && !isSpace(s.charCodeAt(e)) && s.charCodeAt(e) !== 59 && s.charCodeAt(e) !== 35) e++;
    let t = e;
    while (t < end && isSpace(s.charCodeAt(t))) t++;
    if ((t < end && s.charCodeAt(t) !== 59 && s.charCodeAt(t) !== 35) || !this.entry(s, start, e)) {
      this.malformed++;
      if (this.samples.length < this.maxSamples) {
        this.samples.push({ line: this.lineNo, text: s.slice(start, Math.min(end, start + MAX_SAMPLE_CHARS)) });
      }
      return;
    }
    this.entries++;
  }

  /** Parses an address, CIDR or first-last range in s[start, end); false if it is none. */
  private entry(s: string, start: number, end: number): boolean {
    // Most entries are plain IPv4 addresses: try that before looking for anything else.
    const plain = parseIPv4(s, start, end);
    if (plain >= 0) { this.v4.push4(plain, plain); return true; }
    let slash = -1, dash = -1, colon = false;
    for (let i = start; i < end; i++) {
      const c = s.charCodeAt(i);
      if (c === 47) { if (slash >= 0) return false; slash = i; }
      else if (c === 45) { if (dash >= 0) return false; dash = i; }
      else if (c === 58) colon = true;
    }
    if (slash >= 0 && dash >= 0) return false;
    if (!colon) {
      if (dash >= 0) {
        const a = parseIPv4(s, start, dash), b = parseIPv4(s, dash + 1, end);
        if (a < 0 || b < 0 || a > b) return false;
        this.v4.push4(a, b);
        return true;
      }
      const a = parseIPv4(s, start, slash < 0 ? end : slash);
      if (a < 0) return false;
      if (slash < 0) { this.v4.push4(a, a); return true; }
      const plen = prefixLength(s, slash + 1, end, 32);
      if (plen < 0) return false;
      const mask = plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0;
      const first = (a & mask) >>> 0;
      if (first !== a) this.hostBitsFixed++;
      this.v4.push4(first, (first | ~mask) >>> 0);
      return true;
    }
    const f = this.f6, l = this.l6;
    if (dash >= 0) {
      if (!parseIPv6(s, f, start, dash) || !parseIPv6(s, l, dash + 1, end)) return false;
      for (let k = 0; k < 4; k++) if (f[k] !== l[k]) { if (f[k] > l[k]) return false; break; }
      this.v6.push6(f, l);
      return true;
    }
    if (!parseIPv6(s, f, start, slash < 0 ? end : slash)) return false;
    const plen = slash < 0 ? 128 : prefixLength(s, slash + 1, end, 128);
    if (plen < 0) return false;
    if (applyPrefix(f, l, 4, plen)) this.hostBitsFixed++;
    this.v6.push6(f, l);
    return true;
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 11 || c === 12;
}

function prefixLength(s: string, start: number, end: number, bits: number): number {
  if (end - start < 1 || end - start > 3) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v > bits ? -1 : v;
}

/** Reads FireHOL's `# Key : value` header lines; other comment lines become the description. */
function parseHeader(lines: string[], h: ListHeader): void {
  const description: string[] = [];
  let sawKey = false;
  for (const raw of lines) {
    const line = raw.trim();
    const m = /^([A-Za-z][A-Za-z ]*?)\s*:\s(.*)$/.exec(line);
    if (m) {
      sawKey = true;
      applyHeaderKey(h, m[1].toLowerCase(), m[2].trim());
      continue;
    }
    if (/^ipv[46] hash:\w+ ipset$/.test(line)) { h.kind = line; continue; }
    if (!sawKey && line && !h.name && /^[\w.-]+$/.test(line)) { h.name = line; continue; }
    if (!sawKey && line) description.push(line);
  }
  if (description.length) h.description = description.join(' ').slice(0, 1000);
}

function applyHeaderKey(h: ListHeader, key: string, value: string): void {
  switch (key) {
    case 'maintainer': h.maintainer = value; break;
    case 'maintainer url': h.maintainerUrl = value; break;
    case 'list source url': h.sourceUrl = value; break;
    case 'source file date': h.sourceDate = parseHeaderDate(value); break;
    case 'this file date': h.fileDate = parseHeaderDate(value); break;
    case 'category': h.category = value.toLowerCase(); break;
    case 'version': { const v = Number(value); if (Number.isFinite(v)) h.version = v; break; }
    case 'update frequency': h.updateEvery = parseFrequency(value); break;
    case 'aggregation': h.aggregation = value; break;
    case 'entries': {
      // "207833 unique IPs" or "683 subnets, 22583552 unique IPs"
      const subnets = /(\d+)\s+subnets/.exec(value), ips = /(\d+)\s+unique IPs/i.exec(value);
      if (subnets) h.declaredEntries = Number(subnets[1]);
      if (ips) h.declaredAddresses = Number(ips[1]);
      if (!subnets && ips) h.declaredEntries = Number(ips[1]);
      break;
    }
    default: break;
  }
}

/** "Wed Nov  4 13:00:19 UTC 2015" (date(1) output) or ISO 8601; undefined when unreadable. */
export function parseHeaderDate(value: string): string | undefined {
  const m = /^\w{3}\s+(\w{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+UTC\s+(\d{4})$/.exec(value.trim());
  const t = m ? Date.UTC(Number(m[6]), MONTHS.indexOf(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) : Date.parse(value);
  return Number.isFinite(t) && (!m || MONTHS.includes(m[1])) ? new Date(t).toISOString() : undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "6 hours", "1 day", "30 mins", "5 minutes" -> seconds. */
export function parseFrequency(value: string): number | undefined {
  const m = /^(\d+)\s*(sec|second|min|minute|hour|day|week)s?$/i.exec(value.trim());
  if (!m) return undefined;
  const unit: Record<string, number> = { sec: 1, second: 1, min: 60, minute: 60, hour: 3600, day: 86400, week: 604800 };
  return Number(m[1]) * unit[m[2].toLowerCase()];
}

/** Parses a whole stream of list text (Buffers are read as latin1). Stops reading at the cap. */
export async function parseListStream(input: AsyncIterable<Buffer | string>, opts: ParseOptions = {}): Promise<ParsedList> {
  const p = new ListParser(opts);
  for await (const chunk of input) {
    if (!p.push(typeof chunk === 'string' ? chunk : chunk.toString('latin1'))) break;
  }
  return p.end();
}

export async function parseListFile(path: string, opts: ParseOptions = {}): Promise<ParsedList> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    return await parseListStream(stream, opts);
  } finally { stream.destroy(); }
}
