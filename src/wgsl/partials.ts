/**
 * The end-of-backward reduction: every gradient that kernels left as slices of partial sums (split-K
 * filter gradients, per-image contributions to an LSTM's initial state) is added up in one dispatch,
 * in a fixed order (deterministic). Each workgroup sums one chunk of one sum (see sumPartials).
 */
import { u } from "./common.ts";
import type { Kernel } from "./kernel.ts";

/**
 * DST[dst + e] (=|+=) the sum over parts, in order, of sum_k PART[src + k * stride + e], for e < size.
 */
export interface DeferredSum {
  dst: number;
  size: number;
  parts: { src: number; slices: number; stride: number }[];
  accumulate?: boolean;
}

const WG = 64;
/** Elements (of the kernel's vector type) one workgroup sums: a chunk of a sum, 16 per invocation. */
const CHUNK = 16 * WG;

/**
 * The kernel. Its table lists the sums (dst, size, first part, part count), their parts (src, slices,
 * stride) and the chunks (sum, first element, end): workgroup i sums chunk i, so every workgroup has
 * work however unequal the sums (an LSTM's initial-state gradient of 16 elements beside a filter
 * gradient of 4,096), and a grid longer than the device's row folds into y.
 */
export function sumPartials(sums: DeferredSum[], maxGroups: number): Kernel {
  // Four elements per invocation when every offset, size and stride allows.
  const vec = sums.every((s) =>
    s.dst % 4 === 0 && s.size % 4 === 0 && s.parts.every((p) => p.src % 4 === 0 && p.stride % 4 === 0)
  );
  const d = vec ? 4 : 1, T = vec ? "vec4f" : "f32";
  const jobs: number[][] = [], parts: number[][] = [], chunks: number[][] = [];
  for (const s0 of sums) {
    const size = s0.size / d;
    // The part count's top bit marks an accumulating sum.
    const count = s0.parts.length + (s0.accumulate ? 0x80000000 : 0);
    for (let at = 0; at < size; at += CHUNK) chunks.push([jobs.length, at, Math.min(size, at + CHUNK), 0]);
    jobs.push([s0.dst / d, size, parts.length, count]);
    for (const p of s0.parts) parts.push([p.src / d, p.slices, p.stride / d, 0]);
  }
  const partsAt = jobs.length, chunksAt = partsAt + parts.length;
  const code = `
@group(0) @binding(0) var<storage, read> PART: array<${T}>;
@group(0) @binding(1) var<storage, read_write> DST: array<${T}>;
// Rows from 0: sums (dst, size, first part, part count); from ${partsAt}: parts (src, slices, stride, 0);
// from ${chunksAt}: chunks (sum, first element, end, 0).
@group(0) @binding(2) var<storage, read> TABLE: array<vec4u>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let c = wid.y * nwg.x + wid.x;
  if (c >= ${u(chunks.length)}) { return; }
  let chunk = TABLE[${u(chunksAt)} + c];
  let job = TABLE[chunk.x];
  let count = job.w & 0x7fffffffu;
  let accumulate = job.w >= 0x80000000u;
  for (var e = chunk.y + lid.x; e < chunk.z; e += ${u(WG)}) {
    var s = ${T}();
    for (var p = job.z; p < job.z + count; p++) {
      let part = TABLE[${u(partsAt)} + p];
      for (var k = 0u; k < part.y; k++) { s += PART[part.x + k * part.z + e]; }
    }
    if (accumulate) { s += DST[job.x + e]; }
    DST[job.x + e] = s;
  }
}`;
  const x = Math.min(chunks.length, maxGroups);
  return {
    code,
    bindings: ["PART", "DST", "TABLE"],
    workgroups: [x, Math.ceil(chunks.length / x), 1],
    usesStep: false,
    tables: { TABLE: new Uint32Array([...jobs, ...parts, ...chunks].flat()) },
  };
}
