/** `deno task train`: train one model on its dataset, with checkpoints, resume and periodic evaluation. */
import type { OptimizerConfig } from "../../engine/optim.ts";
import { largestBatch, PixelModel } from "../../models/model.ts";
import { MULTISCALE_PRESET } from "../../models/presets.ts";
import { bestPath, loadCheckpoint, type TrainState } from "../checkpoint.ts";
import { curvePath } from "../curves.ts";
import type { ScheduleConfig } from "../schedule.ts";
import { SetEvaluator } from "../evaluate.ts";
import { cifarValidation, firstImages, loadSplit, subsampledSet } from "../table_data.ts";
import { probeOutput } from "../probe.ts";
import { CURVE_EVERY, train } from "../train.ts";
import {
  decimal,
  device,
  parseCli,
  positiveInt,
  positiveNumber,
  runMain,
  StopSignal,
  UsageError,
} from "./common.ts";
import { MODEL_HELP, MODEL_OPTIONS, modelFromArgs } from "./model_args.ts";

/** The plateau rule's factor when --plateau is given without one. */
const PLATEAU_FACTOR = 0.5;

const HELP = `usage: deno task train --preset NAME [options]

Trains a model (RMSProp by default, as the paper) and writes an atomic checkpoint with weights, optimizer
state, data cursor and schedule, a learning curve (<checkpoint>.curve.csv) and, with --eval-every, the
best model by validation NLL (<checkpoint>.best.safetensors). Ctrl-C stops after the current step and
writes a checkpoint; --resume continues exactly where a checkpoint left off, with its rate and schedule
(options given again override them). A loss that is not finite or over 10x the uniform model's stops
the run, keeping the last checkpoint that passed a check of its weights and optimizer state.

options:
${MODEL_HELP}
  --data DIR        dataset directory (CIFAR-10 or ImageNet; MNIST is bundled)
  --allow-subset    accept a CIFAR-10 directory with fewer records
  --steps N         total optimizer steps (default 10000)
  --batch N         batch size (default: the preset's, as in the paper)
  --optimizer O     rmsprop (default) or adam
  --lr X            learning rate (default 1e-3)
  --lr-decay X      multiply the rate by X after every step, 0 < X <= 1 (default 1: constant)
  --seed N          initialisation and data-order seed (default 1)
  --checkpoint PATH checkpoint file (default runs/<preset>.safetensors)
  --every N         checkpoint every N steps (default 1000)
  --log-every N     a learning-curve line every N steps (default ${CURVE_EVERY})
  --eval-every N    evaluate on the validation split every N steps (MNIST valid; CIFAR-10 the last tenth
                    of train, which training then leaves out; ImageNet valid) and keep the best model
  --valid-images N  validate on the first N images of the validation split only (default: all of them)
  --plateau P       multiply the rate by --plateau-factor after P evaluations without a new best
  --plateau-factor F  the plateau rule's factor, 0 < F < 1 (default ${PLATEAU_FACTOR})
  --patience P      stop after P evaluations without a new best
  --resume          continue from --checkpoint
  --help            this text`;

function fraction(name: string, v: string, closed: boolean): number {
  const expected = `a number in (0, 1${closed ? "]" : ")"}`;
  return decimal(name, v, expected, (x) => x > 0 && (closed ? x <= 1 : x < 1));
}

/** The optimizer: the options given, else the resumed checkpoint's, else RMSProp at 1e-3. */
function optimizerFrom(a: { optimizer?: string; lr?: string }, saved?: TrainState): OptimizerConfig {
  const kind = a.optimizer ?? saved?.optimizer.kind ?? "rmsprop";
  if (kind !== "rmsprop" && kind !== "adam") {
    throw new UsageError(`--optimizer must be rmsprop or adam, got ${kind}`);
  }
  const base: OptimizerConfig = saved?.optimizer.kind === kind ? saved.optimizer : { kind, lr: 1e-3 };
  return { ...base, lr: positiveNumber("lr", a.lr, base.lr) };
}

type ScheduleArgs = Partial<
  Record<"lr-decay" | "eval-every" | "plateau" | "plateau-factor" | "patience", string>
>;

/** The schedule: each option given, else the resumed checkpoint's setting, else none. */
function scheduleFrom(a: ScheduleArgs, saved?: ScheduleConfig): ScheduleConfig {
  const evalEvery = a["eval-every"] ? positiveInt("eval-every", a["eval-every"]) : saved?.evalEvery;
  const factor = a["plateau-factor"]
    ? fraction("plateau-factor", a["plateau-factor"], false)
    : saved?.plateau?.factor ?? PLATEAU_FACTOR;
  const patience = a.plateau ? positiveInt("plateau", a.plateau) : saved?.plateau?.patience;
  const c: ScheduleConfig = {
    decay: a["lr-decay"] ? fraction("lr-decay", a["lr-decay"], true) : saved?.decay ?? 1,
    evalEvery,
    plateau: patience === undefined ? undefined : { factor, patience },
    stopPatience: a.patience ? positiveInt("patience", a.patience) : saved?.stopPatience,
  };
  if ((c.plateau || c.stopPatience) && !evalEvery) {
    throw new UsageError("--plateau and --patience need --eval-every");
  }
  return c;
}

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
      "lr-decay": { type: "string" },
      seed: { type: "string" },
      checkpoint: { type: "string" },
      every: { type: "string" },
      "log-every": { type: "string" },
      "eval-every": { type: "string" },
      "valid-images": { type: "string" },
      plateau: { type: "string" },
      "plateau-factor": { type: "string" },
      patience: { type: "string" },
      resume: { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (a.help) {
    console.log(HELP);
    return 0;
  }
  const stop = new StopSignal();
  const { preset, config, part } = modelFromArgs(a);
  const path = a.checkpoint ?? `runs/${preset.name}.safetensors`;
  // The checkpoint, its curve and its best model go to one folder: fail now, not at the first save.
  await probeOutput(path);
  const resume = a.resume ? await loadCheckpoint(path) : undefined;
  const optimizer = optimizerFrom(a, resume?.state);
  const schedule = scheduleFrom(a, resume?.state.schedule?.config);
  const steps = positiveInt("steps", a.steps, 10_000);
  const batch = positiveInt("batch", a.batch, preset.batch);
  const seed = positiveInt("seed", a.seed, 1);
  const every = positiveInt("every", a.every, 1000);
  const curveEvery = positiveInt("log-every", a["log-every"], CURVE_EVERY);
  const validImages = a["valid-images"] ? positiveInt("valid-images", a["valid-images"]) : undefined;
  const data = { data: a.data, allowSubset: a["allow-subset"] };
  // Load data (and fail on it) before touching the device.
  let trainSet = await loadSplit(preset.dataset, "train", data);
  let validSet = schedule.evalEvery ? await loadSplit(preset.dataset, "valid", data) : null;
  if (validSet && preset.dataset === "cifar10") trainSet = cifarValidation(trainSet).train;
  if (validSet && validImages && validImages < validSet.count) {
    validSet = firstImages(validSet, validImages, `${validSet.split} (first ${validImages})`);
  }
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
    checkpoint: { path, every },
    resume,
    run: { preset: preset.name, dataset_name: preset.dataset, dataset: trainSet.fingerprint },
    shouldStop: stop.requested,
    schedule,
    curveEvery,
    log: (line) => console.error(line),
    validate: evaluator
      ? async (step) => {
        const r = await evaluator.run();
        console.error(`step ${step}: ${validSet!.split} NLL ${r.value.toFixed(4)} ${r.unit}`);
        return r.value;
      }
      : undefined,
  });
  evaluator?.destroy();
  console.error(
    `${summary.stopped} after ${summary.steps} steps; checkpoint ${path}, curve ${curvePath(path)}`,
  );
  if (summary.best) {
    console.error(
      `best ${validSet!.split} NLL ${summary.best.value.toFixed(4)} at step ${summary.best.step}: ${
        bestPath(path)
      }`,
    );
  }
  return summary.stopped === "interrupted" ? stop.exitCode : 0;
}

if (import.meta.main) await runMain("train", main);
