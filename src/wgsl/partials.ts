/**
 * The end-of-backward reduction: every gradient that kernels left as slices of partial sums (split-K
 * filter gradients, per-image contributions to an LSTM's initial state) is added up in one dispatch,
 * in a fixed order (deterministic). Workgroup row y serves sum y; its threads stride over the elements.
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
/** Workgroups per sum at most: larger sums are strided over them. */
const MAX_X = 256;

export function sumPartials(sums: DeferredSum[], maxGroups: number): Kernel {
  if (sums.length > maxGroups) throw new Error(`${sums.length} deferred sums exceed ${maxGroups} workgroups`);
  // Four elements per invocation when every offset, size and stride allows.
  const vec = sums.every((s) =>
    s.dst % 4 === 0 && s.size % 4 === 0 && s.parts.every((p) => p.src % 4 === 0 && p.stride % 4 === 0)
  );
  const d = vec ? 4 : 1, T = vec ? "vec4f" : "f32";
  const jobs: string[] = [], parts: string[] = [];
  for (const s0 of sums) {
    const s = {
      ...s0,
      dst: s0.dst / d,
      size: s0.size / d,
      parts: s0.parts.map((p) => ({ ...p, src: p.src / d, stride: p.stride / d })),
    };
    // The part count's top bit marks an accumulating sum.
    const count = s.parts.length + (s.accumulate ? 0x80000000 : 0);
    jobs.push(`vec4u(${u(s.dst)}, ${u(s.size)}, ${u(parts.length)}, ${u(count)})`);
    for (const p of s.parts) parts.push(`vec4u(${u(p.src)}, ${u(p.slices)}, ${u(p.stride)}, 0u)`);
  }
  const widest = Math.max(...sums.map((s) => s.size / d));
  const code = `
@group(0) @binding(0) var<storage, read> PART: array<${T}>;
@group(0) @binding(1) var<storage, read_write> DST: array<${T}>;
const JOBS = array<vec4u, ${jobs.length}>(${jobs.join(", ")});
const PARTS = array<vec4u, ${parts.length}>(${parts.join(", ")});
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let job = JOBS[wid.y];
  let count = job.w & 0x7fffffffu;
  let accumulate = job.w >= 0x80000000u;
  for (var e = wid.x * ${u(WG)} + lid.x; e < job.y; e += nwg.x * ${u(WG)}) {
    var s = ${T}();
    for (var p = job.z; p < job.z + count; p++) {
      let part = PARTS[p];
      for (var k = 0u; k < part.y; k++) { s += PART[part.x + k * part.z + e]; }
    }
    if (accumulate) { s += DST[job.x + e]; }
    DST[job.x + e] = s;
  }
}`;
  const x = Math.min(MAX_X, Math.ceil(widest / WG));
  return { code, bindings: ["PART", "DST"], workgroups: [x, sums.length, 1], usesStep: false };
}
