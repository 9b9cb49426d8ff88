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
 *   within `tolerance`.
 */
import type { OptimizerConfig } from "../../engine/optim.ts";
import type { ModelConfig } from "../../models/config.ts";
import type { ResultTier } from "../csv.ts";

export type Tier = ResultTier;

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

export type DatasetId = "binarized-mnist" | "cifar10" | "imagenet32" | "imagenet64";

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
