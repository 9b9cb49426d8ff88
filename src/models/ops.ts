/**
 * The vocabulary a model architecture is written in. Every architecture (src/models/*.ts) is one
 * function over {@link ModelOps}, run by three executors:
 *
 * - {@link DeclareOps}: infers shapes, validates them, and declares every parameter (with its mask) in
 *   a ParamStore — this is also how parameter counts per layer are obtained;
 * - GraphOps (graph_ops.ts): records the WebGPU kernels, forward and backward;
 * - ReferenceOps (reference_ops.ts): evaluates the same architecture in float64 on the host.
 *
 * So the float64 reference check of a model tests the kernels and their plumbing against an
 * independent implementation of each op, and the architecture itself is checked by the causality and
 * receptive-field certificates.
 */
import { GpuError } from "../engine/device.ts";
import type { Init, ParamStore } from "../engine/params.ts";
import type { LstmScanOptions } from "../engine/ops/lstm.ts";

export interface LstmWeights<T> {
  wss: T;
  bias: T;
  h0: T;
  c0: T;
}

/** Options of a convolution: its bias and mask, and the two fusions every executor must honour. */
export interface ConvOpts<T> {
  bias?: T;
  /** Lets the kernel skip wholly zero taps. */
  mask?: Float32Array;
  /** Convolve max(x, 0): a ReLU feeding the convolution. */
  relu?: boolean;
  /** Added to the output: a residual or skip connection. */
  residual?: T;
}

export interface ModelOps<T> {
  /** A parameter; masked entries are zero and stay zero. */
  param(name: string, shape: number[], init: Init, mask?: Float32Array): T;
  shape(x: T): readonly number[];
  /** Same-padding convolution with weight [KH, KW, Cin, Cout]. */
  conv(x: T, w: T, opts: ConvOpts<T>): T;
  lstm(gates: T, p: LstmWeights<T>, opts: LstmScanOptions): T;
  skewPair(x: T): T;
  unskewCombine(s: T): T;
  /** [B, H, W, C*f*f] -> [B, H*f, W*f, C] (the rearrangement half of a stride-f deconvolution). */
  depthToSpace(x: T, factor: number): T;
}

/** A shape-only value for the declaring pass. */
export interface Shaped {
  shape: readonly number[];
}

function fail(op: string, msg: string): never {
  throw new GpuError(`${op}: ${msg}`);
}

/** Shape inference and parameter declaration; the same checks every executor relies on. */
export class DeclareOps implements ModelOps<Shaped> {
  /** Elements of the largest activation produced so far (the binding-size limit applies to it). */
  largest = 0;

  constructor(readonly store: ParamStore) {}

  private out(shape: readonly number[]): Shaped {
    this.largest = Math.max(this.largest, shape.reduce((a, b) => a * b, 1));
    return { shape };
  }

  param(name: string, shape: number[], init: Init, mask?: Float32Array): Shaped {
    this.store.declare(name, shape, init, mask);
    return { shape };
  }

  shape(x: Shaped): readonly number[] {
    return x.shape;
  }

  conv(x: Shaped, w: Shaped, opts: ConvOpts<Shaped>): Shaped {
    const y = convShape(x.shape, w.shape, opts.bias?.shape);
    if (opts.residual && opts.residual.shape.join() !== y.join()) {
      fail("conv", `residual [${opts.residual.shape}] does not match the output [${y}]`);
    }
    return this.out(y);
  }

  lstm(gates: Shaped, p: LstmWeights<Shaped>, opts: LstmScanOptions): Shaped {
    return this.out(lstmShape(gates.shape, p, opts));
  }

  skewPair(x: Shaped): Shaped {
    const [B, n, W, C] = x.shape;
    if (n !== W || C % 2) fail("skewPair", `expects [B, n, n, 2C], got [${x.shape}]`);
    return this.out([2 * B, 2 * n - 1, n, C / 2]);
  }

  unskewCombine(s: Shaped): Shaped {
    const [B2, W, n, C] = s.shape;
    if (W !== 2 * n - 1 || B2 % 2) fail("unskewCombine", `expects [2B, 2n-1, n, C], got [${s.shape}]`);
    return this.out([B2 / 2, n, n, C]);
  }

  depthToSpace(x: Shaped, f: number): Shaped {
    const [B, H, W, C] = x.shape;
    if (C % (f * f)) fail("depthToSpace", `${C} channels not divisible by ${f}x${f}`);
    return this.out([B, H * f, W * f, C / (f * f)]);
  }
}

export function convShape(x: readonly number[], w: readonly number[], bias?: readonly number[]): number[] {
  if (x.length !== 4 || w.length !== 4) fail("conv", `x [${x}] and w [${w}] must both be 4-D`);
  if (x[3] !== w[2]) fail("conv", `x [${x}] has ${x[3]} channels, w [${w}] expects ${w[2]}`);
  if (w[0] % 2 === 0 || w[1] % 2 === 0) fail("conv", `kernel ${w[0]}x${w[1]} must have odd sizes`);
  if (bias && (bias.length !== 1 || bias[0] !== w[3])) fail("conv", `bias [${bias}] for ${w[3]} outputs`);
  return [x[0], x[1], x[2], w[3]];
}

export function lstmShape(
  gates: readonly number[],
  p: LstmWeights<Shaped>,
  opts: LstmScanOptions,
): number[] {
  const [ZB, Y, X, G] = gates;
  const h = G / 4, Z = opts.z, T = opts.taps.length;
  if (G % 4 || ZB % Z) fail("lstm", `gates [${gates}] must be [Z*B, Y, X, 4h] with Z = ${Z}`);
  const want: [Shaped, number[]][] = [[p.wss, [Z, T, h, G]], [p.bias, [Z, G]], [p.h0, [Z, h]], [p.c0, [
    Z,
    h,
  ]]];
  for (const [t, s] of want) {
    if (t.shape.join() !== s.join()) fail("lstm", `weight [${t.shape}], expected [${s}]`);
  }
  return [ZB, Y, X, h];
}
