// Streaming, bounded unzip: the archive is fed to the inflater 64 KB at a time and what comes out
// is handed on before the next piece goes in, so a large zipped feed never sits in memory whole.
// A member is abandoned as soon as it passes the ratio cap or the archive the total cap: a zip
// bomb costs at most the caps.
import { Unzip, UnzipInflate, UnzipPassThrough } from 'fflate';
import { ParseRefusal } from './mail/mime.js';

export interface ZipLimits { zipMaxBytes: number; zipMaxRatio: number; zipMaxEntries: number }

/** Decompressed data of one member; `final` marks its last piece. */
export interface ZipPiece { name: string; data: Uint8Array; final: boolean }

const PIECE = 64 * 1024;

export function isZip(buf: Uint8Array): boolean {
  return buf.length > 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04;
}

/** Members' data in order; `wanted` chooses which members are inflated at all. */
export async function* unzipPieces(input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, limits: ZipLimits, wanted: (name: string) => boolean): AsyncGenerator<ZipPiece> {
  const out: ZipPiece[] = [];
  let members = 0, total = 0, compressedIn = 0;
  let failure: ParseRefusal | null = null;
  const unzip = new Unzip((file) => {
    if (failure || file.name.endsWith('/')) return;
    if (++members > limits.zipMaxEntries) { failure = new ParseRefusal('zip', `zip archive has more than ${limits.zipMaxEntries} members`); return; }
    if (!wanted(file.name)) return;
    let size = 0;
    file.ondata = (err, chunk, final) => {
      if (failure) return;
      if (err) { failure = new ParseRefusal('zip', `zip member ${file.name}: ${err.message}`); return; }
      size += chunk.length;
      total += chunk.length;
      // Stored sizes can lie, and streamed members have none: the caps apply to what comes out.
      const packed = Math.max(file.size || compressedIn, 1);
      if (total > limits.zipMaxBytes) failure = new ParseRefusal('zip', `zip archive expands beyond ${limits.zipMaxBytes} bytes`);
      else if (size > 1024 * 1024 && size / packed > limits.zipMaxRatio) failure = new ParseRefusal('zip', `zip member ${file.name} expands more than ${limits.zipMaxRatio} times (zip bomb)`);
      if (failure) { file.terminate(); return; }
      out.push({ name: file.name, data: chunk, final });
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  unzip.register(UnzipPassThrough);
  const feed = (data: Uint8Array, last: boolean) => {
    try {
      unzip.push(data, last);
    } catch (e) {
      failure ??= new ParseRefusal('zip', `unreadable zip archive: ${(e as Error).message}`);
    }
  };
  for await (const chunk of input as AsyncIterable<Uint8Array>) {
    for (let i = 0; i < chunk.length; i += PIECE) {
      const piece = chunk.subarray(i, i + PIECE);
      compressedIn += piece.length;
      feed(piece, false);
      if (failure) throw failure;
      yield* out.splice(0, out.length);
    }
  }
  feed(new Uint8Array(0), true);
  if (failure) throw failure;
  yield* out.splice(0, out.length);
}
