/** Float64 reference of the same-padding NHWC convolution and its gradients. */

export type Shape4 = [number, number, number, number];

/** y[b,y,x,co] = bias[co] + sum_{ky,kx,ci} x[b, y+ky-cy, x+kx-cx, ci] * w[ky,kx,ci,co]. */
export function conv2dRef(
  x: Float64Array,
  [B, H, W, C]: Shape4,
  w: Float64Array,
  [KH, KW, , CO]: Shape4,
  bias?: Float64Array,
): Float64Array {
  const y = new Float64Array(B * H * W * CO);
  const cy = (KH - 1) / 2, cx = (KW - 1) / 2;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const o = ((b * H + i) * W + j) * CO;
        if (bias) { for (let co = 0; co < CO; co++) y[o + co] = bias[co]; }
        for (let ky = 0; ky < KH; ky++) {
          const yy = i + ky - cy;
          if (yy < 0 || yy >= H) continue;
          for (let kx = 0; kx < KW; kx++) {
            const xx = j + kx - cx;
            if (xx < 0 || xx >= W) continue;
            const xi = ((b * H + yy) * W + xx) * C;
            const wi = (ky * KW + kx) * C * CO;
            for (let ci = 0; ci < C; ci++) {
              const v = x[xi + ci];
              const wr = wi + ci * CO;
              for (let co = 0; co < CO; co++) y[o + co] += v * w[wr + co];
            }
          }
        }
      }
    }
  }
  return y;
}

/** Gradients of sum(dy * conv2dRef(x, w, bias)) with respect to x, w and bias. */
export function conv2dBackwardRef(
  x: Float64Array,
  [B, H, W, C]: Shape4,
  w: Float64Array,
  [KH, KW, , CO]: Shape4,
  dy: Float64Array,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dx = new Float64Array(x.length), dw = new Float64Array(w.length), db = new Float64Array(CO);
  const cy = (KH - 1) / 2, cx = (KW - 1) / 2;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const o = ((b * H + i) * W + j) * CO;
        for (let co = 0; co < CO; co++) db[co] += dy[o + co];
        for (let ky = 0; ky < KH; ky++) {
          const yy = i + ky - cy;
          if (yy < 0 || yy >= H) continue;
          for (let kx = 0; kx < KW; kx++) {
            const xx = j + kx - cx;
            if (xx < 0 || xx >= W) continue;
            const xi = ((b * H + yy) * W + xx) * C;
            const wi = (ky * KW + kx) * C * CO;
            for (let ci = 0; ci < C; ci++) {
              const wr = wi + ci * CO;
              let s = 0;
              for (let co = 0; co < CO; co++) {
                s += dy[o + co] * w[wr + co];
                dw[wr + co] += x[xi + ci] * dy[o + co];
              }
              dx[xi + ci] += s;
            }
          }
        }
      }
    }
  }
  return { dx, dw, db };
}
