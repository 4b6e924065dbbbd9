// One case: facts and clocks, state changes, the record (audit trail, messages, notices, actions)
// and the evidence. Every change sends the version the operator read: when someone else changed
// the case first the API answers 409 and the page says so instead of overwriting their work.
// Evidence (the events) is loaded on request only, because the desk records every look at it.
import { api, ApiError } from '../api.js';
import { badge, facts, failure, field, h, notice, pageHeader, replace, route, section, select, table, time } from '../dom.js';
import { formatDuration, label, t } from '../i18n.js';
import { STATES } from './cases.js';

export async function render([ref]) {
  const root = h('div', { class: 'case-page' });
  await draw(root, ref);
  return root;
}

async function draw(root, ref, flash) {
  const c = await api.get(`/api/v1/cases/${encodeURIComponent(ref)}`);
  const path = `/api/v1/cases/${encodeURIComponent(c.number)}`;
  const [audit, messages, notices, actions] = await Promise.all([
    api.get(`${path}/audit`), api.get(`${path}/messages`), api.get(`${path}/notices`), api.get(`${path}/actions`),
  ]);
  /** Runs a change, then draws the case again with what the API now says. */
  const change = async (button, fn, done) => {
    const box = button.closest('section') ?? root;
    button.disabled = true;
    try {
      await fn();
      await draw(root, c.number, notice('ok', done));
    } catch (err) {
      button.disabled = false;
      box.querySelector(':scope > .notice')?.remove();
      box.prepend(err instanceof ApiError && err.status === 409 ? notice('error', t('case.conflict')) : failure(err));
    }
  };
  replace(root,
    pageHeader(`${t('case.title')} ${c.number}`, [badge('state', c.state),
      c.overdue ? h('span', { class: 'badge overdue' }, t('case.overdue')) : null,
      c.legal_only ? h('span', { class: 'badge legal' }, t('case.legal')) : null]),
    flash,
    h('div', { class: 'grid two' },
      section('case.facts', facts([
        ['col.title', h('span', { id: 'case-title' }, c.title)],
        ['col.category', `${label('cat', c.category)} · ${c.playbook}`],
        ['col.customer', c.customer_id ? h('a', { href: route('cases', { customer_id: c.customer_id, state: 'all' }) }, c.customer_id) : null],
        ['col.service', [c.service_id, c.service_type].filter(Boolean).join(' · ') || null],
        ['col.resource', c.resource],
        ['case.legalKind', c.legal_kind ? label('legal', c.legal_kind) : null],
        ['case.misuse', c.misuse_kind ? label('misuse', c.misuse_kind) : null],
        ['col.channel', c.channel ? label('channel', c.channel) : null],
        ['col.assignee', c.assignee],
        ['col.events', String(c.event_count)],
        ['col.opened', time(c.opened_at)],
        ['col.due', c.due_at ? time(c.due_at) : null],
        ['case.version', String(c.version)],
      ])),
      section('case.clocks', facts([
        ['col.median1', formatDuration(c.clocks.to_first_notice_s)],
        ['col.median2', formatDuration(c.clocks.to_customer_answer_s)],
        ['col.median3', formatDuration(c.clocks.to_resolution_s)],
        ['case.reopened', c.reopened_count ? String(c.reopened_count) : null],
      ]))),
    transitions(c, path, change),
    c.state === 'triage' ? assignService(c, path, change) : null,
    noticeSection(c, path, notices.notices, change),
    actionSection(c, path, actions.actions, change),
    section('case.messages', messageList(messages.messages), noteForm(path, change)),
    section('case.timeline', timeline(audit.entries)),
    evidence(path));
}

/**
 * State changes as buttons. The API's case answer does not list the allowed moves, so every other
 * state is offered and the API refuses an impossible move with the allowed ones in its message.
 */
function transitions(c, path, change) {
  const targets = Array.isArray(c.transitions) ? c.transitions : STATES.filter((s) => s !== c.state);
  if (!targets.length) return null;
  const reason = h('input', { type: 'text', name: 'reason', id: 'transition-reason', maxlength: '2000' });
  const buttons = targets.map((to) => h('button', {
    type: 'button', class: to === 'escalated' ? 'danger' : 'secondary', 'data-to': to,
    onclick: (e) => change(e.currentTarget, () => api.post(`${path}/transitions`, { to, version: c.version, reason: reason.value || undefined }),
      `${t('case.moved')}: ${label('state', c.state)} → ${label('state', to)}`),
  }, label('state', to)));
  return section('case.transitions', Array.isArray(c.transitions) ? null : h('p', { class: 'hint' }, t('case.transitionsHint')),
    h('div', { class: 'transitions' }, field('case.reason', reason), h('div', { class: 'buttons' }, buttons)));
}

function assignService(c, path, change) {
  const input = h('input', { type: 'text', name: 'service_id', id: 'triage-service', maxlength: '200', required: true });
  const button = h('button', { type: 'submit', class: 'primary' }, t('triage.assign'));
  const form = h('form', { class: 'transitions' }, field('triage.serviceId', input), button);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    change(button, () => api.patch(path, { version: c.version, service_id: input.value.trim() }), t('triage.assigned'));
  });
  return section('triage.assign', h('p', { class: 'hint' }, t('triage.hint')), form);
}

function noticeSection(c, path, sent, change) {
  const preview = h('div', { class: 'preview', id: 'notice-preview' });
  const show = async (language) => {
    try {
      const m = await api.get(`${path}/notices/preview`, { language });
      replace(preview,
        facts([['notices.template', m.template], ['notices.to', m.to.join(', ') || '—'], ['notices.subject', h('span', { class: 'notice-subject' }, m.subject)]]),
        h('pre', { class: 'mail' }, m.body));
    } catch (err) {
      replace(preview, failure(err));
    }
  };
  const canSend = c.customer_id && c.state !== 'closed';
  return section('case.notices',
    table([
      { label: 'col.time', class: 'nowrap', cell: (n) => time(n.sent_at ?? n.created_at) },
      { label: 'col.type', cell: (n) => `${n.kind} · ${n.template} · ${n.language}` },
      { label: 'notices.to', cell: (n) => n.recipients.join(', ') },
      { label: 'notices.subject', class: 'wide', cell: (n) => h('details', {}, h('summary', {}, n.subject), h('pre', { class: 'mail' }, n.body)) },
      { label: 'col.status', cell: (n) => [n.status, n.last_error ? h('div', { class: 'sub error-text' }, n.last_error) : null] },
    ], sent),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', class: 'secondary', 'data-preview': 'ja', onclick: () => show('ja') }, `${t('notices.preview')} (日本語)`),
      h('button', { type: 'button', class: 'secondary', 'data-preview': 'en', onclick: () => show('en') }, `${t('notices.preview')} (English)`),
      canSend ? h('button', {
        type: 'button', class: 'primary', id: 'send-notice',
        onclick: (e) => change(e.currentTarget, () => api.post(`${path}/notices`, { version: c.version }), t('notices.queued')),
      }, t('notices.send')) : null),
    preview);
}

const ACTIONS = ['suspend', 'unsuspend', 'null_route', 'remove_null_route', 'block_url', 'unblock_url', 'stop_program'];

function actionSection(c, path, actions, change) {
  const reason = h('input', { type: 'text', name: 'reason', maxlength: '5000' });
  const act = (a, verb, body) => h('button', {
    type: 'button', class: verb === 'approve' ? 'primary' : 'secondary', 'data-action': `${verb}-${a.id}`,
    onclick: (e) => change(e.currentTarget, () => api.post(`/api/v1/actions/${a.id}/${verb}`, body()), `${t(`actions.${verb}`)}: ${label('actionName', a.action)}`),
  }, t(`actions.${verb}`));
  const rows = table([
    { label: 'col.action', cell: (a) => [h('strong', {}, label('actionName', a.action)), a.dry_run ? h('div', { class: 'sub' }, t('actions.dryRun')) : null] },
    { label: 'actions.target', class: 'mono', cell: (a) => a.target },
    { label: 'col.status', cell: (a) => h('span', { class: ['badge', `action-${a.status.replace(/[^a-z_]/g, '')}`] }, label('action', a.status)) },
    { label: 'case.reason', class: 'wide', cell: (a) => a.reason },
    { label: 'actions.who', cell: (a) => [a.requested_by ?? '—', a.approved_by ? h('div', { class: 'sub' }, `✓ ${a.approved_by}`) : null] },
    { label: 'col.time', class: 'nowrap', cell: (a) => time(a.executed_at ?? a.approved_at ?? a.requested_at) },
    {
      label: 'col.change', cell: (a) => a.status === 'pending_approval' || a.status === 'proposed'
        ? [act(a, 'approve', () => ({})), ' ', act(a, 'reject', () => ({ reason: reason.value || t('actions.rejectedDefault') }))]
        : a.status === 'done' && !a.undone_by && !a.undo_of ? act(a, 'undo', () => ({ reason: reason.value || undefined })) : null,
    },
  ], actions, { class: 'actions' });
  return section('case.actions', rows, actions.length ? field('case.reason', reason) : null, c.state === 'closed' ? null : requestForm(path, change));
}

/** Asking for a restriction: the playbook (through the API) decides whether it is possible and needs approval. */
function requestForm(path, change) {
  const action = select('action', ACTIONS.map((a) => [a, label('actionName', a)]), 'suspend');
  const target = h('input', { type: 'text', name: 'target', maxlength: '2048', placeholder: t('actions.targetDefault') });
  const reason = h('input', { type: 'text', name: 'reason', maxlength: '5000', required: true });
  const dryRun = h('input', { type: 'checkbox', name: 'dry_run' });
  const button = h('button', { type: 'submit', class: 'danger' }, t('actions.request'));
  const form = h('form', { class: 'transitions action-form', id: 'action-form' },
    field('col.action', action), field('actions.target', target), field('case.reason', reason),
    h('label', { class: 'check' }, dryRun, t('actions.dryRun')), button);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = { action: action.value, reason: reason.value, dry_run: dryRun.checked, ...(target.value.trim() ? { target: target.value.trim() } : {}) };
    change(button, () => api.post(`${path}/actions`, body), `${t('actions.requested')}: ${label('actionName', action.value)}`);
  });
  return form;
}

function messageList(messages) {
  if (!messages.length) return h('p', { class: 'empty' }, t('common.none'));
  return h('ol', { class: 'timeline messages' }, messages.map((m) => h('li', {},
    h('div', { class: 'when' }, time(m.at), ` · ${label('message', m.kind)} · ${m.author}`),
    m.subject ? h('div', { class: 'what' }, m.subject) : null,
    h('pre', { class: 'mail' }, m.body))));
}

function noteForm(path, change) {
  const text = h('textarea', { name: 'text', rows: '3', maxlength: '100000', required: true, id: 'note-text' });
  const button = h('button', { type: 'submit', class: 'secondary' }, t('case.addNote'));
  const form = h('form', { class: 'note-form' }, field('case.note', text), button);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    change(button, () => api.post(`${path}/notes`, { text: text.value }), t('case.noteAdded'));
  });
  return form;
}

function timeline(entries) {
  if (!entries.length) return h('p', { class: 'empty' }, t('common.none'));
  return h('ol', { class: 'timeline', id: 'audit-trail' }, entries.map((e) => h('li', {},
    h('div', { class: 'when' }, time(e.at), ` · ${e.actor}`),
    h('div', { class: 'what' }, e.action),
    h('div', { class: 'detail' }, summarize(e.change)),
    h('div', { class: 'hash', title: e.hash }, `#${e.seq} ${e.hash.slice(0, 16)}…`))));
}

/** An audit change as "key: value" lines; nested values as compact JSON. */
function summarize(change) {
  return Object.entries(change ?? {}).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('\n');
}

function evidence(path) {
  const out = h('div', {});
  const button = h('button', {
    type: 'button', id: 'show-evidence', onclick: async () => {
      button.disabled = true;
      try {
        const { events } = await api.get(`${path}/events`, { limit: 200 });
        replace(out, table([
          { label: 'col.time', class: 'nowrap', cell: (e) => time(e.at) },
          { label: 'col.type', cell: (e) => e.event['classification.type'] ?? '—' },
          { label: 'col.source', class: 'mono', cell: (e) => e.event['source.ip'] ?? e.event['source.url'] ?? e.event['source.fqdn'] ?? '—' },
          { label: 'col.reporter', cell: (e) => e.reporter ?? '—' },
          { label: 'report.consent', cell: (e) => t(e.consent ? 'common.yes' : 'common.no') },
          { label: 'report.title', cell: (e) => e.report_id ? h('a', { href: route(`reports/${e.report_id}`) }, `#${e.report_id}`) : '—' },
          { label: 'report.fields', class: 'wide', cell: (e) => h('details', {}, h('summary', {}, t('report.fieldCount', { n: Object.keys(e.event).length })),
            h('pre', { class: 'raw-text' }, JSON.stringify(e.event, null, 2))) },
        ], events));
        button.remove();
      } catch (err) {
        button.disabled = false;
        replace(out, failure(err));
      }
    },
  }, t('case.showEvidence'));
  return section('case.events', h('p', { class: 'hint' }, t('case.evidenceNote')), button, out);
}
