/**
 * Checkpoint selection in the paper tier: the images a run selects its checkpoint on and the training
 * images left to it (binarized MNIST's official valid split; CIFAR-10 the last tenth of train, the
 * validation split Tables 2-3 report, see cifarValidation; downsampled ImageNet the last
 * {@link IMAGENET_HELD_OUT} training images, since its valid split is the one Table 6 reports), and the
 * choice of the weights that are tested.
 */
import type { PixelModel } from "../models/model.ts";
import { bestPath, loadWeights } from "./checkpoint.ts";
import { DatasetError, type ImageSet } from "./datasets/mod.ts";
import type { Validation } from "./schedule.ts";
import { cifarValidation, type DataOptions, firstImages, loadSplit, type TableData } from "./table_data.ts";
import { IMAGENET_HELD_OUT } from "./tables/imagenet.ts";
import type { PaperTable } from "./tables/types.ts";
import type { TrainSummary } from "./train.ts";

export interface SelectionData {
  train: ImageSet;
  valid: ImageSet;
}

export async function selectionData(
  table: PaperTable,
  data: TableData,
  o: DataOptions,
): Promise<SelectionData> {
  switch (table.dataset) {
    case "binarized-mnist":
      return { train: data.train, valid: await loadSplit(table.dataset, "valid", o) };
    case "cifar10":
      // Tables 2-3 already train on the first 90% and report the last 10%: [I] selection uses it too.
      return table.split === "valid" ? { train: data.train, valid: data.eval } : cifarValidation(data.train);
    default: {
      const n = data.train.count, held = IMAGENET_HELD_OUT;
      if (n <= held) {
        throw new DatasetError(
          `${
            data.train.files[0] ?? data.train.name
          }: ${n} training images, validation holds out the last ${held}`,
        );
      }
      return {
        train: firstImages(data.train, n - held, `train (all but the last ${held})`),
        valid: firstImages(data.train, held, `train (last ${held}, held out for validation)`, n - held),
      };
    }
  }
}

/** The validation NLLs a row's results state: of the weights tested (the best) and of the last step's. */
export interface Selection {
  best: Validation;
  last: Validation;
}

/**
 * Puts the best weights by validation NLL into `model`, which holds the last step's: those, unless an
 * earlier validation of the run (whose model is kept next to `checkpoint`) was better. `validate`
 * measures the weights in `model`, for a last step that was not validated.
 */
export async function selectBest(
  model: PixelModel,
  t: TrainSummary,
  checkpoint: string,
  validate: () => Promise<number>,
): Promise<Selection> {
  const last = t.lastValid?.step === t.steps ? t.lastValid : { step: t.steps, value: await validate() };
  if (!t.best || t.best.step === last.step || last.value < t.best.value) return { best: last, last };
  await loadWeights(model, bestPath(checkpoint));
  return { best: t.best, last };
}
