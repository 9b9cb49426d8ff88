/**
 * Sampling speed, side by side in one run: the incremental sampler (the default) and the sequential
 * reference (one whole forward pass per sub-pixel), in generated sub-pixels per second, batch 16, for
 * every MNIST preset (28x28 binary) and every CIFAR-10 preset (32x32 RGB, at its depth; reduced width on
 * a software adapter, see bench_presets.ts). Issue 9's targets: the incremental sampler at least 100x the
 * sequential one at 32x32 RGB and 20x at 28x28, on the software adapter.
 *
 * The incremental sampler generates whole images; the sequential one only each image's last row (every
 * row costs it the same: W * C whole forward passes), or the run would take hours. Where 16 images' resident
 * state exceeds the adapter's binding limit, the incremental sampler draws them in equal smaller batches.
 *
 * FLOPs per generated sub-pixel: the sequential sampler runs a whole forward pass per image; the
 * incremental one computes every layer once at each pixel, one colour group per sub-pixel
 * (src/models/incremental_ops.ts), so a pixel's sub-pixels together cost one pixel of the forward pass:
 * forward FLOPs / (H * W * C) per image.
 *
 *   deno bench -A bench/sampling_bench.ts
 */
import { openGpu } from "../src/engine/device.ts";
import { flopsPerImage } from "../src/models/cost.ts";
import { PixelModel } from "../src/models/model.ts";
import { PRESETS } from "../src/models/presets.ts";
import { createSampler, fittedSampler, type ImageSampler } from "../src/models/sampler.ts";
import { benchConfig } from "./bench_presets.ts";
import { Report } from "./report.ts";
import { TaskSeries } from "./timing.ts";

const BATCH = 16;
const TARGETS = { rgb: 100, binary: 20 };

const gpu = await openGpu();
const report = new Report("sampling", gpu);

interface Pair {
  label: string;
  rgb: boolean;
  /** Dense FLOPs per generated sub-pixel: incremental, sequential. */
  flops: { incremental: number; sequential: number };
  /** Sub-pixels one repetition generates, by sampler. */
  generated: { incremental: number; sequential: number };
  names: { incremental: string; sequential: string };
}
const pairs: Pair[] = [];

for (const p of PRESETS) {
  const run = benchConfig(gpu, p);
  if (!run || (p.dataset !== "binarized-mnist" && p.dataset !== "cifar10")) continue;
  const c = run.config;
  const perImage = c.height * c.width * c.channels;
  const forward = flopsPerImage(c).forward;
  let model: PixelModel | null = null;
  const get = () => (model ??= PixelModel.create(gpu, c, 1));
  const pair: Pair = {
    label: run.label,
    rgb: c.channels === 3,
    flops: { incremental: forward / perImage, sequential: forward },
    generated: { incremental: BATCH * perImage, sequential: BATCH * c.width * c.channels },
    names: { incremental: `incremental ${run.label}`, sequential: `sequential ${run.label}` },
  };
  pairs.push(pair);
  for (const kind of ["incremental", "sequential"] as const) {
    const keepRows = kind === "incremental" ? 0 : c.height - 1;
    const generated = pair.generated[kind];
    report.bench({
      name: pair.names[kind],
      shape: `B${BATCH} ${c.height}x${c.width}x${c.channels} L${c.layers} h=${c.h}, ${
        keepRows ? "last row" : "whole images"
      }`,
      images: generated / perImage,
      n: 1,
      note: `${generated} sub-pixels; images/s of whole images`,
    }, () => {
      const sampler = batchSampler(get(), kind === "sequential");
      const prefix = new Uint8Array(sampler.batch * perImage);
      const batches = BATCH / sampler.batch;
      // The sequential sampler compiles everything it runs when built: no warm-up run (minutes here).
      return new TaskSeries(async () => {
        for (let k = 0; k < batches; k++) await sampler.sample({ seed: 1, stream: k, prefix, keepRows });
      }, { warm: kind === "incremental" });
    });
  }
}

/**
 * A sampler for the BATCH images in equal batches: all at once, or (the incremental sampler's resident
 * state over the adapter's binding limit) the largest power of two that fits.
 */
function batchSampler(model: PixelModel, sequential: boolean): ImageSampler {
  const s = fittedSampler(model, BATCH, sequential);
  if (BATCH % s.batch === 0) return s;
  s.destroy();
  return createSampler(model, 2 ** Math.floor(Math.log2(s.batch)), sequential);
}

report.summary(() => {
  const rows = new Map(report.rows().map((r) => [r.bench, r]));
  const lines = [
    "Sub-pixels/s, side by side (FLOPs per generated sub-pixel: incremental = forward / (H W C) per",
    "image; sequential = a whole forward pass per image):",
    "",
  ];
  for (const p of pairs) {
    const inc = rows.get(p.names.incremental), seq = rows.get(p.names.sequential);
    const rate = (ms: number | undefined, n: number) => ms === undefined ? null : n / (ms / 1e3);
    const a = rate(inc?.medianMs, p.generated.incremental), b = rate(seq?.medianMs, p.generated.sequential);
    const target = p.rgb ? TARGETS.rgb : TARGETS.binary;
    const speedup = a !== null && b !== null ? a / b : null;
    const verdict = speedup === null
      ? ""
      : speedup >= target
      ? `target ${target}x met`
      : `target ${target}x MISSED`;
    lines.push(
      `${p.label}: incremental ${a?.toFixed(0) ?? "-"} sub-pixels/s, sequential ${b?.toFixed(1) ?? "-"}; ` +
        `${speedup === null ? "-" : `${speedup.toFixed(0)}x`} ${verdict}; ` +
        `FLOPs per sub-pixel ${fmt(p.flops.incremental)} vs ${fmt(p.flops.sequential)} ` +
        `(${(p.flops.sequential / p.flops.incremental).toFixed(0)}x fewer)`,
    );
  }
  return lines;
});

function fmt(flops: number): string {
  return flops >= 1e9 ? `${(flops / 1e9).toFixed(2)} GFLOP` : `${(flops / 1e6).toFixed(2)} MFLOP`;
}
