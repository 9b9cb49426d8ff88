/** `deno task info`: which adapter runs the kernels, its features and limits, and the presets' sizes. */
import { adapterLine } from "../../engine/device.ts";
import { declareParams, paramCounts } from "../../models/model.ts";
import { PRESETS } from "../../models/presets.ts";
import { device, parseCli, runMain, textTable } from "./common.ts";

const HELP = `usage: deno task info [--presets]

Prints the WebGPU adapter (a real GPU when present, else the software adapter), whether it is a
fallback, its features and the limits that matter; with --presets, every paper preset's parameter
counts per layer.`;

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
