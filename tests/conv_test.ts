import { Graph } from "../src/engine/graph.ts";
import { conv2d } from "../src/engine/ops/conv.ts";
import { conv2dBackwardRef, conv2dRef, type Shape4 } from "../src/engine/reference/conv.ts";
import { channelGroups, convMask } from "../src/models/masks.ts";
import { assertClose, dot, f32, f64, numericGrad, randomArray, testGpu } from "./util.ts";

interface Case {
  name: string;
  x: Shape4;
  w: Shape4;
  mask?: "A" | "B";
  groups?: number;
}

const CASES: Case[] = [
  { name: "3x3 vec4 channels", x: [2, 5, 6, 8], w: [3, 3, 8, 12] },
  { name: "7x7 mask A on RGB input", x: [2, 6, 7, 3], w: [7, 7, 3, 8], mask: "A", groups: 3 },
  { name: "1x3 mask B (Row LSTM input-to-state)", x: [2, 4, 5, 12], w: [1, 3, 12, 16], mask: "B", groups: 3 },
  { name: "1x1 to 3 channels", x: [3, 3, 4, 8], w: [1, 1, 8, 3] },
  { name: "1x1 to 1 channel (sigmoid logits)", x: [2, 3, 3, 4], w: [1, 1, 4, 1] },
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
];

for (const c of CASES) {
  Deno.test(`conv2d ${c.name}: GPU forward and backward match the float64 reference`, async () => {
    const gpu = await testGpu();
    const seed = c.x.reduce((a, b) => a * 31 + b, 7);
    const x = randomArray(c.x.reduce((a, b) => a * b), seed);
    const w = randomArray(c.w.reduce((a, b) => a * b), seed + 1, 0.5);
    const bias = randomArray(c.w[3], seed + 2);
    const dy = randomArray(c.x[0] * c.x[1] * c.x[2] * c.w[3], seed + 3);
    const mask = c.mask
      ? convMask(c.w[0], c.w[1], channelGroups(c.w[2], c.groups!), channelGroups(c.w[3], c.groups!), c.mask)
      : undefined;
    if (mask) { for (let i = 0; i < w.length; i++) w[i] *= mask[i]; }

    const g = new Graph(gpu, "conv test");
    const xt = g.alloc("x", c.x), wt = g.alloc("w", c.w), bt = g.alloc("b", [c.w[3]]);
    xt.write(f32(x));
    wt.write(f32(w));
    bt.write(f32(bias));
    for (const t of [xt, wt, bt]) g.requireGrad(t);
    const y = conv2d(g, xt, wt, { bias: bt, mask });
    const dyt = g.alloc("dy", y.shape);
    dyt.write(f32(dy));
    g.buildBackward([[y, dyt]]);
    g.run(g.forward, g.backward);

    const yRef = conv2dRef(x, c.x, w, c.w, bias);
    assertClose(f64(await y.read()), yRef, 1e-4, "forward");
    const ref = conv2dBackwardRef(x, c.x, w, c.w, dy);
    assertClose(f64(await g.gradOf(xt)!.read()), ref.dx, 1e-4, "dX");
    const dwGpu = f64(await g.gradOf(wt)!.read());
    if (mask) { for (let i = 0; i < w.length; i++) dwGpu[i] *= mask[i], ref.dw[i] *= mask[i]; }
    assertClose(dwGpu, ref.dw, 1e-4, "dW");
    assertClose(f64(await g.gradOf(bt)!.read()), ref.db, 1e-4, "dBias");
    g.destroy();

    // The reference gradients themselves against central finite differences of the reference.
    const loss = () => dot(conv2dRef(x, c.x, w, c.w, bias), dy);
    for (
      const [arr, grad, what] of [[x, ref.dx, "dX"], [w, ref.dw, "dW"], [bias, ref.db, "dBias"]] as const
    ) {
      const [idx, num] = numericGrad(loss, arr, 12, seed);
      const ana = idx.map((i) => (what === "dW" && mask && !mask[i] ? num[idx.indexOf(i)] : grad[i]));
      assertClose(ana, num, 1e-6, `reference ${what} vs finite differences`);
    }
  });
}
