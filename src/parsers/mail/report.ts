// A received report mail as the format modules see it: its parts, who sent it, its text.
import { parseAddress, type MimePart } from './mime.js';
import { parseReceived } from '../text/received.js';
import { baseDomain } from '../text/indicators.js';
import type { Reporter } from '../types.js';

export class MailReport {
  readonly subject: string;
  readonly from: Reporter;
  readonly messageId?: string;
  readonly date?: string;
  private textCache?: string;

  constructor(readonly root: MimePart, private readonly maxTextChars: number) {
    this.subject = (root.get('subject') ?? '').replace(/\s+/g, ' ').trim();
    this.from = parseAddress(root.get('from') ?? root.get('sender') ?? root.get('return-path'));
    const id = root.get('message-id')?.trim();
    if (id) this.messageId = id.replace(/^<|>$/g, '');
    const d = root.get('date');
    const t = d ? Date.parse(d.replace(/\s*\([^)]*\)\s*$/, '')) : NaN;
    if (!Number.isNaN(t)) this.date = new Date(t).toISOString();
  }

  get reporterDomain(): string | undefined {
    const e = this.from.email;
    return e ? baseDomain(e.slice(e.indexOf('@') + 1)) : undefined;
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
        if (plain) return visit(plain, false);
      }
      if (p.children.length > 0) { for (const c of p.children) visit(c, false); return; }
      if (p.type === 'text/plain' || p.type === 'text/x-log' || (p.type.startsWith('text/') && p.type !== 'text/html' && p.type !== 'text/rfc822-headers')) add(p.text());
      else if (p.type === 'text/html') add(htmlToText(p.text()));
    };
    visit(this.root, true);
    this.textCache = stripPgpArmor(out.join('\n'));
    return this.textCache;
  }
}

function headerText(p: MimePart | undefined): string {
  return p ? p.headers.map((h) => `${h.name.replace(/(^|-)[a-z]/g, (c) => c.toUpperCase())}: ${h.value}`).join('\n') + '\n' : '';
}

/** Text of an HTML part for indicator search only; link targets are kept beside their text. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<a\b[^>]*?\bhref\s*=\s*["']?([^"'\s>]+)[^>]*>/gi, ' $1 ')
    .replace(/<(?:br|\/p|\/div|\/tr|\/li|\/h\d)\b[^>]*>/gi, '\n')
    .replace(/<\/?(?:b|i|u|em|strong|span|font|small|big|sup|sub|a|abbr|code)\b[^>]*>/gi, '')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;|&apos;/g, "'")
    .replace(/&#(\d+);/g, (_m, n) => String.fromCodePoint(Math.min(Number(n), 0x10ffff)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, n) => String.fromCodePoint(Math.min(parseInt(n, 16), 0x10ffff)))
    .replace(/&amp;/g, '&');
}

/** A PGP clear-signed body without its armor: the signed text, dash-escaping undone. */
export function stripPgpArmor(text: string): string {
  if (!text.includes('-----BEGIN PGP ')) return text;
  return text
    .replace(/-----BEGIN PGP SIGNATURE-----[\s\S]*?-----END PGP SIGNATURE-----/g, '')
    .replace(/-----BEGIN PGP SIGNED MESSAGE-----\r?\n(?:Hash:[^\n]*\r?\n)*\r?\n?/g, '')
    .replace(/^- (?=-)/gm, '');
}
