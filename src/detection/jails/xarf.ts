// An outbound X-ARF v4 report about a ban (category connection, type login_attack, per the XARF
// v4 core and connection-login-attack schemas), sent as mail the way X-ARF travels: an
// `X-XARF: PLAIN` message with a human-readable part and the report as an `xarf.json` attachment.
import { randomUUID } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Ban } from './jail.js';

export interface Reporter { org: string; contact: string; domain: string }

export interface XarfLoginAttack {
  xarf_version: string;
  report_id: string;
  timestamp: string;
  reporter: Reporter;
  sender: Reporter;
  source_identifier: string;
  category: 'connection';
  type: 'login_attack';
  protocol: 'tcp';
  first_seen: string;
  last_seen: string;
  destination_port?: number;
  evidence_source: string;
  evidence: { content_type: string; description: string; payload: string; hash: string }[];
  confidence: number;
  description: string;
  tags: string[];
}

const MAX_EVIDENCE_BYTES = 64 * 1024;

export function xarfLoginAttack(ban: Ban, r: Reporter, opts: { service: string; port: string; firstSeen?: number }, sha256: (s: Buffer) => string): XarfLoginAttack {
  const log = Buffer.from(ban.lines.join('\n') + '\n', 'utf8').subarray(0, MAX_EVIDENCE_BYTES);
  const tag = (s: string) => s.toLowerCase().replace(/[^a-z0-9_+.-]/g, '-').replace(/^[^a-z0-9]+/, '') || 'unknown';
  const report: XarfLoginAttack = {
    xarf_version: '4.0.0',
    report_id: randomUUID(),
    timestamp: new Date(ban.time * 1000).toISOString(),
    reporter: r,
    sender: r,
    source_identifier: ban.ip,
    category: 'connection',
    type: 'login_attack',
    protocol: 'tcp',
    first_seen: new Date((opts.firstSeen ?? ban.time) * 1000).toISOString(),
    last_seen: new Date(ban.time * 1000).toISOString(),
    evidence_source: 'automated_filter',
    evidence: [{ content_type: 'text/plain', description: `log lines that led to the ban (${ban.failures} failures)`, payload: log.toString('base64'), hash: `sha256:${sha256(log)}` }],
    confidence: 0.9,
    description: `${ban.failures} failed logins to ${opts.service} from ${ban.ip} (jail ${ban.jail})`.slice(0, 1000),
    tags: [`service:${tag(opts.service)}`, `jail:${tag(ban.jail)}`],
  };
  const port = Number(opts.port);
  if (/^\d{1,5}$/.test(opts.port) && port >= 1 && port <= 65535) report.destination_port = port;
  return report;
}

/** The whole message, RFC 5322, as it is recorded and sent. */
export async function composeXarfMail(report: XarfLoginAttack, from: string, to: string[]): Promise<{ raw: Buffer; messageId: string }> {
  const domain = from.slice(from.lastIndexOf('@') + 1) || 'madoguchi.invalid';
  const messageId = `<${report.report_id}@${domain}>`;
  const text = [
    'Dear abuse team,',
    '',
    `We have seen repeated failed logins to our ${report.tags[0].slice('service:'.length)} service from ${report.source_identifier},`,
    `which according to RDAP is in your network, between ${report.first_seen} and ${report.last_seen} (UTC).`,
    'The address has been blocked by our systems. We would appreciate it if you looked into it:',
    'such traffic usually comes from a compromised machine.',
    '',
    'The machine-readable report (X-ARF v4, connection/login_attack) is attached as xarf.json,',
    'with the log lines as evidence.',
    '',
    `Reported by ${report.reporter.org} <${report.reporter.contact}>`,
  ].join('\n');
  const mail = new MailComposer({
    from, to, subject: `abuse report about ${report.source_identifier} - ${report.timestamp}`, messageId, date: new Date(),
    headers: { 'X-XARF': 'PLAIN', 'Auto-Submitted': 'auto-generated' },
    text,
    attachments: [{ filename: 'xarf.json', contentType: 'application/json; charset=utf-8', content: JSON.stringify(report, null, 2) }],
  });
  const built = await new Promise<Buffer>((resolve, reject) => mail.compile().build((err, msg) => (err ? reject(err) : resolve(msg))));
  // The composer writes header names in its own case ("X-Xarf"); X-ARF readers look for "X-XARF".
  const raw = Buffer.from(built.toString('latin1').replace(/^X-Xarf:/m, 'X-XARF:'), 'latin1');
  return { raw, messageId };
}
