/** `deno task sample`: generate images (or completions of test images) from a trained model as PNG. */
import { sampleMultiScale } from "../../models/multiscale.ts";
import { largestBatch } from "../../models/model.ts";
import { createSampler } from "../../models/sampler.ts";
import { writeFileAtomic } from "../atomic.ts";
import { loadModelFile } from "../checkpoint.ts";
import { imageGrid } from "../figures.ts";
import { checkFits } from "../fit.ts";
import { probeOutput } from "../probe.ts";
import { writeFigures } from "../paper_figures.ts";
import { loadSplit } from "../table_data.ts";
import type { DatasetId } from "../tables/types.ts";
import { device, parseCli, positiveInt, runMain, UsageError } from "./common.ts";

const HELP = `usage: deno task sample --checkpoint PATH [options]

Generates images pixel by pixel (R, then G, then B within a pixel) and writes a PNG grid. Each sub-pixel
computes only what it completes, every layer kept resident (the incremental sampler); --sequential runs
the reference sampler instead, one whole forward pass per sub-pixel, which draws the same images.

options:
  --checkpoint PATH model file or training checkpoint (required)
  --large PATH      Multi-Scale: a conditional model that generates the full-size images given the
                    small ones --checkpoint generates (both grids are written)
  --count N         images (default 16)
  --seed N          random seed (default 1)
  --out FILE        PNG path (default results/samples.png)
  --figures DATASET also write the paper's completion and softmax figures next to --out, using the test
                    images of DATASET (binarized-mnist, cifar10, imagenet32, imagenet64)
  --data DIR        dataset directory for --figures (CIFAR-10 or ImageNet)
  --sequential      the reference sampler (same images, one forward pass per sub-pixel)
  --help            this text`;

async function main(): Promise<number> {
  const { values: a } = parseCli({
    args: Deno.args,
    options: {
      checkpoint: { type: "string" },
      large: { type: "string" },
      count: { type: "string" },
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
  const count = positiveInt("count", a.count, 16), seed = positiveInt("seed", a.seed, 1);
  const out = a.out ?? "results/samples.png";
  // The grids and figures all go next to --out.
  await probeOutput(out);
  const gpu = await device();
  const { model } = await loadModelFile(gpu, a.checkpoint);
  const c = model.config;
  // The figures' test images, loaded (and checked against the model) before any sampling.
  const test = a.figures
    ? await loadSplit(a.figures as DatasetId, a.figures.startsWith("imagenet") ? "valid" : "test", {
      data: a.data,
    })
    : null;
  if (test) checkFits(a.checkpoint, c, test);
  const binary = c.output === "binary";
  const large = a.large ? (await loadModelFile(gpu, a.large)).model : undefined;
  for (const m of large ? [model, large] : [model]) {
    const fits = largestBatch(m.config, gpu.limits.maxStorageBufferBindingSize, count);
    if (fits < count) {
      throw new UsageError(
        `${count} ${m.config.height}x${m.config.width} images at once exceed this adapter's ` +
          `storage-binding limit; use --count ${fits} or less`,
      );
    }
  }
  const t0 = performance.now();
  if (large) {
    const { small, large: full } = await sampleMultiScale(model, large, count, seed, a.sequential);
    const l = large.config;
    await writeFileAtomic(
      out.replace(/\.png$/, "-small.png"),
      imageGrid(small, count, c.height, c.width, c.channels, { binary }),
    );
    await writeFileAtomic(out, imageGrid(full, count, l.height, l.width, l.channels, { binary }));
  } else {
    const sampler = createSampler(model, count, a.sequential);
    const images = await sampler.sample({ seed, onRow: (y) => console.error(`row ${y + 1}/${c.height}`) });
    sampler.destroy();
    await writeFileAtomic(out, imageGrid(images, count, c.height, c.width, c.channels, { binary, scale: 2 }));
  }
  console.error(`wrote ${out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (test) {
    const paths = await writeFigures(model, test, out.replace(/\.png$/, ""), {
      samples: count,
      completed: 4,
      completions: 3,
      sequential: a.sequential,
    }, seed);
    console.error(`wrote ${paths.join(", ")}`);
  }
  return 0;
}

if (import.meta.main) await runMain("sample", main);
