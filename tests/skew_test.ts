import { Graph } from "../src/engine/graph.ts";
import type { Tensor } from "../src/engine/tensor.ts";
import { mirror, shiftDown, skew, skewPair, unskew, unskewCombine } from "../src/engine/ops/skew.ts";
import { depthToSpace } from "../src/engine/ops/remap.ts";
import {
  depthToSpaceRef,
  type Map4,
  mirrorRef,
  shiftDownRef,
  skewPairRef,
  skewRef,
  unskewCombineRef,
  unskewRef,
} from "../src/engine/reference/skew.ts";
import { assertClose, dot, f32, f64, randomArray, testGpu } from "./util.ts";

type Shape = [number, number, number, number];

interface Case {
  name: string;
  input: Shape;
  op: (g: Graph, x: Tensor) => Tensor;
  ref: (x: Map4) => Map4;
}

const n = 5;
const CASES: Case[] = [
  { name: "skew", input: [2, n, n, 4], op: skew, ref: skewRef },
  { name: "skew, scalar channels", input: [1, n, n, 3], op: skew, ref: skewRef },
  { name: "unskew", input: [2, n, 2 * n - 1, 4], op: unskew, ref: unskewRef },
  { name: "mirror", input: [2, 4, 6, 3], op: mirror, ref: mirrorRef },
  { name: "shift down", input: [2, 4, 6, 8], op: shiftDown, ref: shiftDownRef },
  { name: "skew pair (left | mirrored right)", input: [2, n, n, 8], op: skewPair, ref: skewPairRef },
  {
    name: "unskew combine (left + shifted mirrored right)",
    input: [4, 2 * n - 1, n, 4],
    op: unskewCombine,
    ref: unskewCombineRef,
  },
  {
    name: "unskew combine, scalar channels",
    input: [2, 2 * n - 1, n, 3],
    op: unskewCombine,
    ref: unskewCombineRef,
  },
  {
    name: "depth to space (deconvolution rearrangement)",
    input: [2, 3, 4, 8],
    op: (g, x) => depthToSpace(g, x, 2),
    ref: (x) => depthToSpaceRef(x, 2),
  },
  {
    name: "depth to space, scalar channels",
    input: [1, 2, 3, 12],
    op: (g, x) => depthToSpace(g, x, 2),
    ref: (x) => depthToSpaceRef(x, 2),
  },
];

for (const c of CASES) {
  Deno.test(`${c.name}: GPU forward and backward equal the float64 reference`, async () => {
    const gpu = await testGpu();
    const size = c.input.reduce((a, b) => a * b);
    const x: Map4 = { data: randomArray(size, size + 1), shape: c.input };
    const y = c.ref(x);
    const dy = randomArray(y.data.length, size + 2);

    const g = new Graph(gpu, "remap test");
    const xt = g.alloc("x", c.input);
    xt.write(f32(x.data));
    g.requireGrad(xt);
    const yt = c.op(g, xt);
    const dyt = g.alloc("dy", yt.shape);
    dyt.write(f32(dy));
    g.buildBackward([[yt, dyt]]);
    g.run(g.forward, g.backward);
    assertClose(f64(await yt.read()), y.data, 1e-6, "forward");

    // The op is linear, so dL/dx_i = <ref(e_i), dy>: exact reference gradients from unit inputs.
    const ref = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      const e = { data: new Float64Array(size), shape: c.input };
      e.data[i] = 1;
      ref[i] = dot(c.ref(e).data, dy);
    }
    assertClose(f64(await g.gradOf(xt)!.read()), ref, 1e-6, "backward");
    g.destroy();
  });
}
