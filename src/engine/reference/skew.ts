/** Float64 references of skew, unskew, mirror and shift down on [N, H, W, C] maps. */

export type Map4 = { data: Float64Array; shape: [number, number, number, number] };

function make(shape: [number, number, number, number]): Map4 {
  return { data: new Float64Array(shape.reduce((a, b) => a * b)), shape };
}

function copyPixel(
  dst: Map4,
  dn: number,
  dy: number,
  dx: number,
  src: Map4,
  sn: number,
  sy: number,
  sx: number,
) {
  const C = src.shape[3];
  const d = ((dn * dst.shape[1] + dy) * dst.shape[2] + dx) * C;
  const s = ((sn * src.shape[1] + sy) * src.shape[2] + sx) * C;
  for (let c = 0; c < C; c++) dst.data[d + c] += src.data[s + c];
}

export function skewRef(x: Map4): Map4 {
  const [N, n, , C] = x.shape;
  const out = make([N, n, 2 * n - 1, C]);
  for (let b = 0; b < N; b++) {
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) copyPixel(out, b, r, r + c, x, b, r, c);
  }
  return out;
}

export function unskewRef(s: Map4): Map4 {
  const [N, n, , C] = s.shape;
  const out = make([N, n, n, C]);
  for (let b = 0; b < N; b++) {
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) copyPixel(out, b, r, c, s, b, r, r + c);
  }
  return out;
}

export function mirrorRef(x: Map4): Map4 {
  const [N, H, W, C] = x.shape;
  const out = make([N, H, W, C]);
  for (let b = 0; b < N; b++) {
    for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) copyPixel(out, b, r, c, x, b, r, W - 1 - c);
  }
  return out;
}

export function shiftDownRef(x: Map4): Map4 {
  const [N, H, W, C] = x.shape;
  const out = make([N, H, W, C]);
  for (let b = 0; b < N; b++) {
    for (let r = 1; r < H; r++) for (let c = 0; c < W; c++) copyPixel(out, b, r, c, x, b, r - 1, c);
  }
  return out;
}

/** Channels [from, from + count) of every pixel. */
export function channelsRef(x: Map4, from: number, count: number): Map4 {
  const [N, H, W, C] = x.shape;
  const out = make([N, H, W, count]);
  for (let p = 0; p < N * H * W; p++) {
    for (let c = 0; c < count; c++) out.data[p * count + c] = x.data[p * C + from + c];
  }
  return out;
}

/** Images of `b` after those of `a`. */
export function stackRef(a: Map4, b: Map4): Map4 {
  const out = make([a.shape[0] + b.shape[0], a.shape[1], a.shape[2], a.shape[3]]);
  out.data.set(a.data);
  out.data.set(b.data, a.data.length);
  return out;
}

/** Images [from, from + count). */
export function imagesRef(x: Map4, from: number, count: number): Map4 {
  const [, H, W, C] = x.shape;
  const per = H * W * C;
  return { data: x.data.slice(from * per, (from + count) * per), shape: [count, H, W, C] };
}

export function addRef(a: Map4, b: Map4): Map4 {
  return { data: a.data.map((v, i) => v + b.data[i]), shape: a.shape };
}

/** Swaps rows and columns: [N, H, W, C] -> [N, W, H, C]. */
export function transposeRef(x: Map4): Map4 {
  const [N, H, W, C] = x.shape;
  const out = make([N, W, H, C]);
  for (let b = 0; b < N; b++) {
    for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) copyPixel(out, b, c, r, x, b, r, c);
  }
  return out;
}

/** The Diagonal BiLSTM's skewPair as a composition of the primitives (stored column-major). */
export function skewPairRef(x: Map4): Map4 {
  const C = x.shape[3] / 2;
  return transposeRef(stackRef(skewRef(channelsRef(x, 0, C)), skewRef(mirrorRef(channelsRef(x, C, C)))));
}

/** The Diagonal BiLSTM's unskewCombine as a composition of the primitives (input column-major). */
export function unskewCombineRef(columns: Map4): Map4 {
  const s = transposeRef(columns);
  const B = s.shape[0] / 2;
  const left = unskewRef(imagesRef(s, 0, B));
  const right = shiftDownRef(mirrorRef(unskewRef(imagesRef(s, B, B))));
  return addRef(left, right);
}

/** [B, H, W, C*f*f] -> [B, H*f, W*f, C]: pixel (f*y + dy, f*x + dx) takes channel block dy*f + dx. */
export function depthToSpaceRef(x: Map4, f: number): Map4 {
  const [B, H, W, Cin] = x.shape;
  const C = Cin / (f * f);
  const out = make([B, H * f, W * f, C]);
  for (let b = 0; b < B; b++) {
    for (let y = 0; y < H * f; y++) {
      for (let xx = 0; xx < W * f; xx++) {
        const s = ((b * H + Math.floor(y / f)) * W + Math.floor(xx / f)) * Cin + ((y % f) * f + (xx % f)) * C;
        const d = ((b * H * f + y) * W * f + xx) * C;
        for (let c = 0; c < C; c++) out.data[d + c] = x.data[s + c];
      }
    }
  }
  return out;
}
