/**
 * Drawing more images than one batch holds (issue 9: `--count N` in batches that fit the adapter): the
 * batches draw what separate samplers draw from their streams, a partial last batch included, and a batch
 * over the storage binding limit is cut to the largest that fits.
 */
import assert from "node:assert/strict";
import { Rng } from "../src/engine/rng.ts";
import { BatchLimitError, layoutOf } from "../src/models/incremental_layout.ts";
import { IncrementalSampler } from "../src/models/incremental_sampler.ts";
import { PixelModel } from "../src/models/model.ts";
import { createSampler, drawImages, fittedSampler, STREAM_STEP } from "../src/models/sampler.ts";
import { randomizeParams } from "./model_util.ts";
import { testGpu } from "./util.ts";

const RGB = {
  kind: "row-lstm" as const,
  height: 4,
  width: 4,
  channels: 3 as const,
  output: "softmax256" as const,
  layers: 2,
  h: 4,
  outputMaps: 8,
};

async function model(): Promise<PixelModel> {
  const m = PixelModel.create(await testGpu(), RGB, 1);
  randomizeParams(m, new Rng(7));
  return m;
}

Deno.test("drawImages: 5 images in batches of 2 are what samplers of 2 draw from streams 0, 1, 2 steps on", async () => {
  const m = await model();
  const per = 4 * 4 * 3;
  const prefix = Uint8Array.from({ length: 5 * per }, (_, i) => (i * 37) % 256);
  const o = { seed: 9, stream: 3, prefix, keepRows: 2 };
  const rows: number[] = [];
  const got = await drawImages(m, 5, {
    ...o,
    batch: 2,
    watch: { start: (b, n, r) => rows.push(b, n, r), row: () => rows.push(-1) },
  });
  assert.deepEqual(rows.slice(0, 3), [2, 3, 2], "batch 2, 3 batches, 2 generated rows each");
  assert.equal(rows.length, 3 + 3 * 2, "one call per generated row");
  const s = createSampler(m, 2);
  for (let k = 0; k < 3; k++) {
    const n = Math.min(2, 5 - 2 * k);
    // The last batch's second image is a copy of its first, drawn and dropped.
    const p = new Uint8Array(2 * per);
    for (let i = 0; i < 2; i++) {
      p.set(prefix.subarray((2 * k + Math.min(i, n - 1)) * per).subarray(0, per), i * per);
    }
    const want = await s.sample({ ...o, prefix: p, stream: 3 + k * STREAM_STEP });
    assert.deepEqual(got.subarray(2 * k * per, (2 * k + n) * per), want.subarray(0, n * per), `batch ${k}`);
  }
  s.destroy();
  // Given rows are kept as they were.
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(
      got.subarray(i * per, i * per + 2 * 4 * 3),
      prefix.subarray(i * per, i * per + 2 * 4 * 3),
    );
  }
  m.destroy();
});

Deno.test("a batch over the storage binding limit: the error names the largest batch that fits", async () => {
  const m = await model();
  const one = new IncrementalSampler(m, 1), plan = one.plan;
  one.destroy();
  const canvas = { batch: 40, height: 4, width: 4, group: 8 };
  const perImage = layoutOf(plan, { ...canvas, batch: 8 }, 2 ** 30);
  const bytes = (images: number) => perImage.rows * perImage.cols * perImage.record * 4 * images;
  // Room for 20 images: the largest whole number of workgroups of 8 is 16.
  const limit = bytes(20);
  let fits = 0;
  assert.throws(() => layoutOf(plan, canvas, limit), (err: unknown) => {
    assert.ok(err instanceof BatchLimitError);
    assert.match(err.message, /40 images need \d+ bytes of resident state/);
    fits = err.fits;
    return true;
  });
  assert.equal(fits, 16);
  layoutOf(plan, { ...canvas, batch: fits }, limit);
  assert.throws(() => layoutOf(plan, { ...canvas, batch: fits + 1 }, limit), BatchLimitError);
  // Below one workgroup: as many images as fit.
  assert.throws(
    () => layoutOf(plan, canvas, bytes(5)),
    (err: unknown) => (err as BatchLimitError).fits === 5,
  );
  layoutOf(plan, { ...canvas, batch: 5 }, bytes(5));
  m.destroy();
});

Deno.test("fittedSampler: the wanted batch when it fits", async () => {
  const m = await model();
  const s = fittedSampler(m, 3);
  assert.equal(s.batch, 3);
  s.destroy();
  const q = fittedSampler(m, 3, true);
  assert.equal(q.batch, 3);
  q.destroy();
  m.destroy();
});
