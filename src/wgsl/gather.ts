/**
 * Batch gather from a GPU-resident dataset of 8-bit pixels packed four per u32 word (little-endian, as
 * WebGPU stores u32), images contiguous, so an image need not start on a word boundary.
 */
import { BUILTINS_1D, f, grid1d, linearIndex, u } from "./common.ts";
import type { Kernel } from "./kernel.ts";

/** Sizes and input scaling of one gather kernel. */
export interface GatherSpec {
  batch: number;
  /** Bytes (sub-pixels) per image: H * W * C. */
  imageBytes: number;
  /** Network input = pixel * inputScale + inputShift. */
  inputScale: number;
  inputShift: number;
}

const WG = 64;

/** INPUT[b, e] = DATA byte (IDX[b] * imageBytes + e) * scale + shift; TARGETS[b, e] = that byte. */
export function gatherBatch(spec: GatherSpec): Kernel {
  const n = spec.batch * spec.imageBytes;
  const code = `
@group(0) @binding(0) var<storage, read> DATA: array<u32>;
@group(0) @binding(1) var<storage, read> IDX: array<u32>;
@group(0) @binding(2) var<storage, read_write> INPUT: array<f32>;
@group(0) @binding(3) var<storage, read_write> TARGETS: array<u32>;
@compute @workgroup_size(${WG})
fn main(${BUILTINS_1D}) {
  let i = ${linearIndex(WG)};
  if (i >= ${u(n)}) { return; }
  let byte = IDX[i / ${u(spec.imageBytes)}] * ${u(spec.imageBytes)} + i % ${u(spec.imageBytes)};
  let v = (DATA[byte / 4u] >> ((byte % 4u) * 8u)) & 255u;
  TARGETS[i] = v;
  INPUT[i] = f32(v) * ${f(spec.inputScale)} + ${f(spec.inputShift)};
}`;
  return { code, bindings: ["DATA", "IDX", "INPUT", "TARGETS"], workgroups: grid1d(n, WG), usesStep: false };
}
