/**
 * The report page: one self-contained HTML file (styles inline, charts as inline SVG, figures as data
 * URIs, no script, nothing fetched). Its content depends only on the inputs, so rebuilding from the same
 * results gives the same bytes.
 */
import { benchSection } from "./bench_section.ts";
import { esc, figureHtml } from "./html.ts";
import type { ReportInputs } from "./inputs.ts";
import { tableSection } from "./table_section.ts";

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; color: #1f2328; margin: 0 auto; padding: 1.5em 2em 4em;
  max-width: 1280px; background: #fff; }
h1 { font-size: 1.6em; margin: 0 0 .2em; }
h2 { font-size: 1.3em; margin: 2em 0 .4em; padding-top: .6em; border-top: 2px solid #d0d7de; }
h3 { font-size: 1.05em; margin: 1.4em 0 .4em; }
.tier { font-size: .7em; font-weight: normal; background: #eaeef2; border-radius: 4px; padding: .1em .5em;
  vertical-align: middle; }
.note { color: #57606a; margin: .3em 0; }
table { border-collapse: collapse; margin: .6em 0; }
caption { text-align: left; color: #57606a; padding-bottom: .3em; }
th, td { padding: .25em .6em; border-bottom: 1px solid #d8dee4; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
tr.reference td { color: #57606a; }
.status { display: inline-block; border-radius: 4px; padding: 0 .5em; white-space: nowrap; font-weight: 600;
  background: #eaeef2; color: #1f2328; }
.status-pass { background: #1a7f37; color: #fff; }
.status-fail { background: #cf222e; color: #fff; }
.status-not-comparable { background: #d8dee4; color: #24292f; }
.status-reference { background: #ddf4ff; color: #0a3069; font-weight: normal; }
.status-missing { background: #bf8700; color: #fff; }
.subset { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 4px; padding: 0 .4em; }
dl.provenance { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; margin: .8em 0; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
.rows { color: #57606a; }
code { font: 12px ui-monospace, monospace; }
.charts, .figures { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
figure { margin: 0; }
figure.image img { image-rendering: pixelated; border: 1px solid #d0d7de; max-width: 100%; height: auto; }
figcaption { color: #57606a; font-size: .9em; }
.file { font: 11px ui-monospace, monospace; }
.problems { border: 2px solid #cf222e; border-radius: 6px; padding: .2em 1em; background: #fff5f5; }
.problems h2 { border: 0; margin-top: .4em; padding: 0; color: #cf222e; }
nav ul { margin: .3em 0; }
details { margin: .6em 0; }
`;

/** The whole page. */
export async function renderPage(inputs: ReportInputs): Promise<string> {
  const ids = inputs.tables.map((s) => `table-${s.table}-${s.tier}`);
  const sections: string[] = [];
  for (const [i, s] of inputs.tables.entries()) sections.push(await tableSection(s, ids[i]));
  const bench = await benchSection(inputs.bench, "benchmarks");
  const contents = inputs.tables.map((s, i) =>
    `<li><a href="#${ids[i]}">${esc(s.title)} — ${esc(s.tier)} tier</a></li>`
  );
  if (bench) contents.push(`<li><a href="#benchmarks">Benchmarks</a></li>`);
  const problems = inputs.problems.length
    ? `<section class="problems" id="problems"><h2>Problems reading the inputs</h2><p>These lines or files ` +
      `were left out; everything else is shown.</p><ul>${
        inputs.problems.map((p) => `<li><code>${esc(p)}</code></li>`).join("")
      }</ul></section>`
    : "";
  const other = inputs.otherFigures.length
    ? `<section id="other-figures"><h2>Other figures</h2><div class="figures">${
      inputs.otherFigures.map(figureHtml).join("")
    }</div></section>`
    : "";
  const empty = inputs.tables.length || bench ? "" : `<p class="note">No results in this folder yet.</p>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PixelRNN reproduction report</title>
<style>${STYLE}</style></head>
<body>
<header><h1>PixelRNN reproduction report</h1>
<p class="note">Reproduction of van den Oord, Kalchbrenner and Kavukcuoglu, “Pixel Recurrent Neural Networks”
(ICML 2016) on WebGPU: for each paper table and tier, the paper's values next to ours with each row's status,
how the rows were made, the learning curves and the figures; then the benchmarks. Built by
<code>deno task report</code> from the files in this folder.</p>
<nav><ul>${contents.join("")}</ul></nav></header>
${problems}${empty}${sections.join("\n")}
${other}${bench}
</body></html>
`;
}
