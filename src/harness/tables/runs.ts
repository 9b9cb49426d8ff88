/** Builders for the per-tier runs of a table row, so each table states only what differs. */
import type { OptimizerConfig } from "../../engine/optim.ts";
import { type ModelConfig, resolveModelConfig } from "../../models/config.ts";
import type { TierRun } from "./types.ts";

type Overrides = Partial<ModelConfig>;

/** [NS] RMSProp learning rates: the paper gives none ("set by hand ... to the highest values that allowed fast convergence"). */
export const PAPER_OPTIMIZER: OptimizerConfig = { kind: "rmsprop", lr: 1e-3 };
export const QUICK_OPTIMIZER: OptimizerConfig = { kind: "rmsprop", lr: 2e-3 };

export interface RowPlan {
  /** The paper's model. */
  model: ModelConfig;
  batch: number;
  smoke: Overrides;
  quick: Overrides;
  quickSteps: number;
  quickEvalImages?: number;
  paperSteps: number;
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
    },
    quick: {
      model: with_(p.quick),
      batch: p.batch,
      steps: p.quickSteps,
      optimizer: QUICK_OPTIMIZER,
      evalImages: p.quickEvalImages,
      band: p.bands.quick,
    },
    paper: {
      model: p.model,
      batch: p.batch,
      steps: p.paperSteps,
      optimizer: PAPER_OPTIMIZER,
      tolerance: p.tolerance,
      trainMetric: p.trainMetric,
    },
  };
}
