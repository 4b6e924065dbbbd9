// The contract between the intake (which stores raw reports and calls the parsers) and the
// format modules. See README.md in this folder.
import type { Event } from '../events/event.js';
import type { MimeLimits } from './mail/mime.js';

export interface ParseLimits extends MimeLimits {
  /** Largest input parseReport accepts at all, bytes. */
  maxMessageBytes: number;
  /** Most characters of human-written text searched for indicators. */
  maxTextChars: number;
  /** Zip archives: largest total uncompressed size, bytes. */
  zipMaxBytes: number;
  /** Zip archives: largest uncompressed/compressed ratio of one member. */
  zipMaxRatio: number;
  /** Zip archives: most members. */
  zipMaxEntries: number;
  /** Most events parseReport collects in memory; larger feeds need ctx.onEvents or the CSV stream. */
  maxEvents: number;
}

export interface ParseContext {
  /** The inventory's word on a resource (IP, CIDR, host name, URL, e-mail address) at a time. */
  isOurs(resource: string, at?: Date): boolean;
  limits: ParseLimits;
  /**
   * Optional sink for large reports (Shadowserver CSV with millions of rows): when given, events
   * are handed over in batches as they are parsed and ParsedReport.events stays empty.
   */
  onEvents?(batch: Event[]): Promise<void> | void;
}

export interface Reporter { email?: string; name?: string }

export interface ParsedReport {
  /** Not an abuse report (bounce, auto-reply, empty mail) or refused input (see `reason`). */
  rejected: boolean;
  error?: string;
  /** Why it was rejected: not a report at all, or input the limits refuse (quarantine those). */
  reason?: 'bounce' | 'auto-reply' | 'empty' | 'not-a-report' | 'too-large' | 'mime-depth' | 'mime-parts' | 'zip' | 'malformed' | 'too-many-events';
  /** The format module that produced the events ('arf', 'xarf', 'shadowserver', 'freeform', ...). */
  parser: string;
  events: Event[];
  /** Events produced in total (equals events.length unless they went to ctx.onEvents). */
  eventCount: number;
  reporter?: Reporter;
  messageId?: string;
  subject?: string;
  /** The report's own date (Date: header or the format's report time), ISO 8601. */
  date?: string;
  /** Whether the reporter allows its evidence to reach the customer; null when it does not say. */
  forwardConsent?: boolean | null;
  language?: 'ja' | 'en' | null;
  /** Parts skipped or trimmed under the limits, for the operator. */
  warnings: string[];
}

export const DEFAULT_LIMITS: ParseLimits = {
  maxMessageBytes: 50 * 1024 * 1024,
  maxDepth: 12,
  maxParts: 500,
  maxPartBytes: 25 * 1024 * 1024,
  maxHeaderBytes: 1024 * 1024,
  maxTextChars: 2_000_000,
  zipMaxBytes: 512 * 1024 * 1024,
  zipMaxRatio: 200,
  zipMaxEntries: 100,
  maxEvents: 200_000,
};
