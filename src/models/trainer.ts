/**
 * Training steps: gather the batch from a dataset resident on the GPU, forward, backward and the
 * optimizer update, recorded once and submitted as one command buffer per step. The batch's per-image
 * NLL comes back through a ring of staging buffers a few steps late, so the loop never waits on the GPU.
 * Before a state is kept, {@link Trainer.check} sends a forward pass and a count of non-finite weights
 * through the same ring.
 */
import { GpuError } from "../engine/device.ts";
import { Graph } from "../engine/graph.ts";
import { recordNonFiniteCounts } from "../engine/ops/finite.ts";
import { Optimizer, type OptimizerConfig } from "../engine/optim.ts";
import { ReadbackRing } from "../engine/runner.ts";
import type { Tensor } from "../engine/tensor.ts";
import { BatchFeeder } from "./batch_feeder.ts";
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

/** What {@link Trainer.check} found in the current weights. */
export interface StateCheck {
  /** Mean per-image NLL (nats) of the batch checked, under the current weights. */
  loss: number;
  /** Weights that are NaN or infinite. */
  nonFiniteWeights: number;
}

export class Trainer {
  readonly mg: ModelGraph;
  readonly optimizer: Optimizer;
  readonly feeder: BatchFeeder;
  private readonly ring: ReadbackRing;
  private readonly finite: Graph;
  private readonly nonFinite: Tensor;
  private submitted = 0;
  private returned = 0;

  constructor(readonly model: PixelModel, opts: TrainerOptions) {
    this.mg = model.buildGraph(opts.batch, true);
    this.optimizer = new Optimizer(model.gpu, model.store, opts.optimizer);
    this.feeder = new BatchFeeder(model, this.mg, "train");
    this.finite = new Graph(model.gpu, "state check");
    this.nonFinite = this.finite.alloc("non-finite weights", [1], "u32");
    const weights = { buffer: model.store.values!, elements: model.store.length };
    recordNonFiniteCounts(this.finite, "non-finite weights", [[weights]], this.nonFinite);
    const ringBytes = this.mg.nll.byteSize + this.nonFinite.byteSize;
    this.ring = new ReadbackRing(model.gpu, "train loss", ringBytes, opts.readbackDepth ?? 3);
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
      Graph.encode(enc, "train step", [
        this.feeder.dispatches,
        g.forward,
        g.backward,
        this.optimizer.dispatches(),
      ]);
    }, [this.mg.nll]);
    this.submitted++;
    return out ? this.result(out) : null;
  }

  /** Results of every step submitted but not yet returned. */
  async flush(): Promise<StepResult[]> {
    return (await this.ring.drain()).map((r) => this.result(r));
  }

  /**
   * The loss of images `idx` under the current weights (a forward pass, no update) and the number of
   * non-finite weights, in one submit whose result comes back through the loss ring. Call it after
   * {@link flush}, when a state is about to be kept: finite weights can still overflow the forward pass.
   */
  async check(idx: Uint32Array): Promise<StateCheck> {
    if (this.returned !== this.submitted) throw new GpuError("check: flush the steps in flight first");
    this.feeder.set(idx);
    await this.ring.step((enc) => {
      Graph.encode(enc, "state check", [this.feeder.dispatches, this.mg.graph.forward, this.finite.forward]);
    }, [this.mg.nll, this.nonFinite]);
    const [out] = await this.ring.drain();
    const B = this.mg.batch;
    return {
      loss: mean(out.subarray(0, B)),
      nonFiniteWeights: new Uint32Array(out.buffer, out.byteOffset + B * 4, 1)[0],
    };
  }

  private result(out: Float32Array): StepResult {
    return { step: ++this.returned, loss: mean(out.subarray(0, this.mg.batch)) };
  }

  destroy(): void {
    this.finite.destroy();
    this.ring.destroy();
    this.feeder.destroy();
    this.optimizer.destroy();
    this.mg.graph.destroy();
  }
}

function mean(a: Float32Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s / a.length;
}
