/** Float64 per-image negative log-likelihood of a model, for checking the GPU path. */
import type { ParamStore } from "../engine/params.ts";
import { sigmoidBceMapRef, softmaxXentMapRef, sumPerImage } from "../engine/reference/loss.ts";
import { logits } from "./architecture.ts";
import { inputScale, type ModelConfig } from "./config.ts";
import { ReferenceOps, type RefValue } from "./reference_ops.ts";

/**
 * NLL in nats of each of `count` images (u8 values, NHWC) under `config` with flat parameters `values`
 * laid out as in `store`; `condition` feeds the conditioning maps of a multi-scale conditional model.
 */
export function referenceNll(
  config: ModelConfig,
  store: ParamStore,
  values: Float32Array | Float64Array,
  pixels: Uint8Array,
  count: number,
  condition?: RefValue,
): Float64Array {
  const { scale, shift } = inputScale(config);
  const shape = [count, config.height, config.width, config.channels];
  const x = { data: Float64Array.from(pixels, (v) => v * scale + shift), shape };
  const out = logits(new ReferenceOps(store, values), config, x, condition).data;
  const map = config.output === "binary" ? sigmoidBceMapRef(out, pixels) : softmaxXentMapRef(out, pixels);
  return sumPerImage(map, config.height * config.width * config.channels);
}
