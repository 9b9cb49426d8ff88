/** Command-line choice of a model: a preset, optionally resized. */
import { type ModelConfig, resolveModelConfig } from "../../models/config.ts";
import { type Preset, presetByName, PRESETS } from "../../models/presets.ts";
import { positiveInt, UsageError } from "./common.ts";

export const MODEL_OPTIONS = {
  preset: { type: "string" },
  layers: { type: "string" },
  h: { type: "string" },
  "output-maps": { type: "string" },
  "no-residual": { type: "boolean" },
  "no-skip": { type: "boolean" },
} as const;

export const MODEL_HELP = `  --preset NAME     one of: ${PRESETS.map((p) => p.name).join(", ")}
  --layers N, --h N, --output-maps N, --no-residual, --no-skip
                    change the preset's size or connections`;

/** The preset and its config with the command-line changes applied. */
export function modelFromArgs(a: Record<string, unknown>): { preset: Preset; config: ModelConfig } {
  if (typeof a.preset !== "string") throw new UsageError("--preset is required");
  let preset: Preset;
  try {
    preset = presetByName(a.preset);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const c = preset.config;
  const config = resolveModelConfig({
    ...c,
    layers: positiveInt("layers", a.layers as string | undefined, c.layers),
    h: positiveInt("h", a.h as string | undefined, c.h),
    outputMaps: positiveInt("output-maps", a["output-maps"] as string | undefined, c.outputMaps),
    residual: a["no-residual"] ? false : c.residual,
    skip: a["no-skip"] ? false : c.skip,
  });
  return { preset, config };
}
