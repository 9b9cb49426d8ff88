/**
 * A model's training step and evaluation batch as the dispatch lists Trainer.step and
 * Evaluator.submit encode (batch gather from a resident dataset, forward, backward, optimizer), minus
 * the 4-bytes-per-image loss readback, so a bench can repeat them inside one submit.
 */
import type { Dispatch } from "../src/engine/graph.ts";
import { uploadDataset } from "../src/engine/ops/gather.ts";
import type { Tensor } from "../src/engine/tensor.ts";
import { evalLists, trainLists } from "../src/models/cost.ts";
import { Evaluator } from "../src/models/evaluator.ts";
import type { PixelModel } from "../src/models/model.ts";
import { Trainer } from "../src/models/trainer.ts";

/** Images in the random resident dataset the steps gather from. */
const DATASET_IMAGES = 64;

function randomDataset(model: PixelModel): Tensor {
  const c = model.config;
  const bytes = c.height * c.width * c.channels;
  const levels = c.output === "binary" ? 2 : 256;
  const pixels = Uint8Array.from(
    { length: DATASET_IMAGES * bytes },
    () => Math.floor(Math.random() * levels),
  );
  return uploadDataset(model.gpu, pixels, bytes, "bench dataset");
}

function indices(batch: number): Uint32Array {
  return Uint32Array.from({ length: batch }, (_, i) => i % DATASET_IMAGES);
}

/** One RMSProp training step of `batch` images (the optimizer's uniform is written once). */
export function trainStep(model: PixelModel, batch: number): Dispatch[][] {
  const tr = new Trainer(model, { batch, optimizer: { kind: "rmsprop", lr: 1e-4 } });
  tr.feeder.use(randomDataset(model));
  tr.feeder.set(indices(batch));
  tr.optimizer.prepareStep();
  return trainLists(tr);
}

/** One evaluation batch (per-image NLLs, forward only). */
export function evalStep(model: PixelModel, batch: number): Dispatch[][] {
  const ev = new Evaluator(model, batch);
  ev.use(randomDataset(model));
  ev.feeder.set(indices(batch));
  return evalLists(ev);
}
