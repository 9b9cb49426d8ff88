/**
 * Float64 references of the samplers: the same threefry draws as the kernels, then exact inverse-CDF
 * picks. Each pick comes with its margin, the distance of u from the nearest CDF boundary: where it is
 * below float32 rounding, the GPU may legitimately pick the neighbouring value.
 */
import { threefry2x32, unitFloat } from "../rng.ts";

/** The uniform image `b` draws at sub-pixel `s` under key (seed, stream). */
export function sampleUniform(seed: number, stream: number, b: number, s: number): number {
  return unitFloat(threefry2x32(seed, stream, b, s)[0]);
}

/** A reference pick and its distance from the nearest CDF boundary. */
export interface Pick {
  value: number;
  margin: number;
}

/** The smallest v with CDF(v) > u under softmax(`logits`) (256 values). */
export function sampleCategoricalRef(logits: ArrayLike<number>, u: number): Pick {
  let m = -Infinity;
  for (let k = 0; k < logits.length; k++) m = Math.max(m, logits[k]);
  const e = Array.from(logits, (l) => Math.exp(l - m));
  const total = e.reduce((a, b) => a + b, 0);
  let below = 0;
  for (let v = 0; v < e.length; v++) {
    const above = below + e[v] / total;
    if (above > u) return { value: v, margin: Math.min(u - below, above - u) };
    below = above;
  }
  return { value: e.length - 1, margin: 0 };
}

/** 1 when u < sigmoid(z), else 0. */
export function sampleBernoulliRef(z: number, u: number): Pick {
  const p = 1 / (1 + Math.exp(-z));
  return { value: u < p ? 1 : 0, margin: Math.abs(u - p) };
}
