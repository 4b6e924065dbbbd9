// Who held a resource, now or at a given time: the attribution index through the API.
import { api } from '../api.js';
import { failure, field, h, notice, pageHeader, route, table, time } from '../dom.js';
import { t } from '../i18n.js';

export async function render(_params, query) {
  const resource = query.get('resource') ?? '';
  const at = query.get('at') ?? '';
  const input = h('input', { type: 'text', name: 'resource', id: 'attr-resource', value: resource, required: true, maxlength: '2048', placeholder: '198.51.100.20, www.example.jp, hxxps://…' });
  const when = h('input', { type: 'datetime-local', name: 'at', id: 'attr-at', value: at, step: '1' });
  const form = h('form', { class: 'toolbar', id: 'attr-form' },
    field('attr.resource', input), field('attr.at', when), h('button', { type: 'submit', class: 'primary' }, t('common.search')));
  // The query lives in the address, so a lookup can be linked and the back button works.
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = route('attribute', { resource: input.value.trim(), at: when.value });
  });
  return h('div', {}, pageHeader(t('attr.title')), h('p', { class: 'hint' }, t('attr.hint')), form,
    resource ? h('div', { id: 'attr-result' }, await lookup(resource, at)) : null);
}

async function lookup(resource, at) {
  try {
    // datetime-local is the browser's local time without a zone: make it an instant here.
    const instant = at ? new Date(at).toISOString() : undefined;
    const a = await api.get('/api/v1/attribute', { resource, at: instant });
    if (!a.customer_id) return notice('warn', `${t('attr.nomatch')}: ${a.input}`);
    return table([
      { label: 'col.input', cell: (x) => x.input },
      { label: 'col.at', cell: (x) => time(x.at) },
      { label: 'col.customer', cell: (x) => h('a', { href: route('cases', { customer_id: x.customer_id }) }, x.customer_id) },
      { label: 'col.service', cell: (x) => x.service_id },
      { label: 'col.serviceType', cell: (x) => x.service_type },
      { label: 'col.brand', cell: (x) => x.brand ?? '—' },
      { label: 'col.matched', class: 'mono', cell: (x) => x.resource ?? '—' },
    ], [a], { class: 'attribution' });
  } catch (err) {
    return failure(err);
  }
}
