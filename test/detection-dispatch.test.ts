// The engine's shortcuts never change a result: failregexes left out by the dispatch (required
// strings, first character) and the checks search() makes before running an expression give
// the same failures and counts as running every expression on every line, over every filter of
// fail2ban's sample corpus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { filterFromDefinition, FilterError, type Filter } from '../src/detection/filter.js';
import { readFilterDefinition, type FilterDefinition } from '../src/detection/config.js';
import { LiteralDispatch, Regex, RegexError } from '../src/detection/regex.js';
import { translate } from '../src/detection/pyregex.js';

const SAMPLES = '/usr/lib/python3/dist-packages/fail2ban/tests/files/logs';
const FILTERS = '/etc/fail2ban/filter.d';
const opts = { now: () => 1124013600, timeZone: 'CET-01CEST-02,M3.5.0,M10.5.0' };

/** Every filter with a sample log: its definition (default options, and sshd's modes) and its lines. */
function corpus(): Array<{ name: string; def: FilterDefinition; lines: string[] }> {
  const out: Array<{ name: string; def: FilterDefinition; lines: string[] }> = [];
  for (const name of readdirSync(SAMPLES).sort()) {
    const path = join(FILTERS, name + '.conf');
    if (!existsSync(path)) continue;
    const lines = readFileSync(join(SAMPLES, name), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    const variants: Array<Record<string, string>> = name === 'sshd' ? [{}, { mode: 'aggressive' }, { mode: 'ddos' }, { publickey: 'invalid' }] : [{}];
    for (const options of variants) {
      try {
        out.push({ name: `${name}${JSON.stringify(options)}`, def: readFilterDefinition(path, options), lines });
      } catch { /* a filter this engine rejects is covered by the conformance test */ }
    }
  }
  return out;
}

function make(def: FilterDefinition, extra: object): Filter | null {
  try { return filterFromDefinition(def, { ...opts, ...extra }); } catch (e) {
    if (e instanceof FilterError) return null;
    throw e;
  }
}

test('the dispatch of failregexes gives the same failures and counts as running them all (sample corpus)', { skip: !existsSync(SAMPLES) && 'fail2ban is not installed' }, () => {
  let filters = 0, lines = 0, failures = 0;
  for (const { name, def, lines: sample } of corpus()) {
    for (const checkAll of [true, false]) {
      const fast = make(def, { checkAll });
      const ref = make(def, { checkAll, dispatch: false });
      if (!fast || !ref) continue;
      // Twice over, so that <F-MLFID> state and date template order carry from one pass to the next.
      const input = [...sample, ...sample];
      const got = fast.processLines(input, 1);
      assert.deepEqual(got, ref.processLines(input, 1), `${name} checkAll=${checkAll}: failures differ`);
      const { slowestLineMs: _a, ...st } = fast.stats();
      const { slowestLineMs: _b, ...stRef } = ref.stats();
      assert.deepEqual(st, stRef, `${name} checkAll=${checkAll}: counts differ`);
      // Count-only batches count the same failures, and so do lines given with their line ends.
      const counting = make(def, { checkAll })!;
      assert.equal(counting.processLines(input, 1, { countOnly: true }).length, 0);
      assert.equal(counting.stats().failures, got.length, `${name}: counted failures`);
      const ended = make(def, { checkAll })!;
      assert.equal(ended.processLines(input.map((l) => l + '\n'), 1, { countOnly: true, newline: true }).length, 0);
      const { slowestLineMs: _c, ...stEnded } = ended.stats();
      assert.deepEqual(stEnded, stRef, `${name} checkAll=${checkAll}: counts with kept line ends differ`);
      assert.deepEqual(make(def, { checkAll })!.processLines(input.map((l) => l + '\n'), 1, { newline: true }), got, `${name}: failures with kept line ends differ`);
      filters++; lines += input.length; failures += got.length;
    }
  }
  assert.ok(filters >= 150, `only ${filters} filter runs`);
  assert.ok(failures > 1000, `only ${failures} failures over ${lines} lines`);
});

test('search() never rejects a subject the expression matches (required strings, prefix, first character)', { skip: !existsSync(SAMPLES) && 'fail2ban is not installed' }, () => {
  let checked = 0, matched = 0;
  for (const { def, lines } of corpus()) {
    const multiline = (def.maxlines ?? 1) > 1;
    for (const source of [...def.failregex, ...def.ignoreregex, ...(def.prefregex ? [def.prefregex] : [])]) {
      let re: Regex;
      try { re = new Regex(source, { multiline }); } catch (e) {
        if (e instanceof RegexError) continue;
        throw e;
      }
      const t = translate(re.source, { multiline });
      const raw = new RegExp(t.unicode.source, t.unicode.flags);
      // Each line, and what follows each space in it (a prefregex's content starts anywhere).
      for (const line of lines) {
        for (let at = 0; at >= 0 && at < line.length; at = line.indexOf(' ', at + 1)) {
          const subject = line.slice(at === 0 ? 0 : at + 1) + '\n';
          const want = raw.exec(subject);
          const got = re.search(subject);
          assert.equal(got?.[0], want?.[0], `${source}\n  on ${JSON.stringify(subject)}`);
          checked++;
          if (want) matched++;
        }
      }
    }
  }
  assert.ok(checked > 100_000 && matched > 1000, `${checked} subjects, ${matched} matches`);
});

test('LiteralDispatch finds every expression whose strings occur, keys overlapping or nested', () => {
  const few = ['^Failed publickey for (?P<user>\\S+) from <HOST>', '^Failed \\S+ for .* from <HOST>', 'iled pub(?P<fid>\\w+)', 'foo(?P<fid>\\d+)bar', '(?P<fid>\\d+)'];
  // Past a handful of keys the dispatch scans with one expression instead of a search per key.
  const many = [...few, ...['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta'].map((w) => `${w} (?P<fid>\\d+)`)];
  for (const list of [few, many]) {
    const res = list.map((r) => new Regex(r));
    const d = new LiteralDispatch(res);
    const brute = (s: string) => res.flatMap((re, i) => (re.literals.every((l) => s.includes(l)) ? [i] : []));
    for (const s of ['Failed publickey for x from 1.2.3.4', 'Failed password for x from 1.2.3.4', 'xx iled pubkey', 'foo1bar and Failed ', 'nothing', '',
      'foofoo1barbar Failed publickey for', 'betabeta 1 zetaeta 2 Failed publickey for x from', 'epsilon 3 alpha 4 deltagamma 5']) {
      assert.deepEqual([...d.candidates(s)], brute(s), `${list.length} expressions: ${s}`);
    }
    // An expression without a required string is always a candidate.
    assert.ok(d.candidates('nothing').includes(4));
  }
});
