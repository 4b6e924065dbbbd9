// Mail that reaches an abuse address but is not an abuse report: bounces of the desk's own
// notices, auto-replies, empty mails, fail2ban's jail start/stop notes.
import type { MailReport } from '../mail/report.js';
import type { ParsedReport } from '../types.js';

const BOUNCE_SUBJECT = /undeliver|undelivered|delivery (?:status notification|failure|has failed|failed)|returned mail|failure notice|mail delivery (?:failed|system|subsystem)|non-?delivery|delivery notification|配信不能|配送不能|配信エラー|届きませんでした|送信できませんでした|エラーメール/i;
const BOUNCE_SENDER = /^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon|bounce[s]?|double-bounce)@/i;
const AUTO_REPLY_SUBJECT = /^(?:auto(?:matic)?[- ]?(?:reply|response|answer)|out of (?:the )?office|away from (?:the )?office|on vacation|vacation reply|abwesenheitsnotiz|自動返信|自動応答|不在|休暇)/i;
const FAIL2BAN_STATUS = /^\[Fail2Ban\]\s+\S+:\s+(?:started|stopped)\s+on\b/i;

type Rejection = Pick<ParsedReport, 'error' | 'reason'>;

export function rejection(mail: MailReport): Rejection | null {
  const root = mail.root;
  const reportType = root.type === 'multipart/report' ? (root.params['report-type'] ?? '').toLowerCase() : '';
  const hasDsn = root.walk().some((p) => p.type === 'message/delivery-status' || p.type === 'message/global-delivery-status');
  if (reportType === 'delivery-status' || hasDsn || (BOUNCE_SENDER.test(mail.from.email ?? '') && BOUNCE_SUBJECT.test(mail.subject))) {
    return { reason: 'bounce', error: 'a delivery status notification (bounce), not an abuse report' };
  }
  const autoSubmitted = (root.get('auto-submitted') ?? '').toLowerCase();
  const precedence = (root.get('precedence') ?? '').toLowerCase();
  if (autoSubmitted.startsWith('auto-replied') || root.header('x-autoreply') !== undefined || root.header('x-autorespond') !== undefined
    || precedence === 'auto_reply' || AUTO_REPLY_SUBJECT.test(mail.subject)) {
    return { reason: 'auto-reply', error: 'an automatic reply, not an abuse report' };
  }
  if (FAIL2BAN_STATUS.test(mail.subject)) return { reason: 'not-a-report', error: 'a fail2ban jail start/stop notice, not an abuse report' };
  const hasContent = mail.parts().some((p) => p.body().some((b) => b > 0x20));
  if (!hasContent && !/\d+\.\d+\.\d+\.\d+|:\/\//.test(mail.subject)) return { reason: 'empty', error: 'an empty mail' };
  return null;
}
