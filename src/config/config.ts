// One config file (madoguchi.yaml) over built-in defaults, then environment overrides, then
// command-line flags. docs/CONFIGURATION.md documents every key; a test keeps the two in step.
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';

export const defaults = {
  data_dir: './data',
  /** PostgreSQL server; empty means the embedded database under data_dir. */
  database_url: '',
  /** Seconds to wait for a database server before giving up with an error. */
  database_connect_timeout: 5,
  log: { level: 'info' },
  http: {
    host: '127.0.0.1',
    port: 8080,
    /** Largest request body accepted, bytes. */
    body_limit: 26214400,
  },
  smtp: {
    enabled: true,
    host: '127.0.0.1',
    port: 2525,
    /** Largest message accepted, bytes (announced in EHLO as SIZE). */
    max_size: 26214400,
    /** Recipient addresses the listener accepts mail for (abuse@example.jp, ...); empty accepts any. */
    addresses: [] as string[],
    /** Name in the greeting and the EHLO answer; empty means this machine's host name. */
    name: '',
    /** Most SMTP connections served at once. */
    max_clients: 100,
    /** PEM certificate chain and private key files; with both set the listener offers STARTTLS. */
    tls_cert: '',
    tls_key: '',
  },
  intake: {
    /** Largest report accepted as one message over HTTP or from a file, bytes (feeds are streamed). */
    max_report_size: 26214400,
    /** Report bodies being received over HTTP at once, bytes: past it new ones wait (503, Retry-After). */
    max_inflight_bytes: 268435456,
    /** Most events kept from one report; a report yielding more is quarantined. */
    max_events_per_report: 200000,
    /** Events written per database statement (streamed feeds, event lists). */
    batch_events: 5000,
    /** What the parsers will open: beyond these a report is quarantined with the reason. */
    limits: {
      /** Deepest nesting of multiparts and attached messages. */
      max_mime_depth: 12,
      /** Most MIME parts in one message, all levels together. */
      max_mime_parts: 500,
      /** Largest decoded MIME part, bytes; bigger parts are kept but not parsed. */
      max_part_bytes: 26214400,
      /** Largest header block of one part, bytes. */
      max_header_bytes: 1048576,
      /** Most characters of human-written text searched for indicators. */
      max_text_chars: 2000000,
      /** Most bytes unpacked from one archive (zip bombs), all entries together. */
      zip_max_bytes: 536870912,
      /** Highest ratio of unpacked to packed size of an archive entry. */
      zip_max_ratio: 200,
      /** Most entries read from one archive. */
      zip_max_entries: 100,
    },
    /** Reports per API key over HTTP: a token bucket refilled at `rate` per second, holding `burst`. */
    api: {
      /** Reports a second each key may send, on average. */
      rate: 20,
      /** Reports a key may send at once after a quiet spell. */
      burst: 200,
    },
    /** Polling an existing mailbox (the usual setup before the SMTP listener takes over). */
    imap: {
      /** Poll the mailbox while `madoguchi serve` runs. */
      enabled: false,
      /** The IMAP server. */
      host: '127.0.0.1',
      /** 993 for TLS, 143 for plain or STARTTLS. */
      port: 993,
      /** TLS from the first byte (port 993); false uses STARTTLS when the server offers it. */
      secure: true,
      /** Refuse a server certificate that does not verify. */
      tls_verify: true,
      /** Login name of the mailbox. */
      user: '',
      /** Better given as MADOGUCHI_INTAKE_IMAP_PASSWORD than in the file. */
      password: '',
      /** The folder the reports arrive in. */
      mailbox: 'INBOX',
      /** Seconds between polls (the poller also wakes on IDLE notifications). */
      poll_interval: 60,
      /** What marks a stored message: seen (set \Seen), keyword (set `keyword`), move (to `move_to`). */
      after: 'seen',
      /** The IMAP keyword set on stored messages when `after` is keyword. */
      keyword: '$MadoguchiStored',
      /** The folder stored messages go to when `after` is move (created when missing). */
      move_to: 'Madoguchi',
    },
  },
  desk: {
    /** Time zone used for case numbers, notices and statistics. */
    timezone: 'Asia/Tokyo',
  },
  blocklists: {
    /** Lists to watch: each {name, url | path, every, category, type, maintainer, playbook}; a path may be a directory of FireHOL .ipset/.netset files. */
    sources: [] as Record<string, unknown>[],
    /** Seconds between checks of a source that sets no `every` and whose FireHOL header names no update frequency. */
    every: 3600,
    /** Seconds before a download is abandoned (the previous copy is kept). */
    timeout: 60,
    /** Largest list read, bytes; a larger one is refused and the previous copy kept. */
    max_bytes: 268435456,
    /** What a listing leads to when no rule matches: act, corroborate (a second list from another maintainer must agree) or report. */
    playbook: 'report',
    /** Rules, first match wins: each {list | category, playbook, type} (type: the event classification). */
    playbooks: [] as Record<string, unknown>[],
    dnsbl: {
      /** Addresses to check (mail servers, customers' mail senders); CIDRs up to /24 (IPv6: /120). */
      addresses: [] as string[],
      /** Zones: a known zone's name, or {zone, name, codes: {"127.0.0.2": meaning}, type, playbook}. */
      zones: [] as unknown[],
      /** DNS servers (address or address:port); empty means the system's. */
      resolvers: [] as string[],
      /** Queries per second, at most. */
      rate: 10,
      /** Seconds a query may take. */
      timeout: 5,
      /** Seconds between rounds. */
      every: 3600,
    },
  },
  cases: {
    /** Hours after a case's last event during which new events of the same customer, service and kind join it. */
    group_window_hours: 72,
    /** Case number format: {year} and {seq:N} (sequence zero-padded to N digits), e.g. {year}-{seq:6} gives 2026-000123. */
    number_format: '{year}-{seq:6}',
    /** Folder of playbook YAML files; empty means the shipped ones (src/cases/playbooks). */
    playbooks_dir: '',
    /** Folder of notice templates (<name>.<lang>.txt); empty means the shipped ones (src/notices/templates). */
    templates_dir: '',
    /** Hours a new case may wait for its first notice before it shows in the overdue queue. */
    first_notice_hours: 24,
    /** Hours an operator has to look at a customer's reply before the case is overdue. */
    reply_review_hours: 24,
    /** Forward the reporter's evidence when neither the report nor the reporter's defaults say. */
    default_evidence_consent: false,
    /** Acknowledge each report to its reporter with the case numbers. */
    acknowledge_reports: true,
    /** Language of acknowledgements when the report does not tell (ja or en). */
    reporter_language: 'en',
    /** Seconds between runs of the reminder and escalation scheduler; 0 turns it off. */
    scheduler_interval: 60,
    /** Restriction executors, each {action, command: [argv...]} or {action, url, headers?}; {case}, {target}, {action} in argv and body are filled in. */
    executors: [] as Record<string, unknown>[],
    /** Seconds an executor may take before it counts as failed. */
    executor_timeout: 60,
  },
  notices: {
    /** Send queued mail through the relay; false keeps it in the outbox. */
    enabled: true,
    /** SMTP relay for outgoing mail. */
    relay_host: '127.0.0.1',
    relay_port: 25,
    /** TLS from the first byte (port 465); otherwise STARTTLS when offered. */
    relay_secure: false,
    relay_user: '',
    /** Better given as MADOGUCHI_NOTICES_RELAY_PASSWORD than in the file. */
    relay_password: '',
    /** Sender when the customer's brand has no from_address. */
    from: 'abuse@desk.invalid',
    /** Address replies go to; the case number is added as +NUMBER (abuse+2026-000123@...). */
    reply_to: 'abuse@desk.invalid',
    /** Attempts before a message counts as failed. */
    max_attempts: 8,
    /** Seconds before the first retry; doubled for each further one. */
    retry_seconds: 60,
    /** Seconds between looks at the outbox. */
    poll_interval: 5,
  },
  detection: {
    /** Run the jails in `madoguchi serve`. */
    enabled: false,
    /** fail2ban's configuration directory; filters named without a path are read from its filter.d/. */
    fail2ban_dir: '/etc/fail2ban',
    /** fail2ban jail files to read with their jail.d/ and .local companions (e.g. /etc/fail2ban/jail.conf); their enabled jails run. */
    jail_files: [] as string[],
    /** Jails written here: each {name, filter, logpath | backend: systemd, maxretry, findtime, bantime, bantime.increment, ignoreip, ...} with fail2ban's option names and value syntax. */
    jails: [] as Record<string, unknown>[],
    /** On a first start, read log files from their beginning instead of their end (later starts resume where they stopped). */
    read_from_start: false,
    /** The journalctl program, for jails with backend systemd. */
    journalctl: 'journalctl',
    /** nftables script rewritten on every ban (load with `nft -f FILE`); empty: none. */
    nftables_file: '',
    /** ipset restore file rewritten on every ban (load with `ipset restore -exist < FILE`); empty: none. */
    ipset_file: '',
    /** Set name: nftables sets NAME4/NAME6 in table inet madoguchi, ipsets NAME4/NAME6. */
    set_name: 'madoguchi_bans',
    outbound: {
      /** Report outside offenders to the abuse contact of their network (X-ARF v4 login_attack by mail). */
      enabled: false,
      /** Compose and record the reports without sending them. */
      dry_run: true,
      /** RDAP service for IP networks (rdap.org redirects to the registry that holds the address). */
      rdap_url: 'https://rdap.org',
      /** Seconds to wait between two RDAP queries (registries rate-limit). */
      rdap_interval: 2,
      /** Seconds an RDAP answer is kept (a failed lookup: a tenth of it). */
      rdap_cache_ttl: 86400,
      /** Seconds an RDAP query may take. */
      rdap_timeout: 10,
      /** At most one report about an address in this many seconds. */
      per_address_interval: 86400,
      /** At most this many reports to one abuse contact per hour. */
      per_contact_per_hour: 10,
      /** Mail server the reports are sent through. */
      smtp_host: '127.0.0.1',
      smtp_port: 25,
      /** Sender address of the reports (required to send). */
      from: '',
      /** Organisation and domain named as reporter in the reports. */
      reporter_org: '',
      reporter_domain: '',
    },
  },
};

export type Config = typeof defaults;

export class ConfigError extends Error {}

type Tree = { [k: string]: unknown };

export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Tree } = {}): Config {
  const env = opts.env ?? process.env;
  const cfg = structuredClone(defaults) as unknown as Tree;
  const file = opts.file ?? env.MADOGUCHI_CONFIG ?? (existsSync('madoguchi.yaml') ? 'madoguchi.yaml' : undefined);
  if (file) {
    let doc: unknown;
    try {
      // Loaded only when there is a file: commands without one (madoguchi regex) start sooner.
      doc = (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError(`${file}: ${(e as Error).message}`);
    }
    if (doc != null) merge(cfg, doc as Tree, defaults as unknown as Tree, file);
  }
  if (env.DATABASE_URL) cfg.database_url = env.DATABASE_URL;
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('MADOGUCHI_') || k === 'MADOGUCHI_CONFIG' || v === undefined) continue;
    const path = resolveEnvKey(k.slice('MADOGUCHI_'.length).toLowerCase(), defaults as unknown as Tree);
    if (!path) continue;
    setPath(cfg, path, coerce(getPath(defaults as unknown as Tree, path), v, k));
  }
  if (opts.overrides) merge(cfg, opts.overrides, defaults as unknown as Tree, 'command line');
  return cfg as unknown as Config;
}

function merge(into: Tree, from: Tree, shape: Tree, where: string, prefix = ''): void {
  for (const [k, v] of Object.entries(from)) {
    if (!(k in shape)) throw new ConfigError(`${where}: unknown key ${prefix}${k}`);
    const d = shape[k];
    if (d && typeof d === 'object' && !Array.isArray(d)) {
      if (v == null) continue;
      if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`${where}: ${prefix}${k} must be a mapping`);
      merge(into[k] as Tree, v as Tree, d as Tree, where, `${prefix}${k}.`);
    } else {
      into[k] = v === null ? d : checkType(d, v, `${where}: ${prefix}${k}`);
    }
  }
}

function checkType(d: unknown, v: unknown, what: string): unknown {
  if (Array.isArray(d)) {
    if (!Array.isArray(v)) throw new ConfigError(`${what} must be a list`);
    return v;
  }
  if (typeof d === 'number' && typeof v !== 'number') throw new ConfigError(`${what} must be a number`);
  if (typeof d === 'boolean' && typeof v !== 'boolean') throw new ConfigError(`${what} must be true or false`);
  if (typeof d === 'string' && typeof v !== 'string') throw new ConfigError(`${what} must be a string`);
  return v;
}

/** MADOGUCHI_SMTP_MAX_SIZE -> ['smtp', 'max_size']: segments are matched against the defaults. */
function resolveEnvKey(rest: string, shape: Tree): string[] | null {
  for (const k of Object.keys(shape)) {
    if (rest === k) return [k];
    const d = shape[k];
    if (rest.startsWith(k + '_') && d && typeof d === 'object' && !Array.isArray(d)) {
      const sub = resolveEnvKey(rest.slice(k.length + 1), d as Tree);
      if (sub) return [k, ...sub];
    }
  }
  return null;
}

function coerce(d: unknown, v: string, name: string): unknown {
  if (typeof d === 'number') {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new ConfigError(`${name} must be a number`);
    return n;
  }
  if (typeof d === 'boolean') return /^(1|true|yes|on)$/i.test(v);
  if (Array.isArray(d)) return v.split(',').map((s) => s.trim()).filter(Boolean);
  return v;
}

function getPath(t: Tree, p: string[]): unknown {
  return p.reduce<unknown>((o, k) => (o as Tree)[k], t);
}
function setPath(t: Tree, p: string[], v: unknown): void {
  const last = p[p.length - 1];
  (p.slice(0, -1).reduce<unknown>((o, k) => (o as Tree)[k], t) as Tree)[last] = v;
}
