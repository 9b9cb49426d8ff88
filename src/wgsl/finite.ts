/**
 * Non-finite counts: how many values of an f32 range are NaN or ±Inf, added into a u32 counter. The
 * test reads each value's bits (an all-ones exponent), because WGSL lets a compiler assume floats are
 * finite and fold `x != x` away. Integer atomics make the count exact whatever the order.
 */
import { u } from "./common.ts";
import type { Kernel } from "./kernel.ts";

const WG = 256;
/** Most workgroups per range; each invocation strides over the rest. */
const MAX_GROUPS = 1024;

/** Adds the number of non-finite values of X[0, count) to COUNT[slot]. */
export function countNonFinite(count: number, slot: number): Kernel {
  const groups = Math.min(MAX_GROUPS, Math.ceil(count / WG));
  const code = `
@group(0) @binding(0) var<storage, read> X: array<u32>;
@group(0) @binding(1) var<storage, read_write> COUNT: array<atomic<u32>>;
var<workgroup> found: atomic<u32>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  var n = 0u;
  for (var i = wid.x * ${u(WG)} + lid.x; i < ${u(count)}; i += ${u(groups * WG)}) {
    n += select(0u, 1u, (X[i] & 0x7f800000u) == 0x7f800000u);
  }
  if (n > 0u) { atomicAdd(&found, n); }
  workgroupBarrier();
  if (lid.x == 0u) {
    let total = atomicLoad(&found);
    if (total > 0u) { atomicAdd(&COUNT[${u(slot)}], total); }
  }
}`;
  return { code, bindings: ["X", "COUNT"], workgroups: [groups, 1, 1], usesStep: false };
}

/** Zeroes COUNT[0, slots), before the counts of a new check. */
export function clearCounts(slots: number): Kernel {
  const code = `
@group(0) @binding(0) var<storage, read_write> COUNT: array<u32>;
@compute @workgroup_size(1)
fn main() {
  for (var i = 0u; i < ${u(slots)}; i++) { COUNT[i] = 0u; }
}`;
  return { code, bindings: ["COUNT"], workgroups: [1, 1, 1], usesStep: false };
}
