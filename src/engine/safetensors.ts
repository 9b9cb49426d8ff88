/**
 * The safetensors file format (https://github.com/huggingface/safetensors), used for checkpoints:
 * an 8-byte little-endian header length N, N bytes of UTF-8 JSON describing each tensor, then the raw
 * little-endian tensor data, packed with no holes. Decoding trusts nothing in the file.
 */

/** Element types this project stores. */
export type SafeDType = "F32" | "U32" | "I32" | "U8" | "F64";

/** One named tensor: its element type, shape and a typed array holding exactly shape's product elements. */
export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  data: Float32Array | Uint32Array | Int32Array | Uint8Array | Float64Array;
}

/** A checkpoint file that cannot be read or a tensor set that cannot be written; the message is one line. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

const ARRAYS = {
  F32: Float32Array,
  U32: Uint32Array,
  I32: Int32Array,
  U8: Uint8Array,
  F64: Float64Array,
} as const;

const METADATA_KEY = "__metadata__";

function isDType(x: unknown): x is SafeDType {
  return typeof x === "string" && Object.hasOwn(ARRAYS, x);
}

function isShape(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((d) => Number.isSafeInteger(d) && d >= 0);
}

function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Serialises tensors and string metadata to safetensors bytes. Tensors are laid out widest element type
 * first, then by name, so every tensor starts at an offset aligned to its element size (as the reference
 * implementation does), which lets other readers map the file without copying.
 */
export function encodeSafetensors(
  tensors: Record<string, SafeTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name];
    const where = `encodeSafetensors: tensor "${name}"`;
    if (name === METADATA_KEY) throw new CheckpointError(`${where}: the name is reserved`);
    if (!isDType(t.dtype)) throw new CheckpointError(`${where}: unknown dtype ${JSON.stringify(t.dtype)}`);
    if (!(t.data instanceof ARRAYS[t.dtype])) {
      throw new CheckpointError(`${where}: dtype ${t.dtype} needs a ${ARRAYS[t.dtype].name}`);
    }
    if (!isShape(t.shape)) throw new CheckpointError(`${where}: bad shape ${JSON.stringify(t.shape)}`);
    if (t.data.length !== elementCount(t.shape)) {
      throw new CheckpointError(
        `${where}: shape [${t.shape}] has ${elementCount(t.shape)} elements, data has ${t.data.length}`,
      );
    }
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== "string") {
      throw new CheckpointError(`encodeSafetensors: metadata "${key}" must be a string`);
    }
  }
  names.sort((a, b) =>
    tensors[b].data.BYTES_PER_ELEMENT - tensors[a].data.BYTES_PER_ELEMENT || (a < b ? -1 : a > b ? 1 : 0)
  );

  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  let offset = 0;
  for (const name of names) {
    const { dtype, shape, data } = tensors[name];
    header[name] = { dtype, shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;

  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.fill(0x20, 8, 8 + headerLength);
  out.set(json, 8);
  let at = 8 + headerLength;
  for (const name of names) {
    const { data } = tensors[name];
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return out;
}

interface Entry {
  name: string;
  dtype: SafeDType;
  shape: number[];
  begin: number;
  end: number;
}

/** Checks one header entry and returns it typed; throws naming the tensor otherwise. */
function readEntry(source: string, name: string, value: unknown): Entry {
  const where = `${source}: tensor "${name}"`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CheckpointError(`${where}: header entry is not an object`);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (!isDType(dtype)) {
    throw new CheckpointError(
      `${where}: unsupported dtype ${JSON.stringify(dtype)} (want F32, U32, I32, U8 or F64)`,
    );
  }
  if (!isShape(shape)) throw new CheckpointError(`${where}: bad shape ${JSON.stringify(shape)}`);
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw new CheckpointError(`${where}: bad data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  const expected = elementCount(shape) * ARRAYS[dtype].BYTES_PER_ELEMENT;
  if (end - begin !== expected) {
    throw new CheckpointError(
      `${where}: data_offsets [${begin}, ${end}] span ${
        end - begin
      } bytes, ${dtype} [${shape}] needs ${expected}`,
    );
  }
  return { name, dtype, shape, begin, end };
}

function readMetadata(source: string, value: unknown): Record<string, string> {
  if (
    typeof value !== "object" || value === null || Array.isArray(value) ||
    !Object.values(value).every((v) => typeof v === "string")
  ) {
    throw new CheckpointError(`${source}: ${METADATA_KEY} must be an object of strings`);
  }
  return { ...value } as Record<string, string>;
}

/**
 * Parses safetensors bytes. Every tensor's data is copied into its own, properly aligned typed array.
 * Throws a {@link CheckpointError} naming `source` on any inconsistency: short file, header beyond the
 * file, malformed JSON or entries, overlapping or gapped data ranges, and missing or extra data bytes.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = "<bytes>",
): { tensors: Record<string, SafeTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) {
    throw new CheckpointError(`${source}: not a safetensors file: ${bytes.length} bytes, need at least 8`);
  }
  const declared = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(bytes.length - 8)) {
    throw new CheckpointError(
      `${source}: header length ${declared} is beyond the end of the file (${bytes.length} bytes)`,
    );
  }
  const headerLength = Number(declared);

  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)),
    );
  } catch (e) {
    throw new CheckpointError(
      `${source}: header is not valid UTF-8 JSON (${(e as Error).message.replace(/\s+/g, " ")})`,
    );
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new CheckpointError(`${source}: header is not a JSON object`);
  }

  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = readMetadata(source, value);
    else entries.push(readEntry(source, name, value));
  }

  // The data area must be covered exactly: sorted by start, each tensor begins where the last one ended.
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const e of byOffset) {
    if (e.begin < covered) {
      throw new CheckpointError(
        `${source}: tensor "${e.name}" data_offsets [${e.begin}, ${e.end}] overlap another`,
      );
    }
    if (e.begin > covered) {
      throw new CheckpointError(
        `${source}: bytes ${covered}..${e.begin} before tensor "${e.name}" belong to no tensor`,
      );
    }
    covered = e.end;
  }
  const found = bytes.length - 8 - headerLength;
  if (found < covered) {
    throw new CheckpointError(`${source}: truncated: header says ${covered} data bytes, found ${found}`);
  }
  if (found > covered) {
    throw new CheckpointError(
      `${source}: header says ${covered} data bytes, found ${found} (trailing bytes)`,
    );
  }

  const base = 8 + headerLength;
  const tensors: Record<string, SafeTensor> = {};
  for (const { name, dtype, shape, begin, end } of entries) {
    // slice() copies into a fresh ArrayBuffer, so the typed array starts aligned whatever the file offset.
    // Like the format, this assumes a little-endian host (every platform Deno runs on).
    const copy = bytes.slice(base + begin, base + end).buffer;
    tensors[name] = { dtype, shape, data: new ARRAYS[dtype](copy) };
  }
  return { tensors, metadata };
}
