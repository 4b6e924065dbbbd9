// Sign-in with an API key: the key is checked against the API before it is kept.
import { api, ApiError, session } from '../api.js';
import { h, notice } from '../dom.js';
import { t } from '../i18n.js';

export function render(done) {
  const input = h('input', { type: 'password', name: 'key', id: 'api-key', autocomplete: 'off', spellcheck: 'false', required: true });
  const message = h('div', { class: 'signin-message' });
  const form = h('form', { class: 'signin', id: 'signin-form' },
    h('div', { class: 'brand big' }, h('span', { class: 'brand-mark' }, '窓口'), h('span', { class: 'brand-text' }, 'Madoguchi')),
    h('h1', {}, t('signin.title')),
    h('label', { class: 'field', for: 'api-key' }, h('span', {}, t('signin.key')), input),
    h('p', { class: 'hint' }, t('signin.hint')),
    message,
    h('button', { type: 'submit', class: 'primary' }, t('signin.submit')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    message.replaceChildren();
    try {
      // The cheapest call every desk-staff role may make.
      await api.get('/api/v1/reports', { limit: 1 }, { key });
      session.signIn(key);
      done();
    } catch (err) {
      const text = err instanceof ApiError && err.status === 401 ? t('signin.bad')
        : err instanceof ApiError && err.status === 403 ? t('signin.role') : `${t('common.error')}: ${err.message}`;
      message.replaceChildren(notice('error', text));
    }
  });
  queueMicrotask(() => input.focus());
  return form;
}
