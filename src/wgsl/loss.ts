/**
 * Loss kernels over discrete pixel values: the 256-way softmax cross-entropy (natural images) and the
 * sigmoid binary cross-entropy (binarized MNIST), both in nats, one invocation per sub-pixel.
 *
 * Layouts: LOGITS holds, for sub-pixel i = b * subpixels + s, the 256 logits i*256 .. i*256+255
 * (softmax) or the single logit i (sigmoid); TARGETS[i] is the observed value (0..255, or 0/1 for the
 * sigmoid; the caller guarantees the range). The forward kernels write the per-sub-pixel NLL either in
 * the map's own layout ("map": NLL[i]) or transposed ("transposed": NLL[s * batch + b]) so the
 * per-image sums are a deterministic column sum.
 */
import { BUILTINS_1D, grid1d, linearIndex, u } from "./common.ts";
import type { Kernel } from "./kernel.ts";

const WG = 64;
/** Values of one sub-pixel (8-bit data), read as 64 vec4s. */
const LEVELS = 256;
const QUADS = LEVELS / 4;

/** Sizes of a loss problem: images and sub-pixels per image. */
export interface LossShape {
  batch: number;
  /** Sub-pixels per image (H * W * C). */
  subpixels: number;
}

/** Where the forward kernels write sub-pixel NLLs (see the file comment). */
export type NllLayout = "map" | "transposed";

/** Where the gradient of a sub-pixel's NLL comes from: one value per image, or one per sub-pixel. */
export type GradSource = "image" | "subpixel";

function nllIndex(shape: LossShape, layout: NllLayout): string {
  return layout === "map"
    ? "i"
    : `(i % ${u(shape.subpixels)}) * ${u(shape.batch)} + i / ${u(shape.subpixels)}`;
}

function gradIndex(shape: LossShape, source: GradSource, sub: string): string {
  return source === "image" ? `${sub} / ${u(shape.subpixels)}` : sub;
}

/** A 1-D kernel over `count` invocations with index `i` and the given bindings and body. */
function kernel1d(count: number, decls: string[], bindings: string[], body: string, helpers = ""): Kernel {
  const code = `${decls.map((d, b) => `@group(0) @binding(${b}) ${d};`).join("\n")}
${helpers}
@compute @workgroup_size(${WG})
fn main(${BUILTINS_1D}) {
  let i = ${linearIndex(WG)};
  if (i >= ${u(count)}) { return; }
${body}
}`;
  return { code, bindings, workgroups: grid1d(count, WG), usesStep: false };
}

/**
 * Softmax cross-entropy forward: NLL = log sum_v exp(l_v - m) - (l_target - m) with m the maximum, and
 * LSE[i] = m + log sum_v exp(l_v - m) kept for the backward pass.
 */
export function softmaxXentForward(shape: LossShape, layout: NllLayout): Kernel {
  const n = shape.batch * shape.subpixels;
  const body = `
  let base = i * ${u(QUADS)};
  var m = -3.4028235e38;
  for (var k = 0u; k < ${u(QUADS)}; k++) {
    let q = LOGITS[base + k];
    m = max(m, max(max(q.x, q.y), max(q.z, q.w)));
  }
  var s = 0.0;
  for (var k = 0u; k < ${u(QUADS)}; k++) {
    let e = exp(LOGITS[base + k] - vec4f(m));
    s += (e.x + e.y) + (e.z + e.w);
  }
  let t = TARGETS[i];
  let lt = LOGITS[base + t / 4u][t % 4u];
  NLL[${nllIndex(shape, layout)}] = log(s) - (lt - m);
  LSE[i] = m + log(s);`;
  return kernel1d(
    n,
    [
      "var<storage, read> LOGITS: array<vec4f>",
      "var<storage, read> TARGETS: array<u32>",
      "var<storage, read_write> NLL: array<f32>",
      "var<storage, read_write> LSE: array<f32>",
    ],
    ["LOGITS", "TARGETS", "NLL", "LSE"],
    body,
  );
}

/** Softmax cross-entropy backward, one invocation per 4 logits: OUT (=|+=) G * (softmax - onehot). */
export function softmaxXentBackward(shape: LossShape, source: GradSource, accumulate: boolean): Kernel {
  const n = shape.batch * shape.subpixels * QUADS;
  const body = `
  let sub = i / ${u(QUADS)};
  let first = (i % ${u(QUADS)}) * 4u;
  let t = TARGETS[sub];
  let hot = vec4f(vec4u(first) + vec4u(0u, 1u, 2u, 3u) == vec4u(t));
  let d = G[${gradIndex(shape, source, "sub")}] * (exp(LOGITS[i] - vec4f(LSE[sub])) - hot);
  ${accumulate ? "OUT[i] += d;" : "OUT[i] = d;"}`;
  return kernel1d(
    n,
    [
      "var<storage, read> LOGITS: array<vec4f>",
      "var<storage, read> TARGETS: array<u32>",
      "var<storage, read> LSE: array<f32>",
      "var<storage, read> G: array<f32>",
      "var<storage, read_write> OUT: array<vec4f>",
    ],
    ["LOGITS", "TARGETS", "LSE", "G", "OUT"],
    body,
  );
}

/** log(1 + x) accurate for small x (WGSL has no log1p): the correction cancels the rounding of 1 + x. */
const LOG1P = `
fn log1p(x: f32) -> f32 {
  let v = 1.0 + x;
  if (v == 1.0) { return x; }
  return log(v) * x / (v - 1.0);
}`;

/** Sigmoid cross-entropy forward: NLL = max(z, 0) - z t + log1p(exp(-|z|)), stable for any z. */
export function sigmoidBceForward(shape: LossShape, layout: NllLayout): Kernel {
  const body = `
  let z = LOGITS[i];
  let t = f32(TARGETS[i]);
  NLL[${nllIndex(shape, layout)}] = max(z, 0.0) - z * t + log1p(exp(-abs(z)));`;
  return kernel1d(
    shape.batch * shape.subpixels,
    [
      "var<storage, read> LOGITS: array<f32>",
      "var<storage, read> TARGETS: array<u32>",
      "var<storage, read_write> NLL: array<f32>",
    ],
    ["LOGITS", "TARGETS", "NLL"],
    body,
    LOG1P,
  );
}

/** Sigmoid cross-entropy backward: OUT (=|+=) G * (sigmoid(z) - t), sigmoid evaluated without overflow. */
export function sigmoidBceBackward(shape: LossShape, source: GradSource, accumulate: boolean): Kernel {
  const body = `
  let z = LOGITS[i];
  let e = exp(-abs(z));
  let p = select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
  let d = G[${gradIndex(shape, source, "i")}] * (p - f32(TARGETS[i]));
  ${accumulate ? "OUT[i] += d;" : "OUT[i] = d;"}`;
  return kernel1d(
    shape.batch * shape.subpixels,
    [
      "var<storage, read> LOGITS: array<f32>",
      "var<storage, read> TARGETS: array<u32>",
      "var<storage, read> G: array<f32>",
      "var<storage, read_write> OUT: array<f32>",
    ],
    ["LOGITS", "TARGETS", "G", "OUT"],
    body,
  );
}
