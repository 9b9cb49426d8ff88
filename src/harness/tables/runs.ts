/** Builders for the per-tier runs of a table row, so each table states only what differs. */
import type { OptimizerConfig } from "../../engine/optim.ts";
import { type ModelConfig, resolveModelConfig } from "../../models/config.ts";
import type { Recipe, TierRun } from "./types.ts";

type Overrides = Partial<ModelConfig>;

export const QUICK_OPTIMIZER: OptimizerConfig = { kind: "rmsprop", lr: 2e-3 };

/** Steps between learning-curve lines: every step of a smoke run, 30 lines of a quick one, 1,000 of a long paper run. */
const CURVE_EVERY = { smoke: 1, quick: 10, paper: 200 };

export interface RowPlan {
  /** The paper's model. */
  model: ModelConfig;
  batch: number;
  smoke: Overrides;
  quick: Overrides;
  quickSteps: number;
  quickEvalImages?: number;
  /** How the paper tier trains (its size, rate, schedule and length). */
  recipe: Recipe;
  bands: { smoke: [number, number]; quick: [number, number] };
  tolerance: number;
  trainMetric?: boolean;
}

export function tierRuns(p: RowPlan): Record<"smoke" | "quick" | "paper", TierRun> {
  const with_ = (o: Overrides) => resolveModelConfig({ ...p.model, ...o });
  return {
    smoke: {
      model: with_(p.smoke),
      batch: 4,
      steps: 8,
      optimizer: { kind: "rmsprop", lr: 3e-3 },
      trainImages: 48,
      heldOut: 16,
      band: p.bands.smoke,
      curveEvery: CURVE_EVERY.smoke,
    },
    quick: {
      model: with_(p.quick),
      batch: p.batch,
      steps: p.quickSteps,
      optimizer: QUICK_OPTIMIZER,
      evalImages: p.quickEvalImages,
      band: p.bands.quick,
      curveEvery: CURVE_EVERY.quick,
    },
    paper: {
      model: with_(p.recipe.size.value),
      batch: p.batch,
      steps: p.recipe.maxSteps.value,
      optimizer: { kind: "rmsprop", lr: p.recipe.lr.value },
      tolerance: p.tolerance,
      trainMetric: p.trainMetric,
      curveEvery: CURVE_EVERY.paper,
      recipe: p.recipe,
    },
  };
}
