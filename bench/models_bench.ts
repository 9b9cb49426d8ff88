/**
 * Whole-model figures: training-step and evaluation images/s of every paper preset at its batch size,
 * the TensorFlow.js peer's PixelCNN-like step (target: at least 60% of the best matmul's GFLOP/s, the
 * matmul short sweep running in this file), and the sequential sampler's pixels/s.
 *
 * On a software adapter the MNIST presets run as they are, the CIFAR-10 presets at reduced width (named
 * so in each row) and the ImageNet presets not at all; on a real GPU every preset runs as it is.
 *
 *   deno bench -A bench/models_bench.ts
 */
import { openGpu } from "../src/engine/device.ts";
import type { ModelConfig } from "../src/models/config.ts";
import { PixelModel } from "../src/models/model.ts";
import { type Preset, presetByName, PRESETS } from "../src/models/presets.ts";
import { Sampler } from "../src/models/sampler.ts";
import { matmulCandidates, MatmulSweep } from "./matmul_figures.ts";
import { PEER, peerFlops, peerStep } from "./peer.ts";
import { pct, Report } from "./report.ts";
import { evalStep, trainStep } from "./steps.ts";
import { dispatchCount, encodeMs, flopsPerImage } from "../src/models/cost.ts";
import type { Dispatch } from "../src/engine/graph.ts";
import { PassTimer, Series, TaskSeries } from "./timing.ts";

const PEER_TARGET = 0.6;
/** The peer's medians on lavapipe, timed earlier by the team with TensorFlow.js 4.22 (not measured by this run). */
const PEER_QUOTED = [
  { what: "TF.js webgpu with a hand-written im2col + matmul filter gradient, Vulkan", seconds: 4.5 },
  { what: "TF.js webgpu stock, Vulkan, idle machine", seconds: 16.8 },
];
/** Width of the CIFAR-10 presets on a software adapter. */
const REDUCED = { h: 16, outputMaps: 64 };

const gpu = await openGpu();
const timer = new PassTimer(gpu);
const report = new Report("models", gpu);
const notes: string[] = [];

const sweep = new MatmulSweep(report, timer, matmulCandidates(gpu, true));
report.yardstick = () => sweep.yardstick();

/** The configuration a preset runs at on this adapter, its row label, or null to skip it. */
function runnable(p: Preset): { config: ModelConfig; label: string } | null {
  if (!gpu.isFallback) return { config: p.config, label: p.name };
  if (p.dataset === "binarized-mnist") return { config: p.config, label: p.name };
  if (p.dataset === "cifar10") {
    return {
      config: { ...p.config, ...REDUCED },
      label: `${p.name} (reduced width h=${REDUCED.h}, outputMaps ${REDUCED.outputMaps})`,
    };
  }
  return null;
}

for (const p of PRESETS) {
  const run = runnable(p);
  if (!run) {
    notes.push(`${p.name}: skipped on the software adapter (batch ${p.batch}, h = ${p.config.h}: too big).`);
    continue;
  }
  let model: PixelModel | null = null;
  const get = () => (model ??= PixelModel.create(gpu, run.config, 1));
  const c = run.config;
  const shape = `B${p.batch} ${c.height}x${c.width}x${c.channels} L${c.layers} h=${c.h}`;
  const flops = flopsPerImage(c);
  // A step of the 7-layer MNIST Diagonal BiLSTM takes seconds here: one sample per Deno.bench call.
  for (
    const [kind, lists, perImage] of [["train", trainStep, flops.train], [
      "eval",
      evalStep,
      flops.forward,
    ]] as const
  ) {
    let step: Dispatch[][] | null = null;
    report.bench({
      name: `${kind} ${run.label}`,
      shape,
      images: p.batch,
      flops: perImage * p.batch,
      n: 1,
      note: "dense FLOPs",
      cost: () => ({ dispatches: dispatchCount(step!), encodeMs: encodeMs(gpu, step!) }),
    }, () => new Series(timer, step = lists(get(), p.batch)));
  }
}

const flops = peerFlops();
report.bench({
  name: "peer PixelCNN-like step (RMSProp)",
  shape: `B${PEER.batch} ${PEER.size}x${PEER.size}x1 7x7->${PEER.width}, 5x 3x3, 1x1`,
  flops: flops.dense,
  images: PEER.batch,
  target: PEER_TARGET,
  note: `${(flops.dense / 1e9).toFixed(2)} GFLOP counted (dense fwd x3)`,
}, () => new Series(timer, peerStep(gpu)));

/** Sampling generates the last rows of each image only: every sub-pixel costs one full forward pass. */
const SAMPLE = { preset: "mnist-pixelcnn", layers: 2, batch: 16, rows: 2 };
const sampledPixels = SAMPLE.batch * SAMPLE.rows * 28;
report.bench({
  name: `sample ${SAMPLE.preset} (${SAMPLE.layers} layers), last ${SAMPLE.rows} rows`,
  shape: `B${SAMPLE.batch} ${SAMPLE.rows}x28 generated`,
  images: SAMPLE.batch * SAMPLE.rows / 28,
  n: 1,
  note: "images/s of whole 28x28 images",
}, () => {
  const p = presetByName(SAMPLE.preset);
  const sampler = new Sampler(
    PixelModel.create(gpu, { ...p.config, layers: SAMPLE.layers }, 1),
    SAMPLE.batch,
  );
  const prefix = new Uint8Array(SAMPLE.batch * 28 * 28);
  return new TaskSeries(async () => {
    await sampler.sample({ seed: 1, prefix, keepRows: 28 - SAMPLE.rows });
  });
});

sweep.recheck();

report.summary(() => {
  const lines = ["", ...notes, ...sweep.driftLines()];
  const rows = report.rows();
  const peer = rows.find((r) => r.bench.startsWith("peer "));
  if (peer) {
    const seconds = peer.medianMs / 1e3, gflop = (x: number) => (x / 1e9).toFixed(2);
    const alongside = peer.pairedRatio === null
      ? ""
      : `, ${pct(peer.pairedRatio)} of the yardstick alongside`;
    lines.push(
      `Peer step: ${seconds.toFixed(3)} s median, ${
        peer.gflops!.toFixed(2)
      } GFLOP/s on the peer's dense count ` +
        `of ${gflop(flops.dense)} GFLOP (the kernels execute ${
          gflop(flops.executed)
        }: no dX for the image); ` +
        `${pct(peer.ratio!)} of the best matmul${alongside}: ${peer.verdict}.`,
    );
    for (const q of PEER_QUOTED) {
      lines.push(
        `  peer, TensorFlow.js 4.22 timed earlier on lavapipe by the team, not in this run: ${q.what}: ~${q.seconds} s ` +
          `(ours ${(q.seconds / seconds).toFixed(1)}x faster)`,
      );
    }
  }
  const sample = rows.find((r) => r.bench.startsWith("sample "));
  if (sample) {
    const seconds = sample.medianMs / 1e3;
    lines.push(
      `Sampling: ${(sampledPixels / seconds).toFixed(0)} pixels/s (${sampledPixels} pixels in ` +
        `${seconds.toFixed(2)} s; one forward pass per sub-pixel).`,
    );
  }
  return lines;
});
