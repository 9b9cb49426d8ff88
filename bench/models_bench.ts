/**
 * Whole-model figures: training-step and evaluation images/s of every paper preset at its batch size,
 * the TensorFlow.js peer's PixelCNN-like step (target: at least 60% of the best matmul's GFLOP/s, the
 * matmul short sweep running in this file). Sampling speed is in sampling_bench.ts.
 *
 * Each preset runs at the configuration of bench_presets.ts (reduced width or skipped on a software
 * adapter).
 *
 *   deno bench -A bench/models_bench.ts
 */
import { openGpu } from "../src/engine/device.ts";
import { PixelModel } from "../src/models/model.ts";
import { PRESETS } from "../src/models/presets.ts";
import { benchConfig } from "./bench_presets.ts";
import { matmulCandidates, MatmulSweep } from "./matmul_figures.ts";
import { PEER, peerFlops, peerStep } from "./peer.ts";
import { pct, Report } from "./report.ts";
import { evalStep, trainStep } from "./steps.ts";
import { dispatchCount, encodeMs, flopsPerImage } from "../src/models/cost.ts";
import type { Dispatch } from "../src/engine/graph.ts";
import { type KernelPolicy, withPolicy } from "../src/engine/policy.ts";
import { PassTimer, Series } from "./timing.ts";

const PEER_TARGET = 0.6;
/** The peer's medians on lavapipe, timed earlier by the team with TensorFlow.js 4.22 (not measured by this run). */
const PEER_QUOTED = [
  { what: "TF.js webgpu with a hand-written im2col + matmul filter gradient, Vulkan", seconds: 4.5 },
  { what: "TF.js webgpu stock, Vulkan, idle machine", seconds: 16.8 },
];
const gpu = await openGpu();
const timer = new PassTimer(gpu);
const report = new Report("models", gpu);
const notes: string[] = [];

const sweep = new MatmulSweep(report, timer, matmulCandidates(gpu, true));
report.yardstick = () => sweep.yardstick();

for (const p of PRESETS) {
  const run = benchConfig(gpu, p);
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
    // On a software adapter the training step is timed again with every weight read from storage (the
    // form before small weights moved to uniform buffers) and with every map read from storage (before
    // texture mirrors; src/engine/tiles.ts).
    const variants: { suffix: string; policy: Partial<KernelPolicy> }[] = [{ suffix: "", policy: {} }];
    if (kind === "train" && gpu.policy.profile === "software") {
      variants.push(
        { suffix: ", weights in storage", policy: { weights: "storage" } },
        { suffix: ", maps in storage", policy: { reads: "storage" } },
      );
    }
    for (const { suffix, policy } of variants) {
      let step: Dispatch[][] | null = null;
      report.bench(
        {
          name: `${kind} ${run.label}${suffix}`,
          shape,
          images: p.batch,
          flops: perImage * p.batch,
          n: 1,
          note: "dense FLOPs",
          cost: () => ({ dispatches: dispatchCount(step!), encodeMs: encodeMs(gpu, step!) }),
        },
        () => new Series(timer, step = withPolicy(gpu, policy, () => lists(get(), p.batch))),
      );
    }
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
  return lines;
});
