// Bytes to text for mail parts and headers. iconv-lite knows Shift_JIS and EUC-JP but not
// ISO-2022-JP (the usual charset of Japanese mail), so ISO-2022-JP is rewritten to EUC-JP first:
// both encode JIS X 0208, ISO-2022-JP with escape sequences and 7-bit bytes, EUC-JP with the
// high bit set. Labels are often missing or wrong, so unlabelled 8-bit text is sniffed.
import { isAscii, isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';

const ESC = 0x1b;
const utf8 = new TextDecoder('utf-8');

/** Decodes `buf` declared as `charset` (may be empty or wrong); never throws. */
export function decodeText(buf: Uint8Array, charset?: string): string {
  const cs = normalizeCharset(charset);
  // ISO-2022-JP is 7-bit: 8-bit text under that label is Shift_JIS, EUC-JP or UTF-8 sent by a mislabelling mailer.
  if (cs === 'iso-2022-jp' ? isAscii(buf) || buf.includes(ESC) : buf.includes(ESC) && looksIso2022jp(buf)) return decodeIso2022jp(buf);
  if (cs && cs !== 'us-ascii' && cs !== 'utf-8' && cs !== 'iso-2022-jp' && iconv.encodingExists(cs)) {
    // A part labelled Shift_JIS, EUC-JP or Latin-1 that is valid UTF-8 with multi-byte sequences
    // was mislabelled: Japanese text in those charsets is almost never valid UTF-8.
    if (!isAscii(buf) && (cs === 'iso-8859-1' || cs === 'windows-1252' || cs === 'cp932' || cs === 'euc-jp') && isUtf8(buf)) return utf8.decode(buf);
    return iconv.decode(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), cs);
  }
  if (isAscii(buf)) return latin1(buf);
  if (isUtf8(buf)) return utf8.decode(buf);
  const guess = sniffJapanese(buf);
  if (guess) return iconv.decode(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), guess);
  return cs === 'utf-8' ? utf8.decode(buf) : iconv.decode(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), 'windows-1252');
}

export function normalizeCharset(charset?: string): string {
  if (!charset) return '';
  const c = charset.trim().toLowerCase().replace(/^["']|["']$/g, '');
  switch (c) {
    case 'utf8': case 'utf-8': return 'utf-8';
    case 'ascii': case 'us-ascii': case 'ansi_x3.4-1968': return 'us-ascii';
    case 'iso-2022-jp': case 'iso2022jp': case 'csiso2022jp': case 'iso-2022-jp-1': case 'iso-2022-jp-2': case 'iso-2022-jp-3': return 'iso-2022-jp';
    case 'shift_jis': case 'shift-jis': case 'sjis': case 'x-sjis': case 'ms_kanji': case 'csshiftjis': case 'windows-31j': case 'ms932': return 'cp932';
    case 'euc-jp': case 'eucjp': case 'x-euc-jp': case 'cseucpkdfmtjapanese': return 'euc-jp';
    default: return c;
  }
}

function latin1(buf: Uint8Array): string {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('latin1');
}

function looksIso2022jp(buf: Uint8Array): boolean {
  const i = buf.indexOf(ESC);
  return i >= 0 && i + 2 < buf.length && ((buf[i + 1] === 0x24 && (buf[i + 2] === 0x42 || buf[i + 2] === 0x40 || buf[i + 2] === 0x28)) || (buf[i + 1] === 0x28 && buf[i + 2] === 0x49));
}

/** Shift_JIS or EUC-JP for unlabelled 8-bit text, by which of the two decodes more of it validly. */
export function sniffJapanese(buf: Uint8Array): 'cp932' | 'euc-jp' | null {
  let sjis = 0, euc = 0, sjisBad = 0, eucBad = 0;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b < 0x80) continue;
    const n = buf[i + 1] ?? 0;
    if (((b >= 0x81 && b <= 0x9f) || (b >= 0xe0 && b <= 0xfc)) && ((n >= 0x40 && n <= 0x7e) || (n >= 0x80 && n <= 0xfc))) sjis++;
    else if (!(b >= 0xa1 && b <= 0xdf)) sjisBad++;
    if ((b >= 0xa1 && b <= 0xfe && n >= 0xa1 && n <= 0xfe) || (b === 0x8e && n >= 0xa1 && n <= 0xdf)) euc++;
    else eucBad++;
    i++;
  }
  if (sjis === 0 && euc === 0) return null;
  return euc - eucBad * 4 >= sjis - sjisBad * 4 ? 'euc-jp' : 'cp932';
}

/** ISO-2022-JP (incl. the half-width katakana and JIS X 0212 escapes): ASCII runs as they are, the rest via EUC-JP. */
export function decodeIso2022jp(buf: Uint8Array): string {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  // Pieces joined once at the end: a string grown by += would be flattened later at a cost.
  const out: string[] = [];
  let mode: 'ascii' | 'x0208' | 'kana' | 'x0212' = 'ascii';
  let i = 0;
  while (i < b.length) {
    // The run up to the next escape sequence, in the current mode.
    let end = b.indexOf(ESC, i);
    if (end < 0) end = b.length;
    if (mode === 'ascii') out.push(b.toString('latin1', i, end));
    else out.push(iconv.decode(toEucJp(b, i, end, mode), 'euc-jp'));
    i = end;
    if (i >= b.length) break;
    const a = b[i + 1], c = b[i + 2];
    if (a === 0x24 && (c === 0x42 || c === 0x40)) { mode = 'x0208'; i += 3; }
    else if (a === 0x24 && c === 0x28 && b[i + 3] === 0x44) { mode = 'x0212'; i += 4; }
    else if (a === 0x24 && c === 0x28 && (b[i + 3] === 0x51 || b[i + 3] === 0x4f)) { mode = 'x0208'; i += 4; }
    else if (a === 0x28 && (c === 0x42 || c === 0x4a)) { mode = 'ascii'; i += 3; }
    else if (a === 0x28 && c === 0x49) { mode = 'kana'; i += 3; }
    else { out.push('\x1b'); i++; }
  }
  return out.join('');
}

/** A JIS run as EUC-JP bytes; line breaks and stray bytes pass through. */
function toEucJp(b: Buffer, start: number, end: number, mode: 'x0208' | 'kana' | 'x0212'): Buffer {
  const out = Buffer.allocUnsafe((end - start) * 2);
  let o = 0;
  for (let i = start; i < end; i++) {
    const x = b[i];
    if (x < 0x21 || x > 0x7e) { out[o++] = x; continue; }
    if (mode === 'kana') { out[o++] = 0x8e; out[o++] = x | 0x80; continue; }
    const n = b[i + 1];
    if (i + 1 >= end || n < 0x21 || n > 0x7e) { out[o++] = x; continue; }
    if (mode === 'x0212') out[o++] = 0x8f;
    out[o++] = x | 0x80;
    out[o++] = n | 0x80;
    i++;
  }
  return out.subarray(0, o);
}
