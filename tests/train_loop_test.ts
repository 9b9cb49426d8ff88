/**
 * The training loop and evaluation: exact resume, divergence stop that keeps only checkpoints that
 * passed the check and says truthfully which, whole-set evaluation with exact denominators (against the
 * float64 reference), chunked datasets.
 */
import assert from "node:assert/strict";
import { CheckpointError } from "../src/engine/safetensors.ts";
import { loadCheckpoint, loadModelFile, saveCheckpoint } from "../src/harness/checkpoint.ts";
import { loadBinarizedMnist } from "../src/harness/datasets/mod.ts";
import type { ImageSet } from "../src/harness/datasets/types.ts";
import { evaluate } from "../src/harness/evaluate.ts";
import { checkPlausible, ImplausibleResult } from "../src/harness/metrics.ts";
import { train, TrainingDiverged } from "../src/harness/train.ts";
import type { ModelConfig } from "../src/models/config.ts";
import { PixelModel } from "../src/models/model.ts";
import { referenceNll } from "../src/models/reference.ts";
import { assertClose, testGpu } from "./util.ts";

const CFG: Partial<ModelConfig> & { kind: "row-lstm" } = {
  kind: "row-lstm",
  height: 28,
  width: 28,
  channels: 1,
  output: "binary",
  layers: 1,
  h: 4,
  outputMaps: 8,
};

async function mnist(count: number): Promise<ImageSet> {
  const t = await loadBinarizedMnist("test");
  return { ...t, count, pixels: t.pixels.slice(0, count * 784), subset: true };
}

async function tempPath(): Promise<string> {
  return `${await Deno.makeTempDir({ prefix: "pixelrnn-test-" })}/ckpt.safetensors`;
}

const OPT = { kind: "rmsprop" as const, lr: 1e-3 };

Deno.test("N steps straight equal N/2 + checkpoint + resume + N/2, bit for bit (chunked data)", async () => {
  const gpu = await testGpu();
  const set = await mnist(80);
  // 784-byte images in chunks of at most 24 images: 4 chunks, so the cursor crosses chunk boundaries.
  const common = { set, batch: 8, optimizer: OPT, dataSeed: 9, progress: false, maxChunkBytes: 24 * 784 };
  const straight = PixelModel.create(gpu, CFG, 1);
  await train({ ...common, model: straight, steps: 8 });
  const a = new Uint32Array((await straight.store.valuesFlat()).buffer);

  const path = await tempPath();
  const first = PixelModel.create(gpu, CFG, 1);
  const half = await train({ ...common, model: first, steps: 4, checkpoint: { path, every: 100 } });
  assert.equal(half.steps, 4);
  const resumed = PixelModel.create(gpu, CFG, 77); // different init: everything must come from the file
  const ckpt = await loadCheckpoint(path);
  assert.equal(ckpt.state.step, 4);
  await train({ ...common, model: resumed, steps: 8, resume: ckpt });
  const b = new Uint32Array((await resumed.store.valuesFlat()).buffer);
  assert.ok(a.every((v, i) => v === b[i]), "resumed weights differ from the straight run");
  for (const m of [straight, first, resumed]) m.destroy();
});

Deno.test("a loss over 10x the uniform model's stops a fresh run, which says no checkpoint was written", async () => {
  const gpu = await testGpu();
  const set = await mnist(32);
  const path = await tempPath();
  const model = PixelModel.create(gpu, CFG, 1);
  await assert.rejects(
    train({
      model,
      set,
      batch: 8,
      optimizer: { kind: "rmsprop", lr: 1e30 },
      steps: 20,
      dataSeed: 1,
      progress: false,
      checkpoint: { path, every: 1 },
    }),
    (e: Error) =>
      e instanceof TrainingDiverged && /^training diverged at step \d+: /.test(e.message) &&
      e.message.endsWith(`no checkpoint passed the check, so none was written to ${path}`),
  );
  await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  model.destroy();
});

Deno.test("diverging after a resume keeps the good checkpoint byte for byte, and it evaluates", async () => {
  const gpu = await testGpu();
  const set = await mnist(32);
  const path = await tempPath();
  const common = { set, batch: 8, dataSeed: 1, progress: false, checkpoint: { path, every: 2 } };
  const model = PixelModel.create(gpu, CFG, 1);
  await train({ ...common, model, optimizer: OPT, steps: 2 });
  const good = await Deno.readFile(path);
  await assert.rejects(
    train({
      ...common,
      model,
      optimizer: { kind: "rmsprop", lr: 1e30 },
      steps: 20,
      resume: await loadCheckpoint(path),
    }),
    (e: Error) =>
      e instanceof TrainingDiverged &&
      e.message.endsWith(`the last good checkpoint (step 2) is kept at ${path}`),
  );
  assert.deepEqual(await Deno.readFile(path), good);
  const { model: kept } = await loadModelFile(gpu, path);
  const r = await evaluate(kept, set, { batch: 8, progress: false });
  assert.ok(r.value > 40 && r.value < 543.4 * 10, `${r.value} nats`);
  for (const m of [model, kept]) m.destroy();
});

Deno.test("non-finite optimizer state is never written, and a file holding it is refused", async () => {
  const gpu = await testGpu();
  const set = await mnist(16);
  const path = await tempPath();
  const common = {
    set,
    batch: 8,
    optimizer: OPT,
    dataSeed: 1,
    progress: false,
    checkpoint: { path, every: 1 },
  };
  const model = PixelModel.create(gpu, CFG, 1);
  await train({ ...common, model, steps: 1 });
  const good = await Deno.readFile(path);
  const ckpt = await loadCheckpoint(path);
  // An infinite RMSProp mean square freezes its weight (the update divides by it): weights and losses
  // stay finite, and only the state shows the damage.
  ckpt.state.optimizerState.buffers.v[0] = Infinity;
  await assert.rejects(
    train({ ...common, model, steps: 3, resume: ckpt }),
    (e: Error) =>
      e instanceof TrainingDiverged && /at step 2: 1 optimizer values are not finite/.test(e.message),
  );
  assert.deepEqual(await Deno.readFile(path), good);
  await saveCheckpoint(path, model, ckpt.state);
  await assert.rejects(
    loadCheckpoint(path),
    (e: Error) =>
      e instanceof CheckpointError && e.message.includes(`${path}: 1 of `) && /not finite/.test(e.message),
  );
  model.destroy();
});

Deno.test("a truncated checkpoint or a plain model file is refused with a message naming it", async () => {
  const gpu = await testGpu();
  const set = await mnist(16);
  const path = await tempPath();
  const model = PixelModel.create(gpu, CFG, 1);
  await train({
    model,
    set,
    batch: 8,
    optimizer: OPT,
    steps: 2,
    dataSeed: 1,
    progress: false,
    checkpoint: { path, every: 2 },
  });
  const bytes = await Deno.readFile(path);
  await Deno.writeFile(path, bytes.subarray(0, bytes.length - 100));
  await assert.rejects(
    loadCheckpoint(path),
    (e: Error) => e instanceof CheckpointError && e.message.includes(path),
  );
  await assert.rejects(loadCheckpoint(`${path}.missing`), (e: Error) => e instanceof CheckpointError);
  model.destroy();
});

Deno.test("evaluation counts every image once and equals the float64 reference mean", async () => {
  const gpu = await testGpu();
  const set = await mnist(37);
  const model = PixelModel.create(gpu, CFG, 4);
  const values = await model.store.valuesFlat();
  const ref = referenceNll(model.config, model.store, values, set.pixels, set.count);
  const want = ref.reduce((a, b) => a + b, 0) / set.count;
  for (const maxChunkBytes of [undefined, 10 * 784]) {
    const r = await evaluate(model, set, { batch: 16, progress: false, maxChunkBytes });
    assert.equal(r.count, 37);
    assertClose([r.natsPerImage], [want], 1e-4, `mean NLL (chunk cap ${maxChunkBytes})`);
    assert.equal(r.unit, "nats");
  }
  model.destroy();
});

Deno.test("the plausibility alarm refuses impossible values", () => {
  const rgb = { channels: 3, output: "softmax256", height: 32, width: 32 } as ModelConfig;
  const bin = { channels: 1, output: "binary", height: 28, width: 28 } as ModelConfig;
  assert.throws(() => checkPlausible(rgb, 0.8, "cifar10 test"), ImplausibleResult);
  assert.throws(() => checkPlausible(bin, 12, "mnist test"), ImplausibleResult);
  assert.throws(() => checkPlausible(bin, NaN, "mnist test"), ImplausibleResult);
  checkPlausible(rgb, 3.1, "cifar10 test");
  checkPlausible(bin, 85, "mnist test");
});
