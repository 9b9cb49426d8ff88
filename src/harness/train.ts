/**
 * The training loop: seeded batch order over a resident dataset, one submit per step, losses checked
 * (a few steps late) for divergence, progress in the table's unit, a learning curve, periodic
 * validation driving the learning-rate schedule, early stopping and the best model, periodic atomic
 * checkpoints of states that passed a check on the GPU, and a clean stop with a checkpoint when asked
 * (Ctrl-C in the CLI).
 */
import { CheckpointError } from "../engine/safetensors.ts";
import type { OptimizerConfig } from "../engine/optim.ts";
import { configDifferences } from "../models/checkpoint.ts";
import type { PixelModel } from "../models/model.ts";
import { type StepResult, Trainer } from "../models/trainer.ts";
import {
  bestPath,
  countNonFinite,
  type LoadedCheckpoint,
  saveCheckpoint,
  saveModelFile,
  type TrainState,
} from "./checkpoint.ts";
import { WriteError } from "./atomic.ts";
import { CurveLog, curvePath } from "./curves.ts";
import { BatchOrder, ResidentData } from "./data.ts";
import type { ImageSet } from "./datasets/types.ts";
import { lossProblem, TrainingDiverged } from "./divergence.ts";
import { checkFits } from "./fit.ts";
import { inUnit, natsOf, unitOf } from "./metrics.ts";
import { Progress } from "./progress.ts";
import { CONSTANT, Schedule, type ScheduleConfig, type Validation } from "./schedule.ts";

export { TrainingDiverged } from "./divergence.ts";

export interface TrainOptions {
  model: PixelModel;
  set: ImageSet;
  /** Small images of a Multi-Scale conditional model, one per image of `set`. */
  small?: Uint8Array;
  batch: number;
  optimizer: OptimizerConfig;
  /** Total optimizer steps (a resumed run continues up to this count). */
  steps: number;
  /** Seed of the batch order. */
  dataSeed: number;
  /**
   * Where checkpoints go, every `every` steps and, with `seconds`, also once that much wall clock has
   * passed since the last one (or the start); the curve and the best model are kept next to it (see
   * curvePath, bestPath).
   */
  checkpoint?: { path: string; every: number; seconds?: number };
  /** A checkpoint read from `checkpoint.path`, to continue from. */
  resume?: LoadedCheckpoint;
  /** Facts stored in checkpoints (preset, dataset fingerprint, ...). */
  run?: Record<string, string>;
  /** Polled after every step; true stops the run with a checkpoint. */
  shouldStop?: () => boolean;
  /**
   * The NLL of the validation split in the table's unit, taken every `schedule.evalEvery` steps. It
   * drives the schedule and early stopping, and the best model so far is kept next to the checkpoint.
   */
  validate?: (step: number) => Promise<number>;
  /** Learning-rate schedule, validation interval and early stopping (default: constant rate). */
  schedule?: ScheduleConfig;
  /** Steps between lines of the learning curve (default 100). */
  curveEvery?: number;
  /** Where schedule events (rate cuts, early stopping) are told. */
  log?: (line: string) => void;
  progress?: boolean;
  label?: string;
  /** Cap on resident bytes per chunk (default: the adapter's binding limit, at most 1 GiB). */
  maxChunkBytes?: number;
}

export interface TrainSummary {
  steps: number;
  imagesSeen: number;
  wallSeconds: number;
  /** Mean training loss of the last (up to) 50 steps, in the table's unit. */
  finalLoss: number;
  /** Training loss of every step of this session, in the table's unit. */
  losses: number[];
  stopped: "completed" | "interrupted" | "early-stopped";
  /** The best (lowest) and the latest validation NLL, over every session; null without validation. */
  best: Validation | null;
  lastValid: Validation | null;
  /** The learning rate of the next step. */
  lr: number;
}

/** Steps between curve lines when the caller does not say. */
export const CURVE_EVERY = 100;

/**
 * The schedule of a run: the checkpoint's state when resuming (a base rate different from the
 * checkpoint's replaces the current rate), else a fresh one.
 */
function startSchedule(o: TrainOptions, r?: TrainState): Schedule {
  const config = o.schedule ?? CONSTANT;
  if ((config.evalEvery === undefined) !== (o.validate === undefined)) {
    throw new RangeError("a validation interval and a validation function go together");
  }
  if (!r?.schedule) return Schedule.start(config, o.optimizer.lr);
  const state = structuredClone(r.schedule.state);
  if (o.optimizer.lr !== r.optimizer.lr) state.lr = o.optimizer.lr;
  return new Schedule(config, state);
}

export async function train(o: TrainOptions): Promise<TrainSummary> {
  const t0 = performance.now();
  const { model } = o;
  const cfg = model.config;
  const imageBytes = o.set.height * o.set.width * o.set.channels;
  checkFits(o.resume ? o.checkpoint?.path ?? "the checkpoint" : `the ${cfg.kind} model`, cfg, o.set);
  const r = o.resume?.state;
  const schedule = startSchedule(o, r);
  const ck = o.checkpoint;
  const curve = ck ? await CurveLog.open(curvePath(ck.path), r?.step) : null;
  const data = new ResidentData(
    model.gpu,
    o.set.pixels,
    o.set.count,
    imageBytes,
    `${o.set.name} train`,
    { maxChunkBytes: o.maxChunkBytes },
  );
  const f = cfg.conditioning?.factor ?? 1;
  const smallBytes = imageBytes / (f * f);
  // The small images are chunked exactly like the full ones, so batch indices address both.
  const small = o.small
    ? new ResidentData(
      model.gpu,
      o.small,
      o.set.count,
      smallBytes,
      "small train",
      { chunkSize: data.chunkSize },
    )
    : undefined;
  const order = new BatchOrder(data, o.batch, o.dataSeed);
  const trainer = new Trainer(model, { batch: o.batch, optimizer: o.optimizer });
  let step = 0;
  if (o.resume) {
    const diff = configDifferences(model.config, o.resume.model.config);
    if (diff.length) {
      const path = o.checkpoint?.path ?? "the checkpoint";
      throw new CheckpointError(`${path}: a checkpoint of another model: ${diff.join("; ")}`);
    }
    model.store.load(model.gpu, o.resume.model.values);
    trainer.optimizer.loadState(o.resume.state.optimizerState);
    order.cursor = { ...o.resume.state.cursor };
    step = o.resume.state.step;
  }
  const log = o.log ?? (() => {});
  const unit = unitOf(cfg);
  const progress = o.progress === false
    ? null
    : new Progress({ total: o.steps, start: step, unit: "step", label: o.label ?? `train ${cfg.kind}` });
  const wall = () => (r?.wallSeconds ?? 0) + (performance.now() - t0) / 1000;
  const curveEvery = o.curveEvery ?? CURVE_EVERY;
  /** Training losses (table's unit) since the curve's last line. */
  let since = r ? { ...r.curve } : { sum: 0, count: 0 };
  const losses: number[] = [];
  const startStep = step;
  /** The step of the checkpoint at `ck.path` that passed the check, if any. */
  let lastGood: number | null = o.resume ? step : null;
  let checkedAt = -1;
  let lastBatch: Uint32Array | null = null;
  let lrOfStep = schedule.lr;
  let savedAt = performance.now();

  const diverged = (at: number, what: string) => {
    const kept = !ck
      ? ""
      : lastGood === null
      ? `; no checkpoint passed the check, so none was written to ${ck.path}`
      : `; the last good checkpoint (step ${lastGood}) is kept at ${ck.path}`;
    return new TrainingDiverged(`training diverged at step ${at}: ${what}${kept}`);
  };
  const take = (res: StepResult | null) => {
    if (!res) return;
    const absolute = startStep + res.step;
    const problem = lossProblem(cfg, res.loss);
    if (problem) throw diverged(absolute, `loss ${problem}`);
    const loss = inUnit(cfg, res.loss);
    losses.push(loss);
    since.sum += loss;
    since.count++;
    const seconds = (performance.now() - t0) / 1000;
    progress?.update(absolute, {
      loss: `${loss.toFixed(unit === "nats" ? 2 : 4)} ${unit}`,
      "images/s": Number(((losses.length * o.batch) / seconds).toFixed(1)),
    });
  };
  /** The current state, checked on the GPU before anything keeps it (once per step). */
  const check = async () => {
    if (checkedAt === step) return;
    const c = await trainer.check(lastBatch!);
    if (c.nonFiniteWeights) throw diverged(step, `${c.nonFiniteWeights} weights are not finite`);
    const problem = lossProblem(cfg, c.loss);
    if (problem) throw diverged(step, `loss after the update ${problem}`);
    checkedAt = step;
  };
  const save = async () => {
    await check();
    const optimizerState = await trainer.optimizer.readState();
    const bad = countNonFinite(...Object.values(optimizerState.buffers));
    if (bad) throw diverged(step, `${bad} optimizer values are not finite`);
    await saveCheckpoint(ck!.path, model, {
      step,
      cursor: { ...order.cursor },
      dataSeed: o.dataSeed,
      optimizer: o.optimizer,
      optimizerState,
      run: o.run ?? {},
      wallSeconds: wall(),
      schedule: { config: schedule.config, state: structuredClone(schedule.state) },
      curve: { ...since },
    });
    lastGood = step;
    savedAt = performance.now();
  };
  const validate = async (): Promise<number> => {
    await check();
    const value = await o.validate!(step);
    const problem = lossProblem(cfg, natsOf(cfg, value));
    if (problem) throw diverged(step, `validation NLL ${problem}`);
    const outcome = schedule.evaluated({ step, value });
    if (outcome.improved && ck) {
      await saveModelFile(bestPath(ck.path), model, {
        kind: "best-model",
        step: String(step),
        valid_nll: String(value),
        run: JSON.stringify(o.run ?? {}),
      });
    }
    if (outcome.cutFrom !== undefined) {
      log(
        `step ${step}: ${schedule.config.plateau!.patience} evaluations without a new best; lr ` +
          `${outcome.cutFrom} -> ${schedule.lr}`,
      );
    }
    return value;
  };
  const line = async (validNll?: number) => {
    await curve!.append({
      step,
      imagesSeen: step * o.batch,
      wallSeconds: wall(),
      trainLoss: since.sum / since.count,
      lr: lrOfStep,
      validNll,
    });
    since = { sum: 0, count: 0 };
  };

  let stopped: TrainSummary["stopped"] = schedule.stop ? "early-stopped" : "completed";
  try {
    let chunk = -1;
    while (stopped === "completed" && step < o.steps) {
      const b = order.next();
      if (b.chunk !== chunk) {
        data.use(b.chunk);
        small?.use(b.chunk);
        trainer.feeder.use(data.tensor, small?.tensor);
        chunk = b.chunk;
      }
      lrOfStep = trainer.optimizer.lr = schedule.lr;
      lastBatch = b.indices;
      take(await trainer.step(b.indices));
      step++;
      schedule.stepped();
      const every = schedule.config.evalEvery;
      const evalDue = every !== undefined && step % every === 0;
      let valid: number | undefined;
      if (evalDue) {
        for (const res of await trainer.flush()) take(res);
        valid = await validate();
      }
      if (schedule.stop) {
        const best = schedule.state.best!;
        log(
          `step ${step}: early stop, ${schedule.config.stopPatience} evaluations without a new best ` +
            `(best ${best.value} ${unit} at step ${best.step})`,
        );
        stopped = "early-stopped";
      } else if (o.shouldStop?.()) stopped = "interrupted";
      // An interrupted run leaves its curve's running sums to the checkpoint, so that a resumed run
      // writes the same lines as one that never stopped.
      const finished = stopped === "early-stopped" || step >= o.steps;
      const end = finished || stopped === "interrupted";
      const lineDue = curve !== null && (evalDue || finished || step % curveEvery === 0);
      const timeDue = ck?.seconds !== undefined && performance.now() - savedAt >= ck.seconds * 1000;
      const saveDue = ck !== undefined && (end || step % ck.every === 0 || timeDue);
      if (lineDue || saveDue || end) { for (const res of await trainer.flush()) take(res); }
      // A curve line goes to disk before the checkpoint of its step (see curves.ts).
      if (lineDue) await line(valid);
      if (saveDue) await save();
    }
  } catch (e) {
    // A write that failed (a full disk) ends the run like divergence: saying which checkpoint is kept.
    if (!(e instanceof WriteError)) throw e;
    const kept = lastGood === null
      ? "no checkpoint was written"
      : `the checkpoint of step ${lastGood} is kept at ${ck!.path}`;
    throw new WriteError(`${e.message}; ${kept}`);
  } finally {
    trainer.destroy();
    data.destroy();
    small?.destroy();
  }
  const tail = losses.slice(-50);
  const finalLoss = tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length);
  progress?.done(`${stopped} at step ${step}, loss ${finalLoss.toFixed(4)} ${unit}`);
  return {
    steps: step,
    imagesSeen: step * o.batch,
    wallSeconds: (performance.now() - t0) / 1000,
    finalLoss,
    losses,
    stopped,
    best: schedule.state.best,
    lastValid: schedule.state.last,
    lr: schedule.lr,
  };
}
