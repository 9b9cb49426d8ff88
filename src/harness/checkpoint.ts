/**
 * Training checkpoints: the model file (parameters + config, see src/models/checkpoint.ts) plus the
 * optimizer state, the step count and the data cursor, written atomically (temp file + rename) so a
 * crash never leaves a half-written checkpoint. Resuming from one continues bit for bit.
 */
import type { OptimizerConfig, OptimizerState } from "../engine/optim.ts";
import { CheckpointError, type SafeTensor } from "../engine/safetensors.ts";
import { type DecodedModel, decodeModel, encodeModel } from "../models/checkpoint.ts";
import { PixelModel } from "../models/model.ts";
import type { Gpu } from "../engine/device.ts";
import { writeFileAtomic } from "./atomic.ts";
import type { Cursor } from "./data.ts";

export interface TrainState {
  /** Optimizer steps completed. */
  step: number;
  cursor: Cursor;
  dataSeed: number;
  optimizer: OptimizerConfig;
  optimizerState: OptimizerState;
  /** Free-form facts about the run (preset, dataset fingerprint, tier), kept in the metadata. */
  run: Record<string, string>;
}

export interface LoadedCheckpoint {
  model: DecodedModel;
  state: TrainState;
}

/** Writes model and training state to `path` atomically. */
export async function saveCheckpoint(path: string, model: PixelModel, state: TrainState): Promise<void> {
  const values = await model.store.valuesFlat();
  const tensors: Record<string, SafeTensor> = {};
  for (const [name, data] of Object.entries(state.optimizerState.buffers)) {
    tensors[`optim.${name}`] = { dtype: "F32", shape: [data.length], data };
  }
  const metadata = {
    kind: "training-checkpoint",
    step: String(state.step),
    cursor: JSON.stringify(state.cursor),
    data_seed: String(state.dataSeed),
    optimizer: JSON.stringify(state.optimizer),
    optimizer_step: String(state.optimizerState.step),
    run: JSON.stringify(state.run),
  };
  await writeFileAtomic(path, encodeModel(model, values, { tensors, metadata }));
}

/** Reads a checkpoint; a model file without training state, or a damaged file, is refused. */
export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new CheckpointError(`${path}: cannot read checkpoint (${(e as Error).message})`);
  }
  const model = decodeModel(bytes, path);
  const m = model.metadata;
  if (m.kind !== "training-checkpoint") {
    throw new CheckpointError(`${path}: a model file without training state`);
  }
  try {
    const buffers: Record<string, Float32Array> = {};
    for (const [k, t] of Object.entries(model.tensors)) {
      if (k.startsWith("optim.")) buffers[k.slice(6)] = t.data as Float32Array;
    }
    const state: TrainState = {
      step: int(m.step),
      cursor: JSON.parse(m.cursor),
      dataSeed: int(m.data_seed),
      optimizer: JSON.parse(m.optimizer),
      optimizerState: { step: int(m.optimizer_step), buffers },
      run: JSON.parse(m.run),
    };
    return { model, state };
  } catch (e) {
    throw new CheckpointError(`${path}: invalid training state in metadata (${(e as Error).message})`);
  }
}

/** A model (from a model file or a training checkpoint) on the device, and the file's metadata. */
export async function loadModelFile(
  gpu: Gpu,
  path: string,
): Promise<{ model: PixelModel; metadata: Record<string, string> }> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new CheckpointError(`${path}: cannot read model file (${(e as Error).message})`);
  }
  const d = decodeModel(bytes, path);
  const model = PixelModel.create(gpu, d.config, 1);
  model.store.load(gpu, d.values);
  return { model, metadata: d.metadata };
}

/** Writes a model file (parameters and config, no training state) atomically. */
export async function saveModelFile(path: string, model: PixelModel): Promise<void> {
  await writeFileAtomic(path, encodeModel(model, await model.store.valuesFlat()));
}

function int(s: string | undefined): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a count: ${JSON.stringify(s)}`);
  return n;
}
