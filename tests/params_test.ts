/**
 * Parameter counts of every paper preset against formulas written out here, independently of the
 * architecture code: all weights (masked ones included) and trainable weights (those no mask pins).
 */
import assert from "node:assert/strict";
import type { ModelConfig } from "../src/models/config.ts";
import { declareParams, largestBatch, paramCounts } from "../src/models/model.ts";
import { PRESETS } from "../src/models/presets.ts";

/** Channels of each colour group for a map of c channels: contiguous thirds, extras to the first. */
function groupSizes(c: number, groups: number): number[] {
  const sizes = new Array(groups).fill(0);
  for (let i = 0; i < c; i++) sizes[Math.floor((groups * i) / c)]++;
  return sizes;
}

/** Centre-tap connections a mask allows between cin and cout channels. */
function centre(cin: number, cout: number, groups: number, type: "A" | "B"): number {
  const a = groupSizes(cin, groups), b = groupSizes(cout, groups);
  let n = 0;
  for (let go = 0; go < groups; go++) {
    for (let gi = 0; gi < groups; gi++) if (type === "A" ? gi < go : gi <= go) n += a[gi] * b[go];
  }
  return n;
}

/** [total, trainable] of a masked conv with bias: past taps are free, the centre is masked. */
function masked(
  kh: number,
  kw: number,
  cin: number,
  cout: number,
  groups: number,
  type: "A" | "B",
  bias = true,
) {
  const past = Math.floor(kh / 2) * kw + Math.floor(kw / 2);
  const b = bias ? cout : 0;
  return [kh * kw * cin * cout + b, past * cin * cout + centre(cin, cout, groups, type) + b];
}

/** Gate maps: four blocks of h with the groups of h, so each block's centre counts as a map of h. */
function gates(cin: number, h: number, blocks: number, groups: number, kw: number) {
  const past = Math.floor(kw / 2);
  return [kw * cin * blocks * h, past * cin * blocks * h + blocks * centre(cin, h, groups, "B")];
}

function expected(c: ModelConfig): [number, number] {
  const G = c.channels === 3 ? 3 : 1, h = c.h, two = 2 * h, D = c.outputMaps;
  const out = c.output === "binary" ? c.channels : 256 * c.channels;
  const parts: number[][] = [masked(7, 7, c.channels, two, G, "A")];
  for (let l = 0; l < c.layers; l++) {
    if (c.kind === "pixelcnn") {
      parts.push(masked(1, 1, two, h, G, "B"), masked(3, 3, h, h, G, "B"), masked(1, 1, h, two, G, "B"));
    } else {
      const z = c.kind === "row-lstm" ? 1 : 2, taps = c.kind === "row-lstm" ? 3 : 2;
      parts.push(gates(two, h, 4 * z, G, c.kind === "row-lstm" ? 3 : 1));
      const free = z * (taps * h * 4 * h + 4 * h + 2 * h); // s-s kernel, gate bias, h0, c0: unmasked
      parts.push([free, free], masked(1, 1, h, two, G, "B"));
    }
    if (c.skip) parts.push(masked(1, 1, two, two, G, "B"));
  }
  parts.push(masked(1, 1, two, D, G, "B"), masked(1, 1, D, D, G, "B"));
  // Logits: colour c's 256 maps are group c.
  const logitCentre = c.channels === 3
    ? [0, 1, 2].reduce((s, g) => s + 256 * groupSizes(D, 3).slice(0, g + 1).reduce((a, b) => a + b), 0)
    : D * out;
  parts.push([D * out + out, logitCentre + out]);
  return [parts.reduce((s, p) => s + p[0], 0), parts.reduce((s, p) => s + p[1], 0)];
}

for (const p of PRESETS) {
  Deno.test(`parameter count of ${p.name} equals the formula`, () => {
    const rows = paramCounts(declareParams(p.config));
    const total = rows.reduce((s, r) => s + r.total, 0),
      trainable = rows.reduce((s, r) => s + r.trainable, 0);
    const [wantTotal, wantTrainable] = expected(p.config);
    assert.equal(total, wantTotal, "all weights");
    assert.equal(trainable, wantTrainable, "trainable weights");
    console.log(`${p.name}: ${total} weights, ${trainable} trainable`);
  });
}

Deno.test("the largest batch that fits a binding limit is set by the widest activation", () => {
  // CIFAR-10 Row LSTM: the widest map of an image is the output head's 1024 channels over 32x32.
  const cfg = PRESETS.find((p) => p.name === "cifar10-row-lstm")!.config;
  const perImage = 32 * 32 * 1024 * 4;
  assert.equal(largestBatch(cfg, 5 * perImage + 100, 16), 5);
  assert.equal(largestBatch(cfg, 5 * perImage - 4, 16), 4);
  assert.equal(largestBatch(cfg, 100 * perImage, 16), 16);
  assert.equal(largestBatch(cfg, 1, 16), 1);
});
