import { deepStrictEqual, throws } from "node:assert/strict";
import { Graph } from "../src/engine/graph.ts";
import { recordGatherBatch, uploadDataset } from "../src/engine/ops/gather.ts";
import { Rng } from "../src/engine/rng.ts";
import { assertClose, testGpu } from "./util.ts";

interface Case {
  image: [number, number, number];
  images: number;
  batch: number;
  scale: number;
  shift: number;
}

const CASES: Case[] = [
  // 75 bytes per image: images start in the middle of words.
  { image: [5, 5, 3], images: 9, batch: 7, scale: 1 / 255, shift: -0.5 },
  { image: [28, 28, 1], images: 5, batch: 4, scale: 1, shift: 0 },
  { image: [3, 3, 1], images: 3, batch: 5, scale: 2, shift: 0.25 },
];

for (const c of CASES) {
  Deno.test(`gather [${c.image}] x${c.batch} from ${c.images} images: GPU matches a CPU gather`, async () => {
    const gpu = await testGpu();
    const bytes = c.image.reduce((a, b) => a * b);
    const r = new Rng(bytes, 1);
    const pixels = Uint8Array.from({ length: c.images * bytes }, () => Math.floor(r.uniform() * 256));
    // Repeats, the first and the last image.
    const idx = Uint32Array.from(
      { length: c.batch },
      (_, b) => (b === 0 ? c.images - 1 : (b * 5) % c.images),
    );

    const data = uploadDataset(gpu, pixels, bytes);
    const g = new Graph(gpu, "gather test");
    const indices = g.alloc("indices", [c.batch], "u32");
    indices.write(idx);
    const input = g.alloc("input", [c.batch, ...c.image]);
    const targets = g.alloc("targets", [c.batch, ...c.image], "u32");
    recordGatherBatch(g, data, bytes, indices, input, targets, c.scale, c.shift);
    g.run(g.forward);

    const want = new Uint32Array(c.batch * bytes);
    idx.forEach((i, b) => want.set(pixels.subarray(i * bytes, (i + 1) * bytes), b * bytes));
    deepStrictEqual(await targets.readU32(), want);
    assertClose(await input.read(), Array.from(want, (v) => v * c.scale + c.shift), 1e-6, "input");
    g.destroy();
    data.buffer.destroy();
  });
}

Deno.test("gather: bad sizes and over-limit datasets are refused with a clear message", async () => {
  const gpu = await testGpu();
  throws(
    () => uploadDataset(gpu, new Uint8Array(100), 75),
    /100 bytes are not a whole number of 75-byte images/,
  );
  const limit = gpu.limits.maxStorageBufferBindingSize;
  const big = new Uint8Array(Math.ceil((limit + 1) / 3072) * 3072);
  throws(() => uploadDataset(gpu, big, 3072, "cifar"), /cifar: .* exceed .* chunks of at most \d+ images/);
  const data = uploadDataset(gpu, new Uint8Array(150), 75);
  const g = new Graph(gpu, "gather shape test");
  const indices = g.alloc("indices", [2], "u32");
  throws(
    () =>
      recordGatherBatch(g, data, 75, indices, g.alloc("in", [2, 5, 5, 3]), g.alloc("t", [2, 5, 5, 3]), 1, 0),
    /u32 targets/,
  );
  throws(
    () =>
      recordGatherBatch(
        g,
        data,
        75,
        indices,
        g.alloc("in", [2, 4, 5, 3]),
        g.alloc("t", [2, 4, 5, 3], "u32"),
        1,
        0,
      ),
    /do not hold 75 bytes/,
  );
  g.destroy();
  data.buffer.destroy();
});
