/**
 * Filter gradients with split-K: the reduction over every position of a map is long and its output
 * small, which leaves few independent tiles (on a GPU, too few workgroups; on the software adapter,
 * accumulators that stream the whole map through the cache). Large problems are split into chunks of
 * rows whose partial sums go to the graph's workspace and are then added up in a fixed order.
 */
import type { Graph } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { chooseTiles, profileFor } from "../tiles.ts";
import { convFilterGrad, type FilterGradSpec } from "../../wgsl/conv.ts";
import { columnSum } from "./reduce.ts";

/** Positions a split sums, at least. */
const POSITIONS_PER_SPLIT = 256;
/** Largest number of splits. */
const MAX_SPLITS = 64;
/**
 * Largest partial-sum buffer (also capped by the adapter's binding limit). Shorter splits run faster on
 * the software adapter: the 1x1 1024 -> 1024 filter gradient over 16 x 32 x 32 positions in 32 splits of
 * 512 positions reached 17.4 GFLOP/s against 15.4 in 16 splits (interleaved medians, lavapipe).
 */
const MAX_PARTIAL_BYTES = 128 << 20;

export type FilterGradProblem = Omit<FilterGradSpec, "tiles" | "splits" | "accumulate">;

/** Splits for a problem: 1 when small, when taps are not a prefix, or when partials would be too big. */
function splitsFor(p: FilterGradProblem, maxBindingBytes: number): number {
  const positions = p.batch * p.height * p.width;
  const outputs = (p.z ?? 1) * p.taps.length * p.cin * p.n;
  const prefix = p.taps.every((t, i) => t.w === i) && p.weight.offset.c === 0 && !p.weight.offset.perStep &&
    p.weight.sTap === p.cin * p.n && p.weight.ld === p.n &&
    ((p.z ?? 1) === 1 || p.weight.sZ === p.taps.length * p.cin * p.n);
  if (!prefix) return 1;
  const byWork = Math.floor(positions / POSITIONS_PER_SPLIT);
  const byMemory = Math.floor(Math.min(MAX_PARTIAL_BYTES, maxBindingBytes) / (4 * outputs));
  return Math.max(1, Math.min(MAX_SPLITS, byWork, byMemory, p.batch * p.height));
}

/** Records dW (=|+=) sum over positions of X[p + tap] * G[p] into `dw`. */
export function filterGrad(
  g: Graph,
  label: string,
  p: FilterGradProblem,
  x: Tensor,
  grad: Tensor,
  dw: { grad: Tensor; accumulate: boolean },
): void {
  const M = p.taps.length * p.cin;
  const splits = splitsFor(p, g.gpu.limits.maxStorageBufferBindingSize);
  const tiles = chooseTiles(profileFor(g.gpu), M, p.n);
  if (splits === 1) {
    g.dispatch(label, convFilterGrad({ ...p, tiles, accumulate: dw.accumulate }), {
      X: x,
      G: grad,
      DW: dw.grad,
    });
    return;
  }
  const Z = p.z ?? 1;
  const part = g.workspace(Z * splits * M * p.n);
  g.dispatch(`${label} split`, convFilterGrad({ ...p, tiles, splits }), { X: x, G: grad, DW: part });
  columnSum(g, `${label} sum`, part, dw.grad, { groups: Z, rows: splits, cols: M * p.n }, dw.accumulate);
}
