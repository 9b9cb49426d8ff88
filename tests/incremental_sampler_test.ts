/**
 * The incremental sampler against the sequential one (one full forward pass per sub-pixel), for every
 * kind, binary and RGB, the Multi-Scale conditional model, and completions of given rows, under both
 * kernel profiles: same seed and stream, so both consume the same random numbers.
 *
 * Checks, per case: every generated sub-pixel's logits (what its draw read) within a relative 1e-5 of
 * the sequential sampler's, and the images equal. A draw could legitimately differ only where u lies
 * within the logits' difference of a boundary of the CDF: for every sub-pixel whose logits differ at
 * all, the test asserts that u is clear of every boundary by more than that difference can move one
 * (the decision margin of the float64 pick, against 4 x the largest logit difference plus float32 CDF
 * rounding). Where the logits agree bit for bit, the same kernel draws the same value from the same u.
 */
import assert from "node:assert/strict";
import { Rng } from "../src/engine/rng.ts";
import { sampleBernoulliRef, sampleCategoricalRef, sampleUniform } from "../src/engine/reference/sample.ts";
import type { ModelConfig, ModelKind } from "../src/models/config.ts";
import { IncrementalSampler } from "../src/models/incremental_sampler.ts";
import { PixelModel } from "../src/models/model.ts";
import { Sampler } from "../src/models/sampler.ts";
import type { ImageSampler, SampleOptions } from "../src/models/sampling.ts";
import { randomizeParams } from "./model_util.ts";
import { PROFILES, testGpu, withPolicy } from "./util.ts";

const LOGIT_TOLERANCE = 1e-5;
/** Rounding of a float32 inverse CDF over 256 terms, well above what it accumulates. */
const CDF_ROUNDING = 1e-6;

interface Case {
  kind: ModelKind;
  rgb: boolean;
  conditional?: boolean;
}

function config(c: Case): Partial<ModelConfig> & { kind: ModelKind } {
  const n = c.rgb ? 4 : 6;
  return {
    kind: c.kind,
    height: n,
    width: n,
    channels: c.rgb ? 3 : 1,
    output: c.rgb ? "softmax256" : "binary",
    layers: 2,
    h: 4,
    outputMaps: 8,
    conditioning: c.conditional ? { factor: 2, maps: 4 } : null,
  };
}

interface Run {
  images: Uint8Array;
  logits: Float32Array;
}

async function run(s: ImageSampler, o: SampleOptions): Promise<Run> {
  const images = await s.sample(o);
  return { images, logits: await s.readLogits() };
}

/**
 * Compares two runs over the generated rows: logits within tolerance, images equal, and no draw whose
 * logits differ close enough to a CDF boundary to make the equality luck.
 */
function compare(model: PixelModel, seq: Run, inc: Run, o: SampleOptions, batch: number): void {
  const c = model.config;
  const levels = c.output === "binary" ? 1 : 256;
  const per = c.height * c.width * c.channels;
  const from = (o.keepRows ?? 0) * c.width * c.channels;
  let scale = 0, worst = 0, close = 0;
  for (const v of seq.logits) scale = Math.max(scale, Math.abs(v));
  for (let b = 0; b < batch; b++) {
    for (let s = from; s < per; s++) {
      const at = (b * per + s) * levels;
      const want = seq.logits.subarray(at, at + levels), got = inc.logits.subarray(at, at + levels);
      let diff = 0;
      for (let k = 0; k < levels; k++) diff = Math.max(diff, Math.abs(got[k] - want[k]));
      worst = Math.max(worst, diff);
      if (diff === 0) continue;
      const u = sampleUniform(o.seed, o.stream ?? 0, b, s);
      const pick = levels === 1 ? sampleBernoulliRef(want[0], u) : sampleCategoricalRef(want, u);
      if (pick.margin <= 4 * diff + CDF_ROUNDING) close++;
    }
  }
  console.log("worst", worst, "scale", scale);
  assert.ok(worst <= LOGIT_TOLERANCE * scale, `logits differ by ${worst} (scale ${scale})`);
  assert.equal(
    close,
    0,
    `${close} draws fall within the logits' difference of a CDF boundary: choose another seed`,
  );
  assert.deepEqual(inc.images, seq.images);
}

const CASES: Case[] = [
  ...(["pixelcnn", "row-lstm", "diagonal-bilstm"] as const).flatMap((kind) => [
    { kind, rgb: false },
    { kind, rgb: true },
  ]),
  { kind: "row-lstm", rgb: true, conditional: true },
  { kind: "diagonal-bilstm", rgb: false, conditional: true },
];

for (const c of CASES) {
  const name = `${c.kind} ${c.rgb ? "RGB" : "binary"}${c.conditional ? " conditional" : ""}`;
  Deno.test(`incremental sampler, ${name}: the sequential sampler's images and logits`, async () => {
    const gpu = await testGpu();
    const model = PixelModel.create(gpu, config(c), 1);
    const rng = new Rng(11, c.kind.length + (c.rgb ? 3 : 1));
    randomizeParams(model, rng);
    const cfg = model.config, B = 3;
    const per = cfg.height * cfg.width * cfg.channels, levels = c.rgb ? 256 : 2;
    const random = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rng.uniform() * levels));
    const small = c.conditional ? random(B * per / 4) : undefined;
    const seq = new Sampler(model, B);
    const runs: SampleOptions[] = [
      { seed: 1234, stream: 3, small },
      // A completion: the top half given, the rest generated.
      { seed: 99, stream: 1, small, prefix: random(B * per), keepRows: cfg.height / 2 },
    ];
    const want = [];
    for (const o of runs) want.push(await run(seq, o));
    seq.destroy();
    // Both kernel profiles: one kernel per layer (software) and one fused kernel per sub-pixel (GPU).
    // The fused one, slow to compile here, on every binary case and the cheapest RGB one: between them
    // every layer kind, colour groups and conditioning.
    const fused = !c.rgb || c.kind === "pixelcnn";
    for (const { policy } of PROFILES.filter((p) => fused || p.policy.profile === "software")) {
      const inc = withPolicy(gpu, policy, () => new IncrementalSampler(model, B));
      for (const [i, o] of runs.entries()) compare(model, want[i], await run(inc, o), o, B);
      inc.destroy();
    }
    model.destroy();
  });
}
