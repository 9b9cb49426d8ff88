/** Helpers for model-level tests: random parameters, direct image upload, small configurations. */
import type { Rng } from "../src/engine/rng.ts";
import type { ModelGraph, PixelModel } from "../src/models/model.ts";

/**
 * Random values for every parameter, biases and initial states included (a fresh model's zeros would
 * hide paths from the influence maps); masked weights stay zero.
 */
export function randomizeParams(model: PixelModel, rng: Rng, scale = 1): Float32Array {
  const s = model.store;
  const flat = new Float32Array(s.length);
  for (const p of s.infos) {
    // Kernels [KH, KW, Cin, Cout] (and state-to-state [Z, T, h, 4h]) get fan-in scaling; biases and
    // initial states a fixed amplitude.
    const amp = p.shape.length === 4 ? scale * Math.sqrt(3 / (p.shape[0] * p.shape[1] * p.shape[2])) : 0.5;
    for (let i = 0; i < p.size; i++) {
      const v = (rng.uniform() * 2 - 1) * amp;
      flat[p.offset + i] = p.mask ? v * p.mask[i] : v;
    }
  }
  s.load(model.gpu, flat);
  return flat;
}

/** Writes images (u8 values, NHWC) into a graph's input and targets, and the small images if conditional. */
export function writeImages(model: PixelModel, mg: ModelGraph, pixels: Uint8Array, small?: Uint8Array): void {
  const { scale, shift } = model.scaling;
  mg.input.write(Float32Array.from(pixels, (v) => v * scale + shift));
  mg.targets.write(Uint32Array.from(pixels));
  if (mg.condition) mg.condition.write(Float32Array.from(small!, (v) => v * scale + shift));
}
