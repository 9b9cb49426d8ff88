/** Progress of image drawing (rows done, sub-pixels/s, ETA) as a {@link DrawWatch}. */
import type { PixelModel } from "../models/model.ts";
import { drawImages, type DrawOptions, type DrawWatch } from "../models/sampler.ts";
import { Progress, type ProgressOutput } from "./progress.ts";

/** A watch printing progress under `label`; call `done()` once the drawing is over. */
export function drawProgress(
  model: PixelModel,
  label: string,
  out?: ProgressOutput,
): DrawWatch & { done(): void } {
  const c = model.config;
  let progress: Progress | null = null, rows = 0, batch = 0, t0 = 0;
  return {
    start(b, batches, rowsPerBatch) {
      batch = b;
      t0 = performance.now();
      progress = new Progress({
        total: batches * rowsPerBatch,
        unit: "row",
        label: batches > 1 ? `${label} (${batches} batches of ${b})` : `${label} (${b} images)`,
        out,
      });
    },
    row() {
      rows++;
      const seconds = (performance.now() - t0) / 1000;
      progress?.update(rows, { "sub-pixels/s": Math.round((rows * batch * c.width * c.channels) / seconds) });
    },
    done() {
      progress?.done();
    },
  };
}

/** {@link drawImages}, with progress under `label` when one is given. */
export async function drawShowing(
  model: PixelModel,
  count: number,
  o: DrawOptions,
  label?: string,
): Promise<Uint8Array> {
  const watch = label ? drawProgress(model, label) : undefined;
  const images = await drawImages(model, count, { ...o, watch });
  watch?.done();
  return images;
}
