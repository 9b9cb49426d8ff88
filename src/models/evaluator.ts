/**
 * Forward-only batches over a resident dataset: per-image negative log-likelihoods, read back a few
 * batches late through a staging ring, summed in float64 on the host.
 */
import { Graph } from "../engine/graph.ts";
import { ReadbackRing } from "../engine/runner.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { ModelGraph, PixelModel } from "./model.ts";
import { BatchFeeder } from "./batch_feeder.ts";

export class Evaluator {
  readonly mg: ModelGraph;
  readonly feeder: BatchFeeder;
  private readonly ring: ReadbackRing;
  /** How many images of each submitted batch are real (the last batch of a set may be padded). */
  private readonly valid: number[] = [];

  constructor(readonly model: PixelModel, batch: number) {
    this.mg = model.buildGraph(batch, false);
    this.feeder = new BatchFeeder(model, this.mg, "eval");
    this.ring = new ReadbackRing(model.gpu, "eval nll", batch * 4);
  }

  get batch(): number {
    return this.mg.batch;
  }

  use(dataset: Tensor, small?: Tensor): void {
    this.feeder.use(dataset, small);
  }

  /**
   * Submits one batch of image indices, of which the first `valid` are counted. Returns the per-image
   * NLLs (nats) of a batch submitted earlier, or null while the ring fills.
   */
  async submit(indices: Uint32Array, valid = indices.length): Promise<Float32Array | null> {
    this.feeder.set(indices);
    this.valid.push(valid);
    const g = this.mg.graph;
    const out = await this.ring.step((enc) => {
      Graph.encode(enc, "eval batch", [this.feeder.dispatches, g.forward]);
    }, this.mg.nll);
    return out ? out.subarray(0, this.valid.shift()) : null;
  }

  /** The NLLs of every batch not yet returned, oldest first. */
  async flush(): Promise<Float32Array[]> {
    return (await this.ring.drain()).map((r) => r.subarray(0, this.valid.shift()));
  }

  destroy(): void {
    this.ring.destroy();
    this.feeder.destroy();
    this.mg.graph.destroy();
  }
}
