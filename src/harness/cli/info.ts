/**
 * `deno task info`: which adapter runs the kernels, its features and limits, and the presets' sizes
 * and step costs.
 */
import { adapterLine, type Gpu } from "../../engine/device.ts";
import { declareParams, largestBatch, paramCounts, PixelModel } from "../../models/model.ts";
import { type Preset, PRESETS } from "../../models/presets.ts";
import {
  copyCount,
  dispatchCount,
  encodeMs,
  evalLists,
  flopsPerImage,
  trainLists,
} from "../../models/cost.ts";
import { Evaluator } from "../../models/evaluator.ts";
import type { Dispatch } from "../../engine/graph.ts";
import { Trainer } from "../../models/trainer.ts";
import { uploadDataset } from "../../engine/ops/gather.ts";
import { device, parseCli, runMain, textTable } from "./common.ts";

const HELP = `usage: deno task info [--presets]

Prints the WebGPU adapter (a real GPU when present, else the software adapter), whether it is a
fallback, its features and the limits that matter; with --presets, every paper preset's parameter
counts per layer and, at its paper batch, the dense GFLOP of a training step, the dispatches of a
training step and of an evaluation batch (and their texture copies, made on a software adapter), and
the host time to encode a training step.`;

/**
 * A preset's step costs at its paper batch (or the largest batch whose tensors fit this adapter's
 * binding limit, named as such): the graphs are built, not run.
 */
function stepCost(gpu: Gpu, p: Preset): string {
  const batch = largestBatch(p.config, gpu.limits.maxStorageBufferBindingSize, p.batch);
  const model = PixelModel.create(gpu, p.config, 1);
  const trainer = new Trainer(model, { batch, optimizer: { kind: "rmsprop", lr: 1e-3 } });
  const evaluator = new Evaluator(model, batch);
  // The lists need a dataset to gather from: blank images, one per batch slot.
  const bytes = p.config.height * p.config.width * p.config.channels;
  const data = uploadDataset(gpu, new Uint8Array(batch * bytes), bytes, "info dataset");
  try {
    trainer.feeder.use(data);
    evaluator.use(data);
    const train = trainLists(trainer), ev = evalLists(evaluator);
    const gflop = (flopsPerImage(p.config).train * batch) / 1e9;
    const at = batch === p.batch
      ? `batch ${batch}`
      : `batch ${batch} (the paper's ${p.batch} exceeds this adapter's binding limit)`;
    const copies = (lists: Dispatch[][]) => {
      const n = copyCount(lists);
      return n ? ` + ${n} texture copies` : "";
    };
    const steps = `${dispatchCount(train)} dispatches${copies(train)}`;
    const evals = `evaluation batch ${dispatchCount(ev)}${copies(ev)}`;
    return `  step at ${at}: ${gflop.toFixed(2)} dense GFLOP, ${steps} (${evals}), host encode ` +
      `${encodeMs(gpu, train).toFixed(2)} ms`;
  } finally {
    trainer.destroy();
    evaluator.destroy();
    model.destroy();
    data.buffer.destroy();
  }
}

async function main(): Promise<number> {
  const { values: a } = parseCli({
    args: Deno.args,
    options: { presets: { type: "boolean" }, help: { type: "boolean" } },
  });
  if (a.help) {
    console.log(HELP);
    return 0;
  }
  const gpu = await device();
  const s = gpu.summary;
  console.log(`adapter:   ${adapterLine(s)}`);
  console.log(`vendor:    ${s.vendor || "-"}  architecture: ${s.architecture || "-"}`);
  console.log(`fallback:  ${s.fallback ? "yes (software adapter: tests and quick tiers only)" : "no"}`);
  console.log(`features:  ${s.features.join(", ") || "-"}`);
  console.log("limits:");
  console.log(textTable(Object.entries(s.limits).map(([k, v]) => [`  ${k}`, String(v)])));
  if (a.presets) {
    for (const p of PRESETS) {
      const rows = paramCounts(declareParams(p.config));
      const total = rows.reduce((n, r) => n + r.total, 0),
        trainable = rows.reduce((n, r) => n + r.trainable, 0);
      console.log(`\n${p.name} (batch ${p.batch}): ${total} weights, ${trainable} trainable. ${p.note}`);
      console.log(stepCost(gpu, p));
      console.log(
        textTable([
          ["  layer", "weights", "trainable"],
          ...rows.map((r) => [`  ${r.layer}`, String(r.total), String(r.trainable)]),
        ]),
      );
    }
  }
  gpu.destroy();
  return 0;
}

if (import.meta.main) await runMain("info", main);
