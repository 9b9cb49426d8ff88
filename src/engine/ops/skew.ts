/**
 * Data movement for the Diagonal BiLSTM (paper §3.2, Fig. 3): skew, unskew, left-right mirror and the
 * one-row shift down, as gather ops whose gradients are the adjoint gathers.
 *
 * Skew offsets row r by r columns: S[r, r + c] = X[r, c], turning n x n into n x (2n - 1) so that each
 * diagonal of X becomes a column of S. The Diagonal BiLSTM layer uses two fused forms:
 * `skewPair` skews the left direction's gates and the mirrored right direction's gates into one
 * column-major [2B, 2n-1, n, C] map (so both directions scan in the same dispatches, each step reading a
 * contiguous column), and `unskewCombine` unskews
 * both, mirrors the right one back, shifts it down one row and adds it to the left one.
 */
import { GpuError } from "../device.ts";
import type { Graph } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { pix, remapOp } from "./remap.ts";

function square(label: string, x: Tensor): [number, number, number] {
  const [N, H, W, C] = x.shape;
  if (x.shape.length !== 4 || H !== W) throw new GpuError(`${label}: expects [N, n, n, C], got [${x.shape}]`);
  return [N, H, C];
}

function skewed(label: string, x: Tensor): [number, number, number] {
  const [N, H, W, C] = x.shape;
  if (x.shape.length !== 4 || W !== 2 * H - 1) {
    throw new GpuError(`${label}: expects a skewed map [N, n, 2n-1, C], got [${x.shape}]`);
  }
  return [N, H, C];
}

/** S[r, r + c] = X[r, c]; zero elsewhere. [N, n, n, C] -> [N, n, 2n-1, C]. */
export function skew(g: Graph, x: Tensor, label = "skew"): Tensor {
  const [N, n, C] = square(label, x);
  const W = 2 * n - 1;
  return remapOp(
    g,
    label,
    x,
    [N, n, W, C],
    [
      `let c = x - y; if (c < 0 || c >= ${n}) { return -1; } return ${pix("n", "y", "c", n, n, C)};`,
    ],
    [N, n, n, C],
    [`return ${pix("n", "y", "y + x", n, W, C)};`],
  );
}

/** Y[r, c] = S[r, r + c]. [N, n, 2n-1, C] -> [N, n, n, C]. */
export function unskew(g: Graph, s: Tensor, label = "unskew"): Tensor {
  const [N, n, C] = skewed(label, s);
  const W = 2 * n - 1;
  return remapOp(g, label, s, [N, n, n, C], [`return ${pix("n", "y", "y + x", n, W, C)};`], [N, n, W, C], [
    `let c = x - y; if (c < 0 || c >= ${n}) { return -1; } return ${pix("n", "y", "c", n, n, C)};`,
  ]);
}

/** Y[r, c] = X[r, W - 1 - c]. */
export function mirror(g: Graph, x: Tensor, label = "mirror"): Tensor {
  const [N, H, W, C] = x.shape;
  const map = `return ${pix("n", "y", `${W - 1} - x`, H, W, C)};`;
  return remapOp(g, label, x, [N, H, W, C], [map], [N, H, W, C], [map]);
}

/** Y[0] = 0, Y[r] = X[r - 1]. */
export function shiftDown(g: Graph, x: Tensor, label = "shift down"): Tensor {
  const [N, H, W, C] = x.shape;
  return remapOp(
    g,
    label,
    x,
    [N, H, W, C],
    [
      `if (y == 0) { return -1; } return ${pix("n", "y - 1", "x", H, W, C)};`,
    ],
    [N, H, W, C],
    [`if (y == ${H - 1}) { return -1; } return ${pix("n", "y + 1", "x", H, W, C)};`],
  );
}

/** Checks a column-major skewed map [N, 2n-1, n, C] (columns of the skewed map, then rows). */
function skewedColumns(label: string, s: Tensor): [number, number, number] {
  const [N, W, n, C] = s.shape;
  if (s.shape.length !== 4 || W !== 2 * n - 1) {
    throw new GpuError(`${label}: expects a column-major skewed map [N, 2n-1, n, C], got [${s.shape}]`);
  }
  return [N, n, C];
}

/**
 * [B, n, n, 2C] (left gates | right gates) -> [2B, 2n-1, n, C]: images 0..B-1 hold skew(left), images
 * B..2B-1 hold skew(mirror(right)), both stored column-major (element (j, r) is S[r, j]), so that each
 * column of the skewed map, one step of the scan, is a contiguous block.
 */
export function skewPair(g: Graph, x: Tensor, label = "skew pair"): Tensor {
  const [B, n, C2] = square(label, x);
  if (C2 % 2 !== 0) throw new GpuError(`${label}: channel count ${C2} must be even (left | right)`);
  const C = C2 / 2, W = 2 * n - 1;
  // Output coordinates: y = skewed column j, x = row r; the source pixel is (r, j - r).
  const fwd = `let c = y - x; if (c < 0 || c >= ${n}) { return -1; }
    if (n < ${B}) { return ${pix("n", "x", "c", n, n, C2)}; }
    return ${pix(`n - ${B}`, "x", `${n - 1} - c`, n, n, C2)} + ${C};`;
  // dL/dx viewed as [B, n, 2n, C]: column 2c + d holds direction d's channels of pixel c.
  const bwd = `let c = x / 2; if (x % 2 == 0) { return ${pix("n", "y + c", "y", W, n, C)}; }
    return ${pix(`n + ${B}`, `y + ${n - 1} - c`, "y", W, n, C)};`;
  return remapOp(g, label, x, [2 * B, W, n, C], [fwd], [B, n, 2 * n, C], [bwd]);
}

/**
 * [2B, 2n-1, n, C] (as skewPair makes) -> [B, n, n, C]: unskew(left) + shiftDown(mirror(unskew(right))).
 * After the shift, the right direction contributes only rows above the current one, so no future pixel
 * leaks in.
 */
export function unskewCombine(g: Graph, s: Tensor, label = "unskew combine"): Tensor {
  const [B2, n, C] = skewedColumns(label, s);
  if (B2 % 2 !== 0) throw new GpuError(`${label}: batch ${B2} must hold two directions`);
  const B = B2 / 2, W = 2 * n - 1;
  const left = `return ${pix("n", "y + x", "y", W, n, C)};`;
  const right = `if (y == 0) { return -1; } return ${
    pix(`n + ${B}`, `y - 1 + ${n - 1} - x`, "y - 1", W, n, C)
  };`;
  // dL/dS: output coordinates y = column j, x = row r of the skewed map.
  const bwd = `let c = y - x; if (c < 0 || c >= ${n}) { return -1; }
    if (n < ${B}) { return ${pix("n", "x", "c", n, n, C)}; }
    if (x == ${n - 1}) { return -1; }
    return ${pix(`n - ${B}`, "x + 1", `${n - 1} - c`, n, n, C)};`;
  return remapOp(g, label, s, [B, n, n, C], [left, right], [B2, W, n, C], [bwd]);
}
