/** Data-movement kernels: weight transposes (and, in other files, skew/unskew/mirror/shift). */
import { BUILTINS_1D, grid1d, linearIndex, u } from "./common.ts";
import type { Kernel } from "./conv.ts";

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
