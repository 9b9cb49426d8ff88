/**
 * Whole models on the GPU against the float64 reference executor: per-image NLL, and the gradient of
 * the training loss (mean NLL over the batch) against central finite differences of the reference.
 */
import assert from "node:assert/strict";
import { Rng } from "../src/engine/rng.ts";
import type { ModelConfig, ModelKind } from "../src/models/config.ts";
import { PixelModel } from "../src/models/model.ts";
import { referenceNll } from "../src/models/reference.ts";
import { assertClose, modelVariants, testGpu, withPolicy } from "./util.ts";
import { randomizeParams, writeImages } from "./model_util.ts";

const KINDS: ModelKind[] = ["pixelcnn", "row-lstm", "diagonal-bilstm"];

function tiny(
  kind: ModelKind,
  rgb: boolean,
  conditional = false,
): Partial<ModelConfig> & { kind: ModelKind } {
  return {
    kind,
    height: 6,
    width: 6,
    channels: rgb ? 3 : 1,
    output: rgb ? "softmax256" : "binary",
    layers: 2,
    h: 4,
    outputMaps: 8,
    conditioning: conditional ? { factor: 2, maps: 4 } : null,
  };
}

/** Random images; with `f` > 1 the f-times smaller images a conditional model reads. */
function randomImages(count: number, cfg: ModelConfig, rng: Rng, f = 1): Uint8Array {
  const levels = cfg.output === "binary" ? 2 : 256;
  return Uint8Array.from(
    { length: (count * cfg.height * cfg.width * cfg.channels) / (f * f) },
    () => Math.floor(rng.uniform() * levels),
  );
}

const CASES: [ModelKind, boolean, boolean][] = [
  ...KINDS.flatMap((k): [ModelKind, boolean, boolean][] => [[k, false, false], [k, true, false]]),
  ["row-lstm", true, true],
  ["diagonal-bilstm", false, true],
];

for (const [kind, rgb, conditional] of CASES) {
  {
    const name = `${kind} ${rgb ? "RGB" : "binary"}${conditional ? " conditional (multi-scale)" : ""}`;

    // Every kernel variant the model can run with (tile profiles, scan modes) against one reference.
    Deno.test(`${name}: GPU per-image NLL equals the float64 reference, every kernel variant`, async () => {
      const gpu = await testGpu();
      const model = PixelModel.create(gpu, tiny(kind, rgb, conditional), 1);
      const rng = new Rng(5, kind.length);
      const flat = randomizeParams(model, rng);
      const B = 3;
      const images = randomImages(B, model.config, rng);
      const small = conditional ? randomImages(B, model.config, rng, 2) : undefined;
      const ref = referenceNll(model.config, model.store, flat, images, B, small);
      for (const v of modelVariants(kind)) {
        const mg = withPolicy(gpu, v.policy, () => model.buildGraph(B, false));
        writeImages(model, mg, images, small);
        mg.graph.run(mg.graph.forward);
        assertClose(await mg.nll.read(), ref, 1e-4, `per-image NLL (${v.name})`);
        mg.graph.destroy();
      }
      model.destroy();
    });

    Deno.test(`${name}: whole-model gradient matches finite differences of the reference, every kernel variant`, async () => {
      const gpu = await testGpu();
      const model = PixelModel.create(gpu, tiny(kind, rgb, conditional), 2);
      const rng = new Rng(6, kind.length);
      const flat = Float64Array.from(randomizeParams(model, rng, 0.7));
      const B = 2;
      const images = randomImages(B, model.config, rng);
      const small = conditional ? randomImages(B, model.config, rng, 2) : undefined;
      const variants = modelVariants(kind);
      const grads: Float32Array[] = [];
      for (const v of variants) {
        const mg = withPolicy(gpu, v.policy, () => model.buildGraph(B, true));
        writeImages(model, mg, images, small);
        mg.graph.run(mg.graph.forward, mg.graph.backward);
        grads.push(await model.store.gradTensorFlat());
        mg.graph.destroy();
      }

      // Probe a few unmasked entries of every parameter. ReLUs make the loss piecewise smooth: a probe
      // whose one-sided slopes disagree straddles a kink, where no derivative exists, and is skipped.
      const loss = () => {
        const nll = referenceNll(model.config, model.store, flat, images, B, small);
        return nll.reduce((a, b) => a + b, 0) / B;
      };
      const f0 = loss();
      const ana: number[][] = variants.map(() => []), num: number[] = [];
      const h = 1e-6;
      let kinks = 0;
      for (const p of model.store.infos) {
        for (let probe = 0; probe < 3; probe++) {
          const i = p.offset + Math.floor(rng.uniform() * p.size);
          if (p.mask && !p.mask[i - p.offset]) continue;
          const old = flat[i];
          flat[i] = old + h;
          const up = loss();
          flat[i] = old - h;
          const down = loss();
          flat[i] = old;
          const right = (up - f0) / h, left = (f0 - down) / h;
          if (Math.abs(right - left) > 1e-4 * Math.max(1, Math.abs(right))) {
            kinks++;
            continue;
          }
          num.push((up - down) / (2 * h));
          grads.forEach((g, k) => ana[k].push(g[i]));
        }
      }
      assert.ok(kinks <= num.length / 10, `${kinks} of ${num.length + kinks} probes straddle a kink`);
      variants.forEach((v, k) =>
        assertClose(ana[k], num, 2e-3, `dLoss/dparams at ${num.length} probes (${v.name})`)
      );
      model.destroy();
    });
  }
}
