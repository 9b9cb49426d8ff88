/**
 * Which kernel variants a device runs: the tile profile (register tiles for a CPU's SIMD lanes on a
 * software adapter, GPU tiles on a real GPU), how LSTM scans run, whether the software tiles read small
 * weights from a uniform buffer and the maps of convolutions and filter gradients from texture mirrors,
 * and whether kernels use subgroup operations where the device has them. Chosen by adapter class; the
 * environment variables PIXELRNN_PROFILE (software | gpu), PIXELRNN_SCAN (auto | whole | per-step),
 * PIXELRNN_WEIGHTS (uniform | storage), PIXELRNN_READS (texture | storage) and PIXELRNN_SUBGROUPS
 * (auto | off) force a variant, so that tests certify every variant on whatever adapter is at hand.
 */
import { type Gpu, GpuError } from "./device.ts";

export type ProfileName = "software" | "gpu";
export type ScanMode = "auto" | "whole" | "per-step";
/** Where convolutions read weights of at most 64 KiB from (see ConvSpec.uniformWeight). */
export type WeightSpace = "uniform" | "storage";
/** Where the software tiles' convolutions and filter gradients read their maps (see Graph.textureOf). */
export type ReadSpace = "texture" | "storage";
/** auto: the filter gradient takes its subgroup form where the device has subgroups; off: never. */
export type SubgroupUse = "auto" | "off";

export interface KernelPolicy {
  profile: ProfileName;
  scan: ScanMode;
  weights: WeightSpace;
  reads: ReadSpace;
  subgroups: SubgroupUse;
}

const PROFILES: readonly ProfileName[] = ["software", "gpu"];
const SCANS: readonly ScanMode[] = ["auto", "whole", "per-step"];
const WEIGHTS: readonly WeightSpace[] = ["uniform", "storage"];
const READS: readonly ReadSpace[] = ["texture", "storage"];
const SUBGROUPS: readonly SubgroupUse[] = ["auto", "off"];

function choice<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  let v: string | undefined;
  try {
    v = Deno.env.get(name);
  } catch {
    // Without env permission the adapter's default holds.
  }
  if (v === undefined || v === "") return fallback;
  if (!allowed.includes(v as T)) {
    throw new GpuError(`${name}=${JSON.stringify(v)}: expected one of ${allowed.join(", ")}`);
  }
  return v as T;
}

/**
 * The policy for an adapter: software tiles and per-step scans on a software adapter (or any GL
 * backend), GPU tiles and scans chosen by shape elsewhere; unless forced. Mesa compiles a barrier in a
 * shader as an LLVM coroutine, and a whole-scan kernel keeps its register tiles live across a barrier per
 * step: lavapipe was still compiling the CIFAR-10 Diagonal BiLSTM's whole scan after 9 minutes, and on
 * GL a 2-step MNIST Row LSTM run took 8 minutes, against seconds per step.
 */
export function defaultPolicy(fallback: boolean, backend: string): KernelPolicy {
  return {
    profile: choice("PIXELRNN_PROFILE", PROFILES, fallback ? "software" : "gpu"),
    scan: choice("PIXELRNN_SCAN", SCANS, fallback || backend === "gl" ? "per-step" : "auto"),
    weights: choice("PIXELRNN_WEIGHTS", WEIGHTS, "uniform"),
    reads: choice("PIXELRNN_READS", READS, "texture"),
    subgroups: choice("PIXELRNN_SUBGROUPS", SUBGROUPS, "auto"),
  };
}

/** Builds with the device's kernel policy changed (graphs read it when they are recorded). */
export function withPolicy<T>(gpu: Gpu, policy: Partial<KernelPolicy>, build: () => T): T {
  const old = gpu.policy;
  gpu.policy = { ...old, ...policy };
  try {
    return build();
  } finally {
    gpu.policy = old;
  }
}
