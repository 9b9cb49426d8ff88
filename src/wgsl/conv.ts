/**
 * The implicit-GEMM convolution forward kernel, register-blocked, no shared memory (the fastest form on
 * the software adapter, see src/engine/tiles.ts):
 *
 *   out[p, col] (=|+=) sum_tap sum_ci act(X[p + tap, ci]) * W[tap, ci, col]  (+ bias[col]) (+ RES[p, col])
 *
 * p runs over the positions (b, y, x) of a strided NHWC map view; X is read at (b, y + dy, x + dx) and is
 * zero outside the map (same padding); act is the identity or, with `preRelu`, max(x, 0), so a ReLU
 * feeding a convolution costs no pass of its own. A plain GEMM is the one-tap case on a 1 x M map.
 * Masked weights whose whole tap is zero are skipped by listing only the active taps. With `reluMask`
 * the stored value is zeroed where MASKX (a map laid out like the output) is not positive: the input
 * gradient of a convolution that read max(x, 0).
 *
 * A thread owns TM positions and TN columns of every column block (one block for a plain convolution,
 * four for an LSTM step whose columns are the gates [o, f, i, g] of the same channels), so fused
 * epilogues see all gates of a channel in registers.
 */
import { type Offset, offsetExpr, STEP_UNIFORM, u } from "./common.ts";
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
  WORKGROUP_BYTES,
} from "./kernel.ts";

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
  /** The input binding's name (default X; a scan kernel reads h0 for its first step). */
  inputName?: string;
  /** The default store's output binding (default OUT). */
  outputName?: string;
  /**
   * W is bound as a uniform buffer of this many vec4s (at most 64 KiB) instead of storage. On lavapipe a
   * storage load is a loop over the SIMD lanes with a bounds check per element, a uniform load one plain
   * load (or gather); with tiles whose lanes run along M (wgx = 1) every lane reads the same weights.
   * Software tiles only: the workgroup-memory form stages W itself.
   */
  uniformWeight?: number;
  /**
   * Only the positions x >= `from` of each image are rows (height 1): a step of a scan over a skewed map
   * that skips the positions right of the image (src/engine/ops/lstm.ts). Rows then run x-major (row m
   * is image m % batch at x = from + m / batch), and a workgroup past the last row exits at once. `from`
   * is a WGSL u32 expression, at most width - 1 (it may read step.t).
   */
  band?: { from: string };
  /** Read max(X, 0) instead of X (a ReLU feeding the convolution). */
  preRelu?: boolean;
  /**
   * Read X, RES and MASKX from their texture mirrors (Graph.textureOf), the software adapter's faster
   * loads; register tiles only, and X read-only.
   */
  textures?: boolean;
  /** Default store: add RES[p, col], a map laid out like the output (a residual connection). */
  residual?: boolean;
  /** Default store: zero the value where MASKX[p, col] (laid out like the output) is not positive. */
  reluMask?: boolean;
}

/** What a spec implies for code generation: vector widths, strip rows, the bindings it reads. */
interface Plan extends Derived {
  bindings: BindingDecl[];
  usesStep: boolean;
  NV: number;
  M: number;
}

function plan(spec: ConvSpec): Plan {
  const { tm, tn } = spec.tiles;
  const Wd = spec.width, M = spec.batch * spec.height * Wd, N = spec.n, CIN = spec.cin;
  if (spec.taps.length === 0 && !spec.epilogue) throw new Error(`${spec.label}: no taps`);
  if (spec.band && spec.height !== 1) throw new Error(`${spec.label}: a band needs a map of height 1`);
  if (spec.textures && (spec.tiles.shared || spec.inputWritable)) {
    throw new Error(`${spec.label}: texture reads need register tiles and a read-only input`);
  }
  if (spec.uniformWeight && spec.tiles.shared) {
    throw new Error(`${spec.label}: weights in a uniform buffer need register tiles, not shared ones`);
  }
  const outViews = spec.epilogue ? [] : [spec.output!];
  const vecN = columnsVectorisable(spec, outViews);
  const vecW = vecN && weightVectorisable(spec.weight);
  // An epilogue that writes through X indexes it in column slots, so X then shares their vector width.
  const vecA = CIN % 4 === 0 && viewAligned(spec.input) && (!spec.inputWritable || vecN);
  const input = spec.inputName ?? "X";
  const bindings: BindingDecl[] = [];
  // Without taps (an epilogue-only step) X and W are not read at all.
  if (spec.taps.length > 0) {
    bindings.push(
      { name: input, access: spec.inputWritable ? "read_write" : "read", vec: vecA, texture: spec.textures },
      { name: "W", access: "read", vec: vecW, uniformVec4s: spec.uniformWeight },
    );
  }
  if (spec.bias) bindings.push({ name: "BIAS", access: "read", vec: vecN });
  if (spec.epilogue) bindings.push(...spec.epilogue.bindings);
  else {
    if (spec.residual) bindings.push({ name: "RES", access: "read", vec: vecN, texture: spec.textures });
    if (spec.reluMask) bindings.push({ name: "MASKX", access: "read", vec: vecN, texture: spec.textures });
    bindings.push({ name: spec.outputName ?? "OUT", access: "read_write", vec: vecN });
  }
  const usesStep =
    usesStepOffset(spec.input.offset, spec.weight.offset, spec.output?.offset, spec.bias?.offset) ||
    (spec.epilogue?.usesStep ?? false);
  return {
    vecA,
    vecN,
    vecW,
    uniformW: (spec.uniformWeight ?? 0) > 0,
    V: vecN ? tn / 4 : tn,
    KK: vecA ? 4 : 1,
    dA: vecA ? 4 : 1,
    dN: vecN ? 4 : 1,
    // A thread's rows lie in one image row when the width is a multiple of tm (rows start at multiples
    // of tm): the taps' row checks and row addresses are then computed once per tap, not once per row.
    strip: !spec.band && Wd % tm === 0 && M >= tm,
    input,
    bindings,
    usesStep,
    NV: vecN ? N / 4 : N,
    M,
  };
}

/**
 * A thread's rows and columns: `r0` (its first row), `c0` and the column slots `cv{j}`, and per row i
 * the position `b{i}`, `y{i}`, `x{i}` and whether it exists, `ok{i}`. `rowsPerGroup` pins a workgroup
 * row to `rowsPerGroup` rows starting at wid.y times that (a scan's image), instead of wgy * tm.
 */
function threadSetup(spec: ConvSpec, p: Plan, rowsPerGroup?: number): string[] {
  const { tm, wgx, wgy } = spec.tiles;
  const H = spec.height, Wd = spec.width, M = p.M;
  const L: string[] = [];
  if (spec.band && rowsPerGroup) {
    throw new Error(`${spec.label}: a scan workgroup owns whole images, not a band`);
  }
  L.push(`  let z = wid.z;`);
  // rw: the workgroup's first row.
  L.push(`  let rw = wid.y * ${u(rowsPerGroup ?? wgy * tm)};`);
  if (spec.band) {
    L.push(`  let lo = ${spec.band.from};`);
    L.push(`  let live = ${u(spec.batch)} * (${u(Wd)} - lo);`);
    L.push(`  if (rw >= live) { return; }`);
  }
  L.push(...localIds(spec.tiles, linearLayout(spec.tiles) && !rowsPerGroup));
  L.push(`  let r0 = rw + ly * ${u(tm)};`);
  // Column slot j of a thread is c0 + j * wgx: neighbouring invocations (SIMD lanes on a CPU, a warp on
  // a GPU) read neighbouring vec4s of W. With one column of threads (wgx = 1, lanes along M) c0 is the
  // same in every lane and written without lx, so a weight load indexed by it is uniform.
  L.push(`  let c0 = wid.x * ${u(wgx * p.V)}${wgx > 1 ? " + lx" : ""};`);
  for (let j = 0; j < p.V; j++) L.push(`  let cv${j} = min(c0 + ${u(j * wgx)}, ${u(p.NV - 1)});`);
  for (let i = 0; i < tm; i++) {
    L.push(`  let m${i} = r0 + ${u(i)};`);
    if (spec.band) {
      const c = rowCoords(spec, `m${i}`);
      L.push(`  let b${i} = ${c.b}; let y${i} = 0u; let x${i} = ${c.x}; let ok${i} = ${c.ok};`);
      continue;
    }
    const ok = rowsPerGroup ? `ly * ${u(tm)} + ${u(i)} < ${u(rowsPerGroup)}` : `m${i} < ${u(M)}`;
    L.push(`  let mm${i} = min(m${i}, ${u(M - 1)});`);
    L.push(
      `  let b${i} = mm${i} / ${u(H * Wd)}; let y${i} = (mm${i} / ${u(Wd)}) % ${u(H)}; ` +
        `let x${i} = mm${i} % ${u(Wd)}; let ok${i} = ${ok};`,
    );
  }
  if (p.strip) {
    L.push(
      `  let ms = min(r0, ${u(M - tm)}); let bs = ms / ${u(H * Wd)}; let ys = (ms / ${u(Wd)}) % ${u(H)}; ` +
        `let xs = ms % ${u(Wd)};`,
    );
  }
  return L;
}

/**
 * Image, column and existence of row `m` in a band (ConvSpec.band): x-major over the live positions,
 * clamped to the last live row so that loads stay in bounds. Needs `lo` and `live` in scope.
 */
function rowCoords(spec: ConvSpec, m: string): { b: string; x: string; ok: string } {
  const mm = `min(${m}, live - 1u)`;
  return { b: `${mm} % ${u(spec.batch)}`, x: `lo + ${mm} / ${u(spec.batch)}`, ok: `${m} < live` };
}

/** The accumulators, the reduction over taps and channels, and the store (a block of its own). */
function gemmBody(spec: ConvSpec, p: Plan, id = ""): { decls: string[]; lines: string[]; shared: number } {
  const { tm, tn, wgx } = spec.tiles;
  const blocks = spec.blocks ?? [0];
  const loop = spec.tiles.shared ? sharedTapLoop(spec, p, id) : { ...tapLoop(spec, p, id), shared: 0 };
  const L: string[] = [`  {`];
  const zero = p.vecN ? "vec4f()" : "0.0";
  for (let k = 0; k < blocks.length; k++) {
    for (let i = 0; i < tm; i++) for (let j = 0; j < p.V; j++) L.push(`  var a${k}_${i}_${j} = ${zero};`);
  }
  if (spec.taps.length > 0) L.push(...loop.body);
  const ctx: EpilogueContext = {
    tm,
    tn,
    vec: p.vecN,
    blocks,
    acc: (k, i, j) => `a${k}_${i}_${j}`,
    col: (j) => `(c0 + ${u(j * wgx)})`,
    colOk: (j) => `(c0 + ${u(j * wgx)} < ${u(p.NV)})`,
  };
  L.push(spec.epilogue ? spec.epilogue.code(ctx) : defaultStore(spec, ctx));
  L.push(`  }`);
  const taps = spec.taps.length > 0;
  return { decls: taps ? loop.decls : [], lines: L, shared: taps ? loop.shared : 0 };
}

/** The workgroup-memory tiles shared by every body of a kernel: AS (inputs) then BS (weights). */
function sharedDecl(floats: number): string[] {
  return floats ? [`var<workgroup> SH: array<f32, ${floats}>;`] : [];
}

/** Generates the forward implicit-GEMM kernel. */
export function convForward(spec: ConvSpec): Kernel {
  const { tm, wgx, wgy } = spec.tiles;
  const p = plan(spec);
  const L: string[] = [];
  p.bindings.forEach((b, i) => L.push(decl(i, b)));
  if (p.usesStep) L.push(STEP_UNIFORM, `@group(0) @binding(${p.bindings.length}) var<uniform> step: Step;`);
  const body = gemmBody(spec, p);
  L.push(...body.decls, ...sharedDecl(body.shared));
  L.push(`@compute @workgroup_size(${linearLayout(spec.tiles) ? wgx * wgy : `${wgx}, ${wgy}`})`);
  L.push(`fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {`);
  L.push(...threadSetup(spec, p));
  L.push(...body.lines);
  L.push(`}`);
  const workgroups: [number, number, number] = [
    Math.ceil(p.NV / (wgx * p.V)),
    Math.ceil(p.M / (wgy * tm)),
    spec.z ?? 1,
  ];
  return { code: L.join("\n"), bindings: p.bindings.map((b) => b.name), workgroups, usesStep: p.usesStep };
}

/** One phase of a scan kernel: a GEMM body run for steps `from` to `to` (inclusive, either direction). */
export interface ScanPhase {
  spec: ConvSpec;
  from: number;
  to: number;
  /** The WGSL value of `step.t` at step `s` (an i32 expression): what the body's offsets read. */
  t: (s: string) => string;
}

/**
 * A whole recurrent scan in one dispatch: the phases' GEMM bodies run in order, step by step, a storage
 * barrier after each step so that the next step's reads see it. A workgroup owns one image of one
 * direction (wid.y, wid.z) and all columns: every phase must share tiles, positions and columns.
 */
export function scanKernel(label: string, phases: ScanPhase[]): Kernel {
  const first = phases[0].spec;
  const { wgx, wgy } = first.tiles;
  const plans = phases.map((ph) => plan(ph.spec));
  const rows = first.height * first.width;
  const bindings: BindingDecl[] = [];
  for (const p of plans) {
    for (const b of p.bindings) {
      const seen = bindings.find((x) => x.name === b.name);
      if (!seen) bindings.push({ ...b });
      else if (seen.vec !== b.vec) throw new Error(`${label}: binding ${b.name} read with two vector widths`);
      else if (b.access === "read_write") seen.access = "read_write";
    }
  }
  if (plans.some((p) => p.NV > wgx * p.V)) {
    throw new Error(`${label}: a scan workgroup must own every column`);
  }
  const L: string[] = [];
  bindings.forEach((b, i) => L.push(decl(i, b)));
  L.push(STEP_UNIFORM);
  const bodies = phases.map((ph, i) => gemmBody(ph.spec, plans[i], `_${i}`));
  for (const b of bodies) L.push(...b.decls);
  L.push(...sharedDecl(Math.max(...bodies.map((b) => b.shared))));
  L.push(`@compute @workgroup_size(${wgx}, ${wgy})`);
  L.push(`fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {`);
  L.push(...threadSetup(first, plans[0], rows));
  L.push(`  var step: Step;`);
  phases.forEach((ph, i) => {
    const dir = ph.to >= ph.from ? 1 : -1;
    L.push(`  for (var s = ${ph.from}; s != ${ph.to + dir}; s += ${dir}) {`);
    L.push(`    step.t = u32(${ph.t("s")});`);
    L.push(...bodies[i].lines);
    L.push(`    storageBarrier();`);
    L.push(`  }`);
  });
  L.push(`}`);
  return {
    code: L.join("\n"),
    bindings: bindings.map((b) => b.name),
    workgroups: [1, first.batch * first.height, first.z ?? 1],
    usesStep: false,
  };
}

interface Derived {
  /** The input binding's name. */
  input: string;
  vecA: boolean;
  vecN: boolean;
  /** W is read as vec4s (else one scalar per column, assembled into vec4s when vecN). */
  vecW: boolean;
  /** W is a uniform array of vec4s (ConvSpec.uniformWeight). */
  uniformW: boolean;
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
function tapLoop(spec: ConvSpec, d: Derived, id: string): { decls: string[]; body: string[] } {
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
  L.push(`    let tap = vec3u(TAPS${id}[t]);`);
  L.push(...tapBody(spec, d, { dy: "tap.x", dx: "tap.y", w: "tap.z" }, { y: true, x: true }, 0));
  L.push(`  }`);
  return { decls: [`const TAPS${id} = array<vec3i, ${spec.taps.length}>(${list});`], body: L };
}

/**
 * The reduction with workgroup-memory tiles (Tiles.shared, a GPU's form). Per tap and chunk of KC input
 * channels, the workgroup's threads together load its R = wgy * tm input rows (the tap applied, zero
 * outside the map) and the chunk's weight rows for all its columns into SH, inputs first, then weights;
 * after a barrier each thread multiplies its rows by its columns from there, and a second barrier
 * guards SH before the next chunk. Returns the floats of SH it needs.
 */
function sharedTapLoop(
  spec: ConvSpec,
  d: Plan,
  id: string,
): { decls: string[]; body: string[]; shared: number } {
  const { tm, wgx, wgy } = spec.tiles;
  const blocks = spec.blocks ?? [0];
  const H = spec.height, Wd = spec.width, CIN = spec.cin, M = d.M;
  const R = wgy * tm, NW = wgx * d.V, dN = d.dN, threads = wgx * wgy;
  const COLS = blocks.length * NW * dN;
  const QA = d.vecA ? 4 : 1, dW = d.vecW ? 4 : 1;
  let KC = Math.min(32, Math.ceil(CIN / QA) * QA);
  // Halved while too big, staying a multiple of QA (a chunk row is read as whole vec4s).
  // Halved while too big, staying a multiple of QA (a chunk row is read as whole vec4s).
  while (KC > QA && (R + COLS) * KC * 4 > WORKGROUP_BYTES) KC = Math.max(QA, Math.floor(KC / 2 / QA) * QA);
  if ((R + COLS) * KC * 4 > WORKGROUP_BYTES) {
    throw new Error(`${spec.label}: ${R} rows and ${COLS} columns do not fit workgroup memory`);
  }
  const B0 = R * KC;
  const inp = spec.input, w = spec.weight;
  const zeroA = d.vecA ? "vec4f()" : "0.0", zeroN = dN === 4 ? "vec4f()" : "0.0";
  const taps = spec.taps.map((t) => `vec3i(${t.dy + OFF}, ${t.dx + OFF}, ${t.w})`).join(", ");
  const decls = [
    `const TAPS${id} = array<vec3i, ${spec.taps.length}>(${taps});`,
    `const BLK${id} = array<u32, ${blocks.length}>(${blocks.map((b) => u(b)).join(", ")});`,
  ];
  const L: string[] = [];
  L.push(`  let xbase = ${offsetExpr(inp.offset)} + z * ${u(inp.sZ ?? 0)};`);
  L.push(`  let wbase = ${offsetExpr(w.offset)} + z * ${u(w.sZ ?? 0)};`);
  L.push(`  let li = lid.y * ${u(wgx)} + lid.x;`);
  L.push(`  for (var t = 0u; t < ${u(spec.taps.length)}; t++) {`);
  L.push(`    let tap = vec3u(TAPS${id}[t]);`);
  L.push(`    for (var k0 = 0u; k0 < ${u(CIN)}; k0 += ${u(KC)}) {`);
  // Inputs: element e is row r, channels k .. k + QA - 1 of the chunk.
  L.push(`      for (var e = li; e < ${u((R * KC) / QA)}; e += ${u(threads)}) {`);
  L.push(`        let r = e / ${u(KC / QA)}; let k = (e % ${u(KC / QA)}) * ${u(QA)};`);
  L.push(`        let m = rw + r;`);
  if (spec.band) {
    const c = rowCoords(spec, "m");
    L.push(`        let rb = ${c.b}; let yy = tap.x; let xx = ${c.x} + tap.y; let rok = ${c.ok};`);
  } else {
    L.push(`        let mm = min(m, ${u(M - 1)}); let rb = mm / ${u(H * Wd)};`);
    L.push(`        let yy = (mm / ${u(Wd)}) % ${u(H)} + tap.x; let xx = mm % ${u(Wd)} + tap.y;`);
    L.push(`        let rok = m < ${u(M)};`);
  }
  L.push(
    `        let ok = rok && yy >= ${u(OFF)} && yy < ${u(OFF + H)} && xx >= ${u(OFF)} && ` +
      `xx < ${u(OFF + Wd)} && k0 + k < ${u(CIN)};`,
  );
  L.push(
    `        let a = (xbase + rb * ${u(inp.sB)} + (yy - ${u(OFF)}) * ${u(inp.sY)} + ` +
      `(xx - ${u(OFF)}) * ${u(inp.sX)} + k0 + k) / ${u(QA)};`,
  );
  const raw = `select(${zeroA}, ${d.input}[select(0u, a, ok)], ok)`;
  L.push(`        let v = ${spec.preRelu ? `max(${raw}, ${zeroA})` : raw};`);
  if (QA === 4) { for (let q = 0; q < 4; q++) L.push(`        SH[r * ${u(KC)} + k + ${u(q)}] = v[${q}];`); }
  else L.push(`        SH[r * ${u(KC)} + k] = v;`);
  L.push(`      }`);
  // Weights: element e is chunk row k, block bk, column slot s of the workgroup.
  L.push(`      for (var e = li; e < ${u(KC * blocks.length * NW)}; e += ${u(threads)}) {`);
  L.push(`        let k = e / ${u(blocks.length * NW)}; let bk = (e / ${u(NW)}) % ${u(blocks.length)};`);
  L.push(`        let s = e % ${u(NW)}; let cv = min(wid.x * ${u(NW)} + s, ${u(d.NV - 1)});`);
  L.push(
    `        let row = (wbase + tap.z * ${u(w.sTap)}) / ${u(dW)} + min(k0 + k, ${u(CIN - 1)}) * ${
      u(w.ld / dW)
    };`,
  );
  const wv = sharedWeight(d, w, `BLK${id}[bk]`);
  L.push(`        let v = select(${zeroN}, ${wv}, k0 + k < ${u(CIN)});`);
  const at = `${u(B0)} + k * ${u(COLS)} + bk * ${u(NW * dN)} + s * ${u(dN)}`;
  if (dN === 4) { for (let q = 0; q < 4; q++) L.push(`        SH[${at} + ${u(q)}] = v[${q}];`); }
  else L.push(`        SH[${at}] = v;`);
  L.push(`      }`);
  L.push(`      workgroupBarrier();`);
  L.push(`      for (var k = 0u; k < min(${u(KC)}, ${u(CIN)} - k0); k++) {`);
  for (let i = 0; i < tm; i++) {
    L.push(`        let xa${i} = SH[(lid.y * ${u(tm)} + ${u(i)}) * ${u(KC)} + k];`);
  }
  for (let bk = 0; bk < blocks.length; bk++) {
    for (let j = 0; j < d.V; j++) {
      const at = `${u(B0)} + k * ${u(COLS)} + ${u(bk * NW * dN)} + (lid.x + ${u(j * wgx)}) * ${u(dN)}`;
      const v = dN === 4
        ? `vec4f(${[0, 1, 2, 3].map((q) => `SH[${at} + ${u(q)}]`).join(", ")})`
        : `SH[${at}]`;
      L.push(`        let wv${bk}_${j} = ${v};`);
      for (let i = 0; i < tm; i++) {
        const a = dN === 4 ? `vec4f(xa${i})` : `xa${i}`;
        L.push(`        a${bk}_${i}_${j} = fma(${a}, wv${bk}_${j}, a${bk}_${i}_${j});`);
      }
    }
  }
  L.push(`      }`);
  L.push(`      workgroupBarrier();`);
  L.push(`    }`);
  L.push(`  }`);
  return { decls, body: L, shared: (R + COLS) * KC };
}

/** A weight value of column slot `cv` of block `block` (a WGSL u32) in row `row`, for the shared tiles. */
function sharedWeight(d: Plan, w: WeightView, block: string): string {
  if (d.vecW) return `W[row + ${block} / 4u + cv]`;
  const s = u(w.sCol ?? 1);
  const at = (q: number) => `W[row + (${block} + cv${d.vecN ? " * 4u" : ""} + ${u(q)}) * ${s}]`;
  return d.vecN ? `vec4f(${[0, 1, 2, 3].map(at).join(", ")})` : at(0);
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
  const { vecA, vecN, vecW, V, KK, dA } = d;
  const blocks = spec.blocks ?? [0];
  const H = spec.height, Wd = spec.width, CIN = spec.cin;
  const inp = spec.input, w = spec.weight;
  const aZero = vecA ? "vec4f()" : "0.0";
  const dW = vecW ? 4 : 1;
  const L: string[] = [];
  L.push(`    let wt = (wbase + ${e.w} * ${u(w.sTap)}) / ${u(dW)};`);
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
    L.push(`      let wr${kk} = wt + (ci * ${u(KK)} + ${u(kk)}) * ${u(w.ld / dW)};`);
    for (let k = 0; k < blocks.length; k++) {
      for (let j = 0; j < V; j++) {
        L.push(`      let w${kk}_${k}_${j} = ${weightLoad(d, w, `wr${kk}`, blocks[k], `cv${j}`)};`);
      }
    }
  }
  for (let i = 0; i < tm; i++) {
    const raw = load({ name: d.input, access: "read", vec: vecA, texture: spec.textures }, `xb${i} + ci`);
    const v = spec.preRelu ? `max(${raw}, ${aZero})` : raw;
    L.push(`      let x${i}v = ${checked ? `select(${aZero}, ${v}, in${i}_${t})` : v};`);
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

/**
 * The weights of column slot `cv` of block `block` in row `row` (a WGSL expression of W's index unit):
 * one vec4 load, one scalar, or (columns strided in memory) four scalars assembled into a vec4.
 */
function weightLoad(d: Derived, w: WeightView, row: string, block: number, cv: string): string {
  if (d.vecW) return `W[${row} + ${u(block / 4)} + ${cv}]`;
  const s = w.sCol ?? 1;
  const at = (q: number) =>
    scalarW(d, `${row} + (${u(block + q)} + ${cv}${d.vecN ? " * 4u" : ""}) * ${u(s)}`);
  return d.vecN ? `vec4f(${[0, 1, 2, 3].map(at).join(", ")})` : at(0);
}

/** Scalar element `i` of W: a uniform W is an array of vec4s. */
function scalarW(d: Derived, i: string): string {
  return d.uniformW ? `W[(${i}) / 4u][(${i}) % 4u]` : `W[${i}]`;
}

function defaultStore(spec: ConvSpec, ctx: EpilogueContext): string {
  const o = spec.output!;
  const dN = ctx.vec ? 4 : 1;
  const V = ctx.vec ? ctx.tn / 4 : ctx.tn;
  const zero = ctx.vec ? "vec4f()" : "0.0";
  const out = spec.outputName ?? "OUT";
  const read = (name: string, i: string) =>
    load({ name, access: "read", vec: ctx.vec, texture: spec.textures }, i);
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
        if (spec.reluMask) v = `select(${zero}, ${v}, ${read("MASKX", `o${i} + ${col}`)} > ${zero})`;
        if (spec.bias) v = `${v} + BIAS[bbase + ${col}]`;
        if (spec.residual) v = `${v} + ${read("RES", `o${i} + ${col}`)}`;
        if (spec.accumulate) v = `${v} + ${out}[o${i} + ${col}]`;
        L.push(`    if ${ctx.colOk(j)} { ${out}[o${i} + ${col}] = ${v}; }`);
      }
    }
    L.push(`  }`);
  }
  return L.join("\n");
}
