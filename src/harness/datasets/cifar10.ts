/** Loader for the CIFAR-10 binary batches (`cifar-10-binary.tar.gz`, extracted), the data of Table 5. */
import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import { fingerprintMembers, type MemberDigest } from "./fingerprint.ts";
import { ByteBuilder, oneLine, readChunks, statOrFail } from "./io.ts";
import { planesToHwc } from "./layout.ts";
import { DatasetError, type ImageSet } from "./types.ts";

/** A split of CIFAR-10. */
export type Cifar10Split = "train" | "test";

/** Options of {@link loadCifar10}. */
export interface Cifar10Options {
  /** Accept missing batch files and batches of fewer than 10,000 records; the set is then marked `subset`. */
  allowSubset?: boolean;
  /** Stop after this many records (the set is then marked `subset` if that is fewer than the official split). */
  maxRecords?: number;
}

const SIDE = 32;
const PLANE = SIDE * SIDE;
const PIXELS = 3 * PLANE;
const RECORD = 1 + PIXELS; // label byte, then the R, G and B planes, each row-major
const RECORDS_PER_FILE = 10000;
const BATCHES: Record<Cifar10Split, string[]> = {
  train: ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"],
  test: ["test_batch"],
};
/** The folder the official archive extracts to, looked into when `dir` is its parent. */
const ARCHIVE_FOLDER = "cifar-10-batches-bin";

/**
 * Loads a CIFAR-10 split from a folder of the official binary batches (`data_batch_1..5.bin` for train,
 * `test_batch.bin` for test), converting each record's R, G, B planes to NHWC.
 *
 * A batch may also be gzipped (`data_batch_1.bin.gz`) or carry a tag before `.bin`
 * (`data_batch_1.first3500.bin.gz`). Each batch must be 30,730,000 bytes (10,000 records of 3,073 bytes) with
 * label bytes 0..9; missing or short batches are refused unless `allowSubset` is set.
 * The fingerprint covers the uncompressed bytes of the records loaded, per batch (see fingerprint.ts).
 *
 * @throws {DatasetError} on a missing folder or batch, a wrong size, a bad label or a corrupt gzip stream.
 */
export async function loadCifar10(
  dir: string,
  split: Cifar10Split,
  opts: Cifar10Options = {},
): Promise<ImageSet> {
  if (!Object.hasOwn(BATCHES, split)) {
    throw new DatasetError(`CIFAR-10: unknown split "${split}", expected train or test`);
  }
  const stems = BATCHES[split];
  const maxRecords = opts.maxRecords ?? Infinity;
  if (!(maxRecords >= 1) || (maxRecords !== Infinity && !Number.isInteger(maxRecords))) {
    throw new DatasetError(`${dir}: maxRecords must be a positive integer, got ${opts.maxRecords}`);
  }
  const allowSubset = opts.allowSubset ?? false;
  const official = stems.length * RECORDS_PER_FILE;

  const root = await batchFolder(dir);
  const paths = await findBatches(root, stems);
  const missing = stems.filter((_, i) => paths[i] === undefined);
  if (missing.length === stems.length || (missing.length > 0 && !allowSubset)) {
    const hint = missing.length < stems.length ? " (--allow-subset loads fewer)" : "";
    const expected = stems.map((s) => `${s}.bin`).join(", ");
    throw new DatasetError(
      `${root}: expected CIFAR-10 ${split} batches ${expected}, missing ${missing.join(", ")}${hint}`,
    );
  }

  const pixels = new ByteBuilder(Math.min(maxRecords, official) * PIXELS);
  const labels = new ByteBuilder(Math.min(maxRecords, official));
  const members: MemberDigest[] = [];
  const files: string[] = [];
  let count = 0;
  for (const path of paths) {
    if (path === undefined || count >= maxRecords) continue;
    const read = await readBatch(path, maxRecords - count, allowSubset, pixels, labels);
    count += read.records;
    files.push(path);
    members.push({ name: basename(path).replace(/\.gz$/, ""), sha256: read.sha256 });
  }
  if (count === 0) throw new DatasetError(`${files.join(", ")}: expected CIFAR-10 records, found none`);
  return {
    name: "cifar10",
    variant: "cifar10-binary",
    split,
    count,
    height: SIDE,
    width: SIDE,
    channels: 3,
    levels: 256,
    pixels: pixels.finish(),
    labels: Uint16Array.from(labels.finish()),
    subset: count < official,
    fingerprint: fingerprintMembers(members),
    files,
  };
}

/** `dir`, or its `cifar-10-batches-bin` subfolder when `dir` is where the archive was extracted. */
async function batchFolder(dir: string): Promise<string> {
  const expected = "a folder of CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin)";
  const info = await statOrFail(dir, expected);
  if (!info.isDirectory) throw new DatasetError(`${dir}: expected ${expected}, found a file`);
  try {
    if ((await Deno.stat(join(dir, ARCHIVE_FOLDER))).isDirectory) return join(dir, ARCHIVE_FOLDER);
  } catch {
    // no archive folder: the batches sit in dir itself
  }
  return dir;
}

/** For each stem, the path of its batch file in `root` (or undefined): `stem.bin`, else `stem.bin.gz`, else a sole `stem.<tag>.bin[.gz]`. */
async function findBatches(root: string, stems: string[]): Promise<(string | undefined)[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(root)) if (!entry.isDirectory) names.push(entry.name);
  } catch (err) {
    throw new DatasetError(`${root}: cannot list folder (${oneLine(err)})`);
  }
  return stems.map((stem) => {
    for (const exact of [`${stem}.bin`, `${stem}.bin.gz`]) {
      if (names.includes(exact)) return join(root, exact);
    }
    const tagged = names.filter((n) => n.startsWith(`${stem}.`) && /\.bin(\.gz)?$/.test(n)).sort();
    if (tagged.length > 1) {
      throw new DatasetError(`${root}: expected one file for ${stem}, found several: ${tagged.join(", ")}`);
    }
    return tagged.length === 1 ? join(root, tagged[0]) : undefined;
  });
}

/**
 * Appends up to `maxRecords` records of one batch file to `pixels` (NHWC) and `labels`, validating sizes and
 * labels. Returns the number of records read and the SHA-256 of their uncompressed bytes.
 */
async function readBatch(
  path: string,
  maxRecords: number,
  allowSubset: boolean,
  pixels: ByteBuilder,
  labels: ByteBuilder,
): Promise<{ records: number; sha256: string }> {
  const fullSize = RECORDS_PER_FILE * RECORD;
  const sizeError = (size: number, what: string) =>
    new DatasetError(
      `${path}: ${what} ${size} bytes, expected ${fullSize} (${RECORDS_PER_FILE} records of ${RECORD} bytes)` +
        (size % RECORD === 0
          ? `, found ${size / RECORD} records (--allow-subset loads a partial batch)`
          : ""),
    );
  if (!path.endsWith(".gz")) {
    // Plain batches are checked before reading; gzipped ones once their length is known.
    const { size } = await Deno.stat(path);
    if (size % RECORD !== 0 || (size !== fullSize && !allowSubset)) throw sizeError(size, "size is");
  }

  const hash = createHash("sha256");
  const record = new Uint8Array(RECORD);
  let filled = 0, records = 0, total = 0;
  for await (const chunk of readChunks(path)) {
    total += chunk.length;
    let pos = 0;
    while (pos < chunk.length && records < maxRecords) {
      const take = Math.min(RECORD - filled, chunk.length - pos);
      record.set(chunk.subarray(pos, pos + take), filled);
      filled += take;
      pos += take;
      if (filled < RECORD) break;
      if (record[0] > 9) {
        throw new DatasetError(`${path}: record ${records + 1} has label byte ${record[0]}, expected 0..9`);
      }
      hash.update(record);
      labels.grow(1)[0] = record[0];
      planesToHwc(record.subarray(1), PLANE, pixels.grow(PIXELS));
      records++;
      filled = 0;
    }
    if (records === maxRecords) break;
  }
  if (records < maxRecords && (filled !== 0 || (total !== fullSize && !allowSubset))) {
    throw sizeError(total, "uncompressed size is");
  }
  return { records, sha256: hash.digest("hex") };
}
