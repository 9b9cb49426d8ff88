/**
 * Generation, strictly in order (pixel by pixel in raster order, R then G then B within a pixel), each
 * sub-pixel drawn from its conditional and written into both the target image and the network input.
 * Everything is recorded once and submitted a row at a time; nothing is read back until the end.
 *
 * Two samplers draw the same images from the same random numbers:
 * - {@link IncrementalSampler} (incremental_sampler.ts, the default) keeps every layer resident and
 *   computes, per sub-pixel, only what that sub-pixel completes;
 * - {@link Sampler}, the reference, re-runs the whole forward pass for every sub-pixel.
 */
import { Graph } from "../engine/graph.ts";
import { IncrementalSampler } from "./incremental_sampler.ts";
import type { ModelGraph, PixelModel } from "./model.ts";
import {
  type Draws,
  type ImageSampler,
  recordDraws,
  type SampleOptions,
  startImages,
  submitRows,
} from "./sampling.ts";

export type { ImageSampler, SampleOptions } from "./sampling.ts";

/** The incremental sampler, or with `sequential` the reference one. */
export function createSampler(model: PixelModel, batch: number, sequential = false): ImageSampler {
  return sequential ? new Sampler(model, batch) : new IncrementalSampler(model, batch);
}

/** The reference sampler: one full forward pass per sub-pixel. */
export class Sampler implements ImageSampler {
  readonly mg: ModelGraph;
  private readonly draws: Draws;

  constructor(readonly model: PixelModel, batch: number) {
    this.mg = model.buildGraph(batch, false, "sample");
    this.draws = recordDraws(model, this.mg.logits, this.mg, "sampler");
  }

  get batch(): number {
    return this.mg.batch;
  }

  /** The last forward pass's logits: by causality, each sub-pixel's as it was drawn from. */
  async readLogits(): Promise<Float32Array> {
    return await this.mg.logits.read();
  }

  async sample(o: SampleOptions): Promise<Uint8Array> {
    const c = this.model.config;
    const keep = startImages(this.model, this.batch, this.mg, o);
    this.draws.rng.setKey(o.seed, o.stream ?? 0);
    const rowSubpixels = c.width * c.channels;
    await submitRows(this.model.gpu, keep, c.height, (pass, y) => {
      for (let s = y * rowSubpixels; s < (y + 1) * rowSubpixels; s++) {
        Graph.encode(pass, this.mg.graph.forward, [this.draws.graph.forward[s]]);
      }
    }, o.onRow);
    return Uint8Array.from(await this.mg.targets.readU32());
  }

  destroy(): void {
    this.draws.graph.destroy();
    this.mg.graph.destroy();
  }
}
