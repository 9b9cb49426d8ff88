/**
 * A standalone matmul C[M,N] = A[M,K] x B[K,N] (row-major f32), the yardstick every kernel figure is read
 * against. It shares no code with the engine's kernels (src/wgsl/) on purpose: it is the best plain GEMM this bench can
 * write, found by sweeping its register tile and workgroup shape.
 *
 * Each invocation owns TM rows and TN columns (TN/4 vec4 column slots) of C. A is read as vec4 along K,
 * B and C as vec4 along N; there is no workgroup memory (slower than registers on the software
 * adapter). With `interleave`, a thread's column slots are strided by the workgroup width, so that
 * neighbouring invocations (the SIMD lanes of a CPU core on the software adapter) read neighbouring
 * vec4s of B instead of addresses TN*4 floats apart.
 */
import type { Kernel } from "../src/wgsl/kernel.ts";

export interface MatmulShape {
  m: number;
  n: number;
  k: number;
}

export interface MatmulTiles {
  tm: number;
  /** Columns per invocation, a multiple of 4. */
  tn: number;
  wgx: number;
  wgy: number;
  interleave: boolean;
}

export function tilesName(t: MatmulTiles): string {
  return `${t.tm}x${t.tn} wg ${t.wgx}x${t.wgy}${t.interleave ? " interleaved" : ""}`;
}

/** WGSL and grid for `shape` with tiles `t`; N and K must be multiples of 4. */
export function matmulKernel(shape: MatmulShape, t: MatmulTiles): Kernel {
  const { m: M, n: N, k: K } = shape;
  const { tm, tn, wgx, wgy } = t;
  if (N % 4 || K % 4 || tn % 4) throw new Error(`matmul: N ${N}, K ${K} and TN ${tn} must be multiples of 4`);
  const V = tn / 4, NV = N / 4, KV = K / 4;
  const L: string[] = [
    "@group(0) @binding(0) var<storage, read> A: array<vec4f>;",
    "@group(0) @binding(1) var<storage, read> B: array<vec4f>;",
    "@group(0) @binding(2) var<storage, read_write> C: array<vec4f>;",
    `@compute @workgroup_size(${wgx}, ${wgy})`,
    "fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {",
    `  let r0 = (wid.y * ${wgy}u + lid.y) * ${tm}u;`,
  ];
  const col = (j: number) => t.interleave ? `c0 + ${j * wgx}u` : `c0 + ${j}u`;
  L.push(
    t.interleave
      ? `  let c0 = wid.x * ${wgx * V}u + lid.x;`
      : `  let c0 = (wid.x * ${wgx}u + lid.x) * ${V}u;`,
  );
  // Out-of-range rows and columns read clamped addresses and are not stored.
  for (let j = 0; j < V; j++) L.push(`  let cb${j} = min(${col(j)}, ${NV - 1}u);`);
  reduction(L, { tm, V, KV, NV }, (i) => `min(r0 + ${i}u, ${M - 1}u)`, (kk, j) => `${kk * NV}u + cb${j}`);
  for (let i = 0; i < tm; i++) {
    L.push(`  if (r0 + ${i}u < ${M}u) {`);
    for (let j = 0; j < V; j++) {
      L.push(`    if (${col(j)} < ${NV}u) { C[(r0 + ${i}u) * ${NV}u + ${col(j)}] = c${i}_${j}; }`);
    }
    L.push("  }");
  }
  L.push("}");
  const workgroups: [number, number, number] = [Math.ceil(NV / (wgx * V)), Math.ceil(M / (wgy * tm)), 1];
  return { code: L.join("\n"), bindings: ["A", "B", "C"], workgroups, usesStep: false };
}

/**
 * The same product with B read from a uniform buffer (so B is at most 64 KiB, the size of an MNIST
 * preset's weight matrix) and the SIMD lanes along M: each invocation owns TM rows, strided by the
 * workgroup size WG so that the lanes take neighbouring rows, and every invocation of a workgroup the
 * same TN columns. Why it exists: on lavapipe (Mesa 22.3) every storage-buffer load is a loop over the
 * lanes with a bounds check per element, while a uniform-buffer load is a plain gather, or one load
 * broadcast when all lanes read the same address, as here. It measures what reading the weights of a
 * skinny GEMM that way would gain; the engine's kernels read everything from storage.
 */
export interface UniformTiles {
  tm: number;
  tn: number;
  wg: number;
}

export function matmulUniformBKernel(shape: MatmulShape, t: UniformTiles): Kernel {
  const { m: M, n: N, k: K } = shape;
  const { tm, tn, wg } = t;
  if (N % tn || tn % 4 || K % 4) {
    throw new Error(`matmul: N ${N} must be a multiple of TN ${tn} (of 4), K of 4`);
  }
  if (K * N * 4 > 65536) throw new Error(`matmul: B of ${K}x${N} exceeds a 64 KiB uniform buffer`);
  const V = tn / 4, NV = N / 4, KV = K / 4;
  const row = (i: number) => `wid.x * ${wg * tm}u + ${i * wg}u + lid.x`;
  const L: string[] = [
    "@group(0) @binding(0) var<storage, read> A: array<vec4f>;",
    `@group(0) @binding(1) var<uniform> B: array<vec4f, ${K * NV}>;`,
    "@group(0) @binding(2) var<storage, read_write> C: array<vec4f>;",
    `@compute @workgroup_size(${wg})`,
    "fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {",
    `  let c0 = wid.y * ${V}u;`,
  ];
  reduction(L, { tm, V, KV, NV }, (i) => `min(${row(i)}, ${M - 1}u)`, (kk, j) => `${kk * NV + j}u + c0`);
  for (let i = 0; i < tm; i++) {
    L.push(`  if (${row(i)} < ${M}u) {`);
    for (let j = 0; j < V; j++) L.push(`    C[(${row(i)}) * ${NV}u + c0 + ${j}u] = c${i}_${j};`);
    L.push("  }");
  }
  L.push("}");
  const workgroups: [number, number, number] = [Math.ceil(M / (wg * tm)), NV / V, 1];
  return { code: L.join("\n"), bindings: ["A", "B", "C"], workgroups, usesStep: false };
}

/**
 * The accumulators c{i}_{j} of a thread's TM rows and V vec4 column slots, and the loop over K (in vec4
 * steps) adding A's row i (`rowA(i)`, a row index) times B's slot j: in B's row k, slot j of the four
 * rows kk of a step is at k * NV + `colB(kk, j)`.
 */
function reduction(
  L: string[],
  t: { tm: number; V: number; KV: number; NV: number },
  rowA: (i: number) => string,
  colB: (kk: number, j: number) => string,
): void {
  const { tm, V, KV, NV } = t;
  for (let i = 0; i < tm; i++) L.push(`  let ra${i} = ${rowA(i)} * ${KV}u;`);
  for (let i = 0; i < tm; i++) for (let j = 0; j < V; j++) L.push(`  var c${i}_${j} = vec4f();`);
  L.push(`  for (var k = 0u; k < ${KV}u; k++) {`);
  for (let kk = 0; kk < 4; kk++) {
    for (let j = 0; j < V; j++) L.push(`    let b${kk}_${j} = B[k * ${4 * NV}u + ${colB(kk, j)}];`);
  }
  for (let i = 0; i < tm; i++) {
    L.push(`    let a${i} = A[ra${i} + k];`);
    for (let kk = 0; kk < 4; kk++) {
      for (let j = 0; j < V; j++) {
        L.push(`    c${i}_${j} = fma(vec4f(a${i}[${kk}]), b${kk}_${j}, c${i}_${j});`);
      }
    }
  }
  L.push("  }");
}
