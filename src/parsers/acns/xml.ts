// Just enough XML for a notice block written by strangers: elements, attributes, text, CDATA,
// the five named entities and character references. Names are matched by local name in lower
// case (agencies differ in namespace prefixes and in capitals); comments, processing
// instructions and DOCTYPEs are skipped, so no entity is ever expanded from a definition.
// Malformed input gives null or a partial tree, never an exception; depth and size are capped.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const MAX_DEPTH = 32;
const MAX_ELEMENTS = 5000;
/** Attributes of a longer tag are not read: a notice's tags are short, a hostile one need not be. */
const MAX_TAG_CHARS = 4096;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(s: string): string {
  return s.replace(/&(?:#x([0-9a-f]{1,6})|#(\d{1,7})|(amp|lt|gt|quot|apos));/gi, (m, hex: string, dec: string, name: string) => {
    if (name) return NAMED[name.toLowerCase()];
    const cp = hex ? parseInt(hex, 16) : Number(dec);
    return cp > 0 && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : m;
  });
}

const localName = (n: string) => n.slice(n.indexOf(':') + 1).toLowerCase();
const ATTR = /([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const NAME = /^[\w.:-]+/;

/**
 * The first element of `xml` with its descendants, or null when there is none. A scan with
 * indexOf, one pass: no regular expression here can backtrack over hostile input.
 */
export function parseXml(xml: string): XmlElement | null {
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let count = 0;
  let pos = 0;
  const addText = (t: string) => { if (stack.length) stack[stack.length - 1].text += t; };
  while (pos < xml.length) {
    const lt = xml.indexOf('<', pos);
    if (lt < 0) { addText(decode(xml.slice(pos))); break; }
    if (lt > pos) addText(decode(xml.slice(pos, lt)));
    let end: number;
    if (xml.startsWith('<!--', lt)) {
      end = xml.indexOf('-->', lt + 4);
      if (end < 0) break;
      pos = end + 3;
      continue;
    }
    if (xml.startsWith('<![CDATA[', lt)) {
      end = xml.indexOf(']]>', lt + 9);
      if (end < 0) break;
      addText(xml.slice(lt + 9, end));
      pos = end + 3;
      continue;
    }
    end = xml.indexOf('>', lt + 1);
    if (end < 0) break;
    pos = end + 1;
    const inner = xml.slice(lt + 1, end);
    if (inner[0] === '!' || inner[0] === '?') continue;
    if (inner[0] === '/') {
      // A stray closing tag closes up to the element it names, if open; otherwise it is ignored.
      const at = stack.map((e) => e.name).lastIndexOf(localName(inner.slice(1).trim()));
      if (at >= 0) stack.length = at;
      if (stack.length === 0 && root) break;
      continue;
    }
    const name = NAME.exec(inner)?.[0];
    if (!name) { addText(decode(xml.slice(lt, end + 1))); continue; }
    if (++count > MAX_ELEMENTS || stack.length >= MAX_DEPTH) break;
    const attrs: Record<string, string> = {};
    if (inner.length <= MAX_TAG_CHARS) for (const a of inner.slice(name.length).matchAll(ATTR)) attrs[localName(a[1])] = decode(a[2] ?? a[3] ?? '');
    const el: XmlElement = { name: localName(name), attrs, children: [], text: '' };
    if (stack.length) stack[stack.length - 1].children.push(el);
    else if (!root) root = el;
    else break;
    if (!inner.endsWith('/')) stack.push(el);
  }
  const trim = (e: XmlElement) => { e.text = e.text.trim(); e.children.forEach(trim); };
  if (root) trim(root);
  return root;
}

export function child(e: XmlElement | undefined, name: string): XmlElement | undefined {
  return e?.children.find((c) => c.name === name);
}

export function children(e: XmlElement | undefined, name: string): XmlElement[] {
  return e ? e.children.filter((c) => c.name === name) : [];
}

/** The text of a child element, undefined when missing or empty. */
export function childText(e: XmlElement | undefined, name: string): string | undefined {
  return child(e, name)?.text || undefined;
}
