// Which lists deserve trust: the quality report of the blocklist watch, one row per list.
import { api } from '../api.js';
import { h, notice, pageHeader, section, table, time } from '../dom.js';
import { formatNumber, t } from '../i18n.js';

const num = (n) => formatNumber(n);
const percent = (x) => `${Math.round(x * 100)}%`;

export async function render() {
  const [{ lists }, { alerts }] = await Promise.all([api.get('/api/v1/blocklists'), api.get('/api/v1/blocklists/alerts', { limit: 50 })]);
  return h('div', {},
    pageHeader(t('bl.title')),
    h('p', { class: 'hint' }, t('bl.hint')),
    table([
      { label: 'col.list', cell: (l) => [h('strong', {}, l.list), h('div', { class: 'sub' }, [l.category, l.maintainer].filter(Boolean).join(' · ') || l.location)] },
      { label: 'col.status', cell: (l) => [h('span', { class: ['badge', `list-${l.status.replace(/[^a-z_]/g, '')}`] }, l.status), l.error ? h('div', { class: 'sub error-text' }, l.error) : null] },
      { label: 'col.entries', class: 'num', cell: (l) => [num(l.entries), l.malformed ? h('div', { class: 'sub warn-text' }, `${num(l.malformed)} malformed`) : null] },
      { label: 'col.unique', class: 'num', cell: (l) => num(l.unique_ips) },
      { label: 'col.fresh', class: 'num', cell: (l) => [l.freshness.age_hours == null ? '—' : num(l.freshness.age_hours), h('div', { class: 'sub' }, time(l.freshness.source_date))] },
      { label: 'col.missed', class: 'num', cell: (l) => l.freshness.missed_updates == null ? '—' : h('span', { class: l.freshness.missed_updates > 0 ? 'warn-text' : null }, num(l.freshness.missed_updates)) },
      { label: 'col.churn', class: 'num', cell: (l) => l.churn.avg_added == null ? '—' : `+${num(l.churn.avg_added)} / −${num(l.churn.avg_removed)}` },
      { label: 'col.listings', class: 'num', cell: (l) => `${num(l.listings.active)} / ${num(l.listings.total)}` },
      { label: 'col.delist', class: 'num', cell: (l) => l.listings.median_hours_to_delisting == null ? '—' : num(l.listings.median_hours_to_delisting) },
      { label: 'col.precision', class: 'num', cell: (l) => l.precision ? `${percent(l.precision.ratio)} (${l.precision.confirmed}/${l.precision.listed_netblocks})` : '—' },
      { label: 'col.overlap', cell: (l) => l.overlap.length ? h('ul', { class: 'plain' }, l.overlap.map((o) => h('li', {}, `${o.list} ${percent(o.share)}`))) : '—' },
    ], lists, { class: 'blocklists' }),
    section('col.alerts', alerts.length
      ? table([
        { label: 'col.time', class: 'nowrap', cell: (a) => time(a.created_at) },
        { label: 'col.list', cell: (a) => a.list },
        { label: 'col.type', cell: (a) => a.kind },
        { label: 'col.change', class: 'wide', cell: (a) => a.message },
      ], alerts)
      : notice('ok', t('common.none'))));
}
