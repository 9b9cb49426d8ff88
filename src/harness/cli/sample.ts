/** `deno task sample`: generate images (or completions of test images) from a trained model as PNG. */
import { sampleMultiScale } from "../../models/multiscale.ts";
import { writeFileAtomic } from "../atomic.ts";
import { loadModelFile } from "../checkpoint.ts";
import { drawProgress, drawShowing } from "../draw_progress.ts";
import { checkFits } from "../fit.ts";
import { probeOutput } from "../probe.ts";
import { completionsPng, samplesPng, softmaxPanels } from "../paper_figures.ts";
import { loadSplit } from "../table_data.ts";
import { type DatasetId, DATASETS } from "../tables/types.ts";
import { device, parseCli, positiveInt, runMain, UsageError } from "./common.ts";

const HELP = `usage: deno task sample --checkpoint PATH [options]

Generates images pixel by pixel (R, then G, then B within a pixel) and writes a PNG grid. Each sub-pixel
computes only what it completes, every layer kept resident (the incremental sampler); --sequential runs
the reference sampler instead, one whole forward pass per sub-pixel, which draws the same images. Images
are drawn in batches that fit the adapter; progress shows rows done, sub-pixels/s and the ETA.

options:
  --checkpoint PATH model file or training checkpoint (required)
  --large PATH      Multi-Scale: a conditional model that generates the full-size images given the
                    small ones --checkpoint generates (both grids are written)
  --count N         images (default 16; with --complete, none unless given)
  --complete K      complete K test images from their top half, each --completions times, laid out as
                    in the paper's Fig. 1 (occluded | completions | original), into <out>-completions.png
  --completions M   completions of each image for --complete (default 3)
  --dataset D       the test images of --complete (binarized-mnist, cifar10, imagenet32, imagenet64;
                    default: the dataset the checkpoint was trained on, when it records one)
  --figures DATASET the paper's figures next to --out: 4 completions of test images of DATASET, 3 each,
                    and (RGB) the softmax histograms of Fig. 6
  --data DIR        dataset directory for --complete and --figures (CIFAR-10 or ImageNet)
  --seed N          random seed (default 1)
  --out FILE        PNG path (default results/samples.png)
  --sequential      the reference sampler (same images, one forward pass per sub-pixel)
  --help            this text`;

async function main(): Promise<number> {
  const { values: a } = parseCli({
    args: Deno.args,
    options: {
      checkpoint: { type: "string" },
      large: { type: "string" },
      count: { type: "string" },
      complete: { type: "string" },
      completions: { type: "string" },
      dataset: { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
      figures: { type: "string" },
      data: { type: "string" },
      sequential: { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (a.help) {
    console.log(HELP);
    return 0;
  }
  if (!a.checkpoint) throw new UsageError("--checkpoint is required");
  const complete = a.complete === undefined ? 0 : positiveInt("complete", a.complete);
  const completions = positiveInt("completions", a.completions, 3);
  const count = a.count === undefined && complete ? 0 : positiveInt("count", a.count, 16);
  const seed = positiveInt("seed", a.seed, 1);
  if (a.figures && a.dataset) throw new UsageError("--figures names its dataset: drop --dataset");
  if (a.large && (complete || a.figures)) {
    throw new UsageError("--complete and --figures take one model, not a Multi-Scale pair (--large)");
  }
  const out = a.out ?? "results/samples.png";
  const stem = out.replace(/\.png$/, "");
  // The grids and figures all go next to --out.
  await probeOutput(out);
  const gpu = await device();
  const { model, metadata } = await loadModelFile(gpu, a.checkpoint);
  const c = model.config;
  // The test images, loaded (and checked against the model) before any sampling.
  const recorded = metadata.run ? JSON.parse(metadata.run).dataset_name : undefined;
  const dataset = (a.figures ?? (complete ? a.dataset ?? recorded : undefined)) as DatasetId | undefined;
  if (complete && !a.figures && (!dataset || !DATASETS.includes(dataset))) {
    throw new UsageError(`name the test images of --complete with --dataset (${DATASETS.join(", ")})`);
  }
  const test = dataset
    ? await loadSplit(dataset, dataset.startsWith("imagenet") ? "valid" : "test", { data: a.data })
    : null;
  if (test) checkFits(a.checkpoint, c, test);
  const large = a.large ? (await loadModelFile(gpu, a.large)).model : undefined;
  const t0 = performance.now();
  const written: string[] = [];
  if (large && count) {
    const watches = {
      small: drawProgress(model, "sample small"),
      large: drawProgress(large, "sample large"),
    };
    const { small, large: full } = await sampleMultiScale(
      model,
      large,
      count,
      seed,
      a.sequential,
      // The small images' progress ends where the large ones' begins.
      (p) => {
        if (p === "large") watches.small.done();
        return watches[p];
      },
    );
    watches.large.done();
    written.push(`${stem}-small.png`, out);
    await writeFileAtomic(written[0], samplesPng(model, small));
    await writeFileAtomic(out, samplesPng(large, full));
  } else if (count) {
    const images = await drawShowing(model, count, { seed, sequential: a.sequential }, "sample");
    await writeFileAtomic(out, samplesPng(model, images));
    written.push(out);
  }
  if (test && (complete || a.figures)) {
    written.push(`${stem}-completions.png`);
    const png = await completionsPng(model, test, complete || 4, complete ? completions : 3, seed, {
      sequential: a.sequential,
      label: "complete",
    });
    await writeFileAtomic(written.at(-1)!, png);
  }
  if (test && a.figures && c.output !== "binary") {
    written.push(`${stem}-softmax.png`);
    await writeFileAtomic(written.at(-1)!, await softmaxPanels(model, test));
  }
  console.error(`wrote ${written.join(", ")} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
}

if (import.meta.main) await runMain("sample", main);
