/**
 * Register-tile choice for the implicit-GEMM kernels, per adapter class and problem shape.
 *
 * On the software adapter each invocation is one SIMD lane of a CPU core (register-tile workgroups are
 * one-dimensional, see linearLayout in src/wgsl/kernel.ts), so large per-thread tiles (16 x 16, vec4
 * columns) and small workgroups win, at most 8 invocations wide (one AVX2 SIMD group, so a workgroup's
 * weight slice stays small); weights of at most 64 KiB are read from a uniform buffer instead
 * (uniformWeightTiles). Interleaved medians of scratch runs of the conv ops
 * against 8 x 16 tiles in 16-wide workgroups: 1x1 1024 -> 1024 forward 25 vs 12 GFLOP/s, the Row LSTM
 * input-to-state conv 18 vs 15, the PixelCNN 3x3 20 vs 16. On a real GPU, occupancy matters more than
 * per-thread reuse, so tiles are smaller and workgroups larger; that profile follows common practice and
 * has not been tuned on a GPU by this project yet.
 */
import type { Gpu } from "./device.ts";
import type { Tensor } from "./tensor.ts";
import type { Tiles } from "../wgsl/kernel.ts";
import type { SubgroupGrid } from "../wgsl/filter_grad.ts";

export interface TileProfile {
  tm: number;
  tnWide: number;
  threads: number;
  /** Widest workgroup in columns (on the software adapter the SIMD width: 8 lanes of AVX2). */
  maxWgx: number;
  /** Stage operand tiles in workgroup memory (see Tiles.shared). */
  shared: boolean;
}

export const SOFTWARE_PROFILE: TileProfile = { tm: 16, tnWide: 16, threads: 32, maxWgx: 8, shared: false };
export const GPU_PROFILE: TileProfile = { tm: 4, tnWide: 8, threads: 128, maxWgx: 16, shared: true };

/** The tile profile of the device's policy (by adapter class unless forced, see policy.ts). */
export function profileFor(gpu: Gpu): TileProfile {
  return gpu.policy.profile === "software" ? SOFTWARE_PROFILE : GPU_PROFILE;
}

function pow2Floor(x: number): number {
  return 2 ** Math.floor(Math.log2(Math.max(1, x)));
}

/**
 * Tiles for an M x N output. With several column blocks (an LSTM step's four gates) a thread holds
 * `tn` columns of each block, so the per-block width shrinks to keep the register count in bounds.
 */
export function chooseTiles(profile: TileProfile, m: number, n: number, blocks = 1): Tiles {
  const wide = Math.max(4, profile.tnWide / blocks);
  let tn: number;
  if (n % 4 !== 0) tn = n === 1 ? 1 : 2;
  // Full-width tiles only when they still fill a workgroup row (N = 64 runs 1.3-1.5x faster as
  // 8-column tiles in 8-wide rows than as 16-column tiles in 4-wide rows).
  else if (n >= wide * profile.maxWgx) tn = wide;
  else if (n >= 16 && wide >= 8) tn = 8;
  else tn = 4;
  const wgx = Math.min(pow2Floor(Math.ceil(n / tn)), profile.maxWgx, profile.threads);
  const tm = m >= profile.tm * 4 ? profile.tm : Math.max(1, pow2Floor(m / 4));
  // Fewer rows of threads when a workgroup row count would leave over 1/8 of the last workgroup idle
  // (80 rows of a filter gradient in tiles of 16: 5 thread rows, not 8).
  const rows = Math.ceil(m / tm);
  let wgy = Math.max(1, Math.min(profile.threads / wgx, pow2Floor(rows)));
  while (wgy > 1 && Math.ceil(rows / wgy) * wgy - rows > rows / 8) wgy /= 2;
  return { tm, tn, wgx, wgy, shared: profile.shared };
}

/**
 * Whether the software tiles read their map operands from texture mirrors (Graph.textureOf): on lavapipe
 * a storage load is a loop over the SIMD lanes with a bounds check per element, a texel fetch one gather.
 * Interleaved on lavapipe (GPU timestamps, 16 images of 28 x 28), the MNIST PixelCNN's filter gradients
 * from storage and from textures (the two copies included): 1x1 32 -> 32 8.1 vs 3.6 ms, 32 -> 16 4.6 vs
 * 3.3, 3x3 mask B 16 -> 16 10.1 vs 4.2. Per-step LSTM kernels read the maps fixed through a scan this
 * way too (src/engine/ops/lstm.ts). A GPU reads storage through its caches: there the copies would only
 * cost.
 */
export function textureReads(gpu: Gpu): boolean {
  return profileFor(gpu) === SOFTWARE_PROFILE && gpu.policy.reads === "texture";
}

/** How a filter gradient runs: its tiles, its subgroup grid (in the subgroup form), its split length. */
export interface FilterGradPlan {
  tiles: Tiles;
  subgroups?: SubgroupGrid;
  /** Positions a split of the reduction sums, at least. */
  splitPositions: number;
}

/**
 * The filter gradient's plan. Where the device has subgroups (unless the policy turns them off) it takes
 * the subgroup form (FilterGradSpec.subgroups): on a GPU each subgroup the GPU profile's tile (4 rows x
 * up to 8 columns) in workgroups of 64, splits of 256 positions (not yet tuned on a GPU); on the
 * software adapter each subgroup (its 8 SIMD lanes, one workgroup) a tile of up to 16 x 16, splits of
 * 2,048 positions. There the lanes of a thread-form workgroup hold different tiles, and a small filter
 * gradient has too few tiles to fill them (the MNIST PixelCNN's 1x1 32 -> 16: 2 tiles of 16 x 16 in a
 * workgroup of 8 lanes), while the subgroup form fills every lane with positions. Interleaved on lavapipe
 * (GPU timestamps, 16 images, against the thread form with its 49-64 splits of 256 positions), 16 x 16
 * tiles: MNIST 1x1 32 -> 16 3.5 ms vs 7.0, 16 -> 32 4.2 vs 10.5, 32 -> 32 7.1 vs 13.7, 3x3 mask B
 * 16 -> 16 8.1 vs 14.5, the Row LSTM's 1x3 32 -> 64 26.0 vs 39.9, CIFAR-10 1x1 256 -> 256 486 vs 506.
 * Tiles of 32 x 32 ran faster still (3.1, 3.7, 5.0, 7.9, 17.1 and 306 ms) but Mesa compiled them for
 * minutes on a cold shader cache (the Multi-Scale CLI test: 156 s, against 68 s with 16 x 16 tiles and
 * 57 s without subgroups). 4 to 8 splits ran within 2% of 6. Elsewhere the thread form, in the profile's
 * tiles.
 */
export function filterGradPlan(gpu: Gpu, m: number, n: number): FilterGradPlan {
  const profile = profileFor(gpu);
  if (gpu.policy.subgroups === "off" || !gpu.hasFeature("subgroups")) {
    return { tiles: chooseTiles(profile, m, n), splitPositions: 256 };
  }
  const widest = gpu.adapter.info.subgroupMaxSize || 64;
  const maxGroupsX = gpu.limits.maxComputeWorkgroupsPerDimension;
  if (profile === GPU_PROFILE) {
    const t = chooseTiles(GPU_PROFILE, m, n);
    const tiles = { tm: t.tm, tn: t.tn, wgx: 1, wgy: 1, shared: false };
    return { tiles, subgroups: { workgroup: 64, widest, maxGroupsX }, splitPositions: 256 };
  }
  const tn = n % 4 === 0 ? Math.min(16, n) : Math.min(4, n);
  const tiles = { tm: Math.min(16, m), tn, wgx: 1, wgy: 1, shared: false };
  return { tiles, subgroups: { workgroup: widest, widest, maxGroupsX }, splitPositions: 2048 };
}

/**
 * Software tiles for a convolution that reads its weight `w` from a uniform buffer (ConvSpec
 * uniformWeight), with the vec4 count to declare; null where the policy or profile says storage, or
 * where `w` is over the uniform binding limit (64 KiB on most adapters) or unaligned for it. A thread
 * holds 4 positions and up to 64 columns (of all `blocks` together); the 8 threads of a workgroup (its
 * SIMD lanes on lavapipe) take neighbouring positions and the same columns, so every lane reads the
 * same weights. On lavapipe, 16 images of 28 x 28 as plain GEMMs (bench/kernels_bench.ts, one run):
 * K 144, N 16 (the MNIST PixelCNN's 3x3 conv) 7.2 GFLOP/s against 2.75 for the engine's storage GEMM;
 * K 64, N 64 12.8 against 3.1.
 */
export function uniformWeightTiles(
  gpu: Gpu,
  w: Tensor,
  n: number,
  blocks = 1,
): { tiles: Tiles; vec4s: number } | null {
  const { limits, policy } = gpu;
  if (policy.profile !== "software" || policy.weights !== "uniform") return null;
  if (w.byteSize % 16 || w.byteSize > limits.maxUniformBufferBindingSize) return null;
  if (w.offset % limits.minUniformBufferOffsetAlignment || !(w.buffer.usage & GPUBufferUsage.UNIFORM)) {
    return null;
  }
  // 64 columns in all, shared by the column blocks (an LSTM step's four gates).
  const tn = n % 4 === 0 ? Math.min(Math.max(4, 64 / blocks), n) : Math.min(4, n);
  return { tiles: { tm: 4, tn, wgx: 1, wgy: 8, shared: false }, vec4s: w.byteSize / 16 };
}

/**
 * Tiles of a whole-scan step (src/wgsl/scan.ts): a workgroup owns all `rows` positions and all `n`
 * columns of one image, so one thread row spans the columns in tiles of the step's width. On the
 * software adapter each thread takes up to 32 positions in one thread row, forward 4 columns, backward
 * 8: fewer invocations meet at each step's barrier. Interleaved on lavapipe, MNIST Diagonal BiLSTM
 * (Z = 2, B = 16, 55 steps of 28 positions): h = 16 forward 87 ms vs 100 ms with the step tiles' shape
 * (2 thread rows of 14) and 81 ms per step dispatch, backward 142 vs 215 (and 156 per step); h = 32
 * forward 445 vs 548 (456), backward 730 vs 1440 (1161). On a GPU the step tiles' shape, rows shared
 * evenly, at most 256 threads.
 */
export function scanTiles(
  profile: TileProfile,
  step: Tiles,
  rows: number,
  n: number,
  backward: boolean,
): Tiles {
  const software = profile === SOFTWARE_PROFILE;
  const tn = software && n % 4 === 0 ? Math.min(backward ? 8 : 4, n) : step.tn;
  const wgx = Math.ceil(n / tn);
  let wgy = software ? Math.ceil(rows / 32) : Math.ceil(rows / step.tm);
  while (wgx * wgy > 256 && wgy > 1) wgy = Math.ceil(wgy / 2);
  // Rows shared evenly (28 positions in two thread rows: 14 each, not 16 and 12 with 4 idle).
  return { tm: Math.ceil(rows / wgy), tn, wgx, wgy, shared: step.shared };
}
