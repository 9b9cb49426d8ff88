/**
 * Gather kernels for the data-movement ops of the Diagonal BiLSTM (skew, unskew, mirror, shift down).
 * Each output element is a sum of source elements picked by index maps; a map returns -1 for "zero"
 * (padding). Every such op is linear and each source element feeds at most one output per map, so its
 * gradient is again a gather with the adjoint maps: no scatter, no atomics, deterministic.
 */
import { BUILTINS_1D, grid1d, linearIndex, u } from "./common.ts";
import type { Kernel } from "./kernel.ts";

/**
 * An index map: a WGSL function body with `n, y, x: i32` (output image, row, column) in scope that
 * returns the element offset of the source value for output channel 0 (channel c reads offset + c), or
 * -1 for zero. Offsets must be multiples of 4 when C is.
 */
export type IndexMap = string;

export interface RemapSpec {
  /** Output [N, H, W, C]. */
  out: readonly number[];
  maps: IndexMap[];
  accumulate?: boolean;
}

const WG = 64;

export function remap(spec: RemapSpec): Kernel {
  const [N, H, W, C] = spec.out;
  const vec = C % 4 === 0;
  const t = vec ? "vec4f" : "f32";
  const cv = vec ? C / 4 : C;
  const count = N * H * W * cv;
  const fns = spec.maps.map((body, k) => `fn map${k}(n: i32, y: i32, x: i32) -> i32 { ${body} }`);
  const terms = spec.maps.map((_, k) =>
    `  let s${k} = map${k}(n, y, x);\n  if (s${k} >= 0) { v += SRC[u32(s${k}) / ${u(vec ? 4 : 1)} + c]; }`
  );
  const code = `
@group(0) @binding(0) var<storage, read> SRC: array<${t}>;
@group(0) @binding(1) var<storage, read_write> OUT: array<${t}>;
${fns.join("\n")}
@compute @workgroup_size(${WG})
fn main(${BUILTINS_1D}) {
  let i = ${linearIndex(WG)};
  if (i >= ${u(count)}) { return; }
  let c = i % ${u(cv)};
  let p = i / ${u(cv)};
  let x = i32(p % ${u(W)});
  let y = i32((p / ${u(W)}) % ${u(H)});
  let n = i32(p / ${u(W * H)});
  var v = ${vec ? "vec4f()" : "0.0"};
${terms.join("\n")}
  OUT[i] ${spec.accumulate ? "+=" : "="} v;
}`;
  return { code, bindings: ["SRC", "OUT"], workgroups: grid1d(count, WG), usesStep: false };
}
