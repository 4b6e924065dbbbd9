// What makes two reports the same: the raw bytes (SHA-256), or, for mail, the Message-ID together
// with the body, since the same mail reaching the desk by two routes differs in trace headers.
import { sha256 } from './raw-store.js';

/** Header sections longer than this are not mail headers worth reading for identity. */
const MAX_HEADER_SCAN = 256 * 1024;

export interface ReportIdentity { sha256: string; messageId: string | null; bodySha256: string | null }

export function identify(raw: Buffer): ReportIdentity {
  const hash = sha256(raw);
  const split = headerEnd(raw);
  if (split < 0) return { sha256: hash, messageId: null, bodySha256: null };
  const messageId = findMessageId(raw.toString('latin1', 0, split));
  return { sha256: hash, messageId, bodySha256: messageId ? sha256(raw.subarray(split)) : null };
}

/** Offset of the body of an RFC 5322 message, or -1 when the bytes do not start with a header. */
function headerEnd(raw: Buffer): number {
  // Mail starts with a header field (or an mbox "From " line, which a file channel strips first).
  if (!/^[!-9;-~]{1,76}:/.test(raw.toString('latin1', 0, 80))) return -1;
  const head = raw.subarray(0, MAX_HEADER_SCAN);
  const crlf = head.indexOf('\r\n\r\n');
  const lf = head.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return crlf + 4;
  return lf >= 0 ? lf + 2 : -1;
}

function findMessageId(header: string): string | null {
  const m = /^message-id:[ \t]*((?:.*)(?:\r?\n[ \t].*)*)/im.exec(header);
  if (!m) return null;
  const v = m[1].replace(/\r?\n[ \t]+/g, ' ').trim();
  const id = (/<([^<>\s]{1,990})>/.exec(v)?.[1] ?? v).slice(0, 990);
  // Control characters make it useless as a key (and PostgreSQL refuses NUL).
  return id && !/[\u0000-\u001f]/.test(id) ? id : null;
}
