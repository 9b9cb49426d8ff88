import assert from "node:assert/strict";
import { Graph } from "../src/engine/graph.ts";
import type { KernelPolicy } from "../src/engine/policy.ts";
import { filterGradPlan } from "../src/engine/tiles.ts";
import { conv2d } from "../src/engine/ops/conv.ts";
import { conv2dBackwardRef, conv2dRef, type Shape4 } from "../src/engine/reference/conv.ts";
import { channelGroups, convMask } from "../src/models/masks.ts";
import {
  assertClose,
  dot,
  f32,
  f64,
  GPU_NO_SUBGROUPS,
  numericGrad,
  PROFILES,
  randomArray,
  STORAGE_WEIGHTS,
  testGpu,
  withPolicy,
} from "./util.ts";

interface Case {
  name: string;
  x: Shape4;
  w: Shape4;
  mask?: "A" | "B";
  groups?: number;
  /** The convolution reads max(x, 0). */
  relu?: boolean;
  /** A residual map is added to the output. */
  residual?: boolean;
}

const CASES: Case[] = [
  { name: "3x3 vec4 channels", x: [2, 5, 6, 8], w: [3, 3, 8, 12] },
  { name: "7x7 mask A on RGB input", x: [2, 6, 7, 3], w: [7, 7, 3, 8], mask: "A", groups: 3 },
  { name: "1x3 mask B (Row LSTM input-to-state)", x: [2, 4, 5, 12], w: [1, 3, 12, 16], mask: "B", groups: 3 },
  { name: "1x1 to 3 channels", x: [3, 3, 4, 8], w: [1, 1, 8, 3] },
  { name: "1x1 to 1 channel (sigmoid logits)", x: [2, 3, 3, 4], w: [1, 1, 4, 1] },
  // GPU tiles: one column and 512 rows, so the channel chunk in workgroup memory is cut from 24 to 12
  // to 4 (a multiple of the vec4 reads).
  { name: "1x1 24 channels to 1 (binary logits head)", x: [8, 8, 8, 24], w: [1, 1, 24, 1] },
  { name: "3x3 odd channel counts", x: [1, 4, 4, 5], w: [3, 3, 5, 6], mask: "B", groups: 1 },
  // Under 4 input channels the conv runs over gathered patches (K padded to 16 where the weight allows).
  { name: "3x3 unmasked, 2 input channels", x: [2, 5, 6, 2], w: [3, 3, 2, 8] },
  { name: "5x5 mask A, 1 input channel", x: [2, 6, 6, 1], w: [5, 5, 1, 4], mask: "A", groups: 1 },
  // Widths that are a multiple of the row tile: a thread's rows lie in one image row ("strip"), and the
  // last workgroup row runs past the end of the map.
  { name: "7x7 mask A, 16 wide", x: [3, 5, 16, 3], w: [7, 7, 3, 8], mask: "A", groups: 3 },
  { name: "1x3 mask B, 32 wide", x: [1, 3, 32, 12], w: [1, 3, 12, 16], mask: "B", groups: 3 },
  // 1152 positions: the filter gradient is split over rows (split-K) and summed.
  { name: "3x3 mask B, split-K filter gradient", x: [2, 24, 24, 8], w: [3, 3, 8, 8], mask: "B", groups: 3 },
  // Fusions: a ReLU read with the input (its gradient masked in the dX store), a residual added in the
  // store (its gradient is dY), with and without split-K.
  { name: "1x1 ReLU input and residual", x: [2, 4, 5, 8], w: [1, 1, 8, 8], relu: true, residual: true },
  {
    name: "3x3 mask B, ReLU input, split-K filter gradient",
    x: [2, 24, 24, 8],
    w: [3, 3, 8, 8],
    mask: "B",
    groups: 3,
    relu: true,
  },
  {
    name: "3x3 scalar channels, ReLU input and residual",
    x: [1, 4, 4, 5],
    w: [3, 3, 5, 6],
    relu: true,
    residual: true,
  },
];

/** The float64 reference of the fused convolution: relu on the input, then the residual added. */
function fusedRef(c: Case, x: Float64Array, w: Float64Array, bias: Float64Array, res: Float64Array | null) {
  const input = c.relu ? x.map((v) => Math.max(v, 0)) : x;
  const y = conv2dRef(input, c.x, w, c.w, bias);
  if (res) y.forEach((v, i) => y[i] = v + res[i]);
  return y;
}

// Every case with each tile profile, with and without subgroups, and weight space; the reference's own
// gradient check once per case.
for (const c of CASES) {
  for (const variant of [...PROFILES, GPU_NO_SUBGROUPS, STORAGE_WEIGHTS]) {
    Deno.test(`conv2d ${c.name} (${variant.name}): GPU forward and backward match the float64 reference`, async () => {
      const gpu = await testGpu();
      const seed = c.x.reduce((a, b) => a * 31 + b, 7);
      const x = randomArray(c.x.reduce((a, b) => a * b), seed);
      const w = randomArray(c.w.reduce((a, b) => a * b), seed + 1, 0.5);
      const bias = randomArray(c.w[3], seed + 2);
      const outSize = c.x[0] * c.x[1] * c.x[2] * c.w[3];
      const dy = randomArray(outSize, seed + 3);
      const res = c.residual ? randomArray(outSize, seed + 4) : null;
      const mask = c.mask
        ? convMask(c.w[0], c.w[1], channelGroups(c.w[2], c.groups!), channelGroups(c.w[3], c.groups!), c.mask)
        : undefined;
      if (mask) { for (let i = 0; i < w.length; i++) w[i] *= mask[i]; }

      const g = new Graph(gpu, "conv test");
      const xt = g.alloc("x", c.x), wt = g.alloc("w", c.w), bt = g.alloc("b", [c.w[3]]);
      const rt = res ? g.alloc("res", [c.x[0], c.x[1], c.x[2], c.w[3]]) : undefined;
      xt.write(f32(x));
      wt.write(f32(w));
      bt.write(f32(bias));
      if (rt) rt.write(f32(res!));
      for (const t of [xt, wt, bt, ...(rt ? [rt] : [])]) g.requireGrad(t);
      const y = withPolicy(gpu, variant.policy, () => {
        const y = conv2d(g, xt, wt, { bias: bt, mask, relu: c.relu, residual: rt });
        const dyt = g.alloc("dy", y.shape);
        dyt.write(f32(dy));
        g.buildBackward([[y, dyt]]);
        return y;
      });
      g.run(g.forward, g.backward);

      const yRef = fusedRef(c, x, w, bias, res);
      assertClose(f64(await y.read()), yRef, 1e-4, "forward");
      const ref = conv2dBackwardRef(c.relu ? x.map((v) => Math.max(v, 0)) : x, c.x, w, c.w, dy);
      if (c.relu) ref.dx.forEach((v, i) => ref.dx[i] = x[i] > 0 ? v : 0);
      assertClose(f64(await g.gradOf(xt)!.read()), ref.dx, 1e-4, "dX");
      if (rt) assertClose(f64(await g.gradOf(rt)!.read()), dy, 1e-6, "dResidual");
      const dwGpu = f64(await g.gradOf(wt)!.read());
      if (mask) { for (let i = 0; i < w.length; i++) dwGpu[i] *= mask[i], ref.dw[i] *= mask[i]; }
      assertClose(dwGpu, ref.dw, 1e-4, "dW");
      assertClose(f64(await g.gradOf(bt)!.read()), ref.db, 1e-4, "dBias");
      g.destroy();

      if (variant !== PROFILES[0]) return;
      // The reference gradients themselves against central finite differences of the reference.
      const loss = () => dot(fusedRef(c, x, w, bias, res), dy);
      for (
        const [arr, grad, what] of [[x, ref.dx, "dX"], [w, ref.dw, "dW"], [bias, ref.db, "dBias"]] as const
      ) {
        const [idx, num] = numericGrad(loss, arr, 12, seed);
        const ana = idx.map((i) => (what === "dW" && mask && !mask[i] ? num[idx.indexOf(i)] : grad[i]));
        assertClose(ana, num, 1e-6, `reference ${what} vs finite differences`);
      }
    });
  }
}

for (const variant of [...PROFILES, GPU_NO_SUBGROUPS]) {
  Deno.test(`conv2d (${variant.name}): a weight shared by two convolutions gets both filter gradients (direct, then split and added)`, async () => {
    const gpu = await testGpu();
    // The small map's filter gradient (run first in backward, as the later op) writes dW directly; the
    // large map's is split-K and must then be reduced right away and added, not deferred.
    const shapes: Shape4[] = [[2, 24, 24, 8], [1, 3, 3, 8]];
    const wShape: Shape4 = [3, 3, 8, 8];
    const w = randomArray(3 * 3 * 8 * 8, 91, 0.5), bias = randomArray(8, 92);
    const xs = shapes.map((s, i) => randomArray(s.reduce((a, b) => a * b), 93 + i));
    const dys = shapes.map((s, i) => randomArray(s[0] * s[1] * s[2] * 8, 95 + i));
    const g = new Graph(gpu, "shared weight test");
    const wt = g.alloc("w", wShape), bt = g.alloc("b", [8]);
    wt.write(f32(w));
    bt.write(f32(bias));
    g.requireGrad(wt);
    g.requireGrad(bt);
    withPolicy(gpu, variant.policy, () => {
      const seeds = shapes.map((s, i) => {
        const xt = g.alloc(`x${i}`, s);
        xt.write(f32(xs[i]));
        const y = conv2d(g, xt, wt, { bias: bt });
        const dy = g.alloc(`dy${i}`, y.shape);
        dy.write(f32(dys[i]));
        return [y, dy] as [typeof y, typeof dy];
      });
      g.buildBackward(seeds);
    });
    g.run(g.forward, g.backward);
    const refs = shapes.map((s, i) => conv2dBackwardRef(xs[i], s, w, wShape, dys[i]));
    assertClose(f64(await g.gradOf(wt)!.read()), refs[0].dw.map((v, i) => v + refs[1].dw[i]), 1e-4, "dW");
    assertClose(f64(await g.gradOf(bt)!.read()), refs[0].db.map((v, i) => v + refs[1].db[i]), 1e-4, "dBias");
    g.destroy();
  });
}

Deno.test("filter gradients take the subgroup form where the device has subgroups, in both profiles, and only then", async () => {
  const gpu = await testGpu();
  const plan = (policy: Partial<KernelPolicy>) => withPolicy(gpu, policy, () => filterGradPlan(gpu, 80, 16));
  // Mesa's lavapipe offers subgroups on Vulkan (8 lanes); its OpenGL backend does not.
  if (gpu.summary.backend === "vulkan") {
    assert(gpu.hasFeature("subgroups"), "a Vulkan device without subgroups");
  }
  for (const profile of ["software", "gpu"] as const) {
    const sub = plan({ profile, subgroups: "auto" });
    assert.equal(sub.subgroups !== undefined, gpu.hasFeature("subgroups"), profile);
    if (sub.subgroups) assert.deepEqual([sub.tiles.wgx, sub.tiles.wgy], [1, 1]);
    assert.equal(plan({ profile, subgroups: "off" }).subgroups, undefined, `${profile}, subgroups off`);
  }
});
