/** The WebGPU executor of an architecture: records kernels (and their gradients) into a Graph. */
import type { Graph } from "../engine/graph.ts";
import type { Init, ParamStore } from "../engine/params.ts";
import type { Tensor } from "../engine/tensor.ts";
import { conv2d } from "../engine/ops/conv.ts";
import { lstmScan, type LstmScanOptions } from "../engine/ops/lstm.ts";
import { depthToSpace } from "../engine/ops/remap.ts";
import { skewPair, unskewCombine } from "../engine/ops/skew.ts";
import { GpuError } from "../engine/device.ts";
import type { ConvOpts, LstmWeights, ModelOps } from "./ops.ts";

export class GraphOps implements ModelOps<Tensor> {
  /** @param train whether gradients flow into the parameters (a training graph). */
  constructor(readonly g: Graph, readonly store: ParamStore, readonly train: boolean) {}

  param(name: string, shape: number[], _init: Init, _mask?: Float32Array): Tensor {
    const t = this.store.tensor(name);
    if (t.shape.join() !== shape.join()) {
      throw new GpuError(`param ${name}: stored as [${t.shape}], the architecture asks for [${shape}]`);
    }
    if (this.train) this.g.requireGrad(t, this.store.gradTensor(name));
    return t;
  }

  shape(x: Tensor): readonly number[] {
    return x.shape;
  }

  conv(x: Tensor, w: Tensor, opts: ConvOpts<Tensor>): Tensor {
    return conv2d(this.g, x, w, opts);
  }

  lstm(gates: Tensor, p: LstmWeights<Tensor>, opts: LstmScanOptions): Tensor {
    return lstmScan(this.g, gates, p, opts);
  }

  skewPair(x: Tensor): Tensor {
    return skewPair(this.g, x);
  }

  unskewCombine(s: Tensor): Tensor {
    return unskewCombine(this.g, s);
  }

  depthToSpace(x: Tensor, factor: number): Tensor {
    return depthToSpace(this.g, x, factor);
  }
}
