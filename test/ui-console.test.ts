// The operators' console in a real browser against a real desk: inventory imported and a hostile
// report submitted through the API, then signed in, read, navigated and changed through the pages.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { forEachStore } from './helpers/stores.js';
import { makeDesk, type TestDesk } from './helpers/desk.js';
import { launchBrowser, type TestBrowser, type WatchedPage } from './helpers/browser.js';
import { demoDir } from '../src/demo.js';
import { watchDeps } from '../src/blocklists/service.js';
import { syncLists } from '../src/blocklists/watch.js';

/** Where the screenshots go (kept after the run, for a person to look at). */
const shots = process.env.UI_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'madoguchi-ui-shots-'));

const HOSTILE_SUBJECT = '<img src=x onerror="window.__pwned=2"> phishing at 198.51.100.20';
const HOSTILE_SCRIPT = '<script>window.__pwned=1</script>';
const HOSTILE_IMG = '<img src=x onerror="window.__pwned=3">';
const hostileReport = [
  'From: "<script>window.__pwned=4</script>" <evil@attacker.example>',
  'To: abuse@desk.example',
  `Subject: ${HOSTILE_SUBJECT}`,
  'Message-ID: <hostile-1@attacker.example>',
  'Date: Fri, 20 Nov 2026 10:00:00 +0000',
  'MIME-Version: 1.0',
  'Content-Type: text/html; charset=utf-8',
  '',
  `<html><body>${HOSTILE_SCRIPT}<p>Phishing page at http://198.51.100.20/login.php seen 2026-11-20 10:00 UTC</p>`,
  `${HOSTILE_IMG}<a href="javascript:window.__pwned=5">details</a></body></html>`,
  '',
].join('\r\n');

/** A MIME bomb: parts nested deeper than intake.max_mime_depth, so the report is quarantined. */
function nestedMime(depth: number): string {
  let part = 'Content-Type: text/plain\r\n\r\nspam from 198.51.100.20\r\n';
  for (let i = depth; i > 0; i--) part = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${part}--b${i}--\r\n`;
  return `From: nested@sender.example\r\nTo: abuse@desk.example\r\nSubject: nested parts\r\nMIME-Version: 1.0\r\n${part}`;
}

/** A label key shown instead of its text: t() shows unknown keys as themselves. */
const RAW_LABEL = /\b(?:nav|col|common|dash|report|reports|cases|case|triage|overdue|notices|bl|attr|stats|state|status|cat|legal|signin|actions|action|actionName|misuse|message|channel|newcase)\.[a-z][\w.]*/;

let browser: TestBrowser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

forEachStore('web console', (store) => {
  let t: TestDesk;
  let url: string;
  let operatorKey: string;
  let legalKey: string;
  let reportId: number;
  let quarantinedId: number;
  const cases: Record<'attributed' | 'triage' | 'legal', string> = { attributed: '', triage: '', legal: '' };

  const keyOf = async (roles: Parameters<TestDesk['keyFor']>[0]) => (await t.keyFor(roles)).authorization.replace(/^Bearer /, '');
  const api = async (method: string, path: string, key: string, body?: string, type = 'application/json') => {
    const r = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': type } : {}) }, body });
    const doc = await r.json() as Record<string, unknown>;
    assert.ok(r.ok, `${method} ${path}: ${r.status} ${JSON.stringify(doc)}`);
    return doc;
  };

  before(async () => {
    const listDir = mkdtempSync(join(tmpdir(), 'madoguchi-ui-lists-'));
    const list = join(listDir, 'test_drop.netset');
    writeFileSync(list, '#\n# test_drop\n# Maintainer      : Madoguchi tests\n# Category        : attacks\n#\n198.51.100.20\n203.0.113.0/28\n192.0.2.200\n');
    t = await makeDesk(store(), (c) => { c.blocklists.sources = [{ name: 'test_drop', path: list }]; });
    url = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const admin = await keyOf(['admin']);
    operatorKey = await keyOf(['operator']);
    legalKey = await keyOf(['operator', 'legal']);
    await api('POST', '/api/v1/inventory/import', admin, readFileSync(join(demoDir, 'inventory.csv'), 'utf8'), 'text/csv');
    const report = await api('POST', '/api/v1/reports?wait=30', await keyOf(['reporter']), hostileReport, 'message/rfc822');
    reportId = report.id as number;
    const bomb = await api('POST', '/api/v1/reports?wait=30', await keyOf(['reporter']), nestedMime(40), 'message/rfc822');
    assert.equal(bomb.status, 'quarantined');
    quarantinedId = bomb.id as number;
    const opened = async (key: string, body: Record<string, unknown>) => (await api('POST', '/api/v1/cases', key, JSON.stringify(body))).number as string;
    cases.attributed = await opened(operatorKey, {
      title: 'Phone: <b>spam</b> from <script>window.__pwned=6</script>', description: 'Caller reports spam from 198.51.100.20',
      channel: 'phone', customer_id: 'c1001', service_id: 'sh-1001', resource: '198.51.100.20',
    });
    cases.triage = await opened(operatorKey, { title: 'Letter about an unknown host', description: 'No address given', channel: 'letter' });
    cases.legal = await opened(legalKey, { title: 'Police inquiry about 203.0.113.7', description: 'Written inquiry', channel: 'police', legal_kind: 'police_inquiry' });
    // The desk's own blocklist sync, as its scheduler runs it.
    await syncLists(watchDeps(t.desk), { force: true });
  });
  after(async () => { await t.close(); });

  async function signIn(key: string): Promise<WatchedPage> {
    const w = await browser.page();
    await w.page.goto(`${url}/`);
    await w.page.fill('#api-key', key);
    await w.page.click('#signin-form button[type=submit]');
    await w.page.waitForSelector('.sidebar');
    return w;
  }

  /**
   * Does something that draws a new page (a route, a language switch) and waits until the new page
   * is drawn: the old one is marked first, so that its content cannot pass for the new one's.
   */
  async function redraw(page: Page, action: () => Promise<unknown>, ready: string): Promise<void> {
    await page.evaluate(() => document.querySelector('.page')?.setAttribute('data-stale', ''));
    await action();
    await page.waitForSelector(`.page[data-ready]:not([data-stale]) ${ready}`);
  }

  const open = (page: Page, route: string, ready: string) => redraw(page, () => page.evaluate((r) => { location.hash = r; }, route), ready);

  async function assertClean(w: WatchedPage): Promise<void> {
    assert.deepEqual(w.errors, []);
    assert.deepEqual(await w.violations(), [], 'no Content-Security-Policy violations');
    assert.equal(await w.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined, 'no report script ran');
    // Labels only: data (an audit action like case.opened) may look like a key.
    const labels = await w.page.$$eval('th, dt, h1, h2, .sidebar a, button, label > span, .card-label, .tabs a, .hint', (els) => els.map((e) => e.textContent).join('\n'));
    assert.doesNotMatch(labels, RAW_LABEL, 'every label has a text');
  }

  test('a wrong key is refused at sign-in and nothing is kept', async () => {
    const w = await browser.page();
    await w.page.goto(`${url}/`);
    await w.page.fill('#api-key', 'mdg_not-a-key');
    await w.page.click('#signin-form button[type=submit]');
    await w.page.waitForSelector('.signin-message .notice.error');
    assert.equal(await w.page.evaluate(() => sessionStorage.getItem('madoguchi.key')), null);
    await w.page.close();
  });

  test('a hostile report is shown as literal text and none of its script runs', async () => {
    const w = await signIn(operatorKey);
    const { page } = w;
    await open(page, `#/reports/${reportId}`, '#report-subject');
    assert.equal(await page.textContent('#report-subject'), HOSTILE_SUBJECT);
    await page.click('#show-raw');
    await page.waitForSelector('#raw-text');
    const raw = await page.textContent('#raw-text');
    assert.ok(raw!.includes(HOSTILE_SCRIPT), 'the script tag is shown as text');
    assert.ok(raw!.includes(HOSTILE_IMG), 'the img tag is shown as text');
    assert.equal(await page.evaluate(() => document.images.length), 0, 'no <img> element came from the report');
    assert.equal(await page.evaluate(() => document.querySelectorAll('script:not([src]), a[href^="javascript:"], iframe, object, embed').length), 0);
    // The parsed event names the inventory's customer for the reported address.
    assert.match(await page.innerText('table.events'), /c1001[\s\S]*sh-1001/);
    await page.screenshot({ path: join(shots, `report-${store().kind}.png`), fullPage: true });
    // The report list shows the same subject, as text, with a link to the report.
    await open(page, '#/reports', 'table.reports');
    assert.equal(await page.textContent(`table.reports a[href="#/reports/${reportId}"]`), `#${reportId}`);
    assert.ok((await page.innerText('table.reports')).includes(HOSTILE_SUBJECT));
    await assertClean(w);
    await w.page.close();
  });

  test('the quarantine shows a report refused under the limits, with its reason', async () => {
    const w = await signIn(operatorKey);
    const { page } = w;
    await redraw(page, () => page.click('.sidebar a[href="#/reports?status=quarantined"]'), 'table.reports');
    const rows = page.locator('table.reports tbody tr');
    assert.equal(await rows.count(), 1);
    assert.match(await rows.innerText(), new RegExp(`#${quarantinedId}[\\s\\S]*(隔離|Quarantined)[\\s\\S]*MIME nesting deeper than 12`));
    await redraw(page, () => page.click(`table.reports a[href="#/reports/${quarantinedId}"]`), '#report-reason');
    assert.match(await page.textContent('#report-reason') ?? '', /MIME nesting deeper than 12/);
    await assertClean(w);
    await w.page.close();
  });

  test('cases: the list filters by state and customer, the detail shows the record and changes state', async () => {
    const w = await signIn(operatorKey);
    const { page } = w;
    await open(page, '#/cases?state=all', 'table.cases');
    const list = await page.innerText('table.cases');
    assert.ok(list.includes(cases.attributed) && list.includes(cases.triage), list);
    assert.ok(!list.includes(cases.legal), 'a legal-only case stays hidden from an operator key');
    await open(page, '#/cases?state=triage', 'table.cases');
    assert.ok(!(await page.innerText('table.cases')).includes(cases.attributed), 'the state filter applies');
    await open(page, '#/cases?state=all&customer_id=c1001', 'table.cases');
    assert.ok((await page.innerText('table.cases')).includes(cases.attributed));

    await redraw(page, () => page.click(`table.cases a[href="#/cases/${cases.attributed}"]`), '#case-title');
    assert.equal(await page.textContent('#case-title'), 'Phone: <b>spam</b> from <script>window.__pwned=6</script>');
    assert.match(await page.innerText('h1'), new RegExp(cases.attributed));
    assert.match(await page.innerText('#audit-trail'), /case\.opened/);

    // An impossible move is refused by the API and the page says why; an allowed one is made and recorded.
    await page.click('button[data-to="closed"]');
    await page.waitForSelector('.notice.error');
    assert.match(await page.innerText('.notice.error'), /cannot go from new to closed/);
    await page.fill('#transition-reason', 'customer removed the mailer');
    await page.click('button[data-to="resolved"]');
    await page.waitForSelector('.notice.ok');
    assert.match(await page.innerText('.page-header'), /解決|Resolved/);
    assert.match(await page.innerText('#audit-trail'), /case\.state[\s\S]*customer removed the mailer/);

    // The notice preview renders the case's template in both languages.
    await page.click('button[data-preview="ja"]');
    await page.waitForSelector('#notice-preview pre.mail');
    assert.match(await page.innerText('#notice-preview'), new RegExp(cases.attributed));
    await page.screenshot({ path: join(shots, `case-${store().kind}.png`), fullPage: true });
    await assertClean(w);
    await w.page.close();
  });

  test('actions: a restriction waits for a second person, who approves it in their own session', async () => {
    const w = await signIn(operatorKey);
    const { page } = w;
    await open(page, `#/cases/${cases.attributed}`, '#action-form');
    await page.selectOption('#action-form select[name=action]', 'block_url');
    await page.fill('#action-form input[name=target]', 'http://198.51.100.20/login.php');
    await page.fill('#action-form input[name=reason]', 'phishing kit confirmed by the operator');
    await page.click('#action-form button[type=submit]');
    await page.waitForSelector('.notice.ok');
    const row = page.locator('table.actions tbody tr', { hasText: 'http://198.51.100.20/login.php' });
    assert.match(await row.innerText(), /承認待ち|Waiting for approval/);
    const approve = await row.locator('button[data-action^="approve-"]').getAttribute('data-action');
    // The one who asked cannot approve.
    await page.click(`button[data-action="${approve}"]`);
    await page.waitForSelector('section:has(table.actions) .notice.error');
    assert.match(await page.innerText('section:has(table.actions) .notice.error'), /needs a second person/);
    await assertClean(w);
    await page.close();

    const second = await signIn(legalKey);
    await open(second.page, `#/cases/${cases.attributed}`, 'table.actions');
    await second.page.click(`button[data-action="${approve}"]`);
    await second.page.waitForSelector('.notice.ok');
    const after = second.page.locator('table.actions tbody tr', { hasText: 'http://198.51.100.20/login.php' });
    assert.doesNotMatch(await after.innerText(), /承認待ち|Waiting for approval/);
    assert.match(await after.innerText(), /✓ test operator\+legal/);
    assert.match(await second.page.innerText('#audit-trail'), /action\.requested[\s\S]*action\.approved/);
    await assertClean(second);
    await second.page.close();
  });

  test('triage: naming the service takes a case out of the queue', async () => {
    const w = await signIn(operatorKey);
    const { page } = w;
    await open(page, '#/triage', 'table.cases');
    await redraw(page, () => page.click(`table.cases a[href="#/cases/${cases.triage}"]`), '#triage-service');
    await page.fill('#triage-service', 'vps-1002');
    await page.click('form:has(#triage-service) button[type=submit]');
    await page.waitForSelector('.notice.ok');
    assert.match(await page.innerText('.facts'), /c1002/);
    await open(page, '#/triage', '.page-header');
    assert.ok(!(await page.innerText('main')).includes(cases.triage));
    await assertClean(w);
    await w.page.close();
  });

  /** Fills the manual case form and submits it; resolves when the page answered (a case or an error). */
  async function openByHand(page: Page, title: string, legalKind: string) {
    await open(page, '#/cases/new', '#new-case');
    await page.fill('#new-case input[name=title]', title);
    await page.selectOption('#new-case select[name=channel]', 'police');
    await page.selectOption('#new-case select[name=legal_kind]', legalKind);
    await page.fill('#new-case textarea[name=description]', 'Written inquiry no. 123 about 203.0.113.7');
    await page.click('#new-case button[type=submit]');
  }

  test('legal-only cases: opened by a legal key through the form, seen by it, refused to an operator', async () => {
    const operator = await signIn(operatorKey);
    await openByHand(operator.page, 'Warrant for 198.51.100.20', 'warrant');
    await operator.page.waitForSelector('#new-case .notice.error');
    assert.match(await operator.page.innerText('#new-case .notice.error'), /only the legal role/);
    await assertClean(operator);
    await operator.page.close();

    const w = await signIn(legalKey);
    await redraw(w.page, () => openByHand(w.page, 'Disclosure request about 203.0.113.7', 'disclosure_request'), '#case-title');
    assert.match(await w.page.innerText('.page-header'), /法務限定|Legal only/);
    assert.match(await w.page.innerText('.facts'), /発信者情報開示請求|Disclosure request/);
    await open(w.page, '#/cases?state=all', 'table.cases');
    const row = w.page.locator('table.cases tr', { hasText: cases.legal });
    assert.equal(await row.count(), 1);
    assert.match(await row.innerText(), /法務限定|Legal only/);
    assert.match(await w.page.innerText('table.cases'), /Disclosure request about 203\.0\.113\.7/);
    await assertClean(w);
    await w.page.close();
  });

  test('attribution lookup: today\'s holder, a past holder at a given time, and no holder', async () => {
    const w = await signIn(operatorKey);
    const { page } = w;
    await open(page, '#/attribute', '#attr-form');
    const lookUp = (ready: string) => redraw(page, () => page.click('#attr-form button[type=submit]'), ready);
    await page.fill('#attr-resource', 'https://www.sakura-shoten.example/login');
    await lookUp('#attr-result table');
    assert.match(await page.innerText('#attr-result'), /c1001[\s\S]*sh-1001[\s\S]*shared/);
    // 192.0.2.0/28 belonged to c1006 until the end of 2022 and to c1007 since.
    await page.fill('#attr-resource', '192.0.2.5');
    await lookUp('#attr-result table');
    assert.match(await page.innerText('#attr-result'), /c1007/);
    await page.fill('#attr-at', '2022-06-01T12:00:00');
    await lookUp('#attr-result table');
    assert.match(await page.innerText('#attr-result'), /c1006[\s\S]*vps-0901/);
    await page.screenshot({ path: join(shots, `attribute-${store().kind}.png`), fullPage: true });
    await page.fill('#attr-resource', '100.64.0.1');
    await page.fill('#attr-at', '');
    await lookUp('#attr-result .notice.warn');
    await assertClean(w);
    await w.page.close();
  });

  test('dashboard, queues, blocklists, notices and statistics draw from the API in both languages', async () => {
    const w = await signIn(operatorKey);
    const { page } = w;
    await open(page, '#/', '.cards');
    await page.waitForFunction(() => [...document.querySelectorAll('.card-value')].every((e) => e.textContent !== '…'));
    const { cases: triage } = await api('GET', '/api/v1/cases?state=triage', operatorKey) as { cases: unknown[] };
    assert.equal(await page.textContent('[data-card="dash.triage"] .card-value'), String(triage.length));
    assert.equal(await page.textContent('[data-card="dash.reports24h"] .card-value'), '2');
    assert.equal(await page.textContent('[data-card="dash.quarantine"] .card-value'), '1');
    await page.screenshot({ path: join(shots, `dashboard-${store().kind}.png`), fullPage: true });

    await open(page, '#/blocklists', 'table.blocklists');
    const lists = await page.innerText('table.blocklists');
    assert.match(lists, /test_drop/);
    assert.match(lists, /Madoguchi tests/);
    await page.screenshot({ path: join(shots, `blocklists-${store().kind}.png`), fullPage: true });

    await open(page, '#/notices', '[data-language="en"] pre.mail');
    assert.match(await page.innerText('[data-language="ja"] .notice-subject'), /20\d\d-\d{6}/);
    assert.match(await page.innerText('[data-language="en"] pre.mail'), /Dear /);

    await open(page, `#/stats?year=${new Date().getFullYear()}`, '#stats-form');
    assert.match(await page.innerText('main'), /発番したケース番号|Case numbers issued/);

    await open(page, '#/overdue', '.page-header');
    await redraw(page, () => page.click('button[data-lang="en"]'), '.page-header');
    assert.match(await page.innerText('.sidebar'), /Reports[\s\S]*Cases[\s\S]*Attribution/);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await open(page, `#/cases/${cases.attributed}`, '#case-title');
    await page.screenshot({ path: join(shots, `case-en-${store().kind}.png`), fullPage: true });
    await redraw(page, () => page.click('button[data-lang="ja"]'), '.page-header');
    assert.match(await page.innerText('.sidebar'), /受信報告[\s\S]*ケース[\s\S]*利用者検索/);
    await assertClean(w);

    await page.click('#signout');
    await page.waitForSelector('#signin-form');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('madoguchi.key')), null);
    await page.close();
  });
});

after(() => { console.log(`# console screenshots: ${shots}`); });
