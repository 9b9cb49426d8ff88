/**
 * A minimal random-access tar reader (ustar, with GNU long names and pax `path` records), enough for the
 * downsampled ImageNet tars of PNGs. Members are listed by walking the 512-byte headers with seeks, so the
 * archive is never held in memory.
 */
import { DatasetError } from "./types.ts";

/** A regular file inside a tar archive. */
export interface TarMember {
  name: string;
  /** Byte offset of the member's data in the archive. */
  offset: number;
  size: number;
}

const BLOCK = 512;
const decoder = new TextDecoder();

/** Reads exactly `n` bytes at `offset` of `file`, or fewer only at end of file. */
async function readAt(file: Deno.FsFile, offset: number, n: number): Promise<Uint8Array> {
  await file.seek(offset, Deno.SeekMode.Start);
  const buf = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await file.read(buf.subarray(got));
    if (r === null) break;
    got += r;
  }
  return buf.subarray(0, got);
}

/** A NUL-terminated string field. */
function text(header: Uint8Array, start: number, length: number): string {
  const field = header.subarray(start, start + length);
  const end = field.indexOf(0);
  return decoder.decode(end < 0 ? field : field.subarray(0, end));
}

/** A numeric field: octal text, or big-endian base-256 when the high bit of its first byte is set (GNU). */
function numeric(header: Uint8Array, start: number, length: number): number {
  if (header[start] & 0x80) {
    let value = header[start] & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + header[start + i];
    return value;
  }
  const digits = text(header, start, length).trim();
  return digits === "" ? 0 : parseInt(digits, 8);
}

/** The `path` value of a pax extended header, if any. */
function paxPath(data: Uint8Array): string | undefined {
  let path: string | undefined;
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(32, pos);
    if (space < 0) break;
    const length = parseInt(decoder.decode(data.subarray(pos, space)), 10);
    if (!(length > 0)) break;
    const record = decoder.decode(data.subarray(space + 1, pos + length - 1)); // drops the trailing "\n"
    const eq = record.indexOf("=");
    if (record.slice(0, eq) === "path") path = record.slice(eq + 1);
    pos += length;
  }
  return path;
}

/**
 * Lists the regular files of the tar archive open as `file` (`size` bytes long, `path` for messages), in
 * archive order.
 *
 * @throws {DatasetError} on a header with a bad checksum or a truncated archive.
 */
export async function listTar(file: Deno.FsFile, path: string, size: number): Promise<TarMember[]> {
  const members: TarMember[] = [];
  let longName: string | undefined;
  let offset = 0;
  while (true) {
    // Requiring the end-of-archive marker catches a tar cut between two members, which would otherwise load
    // as a silently smaller set.
    if (offset >= size) {
      throw new DatasetError(`${path}: truncated tar, no end-of-archive marker by byte ${size}`);
    }
    const header = await readAt(file, offset, BLOCK);
    if (header.length < BLOCK) {
      throw new DatasetError(`${path}: truncated tar, header at byte ${offset} is cut short`);
    }
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]; // checksum field counts as spaces
    if (sum !== numeric(header, 148, 8)) {
      throw new DatasetError(`${path}: expected a tar header at byte ${offset}, found a bad header checksum`);
    }
    const dataSize = numeric(header, 124, 12);
    const dataStart = offset + BLOCK;
    const prefix = text(header, 257, 6) === "ustar" ? text(header, 345, 155) : "";
    const name = longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    if (dataStart + dataSize > size) {
      throw new DatasetError(
        `${path}: truncated tar, member ${name} needs ${dataSize} bytes at byte ${dataStart}, the file has ${size}`,
      );
    }
    const type = String.fromCharCode(header[156]);
    longName = undefined;
    if (type === "L") longName = text(await readAt(file, dataStart, dataSize), 0, dataSize);
    else if (type === "x") longName = paxPath(await readAt(file, dataStart, dataSize));
    else if (type === "0" || type === "\0") members.push({ name, offset: dataStart, size: dataSize });
    offset = dataStart + Math.ceil(dataSize / BLOCK) * BLOCK;
  }
  return members;
}

/** The bytes of one member listed by {@link listTar}. */
export async function readTarMember(file: Deno.FsFile, member: TarMember): Promise<Uint8Array> {
  return await readAt(file, member.offset, member.size);
}
