// A bounded MIME reader. It splits a message into its tree of parts without copying bodies,
// decodes transfer encodings and charsets only when a parser asks for a part's content, and
// refuses trees deeper or wider than the limits (MIME bombs) instead of walking them.
import { decodeText } from './charset.js';

export interface MimeLimits {
  /** Deepest nesting of multiparts and attached messages. */
  maxDepth: number;
  /** Most parts in one message, all levels together. */
  maxParts: number;
  /** Largest decoded part; bigger parts are kept opaque and reported as skipped. */
  maxPartBytes: number;
  /** Largest header block of one part. */
  maxHeaderBytes: number;
}

/** Input the desk will not parse, with the reason recorded for operators. */
export class ParseRefusal extends Error {
  constructor(readonly reason: 'too-large' | 'mime-depth' | 'mime-parts' | 'zip' | 'malformed' | 'too-many-events', message: string) {
    super(message);
  }
}

export interface Header { name: string; value: string }

interface Budget { parts: number; limits: MimeLimits; skipped: string[] }

export class MimePart {
  readonly type: string;
  readonly params: Record<string, string>;
  readonly children: MimePart[] = [];
  private decoded?: Buffer;
  private textCache?: string;

  constructor(readonly headers: Header[], private readonly rawBody: Buffer, readonly depth: number, budget: Budget) {
    const ct = parseHeaderValue(this.header('content-type') ?? '');
    this.type = ct.value.toLowerCase() || 'text/plain';
    this.params = ct.params;
    const estimate = this.encoding === 'base64' ? (rawBody.length * 3) >> 2 : rawBody.length;
    this.oversized = !this.isMultipart && estimate > budget.limits.maxPartBytes;
    if (this.oversized) {
      budget.skipped.push(`part ${this.type}${this.filename ? ` (${this.filename})` : ''} of about ${estimate} bytes exceeds the ${budget.limits.maxPartBytes}-byte part limit; not parsed`);
    }
  }

  /** Larger than the part limit: its body reads as empty. */
  readonly oversized: boolean;

  private get encoding(): string {
    return (this.header('content-transfer-encoding') ?? '').trim().toLowerCase();
  }

  /** First value of a header, unfolded, encoded-words decoded. */
  get(name: string): string | undefined {
    const v = this.header(name);
    return v === undefined ? undefined : decodeWords(v);
  }

  /** Every value of a header, raw (no encoded-word decoding), in message order. */
  all(name: string): string[] {
    const n = name.toLowerCase();
    return this.headers.filter((h) => h.name === n).map((h) => h.value);
  }

  header(name: string): string | undefined {
    const n = name.toLowerCase();
    for (const h of this.headers) if (h.name === n) return h.value;
    return undefined;
  }

  get filename(): string | undefined {
    const cd = this.header('content-disposition');
    const fromCd = cd ? parseHeaderValue(cd).params.filename : undefined;
    const f = fromCd ?? this.params.name;
    return f === undefined ? undefined : decodeWords(f);
  }

  get isMultipart(): boolean {
    return this.type.startsWith('multipart/');
  }

  /** The body with its transfer encoding undone; empty when the part was too large to decode. */
  body(): Buffer {
    if (this.decoded) return this.decoded;
    const enc = this.encoding;
    if (this.oversized) {
      this.decoded = Buffer.alloc(0);
    } else if (enc === 'base64') {
      this.decoded = Buffer.from(this.rawBody.toString('latin1'), 'base64');
    } else if (enc === 'quoted-printable') {
      this.decoded = decodeQuotedPrintable(this.rawBody);
    } else {
      this.decoded = this.rawBody;
    }
    return this.decoded;
  }

  /** The body as text in its declared (or sniffed) charset. */
  text(): string {
    if (this.textCache === undefined) this.textCache = decodeText(this.body(), this.params.charset);
    return this.textCache;
  }

  /** Leaf parts, depth first, in message order (attached messages are descended into). */
  leaves(out: MimePart[] = []): MimePart[] {
    if (this.children.length === 0) out.push(this);
    else for (const c of this.children) c.leaves(out);
    return out;
  }

  /** Every part including containers, depth first. */
  walk(out: MimePart[] = []): MimePart[] {
    out.push(this);
    for (const c of this.children) c.walk(out);
    return out;
  }
}

export interface ParsedMessage { root: MimePart; skipped: string[] }

export function parseMessage(raw: Buffer, limits: MimeLimits): ParsedMessage {
  const budget: Budget = { parts: 0, limits, skipped: [] };
  return { root: parsePart(raw, 0, budget), skipped: budget.skipped };
}

function parsePart(buf: Buffer, depth: number, budget: Budget): MimePart {
  if (depth > budget.limits.maxDepth) throw new ParseRefusal('mime-depth', `MIME nesting deeper than ${budget.limits.maxDepth} levels`);
  if (++budget.parts > budget.limits.maxParts) throw new ParseRefusal('mime-parts', `more than ${budget.limits.maxParts} MIME parts`);
  let split = headerEnd(buf);
  if (split.head > budget.limits.maxHeaderBytes) throw new ParseRefusal('malformed', `header block larger than ${budget.limits.maxHeaderBytes} bytes`);
  let headers = parseHeaders(buf.subarray(0, split.head));
  // A report saved as bare text (a file, a text/plain upload) has no header block: its first
  // paragraph ("IP: 203.0.113.5") is text, not headers, when none of it is a mail header; nor is
  // a YAML document's ('---' first: an X-ARF report saved on its own, Date: and all).
  if (depth === 0 && split.head > 0 && (!headers.some((h) => MAIL_HEADER.test(h.name)) || /^---\r?\n/.test(buf.subarray(0, 5).toString('latin1')))) {
    headers = [];
    split = { head: 0, body: 0 };
  }
  const part = new MimePart(headers, buf.subarray(split.body), depth, budget);
  if (part.isMultipart && part.params.boundary) {
    for (const child of splitMultipart(buf.subarray(split.body), part.params.boundary)) part.children.push(parsePart(child, depth + 1, budget));
  } else if (part.type === 'message/rfc822' || part.type === 'message/global') {
    const inner = part.body();
    if (inner.length > 0) part.children.push(parsePart(inner, depth + 1, budget));
  }
  return part;
}

/** Header names only a mail has: one of them makes the first paragraph a header block. */
const MAIL_HEADER = /^(?:from|to|cc|bcc|subject|date|sender|reply-to|return-path|received|message-id|in-reply-to|references|mime-version|content-[a-z-]+|delivered-to|envelope-to|x-[a-z0-9-]+|arc-[a-z-]+|dkim-signature|domainkey-signature|authentication-results|received-spf|user-agent|list-[a-z-]+|precedence|auto-submitted|thread-[a-z-]+|importance|organization|feedback-type|resent-[a-z-]+)$/;

/** Where the header block ends and the body starts (a part without a blank line is all header). */
function headerEnd(buf: Buffer): { head: number; body: number } {
  // A part that starts with a blank line has no headers.
  if (buf[0] === 0x0a) return { head: 0, body: 1 };
  if (buf[0] === 0x0d && buf[1] === 0x0a) return { head: 0, body: 2 };
  for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, nl + 1)) {
    if (buf[nl + 1] === 0x0a) return { head: buf[nl - 1] === 0x0d ? nl - 1 : nl, body: nl + 2 };
    if (buf[nl + 1] === 0x0d && buf[nl + 2] === 0x0a) return { head: buf[nl - 1] === 0x0d ? nl - 1 : nl, body: nl + 3 };
  }
  return { head: buf.length, body: buf.length };
}

export function parseHeaders(block: Buffer): Header[] {
  const text = decodeText(block);
  const headers: Header[] = [];
  let cur: Header | null = null;
  for (const line of text.split(/\r?\n/)) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && cur) {
      cur.value += (cur.value ? ' ' : '') + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || /\s/.test(line.slice(0, colon).trimEnd())) {
      cur = null; // mbox "From " line or a broken header line
      continue;
    }
    cur = { name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() };
    headers.push(cur);
  }
  return headers;
}

function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const delim = Buffer.from('--' + boundary);
  const parts: Buffer[] = [];
  let start = -1;
  let pos = 0;
  for (;;) {
    const i = body.indexOf(delim, pos);
    if (i < 0) break;
    pos = i + delim.length;
    if (i > 0 && body[i - 1] !== 0x0a) continue; // not at a line start
    if (start >= 0) {
      let end = i;
      if (body[end - 1] === 0x0a) end--;
      if (body[end - 1] === 0x0d) end--;
      parts.push(body.subarray(start, end));
    }
    const closing = body[pos] === 0x2d && body[pos + 1] === 0x2d;
    if (closing) return parts;
    const nl = body.indexOf(0x0a, pos);
    if (nl < 0) return parts;
    start = nl + 1;
  }
  if (start >= 0 && start < body.length) parts.push(body.subarray(start)); // unterminated last part
  return parts;
}

/** `type/sub; a=b; c="d"` with RFC 2231 continuations and charsets. */
export function parseHeaderValue(v: string): { value: string; params: Record<string, string> } {
  const semi = v.indexOf(';');
  const value = (semi < 0 ? v : v.slice(0, semi)).trim();
  const params: Record<string, string> = {};
  if (semi < 0) return { value, params };
  const continued: Record<string, { parts: string[]; encoded: boolean }> = {};
  const re = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(v.slice(semi)))) {
    const key = m[1].toLowerCase();
    const val = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '').trim();
    const c = /^([^*]+)\*(\d+)?(\*)?$/.exec(key);
    if (!c) { params[key] = val; continue; }
    const slot = (continued[c[1]] ??= { parts: [], encoded: false });
    slot.parts[Number(c[2] ?? 0)] = val;
    if (c[3] || c[2] === undefined) slot.encoded = true;
  }
  for (const [k, { parts, encoded }] of Object.entries(continued)) {
    let s = parts.join('');
    if (encoded) {
      const q = /^([^']*)'[^']*'(.*)$/.exec(s);
      const bytes = percentBytes(q ? q[2] : s);
      s = decodeText(bytes, q ? q[1] : 'utf-8');
    }
    params[k] = s;
  }
  return { value, params };
}

function percentBytes(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && /^[0-9a-f]{2}$/i.test(s.slice(i + 1, i + 3))) { out.push(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; }
    else out.push(s.charCodeAt(i) & 0xff);
  }
  return Buffer.from(out);
}

// Bounded: a "=?" before a long run with no '?' or blank would otherwise backtrack over all of
// it, past the point where V8 hands the expression to its slow linear engine (a mutated subject
// of 700 KB took 2.6 s). Charset names are short; encoded words are 75 characters by RFC 2047,
// longer ones (a few KB) turn up in real mail.
const ENCODED_WORD = /=\?([^?\s]{1,75})\?([bBqQ])\?([^?\s]{0,8192})\?=/g;

/** RFC 2047 encoded words; adjacent words of one charset are joined before decoding (ISO-2022-JP splits characters). */
export function decodeWords(v: string): string {
  if (!v.includes('=?')) return v;
  let out = '';
  let last = 0;
  let pending: { charset: string; bytes: Buffer[] } | null = null;
  const flush = () => {
    if (pending) out += decodeText(Buffer.concat(pending.bytes), pending.charset.replace(/\*.*$/, ''));
    pending = null;
  };
  for (const m of v.matchAll(ENCODED_WORD)) {
    const between = v.slice(last, m.index);
    const charset = m[1].toLowerCase();
    const bytes = m[2].toLowerCase() === 'b' ? Buffer.from(m[3], 'base64') : decodeQuotedPrintable(Buffer.from(m[3].replace(/_/g, ' '), 'latin1'));
    if (pending && /^\s*$/.test(between) && (pending as { charset: string }).charset === charset) {
      (pending as { bytes: Buffer[] }).bytes.push(bytes);
    } else {
      flush();
      out += between;
      pending = { charset, bytes: [bytes] };
    }
    last = (m.index ?? 0) + m[0].length;
  }
  flush();
  return out + v.slice(last);
}

export function decodeQuotedPrintable(buf: Buffer): Buffer {
  const out = Buffer.allocUnsafe(buf.length);
  let o = 0;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b !== 0x3d) { out[o++] = b; continue; }
    const h = hex(buf[i + 1]), l = hex(buf[i + 2]);
    if (h >= 0 && l >= 0) { out[o++] = (h << 4) | l; i += 2; continue; }
    // Soft line break "=\r\n" or "=\n" (trailing blanks before it allowed).
    let j = i + 1;
    while (buf[j] === 0x20 || buf[j] === 0x09) j++;
    if (buf[j] === 0x0d && buf[j + 1] === 0x0a) { i = j + 1; continue; }
    if (buf[j] === 0x0a) { i = j; continue; }
    out[o++] = b;
  }
  return out.subarray(0, o);
}

function hex(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** `Name <addr@x>` or `addr@x` -> parts; the first address of a list. */
export function parseAddress(v: string | undefined): { email?: string; name?: string } {
  if (!v) return {};
  // An address header is short; a stranger's may not be, and both expressions are quadratic on a
  // long run without their delimiters.
  if (v.length > 2000) v = v.slice(0, 2000);
  const angle = /^\s*(?:"?([^"<]*?)"?\s*)?<([^>\s]+@[^>\s]+)>/.exec(v);
  if (angle) return { email: angle[2].toLowerCase(), name: angle[1]?.trim() || undefined };
  const bare = /([^\s<>",;]+@[^\s<>",;]+)(?:\s*\(([^)]*)\))?/.exec(v);
  return bare ? { email: bare[1].toLowerCase(), name: bare[2]?.trim() || undefined } : {};
}
