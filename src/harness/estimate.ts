/**
 * What a table row costs on the adapter at hand, before it trains: a few warmed-up training steps and
 * evaluation batches of the row's model, timed by wall clock through the real Trainer and Evaluator on
 * random images, and the projection of the tier's whole training and evaluation from them. A batch too
 * big for the adapter's binding limit is timed at the largest batch that fits and scaled.
 */
import { type Gpu, GpuError } from "../engine/device.ts";
import { uploadDataset } from "../engine/ops/gather.ts";
import { Rng } from "../engine/rng.ts";
import type { Tensor } from "../engine/tensor.ts";
import { dispatchCount, flopsPerImage, trainLists } from "../models/cost.ts";
import { Evaluator } from "../models/evaluator.ts";
import { largestBatch, PixelModel } from "../models/model.ts";
import { Trainer } from "../models/trainer.ts";
import { MNIST_OFFICIAL } from "./datasets/mnist.ts";
import { rowMetrics } from "./repro.ts";
import { IMAGENET_HELD_OUT } from "./tables/imagenet.ts";
import type { PaperTable, TableRow, Tier, TierRun } from "./tables/mod.ts";

/** Longest projected paper-tier run that starts without --yes. */
export const MAX_PROJECTED_DAYS = 7;

/** What one row's training steps and evaluation batches take on this adapter. */
export interface Rates {
  /** The row's batch. */
  batch: number;
  /** The batch timed: the row's, or the largest that fits the adapter's binding limit. */
  timedBatch: number;
  trainImagesPerSecond: number;
  evalImagesPerSecond: number;
  /** Dispatches of one training step at the timed batch. */
  dispatchesPerStep: number;
  /** Dense FLOPs of a training step per image. */
  trainFlopsPerImage: number;
}

/** Timed calls: at least this many after the warm-up, more until {@link MIN_SECONDS} are covered. */
const MIN_CALLS = 2;
const MAX_CALLS = 500;
const MIN_SECONDS = 1;

/** Wall-clock seconds of `n` calls of `submit` and the `flush` that waits for them. */
async function timed(
  n: number,
  submit: () => Promise<unknown>,
  flush: () => Promise<unknown>,
): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await submit();
  await flush();
  return (performance.now() - t0) / 1000;
}

/** Seconds per call, after one untimed call (shaders compile at their first dispatch). */
async function secondsPerCall(
  submit: () => Promise<unknown>,
  flush: () => Promise<unknown>,
): Promise<number> {
  await timed(1, submit, flush);
  let n = MIN_CALLS;
  let s = await timed(n, submit, flush);
  if (s < MIN_SECONDS && n < MAX_CALLS) {
    n = Math.min(MAX_CALLS, Math.ceil((n * MIN_SECONDS) / Math.max(s, 1e-6)));
    s = await timed(n, submit, flush);
  }
  return s / n;
}

/** `count` random images of `bytes` bytes each, in the value range of `binary` or 8-bit images. */
function randomImages(gpu: Gpu, count: number, bytes: number, binary: boolean, label: string): Tensor {
  const rng = new Rng(1, 3);
  const levels = binary ? 2 : 256;
  const pixels = Uint8Array.from({ length: count * bytes }, () => Math.floor(rng.uniform() * levels));
  return uploadDataset(gpu, pixels, bytes, label);
}

/** Times the training steps and evaluation batches of `run`'s model (a fresh one, freed after). */
export async function measureRow(gpu: Gpu, run: TierRun): Promise<Rates> {
  const c = run.model;
  const B = largestBatch(c, gpu.limits.maxStorageBufferBindingSize, run.batch);
  const bytes = c.height * c.width * c.channels;
  const f = c.conditioning?.factor ?? 1;
  const binary = c.output === "binary";
  const model = PixelModel.create(gpu, c, 1);
  const data = randomImages(gpu, B, bytes, binary, "estimate images");
  const small = c.conditioning ? randomImages(gpu, B, bytes / (f * f), binary, "estimate small") : undefined;
  const idx = Uint32Array.from({ length: B }, (_, i) => i);
  let trainer: Trainer | null = null, evaluator: Evaluator | null = null;
  try {
    trainer = new Trainer(model, { batch: B, optimizer: run.optimizer });
    trainer.feeder.use(data, small);
    const t = trainer;
    const step = await secondsPerCall(() => t.step(idx), () => t.flush());
    const dispatchesPerStep = dispatchCount(trainLists(t));
    t.destroy();
    trainer = null;
    evaluator = new Evaluator(model, B);
    evaluator.use(data, small);
    const e = evaluator;
    const batch = await secondsPerCall(() => e.submit(idx), () => e.flush());
    return {
      batch: run.batch,
      timedBatch: B,
      trainImagesPerSecond: B / step,
      evalImagesPerSecond: B / batch,
      dispatchesPerStep,
      trainFlopsPerImage: flopsPerImage(c).train,
    };
  } finally {
    trainer?.destroy();
    evaluator?.destroy();
    model.destroy();
    data.buffer.destroy();
    small?.buffer.destroy();
  }
}

/** Images a row trains on, validates on (paper tier: the checkpoint selection's split) and is evaluated on. */
export interface SetSizes {
  train: number;
  valid?: number;
  eval: number;
}

/**
 * The sizes of a row's sets when its data is not at hand: the official releases' split sizes, sliced as
 * table_data.ts and validation.ts slice the loaded sets. The downsampled ImageNet holds 1,281,149
 * training and 49,999 validation images.
 */
export function plannedSizes(table: PaperTable, run: TierRun, tier: Tier): SetSizes {
  if (tier === "smoke") return { train: run.trainImages!, eval: run.heldOut! };
  const official = {
    "binarized-mnist": { train: MNIST_OFFICIAL.train.lines, test: MNIST_OFFICIAL.test.lines },
    cifar10: { train: 50_000, test: 10_000 },
    imagenet32: { train: 1_281_149, valid: 49_999 },
    imagenet64: { train: 1_281_149, valid: 49_999 },
  }[table.dataset] as { train: number; test?: number; valid?: number };
  const cifarValid = Math.round(official.train / 10);
  // Tables 2-3 train on the first 90% of CIFAR-10's training images and report (and select on) the rest.
  const reportsHeldOut = table.dataset === "cifar10" && table.split === "valid";
  const split = reportsHeldOut ? cifarValid : official[table.split]!;
  const evalCount = Math.min(run.evalImages ?? split, split);
  const train = reportsHeldOut ? official.train - cifarValid : official.train;
  if (!run.recipe) return { train, eval: evalCount };
  switch (table.dataset) {
    case "binarized-mnist":
      return { train, valid: MNIST_OFFICIAL.valid.lines, eval: evalCount };
    case "cifar10":
      return reportsHeldOut
        ? { train, valid: cifarValid, eval: evalCount }
        : { train: train - cifarValid, valid: cifarValid, eval: evalCount };
    default:
      return { train: train - IMAGENET_HELD_OUT, valid: IMAGENET_HELD_OUT, eval: evalCount };
  }
}

/** The training steps and evaluated images of a row's run, at most (early stopping may end it sooner). */
export interface Work {
  steps: number;
  evalImages: number;
}

/**
 * The work of training a row from `fromStep` to `steps` and testing it: every validation of the recipe
 * (and the one selecting a last step that was not validated), then each metric the row reports.
 */
export function rowWork(
  table: PaperTable,
  row: TableRow,
  tier: Tier,
  sizes: SetSizes,
  steps: number,
  fromStep = 0,
): Work {
  const every = row.tiers![tier].recipe?.evalEvery.value;
  let evalImages = 0;
  if (every !== undefined && sizes.valid !== undefined) {
    const validations = Math.floor(steps / every) - Math.floor(fromStep / every) + (steps % every ? 1 : 0);
    evalImages += validations * sizes.valid;
  }
  for (const { metric } of rowMetrics(table, row, tier)) {
    evalImages += metric === "nll-train" ? sizes.train : sizes.eval;
  }
  return { steps: Math.max(0, steps - fromStep), evalImages };
}

/** A row's measured rates and the wall time of its work projected from them. */
export interface RowProjection {
  row: string;
  /** Rates, or why the row's model cannot run here. */
  rates: Rates | { error: string };
  work: Work;
  trainSeconds: number;
  evalSeconds: number;
}

/**
 * Measures `row` and projects `work`. A model that does not fit the adapter at all is reported, not
 * thrown, when `keepGoing` (an estimate of a whole table lists every row).
 */
export async function projectRow(
  gpu: Gpu,
  row: TableRow,
  tier: Tier,
  work: Work,
  keepGoing = false,
): Promise<RowProjection> {
  let rates: Rates;
  try {
    rates = await measureRow(gpu, row.tiers![tier]);
  } catch (e) {
    if (!keepGoing || !(e instanceof GpuError)) throw e;
    return { row: row.id, rates: { error: e.message }, work, trainSeconds: NaN, evalSeconds: NaN };
  }
  return {
    row: row.id,
    rates,
    work,
    trainSeconds: (work.steps * rates.batch) / rates.trainImagesPerSecond,
    evalSeconds: work.evalImages / rates.evalImagesPerSecond,
  };
}

/** "42 s", "12 min", "3.4 h", "5.2 d". */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "-";
  if (seconds < 90) return `${seconds.toFixed(0)} s`;
  if (seconds < 90 * 60) return `${(seconds / 60).toFixed(0)} min`;
  if (seconds < 48 * 3600) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

/** FLOPs in a short unit: "87.3 M", "2.41 G". */
function flops(x: number): string {
  return x >= 1e9 ? `${(x / 1e9).toPrecision(3)} G` : `${(x / 1e6).toPrecision(3)} M`;
}

/** The projection as text rows (a header, one row per table row) and the notes under them. */
export function projectionTable(list: RowProjection[]): { rows: string[][]; notes: string[] } {
  const head = [
    "row",
    "FLOPs/image",
    "batch",
    "train img/s",
    "eval img/s",
    "dispatches/step",
    "steps",
    "eval images",
    "training",
    "evaluation",
  ];
  const notes: string[] = [];
  const rows = list.map((p) => {
    if ("error" in p.rates) {
      notes.push(`${p.row}: does not run on this adapter: ${p.rates.error}`);
      return [p.row, "-", "-", "-", "-", "-", String(p.work.steps), String(p.work.evalImages), "-", "-"];
    }
    const r = p.rates;
    const scaled = r.timedBatch < r.batch;
    if (scaled) {
      notes.push(
        `${p.row}: batch ${r.batch} exceeds this adapter's storage binding limit; timed at batch ` +
          `${r.timedBatch} and scaled to ${r.batch} (images/s taken as equal)`,
      );
    }
    return [
      p.row,
      flops(r.trainFlopsPerImage),
      scaled ? `${r.batch} (${r.timedBatch}*)` : String(r.batch),
      r.trainImagesPerSecond.toFixed(1),
      r.evalImagesPerSecond.toFixed(1),
      String(r.dispatchesPerStep),
      String(p.work.steps),
      String(p.work.evalImages),
      duration(p.trainSeconds),
      duration(p.evalSeconds),
    ];
  });
  const total = list.reduce((s, p) => s + p.trainSeconds + p.evalSeconds, 0);
  notes.push(
    `all rows: ${duration(total)} at most (training FLOPs are dense: forward, input and weight gradients; ` +
      "early stopping may end a paper-tier row sooner)",
  );
  return { rows: [head, ...rows], notes };
}

/**
 * Why a run must not start: a paper-tier run (all its rows, one after another) projected over
 * {@link MAX_PROJECTED_DAYS} days, without `yes`; null when it may.
 */
export function refusal(table: string, tier: Tier, list: RowProjection[], yes: boolean): string | null {
  if (tier !== "paper" || yes) return null;
  const total = list.reduce((s, p) => s + p.trainSeconds + p.evalSeconds, 0);
  if (total <= MAX_PROJECTED_DAYS * 86400) return null;
  const each = list.map((p) => `${p.row} ${duration(p.trainSeconds + p.evalSeconds)}`).join(", ");
  return `the paper tier of ${table} is projected at ${duration(total)} on this adapter (${each}), over ` +
    `${MAX_PROJECTED_DAYS} days: pass --yes to run it anyway, or --rows to spread it over machines`;
}
