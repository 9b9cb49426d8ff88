/**
 * Pixel Recurrent Neural Networks (van den Oord, Kalchbrenner and Kavukcuoglu, ICML 2016) on Deno's
 * WebGPU: the four model families, their training, evaluation and sampling, the datasets the paper
 * used, and the paper's tables as runnable data.
 *
 * ```ts
 * import { openGpu, PixelModel, presetByName, loadBinarizedMnist, train, evaluate } from "./mod.ts";
 * const gpu = await openGpu();
 * const model = PixelModel.create(gpu, presetByName("mnist-diagonal-bilstm-1x32").config, 1);
 * await train({ model, set: await loadBinarizedMnist("train"), batch: 16,
 *   optimizer: { kind: "rmsprop", lr: 1e-3 }, steps: 1000, dataSeed: 1 });
 * console.log(await evaluate(model, await loadBinarizedMnist("test"), { batch: 16 }));
 * ```
 * @module
 */

// --- Device -------------------------------------------------------------------------------------

/** Opens the best WebGPU adapter: a real GPU when present, else the software adapter. */
export { adapterLine, Gpu, GpuError, openGpu } from "./src/engine/device.ts";
/** Summary of the adapter a run used (description, backend, fallback, features, limits). */
export type { AdapterSummary } from "./src/engine/device.ts";

// --- Models -------------------------------------------------------------------------------------

/** A PixelCNN, Row LSTM or Diagonal BiLSTM: parameters on the GPU and per-batch NLL graphs. */
export { declareParams, paramCounts, PixelModel } from "./src/models/model.ts";
/** Per-layer parameter counts and the tensors of one batch graph. */
export type { LayerCount, ModelGraph } from "./src/models/model.ts";
/** Model configuration (paper options plus the choices the paper leaves open). */
export { ConfigError, resolveModelConfig } from "./src/models/config.ts";
/** The fields of a model configuration. */
export type { Conditioning, ModelConfig, ModelKind } from "./src/models/config.ts";
/** A preset for every model of the paper, with its batch size. */
export { MULTISCALE_PRESET, presetByName, PRESETS } from "./src/models/presets.ts";
/** A paper preset. */
export type { Preset } from "./src/models/presets.ts";
/** Multi-Scale PixelRNN: an unconditional small-image model and a conditional full-size one. */
export { MultiScaleModel, resolveMultiScale, sampleMultiScale, subsample } from "./src/models/multiscale.ts";
/** One submit per training step: gather, forward, backward, optimizer. */
export { Trainer } from "./src/models/trainer.ts";
/** Forward-only batches returning per-image NLLs. */
export { Evaluator } from "./src/models/evaluator.ts";
/** Sequential generation (raster order, R then G then B) and completions. */
export { Sampler } from "./src/models/sampler.ts";
/** Options of a sampling run. */
export type { SampleOptions } from "./src/models/sampler.ts";
/** Model files in safetensors (parameters by name, config in the metadata). */
export { decodeModel, encodeModel } from "./src/models/checkpoint.ts";
/** Float64 per-image NLL of a model on the host (the reference the GPU path is tested against). */
export { referenceNll } from "./src/models/reference.ts";

// --- Training, evaluation, files ----------------------------------------------------------------

/** The training loop: progress, periodic atomic checkpoints, exact resume, divergence stop. */
export { train, TrainingDiverged } from "./src/harness/train.ts";
/** Options and outcome of a training run. */
export type { TrainOptions, TrainSummary } from "./src/harness/train.ts";
/** Whole-split evaluation with exact denominators and the plausibility alarm. */
export { evaluate, SetEvaluator } from "./src/harness/evaluate.ts";
/** Result of an evaluation (nats per image, or bits per dimension). */
export type { EvalResult } from "./src/harness/evaluate.ts";
/** Training checkpoints and model files on disk. */
export { loadCheckpoint, loadModelFile, saveCheckpoint, saveModelFile } from "./src/harness/checkpoint.ts";
/** Training state saved with a checkpoint. */
export type { LoadedCheckpoint, TrainState } from "./src/harness/checkpoint.ts";

// --- Datasets -----------------------------------------------------------------------------------

/** Loaders for binarized MNIST, CIFAR-10 and downsampled ImageNet, with fingerprints and one-line errors. */
export { DatasetError, loadBinarizedMnist, loadCifar10, loadImagenet } from "./src/harness/datasets/mod.ts";
/** A loaded image split. */
export type { ImageSet } from "./src/harness/datasets/mod.ts";

// --- Paper tables and results -------------------------------------------------------------------

/** The paper's Tables 2-6 as data, each row with smoke, quick and paper tiers. */
export { tableById, TABLES } from "./src/harness/tables/mod.ts";
/** A paper table, its rows and tier runs. */
export type { PaperTable, TableRow, Tier, TierRun } from "./src/harness/tables/mod.ts";
/** Reproduces a table: trains, evaluates and judges each selected row. */
export { reproTable } from "./src/harness/repro.ts";
/** Options and outcome of a table reproduction. */
export type { ReproOptions, ReproResult } from "./src/harness/repro.ts";
/** The results CSV format (results/*.csv). */
export {
  formatResultsCsv,
  mergeResults,
  parseResultsCsv,
  RESULT_COLUMNS,
  ResultsError,
} from "./src/harness/csv.ts";
/** One row of a results CSV. */
export type { ResultRow } from "./src/harness/csv.ts";
/** PNG figures: sample grids, completions, softmax histograms. */
export { completionFigure, histogramFigure, imageGrid } from "./src/harness/figures.ts";
/** The paper's figures for a trained model, written next to the results. */
export { writeFigures } from "./src/harness/paper_figures.ts";
