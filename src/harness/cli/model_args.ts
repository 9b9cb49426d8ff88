/** Command-line choice of a model: a preset, optionally resized. */
import { type ModelConfig, resolveModelConfig } from "../../models/config.ts";
import { MULTISCALE_PRESET, type Preset, presetByName, PRESETS } from "../../models/presets.ts";
import { positiveInt, UsageError } from "./common.ts";

export const MODEL_OPTIONS = {
  preset: { type: "string" },
  part: { type: "string" },
  layers: { type: "string" },
  h: { type: "string" },
  "output-maps": { type: "string" },
  "no-residual": { type: "boolean" },
  "no-skip": { type: "boolean" },
} as const;

export const MODEL_HELP = `  --preset NAME     one of: ${
  [...PRESETS.map((p) => p.name), MULTISCALE_PRESET.name].join(", ")
}
  --part P          with ${MULTISCALE_PRESET.name}: small (the unconditional 32x32 model, trained on
                    subsampled images) or large (the conditional 64x64 model)
  --layers N, --h N, --output-maps N, --no-residual, --no-skip
                    change the preset's size or connections`;

/** The multi-scale preset's part as a preset of its own. */
function multiScalePart(part: unknown): Preset {
  if (part !== "small" && part !== "large") {
    throw new UsageError(`${MULTISCALE_PRESET.name} needs --part small or --part large`);
  }
  const m = MULTISCALE_PRESET;
  return {
    name: `${m.name}-${part}`,
    dataset: m.dataset,
    batch: m.batch,
    config: m.config[part],
    note: m.note,
  };
}

/**
 * The preset and its config with the command-line changes applied; `part` is set for a part of the
 * Multi-Scale PixelRNN.
 */
export function modelFromArgs(
  a: Record<string, unknown>,
): { preset: Preset; config: ModelConfig; part?: "small" | "large" } {
  if (typeof a.preset !== "string") throw new UsageError("--preset is required");
  let preset: Preset;
  try {
    preset = a.preset === MULTISCALE_PRESET.name ? multiScalePart(a.part) : presetByName(a.preset);
  } catch (e) {
    if (e instanceof UsageError) throw e;
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
  return {
    preset,
    config,
    part: a.preset === MULTISCALE_PRESET.name ? a.part as "small" | "large" : undefined,
  };
}
