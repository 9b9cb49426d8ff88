/**
 * Texture mirrors (Graph.textureOf): every element of a tensor spanning several texel rows, with a
 * partial last texel, read back through `load` as scalars and as vec4s; and a mirror copied again only
 * after a recorded dispatch has written its tensor.
 */
import assert from "node:assert/strict";
import { Graph } from "../src/engine/graph.ts";
import type { Tensor } from "../src/engine/tensor.ts";
import { copyCount } from "../src/models/cost.ts";
import { decl, type Kernel, load, TEXEL_ROW } from "../src/wgsl/kernel.ts";
import { f32, randomArray, testGpu } from "./util.ts";

/** A kernel writing OUT[i] = X[i] for i < n, X read from its mirror (`vec`: one vec4 per invocation). */
function readBack(n: number, vec: boolean): Kernel {
  const x = { name: "X", access: "read" as const, vec, texture: true };
  const out = { name: "OUT", access: "read_write" as const, vec };
  const count = vec ? Math.ceil(n / 4) : n;
  const code = [
    decl(0, x),
    decl(1, out),
    `@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {`,
    `  if (g.x < ${count}u) { OUT[g.x] = ${load(x, "g.x")}; }`,
    `}`,
  ].join("\n");
  return { code, bindings: ["X", "OUT"], workgroups: [Math.ceil(count / 64), 1, 1], usesStep: false };
}

/** A kernel doubling every element of X in place. */
function double(n: number): Kernel {
  const code = [
    decl(0, { name: "X", access: "read_write", vec: false }),
    `@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {`,
    `  if (g.x < ${n}u) { X[g.x] = 2.0 * X[g.x]; }`,
    `}`,
  ].join("\n");
  return { code, bindings: ["X"], workgroups: [Math.ceil(n / 64), 1, 1], usesStep: false };
}

// Two full texel rows and a partial third, whose last texel holds 2 of its 4 elements.
const N = 2 * TEXEL_ROW * 4 + 4 * 37 + 2;

/** A graph holding x, N random values (seeded). */
async function withRandomTensor(label: string, seed: number) {
  const g = new Graph(await testGpu(), label);
  const values = f32(randomArray(N, seed));
  const x = g.alloc("x", [N]);
  x.write(values);
  return { g, x, values };
}

Deno.test("texture mirror: every element of a tensor over several texel rows reads back exactly, as scalars and as vec4s", async () => {
  const { g, x, values } = await withRandomTensor("texture mirror", 11);
  const outs: Tensor[] = [];
  for (const vec of [false, true]) {
    const out = g.alloc(`out ${vec}`, [Math.ceil(N / 4) * 4]);
    g.dispatch("read back", readBack(N, vec), { X: g.textureOf(x)!, OUT: out });
    outs.push(out);
  }
  assert.equal(copyCount([g.forward]), 1, "the second read shares the first copy");
  g.run(g.forward);
  for (const out of outs) assert.deepStrictEqual((await out.read()).subarray(0, N), values);
  g.destroy();
});

Deno.test("texture mirror: copied again after a recorded dispatch writes the tensor, not before", async () => {
  const { g, x, values } = await withRandomTensor("texture mirror freshness", 12);
  const before = g.alloc("before", [N]), after = g.alloc("after", [N]);
  g.dispatch("read before", readBack(N, false), { X: g.textureOf(x)!, OUT: before });
  g.dispatch("double", double(N), { X: x });
  g.dispatch("read after", readBack(N, false), { X: g.textureOf(x)!, OUT: after });
  assert.equal(copyCount([g.forward]), 2);
  g.run(g.forward);
  assert.deepStrictEqual(await before.read(), values);
  assert.deepStrictEqual(await after.read(), values.map((v) => 2 * v));
  g.destroy();
});
