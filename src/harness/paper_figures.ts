/**
 * The paper's figures, written as PNG next to the results CSV:
 * sample grids (Fig. 7), completions of occluded test images laid out occluded | completions |
 * original (Fig. 1), and 256-way softmax histograms of chosen conditionals (Fig. 6, RGB data only).
 */
import type { PixelModel } from "../models/model.ts";
import { writeFileAtomic } from "./atomic.ts";
import type { ImageSet } from "./datasets/types.ts";
import { drawShowing } from "./draw_progress.ts";
import { completionFigure, figureScale, histogramFigure, imageGrid } from "./figures.ts";

export interface FigureCounts {
  samples: number;
  /** Test images to complete, and completions of each. */
  completed: number;
  completions: number;
  /** Sample with the reference sampler (one forward pass per sub-pixel) instead of the incremental one. */
  sequential?: boolean;
  /** Progress label of the sampling (none when absent). */
  label?: string;
}

/** Writes `<prefix>-samples.png`, `<prefix>-completions.png` and (RGB) `<prefix>-softmax.png`; returns the paths. */
export async function writeFigures(
  model: PixelModel,
  testSet: ImageSet,
  prefix: string,
  counts: FigureCounts,
  seed: number,
): Promise<string[]> {
  const label = counts.label && `${counts.label} samples`;
  const samples = await drawShowing(
    model,
    counts.samples,
    { seed, stream: 1, sequential: counts.sequential },
    label,
  );
  const paths = [`${prefix}-samples.png`, `${prefix}-completions.png`];
  await writeFileAtomic(paths[0], samplesPng(model, samples));
  await writeFileAtomic(
    paths[1],
    await completionsPng(model, testSet, counts.completed, counts.completions, seed, {
      sequential: counts.sequential,
      label: counts.label && `${counts.label} completions`,
    }),
  );
  if (model.config.output !== "binary") {
    paths.push(`${prefix}-softmax.png`);
    await writeFileAtomic(paths.at(-1)!, await softmaxPanels(model, testSet));
  }
  return paths;
}

/** Fig. 7: a grid of the model's images (u8, NHWC), upscaled as figures are (figureScale). */
export function samplesPng(model: PixelModel, images: Uint8Array): Uint8Array {
  const c = model.config, count = images.length / (c.height * c.width * c.channels);
  return imageGrid(images, count, c.height, c.width, c.channels, {
    binary: c.output === "binary",
    scale: figureScale(c.height),
  });
}

/**
 * Fig. 1: keeps the top half of `n` test images, spread over the set (binarized MNIST's test file is
 * sorted by digit), and samples the rest `k` times each; one row per image, occluded | completions |
 * original.
 */
export async function completionsPng(
  model: PixelModel,
  testSet: ImageSet,
  n: number,
  k: number,
  seed: number,
  o: { sequential?: boolean; label?: string } = {},
): Promise<Uint8Array> {
  const c = model.config;
  const per = c.height * c.width * c.channels;
  const keepRows = Math.floor(c.height / 2);
  const picked = Array.from({ length: n }, (_, i) => {
    const at = Math.floor((i * testSet.count) / n) * per;
    return testSet.pixels.subarray(at, at + per);
  });
  const prefix = new Uint8Array(n * k * per);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) prefix.set(picked[i], (i * k + j) * per);
  const done = await drawShowing(model, n * k, {
    seed,
    stream: 2,
    prefix,
    keepRows,
    sequential: o.sequential,
  }, o.label);
  const rows = picked.map((image, i) => ({
    occluded: image,
    completions: Array.from({ length: k }, (_, j) => done.subarray((i * k + j) * per, (i * k + j + 1) * per)),
    original: image,
  }));
  return completionFigure(rows, c.height, c.width, c.channels, {
    keepRows,
    binary: c.output === "binary",
    scale: figureScale(c.height),
  });
}

/** Fig. 6: the first pixel's red value, and the three colours of a pixel in the middle of a test image. */
export async function softmaxPanels(model: PixelModel, testSet: ImageSet): Promise<Uint8Array> {
  const c = model.config;
  const per = c.height * c.width * c.channels;
  const mg = model.buildGraph(1, false, "softmax figure");
  const image = testSet.pixels.subarray(0, per);
  const { scale, shift } = model.scaling;
  mg.input.write(Float32Array.from(image, (v) => v * scale + shift));
  mg.targets.write(Uint32Array.from(image));
  mg.graph.run(mg.graph.forward);
  const logits = await mg.logits.read();
  mg.graph.destroy();
  const mid = (Math.floor(c.height / 2) * c.width + Math.floor(c.width / 2)) * c.channels;
  const picks: [number, "r" | "g" | "b"][] = [[0, "r"], [mid, "r"], [mid + 1, "g"], [mid + 2, "b"]];
  const panels = picks.map(([s, color]) => {
    const l = logits.subarray(s * 256, s * 256 + 256);
    const m = Math.max(...l);
    const e = Float64Array.from(l, (v) => Math.exp(v - m));
    const z = e.reduce((a, b) => a + b, 0);
    return { probs: e.map((v) => v / z), color, marker: image[s] };
  });
  return histogramFigure(panels, { cols: 2 });
}
