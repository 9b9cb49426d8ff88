/** The batch of a training or evaluation step, gathered on the GPU from a dataset resident there. */
import { GpuError } from "../engine/device.ts";
import { type Dispatch, Graph } from "../engine/graph.ts";
import { recordGatherBatch } from "../engine/ops/gather.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { ModelGraph, PixelModel } from "./model.ts";

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
