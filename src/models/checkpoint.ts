/**
 * Model files in safetensors: one F32 tensor per parameter, named as in the architecture (so the file
 * opens by name in numpy or PyTorch), with the model configuration in the metadata. A file written for
 * another configuration, or missing or reshaping a parameter, is refused with a message saying how.
 */
import {
  CheckpointError,
  decodeSafetensors,
  encodeSafetensors,
  type SafeTensor,
} from "../engine/safetensors.ts";
import { type ModelConfig, resolveModelConfig } from "./config.ts";
import { declareParams, type PixelModel } from "./model.ts";

export const FORMAT = "pixelrnn-webgpu/1";

export interface Extras {
  tensors?: Record<string, SafeTensor>;
  metadata?: Record<string, string>;
}

/** Encodes `values` (the model's flat parameter vector) with its config and any extra tensors. */
export function encodeModel(model: PixelModel, values: Float32Array, extras: Extras = {}): Uint8Array {
  const tensors: Record<string, SafeTensor> = {};
  for (const p of model.store.infos) {
    tensors[`param.${p.name}`] = {
      dtype: "F32",
      shape: p.shape,
      data: values.slice(p.offset, p.offset + p.size),
    };
  }
  for (const [k, t] of Object.entries(extras.tensors ?? {})) {
    if (k.startsWith("param.")) throw new CheckpointError(`extra tensor ${k} would shadow a parameter`);
    tensors[k] = t;
  }
  const metadata = { ...extras.metadata, format: FORMAT, config: JSON.stringify(model.config) };
  return encodeSafetensors(tensors, metadata);
}

export interface DecodedModel {
  config: ModelConfig;
  /** Flat parameter vector in the layout of `declareParams(config)`. */
  values: Float32Array;
  tensors: Record<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** Decodes and validates a model file; `source` names it in every error. */
export function decodeModel(bytes: Uint8Array, source: string): DecodedModel {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  if (metadata.format !== FORMAT) {
    throw new CheckpointError(
      `${source}: not a ${FORMAT} model file (format ${JSON.stringify(metadata.format)})`,
    );
  }
  let config: ModelConfig;
  try {
    config = resolveModelConfig(JSON.parse(metadata.config));
  } catch (e) {
    throw new CheckpointError(`${source}: invalid model config in metadata: ${(e as Error).message}`);
  }
  const store = declareParams(config);
  const values = new Float32Array(store.length);
  for (const p of store.infos) {
    const t = tensors[`param.${p.name}`];
    if (!t) throw new CheckpointError(`${source}: parameter ${p.name} is missing`);
    if (t.dtype !== "F32" || t.shape.join() !== p.shape.join()) {
      throw new CheckpointError(
        `${source}: parameter ${p.name} is ${t.dtype} [${t.shape}], expected F32 [${p.shape}]`,
      );
    }
    values.set(t.data as Float32Array, p.offset);
  }
  const names = new Set(store.infos.map((p) => `param.${p.name}`));
  const unknown = Object.keys(tensors).filter((k) => k.startsWith("param.") && !names.has(k));
  if (unknown.length) {
    throw new CheckpointError(`${source}: unknown parameters ${unknown.slice(0, 3).join(", ")}`);
  }
  return { config, values, tensors, metadata };
}

/** The fields in which two configurations differ (empty when they describe the same model). */
export function configDifferences(a: ModelConfig, b: ModelConfig): string[] {
  return (Object.keys(a) as (keyof ModelConfig)[])
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k}: ${JSON.stringify(a[k])} vs ${JSON.stringify(b[k])}`);
}
