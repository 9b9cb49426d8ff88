/** Shared test helpers: seeded random data, error measures, finite differences, a shared GPU. */
import { type Gpu, openGpu } from "../src/engine/device.ts";
import type { KernelPolicy } from "../src/engine/policy.ts";
export { withPolicy } from "../src/engine/policy.ts";
import { Rng } from "../src/engine/rng.ts";

/**
 * Deno's WebGPU sets up every backend it was built with, OpenGL (EGL) too when Vulkan is used, on each
 * thread that asks for an adapter. `deno test --parallel` runs test modules on threads that end while
 * the process exits, and EGL's teardown then races with theirs: a heap crash or a call into an unloaded
 * driver after every test passed (docs/teardown-crash.md). Where a Vulkan adapter works, the tests use
 * Vulkan alone. DENO_WEBGPU_BACKEND, when set, is left as it is.
 */
export async function useVulkanWherePossible(): Promise<void> {
  if (Deno.env.get("DENO_WEBGPU_BACKEND")) return;
  const probe = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "Deno.exit((await navigator.gpu.requestAdapter()) ? 0 : 1)"],
    env: { DENO_WEBGPU_BACKEND: "vulkan" },
    stdout: "null",
    stderr: "null",
  }).output();
  if (probe.success && !Deno.env.get("DENO_WEBGPU_BACKEND")) Deno.env.set("DENO_WEBGPU_BACKEND", "vulkan");
}

// Before any module of this process asks for an adapter.
await useVulkanWherePossible();

let shared: Promise<Gpu> | null = null;

/** One device for the whole test process (creating devices is slow on the software adapter). */
export function testGpu(): Promise<Gpu> {
  shared ??= openGpu();
  return shared;
}

/** Uniform values in [-scale, scale], never all zero; seeded, so failures reproduce. */
export function randomArray(n: number, seed: number, scale = 1): Float64Array {
  const r = new Rng(seed, 7);
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = (r.uniform() * 2 - 1) * scale;
  return a;
}

export function f32(a: Float64Array): Float32Array {
  return Float32Array.from(a);
}

export function f64(a: Float32Array): Float64Array {
  return Float64Array.from(a);
}

/** max |a - b| / max |b|: the relative error of `a` against the reference `b`. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  if (den === 0) throw new Error("reference is all zeros: the comparison would prove nothing");
  return num / den;
}

export function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  const e = relError(a, b);
  if (!(e < tol)) throw new Error(`${what}: relative error ${e.toExponential(3)} >= ${tol}`);
}

/**
 * Central finite differences of a scalar function of `x` (float64), at `count` coordinates spread
 * over the array; returns [indices, numeric gradients].
 */
export function numericGrad(
  fn: () => number,
  x: Float64Array,
  count: number,
  seed: number,
  h = 1e-5,
): [number[], number[]] {
  const r = new Rng(seed, 11);
  const idx: number[] = [], grads: number[] = [];
  const n = Math.min(count, x.length);
  const picked = new Set<number>();
  while (picked.size < n) picked.add(Math.floor(r.uniform() * x.length));
  for (const i of [...picked].sort((a, b) => a - b)) {
    const old = x[i];
    x[i] = old + h;
    const up = fn();
    x[i] = old - h;
    const down = fn();
    x[i] = old;
    idx.push(i);
    grads.push((up - down) / (2 * h));
  }
  return [idx, grads];
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** The kernel variants the tests certify: each tile profile, and for LSTMs each way of running a scan. */
export interface Variant {
  name: string;
  policy: Partial<KernelPolicy>;
}

export const PROFILES: Variant[] = [
  { name: "software tiles", policy: { profile: "software" } },
  { name: "GPU tiles", policy: { profile: "gpu" } },
];

/**
 * The software tiles with every weight and map read from storage and no subgroup operations: by default
 * they read a weight of at most 64 KiB from a uniform buffer (src/engine/tiles.ts uniformWeightTiles),
 * the maps of convolutions and filter gradients from texture mirrors (textureReads) and, where the device
 * has subgroups, run filter gradients in their subgroup form (filterGradPlan), so the tests certify the
 * other forms too (paper-sized weights take the first, adapters without subgroups the last).
 */
export const STORAGE_WEIGHTS: Variant = {
  name: "software tiles, weights and maps in storage, no subgroups",
  policy: { profile: "software", weights: "storage", reads: "storage", subgroups: "off" },
};

/**
 * GPU tiles without subgroup operations: where the device offers them (lavapipe on Vulkan does), "GPU
 * tiles" takes the subgroup form of the filter gradient (src/engine/tiles.ts filterGradPlan), so the
 * kernel tests certify the form without them too.
 */
export const GPU_NO_SUBGROUPS: Variant = {
  name: "GPU tiles, no subgroups",
  policy: { profile: "gpu", subgroups: "off" },
};

/** The variants that matter for a model: both tile profiles, and for an LSTM model the per-step scan. */
export function modelVariants(kind: string): Variant[] {
  const perStep = { name: "per-step scan", policy: { scan: "per-step" as const } };
  return kind === "pixelcnn" ? PROFILES : [...PROFILES, perStep];
}
