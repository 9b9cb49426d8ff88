import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import type { Gpu } from "../src/engine/device.ts";
import { type Dispatch, Graph } from "../src/engine/graph.ts";
import { Optimizer, type OptimizerConfig, type OptimizerOptions } from "../src/engine/optim.ts";
import { ParamStore } from "../src/engine/params.ts";
import { optimizerStepRef } from "../src/engine/reference/optim.ts";
import { Rng } from "../src/engine/rng.ts";
import { Tensor } from "../src/engine/tensor.ts";
import { assertClose, f32, f64, randomArray, testGpu } from "./util.ts";

const RMSPROP: OptimizerConfig = { kind: "rmsprop", lr: 0.01 };
const ADAM: OptimizerConfig = { kind: "adam", lr: 0.01 };

/** Three parameters, the middle one masked (the same mask for every seed), padded to 256 flat entries. */
function makeStore(gpu: Gpu, seed: number, masked: boolean): ParamStore {
  const s = new ParamStore();
  s.declare("a", [3, 5], { kind: "uniform", scale: 0.5 });
  const r = new Rng(5);
  const mask = masked ? Float32Array.from({ length: 72 }, () => (r.uniform() < 0.5 ? 0 : 1)) : undefined;
  s.declare("masked", [3, 3, 2, 4], { kind: "uniform", scale: 0.5 }, mask);
  s.declare("b", [7], { kind: "constant", value: 0.1 });
  s.allocate(gpu, seed);
  return s;
}

function submit(gpu: Gpu, list: Dispatch[]): void {
  const enc = gpu.device.createCommandEncoder();
  Graph.encode(enc, "optimizer", [list]);
  gpu.device.queue.submit([enc.finish()]);
}

function readValues(gpu: Gpu, store: ParamStore): Promise<Float32Array> {
  return new Tensor(gpu, "values", [store.length], store.values!, 0).read();
}

/** The bytes of some float arrays, for bit-exact comparisons. */
function bytes(...arrays: Float32Array[]): Uint8Array[] {
  return arrays.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/** Writes step `k`'s gradients (nonzero everywhere, masked entries included) and runs one update. */
function step(opt: Optimizer, store: ParamStore, k: number): Float64Array {
  const grads = randomArray(store.length, 1000 + k);
  opt.gpu.device.queue.writeBuffer(store.grads!, 0, f32(grads) as Float32Array<ArrayBuffer>);
  opt.prepareStep();
  submit(opt.gpu, opt.dispatches());
  return grads;
}

async function setup(config: OptimizerConfig, masked: boolean, options: OptimizerOptions = {}, seed = 1) {
  const gpu = await testGpu();
  const store = makeStore(gpu, seed, masked);
  return { gpu, store, opt: new Optimizer(gpu, store, config, options) };
}

for (const config of [RMSPROP, ADAM]) {
  for (const masked of [true, false]) {
    // 384-byte bindings split the 256 parameters into several dispatches.
    for (const maxBindingBytes of [384, undefined]) {
      const what = `${config.kind}${masked ? " masked" : ""}, ${maxBindingBytes ? "split" : "one"} range`;
      Deno.test(`optimizer ${what}: each step matches the float64 reference`, async () => {
        const { gpu, store, opt } = await setup(config, masked, { maxBindingBytes });
        if (maxBindingBytes) ok(opt.dispatches().length > 1, "the update was not split");
        const mask = masked ? store.flatMask() : undefined;
        const names = config.kind === "rmsprop" ? ["v"] : ["m", "v"];
        for (let k = 1; k <= 4; k++) {
          const before = await opt.readState();
          const w0 = f64(await readValues(gpu, store));
          const ref = {
            w: Float64Array.from(w0),
            m: f64(before.buffers.m ?? new Float32Array(store.length)),
            v: f64(before.buffers.v),
          };
          const grads = step(opt, store, k);
          optimizerStepRef(opt.config, ref, grads, k, mask);
          const w1 = f64(await readValues(gpu, store));
          const after = await opt.readState();
          equal(after.step, k);
          assertClose(w1, ref.w, 1e-4, `step ${k} weights`);
          assertClose(w1.map((w, i) => w - w0[i]), ref.w.map((w, i) => w - w0[i]), 1e-4, `step ${k} update`);
          for (const n of names) {
            assertClose(f64(after.buffers[n]), ref[n as "m" | "v"], 1e-4, `step ${k} ${n}`);
          }
          if (mask) ok(w1.every((w, i) => mask[i] !== 0 || w === 0), `step ${k}: a masked weight moved`);
        }
        opt.destroy();
        store.destroy();
        gpu.check("optimizer test");
      });
    }
  }
}

Deno.test("optimizer: the same seed and gradients give identical bytes", async () => {
  const runs: Uint8Array[][] = [];
  for (let r = 0; r < 2; r++) {
    const { gpu, store, opt } = await setup(ADAM, true, { maxBindingBytes: 384 }, 7);
    for (let k = 1; k <= 3; k++) step(opt, store, k);
    const s = await opt.readState();
    runs.push(bytes(await readValues(gpu, store), s.buffers.m, s.buffers.v));
    opt.destroy();
    store.destroy();
  }
  deepStrictEqual(runs[0], runs[1]);
});

for (const config of [RMSPROP, ADAM]) {
  Deno.test(`optimizer ${config.kind}: readState / loadState round trip continues identically`, async () => {
    const a = await setup(config, true);
    for (let k = 1; k <= 3; k++) step(a.opt, a.store, k);
    const saved = await a.opt.readState();
    const values = await readValues(a.gpu, a.store);

    const b = await setup(config, true, {}, 99);
    b.store.load(b.gpu, values);
    b.opt.loadState(saved);
    equal(b.opt.step, 3);
    for (let k = 4; k <= 5; k++) {
      step(a.opt, a.store, k);
      step(b.opt, b.store, k);
    }
    deepStrictEqual(bytes(await readValues(b.gpu, b.store)), bytes(await readValues(a.gpu, a.store)));
    const [sa, sb] = [await a.opt.readState(), await b.opt.readState()];
    equal(sb.step, sa.step);
    for (const n of Object.keys(sa.buffers)) deepStrictEqual(bytes(sb.buffers[n]), bytes(sa.buffers[n]));
    throws(
      () => b.opt.loadState({ step: 1, buffers: { w: new Float32Array(b.store.length) } }),
      /state buffers/,
    );
    for (const x of [a, b]) x.opt.destroy(), x.store.destroy();
  });
}

Deno.test("optimizer: bad hyper-parameters are rejected naming the optimizer and the value", async () => {
  const gpu = await testGpu();
  const store = makeStore(gpu, 3, false);
  const bad: [OptimizerConfig, RegExp][] = [
    [{ kind: "rmsprop", lr: 0 }, /rmsprop: lr .* got 0/],
    [{ kind: "rmsprop", lr: NaN }, /rmsprop: lr .* got NaN/],
    [{ kind: "rmsprop", lr: 0.1, decay: 1 }, /rmsprop: decay must be in \[0, 1\), got 1/],
    [{ kind: "rmsprop", lr: 0.1, eps: -1e-8 }, /rmsprop: eps .* got -1e-8/],
    [{ kind: "adam", lr: Infinity }, /adam: lr .* got Infinity/],
    [{ kind: "adam", lr: 1e-3, beta1: -0.1 }, /adam: beta1 must be in \[0, 1\), got -0.1/],
    [{ kind: "adam", lr: 1e-3, beta2: 1.5 }, /adam: beta2 must be in \[0, 1\), got 1.5/],
    [{ kind: "adam", lr: 1e-3, eps: 0 }, /adam: eps .* got 0/],
  ];
  const before = gpu.buffersCreated;
  for (const [config, msg] of bad) throws(() => new Optimizer(gpu, store, config), msg);
  equal(gpu.buffersCreated, before, "a rejected optimizer allocated buffers");
  const opt = new Optimizer(gpu, store, { kind: "adam", lr: 1e-3 });
  throws(() => (opt.lr = -1), /adam: lr .* got -1/);
  opt.destroy();
  store.destroy();
});
