/**
 * Loader for downsampled ImageNet (the data of Table 6): the paper's release (PNG files, in a folder or a
 * tar) and the later, different Chrabaszcz et al. (2017) npz batches.
 */
import { basename, join } from "node:path";
import { compareNames, fingerprintMembers, type MemberDigest, sha256Hex } from "./fingerprint.ts";
import { ByteBuilder, listFilesRecursive, oneLine, readWhole, statOrFail } from "./io.ts";
import { planesToHwc } from "./layout.ts";
import { formatShape, type NpyArray, parseNpy } from "./npy.ts";
import { decodeRgbPng } from "./png.ts";
import { listTar, readTarMember } from "./tar.ts";
import { DatasetError, type ImageSet } from "./types.ts";
import { listZip } from "./zip.ts";

/** Options of {@link loadImagenet}. */
export interface ImagenetOptions {
  /** The split to report; default: "valid" or "train" when the path's last name says so, else "unspecified". */
  split?: string;
  /** Load at most this many images (the first ones in name order); the set is then marked `subset`. */
  limit?: number;
}

/** The `variant` of sets read from npz: a different downsampling, never comparable with the paper's numbers. */
export const IMAGENET_NPZ_VARIANT = "imagenet-npz (Chrabaszcz et al. 2017, not the paper's downsampling)";

/** The parts of an ImageSet that depend on the format read. */
type Loaded = Pick<ImageSet, "variant" | "count" | "pixels" | "labels" | "subset" | "fingerprint" | "files">;

/** One PNG to decode: its name in the set, how to name it in errors, how to read it. */
interface PngSource {
  name: string;
  where: string;
  read(): Promise<Uint8Array>;
}

const EXPECTED = "a folder of *.png, a .tar of PNGs, an .npz file or a folder of .npz batches";

/**
 * Loads downsampled ImageNet at `size`×`size` from `path`, which may be:
 * - a folder of `*.png` files (searched recursively; variant "imagenet-png-dir"),
 * - a `.tar` of PNG files (variant "imagenet-png-tar"),
 * - an `.npz` file or a folder of `.npz` batches in the Chrabaszcz et al. format: `data` N×(3·size·size) uint8
 *   in channel-plane order, optional integer `labels` (variant {@link IMAGENET_NPZ_VARIANT}).
 *
 * Images are ordered by file or member name (code-unit order), never by what the names mean. PNGs must be
 * 8-bit RGB or RGBA of exactly the requested size. `subset` is set only when `limit` left images out: the
 * loader does not know the official split sizes of every release.
 *
 * @throws {DatasetError} on a missing path, an unknown format, a PNG of the wrong size or colour format, a
 * corrupt tar or zip, or npz arrays of the wrong dtype or shape.
 */
export async function loadImagenet(
  path: string,
  size: 32 | 64,
  opts: ImagenetOptions = {},
): Promise<ImageSet> {
  if (size !== 32 && size !== 64) {
    throw new DatasetError(`${path}: expected image size 32 or 64, got ${size}`);
  }
  const limit = opts.limit ?? Infinity;
  if (!(limit >= 1) || (limit !== Infinity && !Number.isInteger(limit))) {
    throw new DatasetError(`${path}: limit must be a positive integer, got ${opts.limit}`);
  }
  const info = await statOrFail(path, EXPECTED);
  let loaded: Loaded;
  if (info.isDirectory) {
    const names = await listFilesRecursive(path);
    const pngs = names.filter((n) => /\.png$/i.test(n));
    const npzs = names.filter((n) => /\.npz$/i.test(n));
    if (pngs.length > 0 && npzs.length > 0) {
      throw new DatasetError(`${path}: expected one format, found both *.png and *.npz files`);
    }
    if (pngs.length > 0) {
      const sources = pngs.map((name) => {
        const file = join(path, name);
        return { name, where: file, read: () => readWhole(file) };
      });
      // The folder stands for its files here: a train folder holds over a million.
      loaded = await loadPngs(sources, size, limit, "imagenet-png-dir", [path]);
    } else if (npzs.length > 0) {
      loaded = await loadNpz(path, npzs, size, limit);
    } else {
      throw new DatasetError(`${path}: expected ${EXPECTED}, found a folder without *.png or *.npz files`);
    }
  } else if (/\.tar$/i.test(path)) {
    loaded = await loadTar(path, info.size, size, limit);
  } else if (/\.npz$/i.test(path)) {
    loaded = await loadNpz("", [path], size, limit);
  } else {
    throw new DatasetError(`${path}: expected ${EXPECTED}, found a file of another kind`);
  }
  return {
    name: `imagenet${size}`,
    split: opts.split ?? splitFromPath(path),
    height: size,
    width: size,
    channels: 3,
    levels: 256,
    ...loaded,
  };
}

/** "valid" or "train" when the last name of `path` says so (e.g. valid_32x32.tar, Imagenet32_val_npz). */
function splitFromPath(path: string): string {
  const name = basename(path).toLowerCase();
  if (/valid|(^|[^a-z])val([^a-z]|$)/.test(name)) return "valid";
  if (name.includes("train")) return "train";
  return "unspecified";
}

/** Decodes the first `limit` of `sources` (already sorted by name). */
async function loadPngs(
  sources: PngSource[],
  size: number,
  limit: number,
  variant: string,
  files: string[],
): Promise<Loaded> {
  const used = sources.slice(0, limit);
  const imageBytes = size * size * 3;
  const pixels = new Uint8Array(used.length * imageBytes);
  const members: MemberDigest[] = [];
  for (const [i, source] of used.entries()) {
    const bytes = await source.read();
    decodeRgbPng(bytes, size, source.where, pixels.subarray(i * imageBytes, (i + 1) * imageBytes));
    members.push({ name: source.name, sha256: sha256Hex(bytes) });
  }
  return {
    variant,
    count: used.length,
    pixels,
    subset: used.length < sources.length,
    fingerprint: fingerprintMembers(members),
    files,
  };
}

/** The PNG members of a tar, sorted by member name like a folder. */
async function loadTar(path: string, fileSize: number, size: number, limit: number): Promise<Loaded> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (err) {
    throw new DatasetError(`${path}: cannot open (${oneLine(err)})`);
  }
  try {
    const members = (await listTar(file, path, fileSize))
      .filter((m) => /\.png$/i.test(m.name))
      .sort((a, b) => compareNames(a.name, b.name));
    if (members.length === 0) throw new DatasetError(`${path}: expected a tar of *.png files, found none`);
    const sources = members.map((m) => ({
      name: m.name,
      where: `${path} (member ${m.name})`,
      read: () => readTarMember(file, m),
    }));
    return await loadPngs(sources, size, limit, "imagenet-png-tar", [path]);
  } finally {
    file.close();
  }
}

/**
 * Reads Chrabaszcz et al. npz batches (`names`, relative to `root`, sorted), keeping the first `limit` images.
 * Labels are kept only when every batch read has them.
 */
async function loadNpz(root: string, names: string[], size: number, limit: number): Promise<Loaded> {
  const plane = size * size;
  const imageBytes = 3 * plane;
  const pixels = new ByteBuilder(1);
  const labelParts: Uint16Array[] = [];
  let labelsComplete = true;
  const members: MemberDigest[] = [];
  const files: string[] = [];
  let count = 0, subset = false;
  for (const name of names) {
    if (count >= limit) {
      subset = true;
      break;
    }
    const path = root ? join(root, name) : name;
    const bytes = await readWhole(path);
    const entries = listZip(bytes, path);
    const entry = (key: string) => entries.find((e) => e.name === `${key}.npy`);
    const dataEntry = entry("data");
    if (!dataEntry) {
      const found = entries.map((e) => e.name).join(", ") || "no entries";
      throw new DatasetError(`${path}: expected a data.npy entry (Chrabaszcz et al. npz), found ${found}`);
    }
    const data = parseNpy(dataEntry.extract(), `${path} (data.npy)`);
    if (data.descr !== "|u1" || data.shape.length !== 2 || data.shape[1] !== imageBytes) {
      throw new DatasetError(
        `${path} (data.npy): expected shape (N, ${imageBytes}) of '|u1' for ${size}x${size} RGB, ` +
          `found ${formatShape(data.shape)} of '${data.descr}'`,
      );
    }
    const n = data.shape[0];
    const take = Math.min(n, limit - count);
    if (take < n) subset = true;
    const out = pixels.grow(take * imageBytes);
    for (let i = 0; i < take; i++) {
      planesToHwc(data.data.subarray(i * imageBytes), plane, out.subarray(i * imageBytes));
    }
    const labelsEntry = entry("labels");
    if (labelsEntry) {
      const where = `${path} (labels.npy)`;
      labelParts.push(toUint16(parseNpy(labelsEntry.extract(), where), n, take, where));
    } else labelsComplete = false;
    members.push({ name, sha256: sha256Hex(bytes) });
    files.push(path);
    count += take;
  }
  let labels: Uint16Array | undefined;
  if (labelsComplete) {
    labels = new Uint16Array(count);
    let at = 0;
    for (const part of labelParts) {
      labels.set(part, at);
      at += part.length;
    }
  }
  return {
    variant: IMAGENET_NPZ_VARIANT,
    count,
    pixels: pixels.finish(),
    labels,
    subset,
    fingerprint: fingerprintMembers(members),
    files,
  };
}

/** The first `take` of `n` integer labels, checked to fit in 16 bits; `where` names the array in errors. */
function toUint16(arr: NpyArray, n: number, take: number, where: string): Uint16Array {
  const fail = (msg: string): never => {
    throw new DatasetError(`${where}: ${msg}`);
  };
  if (arr.shape.length !== 1 || arr.shape[0] !== n) {
    fail(`expected shape (${n},) to match data, found ${formatShape(arr.shape)}`);
  }
  const match = arr.descr.match(/^[<|=]?([iu])([1248])$/);
  if (!match) return fail(`expected little-endian integer labels, found '${arr.descr}'`);
  const signed = match[1] === "i", width = Number(match[2]);
  const view = new DataView(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  const read: (offset: number) => number = width === 1
    ? (o) => signed ? view.getInt8(o) : view.getUint8(o)
    : width === 2
    ? (o) => signed ? view.getInt16(o, true) : view.getUint16(o, true)
    : width === 4
    ? (o) => signed ? view.getInt32(o, true) : view.getUint32(o, true)
    : (o) => Number(signed ? view.getBigInt64(o, true) : view.getBigUint64(o, true));
  const out = new Uint16Array(take);
  for (let i = 0; i < take; i++) {
    const value = read(i * width);
    if (value < 0 || value > 0xffff) fail(`label ${i + 1} is ${value}, expected 0..65535`);
    out[i] = value;
  }
  return out;
}
