/**
 * The training loop: seeded batch order over a resident dataset, one submit per step, losses checked
 * (a few steps late) for divergence, progress in the table's unit, periodic atomic checkpoints, and a
 * clean stop with a checkpoint when asked (Ctrl-C in the CLI).
 */
import { GpuError } from "../engine/device.ts";
import type { OptimizerConfig } from "../engine/optim.ts";
import { configDifferences } from "../models/checkpoint.ts";
import type { PixelModel } from "../models/model.ts";
import { type StepResult, Trainer } from "../models/trainer.ts";
import { type LoadedCheckpoint, saveCheckpoint, type TrainState } from "./checkpoint.ts";
import { BatchOrder, ResidentData } from "./data.ts";
import type { ImageSet } from "./datasets/types.ts";
import { inUnit, unitOf } from "./metrics.ts";
import { Progress } from "./progress.ts";

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
  checkpoint?: { path: string; every: number };
  resume?: LoadedCheckpoint;
  /** Facts stored in checkpoints (preset, dataset fingerprint, ...). */
  run?: Record<string, string>;
  /** Polled after every step; true stops the run with a checkpoint. */
  shouldStop?: () => boolean;
  /** Called every `steps` steps, after the losses so far are checked (periodic evaluation). */
  every?: { steps: number; run: (step: number) => Promise<void> };
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
  stopped: "completed" | "interrupted";
}

export class TrainingDiverged extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrainingDiverged";
  }
}

export async function train(o: TrainOptions): Promise<TrainSummary> {
  const t0 = performance.now();
  const { model } = o;
  const cfg = model.config;
  const imageBytes = o.set.height * o.set.width * o.set.channels;
  if (o.set.height !== cfg.height || o.set.width !== cfg.width || o.set.channels !== cfg.channels) {
    throw new GpuError(
      `${o.set.name} images are ${o.set.height}x${o.set.width}x${o.set.channels}, the model expects ` +
        `${cfg.height}x${cfg.width}x${cfg.channels}`,
    );
  }
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
    if (diff.length) throw new GpuError(`checkpoint is for another model: ${diff.join("; ")}`);
    model.store.load(model.gpu, o.resume.model.values);
    trainer.optimizer.loadState(o.resume.state.optimizerState);
    order.cursor = { ...o.resume.state.cursor };
    step = o.resume.state.step;
  }
  const unit = unitOf(cfg);
  const progress = o.progress === false
    ? null
    : new Progress({ total: o.steps, unit: "step", label: o.label ?? `train ${cfg.kind}` });
  const losses: number[] = [];
  const startStep = step;
  const check = (r: StepResult | null) => {
    if (!r) return;
    const absolute = startStep + r.step;
    if (!Number.isFinite(r.loss)) {
      throw new TrainingDiverged(
        `training diverged at step ${absolute}: loss ${r.loss}` +
          (o.checkpoint ? `; the last good checkpoint is kept at ${o.checkpoint.path}` : ""),
      );
    }
    losses.push(inUnit(cfg, r.loss));
    const seconds = (performance.now() - t0) / 1000;
    progress?.update(absolute, {
      loss: `${losses[losses.length - 1].toFixed(unit === "nats" ? 2 : 4)} ${unit}`,
      "images/s": Number(((losses.length * o.batch) / seconds).toFixed(1)),
    });
  };
  const state = (): TrainState => ({
    step,
    cursor: { ...order.cursor },
    dataSeed: o.dataSeed,
    optimizer: o.optimizer,
    optimizerState: { step: 0, buffers: {} },
    run: o.run ?? {},
  });
  const save = async () => {
    for (const r of await trainer.flush()) check(r);
    const s = state();
    s.optimizerState = await trainer.optimizer.readState();
    await saveCheckpoint(o.checkpoint!.path, model, s);
  };
  let stopped: TrainSummary["stopped"] = "completed";
  try {
    let chunk = -1;
    while (step < o.steps) {
      const b = order.next();
      if (b.chunk !== chunk) {
        data.use(b.chunk);
        small?.use(b.chunk);
        trainer.feeder.use(data.tensor, small?.tensor);
        chunk = b.chunk;
      }
      check(await trainer.step(b.indices));
      step++;
      if (o.checkpoint && step % o.checkpoint.every === 0) await save();
      if (o.every && step % o.every.steps === 0) {
        for (const r of await trainer.flush()) check(r);
        await o.every.run(step);
      }
      if (o.shouldStop?.()) {
        stopped = "interrupted";
        break;
      }
    }
    for (const r of await trainer.flush()) check(r);
    if (o.checkpoint && (stopped === "interrupted" || step % o.checkpoint.every !== 0)) await save();
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
  };
}
