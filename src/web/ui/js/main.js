// The console shell: sign-in gate, navigation, language switch and a hash router. Each page is a
// module exporting `render(params, query) -> Promise<Node>`; a page that fails shows why.
import { session, whenUnauthorized } from './api.js';
import { failure, h, loading, notice } from './dom.js';
import { LANGUAGES, lang, setLang, t } from './i18n.js';
import * as signin from './pages/signin.js';
import * as dashboard from './pages/dashboard.js';
import * as reports from './pages/reports.js';
import * as report from './pages/report.js';
import * as cases from './pages/cases.js';
import * as caseDetail from './pages/case.js';
import * as newCase from './pages/newcase.js';
import * as queues from './pages/queues.js';
import * as notices from './pages/notices.js';
import * as blocklists from './pages/blocklists.js';
import * as attribute from './pages/attribute.js';
import * as stats from './pages/stats.js';

/** @type {[RegExp, (params: string[], query: URLSearchParams) => Promise<Node>][]} */
const ROUTES = [
  [/^$/, dashboard.render],
  [/^reports$/, reports.render],
  [/^reports\/(\d+)$/, report.render],
  [/^cases$/, cases.render],
  [/^cases\/new$/, newCase.render],
  [/^cases\/([\w.-]+)$/, caseDetail.render],
  [/^triage$/, queues.triage],
  [/^overdue$/, queues.overdue],
  [/^notices$/, notices.render],
  [/^blocklists$/, blocklists.render],
  [/^attribute$/, attribute.render],
  [/^stats$/, stats.render],
];

const NAV = [
  ['', 'nav.dashboard'], ['reports', 'nav.reports'], ['reports?status=quarantined', 'nav.quarantine'], ['cases', 'nav.cases'],
  ['triage', 'nav.triage'], ['overdue', 'nav.overdue'], ['notices', 'nav.notices'], ['blocklists', 'nav.blocklists'],
  ['attribute', 'nav.attribute'], ['stats', 'nav.stats'],
];

const root = document.getElementById('app');
let renderSeq = 0;

function parseHash() {
  const full = location.hash.replace(/^#\/?/, '');
  const [raw, search] = full.split('?');
  let path = raw;
  try { path = decodeURIComponent(raw); } catch { /* a malformed escape stays as typed and matches no route */ }
  return { path, query: new URLSearchParams(search ?? ''), full };
}

function languageSwitch() {
  return h('div', { class: 'lang-switch', role: 'group', 'aria-label': 'Language / 言語' },
    LANGUAGES.map((l) => h('button', {
      type: 'button', class: l === lang() ? 'active' : null, 'aria-pressed': String(l === lang()), 'data-lang': l,
      onclick: () => { setLang(l); show(); },
    }, l === 'ja' ? '日本語' : 'English')));
}

/** The navigation entry a route belongs to: 'reports/12' -> 'reports', the quarantine filter -> its own entry. */
function activeNav(full) {
  if (/^reports\?(.*&)?status=quarantined/.test(full)) return 'reports?status=quarantined';
  return full.split(/[/?]/)[0];
}

function shell(content, current) {
  const nav = h('nav', { class: 'sidebar', 'aria-label': 'Madoguchi' },
    h('a', { class: 'brand', href: '#/' }, h('span', { class: 'brand-mark' }, '窓口'), h('span', { class: 'brand-text' }, 'Madoguchi')),
    h('ul', {}, NAV.map(([path, key]) => h('li', {}, h('a', { href: `#/${path}`, class: path === activeNav(current) ? 'active' : null }, t(key))))));
  const top = h('div', { class: 'topbar' },
    h('span', { class: 'tagline' }, t('app.tagline')),
    h('div', { class: 'top-tools' }, languageSwitch(),
      h('button', { type: 'button', class: 'link', id: 'signout', onclick: () => { session.signOut(); history.replaceState(null, '', '#/'); show(); } }, t('nav.signout'))));
  return h('div', { class: 'layout' }, nav, h('div', { class: 'main' }, top, h('main', { id: 'content', tabindex: '-1' }, content)));
}

async function show() {
  const seq = ++renderSeq;
  document.documentElement.lang = lang();
  const { path, query, full } = parseHash();
  if (!session.key()) {
    root.replaceChildren(h('div', { class: 'signin-wrap' }, h('div', { class: 'signin-lang' }, languageSwitch()), signin.render(show)));
    document.title = `${t('signin.title')} · Madoguchi`;
    return;
  }
  const route = ROUTES.find(([re]) => re.test(path));
  const body = h('div', { class: 'page' }, loading());
  root.replaceChildren(shell(body, full));
  let content;
  try {
    content = route ? await route[1](route[0].exec(path).slice(1), query) : notice('error', `${t('common.notfound')}: #/${path}`);
  } catch (err) {
    content = failure(err);
  }
  if (seq !== renderSeq) return; // the operator moved on while this page loaded
  body.replaceChildren(content);
  const title = body.querySelector('h1');
  document.title = `${title ? title.textContent : t('app.name')} · Madoguchi`;
  body.dataset.ready = 'true';
}

whenUnauthorized(() => { session.signOut(); show(); });
window.addEventListener('hashchange', show);
show();
