// The Python-to-JavaScript regex translation, against results taken from Python's `re`
// (python3 -c "re.search(p, s, flags)"), plus the errors for what cannot be translated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Regex, RegexError, resolveHostTag } from '../src/detection/regex.js';
import { translate, PyRegexError } from '../src/detection/pyregex.js';
import { loadFilter, FilterError } from '../src/detection/filter.js';

/** [pattern, subject, MULTILINE, Python's result: [group(0), groups()] or null] */
const PYTHON: Array<[string, string, boolean, [string, Array<string | null>] | null]> = [
  ['^abc$', 'abc\n', false, ['abc', []]], // $ before a trailing newline
  ['^abc$', 'abc\n\n', false, null],
  ['foo$', 'foo\nbar', true, ['foo', []]],
  ['(?P<a>x)(?P=a)', 'xx', false, ['xx', ['x']]],
  ['(?P<q>")?v(?(q)")', '"v"', false, ['"v"', ['"']]], // conditional, group took part
  ['(?P<q>")?v(?(q)")', 'v"', false, ['v', [null]]], // ... did not
  ['(?P<q>")?v(?(q)"|;)', 'v;', false, ['v;', [null]]],
  ['(?i:ab)c', 'ABc', false, ['ABc', []]], // scoped flag
  ['(?i:ab)c', 'ABC', false, null],
  ['(?i)ab(?-i:c)', 'ABc', false, ['ABc', []]], // global flag switched off in a scope
  ['(?i)ab(?-i:c)', 'ABC', false, null],
  ['a.c', 'a\rc', false, ['a\rc', []]], // Python's . stops only at \n
  ['a\\sb', 'a\x1cb', false, ['a\x1cb', []]], // Python's \s includes \x1c-\x1f
  ['\\w+', 'héllo wörld', false, ['héllo', []]], // Unicode \w
  ['\\d+', 'x٣٤y', false, ['٣٤', []]], // Unicode \d
  ['\\bwörld', 'héllo wörld', false, ['wörld', []]],
  ['x{,2}y', 'xxxy', false, ['xxy', []]],
  ['\\Aab\\Z', 'ab', false, ['ab', []]],
  ['\\Aab\\Z', 'ab\n', false, null],
  ['(?:(a)|b)+', 'ab', false, ['ab', ['a']]], // Python keeps a capture of an earlier iteration
  ['(?: u=(?P<u>\\w+)| \\w+=\\w+)*$', ' u=bob k=v', false, [' u=bob k=v', ['bob']]],
  ['[^\\s]+', '  ab c', false, ['ab', []]],
  ['[\\W\\d]+', 'ab12-;c', false, ['12-;', []]],
  ['(?>a+)b', 'aaab', false, ['aaab', []]],
  ['a*+b', 'aaab', false, ['aaab', []]],
];

test('translated patterns match as Python matches', () => {
  for (const [pattern, subject, multiline, expected] of PYTHON) {
    const re = new Regex(pattern, { plain: true, multiline });
    const m = re.search(subject);
    const got = m ? [m[0], re.pyGroups(m).map((g) => g ?? null)] : null;
    assert.deepEqual(got, expected, `${pattern} on ${JSON.stringify(subject)}`);
  }
});

test('conditionals are rewritten into alternation where the group is optional', () => {
  const t = translate('(?P<q>")?v(?(q)")');
  assert.doesNotMatch(t.ascii.source, /\(\?\(/);
  assert.deepEqual(t.groups.get('q')?.length, 1);
  // sshd's shape: a group defined in one branch, tested after it.
  const sshd = translate('for (?P<inv>invalid user )?(?P<user>(?P<cu>\\S+)|(?(inv)(?:(?! from ).)*?|[^:]+)) from (?P<h>\\S+)(?(cu): |(?:(?:(?! from ).)*)$)');
  const re = new RegExp(sshd.ascii.source);
  assert.ok(re.test('for invalid user bob from 1.2.3.4: '));
  assert.ok(sshd.needsBacktracking);
});

test('fail2ban tags become Python groups', () => {
  assert.equal(resolveHostTag('<F-USER>\\S+</F-USER>'), '(?P<user>\\S+)');
  assert.equal(resolveHostTag('<F-ID>x</F-ID>'), '(?P<fid>x)');
  assert.equal(resolveHostTag('</F-USER>'), '</F-USER>'); // closing an unopened tag stays text
  const re = new Regex('from <HOST> port <F-PORT/>');
  const m = re.search('from [2001:db8::1] port 22\n')!;
  assert.equal(re.groups(m).ip6, '2001:db8::1');
  assert.equal(re.groups(m).fport, '22');
  const sub = new Regex('net <SUBNET>$');
  assert.deepEqual([sub.groups(sub.search('net 192.0.2.0/24')!).ip4, sub.groups(sub.search('net 192.0.2.0/24')!).cidr], ['192.0.2.0', '24']);
});

test('a required literal lets lines without it skip the expression', () => {
  assert.deepEqual(translate('^Failed (?:password|publickey) for user (?P<u>\\S+) from x').literals, [' for user ', 'Failed ', ' from x']);
  assert.equal(translate('^Failed password').anchoredPrefix, 'Failed password');
  assert.deepEqual(translate('(?i)^Failed').literals, []);
  assert.deepEqual(translate('xa|yb').literals, []);
  assert.deepEqual(translate('(?:Connection closed|Disconnected) by').literals, ['onnect', ' by']);
});

test('patterns Python rejects, or JavaScript cannot express, are errors naming the pattern', () => {
  assert.throws(() => translate('(?P<a>x)(?P=b)'), PyRegexError);
  assert.throws(() => translate('a{2,1}'), /min repeat greater than max repeat/);
  assert.throws(() => translate('\\N{DIGIT ONE}'), /named Unicode escapes/);
  assert.throws(() => translate('(abc'), /missing \)/);
  assert.throws(() => new Regex('<F-USER>\\q</F-USER>'), (e: unknown) => e instanceof RegexError && /\\q/.test(e.message));
  const dir = mkdtempSync(join(tmpdir(), 'madoguchi-filter-'));
  try {
    const file = join(dir, 'broken.conf');
    writeFileSync(file, '[Definition]\nfailregex = ^ok from <HOST>$\n            ^bad (?P<x>a)(?P=nope) <HOST>\n');
    assert.throws(() => loadFilter(file), (e: unknown) => e instanceof FilterError && e.filter === 'broken' && e.pattern === '^bad (?P<x>a)(?P=nope) <HOST>' && /nope/.test(e.message));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('groups that end the match, and patterns translated with only some groups kept', () => {
  assert.deepEqual(translate(String.raw`^(?P<pre>\S+ )(?:x )?(?P<content>.+)$`).endingGroups, ['content']);
  assert.deepEqual(translate(String.raw`^(?P<content>.+)(?=\n)\b`).endingGroups, ['content']);
  assert.deepEqual(translate(String.raw`^(?P<content>.+) x$`).endingGroups, []);
  assert.deepEqual(translate(String.raw`(?P<content>a)|b`).endingGroups, []);
  assert.deepEqual(translate(String.raw`(?P<content>a)+`).endingGroups, []);
  // keep: the other groups do not capture, but for one a backreference reads.
  const lean = translate(String.raw`(?P<sep>[-/])(\d+)(?P=sep)(\d+)`, { keep: [3] });
  const m = new RegExp(lean.ascii.source).exec('x-12-34')!;
  assert.equal(m.length, 3);
  assert.equal(m[lean.numbered[3][0]], '34');
  assert.deepEqual(lean.numbered[2], []);
});
