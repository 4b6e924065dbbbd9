// Translations of a filter's expressions kept between runs. `madoguchi regex` is run once per log
// and filter (the conformance checker, fail2ban-regex's users): translating the Python
// expressions with cold code and having V8 set up the Unicode variants cost about half of a
// run's start-up, the same every time.
//
// One file per filter definition (its interpolated patterns and options, so a changed filter file
// or option gives another file), the translator's own code and the Node version: a translation is
// a function of its pattern and options and of the translator, so an entry is never stale, and
// "V8 accepted both variants" (Translated.compiled) holds for the V8 that wrote it. Files are
// written whole to a temporary name and renamed (concurrent runs each write a complete file, the
// last one stays); a file that does not read back is ignored. The directory is the user's own
// (0700, owned by them), else the cache is not used: another user must not choose our expressions.
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FilterDefinition } from './config.js';
import { translationCount, translationsMade, useTranslations, type Translated } from './pyregex.js';

const FORMAT = 1;
/** Files kept: the oldest go when there are more (one per filter definition used). */
const MAX_FILES = 200;

/** The per-user default: `$TMPDIR/madoguchi-translations-UID`. */
export function defaultTranslationCacheDir(): string {
  return join(tmpdir(), `madoguchi-translations-${process.getuid?.() ?? 'user'}`);
}

/**
 * cyrb53, twice: ~106 bits, no cryptography needed (the key itself is compared inside the file),
 * and node:crypto costs a run 10-40 ms to load.
 */
function hash(s: string): string {
  const one = (seed: number) => {
    let h1 = 0xdeadbeef ^ seed, h2 = 0x41c6ce57 ^ seed;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36).padStart(11, '0');
  };
  return one(1) + one(2);
}

let translatorHash: string | null = null;
/** The translator's compiled code, hashed: a changed translator never reads an older file. */
function translator(): string {
  if (translatorHash === null) {
    const code = readFileSync(new URL('./pyregex.js', import.meta.url), 'latin1');
    translatorHash = `${code.length}-${hash(code)}`;
  }
  return translatorHash;
}

/** The directory, made if needed, when it is safe to use (ours, not writable by others). */
function usableDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    const uid = process.getuid?.();
    return st.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

type Stored = { format: number; key: string; entries: Array<[string, Translated]> };

function toJson(_k: string, v: unknown): unknown {
  return v instanceof Map ? { map: [...v] } : v;
}
function fromJson(_k: string, v: unknown): unknown {
  return v !== null && typeof v === 'object' && 'map' in v && Array.isArray((v as { map: unknown }).map) ? new Map((v as { map: Array<[string, number[]]> }).map) : v;
}

/** The cache file of one filter definition; read by open(), written by save() when something was new. */
export class TranslationCache {
  private readonly file: string | null;
  private readonly key: string;
  /** translationCount() after the file was read: more means translations the file lacks. */
  private countAtRead = 0;

  constructor(dir: string, def: FilterDefinition) {
    this.key = JSON.stringify([FORMAT, translator(), process.version, def]);
    this.file = usableDir(dir) ? join(dir, hash(this.key) + '.json') : null;
  }

  /** Hands the stored translations to the translator; true when there was a usable file. */
  open(): boolean {
    this.countAtRead = translationCount();
    if (!this.file) return false;
    let stored: Stored;
    try {
      stored = JSON.parse(readFileSync(this.file, 'utf8'), fromJson) as Stored;
    } catch {
      return false;
    }
    // The file name is a hash: the key inside is what decides.
    if (stored?.format !== FORMAT || stored.key !== this.key || !Array.isArray(stored.entries)) return false;
    useTranslations(stored.entries);
    return true;
  }

  /** Writes every translation V8 accepted in this thread, when some were made since open(). */
  save(): void {
    if (!this.file || translationCount() === this.countAtRead) return;
    const entries = translationsMade().filter(([, t]) => t.compiled);
    const tmp = `${this.file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    try {
      writeFileSync(tmp, JSON.stringify({ format: FORMAT, key: this.key, entries } satisfies Stored, toJson), { mode: 0o600 });
      renameSync(tmp, this.file);
      this.countAtRead = translationCount();
      prune(join(this.file, '..'));
    } catch {
      try { unlinkSync(tmp); } catch { /* never written */ }
    }
  }
}

/** Keeps the MAX_FILES most recent files. */
function prune(dir: string): void {
  const names = readdirSync(dir);
  if (names.length <= MAX_FILES) return;
  const aged = names.map((n) => { try { return { n, t: statSync(join(dir, n)).mtimeMs }; } catch { return { n, t: 0 }; } });
  aged.sort((a, b) => b.t - a.t);
  for (const { n } of aged.slice(MAX_FILES)) { try { unlinkSync(join(dir, n)); } catch { /* gone already */ } }
}
