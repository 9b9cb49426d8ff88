/**
 * Whether a model and a dataset belong together: the same image height, width and channels, and an
 * output for the values the images hold (a sigmoid for binary images, a 256-way softmax for 8-bit
 * ones). A model run on images of another shape would report a number that means nothing.
 */
import { levels, type ModelConfig } from "../models/config.ts";
import type { ImageSet } from "./datasets/types.ts";

/** A model and a dataset that do not fit each other; the message names both. */
export class MismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MismatchError";
  }
}

function shape(height: number, width: number, channels: number, values: number): string {
  return `${height}x${width}x${channels} ${values === 2 ? "binary" : `${values}-level`}`;
}

/**
 * Throws a {@link MismatchError} naming `model` (e.g. the checkpoint's path) and the set when the set's
 * images are not the ones the model was built for.
 */
export function checkFits(model: string, cfg: ModelConfig, set: ImageSet): void {
  const wanted = shape(cfg.height, cfg.width, cfg.channels, levels(cfg));
  const found = shape(set.height, set.width, set.channels, set.levels);
  if (wanted !== found) {
    throw new MismatchError(`${model} models ${wanted} images; ${set.name} ${set.split} images are ${found}`);
  }
}
