/**
 * Reproduces a paper table: for each selected row, train the tier's model, evaluate it on the table's
 * split, compare (paper tier: with the paper within its tolerance; other tiers: with the tier's own
 * band) and collect one results row per metric. Reference rows carry the published numbers. The paper
 * tier trains by the row's recipe and tests the best checkpoint by validation NLL. Each row's learning
 * curve is collected into the table's curve file.
 */
import { adapterLine, type Gpu } from "../engine/device.ts";
import { CheckpointError } from "../engine/safetensors.ts";
import { configDifferences } from "../models/checkpoint.ts";
import { PixelModel } from "../models/model.ts";
import type { ResultRow, ResultStatus } from "./csv.ts";
import { evaluate, SetEvaluator } from "./evaluate.ts";
import type { PaperTable, TableRow, Tier, TierRun } from "./tables/mod.ts";
import { recipeSchedule } from "./tables/recipes.ts";
import { type DataOptions, loadTableData, type TableData } from "./table_data.ts";
import { train } from "./train.ts";
import { loadCheckpoint, type LoadedCheckpoint } from "./checkpoint.ts";
import { checkFits } from "./fit.ts";
import { duration, projectRow, type RowProjection, rowWork } from "./estimate.ts";
import { collectCurve, curvePath } from "./curves.ts";
import type { ImageSet } from "./datasets/types.ts";
import { selectBest, selectionData } from "./validation.ts";

export interface ReproOptions extends DataOptions {
  gpu: Gpu;
  table: PaperTable;
  tier: Tier;
  /** Row ids to run (all when absent). */
  rows?: string[];
  seed: number;
  /** Override the tier's step count (e.g. for a longer quick run). */
  steps?: number;
  /**
   * Where each row's checkpoint, curve and (paper tier) best model go, and with `resume` where runs
   * continue from. The paper tier needs it.
   */
  checkpointDir?: string;
  /** The table's curve file (results/<table>-<tier>-curves.csv), which each row's curve is copied into. */
  curves?: string;
  resume?: boolean;
  /** Polled between steps; true stops the current row with a checkpoint and ends the run. */
  shouldStop?: () => boolean;
  /** Stop each row at this step with a checkpoint, as `shouldStop` does (continue with `resume`). */
  untilStep?: number;
  /** Also checkpoint every this many seconds of wall clock (besides the tier's step interval). */
  checkpointSeconds?: number;
  /**
   * When given, each runnable row is timed and its training and evaluation projected (see estimate.ts)
   * before any row trains: the projections are handed to it, which may throw to refuse the run, and
   * each row's is logged again as the row starts.
   */
  project?: (projections: RowProjection[]) => void;
  progress?: boolean;
  log?: (line: string) => void;
  /** Called with each results row as soon as it is known (so a caller can keep them if a later row fails). */
  onResult?: (row: ResultRow) => void;
  /** Called with each trained row's model and data, before it is freed (figures). */
  afterRow?: (row: TableRow, run: TierRun, model: PixelModel, data: TableData) => Promise<void>;
}

export interface ReproResult {
  rows: ResultRow[];
  /** True when a row compared (with the paper or its band) came out outside. */
  failed: boolean;
  interrupted: boolean;
}

/**
 * `git rev-parse --short HEAD`, with "-dirty" when tracked files other than results/ have changes (the
 * results a run rewrites do not change what it runs); "unknown" outside git.
 */
export async function gitCommit(): Promise<string> {
  const run = async (args: string[]) => {
    const out = await new Deno.Command("git", { args, stdout: "piped", stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  };
  try {
    const head = await run(["rev-parse", "--short", "HEAD"]);
    if (!head) return "unknown";
    const dirty = await run(["status", "--porcelain", "--untracked-files=no", "--", ".", ":!results"]);
    return dirty ? `${head}-dirty` : head;
  } catch {
    return "unknown";
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Where a row's checkpoint goes (and its curve and best model, next to it). */
export function checkpointPath(dir: string, table: PaperTable, row: TableRow, tier: Tier): string {
  return `${dir}/${table.id}-${row.id}-${tier}.safetensors`;
}

/**
 * The checkpoints `--resume` continues from, read before any row trains: each must be of its row's
 * model and fit the training images, else the run stops at once naming the file.
 */
async function resumable(
  o: ReproOptions,
  rows: TableRow[],
  train: ImageSet,
): Promise<Map<string, LoadedCheckpoint>> {
  const found = new Map<string, LoadedCheckpoint>();
  if (!o.resume || !o.checkpointDir) return found;
  for (const row of rows) {
    const path = checkpointPath(o.checkpointDir, o.table, row, o.tier);
    if (!await exists(path)) continue;
    const c = await loadCheckpoint(path);
    checkFits(path, c.model.config, train);
    const diff = configDifferences(row.tiers![o.tier].model, c.model.config);
    if (diff.length) {
      throw new CheckpointError(`${path}: not a checkpoint of ${o.table.id} / ${row.id}: ${diff.join("; ")}`);
    }
    found.set(row.id, c);
  }
  return found;
}

/** A split read: its name, size and whether it is less than the official split. */
function describeSplit(s: ImageSet): string {
  return `${s.split}, ${s.count} images${s.subset ? " (subset)" : ""}`;
}

function describeSet(s: ImageSet): string {
  return `${s.name} ${describeSplit(s)} [${s.variant}]`;
}

/**
 * The `dataset` column: the dataset and its variant, then the split trained on and the split evaluated,
 * each with its size and whether it is a subset, e.g.
 * "cifar10 [cifar10-binary]; train: train, 3500 images (subset); eval: test, 10000 images".
 */
export function describeData(train: ImageSet, evaluated: ImageSet): string {
  return `${train.name} [${train.variant}]; train: ${describeSplit(train)}; eval: ${
    describeSplit(evaluated)
  }`;
}

/** The model of a tier's run in a few words, e.g. "row-lstm 7x16" (the `model` column). */
export function describeModel(r: TierRun): string {
  const m = r.model;
  return `${m.kind} ${m.layers}x${m.h}${m.residual ? "" : " no-residual"}${m.skip ? "" : " no-skip"}`;
}

/** pass/fail against the paper (paper tier) or the band (other tiers, which report not-comparable when inside). */
export function judge(tier: Tier, run: TierRun, paper: number, ours: number): ResultStatus {
  if (tier === "paper") return Math.abs(ours - paper) <= run.tolerance! ? "pass" : "fail";
  const [lo, hi] = run.band!;
  return ours >= lo && ours <= hi ? "not-comparable" : "fail";
}

/** The results row of a published baseline: the paper's number, nothing of ours. */
export function referenceRow(
  table: PaperTable,
  row: TableRow,
  tier: Tier,
  adapter: string,
  commit: string,
): ResultRow {
  return {
    table: table.id,
    row: row.label,
    model: row.reference!,
    dataset: table.dataset,
    dataset_fingerprint: "",
    tier,
    metric: `nll-${table.split}`,
    unit: table.unit,
    paper: row.paper,
    ours: null,
    tolerance: null,
    status: "reference",
    steps: null,
    images_seen: null,
    wall_s: null,
    adapter,
    git_commit: commit,
    config: JSON.stringify({ qualifier: row.qualifier ?? null }),
  };
}

/**
 * The metrics a runnable row reports in a tier: NLL on the table's split and, in the paper tier of the
 * tables that give one in brackets, on the training split.
 */
export function rowMetrics(
  table: PaperTable,
  row: TableRow,
  tier: Tier,
): { metric: string; paper: number }[] {
  const metrics = [{ metric: `nll-${table.split}`, paper: row.paper }];
  if (tier === "paper" && row.tiers?.[tier].trainMetric && row.paperTrain !== undefined) {
    metrics.push({ metric: "nll-train", paper: row.paperTrain });
  }
  return metrics;
}

export async function reproTable(o: ReproOptions): Promise<ReproResult> {
  const { table, tier, gpu } = o;
  const log = o.log ?? (() => {});
  const selected = table.rows.filter((r) => !o.rows || o.rows.includes(r.id));
  const unknown = (o.rows ?? []).filter((id) => !table.rows.some((r) => r.id === id));
  if (unknown.length) {
    throw new Error(
      `${table.id}: unknown rows ${unknown.join(", ")}; known: ${table.rows.map((r) => r.id).join(", ")}`,
    );
  }
  const adapter = adapterLine(gpu.summary);
  const commit = await gitCommit();
  const runnable = selected.filter((r) => r.tiers);
  // Load (and check) every dataset before any training, so a data error writes nothing.
  const slices = runnable[0]?.tiers?.[tier];
  const data = runnable.length ? await loadTableData(table, tier, o, slices ?? {}) : null;
  const selection = data && slices?.recipe ? await selectionData(table, data, o) : null;
  if (selection && !o.checkpointDir) {
    throw new Error(
      `${table.id}: the ${tier} tier keeps each row's best checkpoint; give a checkpoint directory`,
    );
  }
  const resumes = data ? await resumable(o, runnable, selection?.train ?? data.train) : new Map();
  const projections = new Map<string, RowProjection>();
  if (o.project && data) {
    const sizes = {
      train: (selection?.train ?? data.train).count,
      valid: selection?.valid.count,
      eval: data.eval.count,
    };
    for (const row of runnable) {
      const work = rowWork(
        table,
        row,
        tier,
        sizes,
        o.steps ?? row.tiers![tier].steps,
        resumes.get(row.id)?.state.step,
      );
      projections.set(row.id, await projectRow(gpu, row, tier, work));
    }
    o.project([...projections.values()]);
  }
  const out: ResultRow[] = [];
  const emit = (r: ResultRow) => {
    out.push(r);
    o.onResult?.(r);
  };
  let failed = false, interrupted = false;
  for (const row of selected) {
    if (!row.tiers) {
      emit(referenceRow(table, row, tier, adapter, commit));
      continue;
    }
    if (interrupted) break;
    const run = row.tiers[tier];
    const steps = o.steps ?? run.steps;
    const trainSet = selection?.train ?? data!.train;
    log(
      `${table.id} / ${row.id} (${tier}): ${describeModel(run)}, ${steps} steps of batch ${run.batch} on ${
        describeSet(trainSet)
      }${selection ? `, selected on ${describeSet(selection.valid)}` : ""}`,
    );
    const projected = projections.get(row.id);
    if (projected) {
      log(
        `  projected on this adapter: training ${duration(projected.trainSeconds)}, evaluation ${
          duration(projected.evalSeconds)
        }`,
      );
    }
    const model = PixelModel.create(gpu, run.model, o.seed);
    const validator = selection
      ? new SetEvaluator(model, selection.valid, {
        batch: run.batch,
        progress: o.progress,
        label: `${row.id} valid`,
      })
      : null;
    const validate = validator ? async () => (await validator.run()).value : undefined;
    try {
      const ckpt = o.checkpointDir ? checkpointPath(o.checkpointDir, table, row, tier) : undefined;
      const resume = resumes.get(row.id);
      if (resume) log(`  resuming from ${ckpt} at step ${resume.state.step}`);
      // train() polls shouldStop once after every step: counting the calls counts the steps.
      let at = resume?.state.step ?? 0;
      const until = o.untilStep;
      const shouldStop = until === undefined
        ? o.shouldStop
        : () => ++at >= until || (o.shouldStop?.() ?? false);
      const t = await train({
        model,
        set: trainSet,
        batch: run.batch,
        optimizer: run.optimizer,
        steps,
        dataSeed: o.seed,
        checkpoint: ckpt
          ? { path: ckpt, every: tier === "paper" ? 1000 : steps, seconds: o.checkpointSeconds }
          : undefined,
        resume,
        run: {
          table: table.id,
          row: row.id,
          tier,
          dataset_name: table.dataset,
          dataset: trainSet.fingerprint,
        },
        shouldStop,
        schedule: run.recipe ? recipeSchedule(run.recipe) : undefined,
        validate,
        curveEvery: run.curveEvery,
        log: (line) => log(`  ${line}`),
        progress: o.progress,
        label: `${table.id}/${row.id}`,
      });
      const collect = async () => {
        if (ckpt && o.curves) {
          await collectCurve(
            o.curves,
            row.id,
            curvePath(ckpt),
            runnable.map((r) => r.id),
          );
        }
      };
      if (t.stopped === "interrupted") {
        await collect();
        interrupted = true;
        log(`  interrupted at step ${t.steps}${ckpt ? `; checkpoint at ${ckpt} (rerun with --resume)` : ""}`);
        break;
      }
      const chosen = validate ? await selectBest(model, t, ckpt!, validate) : null;
      if (chosen) {
        log(
          `  testing the best checkpoint by validation NLL: step ${chosen.best.step}, ${chosen.best.value} ` +
            `(last step ${chosen.last.step}: ${chosen.last.value})`,
        );
      }
      for (const { metric, paper } of rowMetrics(table, row, tier)) {
        const set = metric === "nll-train" ? trainSet : data!.eval;
        const e = await evaluate(model, set, {
          batch: run.batch,
          progress: o.progress,
          label: `${row.id} ${metric}`,
        });
        const status = judge(tier, run, paper, e.value);
        failed ||= status === "fail";
        log(`  ${metric}: ${e.value.toFixed(4)} ${e.unit} (paper ${paper}) -> ${status}`);
        emit({
          table: table.id,
          row: row.label,
          model: describeModel(run),
          dataset: describeData(trainSet, set),
          dataset_fingerprint: `train:${trainSet.fingerprint} eval:${set.fingerprint}`,
          tier,
          metric,
          unit: e.unit,
          paper,
          ours: Number(e.value.toFixed(5)),
          tolerance: tier === "paper" ? run.tolerance! : null,
          status,
          steps: t.steps,
          images_seen: t.imagesSeen,
          wall_s: Number((t.wallSeconds + e.seconds).toFixed(1)),
          adapter,
          git_commit: commit,
          config: JSON.stringify({
            model: run.model,
            batch: run.batch,
            optimizer: run.optimizer,
            seed: o.seed,
            band: run.band ?? null,
            final_train_loss: Number(t.finalLoss.toFixed(5)),
            eval_images: set.count,
            // What `repro --merge --prefer newest` compares.
            finished_at: new Date().toISOString(),
            ...(chosen && {
              stopped: t.stopped,
              recipe: run.recipe!.status,
              valid_set: describeSet(selection!.valid),
              best_step: chosen.best.step,
              best_valid_nll: Number(chosen.best.value.toFixed(5)),
              last_step: chosen.last.step,
              last_valid_nll: Number(chosen.last.value.toFixed(5)),
            }),
          }),
        });
      }
      // After the row's results are out: a curve that cannot be written does not lose them.
      await collect();
      await o.afterRow?.(row, run, model, data!);
    } finally {
      validator?.destroy();
      model.destroy();
    }
  }
  return { rows: out, failed, interrupted };
}
