/** `deno task train`: train one model on its dataset, with checkpoints, resume and periodic evaluation. */
import type { OptimizerConfig } from "../../engine/optim.ts";
import { largestBatch, PixelModel } from "../../models/model.ts";
import { MULTISCALE_PRESET } from "../../models/presets.ts";
import { loadCheckpoint } from "../checkpoint.ts";
import { SetEvaluator } from "../evaluate.ts";
import { cifarValidation, loadSplit, subsampledSet } from "../table_data.ts";
import { train } from "../train.ts";
import { device, parseCli, positiveInt, positiveNumber, runMain, stopOnCtrlC, UsageError } from "./common.ts";
import { MODEL_HELP, MODEL_OPTIONS, modelFromArgs } from "./model_args.ts";

const HELP = `usage: deno task train --preset NAME [options]

Trains a model (RMSProp by default, as the paper) and writes an atomic checkpoint with weights, optimizer
state and data cursor. Ctrl-C stops after the current step and writes a checkpoint; --resume continues
exactly where a checkpoint left off.

options:
${MODEL_HELP}
  --data DIR        dataset directory (CIFAR-10 or ImageNet; MNIST is bundled)
  --allow-subset    accept a CIFAR-10 directory with fewer records
  --steps N         total optimizer steps (default 10000)
  --batch N         batch size (default: the preset's, as in the paper)
  --optimizer O     rmsprop (default) or adam
  --lr X            learning rate (default 1e-3)
  --seed N          initialisation and data-order seed (default 1)
  --checkpoint PATH checkpoint file (default runs/<preset>.safetensors)
  --every N         checkpoint every N steps (default 1000)
  --eval-every N    evaluate on the validation split every N steps (MNIST valid; CIFAR-10 the last tenth
                    of train, which training then leaves out; ImageNet valid)
  --resume          continue from --checkpoint
  --help            this text`;

async function main(): Promise<number> {
  const { values: a } = parseCli({
    args: Deno.args,
    options: {
      ...MODEL_OPTIONS,
      data: { type: "string" },
      "allow-subset": { type: "boolean" },
      steps: { type: "string" },
      batch: { type: "string" },
      optimizer: { type: "string" },
      lr: { type: "string" },
      seed: { type: "string" },
      checkpoint: { type: "string" },
      every: { type: "string" },
      "eval-every": { type: "string" },
      resume: { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (a.help) {
    console.log(HELP);
    return 0;
  }
  const { preset, config, part } = modelFromArgs(a);
  const kind = a.optimizer ?? "rmsprop";
  if (kind !== "rmsprop" && kind !== "adam") {
    throw new UsageError(`--optimizer must be rmsprop or adam, got ${kind}`);
  }
  const optimizer: OptimizerConfig = { kind, lr: positiveNumber("lr", a.lr, 1e-3) };
  const steps = positiveInt("steps", a.steps, 10_000);
  const batch = positiveInt("batch", a.batch, preset.batch);
  const seed = positiveInt("seed", a.seed, 1);
  const path = a.checkpoint ?? `runs/${preset.name}.safetensors`;
  const data = { data: a.data, allowSubset: a["allow-subset"] };
  const evalEvery = a["eval-every"] ? positiveInt("eval-every", a["eval-every"]) : 0;
  // Load data (and fail on it) before touching the device or the checkpoint.
  let trainSet = await loadSplit(preset.dataset, "train", data);
  let validSet = evalEvery ? await loadSplit(preset.dataset, "valid", data) : null;
  if (validSet && preset.dataset === "cifar10") trainSet = cifarValidation(trainSet).train;
  // Multi-Scale: the small model learns the subsampled images; the large one reads them as conditioning.
  const factor = MULTISCALE_PRESET.config.large.conditioning!.factor;
  let small: Uint8Array | undefined, validSmall: Uint8Array | undefined;
  if (part === "small") {
    trainSet = subsampledSet(trainSet, factor);
    if (validSet) validSet = subsampledSet(validSet, factor);
  } else if (part === "large") {
    small = subsampledSet(trainSet, factor).pixels;
    validSmall = validSet ? subsampledSet(validSet, factor).pixels : undefined;
  }
  const resume = a.resume ? await loadCheckpoint(path) : undefined;
  await Deno.mkdir(path.replace(/\/[^/]*$/, "") || ".", { recursive: true });

  const gpu = await device();
  const fits = largestBatch(config, gpu.limits.maxStorageBufferBindingSize, batch);
  if (fits < batch) {
    throw new UsageError(
      `batch ${batch} of ${preset.name} does not fit this adapter's storage-binding limit ` +
        `(${gpu.limits.maxStorageBufferBindingSize} bytes per tensor); the largest that fits is --batch ${fits}`,
    );
  }
  const model = PixelModel.create(gpu, config, seed);
  console.error(
    `train ${preset.name} (${config.kind} ${config.layers}x${config.h}) on ${gpu.summary.description}`,
  );
  const evaluator = validSet
    ? new SetEvaluator(model, validSet, { batch, label: "valid", small: validSmall })
    : null;
  const summary = await train({
    model,
    set: trainSet,
    small,
    batch,
    optimizer,
    steps,
    dataSeed: seed,
    checkpoint: { path, every: positiveInt("every", a.every, 1000) },
    resume,
    run: { preset: preset.name, dataset_name: preset.dataset, dataset: trainSet.fingerprint },
    shouldStop: stopOnCtrlC(),
    every: evaluator
      ? {
        steps: evalEvery,
        run: async (step) => {
          const r = await evaluator.run();
          console.error(`step ${step}: ${validSet!.split} NLL ${r.value.toFixed(4)} ${r.unit}`);
        },
      }
      : undefined,
  });
  evaluator?.destroy();
  console.error(`${summary.stopped} after ${summary.steps} steps; checkpoint ${path}`);
  return summary.stopped === "interrupted" ? 130 : 0;
}

if (import.meta.main) await runMain("train", main);
