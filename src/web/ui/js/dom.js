// Building pages from API data without ever parsing data as HTML: strings become text nodes,
// attributes are set one by one, and links may only point inside the console.
import { ApiError } from './api.js';
import { t, label, formatTime } from './i18n.js';

/** h('a', { href: '#/cases', class: 'x', onclick: fn }, 'text', node, [more]) */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) {
      if (typeof v !== 'function') throw new Error(`${k} must be a function`);
      el.addEventListener(k.slice(2), v);
    } else if (k === 'class') {
      el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
    } else if (k === 'href') {
      el.setAttribute('href', consoleHref(v));
    } else if (k === 'value') {
      el.value = v;
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

/** Replaces an element's content; null and false children are left out (the DOM would print "null"). */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Only the console's own routes: a hostile value can never become a javascript: or outside link. */
function consoleHref(v) {
  const s = String(v);
  if (!/^#\/[^\s]*$/.test(s)) throw new Error(`refusing link ${JSON.stringify(s.slice(0, 60))}`);
  return s;
}

/** '#/cases' + { state: 'new', empty: '' } -> '#/cases?state=new' */
export function route(path, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v != null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return `#/${path}${s ? `?${s}` : ''}`;
}

export function table(columns, rows, opts = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, opts.empty ?? t('common.none'));
  return h('div', { class: 'table-wrap' },
    h('table', { class: ['data', opts.class] },
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.class, scope: 'col' }, t(c.label))))),
      h('tbody', {}, rows.map((r) => h('tr', { class: opts.rowClass?.(r) }, columns.map((c) => h('td', { class: c.class }, c.cell(r))))))));
}

/** A definition list of [labelKey, value] pairs; null values are left out. */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(([, v]) => v != null && v !== '').map(([k, v]) => [h('dt', {}, t(k)), h('dd', {}, v)]));
}

export function badge(prefix, value) {
  return h('span', { class: ['badge', `${prefix}-${String(value).replace(/[^a-z_]/g, '')}`] }, label(prefix, value));
}

export function time(iso) {
  return iso ? h('time', { datetime: iso, title: iso }, formatTime(iso)) : '—';
}

export function section(titleKey, ...content) {
  return h('section', { class: 'panel' }, h('h2', {}, t(titleKey)), content);
}

/** The page title, badges beside it, and buttons at the right. */
export function pageHeader(title, badges = [], tools = []) {
  return h('header', { class: 'page-header' }, h('h1', {}, title), badges, tools.length ? h('div', { class: 'page-tools' }, tools) : null);
}

export function notice(kind, text) {
  return h('div', { class: ['notice', kind], role: kind === 'error' ? 'alert' : 'status' }, text);
}

export function loading() {
  return h('p', { class: 'loading' }, t('common.loading'));
}

/** A form field: a label with a control inside. */
export function field(labelKey, control) {
  return h('label', { class: 'field' }, h('span', {}, t(labelKey)), control);
}

export function select(name, options, value) {
  return h('select', { name }, options.map(([v, text]) => {
    const o = h('option', { value: v }, text);
    if (v === value) o.selected = true;
    return o;
  }));
}

/** What a failed page says: missing APIs and missing rights are named as such, not as crashes. */
export function failure(err) {
  if (err instanceof ApiError) {
    if (err.missingRoute) return notice('gap', `${t('common.missing')}: ${err.message}`);
    if (err.status === 403) return notice('error', `${t('common.forbidden')}: ${err.message}`);
    if (err.status === 404) return notice('error', `${t('common.notfound')}: ${err.message}`);
  }
  return notice('error', `${t('common.error')}: ${err.message}`);
}

/** Saves bytes as a file of an inert type: the browser stores them, never renders them. */
export function download(bytes, name) {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
