/**
 * Training steps: one submit per step with no buffer created inside the loop, bit-identical runs from
 * the same seed, and learning on real images.
 */
import assert from "node:assert/strict";
import { uploadDataset } from "../src/engine/ops/gather.ts";
import type { Tensor } from "../src/engine/tensor.ts";
import { loadBinarizedMnist } from "../src/harness/datasets/mod.ts";
import type { ModelConfig, ModelKind } from "../src/models/config.ts";
import { PixelModel } from "../src/models/model.ts";
import { Trainer } from "../src/models/trainer.ts";
import { testGpu } from "./util.ts";

const IMAGES = 64;

async function mnistSubset(): Promise<Uint8Array> {
  return (await loadBinarizedMnist("test")).pixels.subarray(0, IMAGES * 784);
}

function mnistModel(kind: ModelKind, layers = 1): Partial<ModelConfig> & { kind: ModelKind } {
  return { kind, height: 28, width: 28, channels: 1, output: "binary", layers, h: 8, outputMaps: 16 };
}

function batchAt(step: number, batch: number): Uint32Array {
  return Uint32Array.from({ length: batch }, (_, i) => (step * batch + i) % IMAGES);
}

async function train(kind: ModelKind, steps: number, data: Tensor, lr: number) {
  const gpu = await testGpu();
  const model = PixelModel.create(gpu, mnistModel(kind), 3);
  const trainer = new Trainer(model, { batch: 16, optimizer: { kind: "rmsprop", lr } });
  trainer.feeder.use(data);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const r = await trainer.step(batchAt(s, 16));
    if (r) losses.push(r.loss);
  }
  losses.push(...(await trainer.flush()).map((r) => r.loss));
  return { model, trainer, losses };
}

Deno.test("a training step creates no GPU buffer and returns every loss in order", async () => {
  const gpu = await testGpu();
  const data = uploadDataset(gpu, await mnistSubset(), 784);
  const { model, trainer, losses } = await train("row-lstm", 2, data, 1e-3);
  const before = gpu.buffersCreated;
  for (let s = 0; s < 6; s++) {
    const r = await trainer.step(batchAt(s, 16));
    if (r) losses.push(r.loss);
  }
  losses.push(...(await trainer.flush()).map((r) => r.loss));
  assert.equal(gpu.buffersCreated, before, "buffers were created inside the step loop");
  assert.equal(losses.length, 8);
  assert.ok(losses.every(Number.isFinite));
  trainer.destroy();
  model.destroy();
  data.buffer.destroy();
});

Deno.test("the same seed twice gives bit-identical weights", async () => {
  const gpu = await testGpu();
  const data = uploadDataset(gpu, await mnistSubset(), 784);
  const runs: { w: Uint32Array; losses: number[] }[] = [];
  for (let r = 0; r < 2; r++) {
    const { model, trainer, losses } = await train("diagonal-bilstm", 5, data, 1e-3);
    runs.push({ w: new Uint32Array((await model.store.valuesFlat()).buffer), losses });
    trainer.destroy();
    model.destroy();
  }
  assert.deepEqual(runs[0].losses, runs[1].losses);
  assert.ok(runs[0].w.every((v, i) => v === runs[1].w[i]), "weights differ between identical runs");
  data.buffer.destroy();
});

/**
 * A fixed set of 64 real binarized MNIST digits; a one-layer model with h = 8. The uniform model costs
 * 784 ln 2 = 543.4 nats per image; each model must reach under 160 nats (mean of the last 10 steps)
 * within 150 steps of batch 16 (RMSProp, lr 3e-3).
 */
const LEARN_THRESHOLD = 160;
for (const kind of ["pixelcnn", "row-lstm", "diagonal-bilstm"] as ModelKind[]) {
  Deno.test(`${kind} learns real MNIST digits: loss under ${LEARN_THRESHOLD} nats (uniform 543.4)`, async () => {
    const gpu = await testGpu();
    const data = uploadDataset(gpu, await mnistSubset(), 784);
    const { model, trainer, losses } = await train(kind, 150, data, 3e-3);
    const last = losses.slice(-10).reduce((a, b) => a + b, 0) / 10;
    console.log(`${kind}: first ${losses[0].toFixed(1)}, last-10 mean ${last.toFixed(1)} nats`);
    assert.ok(losses[0] > 400, `first loss ${losses[0]} should be near uniform`);
    assert.ok(last < LEARN_THRESHOLD, `mean of the last 10 losses ${last.toFixed(1)} >= ${LEARN_THRESHOLD}`);
    trainer.destroy();
    model.destroy();
    data.buffer.destroy();
  });
}
