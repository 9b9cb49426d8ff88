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
import { BatchLimitError } from "./incremental_layout.ts";
import { largestBatch, type ModelGraph, type PixelModel } from "./model.ts";
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

/**
 * A sampler for `wanted` images at once, or for as many as this adapter's storage binding limit allows
 * (the sequential sampler's largest activation map, the incremental sampler's resident state).
 */
export function fittedSampler(model: PixelModel, wanted: number, sequential = false): ImageSampler {
  if (sequential) {
    return new Sampler(
      model,
      largestBatch(model.config, model.gpu.limits.maxStorageBufferBindingSize, wanted),
    );
  }
  try {
    return new IncrementalSampler(model, wanted);
  } catch (e) {
    if (!(e instanceof BatchLimitError) || e.fits < 1) throw e;
    return new IncrementalSampler(model, e.fits);
  }
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
    await submitRows(this.model.gpu, keep, c.height, (enc, y) => {
      const lists = [];
      for (let s = y * rowSubpixels; s < (y + 1) * rowSubpixels; s++) {
        lists.push(this.mg.graph.forward, [this.draws.graph.forward[s]]);
      }
      Graph.encode(enc, `sample row ${y}`, lists);
    }, o.onRow);
    return Uint8Array.from(await this.mg.targets.readU32());
  }

  destroy(): void {
    this.draws.graph.destroy();
    this.mg.graph.destroy();
  }
}

/** Streams between consecutive batches of {@link drawImages}: room for the few streams a caller uses. */
export const STREAM_STEP = 0x10000;

/** Hears how a {@link drawImages} call is split, then each generated row as the GPU finishes it. */
export interface DrawWatch {
  start(batch: number, batches: number, rowsPerBatch: number): void;
  row(): void;
}

export interface DrawOptions {
  seed: number;
  /** The first batch's stream (default 0). */
  stream?: number;
  /** The reference sampler (one forward pass per sub-pixel) instead of the incremental one. */
  sequential?: boolean;
  /** Known images, one per image drawn (u8, NHWC): rows [0, keepRows) are kept. */
  prefix?: Uint8Array;
  keepRows?: number;
  /** Small images for a Multi-Scale conditional model, one per image drawn. */
  small?: Uint8Array;
  /** Largest batch to try (default: every image at once, when it fits). */
  batch?: number;
  watch?: DrawWatch;
}

/**
 * Draws `count` images (u8, NHWC) in batches that fit the adapter ({@link fittedSampler}). Batch k draws
 * from stream `stream + k * STREAM_STEP` of the seed: the first batch draws what one sampler of that size
 * draws, and no two batches share random numbers.
 */
export async function drawImages(model: PixelModel, count: number, o: DrawOptions): Promise<Uint8Array> {
  const c = model.config;
  const per = c.height * c.width * c.channels, smallPer = o.small ? o.small.length / count : 0;
  const sampler = fittedSampler(model, Math.min(count, o.batch ?? count), o.sequential);
  const b = sampler.batch, batches = Math.ceil(count / b), keepRows = o.keepRows ?? 0;
  o.watch?.start(b, batches, c.height - keepRows);
  const out = new Uint8Array(count * per);
  try {
    for (let k = 0; k < batches; k++) {
      const from = k * b, n = Math.min(b, count - from);
      // A last, partial batch is filled up with copies of its last image (drawn, then dropped).
      const part = (all: Uint8Array | undefined, size: number) => {
        if (!all) return undefined;
        const p = new Uint8Array(b * size);
        for (let i = 0; i < b; i++) {
          const at = (from + Math.min(i, n - 1)) * size;
          p.set(all.subarray(at, at + size), i * size);
        }
        return p;
      };
      const images = await sampler.sample({
        seed: o.seed,
        stream: (o.stream ?? 0) + k * STREAM_STEP,
        prefix: part(o.prefix, per),
        keepRows,
        small: part(o.small, smallPer),
        onRow: o.watch && (() => o.watch!.row()),
      });
      out.set(images.subarray(0, n * per), from * per);
    }
  } finally {
    sampler.destroy();
  }
  return out;
}
