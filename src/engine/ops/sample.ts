/**
 * Sampling ops: draw one sub-pixel (y, x, c) of every image of a batch from the model's output and
 * write it into the image being generated (u32 [B,H,W,C]) and into the network input (f32, same shape),
 * so the next forward pass conditions on it. A sampler records one dispatch per sub-pixel in generation
 * order; all of them share one pipeline (see src/wgsl/sample.ts) and the key in {@link SampleRng}.
 */
import { GpuError } from "../device.ts";
import type { Graph } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { sampleKernel, type SampleSpec } from "../../wgsl/sample.ts";

/**
 * The random key and the per-dispatch sub-pixel indices of one sampler. Image b draws its value at
 * sub-pixel s from threefry2x32(key = (seed, stream), counter = (b, s)), so draws never repeat within a
 * run and a run is reproduced by its (seed, stream); use a new stream for each batch of samples.
 */
export class SampleRng {
  /** u32 [2]: the threefry key, written by {@link setKey}. */
  readonly key: Tensor;
  /** Slot s (at a binding-aligned offset) holds the sub-pixel index s. */
  private readonly slots: Tensor;
  private readonly slotBytes: number;

  /** Allocates the key and one index slot per sub-pixel of an image of `subpixels` (H * W * C). */
  constructor(g: Graph, readonly subpixels: number, seed = 0, stream = 0) {
    this.slotBytes = Math.max(16, g.gpu.limits.minStorageBufferOffsetAlignment);
    const words = this.slotBytes / 4;
    this.key = g.alloc("sample key", [2], "u32");
    this.slots = g.alloc("sample positions", [subpixels * words], "u32");
    const index = new Uint32Array(subpixels * words);
    for (let s = 0; s < subpixels; s++) index[s * words] = s;
    this.slots.write(index);
    this.setKey(seed, stream);
  }

  /** Sets the key for the dispatches submitted after this call (one small queue write). */
  setKey(seed: number, stream = 0): void {
    for (const v of [seed, stream]) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new GpuError(`sample key ${v} is not a u32`);
    }
    this.key.write(Uint32Array.of(seed, stream));
  }

  /** The 4-byte binding holding sub-pixel index `s`. */
  slot(s: number): GPUBufferBinding {
    return { buffer: this.slots.buffer, offset: this.slots.offset + s * this.slotBytes, size: 4 };
  }
}

/** The key and input scaling every sampling dispatch of a sampler shares. */
export interface SampleOptions {
  rng: SampleRng;
  /** Input written for value v: v * inputScale + inputShift (1/255 and -0.5 for 8-bit data). */
  inputScale: number;
  inputShift: number;
}

function recordSample(
  kind: SampleSpec["kind"],
  g: Graph,
  logits: Tensor,
  [y, x, c]: [number, number, number],
  image: Tensor,
  input: Tensor,
  opts: SampleOptions,
): void {
  const name = `sample ${kind} ${logits.label}`;
  const [B, H, W, C] = image.shape;
  const width = kind === "categorical" ? 256 : 1;
  const shapes = image.shape.length === 4 && image.dtype === "u32" && input.dtype === "f32" &&
    input.shape.join() === image.shape.join() && logits.shape.join() === [B, H, W, C * width].join();
  if (!shapes) {
    throw new GpuError(
      `${name}: expects logits [B,H,W,C*${width}], u32 image and f32 input [B,H,W,C], got ` +
        `[${logits.shape}], ${image.dtype} [${image.shape}], ${input.dtype} [${input.shape}]`,
    );
  }
  if (opts.rng.subpixels !== H * W * C) {
    throw new GpuError(
      `${name}: the SampleRng covers ${opts.rng.subpixels} sub-pixels, images have ${H * W * C}`,
    );
  }
  const inside = [y, x, c].every((v, k) => Number.isInteger(v) && v >= 0 && v < [H, W, C][k]);
  if (!inside) throw new GpuError(`${name}: position (${y}, ${x}, ${c}) outside [${H}, ${W}, ${C}]`);
  const spec: SampleSpec = {
    kind,
    batch: B,
    subpixels: H * W * C,
    inputScale: opts.inputScale,
    inputShift: opts.inputShift,
  };
  g.dispatch(`${name} (${y},${x},${c})`, sampleKernel(spec), {
    LOGITS: logits,
    KEY: opts.rng.key,
    POS: opts.rng.slot((y * W + x) * C + c),
    IMAGE: image,
    INPUT: input,
  });
}

/**
 * Records the draw of sub-pixel (y, x, c) of every image from softmax(logits[b, y, x, c*256 ..
 * c*256+255]) (`logits` [B,H,W,C*256]) by inverse CDF: the smallest v with CDF(v) > u.
 */
export function recordSampleCategorical(
  g: Graph,
  logits: Tensor,
  y: number,
  x: number,
  c: number,
  image: Tensor,
  input: Tensor,
  opts: SampleOptions,
): void {
  recordSample("categorical", g, logits, [y, x, c], image, input, opts);
}

/** Records the draw of sub-pixel (y, x, c) of every image: 1 when u < sigmoid(logits[b,y,x,c]), else 0. */
export function recordSampleBernoulli(
  g: Graph,
  logits: Tensor,
  y: number,
  x: number,
  c: number,
  image: Tensor,
  input: Tensor,
  opts: SampleOptions,
): void {
  recordSample("bernoulli", g, logits, [y, x, c], image, input, opts);
}
