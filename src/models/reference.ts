/** Float64 per-image negative log-likelihood of a model, for checking the GPU path. */
import type { ParamStore } from "../engine/params.ts";
import { sigmoidBceMapRef, softmaxXentMapRef, sumPerImage } from "../engine/reference/loss.ts";
import { logits } from "./architecture.ts";
import { inputScale, type ModelConfig } from "./config.ts";
import { conditionShape } from "./model.ts";
import { ReferenceOps } from "./reference_ops.ts";

/**
 * NLL in nats of each of `count` images (u8 values, NHWC) under `config` with flat parameters `values`
 * laid out as in `store`; a multi-scale conditional model also reads the small images `small` (u8).
 */
export function referenceNll(
  config: ModelConfig,
  store: ParamStore,
  values: Float32Array | Float64Array,
  pixels: Uint8Array,
  count: number,
  small?: Uint8Array,
): Float64Array {
  const { scale, shift } = inputScale(config);
  const shape = [count, config.height, config.width, config.channels];
  const x = { data: Float64Array.from(pixels, (v) => v * scale + shift), shape };
  const s = small &&
    { data: Float64Array.from(small, (v) => v * scale + shift), shape: conditionShape(config, count) };
  const out = logits(new ReferenceOps(store, values), config, x, s).data;
  const map = config.output === "binary" ? sigmoidBceMapRef(out, pixels) : softmaxXentMapRef(out, pixels);
  return sumPerImage(map, config.height * config.width * config.channels);
}
