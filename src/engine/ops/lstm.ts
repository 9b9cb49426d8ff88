/**
 * The spatial LSTM scan (paper eq. 3) as one op: one step per row of the input map (the Row LSTM's
 * rows; for the Diagonal BiLSTM, the columns of the skewed map, which is stored column-major). See
 * src/engine/reference/lstm.ts for the exact semantics; Z independent directions run in the same
 * dispatches, each with its own weights.
 *
 * Two ways to run the steps, chosen by shape ({@link wholeScan}):
 * - whole scan (src/wgsl/scan.ts): one dispatch walks every step, a workgroup per image and direction;
 * - per step (src/wgsl/lstm.ts): one fused GEMM dispatch per step, all images and directions at once.
 *
 * Either way the backward forms the state-to-state weight and bias gradients afterwards as filter
 * gradients over all steps (plus the step that reads h0), and the initial-state gradients as sums over
 * positions and images.
 */
import { GpuError } from "../device.ts";
import type { Graph } from "../graph.ts";
import type { ScanMode } from "../policy.ts";
import type { Tensor } from "../tensor.ts";
import { chooseTiles, profileFor, scanTiles, uniformWeightTiles } from "../tiles.ts";
import { convForward } from "../../wgsl/conv.ts";
import type { MapView } from "../../wgsl/kernel.ts";
import { filterGrad } from "./filter_grad.ts";
import { lstmBackwardStep, lstmForwardStep, type StepStrides } from "../../wgsl/lstm.ts";
import { lstmScanBackward, lstmScanForward, type ScanSpec } from "../../wgsl/scan.ts";
import type { Tiles } from "../../wgsl/kernel.ts";
import { columnSum } from "./reduce.ts";
import { addInto } from "./basic.ts";
import { bindMap, readsMirrors } from "./mirrors.ts";

export interface LstmScanOptions {
  /** Number of independent directions stacked along the batch axis (1 Row LSTM, 2 Diagonal BiLSTM). */
  z: number;
  /** Offsets along a step's positions read from the previous step's h (Row LSTM [-1, 0, 1]). */
  taps: number[];
  /** Force one way of running the steps; by default the device's policy (auto: {@link wholeScan}). */
  mode?: ScanMode;
  /**
   * The steps are the columns of a skewed map (the Diagonal BiLSTM: position x of step t is pixel
   * (x, t - x) of an image of S - L + 1 columns), and the caller reads no state right of the image. With
   * taps -1 and 0 a state reads only positions x - 1 and x of the step before, so a state right of the
   * image (x < t - (S - L)) feeds none inside or left of it: per-step kernels skip those positions (a
   * quarter of the skewed map; the left padding does feed pixels and runs), and their hidden states,
   * cells and gate gradients are left unwritten. The filter gradients skip them in either mode.
   */
  skewed?: boolean;
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

/**
 * The rule: the whole scan is one dispatch of Z*B workgroups, each walking S steps; the per-step form is
 * S dispatches over all Z*B*L positions. A whole-scan step's work per workgroup grows as L * h^2, so the
 * whole scan wins while that stays moderate, the per-step GEMMs when h is so large that one workgroup
 * per image leaves the adapter idle for long steps.
 *
 * Measured on lavapipe (interleaved, forward / backward ms, whole vs per step): Diagonal BiLSTM with
 * Z = 2, B = 16, 55 steps of L = 28, h = 16: 87 / 142 vs 81 / 156; h = 32: 445 / 730 vs 456 / 1161;
 * B = 4, 63 steps of L = 32, h = 64: 508 / 798 vs 563 / 1425. On a GPU, not yet measured: an estimate
 * of the per-thread work of one step (at L = 32, h = 128: 4 x 4 tiles of 4 gates over K = 3h, about 25k
 * multiply-adds, some 12 us on an H200) against one dispatch per step (5-10 us each plus a GEMM too
 * small to fill the device) puts the crossover between h = 128 (CIFAR-10) and h = 384 (ImageNet).
 * Hence: whole scan up to L * h^2 = 32 * 128^2, in the policy's auto mode, a real GPU's default (a
 * software adapter runs per step unless forced: its compiler takes minutes on large whole scans, see
 * policy.ts). scripts/gpu/run.sh estimates the MNIST and CIFAR-10 rows both ways, so the first GPU
 * session checks the GPU side of this rule.
 */
export function wholeScan(
  geo: { z: number; batch: number; width: number; h: number },
  maxGroups: number,
): boolean {
  return geo.batch <= maxGroups && geo.z <= maxGroups && geo.width * geo.h * geo.h <= WHOLE_SCAN_MAX_WORK;
}

/** Largest L * h^2 run as a whole scan. */
const WHOLE_SCAN_MAX_WORK = 32 * 128 * 128;

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
  const S = Y, L = X;
  if (opts.skewed && (S < L || opts.taps.some((dx) => dx !== -1 && dx !== 0))) {
    throw new GpuError(
      `${name}: a skewed scan needs at least as many steps as positions and taps in {-1, 0}`,
    );
  }
  // Positions x < t - band of step t lie right of the image.
  const band = opts.skewed ? S - L : undefined;
  const gs = strides(B, Y, X, G), hs = strides(B, Y, X, h);
  const maxGroups = g.gpu.limits.maxComputeWorkgroupsPerDimension;
  const mode = opts.mode ?? g.gpu.policy.scan;
  const whole = mode === "auto" ? wholeScan({ z: Z, batch: B, width: L, h }, maxGroups) : mode === "whole";
  const tiles = stepTiles(g, B * L, h);
  // Per-step kernels may read small state-to-state weights from a uniform buffer (software tiles).
  const uniform = whole ? null : uniformWeightTiles(g.gpu, p.wss, h, 4);
  const scan: ScanSpec = {
    label: name,
    z: Z,
    batch: B,
    steps: S,
    positions: L,
    h,
    taps: opts.taps,
    gates: gs,
    states: hs,
    tiles: whole ? scanTiles(profileFor(g.gpu), tiles.forward, L, h, false) : uniform?.tiles ?? tiles.forward,
    uniformWeight: uniform?.vec4s,
  };

  const hidden = g.alloc(`${name}.h`, [ZB, Y, X, h]);
  const cell = g.alloc(`${name}.c`, [ZB, Y, X, h]);
  const act = g.alloc(`${name}.act`, [ZB, Y, X, G]);
  if (whole) {
    g.dispatch(name, lstmScanForward(scan), {
      IS: gates,
      W: p.wss,
      BIAS: p.bias,
      H0: p.h0,
      C0: p.c0,
      X: hidden,
      C: cell,
      ACT: act,
    });
  } else {
    perStepForward(g, name, gates, p, { scan: { ...scan, band }, hidden, cell, act });
  }

  g.record(name, [gates, p.wss, p.bias, p.h0, p.c0], [hidden], () => {
    const dHidden = g.gradOf(hidden)!;
    const sink = g.gradSink(gates);
    // The gate-gradient map doubles as dL/dgates when this op is the first to write it.
    const dg = sink && !sink.accumulate ? sink.grad : g.alloc(`${name}.dgates`, gates.shape);
    const initial = initialStateSinks(g, name, p, Z * B * L * h);
    const back = {
      ...scan,
      tiles: whole
        ? scanTiles(profileFor(g.gpu), tiles.backward, L, h, true)
        : uniform?.tiles ?? tiles.backward,
    };
    if (whole) {
      g.dispatch(`${name} backward`, lstmScanBackward({ ...back, weight: transposedWss(scan) }), {
        DH: dHidden,
        ACT: act,
        C: cell,
        C0: p.c0,
        DCC: initial.dc0,
        X: dg,
        W: p.wss,
        DH0P: initial.dh0,
      });
    } else {
      perStepBackward(g, name, p, { scan: { ...back, band }, dHidden, act, cell, dg, initial });
    }
    initial.finish({ z: Z, rows: B * L, h });
    if (sink?.accumulate) addInto(g, `${name} dgates`, sink.grad, dg);
    stateWeightGrads(g, name, p, { scan: { ...scan, band }, hidden, dg });
  });
  return hidden;
}

/**
 * Register tiles of a step's GEMM over the B * L positions. The backward epilogue reads and writes all
 * four gates of each channel: tiles as narrow as the forward step's, with half its rows (1.3x faster
 * than plain h-column tiles on the software adapter, Diagonal BiLSTM on MNIST).
 */
function stepTiles(g: Graph, rows: number, h: number): { forward: Tiles; backward: Tiles } {
  const profile = profileFor(g.gpu);
  return {
    forward: chooseTiles(profile, rows, h, 4),
    backward: chooseTiles({ ...profile, tm: Math.max(1, profile.tm / 2) }, rows, h, 4),
  };
}

/** A scan's spec with the skewed band of its per-step kernels and filter gradients. */
type BandedScan = ScanSpec & { band?: number };

interface ScanMaps {
  scan: BandedScan;
  hidden: Tensor;
  cell: Tensor;
  act: Tensor;
}

function perStepForward(g: Graph, name: string, gates: Tensor, p: LstmParams, m: ScanMaps): void {
  // The input-to-state gates stay fixed through the scan: one mirror serves every step.
  const textures = readsMirrors(g, [gates]);
  const is = bindMap(g, gates, textures);
  // The scan's whole spec, so that every choice made for it (tiles, uniform weights) reaches the steps.
  const scan = { ...m.scan, textures };
  const first = lstmForwardStep({ ...scan, label: `${name} step 0`, first: true });
  g.dispatch(`${name} step 0`, first, {
    X: p.h0,
    W: p.wss,
    IS: is,
    BIAS: p.bias,
    C0: p.c0,
    H: m.hidden,
    C: m.cell,
    ACT: m.act,
  });
  if (scan.steps > 1) {
    const k = lstmForwardStep({ ...scan, label: `${name} step`, first: false });
    for (let t = 1; t < scan.steps; t++) {
      g.dispatch(
        `${name} step ${t}`,
        k,
        { X: m.hidden, W: p.wss, IS: is, BIAS: p.bias, C: m.cell, ACT: m.act },
        t - 1,
      );
    }
  }
}

interface InitialStateMaps {
  /** [Z*B, positions, h]: dL/dh_{-1} per position, from the transposed state-to-state conv of step 0. */
  dh0: Tensor;
  /** [Z*B, positions, h]: the cell carry left after step 0, dL/dc_{-1} per position. */
  dc0: Tensor;
  /** Sums both over images and positions into the gradients of h0 and c0. */
  finish(s: { z: number; rows: number; h: number }): void;
}

/**
 * Where the scan backward leaves its per-position contributions to the initial states' gradients: in
 * the graph's partial-sum buffer when it can take them (summed with every other deferred gradient at
 * the end of backward), else in maps of their own summed right away.
 */
function initialStateSinks(g: Graph, name: string, p: LstmParams, elements: number): InitialStateMaps {
  const deferred = g.canDefer(p.h0) && g.canDefer(p.c0);
  const rh = deferred ? g.reservePartials(`${name} dh0`, elements) : null;
  const rc = rh ? g.reservePartials(`${name} dc0`, elements) : null;
  const regions = rh && rc ? { dh0: rh, dc0: rc } : null;
  const maps = regions ?? {
    dh0: g.alloc(`${name}.dh0 map`, [elements]),
    dc0: g.alloc(`${name}.dc0 map`, [elements]),
  };
  return {
    ...maps,
    finish(s) {
      for (const [param, map] of [[p.h0, maps.dh0], [p.c0, maps.dc0]] as const) {
        if (regions) {
          for (let z = 0; z < s.z; z++) {
            const at = z * s.h;
            g.deferGrad(param, {
              region: map,
              offset: z * s.rows * s.h,
              slices: s.rows,
              stride: s.h,
              at,
              size: s.h,
            });
          }
          continue;
        }
        const sink = g.gradSink(param);
        if (!sink) continue;
        const shape = { groups: s.z, rows: s.rows, cols: s.h };
        columnSum(g, `${name} d${param.label}`, map, sink.grad, shape, sink.accumulate);
      }
    },
  };
}

interface BackwardMaps {
  scan: BandedScan;
  dHidden: Tensor;
  act: Tensor;
  cell: Tensor;
  dg: Tensor;
  initial: InitialStateMaps;
}

/** State-to-state weights read transposed in place: row j (a gate column), column c. */
function transposedWss(s: ScanSpec) {
  const G = 4 * s.h;
  return { offset: { c: 0 }, sTap: s.h * G, ld: 1, sCol: G, sZ: s.taps.length * s.h * G };
}

/**
 * One fused kernel per step in reverse (gate gradients and the cell carry), then dL/dh_{-1} per
 * position as the transposed state-to-state conv of step 0's gate gradients.
 */
function perStepBackward(g: Graph, name: string, p: LstmParams, m: BackwardMaps): void {
  // dL/dh, the gate activations and the cells stay fixed through the backward scan: mirrored once.
  const fixed = { DH: m.dHidden, ACT: m.act, C: m.cell };
  const textures = readsMirrors(g, Object.values(fixed));
  const reads = Object.fromEntries(Object.entries(fixed).map(([k, t]) => [k, bindMap(g, t, textures)]));
  const scan = { ...m.scan, textures };
  const { z: Z, batch: B, positions: L, h, tiles } = scan;
  for (let t = scan.steps - 1; t >= 0; t--) {
    const recurrent = t < scan.steps - 1, isFirst = t === 0;
    const k = lstmBackwardStep({
      ...scan,
      label: `${name} backward${recurrent ? "" : " last"}${isFirst ? " first" : ""}`,
      first: isFirst,
      recurrent,
      weight: transposedWss(scan),
    });
    const res: Record<string, Tensor | GPUTextureView> = { ...reads, DCC: m.initial.dc0 };
    if (recurrent) Object.assign(res, { X: m.dg, W: p.wss });
    else res.DG = m.dg;
    if (isFirst) res.C0 = p.c0;
    g.dispatch(`${name} backward step ${t}`, k, res, t);
  }
  const gs = scan.gates;
  g.dispatch(
    `${name} dh0`,
    convForward({
      label: `${name} dh0`,
      batch: B,
      height: 1,
      width: L,
      cin: 4 * h,
      n: h,
      taps: scan.taps.map((dx, w) => ({ dy: 0, dx: -dx, w })),
      input: { sB: gs.sB, sY: 0, sX: gs.sL, sZ: gs.sZ, offset: { c: 0 } },
      weight: transposedWss(scan),
      output: { sB: L * h, sY: 0, sX: h, sZ: B * L * h, offset: { c: 0 } },
      z: Z,
      tiles,
      uniformWeight: scan.uniformWeight,
    }),
    { X: m.dg, W: p.wss, OUT: m.initial.dh0 },
  );
}

/**
 * dWss and the gate bias gradient: filter gradients over every step, the later steps reading the hidden
 * map one step back, then step 0 reading h0 (zero strides). Both also sum the gate gradients of their
 * steps into the bias gradient.
 */
function stateWeightGrads(
  g: Graph,
  name: string,
  p: LstmParams,
  m: { scan: BandedScan; hidden: Tensor; dg: Tensor },
): void {
  const { scan, hidden, dg } = m;
  if (!g.requiresGrad(p.wss)) return;
  const { z: Z, batch: B, positions: L, h } = scan, G = 4 * h;
  const fg = (label: string, x: Tensor, input: MapView, grad: MapView, steps: number, band?: number) =>
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
        taps: scan.taps.map((dx, w) => ({ dy: 0, dx, w })),
        input,
        grad,
        weight: { offset: { c: 0 }, sTap: h * G, ld: G, sZ: scan.taps.length * h * G },
        z: Z,
        band,
      },
      x,
      dg,
      { weight: p.wss, bias: p.bias },
    );
  if (scan.steps > 1) {
    // Row y of the gradient view is step y + 1: its live positions are x >= y + 1 - band.
    const band = scan.band === undefined ? undefined : 1 - scan.band;
    fg(`${name} dWss`, hidden, scanMap(scan.states, 0), scanMap(scan.gates, 1), scan.steps - 1, band);
  }
  fg(`${name} dWss h0`, p.h0, { sB: 0, sY: 0, sX: 0, sZ: h, offset: { c: 0 } }, scanMap(scan.gates, 0), 1);
}
