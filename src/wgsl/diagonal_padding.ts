/**
 * The padding states of the Diagonal BiLSTM's skewed scans that pixels read (see {@link diagonalPadding}),
 * computed as the scan kernels compute every state (src/wgsl/lstm.ts): the state-to-state sums tap by
 * tap, channels ascending, one fused multiply-add each, then the bias, the gate nonlinearities and the
 * cell update.
 */
import { u } from "./common.ts";
import type { Kernel } from "./kernel.ts";
import { withMath } from "./lstm.ts";

/** The gate nonlinearities of the scan kernels, scalar (h = 1 selects their f32 form). */
function scalarMath(k: Kernel): Kernel {
  return withMath(k, { h: 1, tiles: { tm: 1, tn: 1, wgx: 1, wgy: 1 } });
}

function decls(names: string[], writable: string[]): string {
  return names.map((name, i) =>
    `@group(0) @binding(${i}) var<storage, ${
      writable.includes(name) ? "read_write" : "read"
    }> ${name}: array<f32>;`
  ).join("\n");
}

/**
 * Accumulates tap `tap` of direction `z`'s state-to-state kernel [Z, T, h, 4h] into a0..a3 (the four
 * gates of channel j), reading the previous state's channel ci through the WGSL expression `hv`.
 */
function stateTap(z: number | string, taps: number, tap: number, h: number, hv: string): string {
  const zz = typeof z === "number" ? u(z) : z;
  return `for (var ci = 0u; ci < ${u(h)}; ci++) {
      let hv = ${hv};
      let wr = ((${zz} * ${u(taps)} + ${u(tap)}) * ${u(h)} + ci) * ${u(4 * h)} + j;
      a0 = fma(hv, WSS[wr], a0);
      a1 = fma(hv, WSS[wr + ${u(h)}], a1);
      a2 = fma(hv, WSS[wr + ${u(2 * h)}], a2);
      a3 = fma(hv, WSS[wr + ${u(3 * h)}], a3);
    }`;
}

/**
 * The gates of channel j from the sums a0..a3, the input-to-state gates at IS[g + block] (none for
 * padding, whose gates are zero) and the bias at BIAS[bz + block]; the cell update from `cp`. Declares
 * `cn` and `hn`.
 */
function gateUpdate(h: number, cp: string, withGates: boolean): string {
  const pre = (k: number) => {
    const at = k ? ` + ${u(k * h)}` : "";
    return `a${k}${withGates ? ` + IS[g + j${at}]` : ""} + BIAS[bz + j${at}]`;
  };
  return `let o = sig(${pre(0)});
    let f = sig(${pre(1)});
    let ig = sig(${pre(2)});
    let gg = th(${pre(3)});
    let cn = f * ${cp} + ig * gg;
    let hn = o * th(cn);`;
}

const WG = 64;

/** Threads of a workgroup: the next power of two of the channel count, at most 64. */
function workgroupFor(channels: number): number {
  return Math.min(WG, 2 ** Math.ceil(Math.log2(Math.max(1, channels))));
}

/**
 * The padding states of the Diagonal BiLSTM's skewed scan that pixels read: before the first pixel of
 * row r (r >= 1) the scan of either direction holds the state at skewed (row r, column r - 1). Padding
 * positions have zero input-to-state gates, and the padding state at skewed (r, j), r > j, reads the
 * states at (r, j - 1) and (r - 1, j - 1), both padding (h0, c0 for j = 0): by induction every padding
 * state of column j is the same vector Q_j, with Q_0 = step(h0, h0, c0) and Q_j = step(Q_{j-1}, Q_{j-1},
 * Qc_{j-1}). So the state before row r is Q_{r-1}, the same for every image. One workgroup per direction
 * computes Q_0 .. Q_{n-2} into PADH, PADC [2, n-1, h]. Bindings WSS, BIAS, H0, C0, PADH, PADC.
 */
export function diagonalPadding(s: { n: number; h: number }): Kernel {
  const { n, h } = s;
  const names = ["WSS", "BIAS", "H0", "C0", "PADH", "PADC"];
  const wg = workgroupFor(h), rows = Math.max(1, n - 1);
  const code = `
${decls(names, ["PADH", "PADC"])}
fn prevH(z: u32, q: u32, ci: u32) -> f32 {
  if (q == 0u) { return H0[z * ${u(h)} + ci]; }
  return PADH[(z * ${u(rows)} + q - 1u) * ${u(h)} + ci];
}
fn prevC(z: u32, q: u32, j: u32) -> f32 {
  if (q == 0u) { return C0[z * ${u(h)} + j]; }
  return PADC[(z * ${u(rows)} + q - 1u) * ${u(h)} + j];
}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let z = wid.x;
  for (var q = 0u; q < ${u(n - 1)}; q++) {
    for (var j = lid.x; j < ${u(h)}; j += ${u(wg)}) {
      var a0 = 0.0; var a1 = 0.0; var a2 = 0.0; var a3 = 0.0;
      ${stateTap("z", 2, 0, h, "prevH(z, q, ci)")}
      ${stateTap("z", 2, 1, h, "prevH(z, q, ci)")}
      let bz = z * ${u(4 * h)};
      ${gateUpdate(h, "prevC(z, q, j)", false)}
      let st = (z * ${u(rows)} + q) * ${u(h)} + j;
      PADH[st] = hn;
      PADC[st] = cn;
    }
    storageBarrier();
  }
}`;
  return scalarMath({ code, bindings: names, workgroups: [2, 1, 1], usesStep: false });
}
