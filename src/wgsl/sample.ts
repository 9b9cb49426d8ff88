/**
 * Sampling one sub-pixel of every image of a batch from the model's output, written straight into the
 * image being generated and into the network input. One invocation per image.
 *
 * The sub-pixel index s = (y * W + x) * C + c is not baked into the source: it is read from POS, a
 * 4-byte binding that differs per dispatch, so one pipeline serves all H * W * C dispatches of a sampler.
 * Image b draws u = unitFloat(threefry2x32((KEY[0], KEY[1]), (b, s)).x), reproducible on the host.
 */
import { BUILTINS_1D, f, grid1d, linearIndex, u } from "./common.ts";
import type { Kernel } from "./kernel.ts";
import { RNG_WGSL } from "./rng.ts";

/** What one sampling kernel draws from and how it writes the network input. */
export interface SampleSpec {
  /** "categorical": 256 logits per sub-pixel (softmax); "bernoulli": one logit (sigmoid). */
  kind: "categorical" | "bernoulli";
  batch: number;
  /** Sub-pixels per image, H * W * C. */
  subpixels: number;
  /** The input written for value v is v * inputScale + inputShift. */
  inputScale: number;
  inputShift: number;
}

const WG = 64;

/**
 * Inverse CDF in a fixed order: the smallest v with sum_{k<=v} exp(l_k - m) > u * total, where total is
 * the same sum over all 256 values. Should rounding leave no crossing, the last value of nonzero
 * probability is taken, never one of probability zero.
 */
const CATEGORICAL = `
  let base = i * 64u;
  var m = -3.4028235e38;
  for (var k = 0u; k < 64u; k++) {
    let q = LOGITS[base + k];
    m = max(m, max(max(q.x, q.y), max(q.z, q.w)));
  }
  var total = 0.0;
  for (var k = 0u; k < 256u; k++) { total += exp(LOGITS[base + k / 4u][k % 4u] - m); }
  let threshold = u * total;
  var cum = 0.0;
  var v = 0u;
  for (var k = 0u; k < 256u; k++) {
    let e = exp(LOGITS[base + k / 4u][k % 4u] - m);
    cum += e;
    if (e > 0.0) { v = k; }
    if (cum > threshold) { break; }
  }`;

/** v = 1 with probability sigmoid(z). */
const BERNOULLI = `
  let z = LOGITS[i];
  let e = exp(-abs(z));
  let p = select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
  let v = select(0u, 1u, u < p);`;

/** The kernel drawing the sub-pixel named by POS for every image of the batch. */
export function sampleKernel(spec: SampleSpec): Kernel {
  const logits = spec.kind === "categorical" ? "vec4f" : "f32";
  const code = `
@group(0) @binding(0) var<storage, read> LOGITS: array<${logits}>;
@group(0) @binding(1) var<storage, read> KEY: array<u32>;
@group(0) @binding(2) var<storage, read> POS: array<u32>;
@group(0) @binding(3) var<storage, read_write> IMAGE: array<u32>;
@group(0) @binding(4) var<storage, read_write> INPUT: array<f32>;
${RNG_WGSL}
@compute @workgroup_size(${WG})
fn main(${BUILTINS_1D}) {
  let b = ${linearIndex(WG)};
  if (b >= ${u(spec.batch)}) { return; }
  let s = POS[0];
  let i = b * ${u(spec.subpixels)} + s;
  let u = unitFloat(threefry2x32(vec2u(KEY[0], KEY[1]), vec2u(b, s)).x);
${spec.kind === "categorical" ? CATEGORICAL : BERNOULLI}
  IMAGE[i] = v;
  INPUT[i] = f32(v) * ${f(spec.inputScale)} + ${f(spec.inputShift)};
}`;
  return {
    code,
    bindings: ["LOGITS", "KEY", "POS", "IMAGE", "INPUT"],
    workgroups: grid1d(spec.batch, WG),
    usesStep: false,
  };
}
