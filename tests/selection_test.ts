/**
 * Validation in the training loop: the best model is kept by validation NLL, the learning-rate schedule
 * and early stopping follow the validations, and an interrupted run resumes all of it bit for bit. The
 * validation NLLs are scripted per step, so each test knows what the loop must do with them.
 */
import assert from "node:assert/strict";
import { bestPath, loadCheckpoint, loadModelFile } from "../src/harness/checkpoint.ts";
import { curvePath } from "../src/harness/curves.ts";
import { loadBinarizedMnist } from "../src/harness/datasets/mod.ts";
import type { ScheduleConfig } from "../src/harness/schedule.ts";
import { train, type TrainOptions } from "../src/harness/train.ts";
import { decodeModel } from "../src/models/checkpoint.ts";
import type { ModelConfig } from "../src/models/config.ts";
import { PixelModel } from "../src/models/model.ts";
import { testGpu } from "./util.ts";

const CFG: Partial<ModelConfig> & { kind: "pixelcnn" } = {
  kind: "pixelcnn",
  height: 28,
  width: 28,
  channels: 1,
  output: "binary",
  layers: 1,
  h: 4,
  outputMaps: 8,
};

async function setup() {
  const gpu = await testGpu();
  const t = await loadBinarizedMnist("test");
  const set = { ...t, count: 32, pixels: t.pixels.slice(0, 32 * 784), subset: true };
  const dir = await Deno.makeTempDir({ prefix: "pixelrnn-selection-" });
  const common = {
    set,
    batch: 8,
    optimizer: { kind: "rmsprop" as const, lr: 1e-3 },
    dataSeed: 3,
    progress: false,
  };
  return { gpu, dir, common };
}

/** The curve's lines without the wall-clock column, which no two runs share. */
async function curveLines(checkpoint: string): Promise<string[]> {
  const text = await Deno.readTextFile(curvePath(checkpoint));
  return text.trim().split("\n").map((l) => l.split(",").filter((_, i) => i !== 2).join(","));
}

Deno.test("the best model by validation NLL is kept next to the checkpoint, with its step and NLL", async () => {
  const { gpu, dir, common } = await setup();
  const path = `${dir}/run.safetensors`;
  const script: Record<number, number> = { 2: 100, 4: 90, 6: 95, 8: 92 };
  const weights: Record<number, Float32Array> = {};
  const model = PixelModel.create(gpu, CFG, 1);
  const t = await train({
    ...common,
    model,
    steps: 8,
    checkpoint: { path, every: 3 },
    curveEvery: 3,
    schedule: { decay: 1, evalEvery: 2 },
    validate: async (step) => {
      weights[step] = await model.store.valuesFlat();
      return script[step];
    },
  });
  assert.deepEqual([t.best, t.lastValid], [{ step: 4, value: 90 }, { step: 8, value: 92 }]);
  const file = bestPath(path);
  assert.equal(file, `${dir}/run.best.safetensors`);
  const best = decodeModel(await Deno.readFile(file), file);
  assert.deepEqual([best.metadata.kind, best.metadata.step, best.metadata.valid_nll], [
    "best-model",
    "4",
    "90",
  ]);
  assert.deepEqual(
    new Uint32Array(best.values.buffer),
    new Uint32Array(weights[4].buffer),
    "not step 4's weights",
  );
  assert.notDeepEqual(best.values, weights[8]);
  (await loadModelFile(gpu, file)).model.destroy();
  // Lines at every curve interval and every validation, the NLL only where one was taken.
  const lines = (await curveLines(path)).map((l) => l.split(","));
  assert.deepEqual(lines.map((c) => [c[0], c[4]]), [
    ["step", "valid_nll"],
    ["2", "100"],
    ["3", ""],
    ["4", "90"],
    ["6", "95"],
    ["8", "92"],
  ]);
  model.destroy();
});

const SCHEDULE: ScheduleConfig = {
  decay: 0.9,
  evalEvery: 2,
  plateau: { factor: 0.5, patience: 1 },
  stopPatience: 3,
};
/** Best at step 4, then three validations without a new best: a rate cut at 6, 8 and 10, a stop at 10. */
const SCRIPT: Record<number, number> = { 2: 100, 4: 90, 6: 95, 8: 96, 10: 97, 12: 50 };

Deno.test("schedule and early stopping: an interrupted run resumes to the same weights, rate, best and curve", async () => {
  const { gpu, dir, common } = await setup();
  const o = (path: string): Omit<TrainOptions, "model"> => ({
    ...common,
    steps: 20,
    checkpoint: { path, every: 4 },
    curveEvery: 1,
    schedule: SCHEDULE,
    validate: (step) => Promise.resolve(SCRIPT[step]),
  });
  const straight = PixelModel.create(gpu, CFG, 1);
  const a = await train({ ...o(`${dir}/a.safetensors`), model: straight });
  assert.equal(a.stopped, "early-stopped");
  assert.equal(a.steps, 10);
  let lr = 1e-3;
  for (let s = 1; s <= 10; s++) {
    lr *= 0.9;
    if (s >= 6 && s % 2 === 0) lr *= 0.5;
  }
  assert.equal(a.lr, lr);

  const path = `${dir}/b.safetensors`;
  let polls = 0;
  const first = PixelModel.create(gpu, CFG, 1);
  const b1 = await train({ ...o(path), model: first, shouldStop: () => ++polls === 7 });
  assert.deepEqual([b1.stopped, b1.steps, (await loadCheckpoint(path)).state.step], ["interrupted", 7, 7]);
  const resumed = PixelModel.create(gpu, CFG, 99);
  const b = await train({ ...o(path), model: resumed, resume: await loadCheckpoint(path) });
  assert.deepEqual([b.stopped, b.steps, b.lr, b.best], [a.stopped, a.steps, a.lr, a.best]);
  const [wa, wb] = [await straight.store.valuesFlat(), await resumed.store.valuesFlat()];
  assert.ok(
    new Uint32Array(wa.buffer).every((v, i) => v === new Uint32Array(wb.buffer)[i]),
    "weights differ",
  );
  assert.deepEqual(
    (await loadCheckpoint(path)).state.schedule,
    (await loadCheckpoint(`${dir}/a.safetensors`)).state.schedule,
  );
  const curve = await curveLines(path);
  assert.deepEqual(curve, await curveLines(`${dir}/a.safetensors`));
  assert.deepEqual(curve.slice(1).map((l) => Number(l.split(",")[0])), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

  // An early-stopped run stays stopped: resuming it trains no further.
  const again = await train({ ...o(path), model: resumed, resume: await loadCheckpoint(path) });
  assert.deepEqual([again.stopped, again.steps, again.losses.length], ["early-stopped", 10, 0]);
  assert.deepEqual(await curveLines(path), curve);
  for (const m of [straight, first, resumed]) m.destroy();
});
