/**
 * Diagonal BiLSTM layer (paper §3.2, Fig. 3, Table 1). The input-to-state convolution is 1 x 1, mask B,
 * producing both directions' gates at once; the right direction's gates are mirrored left-right, and
 * both are skewed (row r shifted right by r) so that each diagonal becomes a column. One fused step per
 * column runs the 2 x 1 state-to-state convolution (unmasked; the state at skewed (r, j) reads
 * column j - 1 at rows r - 1 and r, i.e. the upper and left neighbours of the pixel) for both directions
 * in the same dispatch. The outputs are unskewed, the right one mirrored back and shifted down one row,
 * and added to the left one.
 *
 * Context (measured exhaustively by tests/causality_test.ts, not taken from the paper): the left
 * direction at (r, c) sees every pixel (r', c') with r' <= r and c' <= c; the right direction, shifted
 * down one row, every pixel with r' <= r - 1 and c' >= c. That is the entire available context but for
 * one sub-pixel: the last colour of the last pixel of the row above, x(r - 1, n - 1, last). Features
 * are causal, so no feature of row r - 1 contains it (its earlier colours do enter that pixel's later
 * colour groups); it reaches row r only through the 7x7 input window, at columns c >= n - 4, and
 * spreads only rightwards from there. Pixels (r, c) with c < n - 4 never see it, however deep the
 * network. The paper's "global receptive field" (Fig. 4) holds up to this one sub-pixel per row.
 *
 * Padding and initial state: skewed positions outside the image take zero input-to-state gates, plus
 * the gate bias; states run through them. The column before the first (j = -1) is the learned h0, c0 of
 * each direction, broadcast over rows; the row above the image reads zero. No pixel value reaches a
 * padding state, so padding adds no path from future pixels. The padding right of the image feeds no
 * pixel either (a state reads only the upper and left neighbours): the scan skips it (`skewed`).
 */
import { colourGroups, type ModelConfig } from "./config.ts";
import { conv, fanInInit, ZEROS } from "./layers.ts";
import { channelGroups, gateGroups } from "./masks.ts";
import type { ModelOps } from "./ops.ts";
import { gateBiasInit } from "./row_lstm.ts";

export function diagonalBiLstmLayer<T>(
  ops: ModelOps<T>,
  cfg: ModelConfig,
  name: string,
  x: T,
  condition?: T,
): T {
  const h = cfg.h, G = colourGroups(cfg);
  const cin = ops.shape(x)[3];
  // Eight h-channel blocks: [o f i g] of the left direction, then of the right direction.
  let gates = conv(ops, cfg, `${name}.is`, x, {
    kh: 1,
    kw: 1,
    cout: 8 * h,
    mask: "B",
    inGroups: channelGroups(cin, G),
    outGroups: gateGroups(h, 8, G),
    bias: false,
  });
  if (condition) {
    gates = conv(ops, cfg, `${name}.cond`, condition, {
      kh: 1,
      kw: 1,
      cout: 8 * h,
      mask: null,
      residual: gates,
    });
  }
  const states = ops.lstm(ops.skewPair(gates), {
    wss: ops.param(`${name}.ss.w`, [2, 2, h, 4 * h], fanInInit(2 * h)),
    bias: ops.param(`${name}.ss.b`, [2, 4 * h], gateBiasInit(cfg)),
    h0: ops.param(`${name}.h0`, [2, h], ZEROS),
    c0: ops.param(`${name}.c0`, [2, h], ZEROS),
  }, { z: 2, taps: [-1, 0], skewed: true });
  return ops.unskewCombine(states);
}
