/**
 * Fused LSTM step kernels for the spatial LSTM scan (Row LSTM rows, Diagonal BiLSTM skewed columns).
 *
 * Forward step: the state-to-state convolution of the previous step's h (an implicit GEMM over the
 * step's positions with four column blocks, one per gate) with an epilogue that adds the precomputed
 * input-to-state gates and the bias, applies the nonlinearities, and updates c and h in registers.
 *
 * Backward step: the transposed state-to-state convolution of the next step's gate gradients (the
 * recurrent part of dL/dh; the weights read transposed in place) with an epilogue that forms this step's gate gradients and carries dL/dc to
 * the previous step. Weight gradients are not accumulated per step: the op computes them afterwards in
 * one filter-gradient GEMM over all steps.
 *
 * Maps are NHWC tensors addressed per step: element (z, b, step, position, channel) sits at
 * z*sZ + b*sB + step*sT + position*sL + channel.
 */
import { clampedShift, type Offset, u } from "./common.ts";
import { convForward, type ConvSpec } from "./conv.ts";
import { type BindingDecl, type Kernel, load, type Tap, type Tiles, type WeightView } from "./kernel.ts";

export interface StepStrides {
  sZ: number;
  sB: number;
  sT: number;
  sL: number;
}

export interface StepKernelSpec {
  label: string;
  z: number;
  batch: number;
  positions: number;
  h: number;
  /** Offsets along the positions at which the previous step's h is read. */
  taps: number[];
  gates: StepStrides;
  states: StepStrides;
  /** Step 0: the previous state is the learned (h0, c0) of each direction. */
  first: boolean;
  tiles: Tiles;
  /** W's vec4 count when it is read from a uniform buffer (ConvSpec.uniformWeight; step kernels only). */
  uniformWeight?: number;
  /**
   * Steps are the columns of a skewed map (the Diagonal BiLSTM): at step t the positions x < t - band
   * lie right of the image, and no live state reads them (see lstmScan's `skewed`). Step kernels then
   * skip them (ConvSpec.band); a backward step also clears the gate gradients and cell carry of the
   * position that has just died (x = t - band - 1), which the step before reads.
   */
  band?: number;
  /**
   * Binding names where a scan kernel differs from a step kernel: the first forward step reads h0
   * (default X) and writes the hidden map (default H); the backward writes the gate gradients (default
   * X when recurrent, else DG).
   */
  names?: { h0?: string; hidden?: string; dg?: string };
  /**
   * Read the maps no step writes from their texture mirrors (Graph.textureOf): the input-to-state gates
   * IS in the forward, DH, ACT and C in the backward (per-step kernels on the software tiles).
   */
  textures?: boolean;
}

/** Element offset of a step map at step expression `t` for row i (positions are the x coordinate). */
function addr(s: StepStrides, t: string, i: number): string {
  return `z * ${u(s.sZ)} + b${i} * ${u(s.sB)} + x${i} * ${u(s.sL)} + ${t} * ${u(s.sT)}`;
}

function mathFns(vec: boolean): string {
  const T = vec ? "vec4f" : "f32";
  return `
fn sig(x: ${T}) -> ${T} { return 1.0 / (1.0 + exp(-x)); }
// tanh from one exponential of a non-positive argument: finite for every input.
fn th(x: ${T}) -> ${T} { let e = exp(-2.0 * abs(x)); return sign(x) * (1.0 - e) / (1.0 + e); }`;
}

function stepView(s: StepStrides, offset: Offset) {
  return { sB: s.sB, sY: 0, sX: s.sL, sZ: s.sZ, offset };
}

/**
 * Forward step t. With `first`, X is h0 [Z, h] read with zero strides and no step uniform is used;
 * otherwise the step uniform holds t - 1 and X is the hidden-state map itself (read at t - 1, written
 * at t through the same binding).
 */
export function lstmForwardStep(spec: StepKernelSpec): Kernel {
  return withMath(convForward(forwardStepSpec(spec)), spec);
}

/** The GEMM and epilogue of a forward step (a kernel of its own, or a phase of a scan kernel). */
export function forwardStepSpec(spec: StepKernelSpec): ConvSpec {
  const { h, first } = spec;
  const taps: Tap[] = spec.taps.map((dx, w) => ({ dy: 0, dx, w }));
  const input = first
    ? { sB: 0, sY: 0, sX: 0, sZ: h, offset: { c: 0 } }
    : stepView(spec.states, { c: 0, perStep: spec.states.sT });
  const cur = first ? "0u" : "(step.t + 1u)";
  const vec = h % 4 === 0 && spec.tiles.tn % 4 === 0;
  const is: BindingDecl = { name: "IS", access: "read", vec, texture: spec.textures };
  const bindings: BindingDecl[] = [is, { name: "BIAS", access: "read", vec }];
  const hOut = first ? spec.names?.hidden ?? "H" : "X";
  if (first) bindings.push({ name: "C0", access: "read", vec }, { name: hOut, access: "read_write", vec });
  bindings.push({ name: "C", access: "read_write", vec }, { name: "ACT", access: "read_write", vec });
  return {
    label: spec.label,
    batch: spec.batch,
    height: 1,
    width: spec.positions,
    cin: h,
    n: h,
    blocks: [0, h, 2 * h, 3 * h],
    taps,
    input,
    weight: { offset: { c: 0 }, sTap: 4 * h * h, ld: 4 * h, sZ: taps.length * 4 * h * h },
    z: spec.z,
    tiles: spec.tiles,
    uniformWeight: spec.uniformWeight,
    // Step t = step.t + 1 computes the positions x >= t - band.
    band: spec.band !== undefined && !first ? { from: clampedShift("step.t", 1 - spec.band) } : undefined,
    inputWritable: !first,
    inputName: first ? spec.names?.h0 : undefined,
    epilogue: {
      bindings,
      usesStep: !first,
      code(ctx) {
        const d = ctx.vec ? 4 : 1, hb = u(h / d), V = ctx.vec ? ctx.tn / 4 : ctx.tn;
        const L: string[] = [];
        for (let i = 0; i < ctx.tm; i++) {
          L.push(`  if (ok${i}) {`);
          L.push(`    let g = (${addr(spec.gates, cur, i)}) / ${u(d)};`);
          L.push(`    let s = (${addr(spec.states, cur, i)}) / ${u(d)};`);
          L.push(
            first ? `    let sp = z * ${hb};` : `    let sp = (${addr(spec.states, "step.t", i)}) / ${u(d)};`,
          );
          L.push(`    let bz = z * ${u((4 * h) / d)};`);
          for (let j = 0; j < V; j++) {
            const c = ctx.col(j);
            L.push(`    if ${ctx.colOk(j)} {`);
            ["o = sig", "f = sig", "ig = sig", "gg = th"].forEach((gate, k) => {
              const at = `${k ? `${k}u * ${hb} + ` : ""}${c}`;
              L.push(`      let ${gate}(${ctx.acc(k, i, j)} + ${load(is, `g + ${at}`)} + BIAS[bz + ${at}]);`);
            });
            L.push(`      let cn = f * ${first ? "C0" : "C"}[sp + ${c}] + ig * gg;`);
            L.push(`      C[s + ${c}] = cn;`);
            L.push(`      ${hOut}[s + ${c}] = o * th(cn);`);
            L.push(`      ACT[g + ${c}] = o;`);
            L.push(`      ACT[g + ${hb} + ${c}] = f;`);
            L.push(`      ACT[g + 2u * ${hb} + ${c}] = ig;`);
            L.push(`      ACT[g + 3u * ${hb} + ${c}] = gg;`);
            L.push(`    }`);
          }
          L.push(`  }`);
        }
        return L.join("\n");
      },
    },
  };
}

export interface BackwardStepSpec extends StepKernelSpec {
  /** Not the last step: dL/dh and dL/dc also flow back from step t + 1. */
  recurrent: boolean;
  /** The state-to-state weights as the transposed conv reads them: row = gate column, column = channel. */
  weight: WeightView;
}

/**
 * Backward step t (the step uniform holds t). Writes this step's gate gradients into DG (through X when
 * the step also reads step t + 1's gradients from it) and the cell carry dL/dc_t * f_t into DCC.
 */
export function lstmBackwardStep(spec: BackwardStepSpec): Kernel {
  return withMath(convForward(backwardStepSpec(spec)), spec);
}

/** The GEMM and epilogue of a backward step (a kernel of its own, or a phase of a scan kernel). */
export function backwardStepSpec(spec: BackwardStepSpec): ConvSpec {
  const { h, first, recurrent } = spec;
  const banded = spec.band !== undefined && !first;
  const dg = spec.names?.dg ?? (recurrent ? "X" : "DG");
  const g = spec.gates;
  const taps: Tap[] = recurrent ? spec.taps.map((dx, w) => ({ dy: 0, dx: -dx, w })) : [];
  const cur = first ? "0u" : "step.t";
  const next: Offset = first ? { c: g.sT } : { c: g.sT, perStep: g.sT };
  const vec = h % 4 === 0 && spec.tiles.tn % 4 === 0;
  const [dhb, actb, cb]: BindingDecl[] = ["DH", "ACT", "C"].map((name) => ({
    name,
    access: "read",
    vec,
    texture: spec.textures,
  }));
  const bindings: BindingDecl[] = [dhb, actb, cb];
  if (first) bindings.push({ name: "C0", access: "read", vec });
  bindings.push({ name: "DCC", access: "read_write", vec });
  if (!recurrent) bindings.push({ name: dg, access: "read_write", vec });
  return {
    label: spec.label,
    batch: spec.batch,
    height: 1,
    width: spec.positions,
    cin: 4 * h,
    n: h,
    taps,
    input: stepView(g, next),
    weight: spec.weight,
    z: spec.z,
    tiles: spec.tiles,
    uniformWeight: spec.uniformWeight,
    // Step t computes the live positions x >= t - band and the one that has just died, x = t - band - 1.
    band: banded ? { from: clampedShift("step.t", -spec.band! - 1) } : undefined,
    inputWritable: true,
    epilogue: {
      bindings,
      usesStep: !first,
      code(ctx) {
        const d = ctx.vec ? 4 : 1, hb = u(h / d), V = ctx.vec ? ctx.tn / 4 : ctx.tn;
        const carry: StepStrides = {
          sZ: spec.batch * spec.positions * h,
          sB: spec.positions * h,
          sT: 0,
          sL: h,
        };
        const L: string[] = [];
        const zero = ctx.vec ? "vec4f()" : "0.0";
        if (banded) L.push(`  let keep = ${clampedShift("step.t", -spec.band!)};`);
        for (let i = 0; i < ctx.tm; i++) {
          L.push(`  if (ok${i}) {`);
          L.push(`    let g = (${addr(g, cur, i)}) / ${u(d)};`);
          L.push(`    let r = (${addr(carry, "0u", i)}) / ${u(d)};`);
          if (banded) {
            // The position that has just died: nothing flows back from it into step t - 1.
            L.push(`    if (x${i} < keep) {`);
            for (let j = 0; j < V; j++) {
              const c = ctx.col(j);
              L.push(`      if ${ctx.colOk(j)} {`);
              for (let k = 0; k < 4; k++) {
                L.push(`        ${dg}[g + ${k ? `${k}u * ${hb} + ` : ""}${c}] = ${zero};`);
              }
              L.push(`        DCC[r + ${c}] = ${zero};`);
              L.push(`      }`);
            }
            L.push(`    } else {`);
          }
          L.push(`    let s = (${addr(spec.states, cur, i)}) / ${u(d)};`);
          L.push(
            first
              ? `    let sp = z * ${hb};`
              : `    let sp = (${addr(spec.states, "(step.t - 1u)", i)}) / ${u(d)};`,
          );
          for (let j = 0; j < V; j++) {
            const c = ctx.col(j);
            L.push(`    if ${ctx.colOk(j)} {`);
            L.push(`      let dh = ${load(dhb, `s + ${c}`)}${recurrent ? ` + ${ctx.acc(0, i, j)}` : ""};`);
            L.push(`      let o = ${load(actb, `g + ${c}`)};`);
            L.push(`      let f = ${load(actb, `g + ${hb} + ${c}`)};`);
            L.push(`      let ig = ${load(actb, `g + 2u * ${hb} + ${c}`)};`);
            L.push(`      let gg = ${load(actb, `g + 3u * ${hb} + ${c}`)};`);
            L.push(`      let tc = th(${load(cb, `s + ${c}`)});`);
            L.push(`      let dc = dh * o * (1.0 - tc * tc)${recurrent ? ` + DCC[r + ${c}]` : ""};`);
            L.push(`      let cp = ${first ? `C0[sp + ${c}]` : load(cb, `sp + ${c}`)};`);
            L.push(`      ${dg}[g + ${c}] = dh * tc * o * (1.0 - o);`);
            L.push(`      ${dg}[g + ${hb} + ${c}] = dc * cp * f * (1.0 - f);`);
            L.push(`      ${dg}[g + 2u * ${hb} + ${c}] = dc * gg * ig * (1.0 - ig);`);
            L.push(`      ${dg}[g + 3u * ${hb} + ${c}] = dc * ig * (1.0 - gg * gg);`);
            L.push(`      DCC[r + ${c}] = dc * f;`);
            L.push(`    }`);
          }
          if (banded) L.push(`    }`);
          L.push(`  }`);
        }
        return L.join("\n");
      },
    },
  };
}

/** Prepends the gate nonlinearities, in the vector width of the step's columns. */
export function withMath(k: Kernel, spec: Pick<StepKernelSpec, "h" | "tiles">): Kernel {
  const vec = spec.h % 4 === 0 && spec.tiles.tn % 4 === 0;
  return { ...k, code: `${mathFns(vec)}\n${k.code}` };
}
