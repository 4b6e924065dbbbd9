// The two work queues: cases waiting for someone to name the customer (triage) and cases whose
// next step is late (overdue), most late first.
import { api } from '../api.js';
import { h, pageHeader, table } from '../dom.js';
import { t } from '../i18n.js';
import { caseColumns, caseRowClass } from './cases.js';

export async function triage() {
  const { cases } = await api.get('/api/v1/cases', { state: 'triage', order: 'oldest', limit: 500 });
  return h('div', {}, pageHeader(t('triage.title')), h('p', { class: 'hint' }, t('triage.hint')),
    table(caseColumns, cases, { class: 'cases triage' }));
}

export async function overdue() {
  const { cases } = await api.get('/api/v1/cases/overdue', { limit: 500 });
  return h('div', {}, pageHeader(t('overdue.title')), table(caseColumns, cases, { class: 'cases overdue', rowClass: caseRowClass }));
}
