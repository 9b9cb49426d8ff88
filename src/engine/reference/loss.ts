/**
 * Float64 references of the pixel losses. Sub-pixel i = b * subpixels + s owns logits i*256 .. i*256+255
 * (softmax) or logit i (sigmoid); maps are indexed by i, per-image values by b.
 */

/** Per-sub-pixel softmax NLL: log sum exp(l) - l[target], with max subtraction. */
export function softmaxXentMapRef(logits: Float64Array, targets: ArrayLike<number>): Float64Array {
  const out = new Float64Array(targets.length);
  for (let i = 0; i < targets.length; i++) {
    const row = logits.subarray(i * 256, i * 256 + 256);
    const m = Math.max(...row);
    let s = 0;
    for (const l of row) s += Math.exp(l - m);
    out[i] = Math.log(s) - (row[targets[i]] - m);
  }
  return out;
}

/** dL/dlogits for L = sum_i dmap[i] * nll[i]: dmap[i] * (softmax - onehot(target)). */
export function softmaxXentBackwardRef(
  logits: Float64Array,
  targets: ArrayLike<number>,
  dmap: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(logits.length);
  for (let i = 0; i < targets.length; i++) {
    const row = logits.subarray(i * 256, i * 256 + 256);
    const m = Math.max(...row);
    let s = 0;
    for (const l of row) s += Math.exp(l - m);
    for (let v = 0; v < 256; v++) {
      out[i * 256 + v] = dmap[i] * (Math.exp(row[v] - m) / s - (v === targets[i] ? 1 : 0));
    }
  }
  return out;
}

/** Per-sub-pixel binary NLL: softplus(z) - t z, stably. */
export function sigmoidBceMapRef(logits: Float64Array, targets: ArrayLike<number>): Float64Array {
  return logits.map((z, i) => Math.max(z, 0) - z * targets[i] + Math.log1p(Math.exp(-Math.abs(z))));
}

/** dL/dz for L = sum_i dmap[i] * nll[i]: dmap[i] * (sigmoid(z) - t). */
export function sigmoidBceBackwardRef(
  logits: Float64Array,
  targets: ArrayLike<number>,
  dmap: ArrayLike<number>,
): Float64Array {
  return logits.map((z, i) => dmap[i] * (1 / (1 + Math.exp(-z)) - targets[i]));
}

/** Per-image sums [B] of a map of `subpixels` values per image. */
export function sumPerImage(map: Float64Array, subpixels: number): Float64Array {
  const out = new Float64Array(map.length / subpixels);
  for (let i = 0; i < map.length; i++) out[Math.floor(i / subpixels)] += map[i];
  return out;
}

/** A per-image gradient [B] spread over every sub-pixel of its image. */
export function broadcastPerImage(perImage: ArrayLike<number>, subpixels: number): Float64Array {
  const out = new Float64Array(perImage.length * subpixels);
  for (let i = 0; i < out.length; i++) out[i] = perImage[Math.floor(i / subpixels)];
  return out;
}
