/**
 * Training steps: gather the batch from a dataset resident on the GPU, forward, backward and the
 * optimizer update, recorded once and submitted as one command buffer per step. The batch's per-image
 * NLL comes back through a ring of staging buffers a few steps late, so the loop never waits on the GPU.
 */
import { GpuError } from "../engine/device.ts";
import { type Dispatch, Graph } from "../engine/graph.ts";
import { recordGatherBatch } from "../engine/ops/gather.ts";
import { Optimizer, type OptimizerConfig } from "../engine/optim.ts";
import { ReadbackRing } from "../engine/runner.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { ModelGraph, PixelModel } from "./model.ts";

export interface TrainerOptions {
  batch: number;
  optimizer: OptimizerConfig;
  /** Steps between a submit and reading its loss (default 3). */
  readbackDepth?: number;
}

/** Mean per-image NLL (nats) of a finished step. */
export interface StepResult {
  step: number;
  loss: number;
}

/**
 * Records the dispatch that fills a graph's input and targets from a resident dataset (and, for a
 * Multi-Scale conditional model, its small-image input from a resident set of small images).
 */
export class BatchFeeder {
  readonly indices: Tensor;
  private input: Graph | null = null;
  private readonly smallTargets: Tensor | null;

  constructor(readonly model: PixelModel, readonly mg: ModelGraph, label: string) {
    this.indices = mg.graph.alloc(`${label} indices`, [mg.batch], "u32");
    this.smallTargets = mg.condition
      ? mg.graph.alloc(`${label} small targets`, mg.condition.shape, "u32")
      : null;
  }

  /** Points the feeder at a dataset chunk (packed u8 images) and, if conditional, its small images. */
  use(dataset: Tensor, small?: Tensor): void {
    const c = this.model.config;
    if (this.mg.condition && !small) throw new GpuError("a conditional model also needs its small images");
    this.input?.destroy();
    this.input = new Graph(this.model.gpu, "batch gather");
    const { scale, shift } = this.model.scaling;
    const bytes = c.height * c.width * c.channels;
    recordGatherBatch(this.input, dataset, bytes, this.indices, this.mg.input, this.mg.targets, scale, shift);
    if (this.mg.condition) {
      const f = c.conditioning!.factor;
      recordGatherBatch(
        this.input,
        small!,
        bytes / (f * f),
        this.indices,
        this.mg.condition,
        this.smallTargets!,
        scale,
        shift,
      );
    }
  }

  /** Writes the image indices of the next batch (a 4-byte-per-image queue write). */
  set(idx: Uint32Array): void {
    if (idx.length !== this.mg.batch) {
      throw new GpuError(`batch of ${idx.length} indices, expected ${this.mg.batch}`);
    }
    this.indices.write(idx);
  }

  get dispatches(): Dispatch[] {
    if (!this.input) throw new GpuError("no dataset: call use() first");
    return this.input.forward;
  }

  destroy(): void {
    this.input?.destroy();
  }
}

export class Trainer {
  readonly mg: ModelGraph;
  readonly optimizer: Optimizer;
  readonly feeder: BatchFeeder;
  private readonly ring: ReadbackRing;
  private submitted = 0;
  private returned = 0;

  constructor(readonly model: PixelModel, opts: TrainerOptions) {
    this.mg = model.buildGraph(opts.batch, true);
    this.optimizer = new Optimizer(model.gpu, model.store, opts.optimizer);
    this.feeder = new BatchFeeder(model, this.mg, "train");
    this.ring = new ReadbackRing(model.gpu, "train loss", opts.batch * 4, opts.readbackDepth ?? 3);
  }

  get batch(): number {
    return this.mg.batch;
  }

  /** Steps submitted so far. */
  get steps(): number {
    return this.submitted;
  }

  /**
   * Submits one training step on images `idx` of the current dataset. Returns the result of the step
   * submitted `readbackDepth` steps earlier, or null while the ring fills.
   */
  async step(idx: Uint32Array): Promise<StepResult | null> {
    this.feeder.set(idx);
    this.optimizer.prepareStep();
    const g = this.mg.graph;
    const out = await this.ring.step((enc) => {
      const pass = enc.beginComputePass({ label: "train step" });
      Graph.encode(pass, this.feeder.dispatches, g.forward, g.backward, this.optimizer.dispatches());
      pass.end();
    }, this.mg.nll);
    this.submitted++;
    return out ? this.result(out) : null;
  }

  /** Results of every step submitted but not yet returned. */
  async flush(): Promise<StepResult[]> {
    return (await this.ring.drain()).map((r) => this.result(r));
  }

  private result(nll: Float32Array): StepResult {
    let s = 0;
    for (const v of nll) s += v;
    return { step: ++this.returned, loss: s / nll.length };
  }

  destroy(): void {
    this.ring.destroy();
    this.feeder.destroy();
    this.optimizer.destroy();
    this.mg.graph.destroy();
  }
}
