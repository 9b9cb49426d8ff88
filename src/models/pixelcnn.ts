/**
 * PixelCNN residual block (paper §3.5, Fig. 5 left): 2h -> ReLU -> 1x1 -> h -> ReLU -> 3x3 mask B -> h ->
 * ReLU -> 1x1 -> 2h. [I] Mask B on the 1x1 convolutions too, so the R, G, B groups stay separated.
 *
 * Context: a stack of masked 3x3 convolutions over a 7x7 mask-A input grows the receptive field by one
 * pixel per block in each direction, but never reaches the pixels to the upper right beyond the
 * "blind spot" that later work (Gated PixelCNN) describes; the receptive-field test measures it.
 */
import type { ModelConfig } from "./config.ts";
import { conv } from "./layers.ts";
import type { ModelOps } from "./ops.ts";

/** The block's output: its branch, plus `residual` (the block input, with residual connections). */
export function pixelCnnBlock<T>(ops: ModelOps<T>, cfg: ModelConfig, name: string, x: T, residual?: T): T {
  const h = cfg.h;
  let a = conv(ops, cfg, `${name}.in`, x, { kh: 1, kw: 1, cout: h, mask: "B", relu: true });
  a = conv(ops, cfg, `${name}.conv`, a, { kh: 3, kw: 3, cout: h, mask: "B", relu: true });
  return conv(ops, cfg, `${name}.out`, a, { kh: 1, kw: 1, cout: 2 * h, mask: "B", relu: true, residual });
}
