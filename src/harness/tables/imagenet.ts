/** Table 6: downsampled ImageNet, validation NLL in bits/dim (training NLL in brackets). */
import type { ModelConfig } from "../../models/config.ts";
import { presetByName } from "../../models/presets.ts";
import { paperSize, provisionalRecipe } from "./recipes.ts";
import { tierRuns } from "./runs.ts";
import type { PaperTable } from "./types.ts";

/**
 * Training images the paper tier holds out to select its checkpoint on (the valid split is the one
 * Table 6 reports): enough for a stable NLL, under 1% of the 1.28 M.
 */
export const IMAGENET_HELD_OUT = 10_000;

function table(
  id: string,
  size: number,
  preset: string,
  paper: number,
  paperTrain: number,
  batch: number,
  layers: number,
): PaperTable {
  const p = presetByName(preset);
  const model: ModelConfig = p.config;
  const images = (100_000 * batch / 1e6).toFixed(1);
  const recipe = provisionalRecipe(paperSize(model, `The paper's: ${p.note}`), {
    maxSteps: { value: 100_000, why: `100,000 steps of batch ${batch} (${images} M images).` },
    evalEvery: {
      value: 5000,
      why:
        `Every ${5000 * batch / 1000}k training images, the last ${IMAGENET_HELD_OUT.toLocaleString("en")} ` +
        "training images, held out (the valid split is the reported one).",
    },
  });
  return {
    id,
    title: `Table 6: ImageNet ${size}x${size}, validation NLL (training NLL in brackets)`,
    dataset: id as "imagenet32" | "imagenet64",
    split: "valid",
    unit: "bits/dim",
    note: "The paper's downsampled ImageNet (PNG folders or tars of train and valid); the later " +
      "Chrabaszcz et al. npz release is read too but labelled not comparable. Paper tier: the row's recipe " +
      `(provisional: at most 100,000 steps of batch ${batch}, RMSProp 1e-3 halved on validation plateaus, ` +
      `validation on the last ${
        IMAGENET_HELD_OUT.toLocaleString("en")
      } training images, which training then ` +
      "leaves out, every 5,000 steps, early stopping; the reported NLL is the best validation checkpoint's); " +
      `quick tier: a ${layers}-layer h = 16 Row LSTM, 300 steps, evaluated on the first 1,000 validation images.`,
    rows: [{
      id: `row-lstm-${size}`,
      label: `${size}x${size}`,
      paper,
      paperTrain,
      tiers: tierRuns({
        model,
        batch,
        smoke: { layers: 1, h: 6, outputMaps: 12 },
        quick: { layers, h: 16, outputMaps: 64 },
        quickSteps: 300,
        quickEvalImages: 1000,
        recipe,
        bands: { smoke: [1, 8], quick: [1, 6] },
        tolerance: 0.05,
        trainMetric: true,
      }),
    }],
  };
}

export const IMAGENET32_TABLE = table("imagenet32", 32, "imagenet32-row-lstm", 3.86, 3.83, 64, 2);
export const IMAGENET64_TABLE = table("imagenet64", 64, "imagenet64-row-lstm", 3.63, 3.57, 32, 2);
