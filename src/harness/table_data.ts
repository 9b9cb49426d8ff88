/**
 * The training and evaluation images of a table run: the right split of the right dataset, loaded and
 * checked before any training starts, and sliced as the tier asks (smoke: a held-out slice of the loaded
 * training images; quick: possibly the first images of the evaluation split).
 */
import { subsample } from "../models/multiscale.ts";
import {
  DatasetError,
  type ImageSet,
  loadBinarizedMnist,
  loadCifar10,
  loadImagenet,
} from "./datasets/mod.ts";
import type { PaperTable, Tier } from "./tables/mod.ts";
import type { DatasetId } from "./tables/types.ts";

export interface DataOptions {
  /** CIFAR-10 / ImageNet directory (MNIST: optional directory of .amat(.gz) files). */
  data?: string;
  /** Accept a CIFAR-10 directory holding fewer records than the official files. */
  allowSubset?: boolean;
}

export interface TableData {
  train: ImageSet;
  /** The evaluation split (the whole of it, or the tier's slice). */
  eval: ImageSet;
}

/** The first `count` images of a set, marked as a subset when that is fewer than it has. */
export function firstImages(set: ImageSet, count: number, split = set.split, from = 0): ImageSet {
  const per = set.height * set.width * set.channels;
  if (from + count > set.count) {
    throw new DatasetError(
      `${set.files[0] ?? set.name}: ${set.count} images loaded, the run needs ${from + count}`,
    );
  }
  const whole = from === 0 && count === set.count;
  return {
    ...set,
    split,
    count,
    pixels: set.pixels.subarray(from * per, (from + count) * per),
    labels: set.labels?.subarray(from, from + count),
    subset: set.subset || !whole,
  };
}

function needDir(dataset: DatasetId, o: DataOptions): string {
  if (!o.data) {
    throw new DatasetError(
      `${dataset}: --data DIR is required (${
        dataset === "cifar10"
          ? "the CIFAR-10 binary batches data_batch_1..5.bin and test_batch.bin"
          : "the downsampled ImageNet train and valid sets"
      })`,
    );
  }
  return o.data;
}

/** Finds the train or valid part of a downsampled ImageNet directory (folder, tar or npz). */
async function imagenetPart(dir: string, part: "train" | "valid", size: number): Promise<string> {
  const names = part === "train"
    ? [
      `train_${size}x${size}`,
      `train_${size}x${size}.tar`,
      "train",
      "train.tar",
      `Imagenet${size}_train_npz`,
    ]
    : [
      `valid_${size}x${size}`,
      `valid_${size}x${size}.tar`,
      "valid",
      "valid.tar",
      "val",
      `Imagenet${size}_val_npz`,
    ];
  for (const n of names) {
    try {
      await Deno.stat(`${dir}/${n}`);
      return `${dir}/${n}`;
    } catch {
      // try the next name
    }
  }
  throw new DatasetError(`${dir}: no ${part} set found (looked for ${names.join(", ")})`);
}

/** The f-times subsampled images of a set (Multi-Scale PixelRNN; see src/models/multiscale.ts). */
export function subsampledSet(set: ImageSet, f: number): ImageSet {
  return {
    ...set,
    name: `${set.name} subsampled x${f}`,
    height: set.height / f,
    width: set.width / f,
    pixels: subsample(set.pixels, set.count, set.height, set.width, set.channels, f),
  };
}

/** [I] CIFAR-10 has no validation split: the last tenth of the training images (5,000 of 50,000). */
export function cifarValidation(train: ImageSet): { train: ImageSet; valid: ImageSet } {
  const valid = Math.round(train.count / 10);
  return {
    train: firstImages(train, train.count - valid, "train (first 90%)"),
    valid: firstImages(train, valid, "valid (last 10% of train)", train.count - valid),
  };
}

/**
 * One split of a dataset. CIFAR-10 "valid" is the last tenth of the training images (see
 * {@link cifarValidation}); downsampled ImageNet has train and valid only.
 */
export async function loadSplit(
  dataset: DatasetId,
  split: "train" | "valid" | "test",
  o: DataOptions,
): Promise<ImageSet> {
  switch (dataset) {
    case "binarized-mnist":
      return await loadBinarizedMnist(split, o.data ? { dir: o.data } : {});
    case "cifar10": {
      if (split === "test") {
        return await loadCifar10(needDir(dataset, o), "test", { allowSubset: o.allowSubset });
      }
      const all = await loadCifar10(needDir(dataset, o), "train", { allowSubset: o.allowSubset });
      return split === "valid" ? cifarValidation(all).valid : all;
    }
    default: {
      if (split === "test") {
        throw new DatasetError(`${dataset}: the downsampled ImageNet has no test split; use valid`);
      }
      const size = dataset === "imagenet32" ? 32 : 64;
      return await loadImagenet(await imagenetPart(needDir(dataset, o), split, size), size, { split });
    }
  }
}

/**
 * Loads what a table run needs for `tier`. Smoke runs use only the training split: its first images
 * train, the next `heldOut` are evaluated. Every failure is a one-line DatasetError.
 */
export async function loadTableData(
  table: PaperTable,
  tier: Tier,
  o: DataOptions,
  slices: { trainImages?: number; heldOut?: number; evalImages?: number },
): Promise<TableData> {
  const full = await loadSplit(table.dataset, "train", o);
  if (tier === "smoke") {
    const n = slices.trainImages!, held = slices.heldOut!;
    return {
      train: firstImages(full, n, "train (smoke slice)"),
      eval: firstImages(full, held, `train images ${n}..${n + held - 1} (smoke, held out)`, n),
    };
  }
  let train = full, evalSet: ImageSet;
  if (table.dataset === "cifar10" && table.split === "valid") {
    ({ train, valid: evalSet } = cifarValidation(full));
  } else evalSet = await loadSplit(table.dataset, table.split, o);
  const e = slices.evalImages && slices.evalImages < evalSet.count
    ? firstImages(evalSet, slices.evalImages, `${evalSet.split} (first ${slices.evalImages})`)
    : evalSet;
  return { train, eval: e };
}
