/**
 * The end-of-backward reduction (src/wgsl/partials.ts) against a float64 sum: sums of unequal sizes in
 * one dispatch (chunks of one sum and of several), several parts a sum, accumulation into what the
 * destination holds, the scalar form (an odd offset) beside the vector form, and a grid folded into y.
 */
import assert from "node:assert/strict";
import { Graph } from "../src/engine/graph.ts";
import { type DeferredSum, sumPartials } from "../src/wgsl/partials.ts";
import { assertClose, f32, f64, randomArray, testGpu } from "./util.ts";

/** DST after the sums, in float64: what the kernel must write. */
function reference(sums: DeferredSum[], part: Float64Array, dst: Float64Array): Float64Array {
  const out = dst.slice();
  for (const s of sums) {
    for (let e = 0; e < s.size; e++) {
      let v = s.accumulate ? dst[s.dst + e] : 0;
      for (const p of s.parts) for (let k = 0; k < p.slices; k++) v += part[p.src + k * p.stride + e];
      out[s.dst + e] = v;
    }
  }
  return out;
}

const CASES: { name: string; offset: number; maxGroups: number }[] = [
  { name: "vector form", offset: 0, maxGroups: 65535 },
  { name: "scalar form (an odd offset)", offset: 1, maxGroups: 65535 },
  { name: "vector form, grid folded into rows of 3 workgroups", offset: 0, maxGroups: 3 },
];
for (const c of CASES) {
  Deno.test(`sumPartials, ${c.name}: unequal sums, several parts, accumulation match the float64 sum`, async () => {
    const gpu = await testGpu();
    const o = c.offset;
    // A sum over several 1,024-element chunks (in vec4s: 5,000 floats), small ones, one accumulating.
    const sums: DeferredSum[] = [
      { dst: o, size: 5000, parts: [{ src: o, slices: 3, stride: 5004 }] },
      { dst: 5004 + o, size: 16, parts: [{ src: 15012 + o, slices: 7, stride: 16 }] },
      {
        dst: 5020 + o,
        size: 64,
        parts: [{ src: 15124 + o, slices: 2, stride: 64 }, { src: 15252 + o, slices: 1, stride: 64 }],
        accumulate: true,
      },
    ];
    const partSize = 15316 + o, dstSize = 5084 + o;
    const part = randomArray(partSize, 11), dst = randomArray(dstSize, 12);
    const kernel = sumPartials(sums, c.maxGroups);
    if (c.maxGroups < 65535) {
      assert.ok(kernel.workgroups[1] > 1, `the grid did not fold: ${kernel.workgroups}`);
    }
    const g = new Graph(gpu, "partial sums");
    const pt = g.alloc("part", [partSize]), dt = g.alloc("dst", [dstSize]);
    pt.write(f32(part));
    dt.write(f32(dst));
    g.dispatch("sum partials", kernel, { PART: pt, DST: dt });
    g.run(g.forward);
    assertClose(f64(await dt.read()), reference(sums, part, dst), 1e-5, "DST");
    g.destroy();
  });
}
