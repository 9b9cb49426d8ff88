/** A minimal in-memory zip reader (stored and deflated entries, CRC-checked), enough for numpy's `.npz`. */
import { crc32, inflateRawSync } from "node:zlib";
import { oneLine } from "./io.ts";
import { DatasetError } from "./types.ts";

/** One entry of a zip archive; `extract()` inflates and CRC-checks it on demand. */
export interface ZipEntry {
  name: string;
  extract(): Uint8Array;
}

const EOCD_SIG = 0x06054b50, CENTRAL_SIG = 0x02014b50, LOCAL_SIG = 0x04034b50;
const EOCD_SIZE = 22, MAX_COMMENT = 0xffff;
const STORED = 0, DEFLATED = 8;

/**
 * Lists the entries of the zip archive `bytes` (read from `path`, named in errors) from its central directory.
 * Sizes come from the central directory because numpy writes zip64 placeholders in the local headers.
 *
 * @throws {DatasetError} when `bytes` is not a zip archive, is truncated, or needs zip64 or encryption.
 */
export function listZip(bytes: Uint8Array, path: string): ZipEntry[] {
  const fail = (msg: string): never => {
    throw new DatasetError(`${path}: ${msg}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - EOCD_SIZE; i >= Math.max(0, bytes.length - EOCD_SIZE - MAX_COMMENT); i--) {
    if (view.getUint32(i, true) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail("expected a zip archive (npz), found no end-of-central-directory record (truncated?)");
  const count = view.getUint16(eocd + 10, true);
  const centralOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || centralOffset === 0xffffffff) fail("zip64 archives (over 4 GiB) are not supported");

  const entries: ZipEntry[] = [];
  let pos = centralOffset;
  for (let n = 0; n < count; n++) {
    if (pos + 46 > bytes.length || view.getUint32(pos, true) !== CENTRAL_SIG) {
      fail(`expected central directory entry ${n + 1} of ${count} at byte ${pos}, found none (truncated?)`);
    }
    const flags = view.getUint16(pos + 8, true);
    const method = view.getUint16(pos + 10, true);
    const crc = view.getUint32(pos + 16, true);
    const compressedSize = view.getUint32(pos + 20, true);
    const size = view.getUint32(pos + 24, true);
    const nameLength = view.getUint16(pos + 28, true);
    const extraLength = view.getUint16(pos + 30, true);
    const commentLength = view.getUint16(pos + 32, true);
    const localOffset = view.getUint32(pos + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(pos + 46, pos + 46 + nameLength));
    pos += 46 + nameLength + extraLength + commentLength;
    const where = `entry ${name}`;
    if (flags & 1) fail(`${where} is encrypted`);
    if (method !== STORED && method !== DEFLATED) {
      fail(`${where}: expected stored or deflated, found method ${method}`);
    }
    if (compressedSize === 0xffffffff || size === 0xffffffff) {
      fail(`${where} needs zip64 (over 4 GiB), not supported`);
    }
    entries.push({
      name,
      extract(): Uint8Array {
        if (localOffset + 30 > bytes.length || view.getUint32(localOffset, true) !== LOCAL_SIG) {
          fail(`${where}: expected a local header at byte ${localOffset}, found none`);
        }
        const start = localOffset + 30 + view.getUint16(localOffset + 26, true) +
          view.getUint16(localOffset + 28, true);
        if (start + compressedSize > bytes.length) {
          fail(
            `${where}: truncated, needs ${compressedSize} bytes at byte ${start}, the file has ${bytes.length}`,
          );
        }
        const raw = bytes.subarray(start, start + compressedSize);
        let data: Uint8Array = raw;
        if (method === DEFLATED) {
          try {
            data = new Uint8Array(inflateRawSync(raw));
          } catch (err) {
            fail(`${where}: deflate data is corrupt (${oneLine(err)})`);
          }
        }
        if (data.length !== size) fail(`${where}: expected ${size} bytes, found ${data.length}`);
        if (crc32(data) >>> 0 !== crc) fail(`${where}: CRC-32 mismatch, the entry is corrupt`);
        return data;
      },
    });
  }
  return entries;
}
