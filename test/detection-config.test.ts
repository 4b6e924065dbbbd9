// Reading filter files as fail2ban's FilterReader does: configparser syntax, includes,
// interpolation, [Init] and options, recursive <tag> substitution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFilterSpec, parseIni, readFilterDefinition, substituteTags } from '../src/detection/config.js';

function withFilters(files: Record<string, string>, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'madoguchi-f2b-'));
  try {
    mkdirSync(join(dir, 'filter.d'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'filter.d', name), text);
    fn(dir);
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('configparser syntax: continuation lines, comments, case of option names', () => {
  const ini = parseIni(`[Definition]
# a comment
FailRegex = ^one <HOST>$
            ^two <HOST>$   ; inline comment
; another comment

            ^three <HOST>$
Other: value;not a comment
`);
  const def = ini.sections.get('Definition')!;
  assert.equal(def.get('failregex'), '^one <HOST>$\n^two <HOST>$\n\n^three <HOST>$');
  assert.equal(def.get('other'), 'value;not a comment');
});

test('includes, DEFAULT, %(x)s and %(section/x)s interpolation, known/ values, .local overrides', () => {
  withFilters({
    'common.conf': '[DEFAULT]\n_daemon = \\S*\n__prefix = %(_daemon)s\\[\\d+\\]:\n[lt_file]\nmark = FILE\n',
    'demo.conf': '[INCLUDES]\nbefore = common.conf\n[Definition]\n_daemon = demo\nfailregex = ^%(__prefix)s bad <HOST> %(lt_file/mark)s$\nignoreregex =\n',
    'demo.local': '[Definition]\nfailregex = %(known/failregex)s\n            ^%(__prefix)s worse <HOST>$\n',
  }, (dir) => {
    const def = readFilterDefinition('demo', {}, dir);
    assert.deepEqual(def.failregex, ['^demo\\[\\d+\\]: bad <HOST> FILE$', '^demo\\[\\d+\\]: worse <HOST>$']);
    assert.deepEqual(def.ignoreregex, []);
    assert.equal(def.logtype, 'file');
    assert.equal(def.files.length, 3);
  });
});

test('[Init] values, filter options and recursive <tag> substitution', () => {
  withFilters({
    'modes.conf': `[Definition]
_word = <F-USER>\\w+</F-USER>
mdre-normal = ^login failed for <_word> from <HOST>$
mdre-aggressive = <mdre-normal>
                  ^probe from <HOST>$
failregex = <mdre-<mode>>
prefregex = ^<lt_<logtype>/pfx> <F-CONTENT>.+</F-CONTENT>$
[lt_file]
pfx = \\S+
[lt_journal]
pfx = J
[Init]
mode = normal
maxlines = 1
`,
  }, (dir) => {
    const normal = readFilterDefinition(join(dir, 'filter.d', 'modes.conf'));
    assert.deepEqual(normal.failregex, ['^login failed for <F-USER>\\w+</F-USER> from <HOST>$']);
    assert.equal(normal.prefregex, '^\\S+ <F-CONTENT>.+</F-CONTENT>$');
    assert.equal(normal.options.mode, 'normal');
    const aggressive = readFilterDefinition(join(dir, 'filter.d', 'modes.conf'), { mode: 'aggressive', logtype: 'journal' });
    assert.equal(aggressive.failregex.length, 2);
    assert.equal(aggressive.prefregex, '^J <F-CONTENT>.+</F-CONTENT>$');
    assert.equal(aggressive.logtype, 'journal');
  });
});

test('filter specs with options, as fail2ban-regex takes them', () => {
  assert.deepEqual(parseFilterSpec('/etc/fail2ban/filter.d/sshd.conf[mode=aggressive, logtype="journal"]'),
    { path: '/etc/fail2ban/filter.d/sshd.conf', options: { mode: 'aggressive', logtype: 'journal' } });
  assert.deepEqual(parseFilterSpec('sshd'), { path: 'sshd', options: {} });
  assert.deepEqual(parseFilterSpec("x.conf[a='1,2', b=3]").options, { a: '1,2', b: '3' });
  assert.throws(() => parseFilterSpec('x.conf[a=1, !!]'), /wrong syntax/);
});

test('tag substitution refuses self references', () => {
  assert.deepEqual(substituteTags({ a: '3', b: '<a>_<c>', c: 'x' }), { a: '3', b: '3_x', c: 'x' });
  assert.throws(() => substituteTags({ a: '<b>', b: '<a>' }), /self referencing/);
  assert.deepEqual(substituteTags({ a: '<HOST> <b>' }, (t) => (t === 'b' ? 'B' : undefined)), { a: '<HOST> B' });
});

test('broken filter files are clear errors', () => {
  withFilters({ 'bad.conf': '[Definition]\nfailregex = %(missing)s <HOST>\n', 'worse.conf': 'failregex = x\n' }, (dir) => {
    assert.throws(() => readFilterDefinition('bad', {}, dir), /bad option reference %\(missing\)s/);
    assert.throws(() => readFilterDefinition('worse', {}, dir), /outside any section/);
    assert.throws(() => readFilterDefinition('absent', {}, dir), /filter not found/);
  });
});
