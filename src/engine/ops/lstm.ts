/**
 * The spatial LSTM scan (paper eq. 3) as one op with a fused kernel per step: one step per row of the
 * input map (the Row LSTM's rows; for the Diagonal BiLSTM, the columns of the skewed map, which is stored
 * column-major). See src/engine/reference/lstm.ts for the exact semantics; Z independent directions run
 * in the same dispatches, each with its own weights.
 *
 * Backward runs one fused kernel per step in reverse, then forms the state-to-state weight gradient as
 * one filter-gradient GEMM over all steps (plus the step that reads h0), and the bias and initial-state
 * gradients as deterministic column sums.
 */
import { GpuError } from "../device.ts";
import type { Graph } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { chooseTiles, profileFor } from "../tiles.ts";
import { convForward, type MapView } from "../../wgsl/conv.ts";
import { filterGrad } from "./filter_grad.ts";
import { transposeTaps } from "../../wgsl/layout.ts";
import { lstmBackwardStep, lstmForwardStep, type StepStrides } from "../../wgsl/lstm.ts";
import { scanSteps } from "../reference/lstm.ts";
import { columnSum } from "./reduce.ts";
import { addInto } from "./basic.ts";

export interface LstmScanOptions {
  /** Number of independent directions stacked along the batch axis (1 Row LSTM, 2 Diagonal BiLSTM). */
  z: number;
  /** Offsets along a step's positions read from the previous step's h (Row LSTM [-1, 0, 1]). */
  taps: number[];
}

export interface LstmParams {
  /** State-to-state kernel [Z, T, h, 4h]. */
  wss: Tensor;
  /** Gate bias [Z, 4h]. */
  bias: Tensor;
  /** Learned initial states [Z, h]. */
  h0: Tensor;
  c0: Tensor;
}

/** Strides of an NHWC map scanned row by row: a step is a row, its positions the row's pixels. */
function strides(b: number, y: number, x: number, ch: number): StepStrides {
  const sB = y * x * ch;
  return { sZ: b * sB, sB, sT: x * ch, sL: ch };
}

/** The whole map as conv positions [B, S, L] (taps along L), starting at step `from`. */
function scanMap(s: StepStrides, from: number): MapView {
  return { sB: s.sB, sY: s.sT, sX: s.sL, sZ: s.sZ, offset: { c: from * s.sT } };
}

/** Runs the scan over `gates` [Z*B, Y, X, 4h] and returns the hidden states [Z*B, Y, X, h]. */
export function lstmScan(g: Graph, gates: Tensor, p: LstmParams, opts: LstmScanOptions): Tensor {
  const name = `lstm ${p.wss.label}`;
  const [ZB, Y, X, G] = gates.shape;
  const Z = opts.z, T = opts.taps.length;
  const h = G / 4;
  const B = ZB / Z;
  if (gates.shape.length !== 4 || G % 4 !== 0 || !Number.isInteger(B)) {
    throw new GpuError(`${name}: gates [${gates.shape}] must be [Z*B, Y, X, 4h] with Z = ${Z}`);
  }
  const expect: [Tensor, number[]][] = [[p.wss, [Z, T, h, G]], [p.bias, [Z, G]], [p.h0, [Z, h]], [p.c0, [
    Z,
    h,
  ]]];
  for (const [t, shape] of expect) {
    if (t.shape.join() !== shape.join()) {
      throw new GpuError(`${name}: ${t.label} is [${t.shape}], expected [${shape}]`);
    }
  }
  const geo = { z: Z, batch: B, height: Y, width: X, h, taps: opts.taps };
  const { steps: S, positions: L } = scanSteps(geo);
  const gs = strides(B, Y, X, G), hs = strides(B, Y, X, h);
  const profile = profileFor(g.gpu);
  const stepTiles = chooseTiles(profile, B * L, h, 4);
  const stepSpec = {
    z: Z,
    batch: B,
    positions: L,
    h,
    taps: opts.taps,
    gates: gs,
    states: hs,
    tiles: stepTiles,
  };

  const hidden = g.alloc(`${name}.h`, [ZB, Y, X, h]);
  const cell = g.alloc(`${name}.c`, [ZB, Y, X, h]);
  const act = g.alloc(`${name}.act`, [ZB, Y, X, G]);
  const first = lstmForwardStep({ ...stepSpec, label: `${name} step 0`, first: true });
  g.dispatch(`${name} step 0`, first, {
    X: p.h0,
    W: p.wss,
    IS: gates,
    BIAS: p.bias,
    C0: p.c0,
    H: hidden,
    C: cell,
    ACT: act,
  });
  if (S > 1) {
    const k = lstmForwardStep({ ...stepSpec, label: `${name} step`, first: false });
    for (let t = 1; t < S; t++) {
      g.dispatch(
        `${name} step ${t}`,
        k,
        { X: hidden, W: p.wss, IS: gates, BIAS: p.bias, C: cell, ACT: act },
        t - 1,
      );
    }
  }

  g.record(name, [gates, p.wss, p.bias, p.h0, p.c0], [hidden], () => {
    const dHidden = g.gradOf(hidden)!;
    const sink = g.gradSink(gates);
    // The gate-gradient map doubles as dL/dgates when this op is the first to write it.
    const dg = sink && !sink.accumulate ? sink.grad : g.alloc(`${name}.dgates`, gates.shape);
    const carry = g.alloc(`${name}.dc carry`, [ZB, L, h]);
    const wssT = g.alloc(`${name}.wssT`, [Z, T, G, h]);
    g.dispatch(`${name} transpose`, transposeTaps(Z * T, h, G), { SRC: p.wss, DST: wssT });
    // The backward epilogue reads and writes all four gates of each channel: tiles as narrow as the
    // forward step's, with half its rows (1.3x faster than plain h-column tiles on the software adapter,
    // Diagonal BiLSTM on MNIST).
    const bwdTiles = chooseTiles({ ...profile, tm: Math.max(1, profile.tm / 2) }, B * L, h, 4);
    for (let t = S - 1; t >= 0; t--) {
      const recurrent = t < S - 1, isFirst = t === 0;
      const k = lstmBackwardStep({
        ...stepSpec,
        tiles: bwdTiles,
        label: `${name} backward${recurrent ? "" : " last"}${isFirst ? " first" : ""}`,
        first: isFirst,
        recurrent,
      });
      const res: Record<string, Tensor> = { DH: dHidden, ACT: act, C: cell, DCC: carry };
      if (recurrent) Object.assign(res, { X: dg, W: wssT });
      else res.DG = dg;
      if (isFirst) res.C0 = p.c0;
      g.dispatch(`${name} backward step ${t}`, k, res, t);
    }
    if (sink?.accumulate) addInto(g, `${name} dgates`, sink.grad, dg);

    const dw = g.gradSink(p.wss);
    if (dw) {
      const fg = (
        label: string,
        x: Tensor,
        input: MapView,
        grad: MapView,
        steps: number,
        accumulate: boolean,
      ) =>
        filterGrad(
          g,
          label,
          {
            label,
            batch: B,
            height: steps,
            width: L,
            cin: h,
            n: G,
            taps: opts.taps.map((dx, w) => ({ dy: 0, dx, w })),
            input,
            grad,
            weight: { offset: { c: 0 }, sTap: h * G, ld: G, sZ: T * h * G },
            z: Z,
          },
          x,
          dg,
          { grad: dw.grad, accumulate },
        );
      // Step 0 reads h0 (zero strides); steps 1..S-1 read the hidden map one step back.
      fg(
        `${name} dWss h0`,
        p.h0,
        { sB: 0, sY: 0, sX: 0, sZ: h, offset: { c: 0 } },
        scanMap(gs, 0),
        1,
        dw.accumulate,
      );
      if (S > 1) fg(`${name} dWss`, hidden, scanMap(hs, 0), scanMap(gs, 1), S - 1, true);
    }
    const db = g.gradSink(p.bias);
    if (db) {
      columnSum(g, `${name} dBias`, dg, db.grad, { groups: Z, rows: B * Y * X, cols: G }, db.accumulate);
    }
    const dh0 = g.gradSink(p.h0);
    if (dh0) {
      // dL/dh0 = the transposed state-to-state conv of step 0's gate gradients, summed over positions.
      const map = g.alloc(`${name}.dh0 map`, [ZB, L, h]);
      g.dispatch(
        `${name} dh0`,
        convForward({
          label: `${name} dh0`,
          batch: B,
          height: 1,
          width: L,
          cin: G,
          n: h,
          taps: opts.taps.map((dx, w) => ({ dy: 0, dx: -dx, w })),
          input: { sB: gs.sB, sY: 0, sX: gs.sL, sZ: gs.sZ, offset: { c: 0 } },
          weight: { offset: { c: 0 }, sTap: G * h, ld: h, sZ: T * G * h },
          output: { sB: L * h, sY: 0, sX: h, sZ: B * L * h, offset: { c: 0 } },
          z: Z,
          tiles: bwdTiles,
        }),
        { X: dg, W: wssT, OUT: map },
      );
      columnSum(g, `${name} dh0 sum`, map, dh0.grad, { groups: Z, rows: B * L, cols: h }, dh0.accumulate);
    }
    const dc0 = g.gradSink(p.c0);
    if (dc0) {
      columnSum(g, `${name} dc0 sum`, carry, dc0.grad, { groups: Z, rows: B * L, cols: h }, dc0.accumulate);
    }
  });
  return hidden;
}
