// Labels in Japanese and English. Japanese is the default; the choice is kept in localStorage.
const LANG_KEY = 'madoguchi.lang';

const ja = {
  'app.name': '窓口', 'app.tagline': 'アビューズ対応デスク',
  'nav.dashboard': 'ダッシュボード', 'nav.reports': '受信報告', 'nav.quarantine': '隔離', 'nav.cases': 'ケース',
  'nav.triage': '振り分け待ち', 'nav.overdue': '期限超過', 'nav.notices': '通知テンプレート', 'nav.blocklists': 'ブロックリスト',
  'nav.attribute': '利用者検索', 'nav.stats': '年次統計', 'nav.signout': 'サインアウト',
  'signin.title': 'サインイン', 'signin.key': 'API キー', 'signin.hint': '`madoguchi apikey create --name 名前 --role operator` で発行したキーを入力してください。キーはこのタブを閉じると消去されます。',
  'signin.submit': 'サインイン', 'signin.bad': 'このキーは無効か、失効しています。', 'signin.role': 'このキーには受信報告を閲覧する権限（operator / legal）がありません。',
  'common.loading': '読み込み中…', 'common.none': 'ありません', 'common.more': 'さらに表示', 'common.search': '検索', 'common.all': 'すべて',
  'common.error': 'エラー', 'common.missing': 'このデスクの API にはまだこの機能がありません', 'common.forbidden': 'このキーでは閲覧できません',
  'common.notfound': '見つかりません', 'common.open': '未完了', 'common.yes': 'あり', 'common.no': 'なし', 'common.unknown': '不明',
  'common.cap': '件以上', 'common.download': 'ダウンロード', 'common.apply': '適用',
  'dash.reports24h': '新着報告（24時間）', 'dash.quarantine': '隔離中の報告', 'dash.triage': '振り分け待ち', 'dash.overdue': '期限超過',
  'dash.alerts': 'ブロックリスト警告（7日間）', 'dash.byState': '状態別の未完了ケース', 'dash.recent': '最近の受信報告',
  'reports.title': '受信報告', 'reports.quarantine': '隔離された報告', 'report.title': '報告',
  'col.id': 'ID', 'col.received': '受信日時', 'col.channel': '経路', 'col.status': '状態', 'col.parser': '解析器', 'col.subject': '件名',
  'col.reporter': '報告者', 'col.events': 'イベント', 'col.cases': 'ケース', 'col.time': '日時', 'col.type': '種別', 'col.source': '発信元',
  'col.customer': '顧客', 'col.service': 'サービス', 'col.attributed': '照合した値', 'col.number': 'ケース番号', 'col.category': '分類',
  'col.playbook': 'プレイブック', 'col.resource': '対象リソース', 'col.title': '件名', 'col.opened': '起票', 'col.age': '経過', 'col.due': '期限',
  'col.state': '状態', 'col.actor': '担当者', 'col.action': '操作', 'col.change': '内容', 'col.list': 'リスト', 'col.entries': 'エントリ',
  'col.unique': 'アドレス数', 'col.fresh': '鮮度（時間）', 'col.missed': '更新漏れ', 'col.churn': '増減/更新', 'col.listings': '当社掲載中',
  'col.delist': '解除までの中央値（時間）', 'col.precision': '精度', 'col.overlap': '重複の多いリスト', 'col.alerts': '警告', 'col.brand': 'ブランド',
  'col.serviceType': 'サービス種別', 'col.matched': '一致した割当', 'col.input': '入力', 'col.at': '時点', 'col.value': '値', 'col.key': '項目',
  'col.reports': '報告', 'col.median1': '初回通知まで', 'col.median2': '顧客回答まで', 'col.median3': '解決まで', 'col.assignee': '担当',
  'report.meta': '概要', 'report.size': 'サイズ', 'report.sha256': 'SHA-256', 'report.messageId': 'Message-ID', 'report.consent': '証拠転送の同意',
  'report.language': '言語', 'report.arrivals': '受信回数', 'report.parsedAt': '解析日時', 'report.reason': '隔離・却下の理由',
  'report.events': '解析されたイベント', 'report.raw': '生メッセージ', 'report.showRaw': '生メッセージを表示（テキストとして）',
  'report.rawNote': '報告は敵対的な内容を含み得るため、常にテキストとしてのみ表示します。', 'report.truncated': '先頭 {n} バイトのみ表示しています。',
  'report.reparse': '再解析', 'report.fieldCount': '{n} 項目', 'report.reparsed': '再解析しました', 'report.fields': '全項目',
  'cases.title': 'ケース', 'cases.filterState': '状態', 'cases.filterCustomer': '顧客 ID', 'cases.filterCategory': '分類', 'cases.order': '並び順',
  'cases.oldest': '古い順', 'cases.newest': '新しい順', 'case.title': 'ケース', 'case.facts': '概要', 'case.clocks': '所要時間',
  'case.transitions': '状態の変更', 'case.transitionsHint': 'API は許可される遷移を返さないため、すべての状態を表示しています。不可能な変更は API が理由とともに拒否します。', 'case.reason': '理由（記録に残ります）',
  'case.timeline': '記録（監査ログ）', 'case.notices': '通知', 'case.actions': '措置', 'case.events': 'イベント', 'case.messages': 'メッセージ',
  'case.legal': '法務限定', 'case.misuse': '不正利用の種類', 'case.overdue': '期限超過', 'case.moved': '状態を変更しました',
  'case.conflict': '他の担当者が先に更新しました。再読み込みしてください。', 'case.version': '版',
  'triage.title': '振り分け待ち', 'triage.hint': '利用者を特定できなかったイベントのケースです。サービスを指定すると新規ケースになります。',
  'triage.assign': 'サービスを指定', 'triage.serviceId': 'サービス ID',
  'overdue.title': '期限超過キュー',
  'notices.title': '通知テンプレートのプレビュー', 'notices.template': 'テンプレート', 'notices.lang': '言語', 'notices.case': 'ケース番号',
  'notices.preview': 'プレビュー', 'notices.playbookDefault': 'プレイブックの既定', 'notices.kind': '種類', 'notices.kind.notice': '初回通知', 'notices.kind.reminder': '督促', 'notices.kind.escalation': 'エスカレーション', 'notices.noCase': 'プレビューには顧客が特定されたケースが必要です。ケース番号を入力してください。', 'notices.subject': '件名', 'notices.body': '本文',
  'bl.title': 'ブロックリストの品質', 'bl.hint': '各リストの鮮度・増減・重複・当社アドレスの掲載状況と、確認済みアビューズに対する精度。',
  'attr.title': '利用者検索', 'attr.hint': 'IP アドレス、CIDR、ドメイン、ホスト名、URL、メールアドレスから、その時点の契約者とサービスを調べます。',
  'attr.resource': 'リソース', 'attr.at': '時点（任意・省略時は現在）', 'attr.nomatch': '該当する割当はありません',
  'stats.title': '年次統計', 'stats.year': '年', 'stats.issued': '発番したケース番号', 'stats.open': '未完了ケース', 'stats.medians': '所要時間の中央値',
  'stats.byCategory': '分類別', 'stats.legal': '警察・法的要請', 'stats.csv': 'CSV で保存',
  'state.new': '新規', 'state.triage': '振り分け待ち', 'state.notified': '通知済み（回答待ち）', 'state.customer_replied': '顧客回答あり',
  'state.resolved': '解決', 'state.no_action': '対応不要', 'state.escalated': 'エスカレーション', 'state.closed': '完了',
  'status.received': '受信', 'status.parsed': '解析済み', 'status.rejected': '対象外', 'status.quarantined': '隔離',
  'cat.spam_phishing': '迷惑メール・フィッシング', 'cat.security_incident': 'セキュリティインシデント',
  'cat.rights_infringement': '権利侵害', 'cat.other_illegal': 'その他の違法情報',
  'legal.police_inquiry': '警察からの照会', 'legal.warrant': '令状', 'legal.takedown_request': '送信防止措置の依頼',
  'legal.disclosure_request': '発信者情報開示請求', 'legal.other': 'その他',
  'case.legalKind': '法的要請の種類', 'case.reopened': '再開回数', 'case.addNote': 'メモを追加', 'case.note': '内部メモ', 'case.noteAdded': 'メモを追加しました',
  'case.showEvidence': '証拠を表示', 'case.evidenceNote': '証拠（イベント）の閲覧は監査ログに記録されます。',
  'triage.assigned': 'サービスを指定しました', 'notices.to': '宛先', 'notices.queued': '通知を送信キューに入れました', 'notices.send': 'この通知を送信',
  'actions.approve': '承認', 'actions.reject': '却下', 'actions.undo': '取り消し', 'actions.who': '依頼者 / 承認者', 'actions.rejectedDefault': '却下',
  'action.proposed': '提案', 'action.pending_approval': '承認待ち', 'action.done': '実施済み', 'action.failed': '失敗', 'action.dry_run': '試行済み（dry run）', 'action.rejected': '却下',
  'misuse.fraudulent_contract': '不正契約', 'misuse.compromised': '第三者による侵害', 'misuse.reseller': '再販事業者', 'misuse.grey_use': '契約者によるグレーな利用',
  'message.note': 'メモ', 'message.customer_reply': '顧客からの回答', 'message.reporter_message': '報告者からのメール', 'message.other_message': 'その他のメール',
  'newcase.title': 'ケースを起票', 'newcase.hint': '電話・郵便・警察などで受けた連絡をケースにします。法的要請は法務権限のあるキーでのみ起票できます。',
  'newcase.channel': '受付経路', 'newcase.byPlaybook': 'プレイブックに従う', 'newcase.description': '内容（記録に残ります）', 'newcase.open': '起票する',
  'channel.phone': '電話', 'channel.letter': '郵便', 'channel.fax': 'FAX', 'channel.mail': 'メール', 'channel.web': 'Web フォーム', 'channel.in_person': '来訪',
  'channel.police': '警察', 'channel.court': '裁判所',
  'actions.target': '対象', 'actions.targetDefault': '省略時はケースの対象', 'actions.dryRun': '試行のみ（dry run）', 'actions.request': '措置を依頼', 'actions.requested': '措置を依頼しました',
  'actionName.suspend': '利用停止', 'actionName.unsuspend': '利用停止の解除', 'actionName.null_route': 'ヌルルート', 'actionName.remove_null_route': 'ヌルルートの解除',
  'actionName.block_url': 'URL の遮断', 'actionName.unblock_url': 'URL 遮断の解除', 'actionName.stop_program': 'プログラムの停止',
  'dur.d': '日', 'dur.h': '時間', 'dur.m': '分', 'dur.s': '秒',
};

const en = {
  'app.name': 'Madoguchi', 'app.tagline': 'Abuse desk',
  'nav.dashboard': 'Dashboard', 'nav.reports': 'Reports', 'nav.quarantine': 'Quarantine', 'nav.cases': 'Cases',
  'nav.triage': 'Triage queue', 'nav.overdue': 'Overdue', 'nav.notices': 'Notice templates', 'nav.blocklists': 'Blocklists',
  'nav.attribute': 'Attribution', 'nav.stats': 'Annual statistics', 'nav.signout': 'Sign out',
  'signin.title': 'Sign in', 'signin.key': 'API key', 'signin.hint': 'Enter a key made with `madoguchi apikey create --name NAME --role operator`. It is forgotten when this tab closes.',
  'signin.submit': 'Sign in', 'signin.bad': 'This key is unknown or revoked.', 'signin.role': 'This key lacks the role to read reports (operator or legal).',
  'common.loading': 'Loading…', 'common.none': 'None', 'common.more': 'More', 'common.search': 'Search', 'common.all': 'All',
  'common.error': 'Error', 'common.missing': 'This desk\'s API does not offer this yet', 'common.forbidden': 'This key may not see this',
  'common.notfound': 'Not found', 'common.open': 'Open', 'common.yes': 'yes', 'common.no': 'no', 'common.unknown': 'unknown',
  'common.cap': ' or more', 'common.download': 'Download', 'common.apply': 'Apply',
  'dash.reports24h': 'New reports (24 h)', 'dash.quarantine': 'Quarantined reports', 'dash.triage': 'Triage queue', 'dash.overdue': 'Overdue',
  'dash.alerts': 'Blocklist alerts (7 days)', 'dash.byState': 'Open cases by state', 'dash.recent': 'Latest reports',
  'reports.title': 'Reports', 'reports.quarantine': 'Quarantined reports', 'report.title': 'Report',
  'col.id': 'ID', 'col.received': 'Received', 'col.channel': 'Channel', 'col.status': 'Status', 'col.parser': 'Parser', 'col.subject': 'Subject',
  'col.reporter': 'Reporter', 'col.events': 'Events', 'col.cases': 'Cases', 'col.time': 'Time', 'col.type': 'Type', 'col.source': 'Source',
  'col.customer': 'Customer', 'col.service': 'Service', 'col.attributed': 'Matched on', 'col.number': 'Case', 'col.category': 'Category',
  'col.playbook': 'Playbook', 'col.resource': 'Resource', 'col.title': 'Title', 'col.opened': 'Opened', 'col.age': 'Age', 'col.due': 'Due',
  'col.state': 'State', 'col.actor': 'Actor', 'col.action': 'Action', 'col.change': 'Change', 'col.list': 'List', 'col.entries': 'Entries',
  'col.unique': 'Addresses', 'col.fresh': 'Age (h)', 'col.missed': 'Missed updates', 'col.churn': 'Added/removed per update', 'col.listings': 'Our listings',
  'col.delist': 'Median hours to delisting', 'col.precision': 'Precision', 'col.overlap': 'Most overlapping lists', 'col.alerts': 'Alerts', 'col.brand': 'Brand',
  'col.serviceType': 'Service type', 'col.matched': 'Matched assignment', 'col.input': 'Input', 'col.at': 'At', 'col.value': 'Value', 'col.key': 'Field',
  'col.reports': 'Reports', 'col.median1': 'To first notice', 'col.median2': 'To customer answer', 'col.median3': 'To resolution', 'col.assignee': 'Assignee',
  'report.meta': 'Summary', 'report.size': 'Size', 'report.sha256': 'SHA-256', 'report.messageId': 'Message-ID', 'report.consent': 'Evidence forwarding consent',
  'report.language': 'Language', 'report.arrivals': 'Arrivals', 'report.parsedAt': 'Parsed', 'report.reason': 'Quarantine / rejection reason',
  'report.events': 'Parsed events', 'report.raw': 'Raw message', 'report.showRaw': 'Show the raw message (as text)',
  'report.rawNote': 'Reports may carry hostile content: they are only ever shown as plain text.', 'report.truncated': 'Showing the first {n} bytes only.',
  'report.reparse': 'Parse again', 'report.fieldCount': '{n} fields', 'report.reparsed': 'Parsed again', 'report.fields': 'All fields',
  'cases.title': 'Cases', 'cases.filterState': 'State', 'cases.filterCustomer': 'Customer ID', 'cases.filterCategory': 'Category', 'cases.order': 'Order',
  'cases.oldest': 'Oldest first', 'cases.newest': 'Newest first', 'case.title': 'Case', 'case.facts': 'Summary', 'case.clocks': 'Clocks',
  'case.transitions': 'Change state', 'case.transitionsHint': 'The API does not say which moves are allowed, so every state is offered; the API refuses an impossible move and says why.', 'case.reason': 'Reason (kept in the record)',
  'case.timeline': 'Record (audit trail)', 'case.notices': 'Notices', 'case.actions': 'Actions', 'case.events': 'Events', 'case.messages': 'Messages',
  'case.legal': 'Legal only', 'case.misuse': 'Kind of misuse', 'case.overdue': 'Overdue', 'case.moved': 'State changed',
  'case.conflict': 'Someone else changed this case first. Reload it.', 'case.version': 'Version',
  'triage.title': 'Triage queue', 'triage.hint': 'Cases whose events no customer could be found for. Naming the service makes them new cases.',
  'triage.assign': 'Name the service', 'triage.serviceId': 'Service ID',
  'overdue.title': 'Overdue queue',
  'notices.title': 'Notice template preview', 'notices.template': 'Template', 'notices.lang': 'Language', 'notices.case': 'Case number',
  'notices.preview': 'Preview', 'notices.playbookDefault': 'Playbook default', 'notices.kind': 'Kind', 'notices.kind.notice': 'First notice', 'notices.kind.reminder': 'Reminder', 'notices.kind.escalation': 'Escalation', 'notices.noCase': 'A preview needs a case with a known customer: enter a case number.', 'notices.subject': 'Subject', 'notices.body': 'Body',
  'bl.title': 'Blocklist quality', 'bl.hint': 'Per list: freshness, churn, overlap, our addresses listed, and precision against confirmed abuse.',
  'attr.title': 'Attribution', 'attr.hint': 'Who held an IP address, CIDR, domain, host name, URL or e-mail address, now or at a given time.',
  'attr.resource': 'Resource', 'attr.at': 'At (optional; now when empty)', 'attr.nomatch': 'No assignment matches',
  'stats.title': 'Annual statistics', 'stats.year': 'Year', 'stats.issued': 'Case numbers issued', 'stats.open': 'Open cases', 'stats.medians': 'Median times',
  'stats.byCategory': 'By category', 'stats.legal': 'Police and legal requests', 'stats.csv': 'Save as CSV',
  'state.new': 'New', 'state.triage': 'Triage', 'state.notified': 'Notified', 'state.customer_replied': 'Customer replied',
  'state.resolved': 'Resolved', 'state.no_action': 'No action', 'state.escalated': 'Escalated', 'state.closed': 'Closed',
  'status.received': 'Received', 'status.parsed': 'Parsed', 'status.rejected': 'Rejected', 'status.quarantined': 'Quarantined',
  'cat.spam_phishing': 'Spam and phishing', 'cat.security_incident': 'Security incident',
  'cat.rights_infringement': 'Rights infringement', 'cat.other_illegal': 'Other illegal content',
  'legal.police_inquiry': 'Police inquiry', 'legal.warrant': 'Warrant', 'legal.takedown_request': 'Takedown request',
  'legal.disclosure_request': 'Disclosure request', 'legal.other': 'Other',
  'case.legalKind': 'Legal request', 'case.reopened': 'Reopened', 'case.addNote': 'Add note', 'case.note': 'Internal note', 'case.noteAdded': 'Note added',
  'case.showEvidence': 'Show the evidence', 'case.evidenceNote': 'Every look at the evidence (events) is recorded in the audit trail.',
  'triage.assigned': 'Service named', 'notices.to': 'To', 'notices.queued': 'Notice queued for sending', 'notices.send': 'Send this notice',
  'actions.approve': 'Approve', 'actions.reject': 'Reject', 'actions.undo': 'Undo', 'actions.who': 'Requested / approved by', 'actions.rejectedDefault': 'rejected',
  'action.proposed': 'Proposed', 'action.pending_approval': 'Waiting for approval', 'action.done': 'Done', 'action.failed': 'Failed', 'action.dry_run': 'Dry run', 'action.rejected': 'Rejected',
  'misuse.fraudulent_contract': 'Fraudulent contract', 'misuse.compromised': 'Compromised by a third party', 'misuse.reseller': 'Reseller', 'misuse.grey_use': 'Grey use by the customer',
  'message.note': 'Note', 'message.customer_reply': 'Customer reply', 'message.reporter_message': 'Reporter mail', 'message.other_message': 'Other mail',
  'newcase.title': 'Open a case', 'newcase.hint': 'A case for what arrived by phone, letter, from the police or a court. Legal requests need a key with the legal role.',
  'newcase.channel': 'Arrived by', 'newcase.byPlaybook': 'From the playbook', 'newcase.description': 'What was said (kept in the record)', 'newcase.open': 'Open the case',
  'channel.phone': 'Phone', 'channel.letter': 'Letter', 'channel.fax': 'Fax', 'channel.mail': 'Mail', 'channel.web': 'Web form', 'channel.in_person': 'In person',
  'channel.police': 'Police', 'channel.court': 'Court',
  'actions.target': 'Target', 'actions.targetDefault': 'the case\'s resource when empty', 'actions.dryRun': 'Dry run only', 'actions.request': 'Request action', 'actions.requested': 'Action requested',
  'actionName.suspend': 'Suspend service', 'actionName.unsuspend': 'Unsuspend service', 'actionName.null_route': 'Null-route', 'actionName.remove_null_route': 'Remove null-route',
  'actionName.block_url': 'Block URL', 'actionName.unblock_url': 'Unblock URL', 'actionName.stop_program': 'Stop program',
  'dur.d': 'd', 'dur.h': 'h', 'dur.m': 'min', 'dur.s': 's',
};

const dictionaries = { ja, en };
export const LANGUAGES = ['ja', 'en'];

let current = LANGUAGES.includes(localStorage.getItem(LANG_KEY)) ? localStorage.getItem(LANG_KEY) : 'ja';

export function lang() { return current; }

export function setLang(l) {
  if (!LANGUAGES.includes(l)) return;
  current = l;
  localStorage.setItem(LANG_KEY, l);
  document.documentElement.lang = l;
}

/** The label for a key in the current language; unknown keys show as themselves (a visible gap, not a blank). */
export function t(key, vars) {
  const s = dictionaries[current][key] ?? dictionaries.en[key] ?? key;
  return vars ? s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? '')) : s;
}

/** A label for a value from the API (state, status, category...), or the value itself when there is none. */
export function label(prefix, value) {
  if (value == null) return '—';
  const key = `${prefix}.${value}`;
  return dictionaries[current][key] ?? dictionaries.en[key] ?? String(value);
}

export function formatTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(current === 'ja' ? 'ja-JP' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function formatNumber(n) {
  return n == null ? '—' : new Intl.NumberFormat(current === 'ja' ? 'ja-JP' : 'en-US').format(n);
}

/** A duration in seconds as "2 d 3 h" / "2日 3時間": the two largest units. */
export function formatDuration(seconds) {
  if (seconds == null) return '—';
  /** @type {[string, number][]} */
  const units = [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]];
  const parts = [];
  let rest = Math.max(0, Math.round(seconds));
  for (const [u, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0 || (u === 's' && parts.length === 0)) parts.push(current === 'ja' ? `${n}${t(`dur.${u}`)}` : `${n} ${t(`dur.${u}`)}`);
    rest -= n * size;
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}
