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

/** Block i's residual branch, [B, H, W, 2h] -> [B, H, W, 2h]. */
function blockBranch<T>(ops: ModelOps<T>, cfg: ModelConfig, i: number, x: T, condition?: T): T {
  const name = `layer${i}`;
  if (cfg.kind === "pixelcnn") return pixelCnnBlock(ops, cfg, name, x);
  const states = cfg.kind === "row-lstm"
    ? rowLstmLayer(ops, cfg, name, x, condition)
    : diagonalBiLstmLayer(ops, cfg, name, x, condition);
  return conv(ops, cfg, `${name}.up`, states, { kh: 1, kw: 1, cout: 2 * cfg.h, mask: "B" });
}

/**
 * Logits for a batch of scaled images x [B, H, W, C]; `condition` [B, H, W, conditionMaps] biases every
 * LSTM layer's gates (Multi-Scale PixelRNN).
 */
export function logits<T>(ops: ModelOps<T>, cfg: ModelConfig, x: T, condition?: T): T {
  let a = inputLayer(ops, cfg, x);
  let skip: T | undefined;
  for (let i = 0; i < cfg.layers; i++) {
    const branch = blockBranch(ops, cfg, i, a, condition);
    a = cfg.residual ? ops.add(a, branch) : branch;
    if (cfg.skip) {
      const s = conv(ops, cfg, `layer${i}.skip`, a, { kh: 1, kw: 1, cout: 2 * cfg.h, mask: "B" });
      skip = skip === undefined ? s : ops.add(skip, s);
    }
  }
  return outputHead(ops, cfg, skip ?? a);
}
