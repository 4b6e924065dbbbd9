// The figures of an annual abuse-desk report for one year.
import { api } from '../api.js';
import { download, facts, failure, field, h, pageHeader, section, table } from '../dom.js';
import { formatDuration, formatNumber, label, t } from '../i18n.js';

export async function render(_params, query) {
  const thisYear = new Date().getFullYear();
  const year = Number(query.get('year')) || thisYear;
  const s = await api.get('/api/v1/stats', { year });
  const input = h('input', { type: 'number', name: 'year', min: '2000', max: String(thisYear + 1), value: String(year) });
  const csv = h('button', {
    type: 'button', class: 'secondary', onclick: async () => {
      try {
        const res = await api.raw('/api/v1/stats', { year, format: 'csv' });
        download(new Uint8Array(await res.arrayBuffer()), `madoguchi-stats-${year}.csv`);
      } catch (err) {
        form.after(failure(err));
      }
    },
  }, t('stats.csv'));
  const form = h('form', { class: 'toolbar', id: 'stats-form' }, field('stats.year', input), h('button', { type: 'submit', class: 'primary' }, t('common.apply')), csv);
  form.addEventListener('submit', (e) => { e.preventDefault(); location.hash = `#/stats?year=${encodeURIComponent(input.value)}`; });
  const categories = Object.entries(s.categories);
  return h('div', {},
    pageHeader(`${t('stats.title')} ${s.year}`),
    form,
    section('stats.title', facts([
      ['stats.issued', formatNumber(s.case_numbers_issued)],
      ['stats.open', formatNumber(s.open_cases)],
      ['col.median1', formatDuration(s.medians.to_first_notice_s)],
      ['col.median2', formatDuration(s.medians.to_customer_answer_s)],
      ['col.median3', formatDuration(s.medians.to_resolution_s)],
    ])),
    section('stats.byCategory', table([
      { label: 'col.category', cell: ([c]) => label('cat', c) },
      { label: 'col.reports', class: 'num', cell: ([, v]) => formatNumber(v.reports) },
      { label: 'col.events', class: 'num', cell: ([, v]) => formatNumber(v.events) },
      { label: 'col.cases', class: 'num', cell: ([, v]) => formatNumber(v.cases) },
      ...['to_first_notice_s', 'to_customer_answer_s', 'to_resolution_s'].map((k, i) => ({ label: `col.median${i + 1}`, class: 'num', cell: ([, v]) => formatDuration(v.medians[k]) })),
    ], categories)),
    // Legal figures come only when the API gives them to this key.
    s.legal_requests ? section('stats.legal', table([
      { label: 'col.type', cell: ([k]) => label('legal', k) },
      { label: 'col.value', class: 'num', cell: ([, n]) => formatNumber(n) },
    ], Object.entries(s.legal_requests))) : null);
}
