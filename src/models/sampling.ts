/**
 * What the two samplers share: their options, the starting images, the draws (one dispatch per
 * sub-pixel, src/engine/ops/sample.ts) and the submission of one command buffer per generated row.
 */
import { type Gpu, GpuError } from "../engine/device.ts";
import { Graph } from "../engine/graph.ts";
import { recordSampleBernoulli, recordSampleCategorical, SampleRng } from "../engine/ops/sample.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { PixelModel } from "./model.ts";

export interface SampleOptions {
  /** Random key: the same (seed, stream) gives the same images. */
  seed: number;
  stream?: number;
  /** Known images (u8, NHWC, one per sample): rows [0, keepRows) are kept, the rest generated. */
  prefix?: Uint8Array;
  keepRows?: number;
  /** Small images (u8) for a Multi-Scale conditional model, one per sample. */
  small?: Uint8Array;
  /** Called as the GPU finishes each generated row (rows are submitted ahead, without waiting). */
  onRow?: (row: number) => void;
}

/** What both samplers offer. */
export interface ImageSampler {
  readonly model: PixelModel;
  readonly batch: number;
  /** Logits [B, H, W, C * levels]: after a batch, each generated sub-pixel's, as it was drawn from. */
  readLogits(): Promise<Float32Array>;
  /** Generates `batch` images (u8 values, NHWC). */
  sample(o: SampleOptions): Promise<Uint8Array>;
  destroy(): void;
}

/** The maps a sampler starts from: the images being generated, their network input, the small images. */
export interface SampleMaps {
  targets: Tensor;
  input: Tensor;
  condition?: Tensor;
}

/**
 * Checks the options and writes the starting images (the prefix, or zeros) and the small images; returns
 * the number of rows kept.
 */
export function startImages(model: PixelModel, batch: number, maps: SampleMaps, o: SampleOptions): number {
  const c = model.config;
  const per = c.height * c.width * c.channels;
  const keep = o.keepRows ?? 0;
  if (!Number.isInteger(keep) || keep < 0 || keep > c.height) {
    throw new GpuError(`keepRows ${keep} outside 0..${c.height}`);
  }
  if (keep && !o.prefix) throw new GpuError("keepRows needs prefix images");
  if (o.prefix && o.prefix.length !== batch * per) {
    throw new GpuError(`prefix of ${o.prefix.length} values for ${batch} images`);
  }
  const start = o.prefix ? o.prefix : new Uint8Array(batch * per);
  const { scale, shift } = model.scaling;
  maps.targets.write(Uint32Array.from(start));
  maps.input.write(Float32Array.from(start, (v) => v * scale + shift));
  if (maps.condition) {
    if (!o.small) throw new GpuError("a conditional model samples given small images");
    maps.condition.write(Float32Array.from(o.small, (v) => v * scale + shift));
  }
  return keep;
}

/**
 * Submits rows `from` .. `to - 1`, one command buffer each (that `encode` fills), and
 * resolves once the GPU has finished them all; `onRow` hears of each row as it finishes. Nothing waits
 * between rows, so the GPU always has the next row queued.
 */
export async function submitRows(
  gpu: Gpu,
  from: number,
  to: number,
  encode: (enc: GPUCommandEncoder, row: number) => void,
  onRow?: (row: number) => void,
): Promise<void> {
  const d = gpu.device, done: Promise<void>[] = [];
  for (let y = from; y < to; y++) {
    const enc = d.createCommandEncoder({ label: `sample row ${y}` });
    encode(enc, y);
    d.queue.submit([enc.finish()]);
    done.push(d.queue.onSubmittedWorkDone().then(() => onRow?.(y)));
  }
  await Promise.all(done);
  gpu.check("sampling");
}

/** The draw of every sub-pixel, one dispatch each, and their random key. */
export interface Draws {
  /** Its forward list holds the draw of sub-pixel s (raster order, colours in turn) at index s. */
  graph: Graph;
  rng: SampleRng;
}

/** Records the draw of every sub-pixel from `logits` into the images of `maps`. */
export function recordDraws(model: PixelModel, logits: Tensor, maps: SampleMaps, label: string): Draws {
  const c = model.config;
  const g = new Graph(model.gpu, label);
  const rng = new SampleRng(g, c.height * c.width * c.channels);
  const { scale, shift } = model.scaling;
  const record = c.output === "binary" ? recordSampleBernoulli : recordSampleCategorical;
  for (let y = 0; y < c.height; y++) {
    for (let x = 0; x < c.width; x++) {
      for (let ch = 0; ch < c.channels; ch++) {
        record(g, logits, y, x, ch, maps.targets, maps.input, { rng, inputScale: scale, inputShift: shift });
      }
    }
  }
  return { graph: g, rng };
}
