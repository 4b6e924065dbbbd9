// The IMAP poller: the desk reads an existing abuse mailbox (the usual setup today). A message is
// marked (\Seen or a keyword) or moved only after its raw bytes are committed, so a crash between
// the two at worst fetches it again, and the second copy is recognised as a duplicate.
import { ImapFlow, type SearchObject } from 'imapflow';
import type { Desk } from '../desk.js';
import type { DeskService, RunningService } from '../services.js';
import { ingestReport } from './ingest.js';
import { recordRefusal } from './refusals.js';

export interface PollResult { stored: number; duplicates: number; refused: number; failed: number }

type ImapConfig = Desk['config']['intake']['imap'];

function connect(cfg: ImapConfig): ImapFlow {
  return new ImapFlow({
    host: cfg.host, port: cfg.port, secure: cfg.secure,
    auth: { user: cfg.user, pass: cfg.password },
    tls: { rejectUnauthorized: cfg.tls_verify },
    logger: false,
    // Polling does the work; IDLE only hurries the next poll along.
    disableAutoIdle: false,
  });
}

/** Messages not yet handed to the desk, by the marking the configuration uses. */
function pendingQuery(cfg: ImapConfig): SearchObject {
  if (cfg.after === 'seen') return { seen: false };
  if (cfg.after === 'keyword') return { unKeyword: cfg.keyword };
  return { all: true };
}

async function markStored(client: ImapFlow, cfg: ImapConfig, uid: number): Promise<void> {
  if (cfg.after === 'move') await client.messageMove(String(uid), cfg.move_to, { uid: true });
  else await client.messageFlagsAdd(String(uid), [cfg.after === 'seen' ? '\\Seen' : cfg.keyword], { uid: true });
}

/** One pass over the mailbox: every pending message is stored, then marked. */
export async function pollMailbox(desk: Desk, client: ImapFlow): Promise<PollResult> {
  const cfg = desk.config.intake.imap;
  const max = desk.config.intake.max_report_size;
  const result: PollResult = { stored: 0, duplicates: 0, refused: 0, failed: 0 };
  const lock = await client.getMailboxLock(cfg.mailbox);
  try {
    const mailbox = client.mailbox || undefined;
    const uids = (await client.search(pendingQuery(cfg), { uid: true })) || [];
    for (const uid of uids) {
      const where = { host: cfg.host, mailbox: cfg.mailbox, uid, uidValidity: mailbox ? String(mailbox.uidValidity) : null };
      const head = await client.fetchOne(String(uid), { size: true }, { uid: true });
      if (!head) continue; // expunged meanwhile
      if ((head.size ?? 0) > max) {
        // Recorded and marked, so that it is neither lost silently nor fetched on every poll.
        await recordRefusal(desk, { channel: 'imap', reason: `message of ${head.size} bytes exceeds intake.max_report_size (${max})`, size: head.size, meta: where });
        await markStored(client, cfg, uid);
        result.refused++;
        continue;
      }
      const msg = await client.fetchOne(String(uid), { source: true }, { uid: true });
      if (!msg || !msg.source) continue;
      try {
        const r = await ingestReport(desk, msg.source, 'imap', where);
        if (r.duplicate) result.duplicates++; else result.stored++;
      } catch (e) {
        // Not stored: leave it unmarked for the next poll.
        desk.log.error({ err: e, uid }, 'could not store an IMAP message');
        result.failed++;
        continue;
      }
      await markStored(client, cfg, uid);
    }
  } finally { lock.release(); }
  return result;
}

export async function startImap(desk: Desk): Promise<RunningService> {
  const cfg = desk.config.intake.imap;
  let client: ImapFlow | null = null;
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;

  const poll = (): Promise<void> => {
    if (running) { again = true; return running; }
    running = (async () => {
      do {
        again = false;
        try {
          if (!client || !client.usable) {
            client = connect(cfg);
            client.on('error', (e) => desk.log.warn({ err: e }, 'imap connection error'));
            client.on('exists', () => { if (!stopped) void poll(); });
            await client.connect();
            if (cfg.after === 'move') await client.mailboxCreate(cfg.move_to).catch(() => undefined /* exists */);
          }
          const r = await pollMailbox(desk, client);
          if (r.stored || r.duplicates || r.refused || r.failed) desk.log.info({ ...r }, 'imap poll');
        } catch (e) {
          desk.log.warn({ err: e, host: cfg.host }, 'imap poll failed; retrying at the next interval');
          client?.close();
          client = null;
        }
      } while (again && !stopped);
    })().finally(() => { running = null; });
    return running;
  };

  const timer = setInterval(() => void poll(), cfg.poll_interval * 1000);
  void poll();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await (client as ImapFlow | null)?.logout().catch(() => undefined);
    },
  };
}

export const imapService: DeskService = {
  name: 'imap',
  async start(desk) { return desk.config.intake.imap.enabled ? startImap(desk) : null; },
};
