/** Data-movement kernels: weight transposes, patch gathers (and, in other files, skew/unskew/mirror/shift). */
import { BUILTINS_1D, grid1d, linearIndex, u } from "./common.ts";
import type { Kernel, Tap } from "./kernel.ts";

const WG = 64;

/** DST[t, b, a] = SRC[t, a, b] for T blocks of an A x B matrix. */
export function transposeTaps(taps: number, a: number, b: number): Kernel {
  const n = taps * a * b;
  const code = `
@group(0) @binding(0) var<storage, read> SRC: array<f32>;
@group(0) @binding(1) var<storage, read_write> DST: array<f32>;
@compute @workgroup_size(${WG})
fn main(${BUILTINS_1D}) {
  let i = ${linearIndex(WG)};
  if (i >= ${u(n)}) { return; }
  let t = i / ${u(a * b)};
  let r = i % ${u(a * b)};
  let ia = r / ${u(b)};
  let ib = r % ${u(b)};
  DST[t * ${u(a * b)} + ib * ${u(a)} + ia] = SRC[i];
}`;
  return { code, bindings: ["SRC", "DST"], workgroups: grid1d(n, WG), usesStep: false };
}

/**
 * Patches of an NHWC map X [B, H, W, C]: P[p, t * C + ci] = X[p + tap t, ci], zero outside the map and in
 * the `k - taps * C` padding channels at the end of each position's row of k. One invocation copies the
 * C channels of one tap of one position (the invocation after a position's last tap writes its padding).
 */
export function gatherPatches(shape: readonly number[], taps: Tap[], k: number): Kernel {
  const [B, H, W, C] = shape;
  const T = taps.length;
  const n = B * H * W * (T + 1);
  const code = `
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> P: array<f32>;
@group(0) @binding(2) var<storage, read> TAPS: array<vec2i>;
@compute @workgroup_size(${WG})
fn main(${BUILTINS_1D}) {
  let i = ${linearIndex(WG)};
  if (i >= ${u(n)}) { return; }
  let p = i / ${u(T + 1)};
  let t = i % ${u(T + 1)};
  let o = p * ${u(k)} + t * ${u(C)};
  if (t == ${u(T)}) {
    for (var j = o; j < (p + 1u) * ${u(k)}; j++) { P[j] = 0.0; }
    return;
  }
  let tap = TAPS[t];
  let y = i32((p / ${u(W)}) % ${u(H)}) + tap.x;
  let x = i32(p % ${u(W)}) + tap.y;
  let inside = y >= 0 && y < ${H} && x >= 0 && x < ${W};
  let src = select(0u, ((p / ${u(H * W)}) * ${u(H)} + u32(y)) * ${u(W * C)} + u32(x) * ${u(C)}, inside);
  for (var c = 0u; c < ${u(C)}; c++) { P[o + c] = select(0.0, X[src + c], inside); }
}`;
  const table = new Uint32Array(new Int32Array(taps.flatMap((t) => [t.dy, t.dx])).buffer);
  return {
    code,
    bindings: ["X", "P", "TAPS"],
    workgroups: grid1d(n, WG),
    usesStep: false,
    tables: { TAPS: table },
  };
}
