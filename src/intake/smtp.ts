// The SMTP listener: reporters (and the provider's own MTA) deliver abuse mail straight to the
// desk. A message is answered 250 only once its raw bytes are committed; anything that goes wrong
// before that is a temporary failure (451), so the sending MTA keeps the message and retries.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Desk } from '../desk.js';
import type { DeskService } from '../services.js';
import { ingestReport } from './ingest.js';
import { recordRefusal } from './refusals.js';

export interface SmtpListener { server: SMTPServer; port: number; stop(): Promise<void> }

class SmtpReply extends Error {
  constructor(readonly responseCode: number, message: string) { super(message); }
}

export async function startSmtp(desk: Desk): Promise<SmtpListener> {
  const cfg = desk.config.smtp;
  const accepted = new Set(cfg.addresses.map((a) => a.toLowerCase()));
  const name = cfg.name || hostname();
  const tls = tlsFiles(cfg.tls_cert, cfg.tls_key);
  const envelopeOf = (s: SMTPServerSession) => ({
    peer: s.remoteAddress, helo: s.hostNameAppearsAs, smtpId: s.id,
    mailFrom: s.envelope.mailFrom ? s.envelope.mailFrom.address : null,
    rcptTo: s.envelope.rcptTo.map((r) => r.address),
    tls: s.secure,
  });
  const server = new SMTPServer({
    name,
    banner: 'Madoguchi abuse desk',
    size: cfg.max_size,
    maxClients: cfg.max_clients,
    // STARTTLS only with the desk's own certificate (never the library's built-in one); no AUTH:
    // the listener takes mail for the desk's own addresses only.
    ...tls,
    disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    authOptional: true,
    logger: false,
    onRcptTo(address, session, cb) {
      if (accepted.size && !accepted.has(address.address.toLowerCase())) {
        return cb(new SmtpReply(550, `5.1.1 <${address.address}>: this desk takes mail for ${[...accepted].join(', ')} only`));
      }
      cb();
    },
    onData(stream: SMTPServerDataStream, session, cb) {
      const chunks: Buffer[] = [];
      let size = 0;
      // Past the limit the rest of the message is read and dropped: memory stays at max_size.
      stream.on('data', (c: Buffer) => { size += c.length; if (size <= cfg.max_size) chunks.push(c); });
      stream.on('error', (e) => cb(new SmtpReply(451, `4.3.0 ${e.message}`)));
      stream.on('end', () => {
        const meta = envelopeOf(session);
        if (stream.sizeExceeded || size > cfg.max_size) {
          // Recorded before the answer, so that the refusal is on file by the time the sender hears of it.
          void recordRefusal(desk, { channel: 'smtp', reason: `message of ${size} bytes exceeds smtp.max_size (${cfg.max_size})`, size, peer: session.remoteAddress, meta })
            .then(() => cb(new SmtpReply(552, `5.3.4 message exceeds the maximum size of ${cfg.max_size} bytes`)));
          return;
        }
        let answered = false;
        ingestReport(desk, Buffer.concat(chunks, size), 'smtp', meta, {
          onStored(r) { answered = true; cb(null, `2.0.0 stored as report ${r.reportId}${r.duplicate ? ' (already received)' : ''}`); },
        }).catch((e) => {
          desk.log.error({ err: e, peer: session.remoteAddress }, answered ? 'stored SMTP report failed to parse' : 'could not store an SMTP report');
          if (!answered) cb(new SmtpReply(451, '4.3.0 the desk could not store the message now; try again later'));
        });
      });
    },
  });
  server.on('error', (e) => desk.log.error({ err: e }, 'smtp listener error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.server.address() as { port: number }).port;
  desk.log.info({ host: cfg.host, port }, 'smtp listener ready');
  return { server, port, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

function tlsFiles(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } | null {
  if (!certFile && !keyFile) return null;
  if (!certFile || !keyFile) throw new Error('smtp.tls_cert and smtp.tls_key go together: set both, or neither');
  const read = (what: string, f: string) => {
    try { return readFileSync(f); } catch (e) { throw new Error(`smtp.${what}: cannot read ${f}: ${(e as Error).message}`); }
  };
  return { cert: read('tls_cert', certFile), key: read('tls_key', keyFile) };
}

export const smtpService: DeskService = {
  name: 'smtp',
  async start(desk) { return desk.config.smtp.enabled ? startSmtp(desk) : null; },
};
