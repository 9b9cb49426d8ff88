/**
 * The kernels of the incremental sampler (src/models/incremental_ops.ts derives what they compute,
 * src/models/incremental_layout.ts where the values live):
 *
 * - {@link stepKernels}: one sub-pixel of one pixel: every layer's channels of that sub-pixel's colour
 *   group, bottom to top, a storage barrier between layers, then the draw; fused into one kernel, or
 *   split into a few (see there). A workgroup owns a group of images; its invocations share out each
 *   layer's output channels, and each invocation sums one channel for all the group's images, so one
 *   weight load serves every image.
 * - {@link rowEndKernels}: the Diagonal BiLSTM's right direction along a finished row.
 * - {@link initKernel}: the records of a new batch (given rows, padding values).
 *
 * Every sum runs in the order of the whole-image kernels (src/wgsl/conv.ts, lstm.ts, scan.ts): taps as
 * listed, channels ascending, one fused multiply-add each, then bias, then residual; `acc + gates +
 * bias` then the gate nonlinearities for an LSTM. The draw is the inverse CDF of src/wgsl/sample.ts
 * with the same Threefry counter (image, sub-pixel), step for step: it runs inside the (last) step kernel
 * here, since a separate draw dispatch costs more than the whole sub-pixel's arithmetic on a software
 * adapter. So each value, and each draw, is the one the sequential sampler computes.
 */
import type { ConvNode, DiagonalNode, Plan, RowLstmNode } from "../models/incremental_ops.ts";
import type { Layout } from "../models/incremental_layout.ts";
import { BUILTINS_1D, f, grid1d, linearIndex, u } from "./common.ts";
import type { Kernel } from "./kernel.ts";
import { withMath } from "./lstm.ts";
import { RNG_WGSL } from "./rng.ts";

/** The gate nonlinearities of the scan kernels, scalar (h = 1 selects their f32 form). */
function scalarMath(k: Kernel): Kernel {
  return withMath(k, { h: 1, tiles: { tm: 1, tn: 1, wgx: 1, wgy: 1 } });
}

function decls(names: [string, string, boolean][]): string {
  return names.map(([name, type, rw], i) =>
    `@group(0) @binding(${i}) var<storage, ${rw ? "read_write" : "read"}> ${name}: array<${type}>;`
  ).join("\n");
}

/**
 * `fn ${name}(t: u32) -> u32`: the t-th of `indices` (ascending), from its runs of consecutive values
 * (a colour group of a gate map is one run per gate block), so that no table is read from memory.
 */
function subsetFn(name: string, indices: readonly number[]): string {
  const runs: [number, number][] = [];
  for (const v of indices) {
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === v) last[1]++;
    else runs.push([v, 1]);
  }
  const L = [`fn ${name}(t: u32) -> u32 {`];
  let before = 0;
  for (const [start, len] of runs.slice(0, -1)) {
    L.push(`  if (t < ${u(before + len)}) { return ${u(start)} + t - ${u(before)}; }`);
    before += len;
  }
  L.push(`  return ${u(runs[runs.length - 1][0])} + t - ${u(before)};`, `}`);
  return L.join("\n");
}

/**
 * Addresses of values relative to the record window bound at the current pixel (`rb`: the workgroup's
 * first image in the record, `sb` in scratch; the row-end kernel binds the window at the row above and
 * addresses columns with `x`).
 */
class Addresses {
  constructor(readonly plan: Plan, readonly l: Layout, readonly rowWindow = false) {}

  /** Float offset of the record at pixel (dy, dx) from the current one, within the window. */
  private pixel(dy: number, dx: number): number {
    const l = this.l;
    const row = (this.rowWindow ? 1 : l.pad.top) + dy, col = l.pad.left + dx;
    if (row < 0 || col < 0) {
      throw new Error(`incremental kernel: read outside the record window (${dy}, ${dx})`);
    }
    return (row * l.cols + col) * l.images * l.record;
  }

  /** `at` plus image b's offset, b a workgroup image index or a u32 expression of one. */
  private image(at: number, b: number | string, stride: number): string {
    return typeof b === "number" ? u(at + b * stride) : `${u(at)} + ${b} * ${u(stride)}`;
  }

  private rec(at: number, b: number | string, ch: string, dy: number, dx: number): string {
    const x = this.rowWindow ? ` + x * ${u(this.l.images * this.l.record)}` : "";
    return `REC[${this.image(this.pixel(dy, dx) + at, b, this.l.record)} + rb${x} + ${ch}]`;
  }

  /** Node k's value, channel `ch` (a u32 expression), image b of the workgroup, at (dy, dx). */
  value(k: number, b: number | string, ch: string, dy = 0, dx = 0): string {
    const s = this.l.stores[k];
    if (s.rec) return this.rec(s.at, b, ch, dy, dx);
    if (dy || dx) throw new Error(`${this.plan.nodes[k].label}: read off its pixel but kept in scratch`);
    return `SCR[sb + ${this.image(s.at, b, this.l.scratch)} + ${ch}]`;
  }

  /** An LSTM state of node k (see NodeStore.states). */
  state(k: number, name: string, b: number, ch: string, dy = 0, dx = 0): string {
    return this.rec(this.l.stores[k].states![name], b, ch, dy, dx);
  }
}

/** Invocations of a workgroup share out `n` channels: `t` is the slot, `${name}(t)` the channel. */
function channelLoop(n: number, wg: number, body: string): string {
  return `  for (var t = lid.x; t < ${u(n)}; t += ${u(wg)}) {\n${body}\n  }\n  storageBarrier();`;
}

/** The images of a workgroup as accumulator suffixes. */
function images(l: Layout): number[] {
  return Array.from({ length: l.group }, (_, b) => b);
}

/**
 * A convolution at the current pixel for `cols`. `store(b, v)` adds statements after the value of image
 * b is stored (the logits' copy to the logits map).
 */
function convCode(
  a: Addresses,
  k: number,
  n: ConvNode,
  cols: number[],
  wg: number,
  store?: (b: number, v: string) => string,
): string {
  const l = a.l, B = images(l), cout = n.channels;
  const L = [`    let col = cols${k}(t);`, `    ${B.map((b) => `var a${b} = 0.0;`).join(" ")}`];
  for (const tap of n.taps) {
    const x = (b: number) => {
      const v = a.value(n.x, b, "ci", tap.dy, tap.dx);
      return n.relu ? `max(${v}, 0.0)` : v;
    };
    L.push(`    for (var ci = 0u; ci < ${u(n.cin)}; ci++) {`);
    L.push(`      let w = P[${u(n.w.offset + tap.w * n.cin * cout)} + ci * ${u(cout)} + col];`);
    L.push(`      ${B.map((b) => `a${b} = fma(${x(b)}, w, a${b});`).join(" ")}`);
    L.push(`    }`);
  }
  for (const b of B) {
    let v = `a${b}`;
    if (n.bias) v = `${v} + P[${u(n.bias.offset)} + col]`;
    if (n.residual !== undefined) v = `${v} + ${a.value(n.residual, b, "col")}`;
    L.push(`    { let v = ${v}; ${a.value(k, b, "col")} = v;${store ? ` ${store(b, "v")}` : ""} }`);
  }
  return channelLoop(cols.length, wg, L.join("\n"));
}

/**
 * Accumulates an LSTM's state-to-state tap into a{gate}_{image}: weights of direction z, tap `tap` of
 * `taps`, read for channel j; `hv(b)` the previous state's channel ci of image b.
 */
function stateTap(
  n: RowLstmNode | DiagonalNode,
  z: number,
  taps: number,
  tap: number,
  l: Layout,
  hv: (b: number) => string,
) {
  const h = n.channels, B = images(l);
  return `    for (var ci = 0u; ci < ${u(h)}; ci++) {
      let wr = ${u(n.p.wss.offset + ((z * taps + tap) * h) * 4 * h)} + ci * ${u(4 * h)} + j;
      let w0 = P[wr]; let w1 = P[wr + ${u(h)}]; let w2 = P[wr + ${u(2 * h)}]; let w3 = P[wr + ${u(3 * h)}];
${
    B.map((b) =>
      `      { let hv = ${hv(b)}; ${
        [0, 1, 2, 3].map((g) => `a${g}_${b} = fma(hv, w${g}, a${g}_${b});`).join(" ")
      } }`
    ).join("\n")
  }
    }`;
}

/**
 * The gates and cell update of image b, channel j: sums a*_b, input-to-state gates `gate(g)` (gate
 * block g), the bias of direction z, the previous cell `cp`; declares cn{b}, hn{b}.
 */
function gateUpdate(
  n: RowLstmNode | DiagonalNode,
  z: number,
  b: number,
  gate: (g: number) => string,
  cp: string,
) {
  const h = n.channels;
  const pre = (g: number) => `a${g}_${b} + ${gate(g)} + P[${u(n.p.bias.offset + z * 4 * h + g * h)} + j]`;
  return `    let o${b} = sig(${pre(0)});
    let f${b} = sig(${pre(1)});
    let i${b} = sig(${pre(2)});
    let g${b} = th(${pre(3)});
    let cn${b} = f${b} * ${cp} + i${b} * g${b};
    let hn${b} = o${b} * th(cn${b});`;
}

function accumulators(l: Layout): string {
  return `    ${images(l).map((b) => [0, 1, 2, 3].map((g) => `var a${g}_${b} = 0.0;`).join(" ")).join(" ")}`;
}

/** Row LSTM at the current pixel: h and c of the row above (taps -1, 0, 1), gates at the pixel. */
function rowLstmCode(a: Addresses, k: number, n: RowLstmNode, cols: number[], wg: number): string {
  const h = n.channels;
  const L = [`    let j = cols${k}(t);`, accumulators(a.l)];
  [-1, 0, 1].forEach((dx, tap) => L.push(stateTap(n, 0, 3, tap, a.l, (b) => a.value(k, b, "ci", -1, dx))));
  for (const b of images(a.l)) {
    L.push(
      gateUpdate(n, 0, b, (g) => a.value(n.gates, b, `${u(g * h)} + j`), a.state(k, "c", b, "j", -1, 0)),
    );
    L.push(`    ${a.state(k, "c", b, "j")} = cn${b};`, `    ${a.value(k, b, "j")} = hn${b};`);
  }
  return channelLoop(cols.length, wg, L.join("\n"));
}

/**
 * One direction of a Diagonal BiLSTM at the current pixel: tap 0 the state above, tap 1 the previous
 * pixel along the row (dx = -1 left, +1 right), its gates in block z of the 8h gate map.
 */
function diagonalStep(a: Addresses, k: number, n: DiagonalNode, z: 0 | 1): string[] {
  const h = n.channels, d = z === 0 ? -1 : 1, hs = z === 0 ? "lh" : "rh", cs = z === 0 ? "lc" : "rc";
  const L = [accumulators(a.l)];
  L.push(stateTap(n, z, 2, 0, a.l, (b) => a.state(k, hs, b, "ci", -1, 0)));
  L.push(stateTap(n, z, 2, 1, a.l, (b) => a.state(k, hs, b, "ci", 0, d)));
  for (const b of images(a.l)) {
    const gate = (g: number) => a.value(n.gates, b, `${u(z * 4 * h + g * h)} + j`);
    L.push(gateUpdate(n, z, b, gate, a.state(k, cs, b, "j", 0, d)));
    L.push(`    ${a.state(k, hs, b, "j")} = hn${b};`, `    ${a.state(k, cs, b, "j")} = cn${b};`);
  }
  return L;
}

/** The left direction at the current pixel, and the layer's output: plus the right state one row up. */
function diagonalCode(a: Addresses, k: number, n: DiagonalNode, cols: number[], wg: number): string {
  const L = [`    let j = cols${k}(t);`, ...diagonalStep(a, k, n, 0)];
  for (const b of images(a.l)) {
    L.push(`    ${a.value(k, b, "j")} = hn${b} + ${a.state(k, "rh", b, "j", -1, 0)};`);
  }
  return channelLoop(cols.length, wg, L.join("\n"));
}

export interface StepKernelSpec {
  plan: Plan;
  layout: Layout;
  /** Invocations per workgroup. */
  workgroup: number;
  /** Per node, the channels computed (none: the node is skipped). */
  columns: number[][];
  /** The sub-pixel drawn; null for a given pixel (no draw). */
  subpixel: number | null;
  channels: number;
  output: "binary" | "softmax256";
  inputScale: number;
  inputShift: number;
  /** Most layers per kernel (default all: one fused kernel); see {@link stepKernels}. */
  nodesPerKernel?: number;
}

/**
 * One sub-pixel (or a given pixel), as consecutive kernels of at most `nodesPerKernel` layers each, the
 * draw in the last: one fused kernel by default. Splitting trades dispatches for compile time: Mesa's
 * software adapters compile every storage barrier of a kernel as a coroutine suspension point, which
 * for a fused kernel of a 12-layer RGB model took over ten minutes; a dispatch boundary orders the
 * layers as the barrier does (the last layer of each kernel needs none). Bindings REC (the record
 * window of the pixel), SCR, P (the flat parameters); to draw also LOG (the logits map at the pixel),
 * TGT (the images, u32), POS (the pixel's first sub-pixel index p * C) and KEY (the Threefry key).
 */
export function stepKernels(s: StepKernelSpec): Kernel[] {
  const { plan } = s;
  const a = new Addresses(plan, s.layout);
  const draw = s.subpixel !== null;
  const blocks: { fn: string; code: string }[] = [];
  plan.nodes.forEach((n, k) => {
    const cols = s.columns[k];
    if (n.op === "image" || n.op === "fixed" || !cols.length) return;
    let code: string;
    if (n.op === "conv") {
      const store = draw && k === plan.output ? logitStore(s.layout, n.channels) : undefined;
      code = convCode(a, k, n, cols, s.workgroup, store);
    } else if (n.op === "row-lstm") code = rowLstmCode(a, k, n, cols, s.workgroup);
    else code = diagonalCode(a, k, n, cols, s.workgroup);
    blocks.push({ fn: subsetFn(`cols${k}`, cols), code: `  // ${n.op} ${n.label}\n${code}` });
  });
  if (!blocks.length) return draw ? [stepKernel(s, [], [drawCode(s, a)], true)] : [];
  const per = s.nodesPerKernel ?? blocks.length;
  const kernels: Kernel[] = [];
  for (let i = 0; i < blocks.length; i += per) {
    const chunk = blocks.slice(i, i + per), last = i + per >= blocks.length;
    const body = chunk.map((b) => b.code);
    if (last && draw) body.push(drawCode(s, a));
    else body[body.length - 1] = body[body.length - 1].replace(/\n {2}storageBarrier\(\);$/, "");
    kernels.push(stepKernel(s, chunk.map((b) => b.fn), body, last && draw));
  }
  return kernels;
}

/** One kernel of {@link stepKernels}: the given layer code, and with `draw` the draw's bindings. */
function stepKernel(s: StepKernelSpec, fns: string[], body: string[], draw: boolean): Kernel {
  const { layout: l, workgroup: wg } = s;
  const all: [string, string, boolean][] = [["REC", "f32", true], ["SCR", "f32", true], ["P", "f32", false]];
  if (draw) {
    all.push(["LOG", "f32", true], ["TGT", "u32", true], ["POS", "u32", false], ["KEY", "u32", false]);
  }
  // Only bindings the code reads are declared (a pipeline's automatic layout leaves the others out).
  const bindings = all.filter(([name]) => body.some((line) => line.includes(`${name}[`)));
  const code = `
${decls(bindings)}
${draw ? RNG_WGSL : ""}
${fns.join("\n")}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let rb = wid.x * ${u(l.group * l.record)};
  let sb = wid.x * ${u(l.group * l.scratch)};
${body.join("\n")}
}`;
  return scalarMath({
    code,
    bindings: bindings.map(([n]) => n),
    workgroups: [l.images / l.group, 1, 1],
    usesStep: false,
  });
}

/** Copies image b's logit `v` (column col) into the logits map bound at the pixel. */
function logitStore(l: Layout, channels: number): (b: number, v: string) => string {
  const stride = l.height * l.width * logitStride(channels);
  return (b, v) =>
    `if (wid.x * ${u(l.group)} + ${u(b)} < ${u(l.batch)}) { LOG[(wid.x * ${u(l.group)} + ${u(b)}) * ${
      u(stride)
    } + col] = ${v}; }`;
}

/** Floats per pixel of the logits map: the logits, padded so that pixel offsets are binding-aligned. */
export function logitStride(channels: number): number {
  return Math.ceil(channels / 8) * 8;
}

/**
 * The draw of sub-pixel g for each image of the workgroup, from its logits in scratch: the inverse CDF
 * (categorical) or the sigmoid threshold (binary) of src/wgsl/sample.ts, with u from Threefry at
 * (image, p * C + g). Writes the value into the images and the scaled input into the record.
 */
function drawCode(s: StepKernelSpec, a: Addresses): string {
  const l = s.layout, g = s.subpixel!, out = s.plan.output;
  const imageNode = s.plan.nodes.findIndex((n) => n.op === "image");
  const width = s.output === "binary" ? 1 : 256;
  const logit = (k: string) => a.value(out, "b", `${u(g * width)} + ${k}`);
  const pick = s.output === "binary"
    ? `    let z = ${logit("0u")};
    let e = exp(-abs(z));
    let p = select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
    let v = select(0u, 1u, u < p);`
    : `    var m = -3.4028235e38;
    for (var k = 0u; k < 256u; k++) { m = max(m, ${logit("k")}); }
    var total = 0.0;
    for (var k = 0u; k < 256u; k++) { total += exp(${logit("k")} - m); }
    let threshold = u * total;
    var cum = 0.0;
    var v = 0u;
    for (var k = 0u; k < 256u; k++) {
      let e = exp(${logit("k")} - m);
      cum += e;
      if (e > 0.0) { v = k; }
      if (cum > threshold) { break; }
    }`;
  const hw = l.height * l.width * s.channels;
  const input = a.value(imageNode, "b", u(g));
  return `  for (var b = lid.x; b < ${u(l.group)}; b += ${u(s.workgroup)}) {
    let gb = wid.x * ${u(l.group)} + b;
    if (gb >= ${u(l.batch)}) { continue; }
    let u = unitFloat(threefry2x32(vec2u(KEY[0], KEY[1]), vec2u(gb, POS[0] + ${u(g)})).x);
${pick}
    TGT[gb * ${u(hw)} + POS[0] + ${u(g)}] = v;
    ${input} = f32(v) * ${f(s.inputScale)} + ${f(s.inputShift)};
  }`;
}

/**
 * The right direction of every Diagonal BiLSTM layer along a finished row, right to left, at most
 * `nodesPerKernel` layers per kernel (as {@link stepKernels}; default all in one). Bindings REC (the
 * record window at the row above: its row 0 is the row above, row 1 the row) and P.
 */
export function rowEndKernels(plan: Plan, l: Layout, wg: number, nodesPerKernel = Infinity): Kernel[] {
  const a = new Addresses(plan, l, true);
  const blocks: string[] = [];
  plan.nodes.forEach((n, k) => {
    if (n.op !== "diagonal") return;
    blocks.push(`  // diagonal ${n.label}: right direction
  for (var s = 0u; s < ${u(l.width)}; s++) {
  let x = ${u(l.width - 1)} - s;
${channelLoop(n.channels, wg, ["    let j = t;", ...diagonalStep(a, k, n, 1)].join("\n"))}
  }`);
  });
  const per = Math.min(nodesPerKernel, blocks.length), kernels: Kernel[] = [];
  for (let i = 0; i < blocks.length; i += per) {
    const code = `
${decls([["REC", "f32", true], ["P", "f32", false]])}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let rb = wid.x * ${u(l.group * l.record)};
${blocks.slice(i, i + per).join("\n")}
}`;
    kernels.push(scalarMath({
      code,
      bindings: ["REC", "P"],
      workgroups: [l.images / l.group, 1, 1],
      usesStep: false,
    }));
  }
  return kernels;
}

/**
 * The records of a new batch: the images' given values (INPUT, scaled) and the conditioning maps (FIX0,
 * ..) inside the image; outside it what a full forward pass reads there: zeros, the Row LSTM's h0, c0 in
 * the row above the image, the Diagonal BiLSTM's padding states (PAD) left of each row's first pixel
 * (left direction) and right of its last (right direction), h0, c0 in row 0; every other field zero.
 * `padAt(k)` is the element offset in PAD of diagonal node k's [h | c] x [left | right] x rows x h states.
 */
export function initKernel(plan: Plan, l: Layout, channels: number, padAt: (k: number) => number): Kernel {
  const { height: H, width: W } = l;
  const count = l.rows * l.cols * l.images;
  const fixed = plan.nodes.flatMap((n, k) => n.op === "fixed" ? [k] : []);
  const L: string[] = [];
  const fill = (at: number, n: number, value: string) =>
    `for (var j = 0u; j < ${u(n)}; j++) { REC[base + ${u(at)} + j] = ${value}; }`;
  plan.nodes.forEach((n, k) => {
    const s = l.stores[k];
    if (n.op === "image") {
      L.push(
        `  if (inside) { ${
          fill(s.at, channels, `INPUT[((b * ${u(H)} + u32(y)) * ${u(W)} + u32(x)) * ${u(channels)} + j]`)
        } }`,
      );
    } else if (n.op === "fixed") {
      const C = n.channels;
      L.push(
        `  if (inside) { ${
          fill(s.at, C, `FIX${fixed.indexOf(k)}[((b * ${u(H)} + u32(y)) * ${u(W)} + u32(x)) * ${u(C)} + j]`)
        } }`,
      );
    } else if (n.op === "row-lstm") {
      L.push(`  if (y == -1 && x >= 0 && x < ${W}) {`);
      L.push(`    ${fill(s.at, n.channels, `P[${u(n.p.h0.offset)} + j]`)}`);
      L.push(`    ${fill(s.states!.c, n.channels, `P[${u(n.p.c0.offset)} + j]`)}`);
      L.push(`  }`);
    } else if (n.op === "diagonal") {
      const h = n.channels, rows = Math.max(1, H - 1), at = padAt(k);
      for (const [z, edge] of [[0, -1], [1, W]]) {
        for (const [state, init, skip] of [["h", n.p.h0, 0], ["c", n.p.c0, 2 * rows * h]] as const) {
          const field = s.states![(z === 0 ? "l" : "r") + state];
          const pad = `PAD[${u(at + skip + z * rows * h)} + (u32(y) - 1u) * ${u(h)} + j]`;
          L.push(`  if (x == ${edge} && y == 0) { ${fill(field, h, `P[${u(init.offset + z * h)} + j]`)} }`);
          L.push(`  if (x == ${edge} && y > 0 && y < ${H}) { ${fill(field, h, pad)} }`);
        }
      }
    }
  });
  const all: [string, string, boolean][] = [["REC", "f32", true], ["INPUT", "f32", false], [
    "P",
    "f32",
    false,
  ]];
  fixed.forEach((_, i) => all.push([`FIX${i}`, "f32", false]));
  all.push(["PAD", "f32", false]);
  const bindings = all.filter(([name]) => L.some((line) => line.includes(`${name}[`)) || name === "REC");
  const code = `
${decls(bindings)}
@compute @workgroup_size(64)
fn main(${BUILTINS_1D}) {
  let i = ${linearIndex(64)};
  if (i >= ${u(count)}) { return; }
  let b = i % ${u(l.images)};
  let pixel = i / ${u(l.images)};
  let y = i32(pixel / ${u(l.cols)}) - ${l.pad.top};
  let x = i32(pixel % ${u(l.cols)}) - ${l.pad.left};
  let inside = y >= 0 && y < ${H} && x >= 0 && x < ${W} && b < ${u(l.batch)};
  let base = i * ${u(l.record)};
  ${fill(0, l.record, "0.0")}
${L.join("\n")}
}`;
  return { code, bindings: bindings.map(([n]) => n), workgroups: grid1d(count, 64), usesStep: false };
}
