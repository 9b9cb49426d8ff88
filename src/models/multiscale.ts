/**
 * Multi-Scale PixelRNN (paper §3.6, Fig. 2 centre): an unconditional PixelRNN over a subsampled s x s
 * image and a conditional PixelRNN over the full n x n image that also reads the s x s image (through
 * the upsampling network of architecture.ts, whose maps bias every layer's gates). Sampling generates
 * the s x s image first, then the n x n image given it.
 *
 * [NS] Subsampling takes the top-left pixel of every f x f block (x[f*i, f*j]); the paper says only
 * "a subsampled version of the original image". The two networks train independently; the conditional
 * one's NLL is that of the n x n image given the small one (the paper reports no multi-scale NLL).
 */
import type { Gpu } from "../engine/device.ts";
import { GpuError } from "../engine/device.ts";
import { type ModelConfig, resolveModelConfig } from "./config.ts";
import { PixelModel } from "./model.ts";
import { drawImages, type DrawWatch } from "./sampler.ts";

export interface MultiScaleConfig {
  small: ModelConfig;
  large: ModelConfig;
}

/** Checks that the two configs fit together (the large one conditioned on images of the small size). */
export function resolveMultiScale(
  small: Parameters<typeof resolveModelConfig>[0],
  large: Parameters<typeof resolveModelConfig>[0],
): MultiScaleConfig {
  const s = resolveModelConfig(small), l = resolveModelConfig(large);
  const f = l.conditioning?.factor;
  if (!f) throw new GpuError("multi-scale: the large model needs a conditioning section");
  if (s.conditioning) throw new GpuError("multi-scale: the small model must be unconditional");
  if (
    s.height * f !== l.height || s.width * f !== l.width || s.channels !== l.channels || s.output !== l.output
  ) {
    throw new GpuError(
      `multi-scale: small ${s.height}x${s.width}x${s.channels} (${s.output}) does not match large ` +
        `${l.height}x${l.width}x${l.channels} (${l.output}) with factor ${f}`,
    );
  }
  return { small: s, large: l };
}

/** x[f*i, f*j] for every image: [count, H, W, C] -> [count, H/f, W/f, C]. */
export function subsample(
  pixels: Uint8Array,
  count: number,
  h: number,
  w: number,
  c: number,
  f: number,
): Uint8Array {
  const sh = h / f, sw = w / f;
  const out = new Uint8Array(count * sh * sw * c);
  for (let b = 0; b < count; b++) {
    for (let i = 0; i < sh; i++) {
      for (let j = 0; j < sw; j++) {
        const src = ((b * h + i * f) * w + j * f) * c, dst = ((b * sh + i) * sw + j) * c;
        for (let k = 0; k < c; k++) out[dst + k] = pixels[src + k];
      }
    }
  }
  return out;
}

export class MultiScaleModel {
  private constructor(
    readonly config: MultiScaleConfig,
    readonly small: PixelModel,
    readonly large: PixelModel,
  ) {}

  static create(gpu: Gpu, config: MultiScaleConfig, seed: number): MultiScaleModel {
    return new MultiScaleModel(
      config,
      PixelModel.create(gpu, config.small, seed),
      PixelModel.create(gpu, config.large, seed + 1),
    );
  }

  get factor(): number {
    return this.config.large.conditioning!.factor;
  }

  /** The small images of full-size `pixels`. */
  subsample(pixels: Uint8Array, count: number): Uint8Array {
    const l = this.config.large;
    return subsample(pixels, count, l.height, l.width, l.channels, this.factor);
  }

  /** Generates `count` small images with the unconditional model, then the full-size images given them. */
  async sample(count: number, seed: number): Promise<{ small: Uint8Array; large: Uint8Array }> {
    return await sampleMultiScale(this.small, this.large, count, seed);
  }

  destroy(): void {
    this.small.destroy();
    this.large.destroy();
  }
}

/** Multi-scale generation with two models: s x s first, then n x n conditioned on it. */
export async function sampleMultiScale(
  smallModel: PixelModel,
  largeModel: PixelModel,
  count: number,
  seed: number,
  sequential = false,
  watch?: (part: "small" | "large") => DrawWatch,
): Promise<{ small: Uint8Array; large: Uint8Array }> {
  resolveMultiScale(smallModel.config, largeModel.config);
  const small = await drawImages(smallModel, count, { seed, stream: 0, sequential, watch: watch?.("small") });
  const large = await drawImages(largeModel, count, {
    seed,
    stream: 1,
    small,
    sequential,
    watch: watch?.("large"),
  });
  return { small, large };
}
