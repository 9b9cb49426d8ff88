import { deepStrictEqual, throws } from "node:assert/strict";
import { Graph } from "../src/engine/graph.ts";
import { sigmoidBce, sigmoidBceMap, softmaxXent, softmaxXentMap } from "../src/engine/ops/loss.ts";
import {
  broadcastPerImage,
  sigmoidBceBackwardRef,
  sigmoidBceMapRef,
  softmaxXentBackwardRef,
  softmaxXentMapRef,
  sumPerImage,
} from "../src/engine/reference/loss.ts";
import { Rng } from "../src/engine/rng.ts";
import type { Tensor } from "../src/engine/tensor.ts";
import { assertClose, dot, f32, f64, numericGrad, randomArray, testGpu } from "./util.ts";

type Kind = "softmax" | "sigmoid";
type Shape4 = [number, number, number, number];

const OPS = {
  softmax: {
    perImage: softmaxXent,
    map: softmaxXentMap,
    mapRef: softmaxXentMapRef,
    backRef: softmaxXentBackwardRef,
  },
  sigmoid: {
    perImage: sigmoidBce,
    map: sigmoidBceMap,
    mapRef: sigmoidBceMapRef,
    backRef: sigmoidBceBackwardRef,
  },
};

function randomTargets(n: number, levels: number, seed: number): Uint32Array {
  const r = new Rng(seed, 3);
  return Uint32Array.from({ length: n }, () => Math.floor(r.uniform() * levels));
}

/** Logits, targets and a random upstream gradient for a loss over targets of shape `shape`. */
function problem(kind: Kind, shape: Shape4, seed: number, scale = 3) {
  const n = shape.reduce((a, b) => a * b);
  const width = kind === "softmax" ? 256 : 1;
  const logits = randomArray(n * width, seed, scale);
  const targets = randomTargets(n, kind === "softmax" ? 256 : 2, seed + 1);
  return { n, width, logits, targets };
}

interface Case {
  kind: Kind;
  shape: Shape4;
  perImage: boolean;
  why: string;
  /** Logit scale: 3 by default; 200 checks that nothing overflows (exp(88) is already inf in f32). */
  scale?: number;
}

const CASES: Case[] = [
  { kind: "softmax", shape: [2, 3, 4, 3], perImage: true, why: "RGB" },
  { kind: "softmax", shape: [5, 3, 5, 1], perImage: true, why: "odd batch and sizes" },
  { kind: "softmax", shape: [3, 10, 10, 3], perImage: true, why: "two-pass per-image sum" },
  { kind: "softmax", shape: [3, 5, 3, 2], perImage: false, why: "NLL map" },
  { kind: "sigmoid", shape: [3, 5, 7, 1], perImage: true, why: "odd batch and sizes" },
  { kind: "sigmoid", shape: [2, 28, 28, 1], perImage: true, why: "MNIST size, two-pass sum" },
  { kind: "sigmoid", shape: [3, 5, 3, 2], perImage: false, why: "NLL map" },
  { kind: "softmax", shape: [2, 2, 3, 3], perImage: true, why: "huge logits", scale: 200 },
  { kind: "sigmoid", shape: [2, 4, 3, 1], perImage: true, why: "huge logits", scale: 200 },
];

for (const c of CASES) {
  const what = `${c.kind} ${c.perImage ? "per image" : "map"} [${c.shape}] (${c.why})`;
  Deno.test(`loss ${what}: GPU forward and backward match the float64 reference`, async () => {
    const gpu = await testGpu();
    const seed = c.shape.reduce((a, b) => a * 17 + b, c.kind.length + (c.perImage ? 1 : 2));
    const { n, width, logits, targets } = problem(c.kind, c.shape, seed, c.scale);
    const [B, H, W, C] = c.shape;
    const subpixels = H * W * C;
    const dOut = randomArray(c.perImage ? B : n, seed + 2);
    const dmap = c.perImage ? broadcastPerImage(dOut, subpixels) : dOut;
    const op = OPS[c.kind];

    const g = new Graph(gpu, "loss test");
    const lt = g.alloc("logits", [B, H, W, C * width]);
    const tt = g.alloc("targets", c.shape, "u32");
    lt.write(f32(logits));
    tt.write(targets);
    g.requireGrad(lt);
    const out = (c.perImage ? op.perImage : op.map)(g, lt, tt);
    deepStrictEqual(out.shape, c.perImage ? [B] : c.shape);
    const seedT = g.alloc("dOut", out.shape);
    seedT.write(f32(dOut));
    g.buildBackward([[out, seedT]]);
    g.run(g.forward, g.backward);

    const map = op.mapRef(logits, targets);
    assertClose(f64(await out.read()), c.perImage ? sumPerImage(map, subpixels) : map, 1e-4, "forward");
    const dl = op.backRef(logits, targets, dmap);
    assertClose(f64(await g.gradOf(lt)!.read()), dl, 1e-4, "dLogits");
    g.destroy();

    if (c.scale) return; // saturated softmaxes: finite differences at 12 coordinates would see zeros.
    // h = 1e-4: the loss sums hundreds of sub-pixels, so a smaller step drowns in rounding.
    const [idx, num] = numericGrad(() => dot(op.mapRef(logits, targets), dmap), logits, 12, seed, 1e-4);
    assertClose(idx.map((i) => dl[i]), num, 1e-6, "reference dLogits vs finite differences");
  });
}

for (const kind of ["softmax", "sigmoid"] as const) {
  Deno.test(`loss ${kind}: a second consumer of the logits accumulates into their gradient`, async () => {
    const gpu = await testGpu();
    const shape: Shape4 = [3, 2, 3, 3];
    const { n, width, logits, targets } = problem(kind, shape, 99);
    const dImage = randomArray(shape[0], 5), dMap = randomArray(n, 6);
    const op = OPS[kind];

    const g = new Graph(gpu, "loss accumulate test");
    const lt = g.alloc("logits", [3, 2, 3, 3 * width]);
    const tt = g.alloc("targets", shape, "u32");
    lt.write(f32(logits));
    tt.write(targets);
    g.requireGrad(lt);
    const seeds: [Tensor, Tensor][] = [];
    for (const [out, d] of [[op.perImage(g, lt, tt), dImage], [op.map(g, lt, tt), dMap]] as const) {
      const s = g.alloc("seed", out.shape);
      s.write(f32(d));
      seeds.push([out, s]);
    }
    g.buildBackward(seeds);
    g.run(g.forward, g.backward);
    const combined = broadcastPerImage(dImage, n / shape[0]).map((v, i) => v + dMap[i]);
    assertClose(f64(await g.gradOf(lt)!.read()), op.backRef(logits, targets, combined), 1e-4, "dLogits");
    g.destroy();
  });
}

Deno.test("loss: mismatched shapes and float targets are refused with the shapes named", async () => {
  const gpu = await testGpu();
  const g = new Graph(gpu, "loss shape test");
  const logits = g.alloc("logits", [2, 3, 3, 256 * 3]);
  throws(() => softmaxXent(g, logits, g.alloc("targets", [2, 3, 3, 2], "u32")), /\[2,3,3,768\].*\[2,3,3,2\]/);
  throws(() => sigmoidBce(g, g.alloc("z", [2, 3, 3, 1]), g.alloc("t", [2, 3, 3, 1])), /u32 targets/);
  g.destroy();
});
