/**
 * The paper's tables as data. Each table lists every row of the paper's table (baselines included, as
 * `reference` rows with their published numbers) and, for the rows this project runs, one run per tier:
 *
 * - `smoke`: seconds; a tiny model on a slice of the data, evaluated on a held-out slice of the loaded
 *   training images. Proves the pipeline runs end to end (CI); its band only asks for a plausible value
 *   below the uniform model's.
 * - `quick`: minutes on the software adapter; a reduced model, evaluated on the table's real split. Its
 *   band is a learning criterion stated per table (e.g. under 150 nats on MNIST, well below a model of
 *   independent pixels), never the paper's number.
 * - `paper`: the paper's configuration for a real GPU; only these rows are compared with the paper, to
 *   within `tolerance`. Where the paper is silent (rates, schedules, lengths, some sizes), the row's
 *   {@link Recipe} states the choice, its reason and the evidence behind it.
 */
import type { OptimizerConfig } from "../../engine/optim.ts";
import type { ModelConfig } from "../../models/config.ts";
import type { ResultTier } from "../csv.ts";

export type Tier = ResultTier;

/** One choice of a recipe: the value and why it was chosen (the evidence, or why there is none yet). */
export interface Choice<T> {
  value: T;
  why: string;
}

/** A calibration run behind a recipe: its committed learning curve and what it reached. */
export interface CalibrationRun {
  /** The curve file, under results/calibration/. */
  curve: string;
  /** What was trained, e.g. "pixelcnn 15x16, RMSProp 1e-3, batch 16". */
  setup: string;
  steps: number;
  imagesSeen: number;
  /** The best checkpoint by validation NLL: its step and NLL (table's unit). */
  bestStep: number;
  bestValidNll: number;
  /** The test NLL of that checkpoint, where measured (never used to choose). */
  testNll?: number;
}

/**
 * How the paper tier trains a row: the model size, learning rate, schedule, validation interval,
 * maximum length and early-stopping patience, each with its reason. `provisional` until calibration
 * runs measured on this project's code back the values; those runs are then listed in `evidence`.
 */
export interface Recipe {
  status: "provisional" | "calibrated";
  /** Layers and h of the model (the paper's where it gives them). */
  size: Choice<{ layers: number; h: number }>;
  /** RMSProp learning rate. */
  lr: Choice<number>;
  /** Per-step rate decay and the plateau rule (see src/harness/schedule.ts). */
  schedule: Choice<{ decay: number; plateau?: { factor: number; patience: number } }>;
  /** Steps between validations (which select the checkpoint that is tested). */
  evalEvery: Choice<number>;
  /** Training length when early stopping does not end it first. */
  maxSteps: Choice<number>;
  /** Validations without a new best before training stops. */
  patience: Choice<number>;
  evidence: CalibrationRun[];
}

export interface TierRun {
  /** The model: a preset's config with overrides already applied. */
  model: ModelConfig;
  batch: number;
  steps: number;
  optimizer: OptimizerConfig;
  /** Training images used (first ones of the training split); all when absent. */
  trainImages?: number;
  /** quick: evaluate on the first images of the split only (the row is then labelled a subset). */
  evalImages?: number;
  /** smoke: images of the loaded training data held out for evaluation. */
  heldOut?: number;
  /** smoke and quick: accepted range of the result, in the table's unit. */
  band?: [number, number];
  /** paper: accepted |ours - paper|, in the table's unit. */
  tolerance?: number;
  /** Also evaluate on the training split (paper tier of Tables 5 and 6: "training NLL in brackets"). */
  trainMetric?: boolean;
  /** Steps between lines of the learning curve. */
  curveEvery: number;
  /** paper: how it trains (validation selection, schedule, early stopping); its values fill the above. */
  recipe?: Recipe;
}

export interface TableRow {
  /** Short id for --rows, e.g. "diagonal-7x16". */
  id: string;
  /** As printed in the paper. */
  label: string;
  /** "≈" or "≤" where the paper qualifies a baseline's value. */
  qualifier?: "≈" | "≤";
  /** The paper's value (test or validation NLL), in the table's unit. */
  paper: number;
  /** The paper's training NLL, where it gives one in brackets. */
  paperTrain?: number;
  /** Published baseline: the citation, for rows this project does not run. */
  reference?: string;
  /** Runs per tier, for the rows this project runs. */
  tiers?: Record<Tier, TierRun>;
}

export const DATASETS = ["binarized-mnist", "cifar10", "imagenet32", "imagenet64"] as const;
export type DatasetId = typeof DATASETS[number];

export interface PaperTable {
  /** Name used on the command line and for results/<id>.csv. */
  id: string;
  title: string;
  dataset: DatasetId;
  /** Split the paper reports on: MNIST and CIFAR-10 test, Tables 2-3 a validation split, ImageNet valid. */
  split: "test" | "valid";
  unit: "nats" | "bits/dim";
  rows: TableRow[];
  /** A note on choices this table makes where the paper is silent. */
  note: string;
}
