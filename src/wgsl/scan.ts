/**
 * Whole-scan LSTM kernels: one dispatch runs every step of the spatial LSTM scan (paper eq. 3) instead
 * of one dispatch per row or diagonal. The steps are the per-step kernels' own register-tiled GEMM
 * bodies (lstm.ts), run in a loop: a workgroup owns one image of one direction and every position and
 * channel of it, and a storage barrier after each step makes its states (forward) or gate gradients
 * (backward) visible to the next step's reads.
 *
 * Forward: step 0 (reads h0, c0), then steps 1 .. S-1. Backward, in reverse: step S-1 (nothing flows in
 * from a later step), steps S-2 .. 1, step 0 (reads c0), and last the transposed state-to-state conv
 * of step 0's gate gradients into DH0P: dL/dh_{-1} per position, which the caller sums into dL/dh0.
 * The carry DCC left after step 0 is likewise dL/dc_{-1} per position.
 */
import { scanKernel, type ScanPhase } from "./conv.ts";
import type { Kernel, WeightView } from "./kernel.ts";
import { backwardStepSpec, forwardStepSpec, type StepKernelSpec, withMath } from "./lstm.ts";

export interface ScanSpec extends Omit<StepKernelSpec, "first" | "names"> {
  steps: number;
}

/** Forward: binds H0, C0, IS, BIAS, W and writes the hidden map X, the cells C and activations ACT. */
export function lstmScanForward(spec: ScanSpec): Kernel {
  const step = { ...spec, names: { h0: "H0", hidden: "X" } };
  const phases: ScanPhase[] = [{
    spec: forwardStepSpec({ ...step, first: true }),
    from: 0,
    to: 0,
    t: () => "0",
  }];
  if (spec.steps > 1) {
    phases.push({
      spec: forwardStepSpec({ ...step, first: false }),
      from: 1,
      to: spec.steps - 1,
      t: (s) => `${s} - 1`,
    });
  }
  return withMath(scanKernel(spec.label, phases), spec);
}

/**
 * Backward: binds DH, ACT, C, C0, W (read transposed in place through `weight`) and writes the gate
 * gradients X, the carry DCC and DH0P (both [Z*B, positions, h]).
 */
export function lstmScanBackward(spec: ScanSpec & { weight: WeightView }): Kernel {
  const S = spec.steps, h = spec.h;
  const step = (s: number) => ({
    ...spec,
    names: { dg: "X" },
    first: s === 0,
    recurrent: s < S - 1,
  });
  const phases: ScanPhase[] = [{ spec: backwardStepSpec(step(S - 1)), from: S - 1, to: S - 1, t: (s) => s }];
  if (S > 2) phases.push({ spec: backwardStepSpec(step(1)), from: S - 2, to: 1, t: (s) => s });
  if (S > 1) phases.push({ spec: backwardStepSpec(step(0)), from: 0, to: 0, t: () => "0" });
  const gs = spec.gates;
  phases.push({
    spec: {
      label: `${spec.label} dh0`,
      batch: spec.batch,
      height: 1,
      width: spec.positions,
      cin: 4 * h,
      n: h,
      taps: spec.taps.map((dx, w) => ({ dy: 0, dx: -dx, w })),
      input: { sB: gs.sB, sY: 0, sX: gs.sL, sZ: gs.sZ, offset: { c: 0 } },
      weight: spec.weight,
      output: { sB: spec.positions * h, sY: 0, sX: h, sZ: spec.batch * spec.positions * h, offset: { c: 0 } },
      outputName: "DH0P",
      // X is the gate-gradient map the other phases write: declared (and vectorised) as they do.
      inputWritable: true,
      z: spec.z,
      tiles: spec.tiles,
    },
    from: 0,
    to: 0,
    t: () => "0",
  });
  return withMath(scanKernel(spec.label, phases), spec);
}
