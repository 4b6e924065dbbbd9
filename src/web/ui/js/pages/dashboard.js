// The desk at a glance. The API has no count endpoints, so each figure is the length of a list
// asked for up to a cap ("1000+" when it reaches it); each card loads on its own and says why
// when its API is missing or closed to this key.
import { api, ApiError, countUpTo } from '../api.js';
import { h, pageHeader, route, section, table } from '../dom.js';
import { formatNumber, label, t } from '../i18n.js';
import { reportColumns } from './reports.js';
import { OPEN_STATES } from './cases.js';

const DAY = 86_400_000;
/** The most cases one list call returns. */
const CASES_CAP = 500;
const since = (ms) => (x) => Date.now() - new Date(x.received_at ?? x.created_at).getTime() < ms;

function card(labelKey, href, count, alert = false) {
  const value = h('div', { class: 'card-value' }, '…');
  const note = h('div', { class: 'card-note' });
  const el = h('a', { class: 'card', href, 'data-card': labelKey }, h('div', { class: 'card-label' }, t(labelKey)), value, note);
  count().then(([n, capped]) => {
    value.textContent = `${formatNumber(n)}${capped ? '+' : ''}`;
    if (alert && n > 0) el.classList.add('alert');
  }, (err) => {
    value.textContent = '—';
    note.textContent = err instanceof ApiError && err.missingRoute ? t('common.missing') : err.message;
  });
  return el;
}

function byState() {
  const box = h('div', { class: 'bars' });
  Promise.all(OPEN_STATES.map((s) => countUpTo('/api/v1/cases', { state: s }, 'cases', CASES_CAP).then(([n, capped]) => [s, n, capped])))
    .then((rows) => {
      const max = Math.max(1, ...rows.map(([, n]) => n));
      box.replaceChildren(...rows.flatMap(([s, n, capped]) => {
        const bar = h('div', { class: 'bar' });
        bar.style.width = `${(100 * n) / max}%`;
        return [h('a', { href: route('cases', { state: s }) }, label('state', s)), h('div', { class: 'bar-track' }, bar), h('span', { class: 'num' }, `${formatNumber(n)}${capped ? '+' : ''}`)];
      }));
    }, (err) => box.replaceChildren(h('p', { class: 'empty' }, err instanceof ApiError && err.missingRoute ? t('common.missing') : err.message)));
  return box;
}

export async function render() {
  const { reports } = await api.get('/api/v1/reports', { limit: 10 });
  return h('div', {},
    pageHeader(t('nav.dashboard')),
    h('div', { class: 'cards' },
      card('dash.reports24h', route('reports'), () => countUpTo('/api/v1/reports', {}, 'reports', 1000, since(DAY))),
      card('dash.quarantine', route('reports', { status: 'quarantined' }), () => countUpTo('/api/v1/reports', { status: 'quarantined' }, 'reports', 1000), true),
      card('dash.triage', route('triage'), () => countUpTo('/api/v1/cases', { state: 'triage' }, 'cases', CASES_CAP)),
      card('dash.overdue', route('overdue'), () => countUpTo('/api/v1/cases/overdue', {}, 'cases', CASES_CAP), true),
      card('dash.alerts', route('blocklists'), () => countUpTo('/api/v1/blocklists/alerts', {}, 'alerts', 1000, since(7 * DAY)), true)),
    h('div', { class: 'grid two' },
      section('dash.byState', byState()),
      section('dash.recent', table(reportColumns.filter((c) => ['col.id', 'col.received', 'col.status', 'col.subject'].includes(c.label)), reports))));
}
