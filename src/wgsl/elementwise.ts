/**
 * Element-wise kernels: one generator for every "out[i] (=|+=) expr(in1[i], in2[i], ...)" op
 * (add, ReLU and its gradient, scaling, copies). Vectorised over vec4 when the length allows.
 */
import { BUILTINS_1D, grid1d, linearIndex, u } from "./common.ts";
import type { Kernel } from "./kernel.ts";

export interface ElementwiseSpec {
  /** Number of f32 elements. */
  n: number;
  /** Input binding names, read as `NAME[i]` inside `expr`. */
  inputs: string[];
  /** WGSL expression of the result, in terms of `NAME[i]` (vec4f in vec mode, f32 otherwise). */
  expr: (vec: boolean) => string;
  accumulate?: boolean;
}

const WG = 64;

export function elementwise(spec: ElementwiseSpec): Kernel {
  const vec = spec.n % 4 === 0;
  const t = vec ? "vec4f" : "f32";
  const count = vec ? spec.n / 4 : spec.n;
  const L: string[] = [];
  spec.inputs.forEach((name, b) =>
    L.push(`@group(0) @binding(${b}) var<storage, read> ${name}: array<${t}>;`)
  );
  L.push(`@group(0) @binding(${spec.inputs.length}) var<storage, read_write> OUT: array<${t}>;`);
  L.push(`@compute @workgroup_size(${WG})`);
  L.push(`fn main(${BUILTINS_1D}) {`);
  L.push(`  let i = ${linearIndex(WG)};`);
  L.push(`  if (i >= ${u(count)}) { return; }`);
  const e = spec.expr(vec);
  L.push(spec.accumulate ? `  OUT[i] = OUT[i] + ${e};` : `  OUT[i] = ${e};`);
  L.push(`}`);
  return {
    code: L.join("\n"),
    bindings: [...spec.inputs, "OUT"],
    workgroups: grid1d(count, WG),
    usesStep: false,
  };
}
