/** Float64 references of the optimizer updates, in place, with the same masking rule as the kernels. */
import type { ResolvedConfig } from "../optim.ts";

export interface OptimStateRef {
  w: Float64Array;
  /** Adam's first moment (unused by RMSProp). */
  m: Float64Array;
  v: Float64Array;
}

/** Applies update number `t` (1-based) with gradient `g`; masked weights (mask 0) end at exactly 0. */
export function optimizerStepRef(
  config: ResolvedConfig,
  s: OptimStateRef,
  g: ArrayLike<number>,
  t: number,
  mask?: ArrayLike<number>,
): void {
  for (let i = 0; i < s.w.length; i++) {
    let w: number;
    if (config.kind === "rmsprop") {
      s.v[i] = config.decay * s.v[i] + (1 - config.decay) * g[i] * g[i];
      w = s.w[i] - config.lr * g[i] / (Math.sqrt(s.v[i]) + config.eps);
    } else {
      s.m[i] = config.beta1 * s.m[i] + (1 - config.beta1) * g[i];
      s.v[i] = config.beta2 * s.v[i] + (1 - config.beta2) * g[i] * g[i];
      const mHat = s.m[i] / (1 - config.beta1 ** t), vHat = s.v[i] / (1 - config.beta2 ** t);
      w = s.w[i] - config.lr * mHat / (Math.sqrt(vHat) + config.eps);
    }
    s.w[i] = mask ? w * mask[i] : w;
  }
}
