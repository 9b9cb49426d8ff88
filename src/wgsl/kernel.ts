/**
 * The kernel contract: what every WGSL generator returns, and how the GEMM-shaped kernels (the conv
 * forward, the filter gradient, the LSTM steps) see memory.
 *
 * A GEMM kernel multiplies rows of an input map view by a weight view. Rows are positions (b, y, x) of
 * a strided NHWC map, columns are output channels, and the reduction runs over input channels of one
 * or more taps (offsets in the map).
 */
import { type Offset, offsetAligned, u } from "./common.ts";

/** A generated kernel: WGSL with entry point `main`, its storage bindings in order, and its grid. */
export interface Kernel {
  code: string;
  bindings: string[];
  workgroups: [number, number, number];
  /** True when a step-index uniform is bound after the storage bindings (recurrent layers). */
  usesStep: boolean;
  /**
   * Read-only tables the dispatcher uploads once and binds under their names (listed in `bindings`).
   * lavapipe copies a WGSL const array into the invocation at every access with a run-time index, so a
   * table read in a hot loop lives in a buffer: the end-of-backward reduction's 250 entries cost the
   * MNIST Diagonal BiLSTM 95 ms a step as a const array, 5 ms from a buffer; the 7x7 patch gather's taps
   * 5.8 ms against 4.5. (A conv reads its taps unrolled up to 9, or once per tap of a long loop: there a
   * buffer gained nothing measurable.)
   */
  tables?: Record<string, Uint32Array<ArrayBuffer>>;
}

/** Register tile of one invocation (tm rows x tn columns) and workgroup shape (wgx x wgy invocations). */
export interface Tiles {
  tm: number;
  tn: number;
  wgx: number;
  wgy: number;
  /**
   * Stage the input and weight tiles of the workgroup in workgroup memory, a chunk of input channels
   * at a time (a GPU's form: every input row is then read once per workgroup instead of once per
   * thread column, every weight once instead of once per thread row). Absent: each thread reads its own
   * operands from storage (the software adapter's form).
   */
  shared?: boolean;
}

/** Workgroup memory every WebGPU adapter offers (the default maxComputeWorkgroupStorageSize). */
export const WORKGROUP_BYTES = 16384;

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

/** Weight element (tap block t, row k, column j) lives at offset + z*sZ + t*sTap + k*ld + j*sCol. */
export interface WeightView {
  offset: Offset;
  /** Elements between consecutive taps' weight blocks (usually cin * ld). */
  sTap: number;
  /** Elements between consecutive rows (input channels of the GEMM). */
  ld: number;
  /**
   * Elements between consecutive columns: 1 for a weight stored [tap, row, column]; the row count for
   * a weight read transposed in place (the input gradient of a convolution reads W[tap, ci, co] with
   * co as the row), which saves a transpose at the price of scalar weight loads.
   */
  sCol?: number;
  sZ?: number;
}

export interface BindingDecl {
  name: string;
  access: "read" | "read_write";
  vec: boolean;
  /** Read from a uniform buffer of this many vec4s instead of storage (see ConvSpec.uniformWeight). */
  uniformVec4s?: number;
  /** Read from the tensor's texture mirror (Graph.textureOf) through {@link load}; read access only. */
  texture?: boolean;
}

/**
 * Texels a row of a texture mirror: element e of a mirrored tensor is component e % 4 of texel e / 4, at
 * (texel % TEXEL_ROW, texel / TEXEL_ROW). Within the 8192 every adapter allows.
 */
export const TEXEL_ROW = 4096;

export function decl(binding: number, b: BindingDecl): string {
  if (b.texture) {
    if (b.access !== "read") throw new Error(`${b.name}: a texture mirror is read-only`);
    return `@group(0) @binding(${binding}) var ${b.name}: texture_2d<f32>;`;
  }
  if (b.uniformVec4s) {
    return `@group(0) @binding(${binding}) var<uniform> ${b.name}: array<vec4f, ${b.uniformVec4s}>;`;
  }
  const t = b.vec ? "vec4f" : "f32";
  return `@group(0) @binding(${binding}) var<storage, ${b.access}> ${b.name}: array<${t}>;`;
}

/**
 * WGSL for element `index` of binding `b` (a vec4 index when `b.vec`): an array access, or a texel fetch
 * from its texture mirror. On lavapipe a storage load runs a loop over the SIMD lanes with a bounds check
 * per element, a texel fetch one gather: interleaved, 16 vec4 loads per invocation cost 7.5 ms of storage
 * loads against 1.0 ms of texel fetches over 32,768 invocations.
 */
export function load(b: BindingDecl, index: string): string {
  if (!b.texture) return `${b.name}[${index}]`;
  const row = u(TEXEL_ROW);
  if (b.vec) return `textureLoad(${b.name}, vec2u((${index}) % ${row}, (${index}) / ${row}), 0)`;
  const texel = `((${index}) / 4u)`;
  return `textureLoad(${b.name}, vec2u(${texel} % ${row}, ${texel} / ${row}), 0)[(${index}) % 4u]`;
}

export function viewAligned(v: MapView | undefined): boolean {
  if (!v) return true;
  return v.sB % 4 === 0 && v.sY % 4 === 0 && v.sX % 4 === 0 && (v.sZ ?? 0) % 4 === 0 &&
    offsetAligned(v.offset, 4);
}

export function usesStepOffset(...offs: (Offset | undefined)[]): boolean {
  return offs.some((o) => o?.perStep);
}

/** A weight whose columns are contiguous and vec4-aligned can be read as vec4s. */
export function weightVectorisable(w: WeightView): boolean {
  return (w.sCol ?? 1) === 1 && w.ld % 4 === 0 && w.sTap % 4 === 0 && (w.sZ ?? 0) % 4 === 0 &&
    offsetAligned(w.offset, 4);
}

/**
 * Output columns (n, blocks) are vectorised when every block and stride of the given maps keeps vec4
 * alignment. A weight that cannot be read as vec4s is then loaded one scalar at a time into vec4s.
 */
export function columnsVectorisable(
  spec: { n: number; blocks?: number[]; tiles: Tiles },
  views: MapView[],
): boolean {
  const blocks = spec.blocks ?? [0];
  return spec.n % 4 === 0 && spec.tiles.tn % 4 === 0 && blocks.every((b) => b % 4 === 0) &&
    views.every(viewAligned);
}

/**
 * Register tiles (not workgroup-memory ones) declare their workgroup one-dimensional, wgx * wgy
 * invocations along x, and take a thread's column and row slots (`lx`, `ly`) from lid.x: lavapipe runs a
 * workgroup's invocations along x in SIMD lanes (8 with AVX2) and along y one after another, so an
 * 8-row workgroup 2 columns wide would fill 2 lanes of 8. A GPU forms its warps from the same linear
 * index either way.
 */
export function linearLayout(t: Tiles): boolean {
  return !t.shared;
}

/** `lx` and `ly`, a thread's column and row slot in its workgroup (see {@link linearLayout}). */
export function localIds(t: Tiles, linear: boolean): string[] {
  if (!linear) return [`  let lx = lid.x; let ly = lid.y;`];
  return t.wgx > 1
    ? [`  let lx = lid.x % ${t.wgx}u; let ly = lid.x / ${t.wgx}u;`]
    : [`  let lx = 0u; let ly = lid.x;`];
}
