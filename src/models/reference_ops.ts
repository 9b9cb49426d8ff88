/** The float64 host executor of an architecture, built on the engine's reference ops. */
import type { Init, ParamStore } from "../engine/params.ts";
import type { LstmScanOptions } from "../engine/ops/lstm.ts";
import { conv2dRef, type Shape4 } from "../engine/reference/conv.ts";
import { lstmScanRef } from "../engine/reference/lstm.ts";
import { depthToSpaceRef, type Map4, skewPairRef, unskewCombineRef } from "../engine/reference/skew.ts";
import { type ConvOpts, convShape, type LstmWeights, type ModelOps } from "./ops.ts";

export interface RefValue {
  data: Float64Array;
  shape: readonly number[];
}

const map4 = (v: RefValue): Map4 => ({ data: v.data, shape: v.shape as Shape4 });

export class ReferenceOps implements ModelOps<RefValue> {
  /** @param values the flat parameter vector laid out as in `store`. */
  constructor(readonly store: ParamStore, readonly values: Float32Array | Float64Array) {}

  param(name: string, shape: number[], _init: Init, _mask?: Float32Array): RefValue {
    const p = this.store.get(name);
    return { data: Float64Array.from(this.values.subarray(p.offset, p.offset + p.size)), shape };
  }

  shape(x: RefValue): readonly number[] {
    return x.shape;
  }

  conv(x: RefValue, w: RefValue, opts: ConvOpts<RefValue>): RefValue {
    const shape = convShape(x.shape, w.shape, opts.bias?.shape);
    const input = opts.relu ? x.data.map((v) => Math.max(v, 0)) : x.data;
    const data = conv2dRef(input, x.shape as Shape4, w.data, w.shape as Shape4, opts.bias?.data);
    if (opts.residual) data.forEach((v, i) => data[i] = v + opts.residual!.data[i]);
    return { data, shape };
  }

  lstm(gates: RefValue, p: LstmWeights<RefValue>, opts: LstmScanOptions): RefValue {
    const [ZB, Y, X, G] = gates.shape;
    const geo = {
      z: opts.z,
      batch: ZB / opts.z,
      height: Y,
      width: X,
      h: G / 4,
      taps: opts.taps,
    };
    const r = lstmScanRef(geo, {
      gates: gates.data,
      wss: p.wss.data,
      bias: p.bias.data,
      h0: p.h0.data,
      c0: p.c0.data,
    });
    return { data: r.hidden, shape: [ZB, Y, X, G / 4] };
  }

  skewPair(x: RefValue): RefValue {
    return skewPairRef(map4(x));
  }

  unskewCombine(s: RefValue): RefValue {
    return unskewCombineRef(map4(s));
  }

  depthToSpace(x: RefValue, factor: number): RefValue {
    return depthToSpaceRef(map4(x), factor);
  }
}
