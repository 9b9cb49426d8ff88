/**
 * Implicit-GEMM convolution kernels, register-blocked, no shared memory (the fastest form on the
 * software adapter; see docs in README "Performance").
 *
 * Forward:      out[p, col] (=|+=) sum_tap sum_ci X[p + tap, ci] * W[tap, ci, col]  (+ bias[col])
 * Filter grad:  dW[tap, ci, col] (=|+=) sum_p X[p + tap, ci] * G[p, col]
 *
 * p runs over the positions (b, y, x) of a strided NHWC map view; X is read at (b, y + dy, x + dx) and is
 * zero outside the map (same padding). A plain GEMM is the one-tap case on a 1 x M map. Masked weights
 * whose whole tap is zero are skipped by listing only the active taps.
 *
 * A thread owns TM positions and TN columns of every column block (one block for a plain convolution,
 * four for an LSTM step whose columns are the gates [o, f, i, g] of the same channels), so fused
 * epilogues see all gates of a channel in registers.
 */
import { type Offset, offsetAligned, offsetExpr, STEP_UNIFORM, u } from "./common.ts";

export interface Tiles {
  tm: number;
  tn: number;
  wgx: number;
  wgy: number;
}

/** A strided NHWC view: element (b, y, x, c) lives at offset + z*sZ + b*sB + y*sY + x*sX + c. */
export interface MapView {
  sB: number;
  sY: number;
  sX: number;
  offset: Offset;
  sZ?: number;
}

/** A tap reads input (y + dy, x + dx) with weight block `w` (row block w*sTap of the weight matrix). */
export interface Tap {
  dy: number;
  dx: number;
  w: number;
}

export interface WeightView {
  offset: Offset;
  /** Elements between consecutive taps' weight blocks (usually cin * ld). */
  sTap: number;
  /** Elements between consecutive input channels' rows (usually the full column count). */
  ld: number;
  sZ?: number;
}

export interface BindingDecl {
  name: string;
  access: "read" | "read_write";
  vec: boolean;
}

/** What a fused epilogue sees: row variables are `m{i}` (unclamped), `b{i}`, `y{i}`, `x{i}`, `ok{i}`. */
export interface EpilogueContext {
  tm: number;
  tn: number;
  vec: boolean;
  blocks: number[];
  /** Accumulator for row i, column j (vec4 index j in vec mode) of block k. */
  acc(k: number, i: number, j: number): string;
  /** Column (element index, or vec4 index in vec mode) of slot j, not including the block offset. */
  col(j: number): string;
  /** Guard expression that column slot j is inside n. */
  colOk(j: number): string;
}

export interface Epilogue {
  bindings: BindingDecl[];
  code(ctx: EpilogueContext): string;
  /** True when the code reads `step.t`. */
  usesStep?: boolean;
}

export interface ConvSpec {
  label: string;
  batch: number;
  height: number;
  width: number;
  cin: number;
  /** Columns per block. */
  n: number;
  blocks?: number[];
  taps: Tap[];
  input: MapView;
  weight: WeightView;
  /** Output view for the default epilogue (ignored with a custom epilogue). */
  output?: MapView;
  bias?: { offset: Offset; sZ?: number };
  accumulate?: boolean;
  z?: number;
  tiles: Tiles;
  epilogue?: Epilogue;
  /** Declare X read_write so a fused epilogue may write the next step's state through it. */
  inputWritable?: boolean;
}

export interface Kernel {
  code: string;
  bindings: string[];
  workgroups: [number, number, number];
  usesStep: boolean;
}

function viewAligned(v: MapView | undefined): boolean {
  if (!v) return true;
  return v.sB % 4 === 0 && v.sY % 4 === 0 && v.sX % 4 === 0 && (v.sZ ?? 0) % 4 === 0 &&
    offsetAligned(v.offset, 4);
}

function usesStepOffset(...offs: (Offset | undefined)[]): boolean {
  return offs.some((o) => o?.perStep);
}

function decl(binding: number, b: BindingDecl): string {
  const t = b.vec ? "vec4f" : "f32";
  return `@group(0) @binding(${binding}) var<storage, ${b.access}> ${b.name}: array<${t}>;`;
}

/** Columns (n, blocks) are vectorised when every block and stride keeps vec4 alignment. */
function columnsVectorisable(
  spec: { n: number; blocks?: number[]; tiles: Tiles },
  views: MapView[],
  w?: WeightView,
) {
  const blocks = spec.blocks ?? [0];
  return spec.n % 4 === 0 && spec.tiles.tn % 4 === 0 && blocks.every((b) => b % 4 === 0) &&
    views.every(viewAligned) &&
    (!w || (w.ld % 4 === 0 && w.sTap % 4 === 0 && (w.sZ ?? 0) % 4 === 0 && offsetAligned(w.offset, 4)));
}

/** Generates the forward implicit-GEMM kernel. */
export function convForward(spec: ConvSpec): Kernel {
  const { tm, tn, wgx, wgy } = spec.tiles;
  const blocks = spec.blocks ?? [0];
  const H = spec.height, Wd = spec.width, M = spec.batch * H * Wd, N = spec.n, CIN = spec.cin;
  if (spec.taps.length === 0 && !spec.epilogue) throw new Error(`${spec.label}: no taps`);
  const outViews = spec.epilogue ? [] : [spec.output!];
  const vecN = columnsVectorisable(spec, outViews, spec.weight);
  // An epilogue that writes through X indexes it in column slots, so X then shares their vector width.
  const vecA = CIN % 4 === 0 && viewAligned(spec.input) && (!spec.inputWritable || vecN);
  const V = vecN ? tn / 4 : tn; // column slots per block
  const NV = vecN ? N / 4 : N; // columns in slot units
  const KK = vecA ? 4 : 1;

  const bindings: BindingDecl[] = [
    { name: "X", access: spec.inputWritable ? "read_write" : "read", vec: vecA },
    { name: "W", access: "read", vec: vecN },
  ];
  // Without taps (an epilogue-only step) X and W are not read at all.
  if (spec.taps.length === 0) bindings.length = 0;
  if (spec.bias) bindings.push({ name: "BIAS", access: "read", vec: vecN });
  if (spec.epilogue) bindings.push(...spec.epilogue.bindings);
  else bindings.push({ name: "OUT", access: "read_write", vec: vecN });
  const usesStep = usesStepOffset(
    spec.input.offset,
    spec.weight.offset,
    spec.output?.offset,
    spec.bias?.offset,
  ) || (spec.epilogue?.usesStep ?? false);

  const dA = vecA ? 4 : 1, dN = vecN ? 4 : 1;
  const L: string[] = [];
  bindings.forEach((b, i) => L.push(decl(i, b)));
  if (usesStep) L.push(STEP_UNIFORM, `@group(0) @binding(${bindings.length}) var<uniform> step: Step;`);
  const T = spec.taps.length;
  // A thread's rows lie in one image row when the width is a multiple of tm (rows start at multiples
  // of tm): the taps' row checks and row addresses are then computed once per tap, not once per row.
  const strip = Wd % tm === 0 && M >= tm;
  const loop = tapLoop(spec, { vecA, vecN, V, KK, dA, dN, strip });
  if (T > 0) L.push(...loop.decls);
  L.push(`@compute @workgroup_size(${wgx}, ${wgy})`);
  L.push(`fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {`);
  L.push(`  let z = wid.z;`);
  L.push(`  let r0 = (wid.y * ${u(wgy)} + lid.y) * ${u(tm)};`);
  // Column slot j of a thread is c0 + j * wgx: neighbouring invocations (SIMD lanes on a CPU, a warp on
  // a GPU) read neighbouring vec4s of W.
  L.push(`  let c0 = wid.x * ${u(wgx * V)} + lid.x;`);
  for (let j = 0; j < V; j++) L.push(`  let cv${j} = min(c0 + ${u(j * wgx)}, ${u(NV - 1)});`);
  for (let i = 0; i < tm; i++) {
    L.push(`  let m${i} = r0 + ${u(i)}; let mm${i} = min(m${i}, ${u(M - 1)});`);
    L.push(
      `  let b${i} = mm${i} / ${u(H * Wd)}; let y${i} = (mm${i} / ${u(Wd)}) % ${u(H)}; ` +
        `let x${i} = mm${i} % ${u(Wd)}; let ok${i} = m${i} < ${u(M)};`,
    );
  }
  if (strip) {
    L.push(
      `  let ms = min(r0, ${u(M - tm)}); let bs = ms / ${u(H * Wd)}; let ys = (ms / ${u(Wd)}) % ${u(H)}; ` +
        `let xs = ms % ${u(Wd)};`,
    );
  }
  const zero = vecN ? "vec4f()" : "0.0";
  for (let k = 0; k < blocks.length; k++) {
    for (let i = 0; i < tm; i++) for (let j = 0; j < V; j++) L.push(`  var a${k}_${i}_${j} = ${zero};`);
  }
  if (T > 0) L.push(...loop.body);
  const ctx: EpilogueContext = {
    tm,
    tn,
    vec: vecN,
    blocks,
    acc: (k, i, j) => `a${k}_${i}_${j}`,
    col: (j) => `(c0 + ${u(j * wgx)})`,
    colOk: (j) => `(c0 + ${u(j * wgx)} < ${u(NV)})`,
  };
  if (spec.epilogue) {
    L.push(spec.epilogue.code(ctx));
  } else {
    L.push(defaultStore(spec, ctx));
  }
  L.push(`}`);
  const workgroups: [number, number, number] = [
    Math.ceil(NV / (wgx * V)),
    Math.ceil(M / (wgy * tm)),
    spec.z ?? 1,
  ];
  return { code: L.join("\n"), bindings: bindings.map((b) => b.name), workgroups, usesStep };
}

interface Derived {
  vecA: boolean;
  vecN: boolean;
  /** Column slots per block (vec4 or scalar). */
  V: number;
  /** k-steps per loaded input value (4 when X is read as vec4). */
  KK: number;
  dA: number;
  dN: number;
  /** Rows r0 .. r0 + tm - 1 are xs .. xs + tm - 1 of image row (bs, ys). */
  strip: boolean;
}

/**
 * The reduction over taps and input channels, accumulating into a{block}_{row}_{slot}. Up to
 * {@link UNROLL_TAPS} taps are unrolled, so each one's bounds checks exist only where it can leave the
 * map (the centre tap needs none); more taps (the 7x7 input layer) run in a loop, which compiles much
 * faster. Per channel step the weights are loaded first, then each row's input once, feeding its FMAs.
 */
function tapLoop(spec: ConvSpec, d: Derived): { decls: string[]; body: string[] } {
  const L: string[] = [];
  const inp = spec.input, w = spec.weight;
  L.push(`  let xbase = ${offsetExpr(inp.offset)} + z * ${u(inp.sZ ?? 0)};`);
  L.push(`  let wbase = ${offsetExpr(w.offset)} + z * ${u(w.sZ ?? 0)};`);
  if (spec.taps.length <= UNROLL_TAPS) {
    spec.taps.forEach((tap, t) => {
      L.push(`  {`);
      L.push(...tapBody(spec, d, { dy: u(OFF + tap.dy), dx: u(OFF + tap.dx), w: u(tap.w) }, {
        y: tap.dy !== 0,
        x: tap.dx !== 0,
      }, t));
      L.push(`  }`);
    });
    return { decls: [], body: L };
  }
  const list = spec.taps.map((t) => `vec3i(${t.dy + OFF}, ${t.dx + OFF}, ${t.w})`).join(", ");
  L.push(`  for (var t = 0u; t < ${u(spec.taps.length)}; t++) {`);
  L.push(`    let tap = vec3u(TAPS[t]);`);
  L.push(...tapBody(spec, d, { dy: "tap.x", dx: "tap.y", w: "tap.z" }, { y: true, x: true }, 0));
  L.push(`  }`);
  return { decls: [`const TAPS = array<vec3i, ${spec.taps.length}>(${list});`], body: L };
}

/** Taps unrolled at most (more taps run in a loop). */
const UNROLL_TAPS = 9;

/** Bias added to coordinates before a tap offset, larger than any kernel half-width. */
const OFF = 64;

/**
 * One tap: `e.dy`, `e.dx` are u32 WGSL expressions of OFF + offset, `e.w` the weight block; `check`
 * says which bounds can fail. Coordinates are biased by OFF so that y + dy never wraps: the input row is
 * valid iff OFF <= y + (OFF + dy) < OFF + H.
 */
function tapBody(
  spec: ConvSpec,
  d: Derived,
  e: { dy: string; dx: string; w: string },
  check: { y: boolean; x: boolean },
  t: number,
): string[] {
  const { tm } = spec.tiles;
  const { vecA, vecN, V, KK, dA, dN } = d;
  const blocks = spec.blocks ?? [0];
  const H = spec.height, Wd = spec.width, CIN = spec.cin;
  const inp = spec.input, w = spec.weight;
  const aZero = vecA ? "vec4f()" : "0.0";
  const L: string[] = [];
  L.push(`    let wt = (wbase + ${e.w} * ${u(w.sTap)}) / ${u(dN)};`);
  if (d.strip) {
    const yy = `(ys + ${e.dy})`;
    L.push(`    let ra_${t} = xbase + bs * ${u(inp.sB)} + (${yy} - ${u(OFF)}) * ${u(inp.sY)};`);
    if (check.y) L.push(`    let yin_${t} = ${yy} >= ${u(OFF)} && ${yy} < ${u(OFF + H)};`);
  }
  for (let i = 0; i < tm; i++) {
    const yy = `(y${i} + ${e.dy})`;
    const xx = d.strip ? `(xs + ${u(i)} + ${e.dx})` : `(x${i} + ${e.dx})`;
    const conds = [];
    if (check.y) conds.push(...(d.strip ? [`yin_${t}`] : [`${yy} >= ${u(OFF)}`, `${yy} < ${u(OFF + H)}`]));
    if (check.x) conds.push(`${xx} >= ${u(OFF)}`, `${xx} < ${u(OFF + Wd)}`);
    const row = d.strip ? `ra_${t}` : `xbase + b${i} * ${u(inp.sB)} + (${yy} - ${u(OFF)}) * ${u(inp.sY)}`;
    const addr = `(${row} + (${xx} - ${u(OFF)}) * ${u(inp.sX)}) / ${u(dA)}`;
    if (conds.length) {
      L.push(`    let in${i}_${t} = ${conds.join(" && ")};`);
      L.push(`    let xb${i} = select(0u, ${addr}, in${i}_${t});`);
    } else {
      L.push(`    let xb${i} = ${addr};`);
    }
  }
  const checked = check.x || check.y;
  L.push(`    for (var ci = 0u; ci < ${u(CIN / KK)}; ci++) {`);
  for (let kk = 0; kk < KK; kk++) {
    L.push(`      let wr${kk} = wt + (ci * ${u(KK)} + ${u(kk)}) * ${u(w.ld / dN)};`);
    for (let k = 0; k < blocks.length; k++) {
      for (let j = 0; j < V; j++) {
        L.push(`      let w${kk}_${k}_${j} = W[wr${kk} + ${u(blocks[k] / dN)} + cv${j}];`);
      }
    }
  }
  for (let i = 0; i < tm; i++) {
    const load = `X[xb${i} + ci]`;
    L.push(`      let x${i}v = ${checked ? `select(${aZero}, ${load}, in${i}_${t})` : load};`);
    for (let kk = 0; kk < KK; kk++) {
      const a = vecA ? `x${i}v[${kk}]` : `x${i}v`;
      const av = vecN ? `vec4f(${a})` : a;
      for (let k = 0; k < blocks.length; k++) {
        for (let j = 0; j < V; j++) {
          L.push(`      a${k}_${i}_${j} = fma(${av}, w${kk}_${k}_${j}, a${k}_${i}_${j});`);
        }
      }
    }
  }
  L.push(`    }`);
  return L;
}

function defaultStore(spec: ConvSpec, ctx: EpilogueContext): string {
  const o = spec.output!;
  const dN = ctx.vec ? 4 : 1;
  const V = ctx.vec ? ctx.tn / 4 : ctx.tn;
  const L: string[] = [];
  L.push(`  let obase = ${offsetExpr(o.offset)} + z * ${u(o.sZ ?? 0)};`);
  if (spec.bias) {
    L.push(`  let bbase = (${offsetExpr(spec.bias.offset)} + z * ${u(spec.bias.sZ ?? 0)}) / ${u(dN)};`);
  }
  for (let i = 0; i < ctx.tm; i++) {
    L.push(`  if (ok${i}) {`);
    L.push(
      `    let o${i} = (obase + b${i} * ${u(o.sB)} + y${i} * ${u(o.sY)} + x${i} * ${u(o.sX)}) / ${u(dN)};`,
    );
    for (let k = 0; k < ctx.blocks.length; k++) {
      for (let j = 0; j < V; j++) {
        const col = `${ctx.col(j)} + ${u(ctx.blocks[k] / dN)}`;
        let v = ctx.acc(k, i, j);
        if (spec.bias) v = `${v} + BIAS[bbase + ${col}]`;
        if (spec.accumulate) v = `${v} + OUT[o${i} + ${col}]`;
        L.push(`    if ${ctx.colOk(j)} { OUT[o${i} + ${col}] = ${v}; }`);
      }
    }
    L.push(`  }`);
  }
  return L.join("\n");
}

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
   * PART[z, s, (tap, ci), col] (taps in list order) instead of dW; a reduction adds the splits up.
   */
  splits?: number;
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
  const vecN = columnsVectorisable(spec, [spec.grad], spec.weight);
  // Rows in groups of four consecutive channels of one tap: one vec4 load serves four rows.
  const vecA = CIN % 4 === 0 && tm % 4 === 0 && viewAligned(spec.input);
  const V = vecN ? tn / 4 : tn;
  const NV = vecN ? N / 4 : N;
  const dN = vecN ? 4 : 1;
  const groups = vecA ? tm / 4 : tm;
  const bindings: BindingDecl[] = [
    { name: "X", access: "read", vec: vecA },
    { name: "G", access: "read", vec: vecN },
    { name: "DW", access: "read_write", vec: vecN },
  ];
  const usesStep = usesStepOffset(spec.input.offset, spec.grad.offset, spec.weight.offset);
  const inp = spec.input, g = spec.grad, w = spec.weight;
  const L: string[] = [];
  bindings.forEach((b, i) => L.push(decl(i, b)));
  if (usesStep) L.push(STEP_UNIFORM, `@group(0) @binding(${bindings.length}) var<uniform> step: Step;`);
  const tapList = spec.taps.map((t) => `vec3i(${t.dy}, ${t.dx}, ${t.w})`).join(", ");
  L.push(`const TAPS = array<vec3i, ${T}>(${tapList});`);
  L.push(`@compute @workgroup_size(${wgx}, ${wgy})`);
  L.push(`fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {`);
  const splits = spec.splits ?? 1, R = spec.batch * H, chunk = Math.ceil(R / splits);
  L.push(`  let z = wid.z / ${u(splits)};`);
  L.push(`  let split = wid.z % ${u(splits)};`);
  L.push(`  let rlo = split * ${u(chunk)}; let rhi = min(rlo + ${u(chunk)}, ${u(R)});`);
  L.push(`  let r0 = (wid.y * ${u(wgy)} + lid.y) * ${u(tm)};`);
  L.push(`  let c0 = wid.x * ${u(wgx * V)} + lid.x;`);
  L.push(`  let xbase = ${offsetExpr(inp.offset)} + z * ${u(inp.sZ ?? 0)};`);
  L.push(`  let gbase = ${offsetExpr(g.offset)} + z * ${u(g.sZ ?? 0)};`);
  for (let j = 0; j < V; j++) L.push(`  let cv${j} = min(c0 + ${u(j * wgx)}, ${u(NV - 1)});`);
  const zero = vecN ? "vec4f()" : "0.0";
  for (let i = 0; i < tm; i++) for (let j = 0; j < V; j++) L.push(`  var a${i}_${j} = ${zero};`);
  const fma = (i: number, xv: string, gv: (j: number) => string) => {
    const a = vecA ? `${xv}[${i % 4}]` : xv;
    const av = vecN ? `vec4f(${a})` : a;
    for (let j = 0; j < V; j++) L.push(`      a${i}_${j} = fma(${av}, ${gv(j)}, a${i}_${j});`);
  };
  if (vecA && CIN % tm === 0) {
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
        for (let j = 0; j < V; j++) L.push(`      let g${s}_${j} = G[gi${s} + cv${j}];`);
        for (let q = 0; q < tm / 4; q++) L.push(`      let xv${s}_${q} = X[xi${s} + ${u(q)}];`);
      }
      for (let i = 0; i < tm; i++) {
        for (let s = 0; s < n; s++) fma(i, `xv${s}_${Math.floor(i / 4)}`, (j) => `g${s}_${j}`);
      }
    };
    L.push(`    var x = xlo;`);
    L.push(`    for (; x + 2u <= xhi; x += 2u) {`);
    body(2);
    L.push(`    }`);
    L.push(`    for (; x < xhi; x++) {`);
    body(1);
    L.push(`    }`);
    L.push(`  }`);
  } else {
    // Rows may span taps (or channels come one at a time): per-group taps and bounds checks.
    const rowsPer = vecA ? 4 : 1;
    for (let q = 0; q < groups; q++) {
      L.push(`  let mm${q} = min(r0 + ${u(q * rowsPer)}, ${u(M - 1)});`);
      L.push(`  let tap${q} = TAPS[mm${q} / ${u(CIN)}]; let ci${q} = mm${q} % ${u(CIN)};`);
    }
    L.push(`  for (var r = rlo; r < rhi; r++) {`);
    L.push(`    let b = r / ${u(H)}; let y = r % ${u(H)};`);
    for (let q = 0; q < groups; q++) {
      L.push(`    let yy${q} = i32(y) + tap${q}.x;`);
      L.push(`    let iny${q} = yy${q} >= 0 && yy${q} < ${H};`);
      L.push(`    let xr${q} = xbase + b * ${u(inp.sB)} + u32(max(yy${q}, 0)) * ${u(inp.sY)} + ci${q};`);
    }
    L.push(`    let gr = gbase + b * ${u(g.sB)} + y * ${u(g.sY)};`);
    L.push(`    for (var x = 0u; x < ${u(Wd)}; x++) {`);
    const aZero = vecA ? "vec4f()" : "0.0";
    for (let q = 0; q < groups; q++) {
      L.push(`      let xx${q} = i32(x) + tap${q}.y;`);
      L.push(`      let in${q} = iny${q} && xx${q} >= 0 && xx${q} < ${Wd};`);
      L.push(
        `      let xa${q} = select(0u, (xr${q} + u32(xx${q}) * ${u(inp.sX)}) / ${u(vecA ? 4 : 1)}, in${q});`,
      );
      L.push(`      let xv${q} = select(${aZero}, X[xa${q}], in${q});`);
    }
    L.push(`      let gi = (gr + x * ${u(g.sX)}) / ${u(dN)};`);
    for (let j = 0; j < V; j++) L.push(`      let g${j} = G[gi + cv${j}];`);
    for (let i = 0; i < tm; i++) fma(i, `xv${vecA ? Math.floor(i / 4) : i}`, (j) => `g${j}`);
    L.push(`    }`);
    L.push(`  }`);
  }
  if (splits > 1) {
    // Partial sums, dense over the active taps: PART[z, split, t * CIN + ci, col].
    L.push(`  let pbase = (z * ${u(splits)} + split) * ${u(M * (NV * dN))};`);
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
  const workgroups: [number, number, number] = [
    Math.ceil(NV / (wgx * V)),
    Math.ceil(M / (wgy * tm)),
    (spec.z ?? 1) * splits,
  ];
  return { code: L.join("\n"), bindings: bindings.map((b) => b.name), workgroups, usesStep };
}
