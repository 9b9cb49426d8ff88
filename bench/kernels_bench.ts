/**
 * Kernel throughput: the best plain matmul of a tile sweep (the yardstick), the engine's own GEMM path,
 * convolutions at the shapes of the paper's layers (forward, dX, dW, and all three), dispatch overhead
 * and a small training step. Target: every convolution figure at least 70% of the best matmul's
 * GFLOP/s. FLOPs are those the kernels execute: 2 * positions * Cout * (active taps * Cin) per pass (the
 * input conv, run over gathered patches, also multiplies its few zero padding channels; not counted).
 *
 *   deno bench -A bench/kernels_bench.ts
 */
import { openGpu } from "../src/engine/device.ts";
import { type Dispatch, Graph } from "../src/engine/graph.ts";
import { activeTaps, conv2d } from "../src/engine/ops/conv.ts";
import { type KernelPolicy, withPolicy } from "../src/engine/policy.ts";
import { Tensor } from "../src/engine/tensor.ts";
import type { Kernel } from "../src/wgsl/kernel.ts";
import { channelGroups, convMask, gateGroups } from "../src/models/masks.ts";
import { PixelModel } from "../src/models/model.ts";
import { presetByName } from "../src/models/presets.ts";
import { fillRandom } from "./fill.ts";
import {
  matmulKernel,
  type MatmulShape,
  type MatmulTiles,
  matmulUniformBKernel,
  tilesName,
  type UniformTiles,
} from "./matmul.ts";
import { MATMUL_SHAPES, matmulCandidates, MatmulSweep, shapeText, tiles } from "./matmul_figures.ts";
import { Report } from "./report.ts";
import { trainStep } from "./steps.ts";
import { PassTimer, Series } from "./timing.ts";

const CONV_TARGET = 0.7;

const gpu = await openGpu();
const timer = new PassTimer(gpu);
const report = new Report("kernels", gpu);

const sweep = new MatmulSweep(report, timer, matmulCandidates(gpu, false));
report.yardstick = () => sweep.yardstick();

/** The engine's GEMM path (a 1x1 conv2d of x [1,1,M,K] by w [1,1,K,N]) at `shape`. */
function engineGemm(name: string, shape: MatmulShape, n?: number): void {
  report.bench({
    name: `engine GEMM (1x1 conv2d) @ ${name}`,
    shape: shapeText(shape),
    flops: 2 * shape.m * shape.n * shape.k,
    note: "x [1,1,M,K] * w [1,1,K,N]",
    n,
  }, () => {
    const g = new Graph(gpu, "engine gemm");
    const x = g.alloc("x", [1, 1, shape.m, shape.k]);
    const w = g.alloc("w", [1, 1, shape.k, shape.n]);
    fillRandom(x);
    fillRandom(w);
    conv2d(g, x, w);
    return new Series(timer, [g.forward]);
  });
}

for (const { name, shape } of MATMUL_SHAPES) engineGemm(name, shape);

/**
 * Skinny GEMMs of the MNIST presets (16 images of 28 x 28 rows; the PixelCNN's 3x3 16 -> 16 conv as one
 * GEMM, and a 64 x 64 one) three ways: the engine's GEMM, the plain matmul with B in storage, and the
 * plain matmul with B in a uniform buffer and the lanes along M (see matmulUniformBKernel). On the
 * software adapter the last shows what reading weights through a uniform buffer would gain.
 */
const SKINNY: { name: string; shape: MatmulShape; storage: MatmulTiles[]; uniform: UniformTiles[] }[] = [
  {
    name: "mnist 3x3 16->16 GEMM",
    shape: { m: 16 * 28 * 28, n: 16, k: 9 * 16 },
    storage: [tiles(16, 8, 2, 16), tiles(16, 4, 4, 8)],
    uniform: [{ tm: 4, tn: 16, wg: 8 }, { tm: 8, tn: 16, wg: 8 }],
  },
  {
    name: "mnist 64x64 GEMM",
    shape: { m: 16 * 28 * 28, n: 64, k: 64 },
    storage: [tiles(16, 8, 8, 4), tiles(16, 16, 4, 8)],
    uniform: [{ tm: 4, tn: 32, wg: 8 }, { tm: 4, tn: 64, wg: 8 }],
  },
];
for (const { name, shape, storage, uniform } of SKINNY) {
  const spec = { shape: shapeText(shape), flops: 2 * shape.m * shape.n * shape.k };
  let ops: { a: Tensor; b: Tensor; c: Tensor } | null = null;
  const operands = () => {
    if (ops) return ops;
    const g = new Graph(gpu, `skinny ${name}`);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
    const bBuffer = gpu.createBuffer(`skinny ${name} B`, shape.k * shape.n * 4, usage);
    ops = {
      a: g.alloc("A", [shape.m, shape.k]),
      b: new Tensor(gpu, `skinny ${name} B`, [shape.k, shape.n], bBuffer, 0),
      c: g.alloc("C", [shape.m, shape.n]),
    };
    fillRandom(ops.a);
    fillRandom(ops.b);
    return ops;
  };
  const figure = (label: string, kernel: () => Kernel) =>
    report.bench({ name: `${label} @ ${name}`, ...spec, n: 2 }, () => {
      const { a, b, c } = operands();
      const g = new Graph(gpu, label);
      g.dispatch(label, kernel(), { A: a, B: b, C: c });
      return new Series(timer, [g.forward]);
    });
  engineGemm(name, shape, 2);
  for (const t of storage) figure(`matmul, B in storage, ${tilesName(t)}`, () => matmulKernel(shape, t));
  for (const t of uniform) {
    figure(`matmul, B uniform, ${t.tm}x${t.tn} wg ${t.wg}`, () => matmulUniformBKernel(shape, t));
  }
}

/** A masked convolution of a paper layer, CIFAR-10 geometry (batch 16, 32 x 32) unless `map` says. */
interface ConvCase {
  name: string;
  kh: number;
  kw: number;
  cin: number;
  cout: number;
  mask: Float32Array;
  /** False for the input layer: the image needs no gradient, so training runs no dX there. */
  inputGrad: boolean;
  /** Deno.bench iterations per figure (fewer for the big ones). */
  n: number;
  /** Batch, height and width of the map (default CIFAR-10's). */
  map?: [number, number, number];
  /** Kernel variants to build with (default: the device's). */
  policy?: Partial<KernelPolicy>;
  /** Figures to take (default: all of them). */
  parts?: ("fwd" | "dX" | "dW" | "all")[];
}

const B = 16, H = 32, W = 32;
const rgb = (c: number) => channelGroups(c, 3);
const mono = (c: number) => channelGroups(c, 1);
const CASES: ConvCase[] = [
  {
    name: "row-lstm i-s 1x3 mask B 256->512",
    kh: 1,
    kw: 3,
    cin: 256,
    cout: 512,
    mask: convMask(1, 3, rgb(256), gateGroups(128, 4, 3), "B"),
    inputGrad: true,
    n: 2,
  },
  {
    name: "pixelcnn 3x3 mask B 128->128",
    kh: 3,
    kw: 3,
    cin: 128,
    cout: 128,
    mask: convMask(3, 3, rgb(128), rgb(128), "B"),
    inputGrad: true,
    n: 2,
  },
  {
    name: "input 7x7 mask A 3->256",
    kh: 7,
    kw: 7,
    cin: 3,
    cout: 256,
    mask: convMask(7, 7, rgb(3), rgb(256), "A"),
    inputGrad: false,
    n: 2,
  },
  {
    name: "output 1x1 mask B 256->1024",
    kh: 1,
    kw: 1,
    cin: 256,
    cout: 1024,
    mask: convMask(1, 1, rgb(256), rgb(1024), "B"),
    inputGrad: true,
    n: 2,
  },
  {
    name: "output 1x1 mask B 1024->1024",
    kh: 1,
    kw: 1,
    cin: 1024,
    cout: 1024,
    mask: convMask(1, 1, rgb(1024), rgb(1024), "B"),
    inputGrad: true,
    n: 1,
  },
];

/**
 * The filter gradients of the MNIST PixelCNN's convolutions (16 images of 28 x 28) in GPU tiles, with
 * and without subgroups, side by side. On a GPU they show what the subgroup form gains where it was made
 * for: without it the 3x3's filter gradient (5 active taps, 80 x 16) runs 40 tiles in 49 splits, under
 * 2,000 threads. On the software adapter both are GPU tiles on a CPU: a check that they run, not a speed
 * to read. First among the convolutions: they are quick, and scripts/gpu/run.sh gives the benchmarks a
 * fixed share of its budget.
 */
const MNIST_DW = [
  { name: "mnist 3x3 mask B 16->16", kh: 3, kw: 3, cin: 16, cout: 16 },
  { name: "mnist 1x1 mask B 32->16", kh: 1, kw: 1, cin: 32, cout: 16 },
];
CASES.unshift(...MNIST_DW.flatMap((c) =>
  (["auto", "off"] as const).map((subgroups) => ({
    ...c,
    name: `${c.name} (GPU tiles, ${subgroups === "auto" ? "subgroups where offered" : "no subgroups"})`,
    mask: convMask(c.kh, c.kw, mono(c.cin), mono(c.cout), "B"),
    inputGrad: true,
    n: 4,
    map: [16, 28, 28] as [number, number, number],
    parts: ["dW" as const],
    policy: { profile: "gpu" as const, subgroups },
  }))
));

/**
 * The case's forward, dX and dW dispatch lists, built once at first use. dX and dW come from two graphs
 * over the same x, w and dY, one differentiating x only and one w only, so each list holds exactly
 * what the op records for that gradient (whatever kernels it uses) and together they are its backward.
 */
function convLists(c: ConvCase): () => { fwd: Dispatch[]; dx: Dispatch[]; dw: Dispatch[] } {
  let built: { fwd: Dispatch[]; dx: Dispatch[]; dw: Dispatch[] } | null = null;
  return () => {
    if (built) return built;
    const [b, h, w0] = c.map ?? [B, H, W];
    const gw = new Graph(gpu, `${c.name} dW`);
    const x = gw.alloc("x", [b, h, w0, c.cin]);
    const w = gw.alloc("w", [c.kh, c.kw, c.cin, c.cout]);
    const dy = gw.alloc("dy", [b, h, w0, c.cout]);
    fillRandom(x);
    fillRandom(w, 0.1, c.mask);
    fillRandom(dy);
    const backward = (g: Graph, wrt: Tensor) =>
      withPolicy(gpu, c.policy ?? {}, () => {
        g.requireGrad(wrt);
        g.buildBackward([[conv2d(g, x, w, { mask: c.mask }), dy]]);
        return g;
      });
    const dw = backward(gw, w).backward;
    const wantsDx = c.inputGrad && (c.parts ?? ["dX"]).some((p) => p === "dX" || p === "all");
    const gx = wantsDx ? backward(new Graph(gpu, `${c.name} dX`), x) : null;
    built = { fwd: gw.forward, dx: gx?.backward ?? [], dw };
    return built;
  };
}

for (const c of CASES) {
  const [b, h, w] = c.map ?? [B, H, W];
  const taps = activeTaps(c.kh, c.kw, c.cin, c.cout, c.mask).length;
  const pass = 2 * b * h * w * c.cout * taps * c.cin;
  const shape = `B${b} ${h}x${w} K=${taps}taps*${c.cin} N=${c.cout}`;
  const lists = convLists(c);
  const parts = c.parts ?? ["fwd", "dX", "dW", "all"];
  const target = c.policy ? undefined : CONV_TARGET;
  const fig = (part: string, passes: number, pick: () => Dispatch[][], prewarmed = false, note?: string) =>
    report.bench(
      // The forced-variant figures are comparisons, not held to the target.
      { name: `conv ${c.name} ${part}`, shape, flops: passes * pass, target, n: c.n, note },
      () => new Series(timer, pick(), { prewarmed }),
    );
  if (parts.includes("fwd")) fig("fwd", 1, () => [lists().fwd]);
  if (c.inputGrad && parts.includes("dX")) fig("dX", 1, () => [lists().dx]);
  if (parts.includes("dW")) fig("dW", 1, () => [lists().dw]);
  if (!parts.includes("all")) continue;
  const all = c.inputGrad ? 3 : 2;
  fig(
    c.inputGrad ? "fwd+dX+dW" : "fwd+dW",
    all,
    () => [lists().fwd, lists().dx, lists().dw],
    true,
    c.inputGrad ? undefined : "no dX: the image needs no gradient",
  );
}

/** Dispatches per repetition of the overhead figures. */
const TRIVIAL = 1000;

function trivialDispatches(): Dispatch[] {
  const g = new Graph(gpu, "trivial");
  const out = g.alloc("out", [4]);
  const code = "@group(0) @binding(0) var<storage, read_write> OUT: array<f32>;\n" +
    "@compute @workgroup_size(1) fn main() { OUT[0] = OUT[0] + 1.0; }";
  g.dispatch("trivial", { code, bindings: ["OUT"], workgroups: [1, 1, 1], usesStep: false }, { OUT: out });
  return new Array(TRIVIAL).fill(g.forward[0]);
}

report.bench({
  name: "dispatch overhead (GPU timestamps)",
  shape: `${TRIVIAL} trivial dispatches, one pass`,
  units: TRIVIAL,
  note: "ms per dispatch",
}, () => new Series(timer, [trivialDispatches()], { minMs: 100 }));
report.bench({
  name: "dispatch overhead (wall: encode+submit+wait)",
  shape: `${TRIVIAL} trivial dispatches, one pass`,
  units: TRIVIAL,
  note: "ms per dispatch",
}, () => new Series(timer, [trivialDispatches()], { minMs: 100, clock: "wall" }));

const small = presetByName("mnist-row-lstm");
const smallLayers = 2;
report.bench({
  name: `train step ${small.name} (${smallLayers} layers)`,
  shape: `B${small.batch} 28x28x1 h=${small.config.h}`,
  images: small.batch,
  note: "fwd+bwd+RMSProp, one submit",
}, () => {
  const model = PixelModel.create(gpu, { ...small.config, layers: smallLayers }, 1);
  return new Series(timer, trainStep(model, small.batch));
});

sweep.recheck();

report.summary(() => {
  // Figures held to the target (the forced-variant ones are comparisons).
  const convs = report.rows().filter((r) => r.bench.startsWith("conv ") && r.verdict.startsWith("target"));
  if (!convs.length) return sweep.driftLines();
  const worst = convs.reduce((a, b) => (a.ratio! <= b.ratio! ? a : b));
  const missed = convs.filter((r) => r.ratio! < CONV_TARGET).length;
  const missedAlongside = convs.filter((r) => r.pairedRatio !== null && r.pairedRatio < CONV_TARGET).length;
  return [
    "",
    ...sweep.driftLines(),
    `Convolution target (>= ${
      100 * CONV_TARGET
    }% of the best matmul): missed on ${missed} of ${convs.length} ` +
    `figures (${missedAlongside} against the yardstick timed alongside); lowest: ${worst.bench} at ` +
    `${(100 * worst.ratio!).toFixed(0)}%.`,
  ];
});
