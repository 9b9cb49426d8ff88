/**
 * What counts as divergence. A loss that is not finite, or over {@link EXPLOSION} times the uniform
 * model's, ends a run: a fresh model starts near the uniform model's loss and learning only lowers it,
 * so no run that learns gets there, and beyond it RMSProp's squared gradients soon overflow.
 */
import { inUnit, uniformNats, unitOf } from "./metrics.ts";
import type { ModelConfig } from "../models/config.ts";

/** How many times the uniform model's loss a training loss may reach before the run is stopped. */
export const EXPLOSION = 10;

export class TrainingDiverged extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrainingDiverged";
  }
}

/** Why a loss in nats per image means divergence, or null when it does not. */
export function lossProblem(cfg: ModelConfig, nats: number): string | null {
  const unit = unitOf(cfg);
  if (!Number.isFinite(nats)) return `${nats}`;
  const uniform = uniformNats(cfg);
  if (nats <= EXPLOSION * uniform) return null;
  const show = (x: number) => Number(inUnit(cfg, x).toPrecision(4));
  return `${show(nats)} ${unit}, over ${EXPLOSION}x the uniform model's ${show(uniform)} ${unit}`;
}
