/**
 * Filter gradients (and the bias gradient in the same dispatch) with split-K: the reduction over every
 * position of a map is long and its output small, which leaves few independent tiles (on a GPU, too few
 * workgroups; on the software adapter, accumulators that stream the whole map through the cache).
 * Large problems are split into chunks of rows whose partial sums are added up in a fixed order: by the
 * graph's single end-of-backward reduction when the parameters' gradients allow it (deferred), else by
 * a reduction right after the kernel.
 */
import { GpuError } from "../device.ts";
import type { Graph } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { filterGradPlan } from "../tiles.ts";
import { convFilterGrad, type FilterGradSpec, partialRows } from "../../wgsl/filter_grad.ts";
import { sumPartials } from "../../wgsl/partials.ts";
import { bindMap, readsMirrors } from "./mirrors.ts";

/** Largest number of splits. */
const MAX_SPLITS = 64;
/**
 * Largest partial-sum buffer (also capped by the adapter's binding limit). Shorter splits run faster on
 * the software adapter: the 1x1 1024 -> 1024 filter gradient over 16 x 32 x 32 positions in 32 splits of
 * 512 positions reached 17.4 GFLOP/s against 15.4 in 16 splits (interleaved medians, lavapipe).
 */
const MAX_PARTIAL_BYTES = 128 << 20;

export type FilterGradProblem = Omit<
  FilterGradSpec,
  "tiles" | "splits" | "accumulate" | "partial" | "bias"
>;

/** The parameters whose gradients the filter gradient forms: the weight, and the bias if any. */
export interface FilterGradTargets {
  weight: Tensor;
  /** [Z, n] (or [n] when z = 1): its gradient is the column sum of the output gradient. */
  bias?: Tensor;
}

/**
 * The partial rows map onto the weight only when the taps are a prefix of its blocks and it is stored
 * contiguously [z, tap, ci, col]; otherwise the kernel writes dW itself.
 */
function densePrefix(p: FilterGradProblem): boolean {
  return p.taps.every((t, i) => t.w === i) && p.weight.offset.c === 0 && !p.weight.offset.perStep &&
    p.weight.sTap === p.cin * p.n && p.weight.ld === p.n && (p.weight.sCol ?? 1) === 1 &&
    ((p.z ?? 1) === 1 || p.weight.sZ === p.taps.length * p.cin * p.n);
}

/**
 * Splits for a problem, each of at least `splitPositions` positions: 1 when small, when taps are not a
 * prefix, or when partials would be too big.
 */
function splitsFor(p: FilterGradProblem, splitPositions: number, maxBindingBytes: number): number {
  if (!densePrefix(p)) return 1;
  const positions = p.batch * p.height * p.width;
  const outputs = (p.z ?? 1) * (p.taps.length * p.cin + 1) * p.n;
  const byWork = Math.floor(positions / splitPositions);
  const byMemory = Math.floor(Math.min(MAX_PARTIAL_BYTES, maxBindingBytes) / (4 * outputs));
  return Math.max(1, Math.min(MAX_SPLITS, byWork, byMemory, p.batch * p.height));
}

/** Records dW (and dB) = sums over positions of X[p + tap] * G[p] (and G[p]) into the targets' gradients. */
export function filterGrad(
  g: Graph,
  label: string,
  p: FilterGradProblem,
  x: Tensor,
  grad: Tensor,
  targets: FilterGradTargets,
): void {
  const { weight, bias } = targets;
  const Z = p.z ?? 1, M = p.taps.length * p.cin, N = p.n;
  const { tiles, subgroups, splitPositions } = filterGradPlan(g.gpu, M, N);
  const splits = splitsFor(p, splitPositions, g.gpu.limits.maxStorageBufferBindingSize);
  const wantsBias = bias !== undefined && g.requiresGrad(bias);
  const textures = readsMirrors(g, [x, grad]);
  const read = { X: bindMap(g, x, textures), G: bindMap(g, grad, textures), textures };
  const deferrable = (t: Tensor) => g.isDeferred(t) || g.canDefer(t);
  // Deferred: partial sums reduced with every other parameter's at the end of backward (a weight that
  // already has deferred parts must take this road even unsplit).
  if (
    densePrefix(p) && (splits > 1 || g.isDeferred(weight)) && deferrable(weight) &&
    (!wantsBias || deferrable(bias))
  ) {
    const biasRow = wantsBias ? { offset: { c: 0 } } : undefined;
    const spec = { ...p, tiles, subgroups, splits, partial: true, bias: biasRow, textures: read.textures };
    const P = partialRows(spec);
    const region = g.reservePartials(label, Z * splits * P * N);
    if (region) {
      g.dispatch(`${label} split`, convFilterGrad(spec), { X: read.X, G: read.G, DW: region });
      for (let z = 0; z < Z; z++) {
        const slices = { region, slices: splits, stride: P * N };
        g.deferGrad(weight, { ...slices, offset: z * splits * P * N, at: z * M * N, size: M * N });
        if (wantsBias) {
          g.deferGrad(bias, { ...slices, offset: z * splits * P * N + M * N, at: z * N, size: N });
        }
      }
      return;
    }
  }
  const dw = g.gradSink(weight);
  const db = wantsBias ? g.gradSink(bias) : null;
  if (!dw) throw new GpuError(`${label}: a bias gradient needs its weight's gradient too`);
  if (splits === 1) {
    const b = db ? { offset: { c: 0 }, sZ: N, accumulate: db.accumulate } : undefined;
    const bindings: Record<string, Tensor | GPUTextureView> = { X: read.X, G: read.G, DW: dw.grad };
    if (db) bindings.DB = db.grad;
    g.dispatch(
      label,
      convFilterGrad({ ...p, tiles, subgroups, accumulate: dw.accumulate, bias: b, textures: read.textures }),
      bindings,
    );
    return;
  }
  const biasSlot = db ? { offset: { c: 0 } } : undefined;
  const spec = { ...p, tiles, subgroups, splits, partial: true, bias: biasSlot, textures: read.textures };
  const P = partialRows(spec);
  const part = g.workspace(Z * splits * P * N);
  g.dispatch(`${label} split`, convFilterGrad(spec), { X: read.X, G: read.G, DW: part });
  const sums = (first: number, size: number, accumulate: boolean) =>
    Array.from({ length: Z }, (_, z) => ({
      dst: z * size,
      size,
      accumulate,
      parts: [{ src: z * splits * P * N + first, slices: splits, stride: P * N }],
    }));
  const limit = g.gpu.limits.maxComputeWorkgroupsPerDimension;
  g.dispatch(`${label} sum`, sumPartials(sums(0, M * N, dw.accumulate), limit), { PART: part, DST: dw.grad });
  if (db) {
    g.dispatch(`${label} dBias`, sumPartials(sums(M * N, N, db.accumulate), limit), {
      PART: part,
      DST: db.grad,
    });
  }
}
