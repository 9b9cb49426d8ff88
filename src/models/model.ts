/**
 * A PixelRNN / PixelCNN model: its configuration, its parameters (declared by running the architecture
 * through DeclareOps, then allocated once on the GPU), and graphs that compute per-image negative
 * log-likelihoods for a batch — forward only, or forward and backward for training.
 */
import type { Gpu } from "../engine/device.ts";
import { GpuError } from "../engine/device.ts";
import { Graph } from "../engine/graph.ts";
import { sigmoidBce, softmaxXent } from "../engine/ops/loss.ts";
import { ParamStore } from "../engine/params.ts";
import type { Tensor } from "../engine/tensor.ts";
import { logits } from "./architecture.ts";
import { inputScale, type ModelConfig, resolveModelConfig } from "./config.ts";
import { GraphOps } from "./graph_ops.ts";
import { DeclareOps } from "./ops.ts";

/** The tensors of one batch graph. */
export interface ModelGraph {
  graph: Graph;
  batch: number;
  /** Scaled network input f32 [B, H, W, C] (value * scale + shift). */
  input: Tensor;
  /** Sub-pixel values u32 [B, H, W, C] (the multinomial / Bernoulli targets). */
  targets: Tensor;
  /** The scaled smaller image [B, H/f, W/f, C] a Multi-Scale conditional model reads, when configured. */
  condition?: Tensor;
  logits: Tensor;
  /** Per-image negative log-likelihood in nats [B]. */
  nll: Tensor;
}

/** Shape of the smaller image a conditional model reads. */
export function conditionShape(c: ModelConfig, batch: number): number[] {
  const f = c.conditioning!.factor;
  return [batch, c.height / f, c.width / f, c.channels];
}

/** Runs the architecture shape-only for one image, declaring every parameter into `store`. */
function declare(config: ModelConfig, store: ParamStore): DeclareOps {
  const ops = new DeclareOps(store);
  const x = { shape: [1, config.height, config.width, config.channels] };
  const cond = config.conditioning ? { shape: conditionShape(config, 1) } : undefined;
  logits(ops, config, x, cond);
  return ops;
}

/** Declares every parameter of `config` into a fresh store (no GPU needed). */
export function declareParams(config: ModelConfig): ParamStore {
  const store = new ParamStore();
  declare(config, store);
  return store;
}

/**
 * The largest batch, at most `wanted`, whose activations each fit in `limitBytes` (an adapter's
 * storage-binding limit): every activation and its gradient grow linearly with the batch. At least 1:
 * an image that alone does not fit is refused, naming the tensor, when its graph is built.
 */
export function largestBatch(config: ModelConfig, limitBytes: number, wanted: number): number {
  const perImage = declare(resolveModelConfig(config), new ParamStore()).largest * 4;
  return Math.max(1, Math.min(wanted, Math.floor(limitBytes / perImage)));
}

export interface LayerCount {
  layer: string;
  /** All weights, masked ones included. */
  total: number;
  /** Weights a mask does not pin to zero. */
  trainable: number;
}

/** Parameter counts per layer (the prefix before the first dot of each parameter name). */
export function paramCounts(store: ParamStore): LayerCount[] {
  const rows = new Map<string, LayerCount>();
  for (const p of store.infos) {
    const layer = p.name.split(".")[0];
    const row = rows.get(layer) ?? { layer, total: 0, trainable: 0 };
    row.total += p.size;
    row.trainable += p.mask ? p.mask.reduce((a, b) => a + b, 0) : p.size;
    rows.set(layer, row);
  }
  return [...rows.values()];
}

export class PixelModel {
  private constructor(readonly gpu: Gpu, readonly config: ModelConfig, readonly store: ParamStore) {}

  /** Declares and allocates the parameters, initialised from `seed`. */
  static create(
    gpu: Gpu,
    config: Partial<ModelConfig> & Pick<ModelConfig, "kind">,
    seed: number,
  ): PixelModel {
    const cfg = resolveModelConfig(config);
    const store = declareParams(cfg);
    store.allocate(gpu, seed);
    return new PixelModel(gpu, cfg, store);
  }

  /** The input scaling of this model's data (see config.ts). */
  get scaling(): { scale: number; shift: number } {
    return inputScale(this.config);
  }

  /**
   * Records the graph for a batch. With `train`, gradients flow into the parameters' gradient buffers
   * and the backward pass minimises the mean NLL over the batch.
   */
  buildGraph(batch: number, train: boolean, label = train ? "train" : "eval"): ModelGraph {
    const c = this.config;
    if (!Number.isInteger(batch) || batch <= 0) {
      throw new GpuError(`batch must be a positive integer, got ${batch}`);
    }
    const graph = new Graph(this.gpu, label);
    const shape = [batch, c.height, c.width, c.channels];
    const input = graph.alloc("input", shape);
    const targets = graph.alloc("targets", shape, "u32");
    const condition = c.conditioning ? graph.alloc("condition", conditionShape(c, batch)) : undefined;
    const ops = new GraphOps(graph, this.store, train);
    const out = logits(ops, c, input, condition);
    const nll = c.output === "binary" ? sigmoidBce(graph, out, targets) : softmaxXent(graph, out, targets);
    if (train) {
      const seed = graph.alloc("dloss/dnll", [batch]);
      seed.write(new Float32Array(batch).fill(1 / batch));
      graph.buildBackward([[nll, seed]]);
    }
    return { graph, batch, input, targets, condition, logits: out, nll };
  }

  destroy(): void {
    this.store.destroy();
  }
}
