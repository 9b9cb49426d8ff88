/** `deno task eval`: the NLL of a trained model over a whole split, with exact denominators. */
import { loadModelFile } from "../checkpoint.ts";
import { evaluate } from "../evaluate.ts";
import { checkFits } from "../fit.ts";
import { largestBatch } from "../../models/model.ts";
import { loadSplit, subsampledSet } from "../table_data.ts";
import { type DatasetId, DATASETS } from "../tables/types.ts";
import { device, parseCli, positiveInt, runMain, UsageError } from "./common.ts";

const HELP = `usage: deno task eval --checkpoint PATH [options]

Evaluates a model file, training checkpoint or best model (<checkpoint>.best.safetensors) on every image
of a split and prints the NLL in nats per image (binary MNIST) or bits per dimension (RGB). A file holding
non-finite weights (from a diverged run) is refused.

options:
  --checkpoint PATH model file or training checkpoint (required)
  --split S         test (default), valid or train
  --dataset D       ${DATASETS.join(", ")} (default: recorded in the checkpoint)
  --data DIR        dataset directory (CIFAR-10 or ImageNet; MNIST is bundled)
  --allow-subset    accept a CIFAR-10 directory with fewer records
  --batch N         images per batch (default 16, or the largest that fits the adapter's binding limit)
  --help            this text`;

async function main(): Promise<number> {
  const { values: a } = parseCli({
    args: Deno.args,
    options: {
      checkpoint: { type: "string" },
      split: { type: "string" },
      dataset: { type: "string" },
      data: { type: "string" },
      "allow-subset": { type: "boolean" },
      batch: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (a.help) {
    console.log(HELP);
    return 0;
  }
  if (!a.checkpoint) throw new UsageError("--checkpoint is required");
  const split = (a.split ?? "test") as "train" | "valid" | "test";
  if (!["train", "valid", "test"].includes(split)) {
    throw new UsageError(`--split must be test, valid or train`);
  }
  const gpu = await device();
  const { model, metadata } = await loadModelFile(gpu, a.checkpoint);
  if (metadata.kind === "best-model") {
    console.error(`the best model of its run: step ${metadata.step}, validation NLL ${metadata.valid_nll}`);
  }
  const recorded = metadata.run ? JSON.parse(metadata.run).dataset_name : undefined;
  const dataset = (a.dataset ?? recorded) as DatasetId | undefined;
  if (!dataset || !DATASETS.includes(dataset)) {
    throw new UsageError(`name the dataset with --dataset (${DATASETS.join(", ")})`);
  }
  let set = await loadSplit(dataset, split, { data: a.data, allowSubset: a["allow-subset"] });
  // A Multi-Scale part: the small model sees subsampled images, the large one reads them as conditioning.
  const f = model.config.conditioning?.factor;
  if (set.height === 2 * model.config.height) {
    console.error(
      `the model is ${model.config.height}x${model.config.width}: evaluating on the images subsampled 2x`,
    );
    set = subsampledSet(set, 2);
  }
  checkFits(a.checkpoint, model.config, set);
  const small = f ? subsampledSet(set, f).pixels : undefined;
  const limit = gpu.limits.maxStorageBufferBindingSize;
  const batch = a.batch ? positiveInt("batch", a.batch) : largestBatch(model.config, limit, 16);
  const r = await evaluate(model, set, {
    batch,
    label: `eval ${split}`,
    small,
  });
  console.log(
    `${dataset} ${set.split}${set.subset ? " (subset)" : ""}: ${
      r.value.toFixed(4)
    } ${r.unit} over ${r.count} images ` +
      `(${r.natsPerImage.toFixed(3)} nats per image; fingerprint ${set.fingerprint.slice(0, 16)})`,
  );
  return 0;
}

if (import.meta.main) await runMain("eval", main);
