// Notice templates as the customer would read them, Japanese and English side by side. The API
// renders a template for a case (the case supplies customer, brand, deadline and evidence), so the
// preview needs one: the newest attributed case unless the operator names another.
import { api } from '../api.js';
import { facts, failure, field, h, notice, pageHeader, route, select } from '../dom.js';
import { t } from '../i18n.js';

const KINDS = ['notice', 'reminder', 'escalation'];

export async function render(_params, query) {
  const { templates } = await api.get('/api/v1/notice-templates');
  const template = query.get('template') ?? '';
  const kind = KINDS.includes(query.get('kind')) ? query.get('kind') : 'notice';
  const caseRef = query.get('case') || await newestAttributedCase();
  const form = h('form', { class: 'toolbar', id: 'notice-form' },
    field('notices.case', h('input', { type: 'text', name: 'case', value: caseRef ?? '', maxlength: '40', pattern: '[A-Za-z0-9#._\\-]{1,40}' })),
    field('notices.template', select('template', [['', t('notices.playbookDefault')], ...templates.map((n) => [n, n])], template)),
    field('notices.kind', select('kind', KINDS.map((k) => [k, t(`notices.kind.${k}`)]), kind)),
    h('button', { type: 'submit', class: 'primary' }, t('notices.preview')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = route('notices', Object.fromEntries(new FormData(form)));
  });
  if (!caseRef) return h('div', {}, pageHeader(t('notices.title')), form, notice('info', t('notices.noCase')));
  const path = `/api/v1/cases/${encodeURIComponent(caseRef)}/notices/preview`;
  const panes = await Promise.all(['ja', 'en'].map(async (language) => {
    try {
      const m = await api.get(path, { language, kind, template });
      return h('section', { class: 'panel', 'data-language': language },
        h('h2', {}, language === 'ja' ? '日本語' : 'English'),
        facts([['notices.template', `${m.template}.${m.language}.txt`], ['notices.to', m.to.join(', ') || '—'], ['notices.subject', h('strong', { class: 'notice-subject' }, m.subject)]]),
        h('pre', { class: 'mail notice-body' }, m.body));
    } catch (err) {
      return h('section', { class: 'panel', 'data-language': language }, failure(err));
    }
  }));
  return h('div', {}, pageHeader(t('notices.title'), [h('a', { href: route(`cases/${caseRef}`), class: 'sub' }, caseRef)]), form, h('div', { class: 'grid two' }, panes));
}

async function newestAttributedCase() {
  const { cases } = await api.get('/api/v1/cases', { state: ['new', 'notified', 'customer_replied', 'escalated'], order: 'newest', limit: 1 });
  return cases[0]?.number ?? null;
}
