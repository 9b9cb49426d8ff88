/** The non-finite count (training's divergence guard) against a count on the host. */
import assert from "node:assert/strict";
import { Graph } from "../src/engine/graph.ts";
import { recordNonFiniteCounts, type Region } from "../src/engine/ops/finite.ts";
import { Rng } from "../src/engine/rng.ts";
import { randomArray, testGpu } from "./util.ts";

/** Random values (huge, tiny, subnormal, signed zeros among them) with NaN and ±Inf planted at random. */
function planted(n: number, bad: number, seed: number): Float32Array {
  const a = Float32Array.from(randomArray(n, seed, 1e30));
  a.set([3.4e38, -3.4e38, 1e-45, -1e-45, -0, 0, 1.17e-38], 0);
  const r = new Rng(seed, 5);
  const kinds = [NaN, Infinity, -Infinity];
  for (let k = 0; k < bad; k++) a[Math.floor(r.uniform() * n)] = kinds[k % 3];
  return a;
}

const hostCount = (a: Float32Array) => a.reduce((s, v) => s + (Number.isFinite(v) ? 0 : 1), 0);

Deno.test("non-finite counts equal a host count, per group, split into ranges, run twice", async () => {
  const gpu = await testGpu();
  // Lengths that are not multiples of the workgroup, the range or the vector width.
  const data = [[planted(70_001, 37, 1), planted(333, 0, 2)], [planted(5_000, 1, 3)], [planted(64, 0, 4)]];
  const groups: Region[][] = data.map((arrays) =>
    arrays.map((a, i) => {
      const buffer = gpu.createBuffer(
        `values ${i}`,
        a.byteLength,
        GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      );
      gpu.device.queue.writeBuffer(buffer, 0, a as Float32Array<ArrayBuffer>);
      return { buffer, elements: a.length };
    })
  );
  const want = data.map((arrays) => arrays.reduce((s, a) => s + hostCount(a), 0));
  assert.ok(want[0] > 0 && want[1] === 1 && want[2] === 0, `planted counts ${want}`);
  // 1 KiB ranges of 256 values: the 70,001 values take 274 dispatches, the last one partial.
  for (const maxBindingBytes of [undefined, 1024]) {
    const g = new Graph(gpu, "finite test");
    const counts = g.alloc("counts", [groups.length], "u32");
    recordNonFiniteCounts(g, "check", groups, counts, maxBindingBytes);
    for (let run = 0; run < 2; run++) {
      g.run(g.forward);
      assert.deepEqual([...await counts.readU32()], want, `binding cap ${maxBindingBytes}, run ${run}`);
    }
    g.destroy();
  }
  for (const r of groups.flat()) r.buffer.destroy();
});
