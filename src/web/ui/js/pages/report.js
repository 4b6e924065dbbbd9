// One report: what the desk made of it (events, cases, quarantine reason) and, on request, the
// raw message. The raw message is evidence and hostile input at once: it is decoded as text and
// written with textContent into a <pre>, never parsed as HTML, never opened as a document.
import { api } from '../api.js';
import { badge, download, facts, failure, h, notice, pageHeader, replace, section, table, time } from '../dom.js';
import { formatNumber, label, t } from '../i18n.js';
import { caseLinks } from './reports.js';

/** Enough for any human-written report; a 40 MB CSV feed is offered as a download instead. */
const SHOWN_BYTES = 512 * 1024;

export async function render([id]) {
  const root = h('div', { class: 'report-page' });
  await draw(root, id);
  return root;
}

async function draw(root, id, flash) {
  const r = await api.get(`/api/v1/reports/${id}`, { events: 500 });
  replace(root,
    pageHeader(`${t('report.title')} #${r.id}`, [badge('status', r.status)], [reparseButton(r, root)]),
    flash,
    r.reason ? notice(r.status === 'quarantined' ? 'warn' : 'info', [h('strong', {}, `${t('report.reason')}: `), h('span', { id: 'report-reason' }, r.reason)]) : null,
    section('report.meta', facts([
      ['col.subject', h('span', { id: 'report-subject' }, r.subject ?? '—')],
      ['col.received', time(r.received_at)],
      ['col.channel', r.content_type ? `${r.channel} (${r.content_type})` : r.channel],
      ['col.reporter', [r.reporter_name, r.reporter_email].filter(Boolean).join(' ') || null],
      ['report.messageId', r.message_id],
      ['col.parser', r.parser],
      ['report.parsedAt', r.parsed_at ? time(r.parsed_at) : null],
      ['report.consent', r.forward_consent == null ? t('common.unknown') : t(r.forward_consent ? 'common.yes' : 'common.no')],
      ['report.language', r.language],
      ['report.size', `${formatNumber(r.size)} B`],
      ['report.arrivals', r.arrivals > 1 ? String(r.arrivals) : null],
      ['report.sha256', h('code', {}, r.sha256)],
      ['col.cases', caseLinks(r.cases)],
    ])),
    section('report.events', eventsTable(r.events ?? [])),
    section('report.raw', h('p', { class: 'hint' }, t('report.rawNote')), rawViewer(r)));
}

export function eventsTable(events) {
  return table([
    { label: 'col.time', class: 'nowrap', cell: (e) => time(e.time) },
    { label: 'col.type', cell: (e) => e.classification_type ?? '—' },
    { label: 'col.source', class: 'mono', cell: (e) => e.source_ip ?? e.event?.['source.fqdn'] ?? e.event?.['source.url'] ?? '—' },
    { label: 'col.customer', cell: (e) => e.customer_id ?? '—' },
    { label: 'col.service', cell: (e) => e.service_id ?? '—' },
    { label: 'col.attributed', cell: (e) => e.attributed_to ?? '—' },
    { label: 'report.fields', class: 'wide', cell: (e) => eventFields(e.event ?? {}) },
  ], events, { class: 'events' });
}

/** Every key of the flat event, folded away: a Shadowserver row has dozens. */
function eventFields(event) {
  const keys = Object.keys(event).sort();
  return h('details', {}, h('summary', {}, t('report.fieldCount', { n: keys.length })),
    h('dl', { class: 'kv' }, keys.map((k) => [h('dt', {}, k), h('dd', {}, typeof event[k] === 'string' ? event[k] : JSON.stringify(event[k]))])));
}

function reparseButton(r, root) {
  return h('button', {
    type: 'button', class: 'secondary', onclick: async (e) => {
      e.currentTarget.disabled = true;
      try {
        const a = await api.post(`/api/v1/reports/${r.id}/reparse`);
        await draw(root, r.id, notice('ok', `${t('report.reparsed')}: ${label('status', a.status)}, ${t('col.events')} ${a.events}`));
      } catch (err) {
        root.prepend(failure(err));
      }
    },
  }, t('report.reparse'));
}

function rawViewer(r) {
  const out = h('div', { class: 'raw' });
  const show = h('button', {
    type: 'button', id: 'show-raw', onclick: async () => {
      show.disabled = true;
      try {
        const res = await api.raw(`/api/v1/reports/${r.id}/raw`);
        const bytes = new Uint8Array(await res.arrayBuffer());
        const shown = bytes.subarray(0, SHOWN_BYTES);
        const pre = h('pre', { class: 'raw-text', id: 'raw-text' });
        pre.textContent = new TextDecoder('utf-8', { fatal: false }).decode(shown);
        replace(out, bytes.length > SHOWN_BYTES ? notice('info', t('report.truncated', { n: formatNumber(SHOWN_BYTES) })) : null,
          pre, h('button', { type: 'button', class: 'secondary', onclick: () => download(bytes, `report-${r.id}.eml`) }, t('common.download')));
        show.remove();
      } catch (err) {
        show.disabled = false;
        out.replaceChildren(failure(err));
      }
    },
  }, t('report.showRaw'));
  return h('div', {}, show, out);
}
