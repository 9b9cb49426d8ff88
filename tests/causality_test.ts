/**
 * Causality certificates and exact receptive fields, for every model type on binary and RGB data.
 *
 * For each sub-pixel k of a random 8x8 image, a copy with k changed is evaluated in the same batch as
 * the original. For every target sub-pixel t (pixel i, colour c):
 *   - if k is at or after t in generation order, the logits of t must be bit-identical (causality);
 *   - otherwise the test records whether they changed, and the resulting influence map must equal the
 *     context derived by hand from the architecture (below), at every position.
 */
import assert from "node:assert/strict";
import { Rng } from "../src/engine/rng.ts";
import type { ModelConfig, ModelKind } from "../src/models/config.ts";
import { PixelModel } from "../src/models/model.ts";
import { modelVariants, testGpu, withPolicy } from "./util.ts";
import { randomizeParams, writeImages } from "./model_util.ts";

const N = 8;
const LAYERS = 2;
/** Random (weights, image) draws whose influence maps are united (a dependency must show in one). */
const TRIALS = 4;

/**
 * Does pixel (r + dy, c + dx) (dy <= 0, earlier in raster order) influence pixel (r, c)?
 *
 * The 7x7 mask-A input layer reaches rows -3..-1 at columns -3..3 and row 0 at columns -3..-1.
 * - Diagonal BiLSTM: every earlier sub-pixel but one. The left direction covers the up-left quadrant and
 *   the right direction, shifted down a row, everything above to the right; but the last sub-pixel of the
 *   row above (pixel (r - 1, n - 1), its last colour) is in no feature of row r - 1 (features are causal;
 *   its earlier colours do enter that pixel's later colour groups), so it reaches row r only through the
 *   7x7 input window at columns >= n - 4, and from there only rightwards. Sub-pixels of (r, c) with
 *   c < n - 4 never see it, however many layers.
 * - Row LSTM: a layer adds its row-above triangle (row -k at columns -k..k) and one column to the left in
 *   the current row (masked 3x1 input-to-state), so after L layers row -K spans columns
 *   -(K + L + 3)..max(3, K + 2) and row 0 spans -(L + 3)..-1.
 * - PixelCNN: each block's masked 3x3 adds row -1 at -1..1 and row 0 at -1, so after L blocks row -K
 *   (K <= L + 3) spans -(L + 3)..min(K + 2, L + 3) and row 0 spans -(L + 3)..-1: a bounded field with a
 *   blind spot to the upper right.
 */
function sees(
  kind: ModelKind,
  [r, c]: number[],
  [rs, cs]: number[],
  lastColour: boolean,
  L: number,
): boolean {
  const dy = rs - r, dx = cs - c;
  if (dy > 0 || (dy === 0 && dx >= 0)) return false;
  if (kind === "diagonal-bilstm") return !(dy === -1 && cs === N - 1 && lastColour && c < N - 4);
  if (dy === 0) return dx >= -(L + 3);
  const K = -dy;
  if (kind === "row-lstm") return dx >= -(K + L + 3) && dx <= Math.max(3, K + 2);
  return K <= L + 3 && dx >= -(L + 3) && dx <= Math.min(K + 2, L + 3);
}

/** Expected influence of sub-pixel k on target t (indices in generation order (r * N + c) * C + ch). */
function expected(kind: ModelKind, C: number, t: number, k: number): boolean {
  const pt = Math.floor(t / C), pk = Math.floor(k / C);
  if (pt === pk) return k % C < t % C;
  const at = (p: number) => [Math.floor(p / N), p % N];
  return sees(kind, at(pt), at(pk), k % C === C - 1, LAYERS);
}

const KINDS: ModelKind[] = ["pixelcnn", "row-lstm", "diagonal-bilstm"];

/** [kind, RGB?, conditional (multi-scale large model, with a fixed random 4x4 image)?] */
const CASES: [ModelKind, boolean, boolean][] = [
  ...KINDS.flatMap((k): [ModelKind, boolean, boolean][] => [[k, false, false], [k, true, false]]),
  ["row-lstm", true, true],
  ["diagonal-bilstm", true, true],
];

for (const [kind, rgb, conditional] of CASES) {
  {
    const name = `${kind} ${rgb ? "RGB" : "binary"}${conditional ? " conditional" : ""} 8x8`;
    Deno.test(`${name}: causal at every sub-pixel, context exactly as derived`, async () => {
      const gpu = await testGpu();
      const C = rgb ? 3 : 1, levels = rgb ? 256 : 2, per = rgb ? 256 : 1;
      const cfg: Partial<ModelConfig> & { kind: ModelKind } = {
        kind,
        height: N,
        width: N,
        channels: C,
        output: rgb ? "softmax256" : "binary",
        layers: LAYERS,
        // Colour groups need enough maps each that random ReLUs rarely cut every path of a dependency.
        h: 8,
        outputMaps: 24,
        conditioning: conditional ? { factor: 2, maps: 8 } : null,
      };
      const model = PixelModel.create(gpu, cfg, 1);
      const rng = new Rng(42, kind.length + C);
      const S = N * N * C;
      const mg = model.buildGraph(S + 1, false);
      // The other kernel variants (tile profiles, scan modes) are held to causality on the first trial.
      const differs = (policy: Record<string, string>) =>
        Object.entries(policy).some(([k, v]) => (gpu.policy as unknown as Record<string, string>)[k] !== v);
      const others = modelVariants(kind).filter((v) => differs(v.policy))
        .map((v) => ({ name: v.name, mg: withPolicy(gpu, v.policy, () => model.buildGraph(S + 1, false)) }));
      const influence = new Uint8Array(S * S);
      for (let trial = 0; trial < TRIALS; trial++) {
        // New weights each trial too: near the borders pre-activations are bias-dominated, and one draw
        // can keep a ReLU closed for every image.
        randomizeParams(model, rng);
        const base = Uint8Array.from({ length: S }, () => Math.floor(rng.uniform() * levels));
        const batch = new Uint8Array((S + 1) * S);
        for (let b = 0; b <= S; b++) batch.set(base, b * S);
        for (let k = 0; k < S; k++) {
          const o = (k + 1) * S + k;
          batch[o] = (base[k] + 1 + Math.floor(rng.uniform() * (levels - 1))) % levels;
        }
        // The conditioning image is given in full, the same for every copy: it must add no path from x.
        const smallOne = Uint8Array.from({ length: S / 4 }, () => Math.floor(rng.uniform() * levels));
        const small = new Uint8Array((S / 4) * (S + 1));
        for (let b = 0; b <= S; b++) small.set(smallOne, (b * S) / 4);
        const img = S * per;
        for (const o of trial === 0 ? others : []) {
          writeImages(model, o.mg, batch, small);
          o.mg.graph.run(o.mg.graph.forward);
          const bits = new Uint32Array((await o.mg.logits.read()).buffer);
          for (let k = 0; k < S; k++) {
            for (let t = 0; t <= k; t++) {
              for (let j = t * per; j < (t + 1) * per; j++) {
                assert.ok(bits[j] === bits[(k + 1) * img + j], `${o.name}: sub-pixel ${k} changed ${t}`);
              }
            }
          }
        }
        writeImages(model, mg, batch, small);
        mg.graph.run(mg.graph.forward);
        const bits = new Uint32Array((await mg.logits.read()).buffer);
        for (let k = 0; k < S; k++) {
          for (let t = 0; t < S; t++) {
            let same = true;
            for (let j = t * per; j < (t + 1) * per && same; j++) same = bits[j] === bits[(k + 1) * img + j];
            if (k >= t) assert.ok(same, `sub-pixel ${k} (at or after ${t}) changed the distribution of ${t}`);
            else if (!same) influence[t * S + k] = 1;
          }
        }
      }
      const wrong: string[] = [];
      for (let t = 0; t < S; t++) {
        for (let k = 0; k < t; k++) {
          const want = expected(kind, C, t, k);
          if (want !== (influence[t * S + k] === 1) && wrong.length < 8) {
            wrong.push(`t=${t} k=${k}: expected ${want ? "influence" : "none"}`);
          }
        }
      }
      assert.deepEqual(wrong, [], `influence map differs from the derived context: ${wrong.join("; ")}`);
      mg.graph.destroy();
      for (const o of others) o.mg.graph.destroy();
      model.destroy();
    });
  }
}
