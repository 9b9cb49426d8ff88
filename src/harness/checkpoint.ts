/**
 * Training checkpoints: the model file (parameters + config, see src/models/checkpoint.ts) plus the
 * optimizer state, the step count, the data cursor, the learning-rate schedule and the curve's running
 * sums, written atomically (temp file + rename) so a crash never leaves a half-written checkpoint.
 * Resuming from one continues bit for bit. Files holding non-finite values (a diverged run) are refused.
 */
import type { OptimizerConfig, OptimizerState } from "../engine/optim.ts";
import { CheckpointError, type SafeTensor } from "../engine/safetensors.ts";
import { configDifferences, type DecodedModel, decodeModel, encodeModel } from "../models/checkpoint.ts";
import { PixelModel } from "../models/model.ts";
import type { Gpu } from "../engine/device.ts";
import { writeFileAtomic } from "./atomic.ts";
import type { Cursor } from "./data.ts";
import type { ScheduleConfig, ScheduleState } from "./schedule.ts";

export interface TrainState {
  /** Optimizer steps completed. */
  step: number;
  cursor: Cursor;
  dataSeed: number;
  optimizer: OptimizerConfig;
  optimizerState: OptimizerState;
  /** Free-form facts about the run (preset, dataset fingerprint, tier), kept in the metadata. */
  run: Record<string, string>;
  /** Wall seconds of training over every session so far (the curve's clock). */
  wallSeconds: number;
  /** The learning-rate schedule and its state (absent in checkpoints older than schedules). */
  schedule?: { config: ScheduleConfig; state: ScheduleState };
  /** Training losses since the curve's last line: their sum (table's unit) and count. */
  curve: { sum: number; count: number };
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
    // JSON numbers round-trip doubles exactly, so the schedule resumes bit for bit.
    wall_s: String(state.wallSeconds),
    schedule: JSON.stringify(state.schedule ?? null),
    curve: JSON.stringify(state.curve),
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
  const buffers: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(model.tensors)) {
    if (k.startsWith("optim.")) buffers[k.slice(6)] = t.data as Float32Array;
  }
  refuseNonFinite(path, "weights", model.values);
  refuseNonFinite(path, "optimizer values", ...Object.values(buffers));
  let state: TrainState;
  try {
    state = {
      step: int(m.step),
      cursor: JSON.parse(m.cursor),
      dataSeed: int(m.data_seed),
      optimizer: JSON.parse(m.optimizer),
      optimizerState: { step: int(m.optimizer_step), buffers },
      run: JSON.parse(m.run),
      wallSeconds: m.wall_s === undefined ? 0 : Number(m.wall_s),
      schedule: m.schedule === undefined ? undefined : JSON.parse(m.schedule) ?? undefined,
      curve: m.curve === undefined ? { sum: 0, count: 0 } : JSON.parse(m.curve),
    };
  } catch (e) {
    throw new CheckpointError(`${path}: invalid training state in metadata (${(e as Error).message})`);
  }
  return { model, state };
}

/** Values that are NaN or infinite, over all of `arrays`. */
export function countNonFinite(...arrays: Float32Array[]): number {
  let n = 0;
  for (const a of arrays) for (const v of a) if (!Number.isFinite(v)) n++;
  return n;
}

function refuseNonFinite(path: string, what: string, ...arrays: Float32Array[]): void {
  const bad = countNonFinite(...arrays);
  if (bad) {
    const total = arrays.reduce((s, a) => s + a.length, 0);
    throw new CheckpointError(
      `${path}: ${bad} of ${total} ${what} are not finite (a diverged run); refusing it`,
    );
  }
}

/** A model file or training checkpoint, decoded; one holding non-finite weights is refused. */
async function readModel(path: string): Promise<DecodedModel> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new CheckpointError(`${path}: cannot read model file (${(e as Error).message})`);
  }
  const d = decodeModel(bytes, path);
  refuseNonFinite(path, "weights", d.values);
  return d;
}

/** A model (from a model file or a training checkpoint) on the device, and the file's metadata. */
export async function loadModelFile(
  gpu: Gpu,
  path: string,
): Promise<{ model: PixelModel; metadata: Record<string, string> }> {
  const d = await readModel(path);
  const model = PixelModel.create(gpu, d.config, 1);
  model.store.load(gpu, d.values);
  return { model, metadata: d.metadata };
}

/** Loads the weights of the model file at `path`, written for the same configuration, into `model`. */
export async function loadWeights(model: PixelModel, path: string): Promise<void> {
  const d = await readModel(path);
  const diff = configDifferences(model.config, d.config);
  if (diff.length) throw new CheckpointError(`${path}: a model file for another model: ${diff.join("; ")}`);
  model.store.load(model.gpu, d.values);
}

/** Writes a model file (parameters, config and `metadata`, no training state) atomically. */
export async function saveModelFile(
  path: string,
  model: PixelModel,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(path, encodeModel(model, await model.store.valuesFlat(), { metadata }));
}

/** Where a run keeps its best model by validation NLL: `<checkpoint>.best.safetensors`. */
export function bestPath(checkpoint: string): string {
  return `${checkpoint.replace(/\.safetensors$/, "")}.best.safetensors`;
}

function int(s: string | undefined): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a count: ${JSON.stringify(s)}`);
  return n;
}
