/**
 * The filter gradient of the implicit-GEMM convolution:
 *
 *   dW[tap, ci, col] (=|+=) sum_p act(X[p + tap, ci]) * G[p, col],    dB[col] (=|+=) sum_p G[p, col]
 *
 * Rows are (tap, ci), columns are output channels, and the reduction runs over the positions of the map
 * (or of one split's share of its rows) in a fixed order (deterministic). act is the identity or, with
 * `preRelu`, max(x, 0) (the convolution read a ReLU of its input). With `bias`, one more row of
 * workgroups sums the columns of G in the same dispatch: the bias gradient costs no dispatch of its own.
 *
 * With `subgroups` (a device with subgroup operations) each subgroup owns one tile, its lanes take
 * every subgroup-size-th position of the split, and subgroupAdd sums their accumulators: a tile's
 * reduction then runs on a whole subgroup instead of one thread. That gives a GPU 32 times more threads
 * on the few tiles of a small filter gradient (the MNIST PixelCNN's 3x3: 40 tiles of 4 x 8), and fills
 * the SIMD lanes of the software adapter (src/engine/tiles.ts filterGradPlan). Tiles are found from the
 * subgroup builtins (subgroup_id, num_subgroups), so the kernel assumes nothing about the subgroup size
 * or how invocations form subgroups. Its order of summation is then the device's subgroupAdd: fixed on one
 * device, not the same across devices (or as the thread form's).
 */
import { clampedShift, type Offset, offsetExpr, STEP_UNIFORM, u } from "./common.ts";
import {
  type BindingDecl,
  columnsVectorisable,
  decl,
  type Kernel,
  linearLayout,
  load,
  localIds,
  type MapView,
  type Tap,
  type Tiles,
  usesStepOffset,
  viewAligned,
  weightVectorisable,
  type WeightView,
} from "./kernel.ts";

export interface FilterGradSpec {
  label: string;
  batch: number;
  height: number;
  width: number;
  cin: number;
  n: number;
  taps: Tap[];
  input: MapView;
  /** The output gradient G[p, col], a map view over the same positions. */
  grad: MapView;
  /** Where dW[tap.w, ci, col] goes. */
  weight: WeightView;
  accumulate?: boolean;
  z?: number;
  tiles: Tiles;
  /**
   * Split-K: split s sums only its share of the map's rows and writes partial sums
   * PART[z, s, row, col] instead of dW and dB, rows (tap, ci) in tap-list order, then the bias row
   * (when `bias` is given); a reduction adds the splits up.
   */
  splits?: number;
  /** Write partial sums even with one split (default: when split). */
  partial?: boolean;
  /** Read max(X, 0) instead of X. */
  preRelu?: boolean;
  /** Also write the bias gradient dB[z, col] at this offset (or, with partial sums, as partial row M). */
  bias?: { offset: Offset; sZ?: number; accumulate?: boolean };
  /** One tile per subgroup (see the file comment and {@link SubgroupGrid}); tiles' wgx and wgy are 1. */
  subgroups?: SubgroupGrid;
  /**
   * Only positions with x >= y + band contribute: G is zero at the others (the positions of a skewed
   * LSTM scan right of the image, src/engine/ops/lstm.ts), so skipping them changes no sum.
   */
  band?: number;
  /** Read X and G from their texture mirrors (Graph.textureOf): the software adapter's faster loads. */
  textures?: boolean;
}

/** How the subgroup form lays out its grid. */
export interface SubgroupGrid {
  /** Invocations in a workgroup. */
  workgroup: number;
  /** The largest subgroup size of the device: a workgroup holds at least workgroup / widest subgroups. */
  widest: number;
  /** The most workgroups along x (a longer grid folds into y). */
  maxGroupsX: number;
}

/** Rows of one split's partial sums: the (tap, ci) rows, then the bias row when there is one. */
export function partialRows(spec: Pick<FilterGradSpec, "taps" | "cin" | "bias">): number {
  return spec.taps.length * spec.cin + (spec.bias ? 1 : 0);
}

/**
 * Generates the filter-gradient kernel: rows are (tap, ci), columns are output channels, and the
 * reduction runs over the positions of the map (or of one split's share of its rows) in a fixed order
 * (deterministic).
 */
export function convFilterGrad(spec: FilterGradSpec): Kernel {
  const { tm, tn, wgx, wgy } = spec.tiles;
  const H = spec.height, Wd = spec.width, CIN = spec.cin, N = spec.n, T = spec.taps.length;
  const M = T * CIN;
  const vecN = columnsVectorisable(spec, [spec.grad]) && weightVectorisable(spec.weight);
  // Rows in groups of four consecutive channels of one tap: one vec4 load serves four rows.
  const vecA = CIN % 4 === 0 && tm % 4 === 0 && viewAligned(spec.input);
  const V = vecN ? tn / 4 : tn;
  const NV = vecN ? N / 4 : N;
  const dN = vecN ? 4 : 1;
  const sg = spec.subgroups;
  if (sg && (wgx !== 1 || wgy !== 1)) throw new Error(`${spec.label}: subgroup tiles need wgx = wgy = 1`);
  const xb: BindingDecl = { name: "X", access: "read", vec: vecA, texture: spec.textures };
  const gb: BindingDecl = { name: "G", access: "read", vec: vecN, texture: spec.textures };
  const bindings: BindingDecl[] = [xb, gb, { name: "DW", access: "read_write", vec: vecN }];
  const splits = spec.splits ?? 1, partial = spec.partial ?? splits > 1;
  if (splits > 1 && !partial) throw new Error(`${spec.label}: split-K needs partial sums`);
  if (spec.bias && !partial) bindings.push({ name: "DB", access: "read_write", vec: vecN });
  const usesStep = usesStepOffset(spec.input.offset, spec.grad.offset, spec.weight.offset);
  const inp = spec.input, g = spec.grad, w = spec.weight;
  const L: string[] = [];
  bindings.forEach((b, i) => L.push(decl(i, b)));
  if (usesStep) L.push(STEP_UNIFORM, `@group(0) @binding(${bindings.length}) var<uniform> step: Step;`);
  const tapList = spec.taps.map((t) => `vec3i(${t.dy}, ${t.dx}, ${t.w})`).join(", ");
  L.push(`const TAPS = array<vec3i, ${T}>(${tapList});`);
  const R = spec.batch * H, chunk = Math.ceil(R / splits);
  const rowGroups = Math.ceil(M / (wgy * tm)), P = partialRows(spec);
  const colTiles = Math.ceil(NV / (wgx * V)), tileRows = rowGroups + (spec.bias ? 1 : 0);
  let workgroups: [number, number, number];
  const zs = (spec.z ?? 1) * splits;
  if (sg) {
    // One tile per subgroup: slot = the subgroup's index in the whole grid (y folds a long x).
    const slotsPerGroup = Math.max(1, Math.floor(sg.workgroup / sg.widest));
    const groups = Math.ceil(colTiles * tileRows / slotsPerGroup);
    workgroups = [Math.min(groups, sg.maxGroupsX), Math.ceil(groups / sg.maxGroupsX), zs];
    L.push(`@compute @workgroup_size(${sg.workgroup})`);
    L.push(`fn main(@builtin(workgroup_id) wid: vec3u, @builtin(subgroup_id) sgid: u32,`);
    L.push(`        @builtin(num_subgroups) nsg: u32, @builtin(subgroup_invocation_id) lane: u32,`);
    L.push(`        @builtin(subgroup_size) sgs: u32) {`);
    L.push(`  let slot = (wid.y * ${u(workgroups[0])} + wid.x) * nsg + sgid;`);
    L.push(`  if (slot >= ${u(colTiles * tileRows)}) { return; }`);
    L.push(`  let tileY = slot / ${u(colTiles)};`);
    L.push(`  let c0 = (slot % ${u(colTiles)}) * ${u(V)};`);
  } else {
    workgroups = [colTiles, tileRows, zs];
    const linear = linearLayout(spec.tiles);
    L.push(`@compute @workgroup_size(${linear ? wgx * wgy : `${wgx}, ${wgy}`})`);
    L.push(`fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {`);
    L.push(...localIds(spec.tiles, linear));
    L.push(`  let tileY = wid.y * ${u(wgy)} + ly;`);
    L.push(`  let c0 = wid.x * ${u(wgx * V)} + lx;`);
  }
  L.push(`  let z = wid.z / ${u(splits)};`);
  L.push(`  let split = wid.z % ${u(splits)};`);
  L.push(`  let rlo = split * ${u(chunk)}; let rhi = min(rlo + ${u(chunk)}, ${u(R)});`);
  L.push(`  let r0 = tileY * ${u(tm)};`);
  L.push(`  let xbase = ${offsetExpr(inp.offset)} + z * ${u(inp.sZ ?? 0)};`);
  L.push(`  let gbase = ${offsetExpr(g.offset)} + z * ${u(g.sZ ?? 0)};`);
  for (let j = 0; j < V; j++) L.push(`  let cv${j} = min(c0 + ${u(j * wgx)}, ${u(NV - 1)});`);
  const zero = vecN ? "vec4f()" : "0.0";
  if (spec.bias) L.push(...biasRow(spec, gb, { vecN, V, NV, dN, rowGroups, P, M }));
  for (let i = 0; i < tm; i++) for (let j = 0; j < V; j++) L.push(`  var a${i}_${j} = ${zero};`);
  const relu = (v: string, z: string) => spec.preRelu ? `max(${v}, ${z})` : v;
  const fma = (i: number, xv: string, gv: (j: number) => string) => {
    const a = vecA ? `${xv}[${i % 4}]` : xv;
    const av = vecN ? `vec4f(${a})` : a;
    for (let j = 0; j < V; j++) L.push(`      a${i}_${j} = fma(${av}, ${gv(j)}, a${i}_${j});`);
  };
  if (vecA && CIN % tm === 0 && !sg) {
    // All rows of a thread belong to one tap: loop over exactly the positions where it stays inside the
    // map, so the inner loop has no bounds checks.
    // Threads past the last row (not stored) repeat the last tile, so every load stays in bounds.
    L.push(`  let mm = min(r0, ${u(M - tm)});`);
    L.push(`  let tap = TAPS[mm / ${u(CIN)}]; let ci0 = mm % ${u(CIN)};`);
    L.push(`  let ylo = u32(max(0, -tap.x)); let yhi = u32(min(${H}, ${H} - tap.x));`);
    L.push(`  let xlo = u32(max(0, -tap.y)); let xhi = u32(min(${Wd}, ${Wd} - tap.y));`);
    L.push(`  for (var r = rlo; r < rhi; r++) {`);
    L.push(`    let b = r / ${u(H)}; let y = r % ${u(H)};`);
    L.push(`    if (y < ylo || y >= yhi) { continue; }`);
    if (spec.band !== undefined) L.push(`    let xb = max(xlo, ${clampedShift("y", spec.band)});`);
    L.push(`    let xr = (xbase + b * ${u(inp.sB)} + u32(i32(y) + tap.x) * ${u(inp.sY)} + ci0) / 4u;`);
    L.push(`    let gr = (gbase + b * ${u(g.sB)} + y * ${u(g.sY)}) / ${u(dN)};`);
    // Two positions per iteration, loads first, then each accumulator row takes its FMAs in a row: on
    // the software adapter accumulators live in spilled registers, so this halves the spill traffic.
    // Four positions ran 10-40% slower than two (more loaded values to hold; interleaved on lavapipe
    // over the 1x1 filter gradients of the paper's shapes), one position 0-5% slower.
    const body = (n: number) => {
      for (let s = 0; s < n; s++) {
        L.push(`      let xi${s} = xr + u32(i32(x + ${u(s)}) + tap.y) * ${u(inp.sX / 4)};`);
        L.push(`      let gi${s} = gr + (x + ${u(s)}) * ${u(g.sX / dN)};`);
        for (let j = 0; j < V; j++) L.push(`      let g${s}_${j} = ${load(gb, `gi${s} + cv${j}`)};`);
        for (let q = 0; q < tm / 4; q++) {
          L.push(`      let xv${s}_${q} = ${relu(load(xb, `xi${s} + ${u(q)}`), "vec4f()")};`);
        }
      }
      for (let i = 0; i < tm; i++) {
        for (let s = 0; s < n; s++) fma(i, `xv${s}_${Math.floor(i / 4)}`, (j) => `g${s}_${j}`);
      }
    };
    L.push(`    var x = ${spec.band !== undefined ? "xb" : "xlo"};`);
    L.push(`    for (; x + 2u <= xhi; x += 2u) {`);
    body(2);
    L.push(`    }`);
    L.push(`    for (; x < xhi; x++) {`);
    body(1);
    L.push(`    }`);
    L.push(`  }`);
  } else {
    // Rows may span taps (or channels come one at a time, or positions are shared by subgroup lanes):
    // per-group taps and bounds checks.
    const rowsPer = vecA ? 4 : 1, groups = vecA ? tm / 4 : tm;
    for (let q = 0; q < groups; q++) {
      L.push(`  let mm${q} = min(r0 + ${u(q * rowsPer)}, ${u(M - 1)});`);
      L.push(`  let tap${q} = TAPS[mm${q} / ${u(CIN)}]; let ci${q} = mm${q} % ${u(CIN)};`);
    }
    const loop = positionLoop(spec, !!sg);
    L.push(...loop.open);
    for (let q = 0; q < groups; q++) {
      L.push(`    let yy${q} = i32(y) + tap${q}.x;`);
      L.push(`    let iny${q} = yy${q} >= 0 && yy${q} < ${H};`);
      L.push(`    let xr${q} = xbase + b * ${u(inp.sB)} + u32(max(yy${q}, 0)) * ${u(inp.sY)} + ci${q};`);
    }
    L.push(`    let gr = gbase + b * ${u(g.sB)} + y * ${u(g.sY)};`);
    L.push(...loop.inner);
    const aZero = vecA ? "vec4f()" : "0.0";
    for (let q = 0; q < groups; q++) {
      L.push(`      let xx${q} = i32(x) + tap${q}.y;`);
      L.push(`      let in${q} = iny${q} && xx${q} >= 0 && xx${q} < ${Wd};`);
      L.push(
        `      let xa${q} = select(0u, (xr${q} + u32(xx${q}) * ${u(inp.sX)}) / ${u(vecA ? 4 : 1)}, in${q});`,
      );
      L.push(`      let xv${q} = select(${aZero}, ${relu(load(xb, `xa${q}`), aZero)}, in${q});`);
    }
    L.push(`      let gi = (gr + x * ${u(g.sX)}) / ${u(dN)};`);
    for (let j = 0; j < V; j++) L.push(`      let g${j} = ${load(gb, `gi + cv${j}`)};`);
    for (let i = 0; i < tm; i++) fma(i, `xv${vecA ? Math.floor(i / 4) : i}`, (j) => `g${j}`);
    L.push(...loop.close);
  }
  if (sg) {
    for (let i = 0; i < tm; i++) {
      for (let j = 0; j < V; j++) L.push(`  a${i}_${j} = subgroupAdd(a${i}_${j});`);
    }
    L.push(`  if (lane != 0u) { return; }`);
  }
  if (partial) {
    // Partial sums, dense over the active taps: PART[z, split, t * CIN + ci, col].
    L.push(`  let pbase = (z * ${u(splits)} + split) * ${u(P * N)};`);
    for (let i = 0; i < tm; i++) {
      L.push(`  if (r0 + ${u(i)} < ${u(M)}) {`);
      L.push(`    let o = (pbase + (r0 + ${u(i)}) * ${u(NV * dN)}) / ${u(dN)};`);
      for (let j = 0; j < V; j++) {
        const col = `c0 + ${u(j * wgx)}`;
        L.push(`    if (${col} < ${u(NV)}) { DW[o + ${col}] = a${i}_${j}; }`);
      }
      L.push(`  }`);
    }
  } else {
    L.push(`  let dwbase = ${offsetExpr(w.offset)} + z * ${u(w.sZ ?? 0)};`);
    for (let i = 0; i < tm; i++) {
      L.push(`  if (r0 + ${u(i)} < ${u(M)}) {`);
      L.push(`    let tp = TAPS[(r0 + ${u(i)}) / ${u(CIN)}];`);
      L.push(
        `    let o = (dwbase + u32(tp.z) * ${u(w.sTap)} + ((r0 + ${u(i)}) % ${u(CIN)}) * ${u(w.ld)}) / ${
          u(dN)
        };`,
      );
      for (let j = 0; j < V; j++) {
        const col = `c0 + ${u(j * wgx)}`;
        const v = spec.accumulate ? `a${i}_${j} + DW[o + ${col}]` : `a${i}_${j}`;
        L.push(`    if (${col} < ${u(NV)}) { DW[o + ${col}] = ${v}; }`);
      }
      L.push(`  }`);
    }
  }
  L.push(`}`);
  return { code: L.join("\n"), bindings: bindings.map((b) => b.name), workgroups, usesStep };
}

/**
 * The loops over the split's positions: `open` defines b and y (for subgroup lanes also x), `inner`
 * then defines x where `open` did not, `close` ends both. Row by row for a thread, x running along the
 * row; every subgroup-size-th position from the lane's own for a subgroup, or, with a band, row by
 * row again, the lanes taking every subgroup-size-th kept position of the row.
 */
function positionLoop(
  spec: FilterGradSpec,
  subgroups: boolean,
): { open: string[]; inner: string[]; close: string[] } {
  const H = spec.height, Wd = spec.width;
  const rows = [`  for (var r = rlo; r < rhi; r++) {`, `    let b = r / ${u(H)}; let y = r % ${u(H)};`];
  const start = spec.band === undefined ? "0u" : clampedShift("y", spec.band);
  if (!subgroups) {
    return {
      open: rows,
      inner: [`    for (var x = ${start}; x < ${u(Wd)}; x++) {`],
      close: [`    }`, `  }`],
    };
  }
  if (spec.band !== undefined) {
    return {
      open: rows,
      inner: [`    for (var x = ${start} + lane; x < ${u(Wd)}; x += sgs) {`],
      close: [`    }`, `  }`],
    };
  }
  return {
    open: [
      `  for (var p = rlo * ${u(Wd)} + lane; p < rhi * ${u(Wd)}; p += sgs) {`,
      `    let r = p / ${u(Wd)}; let x = p % ${u(Wd)};`,
      `    let b = r / ${u(H)}; let y = r % ${u(H)};`,
    ],
    inner: [],
    close: [`  }`],
  };
}

/**
 * The bias gradient: the last row of workgroups (or of subgroup tiles) sums the columns of G over the
 * split's positions (one thread row, or each subgroup's lanes, doing the work) and stores to DB
 * (unsplit) or to the partial row M.
 */
function biasRow(
  spec: FilterGradSpec,
  gb: BindingDecl,
  d: { vecN: boolean; V: number; NV: number; dN: number; rowGroups: number; P: number; M: number },
): string[] {
  const g = spec.grad, b = spec.bias!, splits = spec.splits ?? 1;
  const partial = spec.partial ?? splits > 1;
  const sg = !!spec.subgroups;
  const { V, NV, dN } = d;
  const zero = d.vecN ? "vec4f()" : "0.0";
  const L: string[] = [];
  // The bias is the extra row of workgroups, or of subgroup tiles.
  L.push(`  if (${sg ? "tileY" : "wid.y"} == ${u(d.rowGroups)}) {`);
  if (!sg) L.push(`    if (ly != 0u) { return; }`);
  for (let j = 0; j < V; j++) L.push(`    var s${j} = ${zero};`);
  const loop = positionLoop(spec, sg);
  L.push(...loop.open.map((l) => `  ${l}`));
  L.push(`      let gr = (gbase + b * ${u(g.sB)} + y * ${u(g.sY)}) / ${u(dN)};`);
  L.push(...loop.inner.map((l) => `  ${l}`));
  L.push(`        let gi = gr + x * ${u(g.sX / dN)};`);
  for (let j = 0; j < V; j++) L.push(`        s${j} += ${load(gb, `gi + cv${j}`)};`);
  L.push(...loop.close.map((l) => `  ${l}`));
  if (sg) {
    for (let j = 0; j < V; j++) L.push(`    s${j} = subgroupAdd(s${j});`);
    L.push(`    if (lane != 0u) { return; }`);
  }
  if (partial) {
    L.push(`    let o = ((z * ${u(splits)} + split) * ${u(d.P * spec.n)} + ${u(d.M * spec.n)}) / ${u(dN)};`);
  } else {
    L.push(`    let o = (${offsetExpr(b.offset)} + z * ${u(b.sZ ?? 0)}) / ${u(dN)};`);
  }
  const out = partial ? "DW" : "DB";
  for (let j = 0; j < V; j++) {
    const col = `c0 + ${u(j * spec.tiles.wgx)}`;
    const v = !partial && b.accumulate ? `s${j} + ${out}[o + ${col}]` : `s${j}`;
    L.push(`    if (${col} < ${u(NV)}) { ${out}[o + ${col}] = ${v}; }`);
  }
  L.push(`    return;`);
  L.push(`  }`);
  return L;
}
