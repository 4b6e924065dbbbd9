// What a human-written report is about, from its words (English and Japanese), whether the
// reporter lets its evidence reach the customer, and which language it is written in.

/** `weight` below 1 for words reporters use loosely ("不正アクセス" for almost anything). */
interface Rule { type: string; identifier?: string; re: RegExp; weight?: number }

// More specific kinds first: on a tie the earlier rule wins. Patterns are lower case: the text is
// lower-cased once, which lets the regular expressions run without the slower case-folding mode.
const WRITTEN: Rule[] = [
  { type: 'phishing', re: /phish|smishing|credential harvest|fake login|asks? (?:for|you for) (?:the |your |my )?(?:\w+ )?(?:password|credentials|card details|card number)|フィッシング|偽サイト|偽の(?:ログイン|サイト|ページ)|なりすましサイト|偽装サイト/y },
  // A shop that takes the money and sends nothing (or fakes): fraud, not the brand's copyright.
  { type: 'masquerade', re: /fake (?:online )?(?:shop|store)|fraudulent (?:online )?(?:shop|store)|scam (?:shop|store)|詐欺サイト|偽(?:の)?(?:ショッピング|通販)サイト|偽ショップ|詐欺ショップ|偽通販/y },
  { type: 'copyright', re: /copyright|dmca|pirated|piracy|infring|著作権|著作物|海賊版|無断(?:で)?(?:転載|公開|アップロード|使用|複製|掲載)|違法(?:に)?(?:アップロード|配信|公開|コピー)/y },
  // The provider liability law's procedures (takedown, sender disclosure) serve every right: most
  // are copyright, but the right a request names (名誉権, プライバシー) outweighs them.
  { type: 'copyright', re: /送信防止措置|権利侵害|発信者情報(?:の)?開示/y, weight: 0.25 },
  { type: 'copyright', identifier: 'trademark', re: /trademark|counterfeit|商標|偽ブランド|模倣品|偽物/y },
  { type: 'harmful-speech', identifier: 'defamation', re: /defamat|harass|doxx|名誉(?:を)?(?:毀|棄)損|名誉権|誹謗中傷|プライバシー(?:の)?(?:侵害|権)|肖像権|削除依頼/y },
  { type: 'c2-server', re: /command[- ]and[- ]control|\bc2\b|\bc&c\b|botnet controller|c2サーバ|指令サーバ/y },
  { type: 'malware-distribution', re: /malware (?:hosting|distribution|download|attack|site|url)|distribut\w* malware|(?:hosting|serving|spreading) malware|malware (?:is|being) (?:hosted|served|distributed)|malicious (?:file|download|payload|software|content)|virus(?:es)? sites?|(?:マルウェア|ウイルス|ウィルス|不正プログラム|悪性ファイル)(?:の|が|を)?(?:配布|設置|ダウンロードさせ)/y },
  { type: 'application-compromise', identifier: 'defacement', re: /defac|web ?shell|compromised (?:web)?site|hacked (?:web)?site|injected (?:script|code)|改ざん|改竄|書き換えられ|不正なスクリプト|不審な外部スクリプト/y },
  // A service open to the world that can be misused for reflection (what a CERT reports before
  // any attack); an attack through it is ddos.
  { type: 'ddos-amplifier', re: /open (?:dns )?resolvers?|open (?:memcached|ntp|ssdp|chargen|cldap|snmp|portmap)|オープンリゾルバ/y },
  { type: 'ddos', re: /\bd?dos\b|denial[- ]of[- ]service|flood|amplification|reflect\w* attack|dos攻撃|サービス妨害|反射型|踏み台/y },
  { type: 'ddos', re: /大量の(?:パケット|トラフィック)|(?:パケット|トラフィック)が大量/y, weight: 0.5 },
  { type: 'brute-force', re: /brute[- ]?forc|failed password|authentication fail(?:ure|ed)|invalid user|login attempts?|fail(?:ed)? (?:to )?(?:log ?in|sign ?in|logon)|log(?:in|on) fail|failed logins?|password guessing|credential stuffing|guess\w* (?:the )?passwords?|dictionary attack|総当たり|総当り|ブルートフォース|パスワードリスト|リスト型攻撃|不正ログイン|ログイン試行|認証失敗|辞書攻撃/y },
  { type: 'scanner', re: /port ?scan|scanning|\bscans?\b|probing|harvest(?:ing|er)|スキャン|ポートスキャン|探索行為/y },
  { type: 'exploit', re: /exploit|sql injection|\bsqli\b|\brce\b|remote code execution|脆弱性を(?:狙|悪用|突)|攻撃コード|インジェクション|directory traversal|path traversal|ディレクトリ(?:・)?トラバーサル|クロスサイトスクリプティング/y },
  { type: 'infected-system', re: /infected|\bbot\b|botnet|malware infection|sinkhole|感染|ボット/y },
  { type: 'spam', re: /\bspam|unsolicited|junk mail|bulk mail|迷惑メール|スパム|広告メール|大量送信|特定電子メール/y },
  { type: 'unauthorised-information-access', re: /unauthori[sz]ed access|不正アクセス/y, weight: 0.5 },
];
// A space in a rule is any run of white space: words wrap at a line end ("password\nguessing").
const RULES: Rule[] = WRITTEN.map((r) => ({ ...r, re: new RegExp(r.re.source.replace(/ /g, '\\s+'), 'y') }));

// One scan of all rules still counting finds each place where one matches; only there are the
// rules tried one by one (their expressions are sticky). The counts are those of one global scan
// per rule; over 8,000 characters of pasted logs it took 41 instead of 53 us with no rule
// matching, 58 instead of 118 us with one rule matching every line.
const anyRule = new Map<number, RegExp>();

function anyOf(open: number): RegExp {
  let re = anyRule.get(open);
  if (!re) {
    // Which rules reach their cap first is up to the text: reports written to vary it could
    // otherwise fill the cache with up to 2^(number of rules) compiled expressions.
    if (anyRule.size >= 256) anyRule.clear();
    re = new RegExp(RULES.filter((_, i) => open & (1 << i)).map((r) => r.re.source).join('|'), 'g');
    anyRule.set(open, re);
  }
  return re;
}

function ruleCounts(text: string, cap: number): number[] {
  const counts = RULES.map(() => 0);
  // Where each rule's own scan would look next: a rule's matches do not overlap each other.
  const next = RULES.map(() => 0);
  let open = (1 << RULES.length) - 1;
  let from = 0;
  while (open) {
    const any = anyOf(open);
    any.lastIndex = from;
    const m = any.exec(text);
    if (!m) break;
    const at = m.index;
    for (let i = 0; i < RULES.length; i++) {
      if (!(open & (1 << i)) || next[i] > at) continue;
      const re = RULES[i].re;
      re.lastIndex = at;
      if (!re.test(text)) continue;
      next[i] = re.lastIndex;
      if (++counts[i] >= cap) open &= ~(1 << i);
    }
    from = at + 1;
  }
  return counts;
}

/**
 * The text as the rules read it: lower case, half-width katakana (ﾌﾞﾙｰﾄﾌｫｰｽ, from old mailers
 * and SJIS terminals) as full-width, and Japanese words wrapped at a line end joined again
 * (Japanese wraps with no space between words).
 */
function wordsOf(text: string): string {
  let t = text.toLowerCase();
  if (/[\uff61-\uff9f]/.test(t)) t = t.replace(/[\uff61-\uff9f]+/g, (k) => k.normalize('NFKC'));
  return t.replace(/([^\x00-\x7f])[ \t]*\r?\n[ \t]*(?=[^\x00-\x7f])/g, '$1');
}

/** The classification type and identifier with the most evidence; subject words count three times. */
export function classifyText(subject: string, fullBody: string): { type: string; identifier?: string } | null {
  // What a report is about is said before the pasted logs; counts are capped anyway.
  const body = fullBody.length > 8000 ? fullBody.slice(0, 8000) : fullBody;
  const inSubject = ruleCounts(wordsOf(subject), Infinity);
  const inBody = ruleCounts(wordsOf(body), 4);
  let best: { rule: Rule; score: number } | null = null;
  RULES.forEach((rule, i) => {
    const score = (inSubject[i] * 3 + inBody[i]) * (rule.weight ?? 1);
    if (score > 0 && (!best || score > best.score)) best = { rule, score };
  });
  const b = best as { rule: Rule; score: number } | null;
  return b ? { type: b.rule.type, identifier: b.rule.identifier } : null;
}

const FORWARD_NO = /(?:do\s+not|don't|please\s+don't|not\s+to|must\s+not|may\s+not|should\s+not)\s+(?:forward|share|disclose|pass)|not\s+(?:be\s+)?(?:forwarded|shared|disclosed)|without\s+(?:our|my)\s+(?:consent|permission)|confidential|転送(?:は|を)?(?:ご遠慮|お控え|しないで|禁止|不可|お断り|なさらない)|開示(?:は|を)?(?:ご遠慮|お控え|しないで|不可)|提供(?:は|を)?ご遠慮|非開示/i;
const FORWARD_YES = /(?:may|can|feel\s+free\s+to|are\s+welcome\s+to|you're\s+welcome\s+to|free\s+to)\s+(?:forward|share|pass)|(?:forwarding|sharing)\s+(?:is|this)\s+(?:ok|fine|permitted)|no\s+objection\s+to\s+(?:forward|shar)|転送(?:して|していただいて|頂いて|いただいて)?(?:も)?(?:構いません|かまいません|差し支えありません|問題ありません|結構です|可)|開示(?:して)?(?:も)?(?:構いません|差し支えありません)/i;

const CONSENT = new RegExp(`(?<no>${FORWARD_NO.source})|(?<yes>${FORWARD_YES.source})`, 'i');
const CONSENT_WORD = /forward|shar|disclos|confidential|consent|permission|転送|開示|提供/gi;

/** true / false when the report says whether its evidence may be passed to the customer. */
export function forwardConsent(text: string): boolean | null {
  // Only the sentences around a key word are read: the phrases are long, reports are not short.
  let found: boolean | null = null;
  let upTo = -1;
  for (const w of text.matchAll(CONSENT_WORD)) {
    if (w.index! < upTo) continue;
    const from = Math.max(0, w.index! - 60), to = w.index! + 80;
    upTo = to;
    // Japanese mails wrap lines inside a phrase (転送して\nいただいて): join such lines first.
    const window = text.slice(from, to).replace(/([^\x00-\x7f])[ \t]*\r?\n[ \t]*(?=[^\x00-\x7f])/g, '$1').replace(/\s*\n\s*/g, ' ');
    const m = CONSENT.exec(window);
    if (!m) continue;
    // A refusal anywhere outweighs a permission.
    if (m.groups!.no !== undefined) return false;
    found = true;
  }
  return found;
}

/** Japanese when ten kana or kanji turn up (or they are a fair share of a short text); English when letters do. */
export function detectLanguage(...texts: string[]): 'ja' | 'en' | null {
  let ja = 0, latin = 0, seen = 0;
  for (const text of texts) {
    const n = Math.min(text.length, 4000);
    seen += n;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if ((c >= 0x3040 && c <= 0x30ff) || (c >= 0x4e00 && c <= 0x9fff)) { if (++ja >= 10) return 'ja'; }
      else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) latin++;
    }
  }
  if (ja === 0 && latin === 0) return null;
  return ja > seen / 50 || latin === 0 ? 'ja' : 'en';
}
