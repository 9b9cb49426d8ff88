/**
 * The one NLL path's units: nats per image for binary MNIST, bits per dimension for natural images
 * (paper §5.1), the uniform model every trained model must beat, and the plausibility alarm that stops
 * a run on impossible values.
 */
import { levels, type ModelConfig } from "../models/config.ts";

export type Unit = "nats" | "bits/dim";

export function unitOf(cfg: ModelConfig): Unit {
  return cfg.output === "binary" ? "nats" : "bits/dim";
}

/** Converts a per-image NLL in nats to the table's unit. */
export function inUnit(cfg: ModelConfig, natsPerImage: number): number {
  if (unitOf(cfg) === "nats") return natsPerImage;
  return natsPerImage / (cfg.height * cfg.width * cfg.channels * Math.LN2);
}

/** Converts a value in the table's unit back to nats per image (the inverse of {@link inUnit}). */
export function natsOf(cfg: ModelConfig, value: number): number {
  if (unitOf(cfg) === "nats") return value;
  return value * cfg.height * cfg.width * cfg.channels * Math.LN2;
}

/** NLL of the uniform model in nats per image: every sub-pixel equally likely among its levels. */
export function uniformNats(cfg: ModelConfig): number {
  return cfg.height * cfg.width * cfg.channels * Math.log(levels(cfg));
}

export class ImplausibleResult extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImplausibleResult";
  }
}

/**
 * Throws on values no correct evaluation can produce: non-finite or negative NLLs, under 40 nats on
 * binarized MNIST (the best published results are near 77), under 1 bit/dim on 8-bit images (the best
 * published CIFAR-10 results are near 2.8).
 */
export function checkPlausible(cfg: ModelConfig, value: number, what: string): void {
  const unit = unitOf(cfg);
  const floor = unit === "nats" ? 40 : 1;
  if (!Number.isFinite(value) || value < floor) {
    throw new ImplausibleResult(
      `${what}: ${value} ${unit} is implausible (below ${floor} ${unit} or not finite); refusing to report it`,
    );
  }
}
