/** Table 6: downsampled ImageNet, validation NLL in bits/dim (training NLL in brackets). */
import type { ModelConfig } from "../../models/config.ts";
import { presetByName } from "../../models/presets.ts";
import { tierRuns } from "./runs.ts";
import type { PaperTable } from "./types.ts";

function table(
  id: string,
  size: number,
  preset: string,
  paper: number,
  paperTrain: number,
  batch: number,
  layers: number,
): PaperTable {
  const model: ModelConfig = presetByName(preset).config;
  return {
    id,
    title: `Table 6: ImageNet ${size}x${size}, validation NLL (training NLL in brackets)`,
    dataset: id as "imagenet32" | "imagenet64",
    split: "valid",
    unit: "bits/dim",
    note: "The paper's downsampled ImageNet (PNG folders or tars of train and valid); the later " +
      "Chrabaszcz et al. npz release is read too but labelled not comparable. Paper tier: 100,000 steps " +
      `of batch ${batch} with RMSProp lr 1e-3 [NS]; quick tier: a ${layers}-layer h = 16 Row LSTM, 300 ` +
      "steps, evaluated on the first 1,000 validation images.",
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
        paperSteps: 100_000,
        bands: { smoke: [1, 8], quick: [1, 6] },
        tolerance: 0.05,
        trainMetric: true,
      }),
    }],
  };
}

export const IMAGENET32_TABLE = table("imagenet32", 32, "imagenet32-row-lstm", 3.86, 3.83, 64, 2);
export const IMAGENET64_TABLE = table("imagenet64", 64, "imagenet64-row-lstm", 3.63, 3.57, 32, 2);
