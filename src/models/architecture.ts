/**
 * The whole network from the scaled input image to the logits (paper Table 1): 7x7 mask-A convolution
 * to 2h maps, `layers` residual blocks, optional skip connections, and the output head.
 *
 * PixelRNN blocks (Fig. 5 right): LSTM layer (h maps out) -> 1x1 mask-B convolution h -> 2h, added to the
 * block input when `residual`. PixelCNN blocks are pixelcnn.ts's. [I] Skip connections: each block's
 * output passes through its own 1x1 mask-B convolution (2h -> 2h) and these are summed into the head's
 * input, replacing the last block's output (the paper says only "learnable skip connections from each
 * layer to the output").
 */
import type { ModelConfig } from "./config.ts";
import { diagonalBiLstmLayer } from "./diagonal_bilstm.ts";
import { conv, inputLayer, outputHead } from "./layers.ts";
import type { ModelOps } from "./ops.ts";
import { pixelCnnBlock } from "./pixelcnn.ts";
import { rowLstmLayer } from "./row_lstm.ts";

/** Block i, [B, H, W, 2h] -> [B, H, W, 2h]: its branch, plus its input with residual connections. */
function block<T>(ops: ModelOps<T>, cfg: ModelConfig, i: number, x: T, condition?: T): T {
  const name = `layer${i}`;
  const residual = cfg.residual ? x : undefined;
  if (cfg.kind === "pixelcnn") return pixelCnnBlock(ops, cfg, name, x, residual);
  const states = cfg.kind === "row-lstm"
    ? rowLstmLayer(ops, cfg, name, x, condition)
    : diagonalBiLstmLayer(ops, cfg, name, x, condition);
  return conv(ops, cfg, `${name}.up`, states, { kh: 1, kw: 1, cout: 2 * cfg.h, mask: "B", residual });
}

/**
 * [NS] The Multi-Scale upsampling network (§3.6 asks only for "a convolutional network with
 * deconvolutional layers"): 3x3 conv C -> c, ReLU; per factor of two a 2x2 stride-2 deconvolution
 * (1x1 conv c -> 4c, then depth-to-space), ReLU; a final 3x3 conv c -> c. All unmasked: the smaller
 * image is given in full.
 */
function upsample<T>(ops: ModelOps<T>, cfg: ModelConfig, small: T): T {
  const { factor, maps } = cfg.conditioning!;
  // Each ReLU is applied by the convolution that reads its result (it commutes with depth-to-space).
  let a = conv(ops, cfg, "upsample.in", small, { kh: 3, kw: 3, cout: maps, mask: null });
  for (let f = 1, i = 0; f < factor; f *= 2, i++) {
    const d = conv(ops, cfg, `upsample.deconv${i}`, a, {
      kh: 1,
      kw: 1,
      cout: 4 * maps,
      mask: null,
      relu: true,
    });
    a = ops.depthToSpace(d, 2);
  }
  return conv(ops, cfg, "upsample.out", a, { kh: 3, kw: 3, cout: maps, mask: null, relu: true });
}

/**
 * Logits for a batch of scaled images x [B, H, W, C]. A conditional (Multi-Scale) model also reads the
 * scaled smaller image `small` [B, H/f, W/f, C], whose upsampled maps bias every LSTM layer's gates.
 */
export function logits<T>(ops: ModelOps<T>, cfg: ModelConfig, x: T, small?: T): T {
  const condition = cfg.conditioning ? upsample(ops, cfg, small!) : undefined;
  let a = inputLayer(ops, cfg, x);
  let skip: T | undefined;
  for (let i = 0; i < cfg.layers; i++) {
    a = block(ops, cfg, i, a, condition);
    // The running sum of the skip connections is each skip convolution's residual.
    if (cfg.skip) {
      skip = conv(ops, cfg, `layer${i}.skip`, a, {
        kh: 1,
        kw: 1,
        cout: 2 * cfg.h,
        mask: "B",
        residual: skip,
      });
    }
  }
  return outputHead(ops, cfg, skip ?? a);
}
