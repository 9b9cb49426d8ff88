/**
 * The configuration a paper preset runs at in the benchmarks: as it is on a real GPU; on a software
 * adapter the MNIST presets as they are, the CIFAR-10 presets at reduced width (named so in each row) and
 * the ImageNet presets not at all (too big).
 */
import type { Gpu } from "../src/engine/device.ts";
import type { ModelConfig } from "../src/models/config.ts";
import type { Preset } from "../src/models/presets.ts";

/** Width of the CIFAR-10 presets on a software adapter. */
export const REDUCED = { h: 16, outputMaps: 64 };

/** The configuration a preset runs at on this adapter and its row label, or null to skip it. */
export function benchConfig(gpu: Gpu, p: Preset): { config: ModelConfig; label: string } | null {
  if (!gpu.isFallback || p.dataset === "binarized-mnist") return { config: p.config, label: p.name };
  if (p.dataset === "cifar10") {
    return {
      config: { ...p.config, ...REDUCED },
      label: `${p.name} (reduced width h=${REDUCED.h}, outputMaps ${REDUCED.outputMaps})`,
    };
  }
  return null;
}
