// Which of the indicators in a human-written report are the resources it is about. A report
// also names the reporter's own machines, the victims, the mail relays of a forwarded spam and
// whole whois records; each hit is scored by where it stands (log line, Received: chain, whois
// block, signature) and by the nearest words around it, in English and Japanese. The inventory
// outranks every word: a resource the desk hosts is what the report is about.
import { baseDomain, extractIndicators, isNonPublicIp, lineAt, normaliseText, type Indicator, type NormalisedText } from './indicators.js';
import { originHop, parseReceived, type Hop } from './received.js';
import { labelledTime, timeOn } from './time.js';
import { parseIPv4 } from '../../attribution/ip.js';

export interface SubjectResource {
  ip?: string;
  url?: string;
  fqdn?: string;
  port?: number;
  ours: boolean;
  defanged: boolean;
  score: number;
  /** When the report says it happened: a time on its line, or a "Time:" line just below it. */
  time?: string;
  /** The heading of the list it stands in ("IPs Engaged In Comment Spamming:"), when it has one. */
  heading?: string;
}

export interface EvidenceOptions {
  isOurs(resource: string): boolean;
  /** Base domains of the reporter (From: address, Message-ID): their hosts and links are the reporter's own. */
  reporterDomains?: ReadonlySet<string>;
  /** Relays of the report mail itself (outer Received: headers). */
  relayIps?: Set<string>;
  /** Offset in minutes for a time written without a zone (asked only when one is: UTC unless told). */
  zoneless?: () => number;
  /** When the report was written (ms): a time after it (beyond an hour of clock skew) is none the report saw. */
  writtenAt?: number;
}

/** Organisations whose names appear in reports as references, never as the reported resource. */
const REFERENCE_DOMAINS = new Set([
  'spamcop.net', 'jpcert.or.jp', 'shadowserver.org', 'abusix.com', 'abusix.org', 'abusix.net', 'x-arf.org', 'xarf.org',
  'fail2ban.org', 'arin.net', 'ripe.net', 'apnic.net', 'lacnic.net', 'afrinic.net', 'nic.ad.jp', 'jpnic.ad.jp', 'iana.org',
  'w3.org', 'ietf.org', 'rfc-editor.org', 'abuse.ch', 'spamhaus.org', 'nic.jp', 'jprs.jp', 'jprs.co.jp', 'ipa.go.jp',
  'nisc.go.jp', 'antiphishing.jp', 'acns.net', 'virustotal.com', 'urlscan.io', 'whois.com', 'icann.org',
]);

const WHOIS_LINE = /^\s*(?:%|#|inetnum|inet6num|netrange|cidr|nethandle|netname|nettype|parent|originas|organization|orgname|orgid|org-name|org|address|city|stateprov|postalcode|country|regdate|updated|ref|route6?|origin|descr|admin-c|tech-c|abuse-c|mnt-[a-z]+|status|source|created|last-modified|remarks|role|nic-hdl|person|phone|fax-no|e-mail|abuse-mailbox|orgabuse\w*|orgtech\w*|orgnoc\w*|rabuse\w*|rtech\w*|rnoc\w*|irt|auth|notify|changed|network|network number|network name|ip network|allocated|assigned|sponsoring-org|geoloc|language|country-code)\s*:/i;
const JPNIC_LINE = /^\s*[a-z]\.\s*\[[^\]]+\]|^\s*\[(?:ネットワーク|IPネットワーク|組織|割当|返却|最終更新|管理者|技術連絡|Network|Organization|Allocated)/i;
const RANGE = /\d\s*-\s*\d+\.\d+\.\d+\.\d+/;
const HEADER_LINE = /^\s*(?:received|from|to|cc|return-path|reply-to|message-id|date|subject|dkim-signature|authentication-results|arc-[a-z-]+|x-[a-z-]+|mime-version|content-[a-z-]+|list-[a-z-]+|delivered-to|envelope-to|received-spf|sender)\s*:/i;
const SENDER_HEADER = /^\s*(?:x-originating-ip|x-sender-ip|x-originating-host|x-source-ip|x-php-script|x-php-originating-script|received-spf|x-mailer-sender)\s*:/i;

// Victim phrases come first in each pattern, so "攻撃対象" reads as a victim and "対象" as the subject.
// Japanese particles (から, 宛て, に対して) follow their noun: they count only after a hit.
// Dovecot logs the client as rip= and its own address as lip=.
const VICTIM_WORDS = '\\b(?:our|my|we|us|victims?|target(?:ed|ing)?|destination|dst=?|dst_\\w+|dest_\\w+|dest=|against|protected|honeypots?|sensors?|towards|original|legitimate|genuine|official|imitat\\w*|impersonat\\w*|mimic\\w*)\\b|弊社|当社|弊行|当行|弊学|当方|弊所|弊団体|弊グループ|私の|宛先|被害|攻撃先|攻撃対象|偽装対象|なりすまし対象|正規|本物|公式|\\blip=';
const SUBJECT_WORDS = '\\b(?:from|source|src=?|src_\\w+|originat\\w*|offending|abusive|malicious|compromised|infected|hosted|hosting|located|resolv\\w*|points? to|your|spamvertis\\w*|senders?|sending|rhost=|client|attack(?:er|ing)|culprit|phishing|spammer)\\b|貴社|御社|貴殿|送信元|発信元|攻撃元|接続元|アクセス元|対象|問題の|当該|該当|所在|設置|稼働|悪性|不正な|フィッシング|偽|\\brip=';
const BEFORE_CUES = new RegExp(`(?<v>${VICTIM_WORDS})|(?<s>${SUBJECT_WORDS})`, 'gi');
// A link the reporter gives for reading on (its advice, tools and forms) is never the subject.
const REFERENCE = /\b(?:visit|go to|refer to|more (?:information|details|info)|further (?:information|details)|can be found|read more|unsubscribe|background|see also)\b|参考|ご?参照/gi;
// ... or after the link, as Japanese puts it ("（https://...）をご参照ください").
const REFERENCE_AFTER = /^[\s)）」』]*(?:を|も|に)?(?:ご)?(?:参照|参考|覧)/;
// A heading over links to read on ("参考：", "References:").
const REFERENCE_HEADING = /^[\s■□●○◆◇▼▽★☆・*#【[(（]*(?:参考|参照|references?\b|see also|background\b|further reading)/i;
const AFTER_CUE = new RegExp(`(?<v>${VICTIM_WORDS}|宛て|宛|に対して|に対する|への攻撃|へ|を装|を模|を騙|になりすま)|(?<s>${SUBJECT_WORDS}|から|より)`, 'i');

/** `marked`: a field ("IP:") or a list heading names it, as structured reports name their subjects.
 * `placed`: scored by where it stands (a pasted header, whois, a signature), not by words. */
interface Scored { ind: Indicator; score: number; heading?: number; marked: boolean; placed: boolean; elsewhere: boolean }

export function findSubjects(text: string, opts: EvidenceOptions): SubjectResource[] {
  const norm = normaliseText(text);
  const inds = extractIndicators(norm);
  if (inds.length === 0) return [];
  const roles = new LineRoles(norm);
  const { origins, ownIps, pastedFrom } = receivedChain(norm, roles, opts);
  const linesWithIndicators = new Set(inds.map((i) => i.line));

  const scored: Scored[] = [];
  const before: number[] = [];
  // The cue of each heading line, read once however many entries stand under it.
  const headings = new Map<number, number>();
  // A value pasted a thousand times in logs is judged on its first occurrences (combined in select).
  const seen = new Map<string, number>();
  for (let k = 0; k < inds.length; k++) {
    const ind = inds[k];
    const n = (seen.get(ind.value) ?? 0) + 1;
    seen.set(ind.value, n);
    if (n > 8) continue;
    if (ind.kind === 'email' || ind.network) continue;
    if (ind.kind === 'ip' && isNonPublicIp(ind.value)) continue;
    const host = ind.kind === 'ip' ? undefined : ind.host!;
    if (host && /^\d+\.\d+\.\d+\.\d+$/.test(host) && isNonPublicIp(host)) continue;
    let score = ind.kind === 'url' ? 1 : 0;
    if (ind.defanged) score += 3;
    if (host) {
      const base = baseDomain(host);
      if (REFERENCE_DOMAINS.has(base)) score -= 10;
      if (opts.reporterDomains?.has(base)) score -= 10;
    }
    if (ind.kind === 'ip' && (opts.relayIps?.has(ind.value) || ownIps.has(ind.value))) score -= 10;
    const role = roles.of(ind.line);
    let heading: number | undefined;
    let marked = false;
    let elsewhere = false;
    if (role === 'whois') score -= 10;
    else if (role === 'signature') score -= 5;
    else if (role === 'received') {
      const hop = origins.get(ind.line);
      score += hop && (hop.ip === ind.value || hop.fromHost === ind.value) ? 2 : -3;
    }
    else if (role === 'sender-header') score += 2;
    else if (role === 'header') score -= 1;
    else {
      const start = norm.starts[ind.line];
      const line = norm.line(ind.line);
      const prev = inds[k - 1], next = inds[k + 1];
      const col = ind.index - start;
      const from = prev?.line === ind.line ? prev.index + prev.value.length - start : 0;
      const to = next?.line === ind.line ? next.index - start : Infinity;
      // A sentence wrapped onto this line: its end is read as the words before the hit, not as a heading.
      const tail = from === 0 ? wrappedTail(norm, ind.line, prev ? prev.index + prev.value.length : 0) : '';
      // "mail.example (192.0.2.1)": the address in brackets after a name is that machine, and the
      // words before the name are about it too.
      // "Please visit <link>" in the reporter's own words (not in a spam pasted below them).
      const link = ind.kind === 'url' && ind.line < pastedFrom;
      // ... and so are the words before a list ("Your hosts (A, B and C)"), for each entry.
      const between = from > 0 ? line.slice(from, col) : '';
      let b = from > 0 && (/^\s*[([（]\s*$/.test(between) || LIST_SEPARATOR.test(between)) ? before[k - 1] ?? 0 : beforeCue(line, col, from, tail, link);
      // "Accepted publickey for admin from X" (sshd): a login that succeeded is the reporter's own,
      // unless the address also turns up in the failures (the score is the best evidence).
      if (b > 0 && ACCEPTED_LOGIN.test(line)) b = 0;
      before[k] = b;
      const label = tail ? { score: 0 } : labelScore(norm, ind.line, col, from === 0 && isListEntry(line.slice(0, col)), linesWithIndicators, headings, link);
      const field = fieldScore(line, col, b);
      heading = label.heading;
      marked = field > 0 || label.score > 0;
      // A heading counts when the hit's own line says nothing about it.
      score += b + afterCue(line, col, ind.value.length, to, link) + field + (b ? 0 : label.score);
      // "198.51.100.66 is not in your network", "(hosted elsewhere)", "こちらは貴社の管理ではない":
      // the reporter says it is someone else's.
      elsewhere = OTHER_PARTY.test(sentenceAfter(norm, ind.line, col + ind.value.length, to));
    }
    scored.push({ ind, score, heading, marked, placed: role !== undefined, elsewhere });
  }
  let offset: number | undefined;
  const zoneless = () => (offset ??= opts.zoneless?.() ?? 0);
  return select(scored, norm, opts).map(({ first: _f, line: _l, end: _e, lines, marked: _m, placed: _p, elsewhere: _o, ...r }) => {
    const time = firstTime(lines, norm, zoneless, opts.writtenAt);
    return time ? { ...r, time } : r;
  });
}

/**
 * When a chosen resource was seen: the first time on a line that names it (a log line, a table
 * row), else a "Time:" line among the few below one that does. Only the lines of its first
 * occurrences are read, never the whole text again; the first line (the mail's subject, which
 * dates the report rather than the abuse) is read last.
 */
function firstTime(lines: number[], norm: NormalisedText, zoneless: () => number, writtenAt = Infinity): string | undefined {
  const at = lines.includes(0) ? [...lines.filter((l) => l !== 0), 0] : lines;
  const seen = (t: string | undefined) => t !== undefined && Date.parse(t) <= writtenAt + 3600_000;
  for (const i of at) {
    const t = timeOn(norm.line(i), zoneless);
    if (seen(t)) return t;
  }
  for (const i of at) {
    for (let j = i + 1; j < norm.lineCount && j <= i + 8; j++) {
      const t = labelledTime(norm.line(j), zoneless);
      if (seen(t)) return t;
    }
  }
  return undefined;
}

const ACCEPTED_LOGIN = /\bAccepted (?:password|publickey|keyboard-interactive|gssapi)\S* for /;
const SIGNATURE_RULE = /^(?:> ?)*\s*([-=_━─*~〜＿＝])\1{9,}\s*$/;
const CONTACT = /\b(?:tel|fax|phone)\b|電話|〒/i;

function isContactBlock(norm: NormalisedText, from: number): boolean {
  for (let i = from; i < norm.lineCount && i < from + 8; i++) if (CONTACT.test(norm.line(i))) return true;
  return false;
}

type Role = 'whois' | 'received' | 'header' | 'sender-header' | 'signature' | undefined;

/** What each line is (whois record, pasted header, signature), worked out only for lines that are asked about. */
class LineRoles {
  private readonly cache = new Map<number, Role>();
  private readonly signature: number;

  constructor(private readonly norm: NormalisedText) {
    let sig = -1;
    for (let i = Math.max(0, norm.lineCount - 15); i < norm.lineCount; i++) {
      const l = norm.line(i);
      if (/^(?:> ?)*--\s?$/.test(l)) sig = i;
      // Japanese mails frame the signature with a rule (━━━━, ====, ----) over the company's
      // address and phone: the first such rule counts, the frame's closing one is inside it.
      else if (sig < 0 && SIGNATURE_RULE.test(l) && isContactBlock(norm, i + 1)) sig = i;
    }
    this.signature = sig;
  }

  of(i: number): Role {
    let r = this.cache.get(i);
    if (r === undefined && !this.cache.has(i)) { r = this.compute(i); this.cache.set(i, r); }
    return r;
  }

  /** A header line starting with "Received:" (not its continuation lines). */
  startsReceived(i: number): boolean {
    return /^\s*received:/i.test(this.norm.line(i));
  }

  private compute(i: number): Role {
    if (this.signature >= 0 && i > this.signature) return 'signature';
    const l = this.norm.line(i);
    if (/^[ \t]+\S/.test(l)) {
      // A continuation line belongs to the header it continues (headers fold over a few lines, not hundreds).
      let h = i - 1;
      while (h >= 0 && h > i - 30 && /^[ \t]+\S/.test(this.norm.line(h))) h--;
      if (h >= 0 && !/^[ \t]/.test(this.norm.line(h))) {
        const head = this.of(h);
        if (head === 'received' || head === 'header') return head;
        if (head === 'sender-header') return 'header';
      }
    }
    if (this.startsReceived(i)) return 'received';
    if (SENDER_HEADER.test(l)) return 'sender-header';
    if (HEADER_LINE.test(l)) return 'header';
    if (WHOIS_LINE.test(l) || JPNIC_LINE.test(l) || RANGE.test(l)) return 'whois';
    return undefined;
  }
}

/**
 * The delivering hop of each pasted Received: chain (a report may paste several spams), by the
 * lines of its header, the reporter's own relays, and the line the first pasted header is on.
 */
function receivedChain(norm: NormalisedText, roles: LineRoles, opts: EvidenceOptions): { origins: Map<number, Hop>; ownIps: Set<string>; pastedFrom: number } {
  const origins = new Map<number, Hop>();
  const blocks: Array<{ hop: Hop; first: number; last: number }> = [];
  if (!/eceived:/i.test(norm.text)) return { origins, ownIps: new Set(), pastedFrom: Infinity };
  for (const m of norm.text.matchAll(/^[ \t]*received:/gim)) {
    const i = lineAt(norm.starts, m.index!);
    let v = norm.line(i).replace(/^\s*received:/i, '');
    let j = i + 1;
    for (; j < norm.lineCount && !roles.startsReceived(j) && roles.of(j) === 'received'; j++) v += ' ' + norm.line(j).trim();
    blocks.push({ hop: parseReceived(v), first: i, last: j - 1 });
  }
  const own = (h: Hop) => {
    if (h.ip && opts.relayIps?.has(h.ip)) return true;
    return !!h.fromHost && !!opts.reporterDomains?.has(baseDomain(h.fromHost));
  };
  const ownIps = new Set(blocks.filter((b) => b.hop.ip && own(b.hop)).map((b) => b.hop.ip!));
  // A chain goes on while only header lines stand between its Received: headers.
  let chain: typeof blocks = [];
  const close = () => {
    const hop = originHop(chain.map((b) => b.hop), own);
    const b = chain.find((c) => c.hop === hop);
    if (b) for (let l = b.first; l <= b.last; l++) origins.set(l, b.hop);
    chain = [];
  };
  for (const b of blocks) {
    const prev = chain[chain.length - 1];
    if (prev) for (let l = prev.last + 1; l < b.first; l++) if (!roles.of(l)) { close(); break; }
    chain.push(b);
  }
  close();
  return { origins, ownIps, pastedFrom: blocks[0]?.first ?? Infinity };
}

/**
 * The nearest cue word before the hit, within its stretch of the line (another indicator in
 * between is a barrier: "from A to B" says nothing about B), or at the end of the line above
 * when a sentence wrapped onto the hit's line.
 */
function beforeCue(line: string, col: number, from: number, tail: string, link: boolean): number {
  let before = line.slice(Math.max(from, col - 40), col);
  // "A:51544 -> B:80" (IDS alerts), "IP A.51234 > B.22:" (tcpdump): B is where it went.
  if (from > 0 && ARROW_BEFORE.test(before)) return -3;
  if (tail && /^[\s>|:：]*$/.test(before)) before = tail + ' ' + before;
  if (link && referenceLink(before)) return -4;
  const last = lastCue(before);
  return last === 'v' ? -4 : last === 's' ? 3 : 0;
}

/** Whether the last cue word of `text` makes what follows the victim ('v') or the subject ('s'). */
function lastCue(text: string): 'v' | 's' | undefined {
  let last: 'v' | 's' | undefined;
  for (const m of text.matchAll(BEFORE_CUES)) last = m.groups!.v ? 'v' : 's';
  return last;
}

/** The first cue word right after the hit, within its sentence ("... (192.0.2.1). From our logs:" is no cue). */
function afterCue(line: string, col: number, len: number, to: number, link: boolean): number {
  let after = line.slice(col + len, Math.min(to, col + len + 16));
  if (link && REFERENCE_AFTER.test(after)) return -4;
  // The source of an arrow ("A:51544 -> B:80").
  if (to < Infinity && ARROW_AFTER.test(line.slice(col + len, to))) return 3;
  // ... and within its field of a key=value log ("rip=A, lip=B": lip= is about B).
  const end = /[。．]|[.!?](?:\s|$)|[\s,;][a-z_]+=/i.exec(after);
  if (end) after = after.slice(0, end.index);
  const first = AFTER_CUE.exec(after);
  // "(192.0.2.55 and 192.0.2.56) from 198.51.100.171": a word just before the next hit is that one's.
  const next = first && to <= col + len + 16 && !JA_PARTICLE.test(first[0]) && /^[\s"'(（[:：=]*$/.test(after.slice(first.index + first[0].length));
  let score = first && !next ? (first.groups!.v ? -3 : 2) : 0;
  // Web server logs (common/combined, also with a vhost or the server's address in front): the
  // address followed by ident, user and [date] is the client.
  if (WEB_LOG_CLIENT.test(line.slice(col + len, col + len + 40))) score += 3;
  return score;
}
const WEB_LOG_CLIENT = /^ \S+ \S+ \[\d/;
// Words about whose it is, not about what else it did ("also attacks other networks" is no owner).
const OTHER_PARTY = /\bnot (?:in |on |part of |from )?your\b|\bnot yours\b|\b(?:hosted|located|is|runs?) elsewhere\b|\b(?:on|at|in|by) (?:another|other|a different) (?:provider|network|isp|host(?:er|ing))|reported (?:it |them )?(?:to (?:its|their) owners?|separately|to them)|管理(?:下)?では(?:ない|ありません|ございません)|管理外|(?:別|他)の(?:事業者|プロバイダ)(?:様)?(?:へ|に)(?:連絡|報告|通報|ご連絡)|別途(?:連絡|報告|通報|ご連絡)/i;
const ARROW_AFTER = /^(?:[:.]\d{1,5})?\s*-?>\s*$/;
const ARROW_BEFORE = /\S\s+-?>\s*$|->\s*$/;
const JA_PARTICLE = /^(?:から|より|宛て|宛|に対して|に対する|への攻撃|へ|を装|を模|を騙|になりすま)$/;
const LIST_SEPARATOR = /^\s*(?:[,，、/]\s*(?:and |or )?|and |or |&\s|及び|および|と|や)\s*$/i;

/**
 * The words after a hit up to the next hit or the end of its sentence, 48 characters at most,
 * read on into the next line when the sentence wraps there.
 */
function sentenceAfter(norm: NormalisedText, line: number, from: number, to: number): string {
  const l = norm.line(line);
  let after = l.slice(from, Math.min(to, from + 48));
  if (to === Infinity && after.length < 48 && /\S/.test(after) && !/\S\s{2,}\S/.test(after) && line + 1 < norm.lineCount) after += ' ' + norm.line(line + 1).slice(0, 48 - after.length);
  const end = /[。．]|[.!?](?:\s|$)/.exec(after);
  return end ? after.slice(0, end.index) : after;
}

/**
 * The end of the line above when it is a sentence going on in this line (no full stop, colon or
 * heading mark), after the last indicator before the hit (`prevEnd`).
 */
function wrappedTail(norm: NormalisedText, line: number, prevEnd: number): string {
  if (line === 0) return '';
  const start = norm.starts[line - 1];
  // trimEnd, not /\s+$/: the expression is quadratic over a long run of blanks inside a line.
  const l = norm.line(line - 1).trimEnd();
  if (l.length < 20 || /[。．.!?！？:：)）】\]]$/.test(l) || / {2,}|\t|\|/.test(l.trim()) || /^\s*(?:[■□●○◆◇▼▽★☆・*#【[<-]|\d+[.)])/.test(l)) return '';
  return l.slice(Math.max(l.length - 24, prevEnd - start));
}

/** "Please visit https://...": the last cue before a link asks the reader to go and read. */
function referenceLink(before: string): boolean {
  let ref = -1;
  for (const m of before.matchAll(REFERENCE)) ref = m.index!;
  if (ref < 0) return false;
  let cue = -1;
  for (const m of before.matchAll(BEFORE_CUES)) cue = m.index!;
  return ref > cue;
}

/**
 * A heading line above a list of indicators ("Source IP   Packets", "■対象URL", "IPs Engaged In
 * Harvesting On Your Network:" with a blank line under it), and which line it is. A table heading
 * ("src  dst  proto", "| Source | Destination |") is read at the hit's column, for every hit; a
 * whole line's cue only for the first hit of a line, read once (`cues`) for all the entries under it.
 */
function labelScore(norm: NormalisedText, line: number, col: number, first: boolean, withIndicators: Set<number>, cues: Map<number, number>, link: boolean): { score: number; heading?: number } {
  let blank = false;
  for (let i = line - 1; i >= 0 && i >= line - 8; i--) {
    const l = norm.line(i);
    if (!l.trim()) {
      if (blank) return { score: 0 };
      blank = true;
      continue;
    }
    if (withIndicators.has(i) || TABLE_RULE.test(l)) continue;
    const cell = headingCell(l, norm.line(line), col);
    if (cell === undefined && !first) return { score: 0, heading: i };
    if (cell === undefined && link && REFERENCE_HEADING.test(l)) return { score: -4, heading: i };
    let score = cell === undefined ? cues.get(i) : undefined;
    if (score === undefined) {
      const last = lastCue(cell ?? l);
      score = last === 'v' ? -3 : last === 's' ? 2 : 0;
      if (cell === undefined) cues.set(i, score);
    }
    return { score, heading: i };
  }
  return { score: 0 };
}

// "IP:", "URL:", "Reported URL:", "Infringer's IP Address:": a field that names the subject.
const FIELD = /^[\s*•>|-]*([a-z][a-z '’/_-]{0,30}?)[ \t]*[:：][ \t]*$/i;
const SUBJECT_FIELD = /^(?:(?:source|src|offending|reported|abusive|attacking|attacker|malicious|infected|compromised|phishing|malware|infringing|infringer'?s?|spamming|sending|your)[ /_-]?)*(?:ip|ipv4|ipv6|ip[ _-]?address|address|host|host ?name|domain|domain ?name|url|uri|link|site|web ?site|server|source|attacker)$/i;

// "【IPアドレス】", "掲載場所（URL）：", "送信元：": Japanese labels, in brackets or before a colon.
const JA_FIELD = /(?:^|[\s>|*・■□●○◆◇])(?:【([^】]{1,24})】|([^\s:：【】]{1,24})[ \t]*[:：])[ \t]*$/;
const JA_SUBJECT_FIELD = /URL|\bIP\b|IPアドレス|ホスト名?|ドメイン|送信元|攻撃元|発信元|接続元|所在|掲載場所/i;

/**
 * Points for a value given as a field that names the subject ("IP: 192.0.2.1", "【URL】"),
 * none when the label's own words make it the victim ("宛先IPアドレス：", "正規URL：").
 */
function fieldScore(line: string, col: number, words: number): number {
  if (col > 60 || words < 0) return 0;
  const prefix = line.slice(0, col);
  const m = FIELD.exec(prefix);
  if (m) return SUBJECT_FIELD.test(m[1].trim().replace(/\s+/g, ' ')) ? 3 : 0;
  const ja = JA_FIELD.exec(prefix);
  return ja && JA_SUBJECT_FIELD.test(ja[1] ?? ja[2]) ? 3 : 0;
}

/**
 * Whether the words before a hit leave it a bare entry of a list, which a heading above speaks
 * for: a bullet, a number, a date or time, a few letters of a log. A label ("【IPアドレス】",
 * "Server IP:") or a sentence of its own says what the hit is instead.
 */
function isListEntry(prefix: string): boolean {
  if (/(?:】|[:：])\s*$/.test(prefix) && /[^\d\s:：.\-/T]/.test(prefix)) return false;
  return !/[a-z]{2,}(?: [a-z]{2,}){2}|[\u3040-\u30ff\u4e00-\u9fff]{6}/i.test(prefix);
}

/** The heading cell above column `col` of a table row, when `heading` has several cells. */
function headingCell(heading: string, row: string, col: number): string | undefined {
  if (heading.includes('|') && row.includes('|')) {
    const cells = heading.split('|');
    return cells.length > 2 ? cells[row.slice(0, col).split('|').length - 1] ?? '' : undefined;
  }
  // A CSV export's header line ("timestamp,src_ip,src_port,dst_ip"), quoted or not.
  if (CSV_HEADING.test(heading) && row.includes(',')) {
    const cells = heading.split(',');
    return cells[row.slice(0, col).split(',').length - 1] ?? '';
  }
  if (heading.includes('\t') && row.includes('\t')) {
    const cells = heading.trim().split(/\t+/);
    return cells.length > 1 ? cells[row.trimStart().slice(0, col).split(/\t+/).length - 1] ?? '' : undefined;
  }
  const starts = [0];
  for (const m of heading.trimEnd().matchAll(/ {2,}|\t+/g)) starts.push(m.index! + m[0].length);
  if (starts.length < 3) return undefined;
  // Columns line up as they look: a kanji is two columns wide.
  const at = width(row, col);
  let cell = -1;
  for (let c = 0; c < starts.length; c++) if (width(heading, starts[c]) <= at + 1) cell = c;
  return cell < 0 ? '' : heading.slice(starts[cell], starts[cell + 1] ?? heading.length);
}

const TABLE_RULE = /^[\s|+:=-]+$/;
const CSV_HEADING = /^\s*"?[\w .()-]{1,30}"?(?:,"?[\w .()-]{0,30}"?){2,}\s*$/;

function width(s: string, end: number): number {
  let w = 0;
  for (let i = 0; i < end; i++) w += s.charCodeAt(i) >= 0x1100 ? 2 : 1;
  return w;
}

function urlResource(ind: Indicator): Partial<SubjectResource> {
  const host = ind.host!;
  return parseIPv4(host) >= 0 || host.includes(':') ? { url: ind.value, ip: host } : { url: ind.value, fqdn: host };
}

/**
 * A candidate while choosing: where it first stands, the lines of its first occurrences, and
 * whether any mention of it was scored by place.
 */
type Resource = SubjectResource & { first: number; line: number; end: number; lines: number[]; marked: boolean; placed: boolean; elsewhere: boolean };

/** Keeps the best-scored resources: the desk's own when the inventory knows any, else the positive ones. */
function select(scored: Scored[], norm: NormalisedText, opts: EvidenceOptions): Resource[] {
  const byValue = new Map<string, Resource>();
  const oursCache = new Map<string, boolean>();
  const ours = (r: string) => {
    let v = oursCache.get(r);
    if (v === undefined) { v = opts.isOurs(r); oursCache.set(r, v); }
    return v;
  };
  for (const { ind, score, heading, marked, placed, elsewhere } of scored) {
    const key = ind.kind + ' ' + ind.value;
    const isOurs = ours(ind.kind === 'url' ? ind.host! : ind.value);
    if (ind.kind === 'fqdn' && !isOurs && !ind.defanged) continue; // a bare name is too weak without the inventory
    const prev = byValue.get(key);
    if (prev) {
      // The best evidence for it counts; a neutral mention (its log lines) does not undo "our server X".
      prev.score = prev.score > 0 || score > 0 ? Math.max(prev.score, score) : Math.min(prev.score, score);
      prev.defanged ||= ind.defanged;
      prev.marked ||= marked;
      prev.placed ||= placed;
      prev.elsewhere ||= elsewhere;
      if (prev.lines[prev.lines.length - 1] !== ind.line) prev.lines.push(ind.line);
      continue;
    }
    const r = {
      ours: isOurs, defanged: ind.defanged, score, first: ind.index, line: ind.line, end: ind.index + ind.value.length, lines: [ind.line], marked, placed, elsewhere,
      ...(heading !== undefined ? listHeading(norm.line(heading)) : {}),
      ...(ind.kind === 'ip' ? { ip: ind.value } : ind.kind === 'url' ? urlResource(ind) : { fqdn: ind.value }),
      ...(ind.port ? { port: ind.port } : {}),
    } as Resource;
    byValue.set(key, r);
  }
  const all = [...byValue.values()];
  // Names already covered by a URL on the same host add nothing.
  const urlHosts = new Set(all.filter((r) => r.url).map((r) => r.fqdn));
  const candidates = all.filter((r) => !(r.fqdn && !r.url && urlHosts.has(r.fqdn)));

  let chosen = candidates.filter((r) => r.ours && r.score > -8);
  // A customer reporting an attack from another customer: its own server is the victim. When all
  // the desk knows is the victim ("our server X was attacked from Y"), the report is about Y.
  // Only words make a victim: a pasted relay below the delivering hop is no victim.
  if (chosen.some((r) => r.score > 0)) chosen = chosen.filter((r) => r.score > -3 || r.placed);
  else if (chosen.every((r) => r.score <= -3 && !r.placed) && candidates.some((r) => !r.ours && r.score >= 3 && (r.ip || r.url))) chosen = [];
  if (chosen.length > 0) {
    // A URL named beside an address of ours is the site on it ("URL: ...\nIP: ours"): the notice
    // must say which page, not only which server.
    const urls = candidates.filter((r) => r.url && !r.ip && !r.ours && r.score > 0);
    if (urls.length > 0) chosen = pairUrlsWithAddresses([...chosen, ...urls], norm).filter((r) => r.ours);
  } else {
    chosen = candidates.filter((r) => r.score > 0);
    // What the reporter says is someone else's goes to them; it is the subject only when nothing else is.
    if (chosen.some((r) => !r.elsewhere)) chosen = chosen.filter((r) => !r.elsewhere);
    // A report that lists its subjects by field or under a heading ("IP: ...", "IPs Engaged In
    // ...:") also links to the reporter's advice, tools and company: a link no word marks is none.
    if (chosen.some((r) => r.marked)) chosen = chosen.filter((r) => r.score >= 2 || !r.url || r.ip !== undefined);
    if (chosen.length === 0) {
      chosen = candidates.filter((r) => r.score === 0 && (r.ip !== undefined || r.url !== undefined));
      if (chosen.some((r) => !r.elsewhere)) chosen = chosen.filter((r) => !r.elsewhere);
    }
    else if (chosen.some((r) => r.url && !r.ip)) {
      // "URL: hxxp://...\nIP: 192.0.2.1": the address under a reported URL is where it is hosted,
      // even with no word of its own; an unpaired one stays out.
      const bare = new Set(candidates.filter((r) => r.score === 0 && r.ip && !r.url));
      if (bare.size > 0) return finish(pairUrlsWithAddresses([...chosen, ...bare], norm).filter((r) => !bare.has(r)));
    }
  }
  // An address no word marked may still sit in the URL's table row.
  const spare = candidates.filter((r) => r.ip && !r.url && r.score >= 0 && !chosen.includes(r));
  return finish(pairUrlsWithAddresses(chosen, norm, spare));
}

function finish(chosen: Resource[]): Resource[] {
  return chosen.sort((a, b) => a.first - b.first);
}

/** A short line ending in a colon above a list is its heading; a sentence is none. */
function listHeading(line: string): { heading?: string } {
  const h = line.trim();
  return h.length <= 120 && /[:：]$/.test(h) ? { heading: h } : {};
}

function onlyHeadingsBetween(norm: NormalisedText, from: number, to: number): boolean {
  if (to - from > 4) return false;
  for (let i = from + 1; i < to; i++) if (norm.line(i).trim().length > 24) return false;
  return true;
}

/**
 * "hxxp://example[.]jp/ (192.0.2.1)": the address in brackets right after a URL is where it is
 * hosted; so is the address in another column of the URL's table row ("|192.0.2.1 |example.jp
 * |http://..."), which may be one (`spare`) that no word marked.
 */
function pairUrlsWithAddresses(chosen: Resource[], norm: NormalisedText, spare: Resource[] = []): Resource[] {
  const drop = new Set<Resource>();
  const pair = (u: Resource, a: Resource) => {
    u.ip = a.ip;
    u.ours ||= a.ours;
    // The URL's own lines first: a time in its row is its own, the address's may be any other.
    u.lines = [...u.lines, ...a.lines.filter((l) => !u.lines.includes(l))];
    drop.add(a);
  };
  for (const u of chosen) {
    if (!u.url || u.ip) continue;
    for (const a of chosen) {
      if (!a.ip || a.url || a.line !== u.line || drop.has(a)) continue;
      const between = norm.text.slice(u.end, a.first);
      if (a.first > u.first && /^[^\n]{0,40}$/.test(between) && /[([（【]\s*(?:ip\s*[:：]?\s*)?$/i.test(between)) {
        pair(u, a);
        break;
      }
    }
    for (const l of u.lines) {
      if (u.ip || !/[|\t]/.test(norm.line(l))) continue;
      // Several rows may name one host: the address in each URL's row is its own, taken or not.
      const row = [...chosen, ...spare].filter((a) => a.ip && !a.url && a.lines.includes(l));
      if (row.length === 1) pair(u, row[0]);
    }
  }
  // "URL: ...\nIP: ..." : a URL and the address on one of the next two lines (or four, across a
  // blank line and a heading) describe one site, when no other URL comes between them (JPCERT/CC
  // lists several sites this way).
  const urls = chosen.filter((r) => r.url).sort((a, b) => a.first - b.first);
  // Another URL on a line from `lo` (exclusive) to `hi` (inclusive) stands between the two.
  const urlBetween = (u: Resource, lo: number, hi: number) => urls.some((o) => o !== u && o.lines.some((l) => l > lo && l <= hi));
  const below = (u: Resource, a: Resource) => u.lines.some((lu) => a.lines.some((la) => la > lu && (la - lu <= 2 || onlyHeadingsBetween(norm, lu, la)) && !urlBetween(u, lu, la)));
  for (const u of urls) {
    if (u.ip) continue;
    const a = chosen.find((r) => r.ip && !r.url && !drop.has(r) && below(u, r));
    if (a) pair(u, a);
  }
  // "IP: ...\nURL: ...": the other order, for an address no URL below it took.
  const above = (u: Resource, a: Resource) => u.lines.some((lu) => a.lines.some((la) => la < lu && lu - la <= 2 && !urlBetween(u, la - 1, lu - 1)));
  for (const u of urls) {
    if (u.ip) continue;
    const a = chosen.find((r) => r.ip && !r.url && !drop.has(r) && above(u, r));
    if (a) pair(u, a);
  }
  // "http://192.0.2.1/x (192.0.2.1)": the address again beside a URL on that address adds nothing.
  const urlIps = new Set(urls.map((u) => u.ip));
  return chosen.filter((r) => !drop.has(r) && !(r.ip && !r.url && urlIps.has(r.ip)));
}
