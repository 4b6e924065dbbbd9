// A received report mail as the format modules see it: its parts, who sent it, its text.
import { parseAddress, type MimePart } from './mime.js';
import { parseReceived } from '../text/received.js';
import { baseDomain } from '../text/indicators.js';
import { zoneOffset } from '../text/time.js';
import type { Reporter } from '../types.js';

/**
 * A Date: header as epoch ms (NaN if unreadable), without the trailing zone comment some senders
 * add ("... +0900 (JST)"). Cut and searched by hand: the header is a stranger's, as long as they
 * like, and a regular expression with a leading \s* is quadratic over a long run of blanks.
 */
export function mailDate(value: string | undefined): number {
  if (!value) return NaN;
  let d = value.slice(0, 200).trimEnd();
  if (d.endsWith(')')) {
    const open = d.lastIndexOf('(');
    if (open >= 0) d = d.slice(0, open).trimEnd();
  }
  const t = Date.parse(d);
  if (!Number.isNaN(t)) return t;
  // A zone Date.parse does not know ("Thu, 9 Apr 2006 23:34:45 JST", as ARF senders write it).
  const space = d.lastIndexOf(' ');
  const offset = space > 0 ? zoneOffset(d.slice(space + 1)) : undefined;
  if (offset === undefined) return NaN;
  const sign = offset < 0 ? '-' : '+', abs = Math.abs(offset);
  return Date.parse(`${d.slice(0, space)} ${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`);
}

/** The zone a Date: header is written in ("+0900", "GMT"), minutes east of UTC; cut to 200 characters as above. */
function mailZone(value: string): number | undefined {
  const d = value.slice(0, 200).replace(/\([^()]*\)\s*$/, '').trimEnd();
  const zone = /\s([+-]\d{4}|[A-Za-z]{1,5})$/.exec(d);
  return zone ? zoneOffset(zone[1]) : undefined;
}

export class MailReport {
  readonly subject: string;
  readonly from: Reporter;
  readonly messageId?: string;
  readonly date?: string;
  /** The zone of the Date: header, minutes east of UTC: where the reporter's clock stands. */
  readonly dateOffset?: number;
  private textCache?: string;

  constructor(readonly root: MimePart, private readonly maxTextChars: number) {
    this.subject = (root.get('subject') ?? '').replace(/\s+/g, ' ').trim();
    this.from = parseAddress(root.get('from') ?? root.get('sender') ?? root.get('return-path'));
    const id = root.get('message-id')?.trim();
    if (id) this.messageId = id.replace(/^<|>$/g, '');
    const date = root.get('date');
    const t = mailDate(date);
    if (!Number.isNaN(t)) {
      this.date = new Date(t).toISOString();
      this.dateOffset = mailZone(date!);
    }
  }

  get reporterDomain(): string | undefined {
    const e = this.from.email;
    return e ? baseDomain(e.slice(e.indexOf('@') + 1)) : undefined;
  }

  /** The reporter's own domains: its From: address's, and its Message-ID's (cyscon.de mails from c-sirt.org). */
  get reporterDomains(): Set<string> {
    const out = new Set<string>();
    if (this.reporterDomain) out.add(this.reporterDomain);
    const at = this.messageId?.lastIndexOf('@') ?? -1;
    if (at >= 0 && this.messageId!.includes('.', at)) out.add(baseDomain(this.messageId!.slice(at + 1)));
    return out;
  }

  /** IPs of the relays that carried the report itself (outer Received: headers). */
  relayIps(): Set<string> {
    const ips = new Set<string>();
    for (const v of this.root.all('received')) {
      const ip = parseReceived(v).ip;
      if (ip) ips.add(ip);
    }
    return ips;
  }

  /** The first human-readable part: what the language of the report is judged by. */
  leadText(): string {
    const first = this.parts().find((p) => p.type === 'text/plain' || p.type === 'text/html');
    if (!first) return '';
    return first.type === 'text/html' ? htmlToText(first.text().slice(0, 20000)) : first.text();
  }

  /** Leaf parts in order, attached messages included. */
  parts(): MimePart[] {
    return this.root.leaves();
  }

  /**
   * The human-readable text: every text/plain part (text/html reduced to text where a message
   * has no plain version), attached messages with their headers, capped at maxTextChars.
   */
  text(): string {
    if (this.textCache !== undefined) return this.textCache;
    const out: string[] = [];
    let size = 0;
    const add = (s: string) => {
      if (size >= this.maxTextChars) return;
      const piece = s.length + size > this.maxTextChars ? s.slice(0, this.maxTextChars - size) : s;
      out.push(piece);
      size += piece.length + 1;
    };
    const visit = (p: MimePart, top: boolean) => {
      if (!top && (p.type === 'message/rfc822' || p.type === 'message/global' || p.type === 'text/rfc822-headers')) {
        add(p.type === 'text/rfc822-headers' ? p.text() : headerText(p.children[0]));
      }
      if (p.type === 'multipart/alternative') {
        const plain = p.children.find((c) => c.type === 'text/plain');
        if (plain && !stubOf(plain, p.children.find((c) => c.type === 'text/html'))) return visit(plain, false);
        const html = p.children.find((c) => c.type === 'text/html');
        if (html) return visit(html, false);
      }
      if (p.children.length > 0) { for (const c of p.children) visit(c, false); return; }
      if (p.type === 'text/plain' || p.type === 'text/x-log' || (p.type.startsWith('text/') && p.type !== 'text/html' && p.type !== 'text/rfc822-headers')) add(p.text());
      else if (p.type === 'text/html') add(htmlToText(p.text()));
      // A multipart whose boundary never turns up (a mail edited by hand) is all one text.
      else if (p.type.startsWith('multipart/')) add(p.text());
    };
    visit(this.root, true);
    this.textCache = stripPgpArmor(out.join('\n'));
    return this.textCache;
  }
}

/**
 * Whether a plain alternative only stands in for the HTML ("このメールはHTML形式です", "View this
 * message in a browser"): short, and a small part of what the HTML says.
 */
function stubOf(plain: MimePart, html: MimePart | undefined): boolean {
  if (!html) return false;
  const text = plain.text().trim();
  return text.length < 400 && text.length * 3 < htmlToText(html.text()).trim().length;
}

function headerText(p: MimePart | undefined): string {
  return p ? p.headers.map((h) => `${h.name.replace(/(^|-)[a-z]/g, (c) => c.toUpperCase())}: ${h.value}`).join('\n') + '\n' : '';
}

/** Text of an HTML part for indicator search only; link targets are kept beside their text. */
export function htmlToText(html: string): string {
  // One pass from tag to tag, each found by indexOf: the HTML is a stranger's, and expressions that
  // look for a tag's end from every '<' (or a script's end from every <script>) are quadratic when
  // the ends are missing.
  let out = '';
  let i = 0;
  const closes: Record<string, number> = {};
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    const gt = lt < 0 ? -1 : html.indexOf('>', lt + 1);
    if (gt < 0) { out += html.slice(i); break; }
    out += html.slice(i, lt);
    const name = tagName(html, lt + 1, gt);
    i = gt + 1;
    if (name === 'script' || name === 'style') {
      const end = closingTag(html, name, i, closes);
      if (end >= 0) { out += ' '; i = end; continue; }
    }
    if (name === 'a') {
      const href = /\bhref\s*=\s*["']?([^"'\s>]+)/i.exec(html.slice(lt + 1, gt));
      out += href ? ` ${href[1]} ` : '';
    } else if (BLOCK_END.has(name)) out += '\n';
    // Table cells end in a tab, so that a row reads as the columns of a plain-text table.
    else if (name === '/td' || name === '/th') out += '\t';
    else if (name === 'td' || name === 'th') continue;
    else if (!INLINE.has(name.charCodeAt(0) === 47 ? name.slice(1) : name)) out += ' ';
  }
  return out
    .replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;|&apos;/g, "'")
    .replace(/&#(\d+);/g, (_m, n) => String.fromCodePoint(Math.min(Number(n), 0x10ffff)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, n) => String.fromCodePoint(Math.min(parseInt(n, 16), 0x10ffff)))
    .replace(/&amp;/g, '&');
}

/** Tags that end a line of text, and inline tags that leave no gap. */
const BLOCK_END = new Set(['br', '/p', '/div', '/tr', '/li', '/h0', '/h1', '/h2', '/h3', '/h4', '/h5', '/h6', '/h7', '/h8', '/h9']);
const INLINE = new Set(['b', 'i', 'u', 'em', 'strong', 'span', 'font', 'small', 'big', 'sup', 'sub', 'a', 'abbr', 'code']);

/** The lower-case name of the tag that starts at `from` (`/p` for a closing one), '' for none. */
function tagName(html: string, from: number, to: number): string {
  let end = from;
  if (end < to && html.charCodeAt(end) === 47) end++;
  const first = end;
  for (; end < to; end++) {
    const c = html.charCodeAt(end) | 0x20;
    if (!((c >= 97 && c <= 122) || (end > first && c >= 48 && c <= 57))) break;
  }
  return end === first ? '' : html.slice(from, end).toLowerCase();
}

/**
 * Where the text after `</name>` starts, searching from `from`; -1 if there is none. `closes`
 * remembers the last answer per name, so that a page of unclosed <script> tags is searched once.
 */
function closingTag(html: string, name: string, from: number, closes: Record<string, number>): number {
  const known = closes[name];
  if (known !== undefined && (known < 0 || known > from)) return known;
  const re = name === 'script' ? /<\/script\s*>/gi : /<\/style\s*>/gi;
  re.lastIndex = from;
  const m = re.exec(html);
  return (closes[name] = m ? m.index + m[0].length : -1);
}

/** A PGP clear-signed body without its armor: the signed text, dash-escaping undone. */
export function stripPgpArmor(text: string): string {
  if (!text.includes('-----BEGIN PGP ')) return text;
  return text
    .replace(/-----BEGIN PGP SIGNATURE-----[\s\S]*?-----END PGP SIGNATURE-----/g, '')
    .replace(/-----BEGIN PGP SIGNED MESSAGE-----\r?\n(?:Hash:[^\n]*\r?\n)*\r?\n?/g, '')
    .replace(/^- (?=-)/gm, '');
}
