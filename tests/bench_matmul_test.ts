/** The benchmarks' plain matmuls (the yardstick, and B in a uniform buffer) compute the product. */
import { Graph } from "../src/engine/graph.ts";
import { Tensor } from "../src/engine/tensor.ts";
import type { Kernel } from "../src/wgsl/kernel.ts";
import { matmulKernel, type MatmulShape, matmulUniformBKernel } from "../bench/matmul.ts";
import { tiles } from "../bench/matmul_figures.ts";
import { assertClose, f32, randomArray, testGpu } from "./util.ts";

/** C = A x B in float64. */
function product(a: Float64Array, b: Float64Array, { m, n, k }: MatmulShape): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += a[i * k + q] * b[q * n + j];
      c[i * n + j] = s;
    }
  }
  return c;
}

async function check(shape: MatmulShape, kernel: Kernel): Promise<void> {
  const gpu = await testGpu();
  const g = new Graph(gpu, "bench matmul test");
  const a = randomArray(shape.m * shape.k, 1), b = randomArray(shape.k * shape.n, 2);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
  const bt = new Tensor(gpu, "B", [shape.k, shape.n], gpu.createBuffer("B", shape.k * shape.n * 4, usage), 0);
  const at = g.alloc("A", [shape.m, shape.k]), ct = g.alloc("C", [shape.m, shape.n]);
  at.write(f32(a));
  bt.write(f32(b));
  g.dispatch("matmul", kernel, { A: at, B: bt, C: ct });
  g.run(g.forward);
  assertClose(await ct.read(), product(a, b, shape), 1e-5, "C");
  g.destroy();
  bt.buffer.destroy();
}

// 37 rows: a partial last workgroup, whose rows past M are clamped on read and never stored.
const SHAPE: MatmulShape = { m: 37, n: 32, k: 24 };

Deno.test("bench matmul, B in storage (interleaved or not): GPU matches a float64 product", async () => {
  await check(SHAPE, matmulKernel(SHAPE, tiles(8, 8, 2, 4)));
  await check(SHAPE, matmulKernel(SHAPE, tiles(4, 8, 2, 2, true)));
});

Deno.test("bench matmul, B in a uniform buffer: GPU matches a float64 product", async () => {
  await check(SHAPE, matmulUniformBKernel(SHAPE, { tm: 2, tn: 16, wg: 8 }));
  await check(SHAPE, matmulUniformBKernel(SHAPE, { tm: 1, tn: 32, wg: 4 }));
});
