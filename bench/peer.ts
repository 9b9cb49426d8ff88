/**
 * The PixelCNN-like training step the TensorFlow.js peer was timed on (TensorFlow.js 4.22 on lavapipe, timed by the team):
 * batch 16 of 28x28x1, a 7x7 conv to 64 channels, five 3x3 64->64 convs, a 1x1 conv to one channel, all
 * plain (no masks) with bias and ReLU between them, per-pixel sigmoid cross-entropy, RMSProp. Built
 * from the engine's ops directly, wired as PixelModel does (ParamStore views as parameters, their
 * gradients written into the store's flat gradient buffer, the loss seeded with 1/batch).
 */
import type { Gpu } from "../src/engine/device.ts";
import { type Dispatch, Graph } from "../src/engine/graph.ts";
import { relu } from "../src/engine/ops/basic.ts";
import { conv2d } from "../src/engine/ops/conv.ts";
import { sigmoidBce } from "../src/engine/ops/loss.ts";
import { Optimizer } from "../src/engine/optim.ts";
import { ParamStore } from "../src/engine/params.ts";
import { fillBits, fillRandom } from "./fill.ts";

export const PEER = { batch: 16, size: 28, width: 64, hidden3x3: 5 };

/** [KH, KW, Cin, Cout]. */
export type ConvShape = [number, number, number, number];

/** The convolutions, in order. */
export function peerLayers(): ConvShape[] {
  const c = PEER.width;
  const hidden: ConvShape[] = Array.from({ length: PEER.hidden3x3 }, () => [3, 3, c, c]);
  return [[7, 7, 1, c], ...hidden, [1, 1, c, 1]];
}

/** The peer's count: dense forward multiply-adds x 2, times 3 for forward + backward. */
export function peerFlops(): { dense: number; executed: number } {
  const pixels = PEER.batch * PEER.size * PEER.size;
  const pass = peerLayers().map(([kh, kw, ci, co]) => 2 * pixels * kh * kw * ci * co);
  const forward = pass.reduce((a, b) => a + b, 0);
  // The engine runs no dX for the first conv: the image needs no gradient.
  return { dense: 3 * forward, executed: 3 * forward - pass[0] };
}

/** The step's dispatch lists: forward, backward, RMSProp update. */
export function peerStep(gpu: Gpu): Dispatch[][] {
  const store = new ParamStore();
  const layers = peerLayers();
  layers.forEach(([kh, kw, ci, co], i) => {
    store.declare(`conv${i}.w`, [kh, kw, ci, co], { kind: "uniform", scale: Math.sqrt(3 / (kh * kw * ci)) });
    store.declare(`conv${i}.b`, [co], { kind: "constant", value: 0 });
  });
  store.allocate(gpu, 1);
  const g = new Graph(gpu, "peer step");
  const param = (name: string) => {
    const t = store.tensor(name);
    g.requireGrad(t, store.gradTensor(name));
    return t;
  };
  const { batch, size } = PEER;
  const input = g.alloc("input", [batch, size, size, 1]);
  const targets = g.alloc("targets", [batch, size, size, 1], "u32");
  fillRandom(input);
  fillBits(targets);
  let h = input;
  layers.forEach((_, i) => {
    if (i > 0) h = relu(g, h, `relu${i}`);
    h = conv2d(g, h, param(`conv${i}.w`), { bias: param(`conv${i}.b`) });
  });
  const nll = sigmoidBce(g, h, targets);
  const seed = g.alloc("dloss/dnll", [batch]);
  seed.write(new Float32Array(batch).fill(1 / batch));
  g.buildBackward([[nll, seed]]);
  const opt = new Optimizer(gpu, store, { kind: "rmsprop", lr: 1e-4 });
  opt.prepareStep();
  return [g.forward, g.backward, opt.dispatches()];
}
