// A case opened by hand: what arrived by phone, letter or from the police. Legal kinds are offered
// to everyone; the API accepts them only from keys with the legal role and says so otherwise.
import { api } from '../api.js';
import { failure, field, h, pageHeader, route, select } from '../dom.js';
import { label, t } from '../i18n.js';
import { CATEGORIES } from './cases.js';

const CHANNELS = ['phone', 'letter', 'fax', 'mail', 'web', 'in_person', 'police', 'court'];
const LEGAL_KINDS = ['police_inquiry', 'warrant', 'takedown_request', 'disclosure_request', 'other'];

export async function render() {
  const input = (name, attrs = {}) => h('input', { type: 'text', name, maxlength: '300', ...attrs });
  const form = h('form', { class: 'panel form-grid', id: 'new-case' },
    field('col.title', input('title', { required: true })),
    field('newcase.channel', select('channel', CHANNELS.map((c) => [c, label('channel', c)]), 'phone')),
    field('col.category', select('category', [['', t('newcase.byPlaybook')], ...CATEGORIES.map((c) => [c, label('cat', c)])], '')),
    field('case.legalKind', select('legal_kind', [['', '—'], ...LEGAL_KINDS.map((k) => [k, label('legal', k)])], '')),
    field('cases.filterCustomer', input('customer_id', { maxlength: '200' })),
    field('triage.serviceId', input('service_id', { maxlength: '200' })),
    field('col.resource', input('resource', { maxlength: '2048' })),
    h('label', { class: 'field wide' }, h('span', {}, t('newcase.description')), h('textarea', { name: 'description', rows: '6', maxlength: '100000', required: true })),
    h('div', { class: 'buttons wide' }, h('button', { type: 'submit', class: 'primary' }, t('newcase.open'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    // Empty fields are left out, so the API applies its own defaults.
    const body = Object.fromEntries([...new FormData(form)].map(([k, v]) => [k, String(v).trim()]).filter(([, v]) => v !== ''));
    try {
      const c = await api.post('/api/v1/cases', body);
      location.hash = route(`cases/${c.number}`);
    } catch (err) {
      button.disabled = false;
      form.querySelector(':scope > .notice')?.remove();
      form.prepend(failure(err));
    }
  });
  return h('div', {}, pageHeader(t('newcase.title')), h('p', { class: 'hint' }, t('newcase.hint')), form);
}
