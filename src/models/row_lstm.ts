/**
 * Row LSTM layer (paper §3.1, Table 1): the input-to-state convolution is k x 1 with k = 3 along the row,
 * mask B, computed for the whole map at once; the state-to-state convolution is 3 x 1 along the
 * previous row, unmasked, run one fused step per row, top to bottom.
 *
 * Context: the state of pixel (r, c) sees row r - 1 at columns c-1..c+1, row r - 2 at c-2..c+2 and so
 * on (a triangle widening by one column per row up), plus the current row's pixels to the left through
 * the masked input-to-state kernel of this and lower layers, which can extend the triangle by one column
 * to the left per layer. Pixels to the far left or right in recent rows are missed (Fig. 4 centre),
 * exactly as the receptive-field test computes.
 *
 * Learned initial state: h0 and c0 are one vector each per layer, broadcast over the columns of the row
 * above the image. The gate bias, with [NS] forget-gate bias `forgetBias`, is added at every step.
 */
import type { Init } from "../engine/params.ts";
import { colourGroups, type ModelConfig } from "./config.ts";
import { conv, fanInInit, ZEROS } from "./layers.ts";
import { channelGroups, gateGroups } from "./masks.ts";
import type { ModelOps } from "./ops.ts";

/** Gate bias [Z, 4h]: zeros except the forget block. */
export function gateBiasInit(cfg: ModelConfig): Init {
  return { kind: "forget-gate", h: cfg.h, value: cfg.forgetBias };
}

export function rowLstmLayer<T>(ops: ModelOps<T>, cfg: ModelConfig, name: string, x: T, condition?: T): T {
  const h = cfg.h, G = colourGroups(cfg);
  const cin = ops.shape(x)[3];
  let gates = conv(ops, cfg, `${name}.is`, x, {
    kh: 1,
    kw: 3,
    cout: 4 * h,
    mask: "B",
    inGroups: channelGroups(cin, G),
    outGroups: gateGroups(h, 4, G),
    bias: false,
  });
  if (condition) {
    gates = conv(ops, cfg, `${name}.cond`, condition, {
      kh: 1,
      kw: 1,
      cout: 4 * h,
      mask: null,
      residual: gates,
    });
  }
  return ops.lstm(gates, {
    wss: ops.param(`${name}.ss.w`, [1, 3, h, 4 * h], fanInInit(3 * h)),
    bias: ops.param(`${name}.ss.b`, [1, 4 * h], gateBiasInit(cfg)),
    h0: ops.param(`${name}.h0`, [1, h], ZEROS),
    c0: ops.param(`${name}.c0`, [1, h], ZEROS),
  }, { z: 1, taps: [-1, 0, 1] });
}
