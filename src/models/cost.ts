/**
 * What a training step and an evaluation batch cost: dense FLOPs (counted by running the architecture
 * through a counting executor), and the dispatches and host encode time of the recorded step (the
 * lists Trainer.step and Evaluator.submit encode).
 */
import { type Dispatch, Graph, isCopy } from "../engine/graph.ts";
import { ParamStore } from "../engine/params.ts";
import type { LstmScanOptions } from "../engine/ops/lstm.ts";
import { logits } from "./architecture.ts";
import type { ModelConfig } from "./config.ts";
import { conditionShape } from "./model.ts";
import type { Evaluator } from "./evaluator.ts";
import { type ConvOpts, DeclareOps, type LstmWeights, type Shaped } from "./ops.ts";
import type { Trainer } from "./trainer.ts";

/** Counts the multiply-adds of every convolution and LSTM scan, masked weights included (dense). */
class CountOps extends DeclareOps {
  macs = 0;

  override conv(x: Shaped, w: Shaped, opts: ConvOpts<Shaped>): Shaped {
    const y = super.conv(x, w, opts);
    const [B, H, W] = y.shape;
    const [KH, KW, CI, CO] = w.shape;
    this.macs += B * H * W * KH * KW * CI * CO;
    return y;
  }

  override lstm(gates: Shaped, p: LstmWeights<Shaped>, opts: LstmScanOptions): Shaped {
    const y = super.lstm(gates, p, opts);
    const [ZB, S, L, G] = gates.shape;
    this.macs += ZB * S * L * G * opts.taps.length * (G / 4);
    return y;
  }
}

/**
 * Dense FLOPs of one image's forward pass, and of a training step per image: forward, input gradient
 * and weight gradient, the common 3x the forward (the engine skips the image's own input gradient).
 */
export function flopsPerImage(config: ModelConfig): { forward: number; train: number } {
  const ops = new CountOps(new ParamStore());
  const x = { shape: [1, config.height, config.width, config.channels] };
  logits(ops, config, x, config.conditioning ? { shape: conditionShape(config, 1) } : undefined);
  const forward = 2 * ops.macs;
  return { forward, train: 3 * forward };
}

/** The dispatch lists of a training step, in the order Trainer.step encodes them. */
export function trainLists(t: Trainer) {
  const g = t.mg.graph;
  return [t.feeder.dispatches, g.forward, g.backward, t.optimizer.dispatches()];
}

/** The dispatch lists of an evaluation batch. */
export function evalLists(e: Evaluator) {
  return [e.feeder.dispatches, e.mg.graph.forward];
}

/** Kernel dispatches in the lists (texture copies, which are not dispatches, are left out). */
export function dispatchCount(lists: Dispatch[][]): number {
  return lists.flat().length - copyCount(lists);
}

/** Texture copies in the lists (Graph.textureOf). */
export function copyCount(lists: Dispatch[][]): number {
  return lists.flat().filter(isCopy).length;
}

/**
 * Host milliseconds to encode the lists (compute passes and their copies) and finish the command buffer
 * (nothing is submitted): the median of `reps` encodings after one untimed.
 */
export function encodeMs(
  gpu: { device: GPUDevice },
  lists: Parameters<typeof Graph.encode>[2],
  reps = 21,
): number {
  const times: number[] = [];
  for (let r = 0; r <= reps; r++) {
    const t0 = performance.now();
    const enc = gpu.device.createCommandEncoder({ label: "encode timing" });
    Graph.encode(enc, "encode timing", lists);
    enc.finish();
    if (r > 0) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}
