/**
 * The benchmark section: per adapter and run, each kernel's GFLOP/s as a fraction of the best plain
 * matmul of the same run (the machine's speed drifts, so only ratios within a run compare), and the
 * images/s of each model on every adapter.
 */
import type { BenchRow } from "./bench_file.ts";
import { imagesPerSecondSpec, ratioSpec, renderSvg } from "./charts.ts";
import { count, esc } from "./html.ts";
import type { BenchFile } from "./inputs.ts";

function numbers(rows: BenchRow[]): string {
  const fixed = (v: number | null, d: number) => (v === null ? "" : v.toFixed(d));
  const body = rows.map((r) =>
    `<tr><td>${esc(r.bench)}</td><td>${esc(r.shape)}</td><td class="num">${fixed(r.median_ms, 3)}</td>` +
    `<td class="num">${fixed(r.gflops, 2)}</td><td class="num">${fixed(r.images_per_s, 1)}</td>` +
    `<td class="num">${
      r.ratio_to_best_matmul === null ? "" : `${(100 * r.ratio_to_best_matmul).toFixed(0)}%`
    }` +
    `</td></tr>`
  );
  return `<details><summary>All ${count(rows.length)} figures</summary><table class="bench"><thead><tr>` +
    "<th>bench</th><th>shape</th><th>median ms</th><th>GFLOP/s</th><th>images/s</th><th>vs best matmul</th>" +
    `</tr></thead><tbody>${body.join("")}</tbody></table></details>`;
}

async function benchFile({ file, rows }: BenchFile): Promise<string> {
  const adapters = [...new Set(rows.map((r) => r.adapter))];
  const charts: string[] = [];
  for (const run of [...new Set(rows.map((r) => r.run))]) {
    const of = rows.filter((r) => r.run === run);
    if (!of.some((r) => r.ratio_to_best_matmul !== null)) continue;
    const when = [...new Set(of.map((r) => `${r.git_commit}, ${r.date.slice(0, 10)}`))].join("; ");
    charts.push(`<figure class="chart">${await renderSvg(ratioSpec(`${run} run (${when})`, of))}</figure>`);
  }
  return `<h3>${esc(adapters.join("; ") || file)}</h3><p class="note">From ${esc(file)}.</p>` +
    `<div class="charts">${charts.join("")}</div>${numbers(rows)}`;
}

/** The HTML of the benchmark section, or "" without benchmark files. */
export async function benchSection(files: BenchFile[], id: string): Promise<string> {
  if (!files.length) return "";
  const parts = [];
  for (const f of files) parts.push(await benchFile(f));
  const all = files.flatMap((f) => f.rows);
  const images = all.some((r) => r.images_per_s !== null)
    ? `<h3>Images per second</h3><div class="charts"><figure class="chart">` +
      `${await renderSvg(imagesPerSecondSpec(all))}</figure></div>`
    : "";
  return `<section id="${esc(id)}"><h2>Benchmarks</h2><p class="note">From <code>deno bench</code>. ` +
    "Kernel speed is shown as GFLOP/s over the best plain matmul timed in the same run (100%, dashed): " +
    "absolute figures drift with the machine's load, ratios within a run much less.</p>" +
    parts.join("") + images + "</section>";
}
