// Bounded unzip: members are inflated chunk by chunk and abandoned as soon as they pass the
// total size or the compression-ratio cap, so a zip bomb costs at most the cap in memory.
import { Unzip, UnzipInflate, UnzipPassThrough } from 'fflate';
import { ParseRefusal } from './mail/mime.js';

export interface ZipLimits { zipMaxBytes: number; zipMaxRatio: number; zipMaxEntries: number }

export interface ZipMember { name: string; data: Buffer }

export function isZip(buf: Uint8Array): boolean {
  return buf.length > 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04;
}

export function unzipBounded(zip: Uint8Array, limits: ZipLimits): ZipMember[] {
  const members: ZipMember[] = [];
  let total = 0;
  let failure: ParseRefusal | null = null;
  const unzip = new Unzip((file) => {
    if (failure) return;
    if (members.length >= limits.zipMaxEntries) {
      failure = new ParseRefusal('zip', `zip archive has more than ${limits.zipMaxEntries} members`);
      return;
    }
    if (file.name.endsWith('/')) return;
    const chunks: Uint8Array[] = [];
    let size = 0;
    // Stored sizes can lie; the cap applies to what actually comes out.
    const compressed = Math.max(file.size ?? zip.length, 1);
    file.ondata = (err, chunk, final) => {
      if (failure) return;
      if (err) { failure = new ParseRefusal('zip', `zip member ${file.name}: ${err.message}`); return; }
      size += chunk.length;
      total += chunk.length;
      if (total > limits.zipMaxBytes) {
        failure = new ParseRefusal('zip', `zip archive expands beyond ${limits.zipMaxBytes} bytes`);
        file.terminate();
        return;
      }
      if (size > 1024 * 1024 && size / compressed > limits.zipMaxRatio) {
        failure = new ParseRefusal('zip', `zip member ${file.name} expands more than ${limits.zipMaxRatio} times (zip bomb)`);
        file.terminate();
        return;
      }
      chunks.push(chunk);
      if (final) members.push({ name: file.name, data: Buffer.concat(chunks) });
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  unzip.register(UnzipPassThrough);
  try {
    unzip.push(zip, true);
  } catch (e) {
    throw new ParseRefusal('zip', `unreadable zip archive: ${(e as Error).message}`);
  }
  if (failure) throw failure;
  return members;
}
