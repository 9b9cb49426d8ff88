/**
 * The paper tier's training recipes. The paper gives the model sizes (most of them) and batch sizes,
 * but no learning rates, schedules or training lengths: its rates were "set by hand per dataset to the
 * highest values that allowed fast convergence". Where calibration runs on this project's code compared
 * the options (the MNIST rows' sizes and rates), the recipe takes the one that validated best and cites
 * the runs in its evidence; every other value rests on the reason it states. No run was long enough to
 * choose a schedule or a length, so every recipe stays provisional.
 */
import type { ModelConfig } from "../../models/config.ts";
import type { ScheduleConfig } from "../schedule.ts";
import type { CalibrationRun, Choice, Recipe } from "./types.ts";

export const PENDING =
  "Provisional: calibration runs on this project's code long enough to choose it are pending " +
  "(issue 15; the runs so far are the recipe's evidence).";

export type Size = Choice<{ layers: number; h: number }>;

/** The size of `model` as the paper gives it; `source` says where. */
export function paperSize(model: ModelConfig, source: string): Size {
  return { value: { layers: model.layers, h: model.h }, why: source };
}

/** A size the paper leaves open: the value taken and why. */
export function chosenSize(value: { layers: number; h: number }, why: string): Size {
  return { value, why: `[NS] ${why}` };
}

/** The rate where no calibration run chose one. */
const DEFAULT_LR: Choice<number> = {
  value: 1e-3,
  why: "[NS] RMSProp at 1e-3, a common rate for it; issue 15's independent runs of the MNIST PixelCNN " +
    `trained at this rate without diverging. The paper's rates are not given. ${PENDING}`,
};

/** What differs between datasets: the length and the validation interval, each with its reason. */
export interface DatasetPlan {
  maxSteps: Choice<number>;
  evalEvery: Choice<number>;
}

/**
 * A recipe whose schedule and length are not yet chosen from calibration runs; its size and rate may be
 * (`lr`, default RMSProp 1e-3), and `evidence` lists the runs behind them.
 */
export function provisionalRecipe(
  size: Size,
  plan: DatasetPlan,
  chosen: { lr?: Choice<number>; evidence?: CalibrationRun[] } = {},
): Recipe {
  return {
    status: "provisional",
    size,
    lr: chosen.lr ?? DEFAULT_LR,
    schedule: {
      value: { decay: 1, plateau: { factor: 0.5, patience: 2 } },
      why: "[NS] No per-step decay: in issue 15's independent MNIST PixelCNN runs a decay of 0.99997 per " +
        "step was within 0.3 nats of the constant rate. The rate halves after 2 validations without a new " +
        `best, so it acts only once validation stalls. ${PENDING}`,
    },
    evalEvery: plan.evalEvery,
    maxSteps: { ...plan.maxSteps, why: `[NS] ${plan.maxSteps.why} ${PENDING}` },
    patience: {
      value: 5,
      why: "[NS] 5 validations without a new best, which spans at least two halvings of the rate, before " +
        `training stops; the tested model is the best by validation NLL either way. ${PENDING}`,
    },
    evidence: chosen.evidence ?? [],
  };
}

/** The schedule the training loop follows for a recipe. */
export function recipeSchedule(r: Recipe): ScheduleConfig {
  return { ...r.schedule.value, evalEvery: r.evalEvery.value, stopPatience: r.patience.value };
}
