// Date detection against fail2ban's own DateDetector: the expected values were produced by
// fail2ban 1.0.2 (server/datedetector.py) with TZ=CET-01CEST-02,M3.5.0,M10.5.0 and "now" fixed at
// 1124013600 (2005-08-14 12:00 CEST), as fail2ban's tests run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dateDetector } from '../src/detection/dates.js';
import { localTime, parsePosixTz } from '../src/detection/localtime.js';
import { groupsToEpoch, yearCentRE, zoneOffset } from '../src/detection/strptime.js';

const TZ = 'CET-01CEST-02,M3.5.0,M10.5.0';
const clock = { now: () => 1124013600, local: localTime(TZ) };
const years = yearCentRE(new Date().getUTCFullYear(), 2005);

const LINES = [
  'Aug 14 11:59:59 host sshd[1]: x',
  'Aug 15 12:00:00 host sshd[1]: x',
  'Dec 31 23:59:59 host x',
  '2005-08-14T12:00:00.123+02:00 host x',
  '2005-08-14 10:00:00 UTC host x',
  '[14/Aug/2005:11:59:59 -0700] GET',
  '1124013600.5 line',
  '@4000000042ff9a1c00000000 tai',
  'type=USER_AUTH msg=audit(1124013500.123:42): x',
  '12:00:00 time only',
  'no date here',
];

const FAIL2BAN: Record<string, Array<[number, string] | null>> = {
  default: [[1124013599, 'Aug 14 11:59:59'], [1124100000, 'Aug 15 12:00:00'], [1104533999, 'Dec 31 23:59:59'],
    [1124013600, '2005-08-14T12:00:00.123+02:00'], [1124013600, '2005-08-14 10:00:00 UTC'], [1124045999, '14/Aug/2005:11:59:59 -0700'],
    [1124013600, '1124013600'], [1124047388, '@4000000042ff9a1c00000000'], [1124013500.123, '1124013500.123'], [1124013600, '12:00:00'], null],
  '{^LN-BEG}': [[1124013599, 'Aug 14 11:59:59'], [1124100000, 'Aug 15 12:00:00'], [1104533999, 'Dec 31 23:59:59'],
    [1124013600, '2005-08-14T12:00:00.123+02:00'], [1124013600, '2005-08-14 10:00:00 UTC'], [1124045999, '14/Aug/2005:11:59:59 -0700'],
    [1124013600, '1124013600'], [1124047388, '@4000000042ff9a1c00000000'], null, [1124013600, '12:00:00'], null],
  'EPOCH': [null, null, null, null, null, null, [1124013600, '1124013600'], null, [1124013500.123, '1124013500.123'], null, null],
  '{^LN-BEG}TAI64N': [null, null, null, null, null, null, null, [1124047388, '@4000000042ff9a1c00000000'], null, null, null],
};

test('dates are found and read as fail2ban reads them', () => {
  for (const [pattern, expected] of Object.entries(FAIL2BAN)) {
    const dd = dateDetector(pattern === 'default' ? undefined : pattern, years);
    const got = LINES.map((line) => {
      const m = dd.matchTime(line);
      if (!m) return null;
      const epoch = dd.getTime(m, clock);
      return epoch === null ? null : [epoch, m.re.groupByIndex(m.match, 1)!] as [number, string];
    });
    assert.deepEqual(got, expected, pattern);
    // Again: now the last template runs as its probe() on most lines, with the same results.
    assert.deepEqual(LINES.map((line) => {
      const m = dd.matchTime(line);
      const epoch = m && dd.getTime(m, clock);
      return m && epoch !== null ? [epoch, m.re.groupByIndex(m.match, 1)!] : null;
    }), expected, `${pattern} (second pass)`);
  }
});

test("a template's probe() finds what its re() finds", () => {
  const dd = dateDetector('{DEFAULT}', years);
  for (const t of dd.templates) {
    for (const line of LINES) {
      const full = t.re().search(line), probe = t.probe().search(line);
      assert.equal(probe?.index, full?.index, `${t.name}: ${line}`);
      if (!full || !probe) continue;
      assert.equal(probe[0], full[0], `${t.name}: ${line}`);
      assert.equal(t.probe().groupByIndex(probe, 1), t.re().groupByIndex(full, 1), `${t.name}: ${line}`);
      assert.equal(t.probe().group1Start(probe), t.re().group1Start(full), `${t.name}: ${line}`);
    }
  }
});

test('a year-less date after tomorrow belongs to last year', () => {
  // "Aug 16 00:00:00" is more than a day after now: fail2ban takes it as 2004.
  const epoch = groupsToEpoch({ b: 'Aug', d: '16', H: '00', M: '00', S: '00' }, clock, null);
  assert.equal(new Date(epoch * 1000).toISOString(), '2004-08-15T22:00:00.000Z');
  // Time only: today, or yesterday when that would be in the future.
  assert.equal(groupsToEpoch({ H: '13', M: '00', S: '00' }, clock, null), 1124013600 + 3600 - 86400);
});

test('time zones: POSIX rules, fixed offsets and abbreviations', () => {
  const z = parsePosixTz(TZ)!;
  assert.deepEqual([z.std, z.dst], [3600, 7200]);
  const lt = localTime(TZ);
  assert.equal(lt.offset(Date.UTC(2005, 0, 1) / 1000), 3600);
  assert.equal(lt.offset(Date.UTC(2005, 7, 14) / 1000), 7200);
  assert.equal(lt.format(1124013600), '2005-08-14T12:00:00');
  assert.equal(lt.mktime(2005, 3, 27, 1, 59, 59), Date.UTC(2005, 2, 27, 0, 59, 59) / 1000); // last second of winter time
  assert.equal(zoneOffset('CEST'), 120);
  assert.equal(zoneOffset('UTC+0530'), 330);
  assert.equal(zoneOffset('-04:00'), -240);
  assert.throws(() => zoneOffset('Mars/Olympus'), /Unknown or unsupported time zone/);
  // %ExY accepts years around now and back to the alternate year, as fail2ban builds it.
  assert.equal(yearCentRE(2026, 2005), '20[012]');
});

test('datepattern variants: custom formats, {NONE}, anchored {DATE}', () => {
  const custom = dateDetector('^%d/%m/%Y %H:%M:%S', years);
  const m = custom.matchTime('14/08/2005 12:00:00 login failed')!;
  assert.equal(custom.getTime(m, clock), 1124013600);
  assert.equal(custom.matchTime('x 14/08/2005 12:00:00'), null);
  const none = dateDetector('{NONE}', years);
  assert.equal(none.matchTime('14/08/2005 12:00:00 x')!.template.re().groupByIndex(none.matchTime('x')!.match, 1), '');
  const wrapped = dateDetector('^[^\\[]*\\[({DATE})', years);
  const w = wrapped.matchTime('host [14/Aug/2005:12:00:00 +0200] GET')!;
  assert.equal(wrapped.getTime(w, clock), 1124013600);
  assert.throws(() => dateDetector('%Q', years), /directive|percent/);
});
