/**
 * Deterministic reductions. WGSL has no float atomics, so every sum runs in a fixed order: a first pass
 * sums fixed-size chunks of rows per column, a second pass sums the chunk partials in order.
 */
import { u } from "./common.ts";
import type { Kernel } from "./conv.ts";

const WG = 64;

export interface ColumnSumSpec {
  rows: number;
  cols: number;
  /** Rows summed by one invocation in the first pass. */
  chunk: number;
  /** Element offset of the source inside its binding. */
  srcOffset?: number;
  accumulate: boolean;
}

/** Number of partial rows the first pass writes (1 means a single pass straight into the output). */
export function chunksOf(spec: ColumnSumSpec): number {
  return Math.ceil(spec.rows / spec.chunk);
}

/**
 * Pass 1 (or the only pass): OUT[c, col] = sum of rows [c*chunk, (c+1)*chunk) of SRC[rows, cols].
 * With one chunk it honours `accumulate`; otherwise it writes partials that {@link columnSumFinish} adds.
 */
export function columnSumChunks(spec: ColumnSumSpec): Kernel {
  const vec = spec.cols % 4 === 0 && (spec.srcOffset ?? 0) % 4 === 0;
  const t = vec ? "vec4f" : "f32";
  const cols = vec ? spec.cols / 4 : spec.cols;
  const chunks = chunksOf(spec);
  const single = chunks === 1;
  const off = (spec.srcOffset ?? 0) / (vec ? 4 : 1);
  const code = `
@group(0) @binding(0) var<storage, read> SRC: array<${t}>;
@group(0) @binding(1) var<storage, read_write> OUT: array<${t}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let col = wid.x * ${u(WG)} + lid.x;
  let c = wid.y;
  if (col >= ${u(cols)}) { return; }
  let r1 = min((c + 1u) * ${u(spec.chunk)}, ${u(spec.rows)});
  var s = ${vec ? "vec4f()" : "0.0"};
  for (var r = c * ${u(spec.chunk)}; r < r1; r++) { s += SRC[${u(off)} + r * ${u(cols)} + col]; }
  ${single && spec.accumulate ? `OUT[c * ${u(cols)} + col] += s;` : `OUT[c * ${u(cols)} + col] = s;`}
}`;
  return { code, bindings: ["SRC", "OUT"], workgroups: [Math.ceil(cols / WG), chunks, 1], usesStep: false };
}

/** Pass 2: OUT[col] (=|+=) sum over chunks of PART[c, col], in chunk order. */
export function columnSumFinish(spec: ColumnSumSpec): Kernel {
  const vec = spec.cols % 4 === 0;
  const t = vec ? "vec4f" : "f32";
  const cols = vec ? spec.cols / 4 : spec.cols;
  const code = `
@group(0) @binding(0) var<storage, read> PART: array<${t}>;
@group(0) @binding(1) var<storage, read_write> OUT: array<${t}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let col = wid.x * ${u(WG)} + lid.x;
  if (col >= ${u(cols)}) { return; }
  var s = ${vec ? "vec4f()" : "0.0"};
  for (var c = 0u; c < ${u(chunksOf(spec))}; c++) { s += PART[c * ${u(cols)} + col]; }
  ${spec.accumulate ? "OUT[col] += s;" : "OUT[col] = s;"}
}`;
  return { code, bindings: ["PART", "OUT"], workgroups: [Math.ceil(cols / WG), 1, 1], usesStep: false };
}
