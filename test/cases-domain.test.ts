// The parts of case work that need no database: states, numbers, playbooks, templates, grouping plan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTransition, canTransition, InvalidTransition, STATES } from '../src/cases/states.js';
import { numberFormat, yearIn } from '../src/cases/numbering.js';
import { loadPlaybooks, PlaybookError, ACTIONS } from '../src/cases/playbooks.js';
import { loadTemplates } from '../src/notices/templates.js';
import { parseTemplate, TemplateError } from '../src/notices/template.js';
import { TAXONOMY } from '../src/events/event.js';
import { planGrouping } from '../src/cases/grouping.js';
import { caseContext, acknowledgementContext, evidenceItem, formatTime } from '../src/notices/context.js';
import type { CaseRow } from '../src/cases/cases.js';
import { testEnv, ATTR, input } from './helpers/cases.js';

test('states: allowed moves pass, others are refused with the allowed ones named', () => {
  checkTransition('new', 'notified');
  checkTransition('notified', 'customer_replied');
  checkTransition('resolved', 'new');
  assert.throws(() => checkTransition('closed', 'new'), (e: Error) => e instanceof InvalidTransition && /closed is final/.test(e.message));
  assert.throws(() => checkTransition('triage', 'notified'), /cannot go from triage to notified \(from triage it can go to: new, no_action, closed\)/);
  assert.throws(() => checkTransition('resolved', 'resolved'), /already resolved/);
  for (const s of STATES) assert.equal(canTransition(s, s), false, s);
});

test('case numbers: default format, custom formats, and the pattern finds them in subjects and addresses', () => {
  const f = numberFormat('{year}-{seq:6}');
  assert.equal(f.format(2026, 123), '2026-000123');
  assert.equal(f.format(2026, 1234567), '2026-1234567');
  assert.equal('Re: [2026-000123] notice'.match(f.pattern)?.[0], '2026-000123');
  assert.equal('abuse+2026-000042@desk.example'.match(f.pattern)?.[0], '2026-000042');
  assert.equal('order 12026-0001239'.match(f.pattern), null);
  const g = numberFormat('ABUSE#{year}.{seq:4}');
  assert.equal(g.format(2027, 5), 'ABUSE#2027.0005');
  assert.equal('subject ABUSE#2027.0005 x'.match(g.pattern)?.[0], 'ABUSE#2027.0005');
  assert.throws(() => numberFormat('{seq:6}'), /needs \{year\} and \{seq\}/);
  assert.throws(() => numberFormat('{year} {seq}'), /only letters, digits/);
});

test('the year of a case number follows the desk time zone', () => {
  const newYearInTokyo = new Date('2026-12-31T16:30:00Z');
  assert.equal(yearIn(newYearInTokyo, 'Asia/Tokyo'), 2027);
  assert.equal(yearIn(newYearInTokyo, 'UTC'), 2026);
});

test('shipped playbooks: every classification type has one, the required kinds exist, each with shared and network variants', () => {
  const pbs = loadPlaybooks();
  for (const id of ['spam', 'phishing', 'malware-distribution', 'compromised-website', 'brute-force', 'ddos', 'c2', 'open-service', 'copyright', 'fraudulent-signup']) {
    assert.ok(pbs.get(id), `playbook ${id}`);
  }
  for (const t of Object.keys(TAXONOMY)) assert.ok(pbs.all.some((p) => p.types.includes(t)), `type ${t} is named by a playbook`);
  assert.equal(pbs.forType('no-such-type').id, 'other');
  // Shadowserver's scan_exchange types an unpatched server vulnerable/infected-system; a web shell
  // on it is intrusions/system-compromise; a bot is malicious-code/infected-system.
  assert.equal(pbs.forEvent({ 'classification.taxonomy': 'vulnerable', 'classification.type': 'infected-system' }).id, 'open-service');
  assert.equal(pbs.forEvent({ 'classification.taxonomy': 'intrusions', 'classification.type': 'system-compromise' }).id, 'compromised-website');
  assert.equal(pbs.forEvent({ 'classification.taxonomy': 'malicious-code', 'classification.type': 'infected-system' }).id, 'compromised-website');
  assert.equal(pbs.forEvent({ 'classification.type': 'phishing' }).id, 'phishing');
  const phishing = pbs.get('phishing')!;
  const shared = pbs.variant(phishing, 'shared');
  const vps = pbs.variant(phishing, 'vps');
  assert.ok(shared.actions.block_url, 'shared hosting can disable a URL');
  assert.equal(vps.actions.block_url, undefined, 'on a VPS the provider cannot disable a URL');
  assert.equal(vps.actions.null_route?.approval, true, 'a null-route needs a second person');
  assert.ok(vps.actions.remove_null_route, 'undo is possible wherever the restriction is');
  for (const p of pbs.all) for (const v of p.variants) for (const a of Object.keys(v.actions)) assert.ok((ACTIONS as readonly string[]).includes(a));
});

test('a broken playbook file is refused with its name and the reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-'));
  try {
    writeFileSync(join(dir, 'other.yaml'), 'id: other\ntitle: {en: O, ja: O}\ncategory: other_illegal\nvariants:\n  - {service_types: ["*"], template: other, deadline: 3 days}\n');
    assert.throws(() => loadPlaybooks(dir), (e: Error) => e instanceof PlaybookError && /other\.yaml: variants\[0\]: deadline must be a duration/.test(e.message));
    writeFileSync(join(dir, 'other.yaml'), 'id: other\ntitle: {en: O, ja: O}\ncategory: other_illegal\nvariants:\n  - {service_types: ["*"], template: other, deadline: 3d, escalation: [{after: 1d, action: suspend}]}\n');
    assert.throws(() => loadPlaybooks(dir), /proposes suspend, which this variant's actions do not list/);
    writeFileSync(join(dir, 'other.yaml'), ': : :');
    assert.throws(() => loadPlaybooks(dir), PlaybookError);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('template syntax errors name the file and line', () => {
  assert.throws(() => parseTemplate('a\n{{#if x}}b', 'f.txt'), /f\.txt:2: missing \{\{\/if\}\}/);
  assert.throws(() => parseTemplate('{{/each}}', 'f.txt'), /unexpected/);
  assert.throws(() => parseTemplate('{{ a b }}', 'f.txt'), /not a value name/);
});

const row = (over: Partial<CaseRow> = {}): CaseRow => ({
  id: '1', number: '2026-000123', year: 2026, seq: '123', state: 'new', origin: 'events', channel: null, category: 'security_incident',
  abuse_type: 'brute-force', playbook: 'brute-force', misuse_kind: null, legal_only: false, legal_kind: null, customer_id: 'c-ja',
  service_id: 'web-1', service_type: 'shared', brand_id: 'sakura', resource: '192.0.2.10', group_key: null, title: 'Brute force: 192.0.2.10',
  assignee: null, event_count: 3, first_event_at: new Date('2026-11-20T01:00:00Z'), last_event_at: new Date('2026-11-20T02:00:00Z'),
  opened_at: new Date('2026-11-20T03:00:00Z'), first_notice_at: null, customer_answer_at: null, resolved_at: null, closed_at: null,
  reopened_count: 0, due_at: null, next_step: 0, next_step_at: null, version: 1, updated_at: new Date(), ...over,
});

test('every shipped template renders in Japanese and English, with brand, case number, evidence, deadline and how to answer', () => {
  const env = testEnv(null as never);
  const templates = loadTemplates();
  const names = templates.names();
  assert.ok(names.length >= 17, names.join(','));
  const parties = { customer: { name: '山田商店', language: 'ja' as const, emails: ['y@shop.example'] }, brand: { name: 'さくらホスティング', from_address: null } };
  const evidence = { rows: [{ at: new Date('2026-11-20T01:00:00Z'), event: { 'source.ip': '192.0.2.10', 'classification.type': 'brute-force', 'destination.port': 22, raw: 'sshd: Failed password' }, consent: true, reporter: 'cert@example.org' }], total: 3 };
  for (const name of names) {
    for (const lang of ['ja', 'en'] as const) {
      const ctx = name === 'acknowledgement'
        ? acknowledgementContext('さくらホスティング', [{ number: '2026-000123', title: 't' }])
        : caseContext(env, row(), parties, evidence, lang, { deadline: new Date('2026-11-23T03:00:00Z'), action: 'suspend', closingText: 'Thanks' });
      const m = templates.render(name, lang, ctx);
      assert.ok(m.subject.includes('2026-000123'), `${name}.${lang} subject has the case number: ${m.subject}`);
      assert.ok(m.subject.includes('さくらホスティング'), `${name}.${lang} subject has the brand`);
      assert.ok(!/\{\{|\}\}/.test(m.subject + m.body), `${name}.${lang} left a placeholder`);
      if (name !== 'acknowledgement' && name !== 'closing') {
        assert.ok(m.body.includes('192.0.2.10'), `${name}.${lang} says what was reported`);
        assert.ok(m.body.includes('abuse+2026-000123@desk.invalid'), `${name}.${lang} says how to answer`);
        if (name !== 'restricted') assert.ok(m.body.includes(lang === 'ja' ? '2026年11月23日 12:00' : '2026-11-23 12:00'), `${name}.${lang} has the deadline in the desk's time`);
        assert.ok(m.body.includes('sshd: Failed password'), `${name}.${lang} forwards consented evidence`);
      }
      if (lang === 'ja') assert.match(m.body, /[\u3040-\u30ff]/, `${name}.ja is Japanese`);
      else assert.doesNotMatch(m.body.replace(/山田商店|さくらホスティング/g, ''), /[\u3040-\u30ff]/, `${name}.en is English`);
    }
  }
});

test('without consent an evidence item has no log, no reporter side and no free text', () => {
  const event = {
    'source.ip': '192.0.2.10', 'destination.ip': '198.51.100.7', 'destination.port': 22, 'classification.type': 'brute-force',
    'event_description.text': 'victim host of Taro Suzuki', raw: 'Nov 20 sshd[1]: Failed password for taro from 192.0.2.10', 'feed.provider': 'Suzuki CERT',
  };
  const withheld = evidenceItem({ at: new Date(), event, consent: false, reporter: 'taro@victim.example' }, 'en', 'UTC');
  const text = JSON.stringify(withheld);
  for (const secret of ['198.51.100.7', 'Taro', 'taro', 'Failed password', 'Suzuki']) assert.ok(!text.includes(secret), secret);
  assert.equal(withheld.resource, '192.0.2.10');
  assert.equal(withheld.port, '22');
  const forwarded = evidenceItem({ at: new Date(), event, consent: true, reporter: 'taro@victim.example' }, 'en', 'UTC');
  assert.match(forwarded.log, /Failed password/);
  assert.match(forwarded.detail, /198\.51\.100\.7/);
});

test('dates in notices carry the offset of the desk time zone', () => {
  const d = new Date('2026-01-01T00:00:00Z');
  assert.equal(formatTime(d, 'en', 'Asia/Tokyo'), '2026-01-01 09:00 (UTC+09:00)');
  assert.equal(formatTime(d, 'ja', 'America/New_York'), '2025年12月31日 19:00 (UTC-05:00)');
});

test('grouping plan: same customer, service and kind inside the window join; others open cases; unattributed go to triage', () => {
  const pbs = loadPlaybooks();
  const H = 3_600_000;
  const inputs = [
    input('brute-force', ATTR.web1, '2026-11-20T00:00:00Z'),
    input('scanner', ATTR.web1, '2026-11-20T05:00:00Z'), // same playbook (brute force / scanning)
    input('brute-force', ATTR.vps1, '2026-11-20T01:00:00Z'),
    input('phishing', ATTR.web1, '2026-11-20T02:00:00Z'),
    input('brute-force', ATTR.web1, '2026-11-25T00:00:00Z'), // beyond the 72 h window: a new case
    input('spam', null, '2026-11-20T00:00:00Z', {}, { 'source.ip': '203.0.113.9' }),
    input('spam', null, '2026-11-20T01:00:00Z', {}, { 'source.ip': '203.0.113.9' }),
  ];
  const plan = planGrouping(inputs, new Map(), pbs, 72 * H);
  assert.equal(plan.updates.length, 0);
  const sig = plan.creates.map((c) => `${c.key}:${c.state}:${c.members.join(',')}`).sort();
  assert.deepEqual(sig, [
    'c|c-en|vps-1|brute-force:new:2',
    'c|c-ja|web-1|brute-force:new:0,1',
    'c|c-ja|web-1|brute-force:new:4',
    'c|c-ja|web-1|phishing:new:3',
    't|203.0.113.9|spam:triage:5,6',
  ]);
  // An open case in the window takes the event; a resolved one is reopened by later activity only.
  const open = new Map([
    ['c|c-ja|web-1|brute-force', { id: 7, number: '2026-000007', key: 'c|c-ja|web-1|brute-force', state: 'resolved' as const, lastEventAt: Date.parse('2026-11-19T12:00:00Z'), resolvedAt: Date.parse('2026-11-19T23:00:00Z'), autoNotice: true }],
  ]);
  const late = planGrouping([input('brute-force', ATTR.web1, '2026-11-19T13:00:00Z')], open, pbs, 72 * H);
  assert.deepEqual(late.updates.map((u) => [u.id, u.reopen]), [[7, false]]);
  const again = planGrouping([input('brute-force', ATTR.web1, '2026-11-20T00:00:00Z')], open, pbs, 72 * H);
  assert.deepEqual(again.updates.map((u) => [u.id, u.reopen]), [[7, true]]);
});
