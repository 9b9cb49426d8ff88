import { deepStrictEqual, equal, notDeepStrictEqual, ok, throws } from "node:assert/strict";
import { Graph } from "../src/engine/graph.ts";
import { recordSampleBernoulli, recordSampleCategorical, SampleRng } from "../src/engine/ops/sample.ts";
import {
  type Pick,
  sampleBernoulliRef,
  sampleCategoricalRef,
  sampleUniform,
} from "../src/engine/reference/sample.ts";
import { Rng, threefry2x32, unitFloat } from "../src/engine/rng.ts";
import { BUILTINS_1D, grid1d, linearIndex, u } from "../src/wgsl/common.ts";
import { RNG_WGSL } from "../src/wgsl/rng.ts";
import { f32, randomArray, testGpu } from "./util.ts";

type Kind = "categorical" | "bernoulli";
type Shape4 = [number, number, number, number];

Deno.test("rng: WGSL threefry2x32 and unitFloat equal the host functions bit for bit", async () => {
  const gpu = await testGpu();
  const r = new Rng(2024, 1);
  const quads: number[][] = [
    // Random123 known-answer vectors (key, counter) and edge values.
    [0, 0, 0, 0],
    [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    [0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3],
    [0x80000000, 1, 0x7fffffff, 0xfffffffe],
  ];
  while (quads.length < 4096) quads.push([...r.next(), ...r.next()]);
  const n = quads.length;
  const code = `
@group(0) @binding(0) var<storage, read> IN: array<vec4u>;
@group(0) @binding(1) var<storage, read_write> OUT: array<vec2u>;
@group(0) @binding(2) var<storage, read_write> UNIT: array<f32>;
${RNG_WGSL}
@compute @workgroup_size(64)
fn main(${BUILTINS_1D}) {
  let i = ${linearIndex(64)};
  if (i >= ${u(n)}) { return; }
  let q = IN[i];
  let r = threefry2x32(q.xy, q.zw);
  OUT[i] = r;
  UNIT[i] = unitFloat(r.x);
}`;
  const g = new Graph(gpu, "threefry test");
  const input = g.alloc("in", [n, 4], "u32"),
    out = g.alloc("out", [n, 2], "u32"),
    unit = g.alloc("unit", [n]);
  input.write(Uint32Array.from(quads.flat()));
  const kernel = { code, bindings: ["IN", "OUT", "UNIT"], workgroups: grid1d(n, 64), usesStep: false };
  g.dispatch("threefry", kernel, { IN: input, OUT: out, UNIT: unit });
  g.run(g.forward);
  const want = quads.flatMap(([k0, k1, c0, c1]) => threefry2x32(k0, k1, c0, c1));
  deepStrictEqual([...await out.readU32()], want);
  deepStrictEqual([...await unit.read()], want.filter((_, i) => i % 2 === 0).map(unitFloat));
  // Random123's kat_vectors for threefry2x32_20.
  deepStrictEqual(want.slice(0, 6), [0x6b200159, 0x99ba4efe, 0x1cb996fc, 0xbb002be7, 0xc4923a9c, 0x483df7a0]);
  g.destroy();
});

/** A sampler graph drawing every sub-pixel of [B,H,W,C] images in raster order from fixed logits. */
async function sampler(kind: Kind, shape: Shape4, logits: Float64Array, seed: number, stream = 0) {
  const gpu = await testGpu();
  const [B, H, W, C] = shape;
  const g = new Graph(gpu, `${kind} sampler`);
  const lt = g.alloc("logits", [B, H, W, C * (kind === "categorical" ? 256 : 1)]);
  lt.write(f32(logits));
  const image = g.alloc("image", shape, "u32"), input = g.alloc("input", shape);
  const rng = new SampleRng(g, H * W * C, seed, stream);
  const opts = { rng, inputScale: 1 / 255, inputShift: -0.5 };
  const record = kind === "categorical" ? recordSampleCategorical : recordSampleBernoulli;
  const pipelines = gpu.pipelineCount;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < C; c++) record(g, lt, y, x, c, image, input, opts);
    }
  }
  ok(gpu.pipelineCount - pipelines <= 1, "sampling dispatches need more than one pipeline");
  equal(g.forward.length, H * W * C);
  return {
    g,
    rng,
    async run() {
      g.run(g.forward);
      return { image: await image.readU32(), input: await input.read() };
    },
  };
}

/** The reference's pick for every sub-pixel of every image. */
function referencePicks(kind: Kind, shape: Shape4, logits: Float64Array, seed: number, stream = 0): Pick[] {
  const [B, H, W, C] = shape;
  const n = H * W * C;
  const picks: Pick[] = [];
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < n; s++) {
      const uu = sampleUniform(seed, stream, b, s);
      const i = b * n + s;
      picks.push(
        kind === "categorical"
          ? sampleCategoricalRef(logits.subarray(i * 256, i * 256 + 256), uu)
          : sampleBernoulliRef(logits[i], uu),
      );
    }
  }
  return picks;
}

/** GPU picks equal the reference wherever u is not within float32 rounding of a CDF boundary. */
function assertSamePicks(image: Uint32Array, input: Float32Array, picks: Pick[]): void {
  let close = 0;
  picks.forEach((p, i) => {
    if (p.margin < 1e-5) return void close++;
    equal(image[i], p.value, `sub-pixel ${i}: GPU picked ${image[i]}, reference ${p.value}`);
    equal(input[i], Math.fround(Math.fround(p.value * Math.fround(1 / 255)) - 0.5), `input ${i}`);
  });
  ok(close <= picks.length / 100, `${close} of ${picks.length} draws fell on a CDF boundary`);
}

for (const kind of ["categorical", "bernoulli"] as const) {
  const shape: Shape4 = [5, 3, 4, 3];
  const width = kind === "categorical" ? 256 : 1;

  Deno.test(`sample ${kind}: the GPU picks what the float64 reference picks from the same draws`, async () => {
    const logits = randomArray(shape.reduce((a, b) => a * b) * width, 41, 3);
    const s = await sampler(kind, shape, logits, 1234, 5);
    const { image, input } = await s.run();
    assertSamePicks(image, input, referencePicks(kind, shape, logits, 1234, 5));
    s.g.destroy();
  });

  Deno.test(`sample ${kind}: the same key twice gives identical samples, another stream others`, async () => {
    const logits = randomArray(shape.reduce((a, b) => a * b) * width, 42, 3);
    const s = await sampler(kind, shape, logits, 77);
    const first = await s.run();
    deepStrictEqual(await s.run(), first);
    s.rng.setKey(77, 1);
    notDeepStrictEqual((await s.run()).image, first.image);
    s.rng.setKey(77, 0);
    deepStrictEqual(await s.run(), first);
    s.g.destroy();
  });
}

/** Chi-square critical value for `df` degrees of freedom at z standard deviations (Wilson-Hilferty). */
function chiSquareCritical(df: number, z: number): number {
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

Deno.test("sample categorical: frequencies over 8192 draws match the softmax (chi-square, p = 0.001)", async () => {
  const shape: Shape4 = [128, 8, 8, 1];
  const one = randomArray(256, 43, 1.5);
  const logits = new Float64Array(128 * 64 * 256).map((_, i) => one[i % 256]);
  const s = await sampler("categorical", shape, logits, 99);
  const { image } = await s.run();
  const m = Math.max(...one);
  const e = Array.from(one, (l) => Math.exp(l - m));
  const total = e.reduce((a, b) => a + b);
  const counts = new Array(256).fill(0);
  for (const v of image) counts[v]++;
  // Pool values into bins of at least 5 expected draws each, in value order.
  let chi = 0, bins = 0, expected = 0, observed = 0;
  for (let v = 0; v < 256; v++) {
    expected += (image.length * e[v]) / total;
    observed += counts[v];
    if (expected >= 5 || v === 255) {
      chi += (observed - expected) ** 2 / expected;
      bins++;
      expected = observed = 0;
    }
  }
  const limit = chiSquareCritical(bins - 1, 3.09);
  ok(chi < limit, `chi-square ${chi.toFixed(1)} over ${bins} bins exceeds ${limit.toFixed(1)}`);
  s.g.destroy();
});

Deno.test("sample bernoulli: the count of ones over 8192 draws matches the sigmoids (|z| < 3.5)", async () => {
  const shape: Shape4 = [128, 8, 8, 1];
  const logits = randomArray(128 * 64, 44, 3);
  const s = await sampler("bernoulli", shape, logits, 99);
  const { image } = await s.run();
  let ones = 0, mean = 0, variance = 0;
  image.forEach((v, i) => {
    const p = 1 / (1 + Math.exp(-logits[i]));
    ones += v;
    mean += p;
    variance += p * (1 - p);
  });
  const z = (ones - mean) / Math.sqrt(variance);
  ok(Math.abs(z) < 3.5, `${ones} ones where ${mean.toFixed(1)} were expected (z = ${z.toFixed(2)})`);
  s.g.destroy();
});

Deno.test("sample: positions outside the image and mismatched shapes are refused", async () => {
  const gpu = await testGpu();
  const g = new Graph(gpu, "sample shape test");
  const image = g.alloc("image", [2, 3, 3, 3], "u32"), input = g.alloc("input", [2, 3, 3, 3]);
  const rng = new SampleRng(g, 27);
  const opts = { rng, inputScale: 1, inputShift: 0 };
  const logits = g.alloc("logits", [2, 3, 3, 768]);
  throws(
    () => recordSampleCategorical(g, logits, 3, 0, 0, image, input, opts),
    /\(3, 0, 0\) outside \[3, 3, 3\]/,
  );
  throws(() => recordSampleBernoulli(g, logits, 0, 0, 0, image, input, opts), /logits \[B,H,W,C\*1\]/);
  throws(() => recordSampleCategorical(g, logits, 0, 0, 0, input, input, opts), /u32 image/);
  throws(() => rng.setKey(-1), /not a u32/);
  g.destroy();
});
