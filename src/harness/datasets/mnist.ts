/** Loader for the statically binarized MNIST of Larochelle & Murray (2011), the data of the paper's Table 4. */
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readBinaryAmat } from "./amat.ts";
import { fingerprintMembers } from "./fingerprint.ts";
import { statOrFail } from "./io.ts";
import { DatasetError, type ImageSet } from "./types.ts";

/** A split of binarized MNIST. */
export type MnistSplit = "train" | "valid" | "test";

/** Options of {@link loadBinarizedMnist}. */
export interface MnistOptions {
  /** Folder holding `binarized_mnist_<split>.amat.gz` or `.amat`; default: the project's `data/binarized_mnist`. */
  dir?: string;
  /** A specific `.amat` / `.amat.gz` file; overrides `dir`. */
  file?: string;
  /** Check the official SHA-256 when the file has an official name (default true). */
  verify?: boolean;
}

const SIDE = 28;

/** Line counts and SHA-256 of the uncompressed official files (see shared/data/README.md). */
export const MNIST_OFFICIAL: Record<MnistSplit, { lines: number; sha256: string }> = {
  train: { lines: 50000, sha256: "ad693b29f94c14277b095f5238ddefbbdaaae0939789dd2f4f0205278cee3e4d" },
  valid: { lines: 10000, sha256: "1de3d397c40fe8eeb33dafd4099a1f665ec01e96d9be234aaeeac8a34930e2e2" },
  test: { lines: 10000, sha256: "e6687bfea3f820c174f33b7865140b2a2dd2930ef786f35d45795fc193b5ab2c" },
};

/** The bundled copy, resolved from this module so it works from any working directory. */
export const MNIST_DEFAULT_DIR = fileURLToPath(new URL("../../../data/binarized_mnist/", import.meta.url));

/**
 * Loads one split of binarized MNIST as 28×28×1 images of 0/1 bytes.
 *
 * Files with the official names (`binarized_mnist_<split>.amat[.gz]`) must have the official line count and,
 * unless `verify: false`, the official SHA-256 of the uncompressed text. Other files of any line count are
 * accepted; the set is marked `subset` unless the count equals the official one.
 * The fingerprint is the SHA-256 of the uncompressed text, so `.amat` and `.amat.gz` agree.
 *
 * @throws {DatasetError} on a missing, malformed, truncated or mismatching file.
 */
export async function loadBinarizedMnist(split: MnistSplit, opts: MnistOptions = {}): Promise<ImageSet> {
  if (!Object.hasOwn(MNIST_OFFICIAL, split)) {
    throw new DatasetError(`binarized MNIST: unknown split "${split}", expected train, valid or test`);
  }
  const official = MNIST_OFFICIAL[split];
  const path = opts.file ?? await findSplitFile(opts.dir ?? MNIST_DEFAULT_DIR, split);
  const officialSplit = basename(path).match(/^binarized_mnist_(train|valid|test)\.amat(\.gz)?$/)?.[1];
  if (officialSplit !== undefined && officialSplit !== split) {
    throw new DatasetError(
      `${path}: this is the official ${officialSplit} file, but split "${split}" was requested`,
    );
  }

  const amat = await readBinaryAmat(path, SIDE * SIDE, official.lines);
  if (amat.count === 0) throw new DatasetError(`${path}: expected images (one a line), found none`);
  if (officialSplit !== undefined) {
    if (amat.count !== official.lines) {
      throw new DatasetError(
        `${path}: expected ${official.lines} lines (official ${split} split), found ${amat.count}`,
      );
    }
    if (opts.verify !== false && amat.sha256 !== official.sha256) {
      throw new DatasetError(
        `${path}: SHA-256 of the uncompressed file is ${amat.sha256}, expected the official ${official.sha256}`,
      );
    }
  }
  return {
    name: "binarized-mnist",
    variant: "amat",
    split,
    count: amat.count,
    height: SIDE,
    width: SIDE,
    channels: 1,
    levels: 2,
    pixels: amat.pixels,
    subset: amat.count !== official.lines,
    fingerprint: fingerprintMembers([{ name: `binarized_mnist_${split}.amat`, sha256: amat.sha256 }]),
    files: [path],
  };
}

/** The `.amat.gz` (preferred) or `.amat` of `split` in `dir`. */
async function findSplitFile(dir: string, split: MnistSplit): Promise<string> {
  const stem = `binarized_mnist_${split}.amat`;
  const info = await statOrFail(dir, `a folder holding ${stem}.gz or ${stem}`);
  if (!info.isDirectory) {
    throw new DatasetError(`${dir}: expected a folder holding ${stem}.gz or ${stem}, found a file`);
  }
  for (const name of [`${stem}.gz`, stem]) {
    try {
      await Deno.stat(join(dir, name));
      return join(dir, name);
    } catch {
      // try the next name
    }
  }
  throw new DatasetError(`${dir}: expected ${stem}.gz or ${stem} in this folder, found neither`);
}
