// Cases by age, filtered by state, customer and category; keyset pages from the API's cursor.
import { api } from '../api.js';
import { badge, field, h, pageHeader, route, select, table, time } from '../dom.js';
import { formatDuration, label, t } from '../i18n.js';

export const STATES = ['new', 'triage', 'notified', 'customer_replied', 'escalated', 'resolved', 'no_action', 'closed'];
export const OPEN_STATES = ['new', 'triage', 'notified', 'customer_replied', 'escalated'];
export const CATEGORIES = ['spam_phishing', 'security_incident', 'rights_infringement', 'other_illegal'];
const PAGE = 50;

const ageOf = (iso) => (Date.now() - new Date(iso).getTime()) / 1000;

export const caseColumns = [
  { label: 'col.number', class: 'nowrap', cell: (c) => [h('a', { href: route(`cases/${c.number}`) }, c.number), c.legal_only ? [' ', h('span', { class: 'badge legal' }, t('case.legal'))] : null] },
  { label: 'col.state', cell: (c) => [badge('state', c.state), c.overdue ? [' ', h('span', { class: 'badge overdue' }, t('case.overdue'))] : null] },
  { label: 'col.title', class: 'wide', cell: (c) => [h('span', { class: 'clip' }, c.title), h('div', { class: 'sub' }, `${label('cat', c.category)} · ${c.playbook}`)] },
  { label: 'col.customer', class: 'customer', cell: (c) => c.customer_id ? [c.customer_id, h('div', { class: 'sub' }, [c.service_id, c.service_type].filter(Boolean).join(' · '))] : '—' },
  { label: 'col.resource', class: 'mono', cell: (c) => c.resource ?? '—' },
  { label: 'col.events', class: 'num', cell: (c) => String(c.event_count) },
  { label: 'col.age', class: 'num nowrap', cell: (c) => h('span', { title: c.opened_at }, formatDuration(ageOf(c.opened_at))) },
  { label: 'col.due', class: 'nowrap', cell: (c) => time(c.due_at) },
];

export const caseRowClass = (c) => (c.overdue ? 'overdue' : null);

export async function render(_params, query) {
  const f = {
    state: query.get('state') ?? 'open', customer_id: query.get('customer_id') ?? '', category: query.get('category') ?? '',
    order: query.get('order') ?? 'oldest', after: query.get('after') ?? '',
  };
  const states = f.state === 'open' ? OPEN_STATES : f.state === 'all' ? undefined : [f.state];
  const doc = await api.get('/api/v1/cases', { state: states, customer_id: f.customer_id, category: f.category, order: f.order, after: f.after, limit: PAGE });
  const form = h('form', { class: 'toolbar', id: 'case-filter' },
    field('cases.filterState', select('state', [['open', t('common.open')], ['all', t('common.all')], ...STATES.map((s) => [s, label('state', s)])], f.state)),
    field('cases.filterCustomer', h('input', { type: 'text', name: 'customer_id', value: f.customer_id, maxlength: '200' })),
    field('cases.filterCategory', select('category', [['', t('common.all')], ...CATEGORIES.map((c) => [c, label('cat', c)])], f.category)),
    field('cases.order', select('order', [['oldest', t('cases.oldest')], ['newest', t('cases.newest')]], f.order)),
    h('button', { type: 'submit', class: 'primary' }, t('common.apply')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = route('cases', Object.fromEntries(new FormData(form)));
  });
  return h('div', {},
    pageHeader(t('cases.title'), [], [h('a', { class: 'button', href: route('cases/new'), id: 'new-case-link' }, t('newcase.title'))]),
    form,
    table(caseColumns, doc.cases, { class: 'cases', rowClass: caseRowClass }),
    doc.next ? h('p', { class: 'pager' }, h('a', { class: 'button', href: route('cases', { ...f, after: doc.next }) }, t('common.more'))) : null);
}
