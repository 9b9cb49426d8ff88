/**
 * Deterministic reductions. WGSL has no float atomics, so every sum runs in a fixed order: a first pass
 * sums fixed-size chunks of rows per column, a second pass sums the chunk partials in order.
 */
import { u } from "./common.ts";
import type { Kernel } from "./kernel.ts";

const WG = 64;

export interface ColumnSumSpec {
  /** Independent [rows, cols] matrices stacked in the source, each summed into its own output row. */
  groups: number;
  rows: number;
  cols: number;
  /** Rows summed by one invocation in the first pass. */
  chunk: number;
  accumulate: boolean;
}

/** Number of partial rows per group the first pass writes (1: a single pass straight into the output). */
export function chunksOf(spec: ColumnSumSpec): number {
  return Math.ceil(spec.rows / spec.chunk);
}

function vecOf(spec: ColumnSumSpec) {
  const vec = spec.cols % 4 === 0;
  return {
    vec,
    t: vec ? "vec4f" : "f32",
    cols: vec ? spec.cols / 4 : spec.cols,
    zero: vec ? "vec4f()" : "0.0",
  };
}

/**
 * Pass 1 (or the only pass): OUT[g, c, col] = sum of rows [c*chunk, (c+1)*chunk) of SRC[g, rows, cols].
 * With one chunk it honours `accumulate`; otherwise it writes partials that {@link columnSumFinish} adds.
 */
export function columnSumChunks(spec: ColumnSumSpec): Kernel {
  const { t, cols, zero } = vecOf(spec);
  const chunks = chunksOf(spec);
  const store = chunks === 1 && spec.accumulate ? "+=" : "=";
  const code = `
@group(0) @binding(0) var<storage, read> SRC: array<${t}>;
@group(0) @binding(1) var<storage, read_write> OUT: array<${t}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let col = wid.x * ${u(WG)} + lid.x;
  let c = wid.y;
  let g = wid.z;
  if (col >= ${u(cols)}) { return; }
  let r1 = min((c + 1u) * ${u(spec.chunk)}, ${u(spec.rows)});
  let base = g * ${u(spec.rows * cols)} + col;
  var s = ${zero};
  for (var r = c * ${u(spec.chunk)}; r < r1; r++) { s += SRC[base + r * ${u(cols)}]; }
  OUT[(g * ${u(chunks)} + c) * ${u(cols)} + col] ${store} s;
}`;
  return {
    code,
    bindings: ["SRC", "OUT"],
    workgroups: [Math.ceil(cols / WG), chunks, spec.groups],
    usesStep: false,
  };
}

/** Pass 2: OUT[g, col] (=|+=) sum over chunks of PART[g, c, col], in chunk order. */
export function columnSumFinish(spec: ColumnSumSpec): Kernel {
  const { t, cols, zero } = vecOf(spec);
  const chunks = chunksOf(spec);
  const code = `
@group(0) @binding(0) var<storage, read> PART: array<${t}>;
@group(0) @binding(1) var<storage, read_write> OUT: array<${t}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let col = wid.x * ${u(WG)} + lid.x;
  let g = wid.z;
  if (col >= ${u(cols)}) { return; }
  var s = ${zero};
  for (var c = 0u; c < ${u(chunks)}; c++) { s += PART[(g * ${u(chunks)} + c) * ${u(cols)} + col]; }
  OUT[g * ${u(cols)} + col] ${spec.accumulate ? "+=" : "="} s;
}`;
  return {
    code,
    bindings: ["PART", "OUT"],
    workgroups: [Math.ceil(cols / WG), 1, spec.groups],
    usesStep: false,
  };
}
