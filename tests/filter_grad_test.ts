/**
 * The subgroup form of the filter gradient at grids the op does not reach on this adapter: a grid
 * folded into y (more workgroups than a row may hold), and workgroups holding more subgroups than the
 * grid was sized for (the surplus subgroups find no tile); and every form with a band. The conv tests cover
 * the forms through conv2d.
 */
import { Graph } from "../src/engine/graph.ts";
import { conv2dBackwardRef } from "../src/engine/reference/conv.ts";
import type { Gpu } from "../src/engine/device.ts";
import { convFilterGrad, type SubgroupGrid } from "../src/wgsl/filter_grad.ts";
import type { Tiles } from "../src/wgsl/kernel.ts";
import { assertClose, f32, f64, randomArray, testGpu } from "./util.ts";

const [B, H, W, CIN, N] = [2, 5, 6, 8, 12];

/**
 * The 3x3 filter gradient and bias gradient of random maps in the given form (with G zeroed outside a
 * band when one is given) against the float64 reference. Returns the kernel's grid.
 */
async function checkFilterGrad(
  gpu: Gpu,
  form: { tiles: Tiles; subgroups?: SubgroupGrid; band?: number; textures?: boolean },
): Promise<[number, number, number]> {
  const x = randomArray(B * H * W * CIN, 5);
  const dy = randomArray(B * H * W * N, 6).map((v, i) => {
    const p = Math.floor(i / N), px = p % W, py = Math.floor(p / W) % H;
    return form.band === undefined || px >= py + form.band ? v : 0;
  });
  const g = new Graph(gpu, "filter gradient");
  const xt = g.alloc("x", [B, H, W, CIN]), gt = g.alloc("dy", [B, H, W, N]);
  const dw = g.alloc("dw", [3, 3, CIN, N]), db = g.alloc("db", [N]);
  xt.write(f32(x));
  gt.write(f32(dy));
  const taps = [];
  for (let ky = 0; ky < 3; ky++) {
    for (let kx = 0; kx < 3; kx++) taps.push({ dy: ky - 1, dx: kx - 1, w: ky * 3 + kx });
  }
  const kernel = convFilterGrad({
    label: "dW",
    batch: B,
    height: H,
    width: W,
    cin: CIN,
    n: N,
    taps,
    input: { sB: H * W * CIN, sY: W * CIN, sX: CIN, offset: { c: 0 } },
    grad: { sB: H * W * N, sY: W * N, sX: N, offset: { c: 0 } },
    weight: { offset: { c: 0 }, sTap: CIN * N, ld: N },
    bias: { offset: { c: 0 } },
    ...form,
  });
  const read = (t: typeof xt) => form.textures ? g.textureOf(t)! : t;
  g.dispatch("dW", kernel, { X: read(xt), G: read(gt), DW: dw, DB: db });
  g.run(g.forward);
  const ref = conv2dBackwardRef(x, [B, H, W, CIN], new Float64Array(9 * CIN * N), [3, 3, CIN, N], dy);
  assertClose(f64(await dw.read()), ref.dw, 1e-5, "dW");
  assertClose(f64(await db.read()), ref.db, 1e-5, "dBias");
  g.destroy();
  return kernel.workgroups;
}

function skipWithoutSubgroups(gpu: Gpu, t: Deno.TestContext): boolean {
  if (gpu.hasFeature("subgroups")) return false;
  t.step({ name: "skipped: the device offers no subgroups", ignore: true, fn: () => {} });
  return true;
}

// Workgroups of 64 assumed to hold one subgroup (lavapipe's hold 8), or as many as they hold; workgroups
// of 8 (one subgroup on lavapipe, the software plan's).
const GRIDS = [
  { workgroup: 64, widest: 64, maxGroupsX: 4 },
  { workgroup: 64, widest: 8, maxGroupsX: 2 },
  { workgroup: 8, widest: 8, maxGroupsX: 3 },
];
for (const grid of GRIDS) {
  Deno.test(`subgroup filter gradient, workgroups of ${grid.workgroup} for subgroups up to ${grid.widest}, rows of ${grid.maxGroupsX} workgroups: dW and dBias match the float64 reference`, async (t) => {
    const gpu = await testGpu();
    if (skipWithoutSubgroups(gpu, t)) return;
    const groups = await checkFilterGrad(gpu, { tiles: { tm: 4, tn: 4, wgx: 1, wgy: 1 }, subgroups: grid });
    // 18 row tiles and the bias row, 3 column tiles: the grid has rows in y.
    if (groups[1] < 2) throw new Error(`the grid did not fold: ${groups}`);
  });
}

// A band (FilterGradSpec.band: only positions x >= y + band, where G is known to be zero elsewhere)
// in each form: the thread form with vec4 rows (tm 4) and with scalar rows (tm 2), the subgroup form;
// each reading X and G from storage and from texture mirrors (scalar rows: scalar texel components).
const BANDED = [
  { name: "threads, vec4 rows", tiles: { tm: 4, tn: 4, wgx: 2, wgy: 2 } },
  { name: "threads, scalar rows", tiles: { tm: 2, tn: 4, wgx: 2, wgy: 2 } },
  { name: "subgroups", tiles: { tm: 4, tn: 4, wgx: 1, wgy: 1 }, subgroups: GRIDS[2] },
];
for (const form of BANDED) {
  for (const textures of [false, true]) {
    const reads = textures ? "texture mirrors" : "storage";
    Deno.test(`banded filter gradient (${form.name}, maps from ${reads}): skipping the positions where G is zero leaves dW and dBias exact`, async (t) => {
      const gpu = await testGpu();
      if (form.subgroups && skipWithoutSubgroups(gpu, t)) return;
      await checkFilterGrad(gpu, { tiles: form.tiles, subgroups: form.subgroups, band: -2, textures });
    });
  }
}
