// Reports as they came in, newest first; the quarantine is the same list filtered by status.
import { api } from '../api.js';
import { badge, h, pageHeader, route, table, time } from '../dom.js';
import { label, t } from '../i18n.js';

const STATUSES = ['', 'parsed', 'quarantined', 'rejected', 'received'];
const PAGE = 50;

export const reportColumns = [
  { label: 'col.id', class: 'num', cell: (r) => h('a', { href: route(`reports/${r.id}`) }, `#${r.id}`) },
  { label: 'col.received', class: 'nowrap', cell: (r) => time(r.received_at) },
  { label: 'col.status', cell: (r) => badge('status', r.status) },
  { label: 'col.subject', class: 'wide', cell: (r) => h('span', { class: 'clip' }, r.subject ?? '—') },
  { label: 'col.reporter', cell: (r) => r.reporter_email ?? r.reporter_name ?? '—' },
  { label: 'col.channel', cell: (r) => r.channel },
  { label: 'col.parser', cell: (r) => r.parser ?? '—' },
  { label: 'col.events', class: 'num', cell: (r) => String(r.event_count) },
  { label: 'col.cases', cell: (r) => caseLinks(r.cases) },
];

export function caseLinks(numbers) {
  if (!numbers?.length) return '—';
  return numbers.map((n, i) => [i ? ', ' : '', h('a', { href: route(`cases/${n}`) }, n)]);
}

export async function render(_params, query) {
  const status = query.get('status') ?? '';
  const before = query.get('before') ?? '';
  const { reports } = await api.get('/api/v1/reports', { status, before, limit: PAGE });
  const tabs = h('div', { class: 'tabs', role: 'tablist' }, STATUSES.map((s) => h('a', {
    href: route('reports', { status: s }), role: 'tab', class: s === status ? 'active' : null, 'aria-selected': String(s === status),
  }, s ? label('status', s) : t('common.all'))));
  const last = reports[reports.length - 1];
  return h('div', {},
    pageHeader(t(status === 'quarantined' ? 'reports.quarantine' : 'reports.title')),
    tabs,
    table(status === 'quarantined' ? [...reportColumns.slice(0, 3), { label: 'report.reason', class: 'wide', cell: (r) => r.reason ?? '—' }, ...reportColumns.slice(3)] : reportColumns,
      reports, { class: 'reports', rowClass: (r) => `row-${r.status}` }),
    reports.length === PAGE && last ? h('p', { class: 'pager' }, h('a', { href: route('reports', { status, before: last.id }), class: 'button' }, t('common.more'))) : null);
}
