/**
 * The report: curve and results files read line by line (a bad line is named and left out, the rest is
 * shown), the page's content, and the browser check (where Chromium is installed).
 */
import assert from "node:assert/strict";
import { PNG } from "pngjs";
import { CSV_COLUMNS } from "../bench/report.ts";
import { formatResultsCsv, type ResultRow } from "../src/harness/csv.ts";
import { BENCH_COLUMNS, readBenchText } from "../src/harness/report/bench_file.ts";
import { writeReport } from "../src/harness/report/build.ts";
import { curveSpec, renderSvg } from "../src/harness/report/charts.ts";
import { parseRunCurve, parseTableCurves, TABLE_CURVE_COLUMNS } from "../src/harness/report/curves.ts";
import { checkPage } from "../scripts/report/check.ts";

const ADAPTER = "Test GPU (vulkan)";

function result(over: Partial<ResultRow>): ResultRow {
  return {
    table: "mnist",
    row: "PixelCNN",
    model: "pixelcnn 15x16",
    dataset: "binarized-mnist test [amat]",
    dataset_fingerprint: "train:aaaa eval:bbbb",
    tier: "paper",
    metric: "nll-test",
    unit: "nats",
    paper: 81.3,
    ours: 81.9,
    tolerance: 1,
    status: "pass",
    steps: 200000,
    images_seen: 3200000,
    wall_s: 7325,
    adapter: ADAPTER,
    git_commit: "abc1234",
    config: "{}",
    ...over,
  };
}

const REFERENCE = result({
  row: "DRAW",
  model: "Gregor et al. 2015",
  dataset: "binarized-mnist",
  dataset_fingerprint: "",
  paper: 80.97,
  ours: null,
  tolerance: null,
  status: "reference",
  steps: null,
  images_seen: null,
  wall_s: null,
  config: '{"qualifier":"≤"}',
});

/** Table 4 in the paper tier: a baseline, a passing and a failing row. */
const MNIST = [
  REFERENCE,
  result({}),
  result({ row: "Row LSTM", model: "row-lstm 7x16", paper: 80.54, ours: 83.1, status: "fail" }),
];

/** Table 5 in the quick tier on a CIFAR-10 subset. */
const CIFAR = [
  result({
    table: "cifar10",
    row: "PixelCNN",
    tier: "quick",
    unit: "bits/dim",
    dataset: "cifar10 test (subset: 1000 images) [binary]",
    paper: 3.14,
    ours: 4.2,
    tolerance: null,
    status: "not-comparable",
    config: '{"band":[0,6]}',
  }),
];

/** Curve lines "row,step,images_seen,wall_s,train_loss,lr,valid_nll" for rows of Table 4. */
function curveText(rows: string[], steps = 4): string {
  const lines = [TABLE_CURVE_COLUMNS.join(",")];
  for (const row of rows) {
    for (let s = 1; s <= steps; s++) {
      lines.push(
        `${row},${s * 100},${s * 1600},${s * 5.5},${200 - 20 * s},0.001,${s % 2 ? "" : 190 - 20 * s}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

function png(width: number, height: number): Uint8Array {
  const p = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) p.data.set(i % 3 ? [0, 0, 0, 255] : [255, 255, 255, 255], i * 4);
  return new Uint8Array(PNG.sync.write(p));
}

const BENCH = [
  CSV_COLUMNS.join(","),
  `kernels/matmul best,M1 N1 K1,10,30,,1.0000,,,${ADAPTER},abc1234,2026-01-01T00:00:00Z`,
  `kernels/conv 3x3 fwd,B16,12,24,,0.8000,,,${ADAPTER},abc1234,2026-01-01T00:00:00Z`,
  `models/train mnist-pixelcnn,B16,400,,40.5,,103,0.330,${ADAPTER},abc1234,2026-01-01T00:00:00Z`,
].join("\n") + "\n";

/** A results folder with Table 4 (paper tier, curves, figures), Table 5 (quick) and a benchmark file. */
async function folder(files: Record<string, string | Uint8Array> = {}): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "report-" });
  const all: Record<string, string | Uint8Array> = {
    "mnist.csv": formatResultsCsv(MNIST),
    "cifar10.csv": formatResultsCsv(CIFAR),
    "mnist-paper-curves.csv": curveText(["pixelcnn", "row-lstm"]),
    "cifar10-quick-curves.csv": curveText(["pixelcnn"]),
    "mnist-paper-samples.png": png(8, 6),
    "bench-test-vulkan.csv": BENCH,
    ...files,
  };
  for (const [name, data] of Object.entries(all)) {
    if (typeof data === "string") await Deno.writeTextFile(`${dir}/${name}`, data);
    else await Deno.writeFile(`${dir}/${name}`, data);
  }
  return dir;
}

/** Builds the report of `dir`; returns the page and its problems. */
async function build(dir: string): Promise<{ html: string; problems: string[] }> {
  const { path, problems } = await writeReport(dir);
  return { html: await Deno.readTextFile(path), problems };
}

/** The HTML of the section of one table and tier. */
function section(html: string, id: string): string {
  const at = html.indexOf(`<section id="${id}">`);
  assert.ok(at >= 0, `no section ${id}`);
  return html.slice(at, html.indexOf("</section>", at));
}

/** Charts in some HTML, and how many of them have data marks. */
function charts(html: string): { total: number; withMarks: number } {
  const figures = html.split('<figure class="chart">').slice(1);
  return {
    total: figures.length,
    withMarks:
      figures.filter((f) => /class="mark-[a-z]+ role-mark[^"]*"[^>]*><(path|line|rect)/.test(f)).length,
  };
}

Deno.test("curve files: a run's and a table's lines read back, valid_nll empty where no validation ran", () => {
  const run = parseRunCurve(
    "step,images_seen,wall_s,train_loss,lr,valid_nll\n100,1600,5.5,180.25,0.001,\n200,3200,11,160,0.001,150.5\n",
    "runs/x.curve.csv",
  );
  assert.deepEqual(run.problems, []);
  assert.deepEqual(run.points, [
    { step: 100, images_seen: 1600, wall_s: 5.5, train_loss: 180.25, lr: 0.001, valid_nll: null },
    { step: 200, images_seen: 3200, wall_s: 11, train_loss: 160, lr: 0.001, valid_nll: 150.5 },
  ]);
  const table = parseTableCurves(curveText(["pixelcnn", "row-lstm"], 2), "mnist-paper-curves.csv");
  assert.deepEqual(table.problems, []);
  assert.deepEqual(table.points.map((p) => `${p.row}@${p.step}`), [
    "pixelcnn@100",
    "pixelcnn@200",
    "row-lstm@100",
    "row-lstm@200",
  ]);
});

Deno.test("curve files: a wrong header, a bad number, a step going back: one problem each, file and line", () => {
  const header = parseTableCurves("row,step,loss\npixelcnn,1,2\n", "c.csv");
  assert.deepEqual(header.points, []);
  assert.match(header.problems[0], /^c\.csv: line 1: bad header "row,step,loss", expected "row,step,/);
  const lines = curveText(["pixelcnn"]).split("\n");
  lines[2] = lines[2].replace(",0.001,", ",fast,");
  lines[4] = lines[1];
  const bad = parseTableCurves(lines.join("\n"), "c.csv");
  assert.deepEqual(bad.problems, [
    'c.csv: line 3: lr "fast" is not a number; left out',
    "c.csv: line 5: step 100 does not follow step 300; left out",
  ]);
  assert.deepEqual(bad.points.map((p) => p.step), [100, 300]);
});

Deno.test("curve file cut mid-line: the line is named and left out, the report shows the rest", async () => {
  const text = curveText(["pixelcnn", "row-lstm"]);
  const cut = text.slice(0, text.length - 9);
  const parsed = parseTableCurves(cut, "mnist-paper-curves.csv");
  assert.deepEqual(parsed.problems, [
    "mnist-paper-curves.csv: line 9: cut off mid-line (no line end); left out",
  ]);
  assert.equal(parsed.points.length, 7);

  const { html, problems } = await build(await folder({ "mnist-paper-curves.csv": cut }));
  assert.deepEqual(problems, parsed.problems);
  assert.match(html, /mnist-paper-curves\.csv: line 9: cut off mid-line/);
  const mnist = section(html, "table-mnist-paper");
  assert.deepEqual(charts(mnist), { total: 2, withMarks: 2 });
  assert.match(mnist, /✓ pass/);
  assert.deepEqual(charts(section(html, "table-cifar10-quick")), { total: 1, withMarks: 1 });
});

/** `mnist.csv` with one line changed; returns the report's problems and its Table 4 section. */
async function withBadLine(change: (line: string) => string, line = 3) {
  const lines = formatResultsCsv(MNIST).split("\n");
  lines[line - 1] = change(lines[line - 1]);
  const { html, problems } = await build(await folder({ "mnist.csv": lines.join("\n") }));
  return { html, problems };
}

Deno.test("results file with a wrong header: named with its line, the other tables still shown", async () => {
  const { html, problems } = await withBadLine((l) => l.replace("dataset_fingerprint", "fingerprint"), 1);
  assert.deepEqual(problems, [
    'mnist.csv: line 1: bad header: column 5 is "fingerprint", expected "dataset_fingerprint"',
  ]);
  assert.match(html, /<code>mnist\.csv: line 1: bad header/);
  assert.match(section(html, "table-cifar10-quick"), /○ not comparable/);
  // Table 4's curves and figures still have their section, without results rows; the paper's value
  // comes from the table's definition.
  const mnist = section(html, "table-mnist-paper");
  assert.match(mnist, /No results rows/);
  assert.deepEqual(charts(mnist), { total: 2, withMarks: 2 });
  assert.match(mnist, /PixelCNN \(no result row\)/);
  assert.match(mnist, /paper 81\.3</);
  assert.match(html, /data:image\/png;base64,/);
});

Deno.test("results file with an unknown status: that line is named and left out, its other rows shown", async () => {
  const { html, problems } = await withBadLine((l) => l.replace(",pass,", ",passed,"));
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^mnist\.csv: line 3: status "passed" is not one of pass, fail, /);
  const mnist = section(html, "table-mnist-paper");
  assert.doesNotMatch(mnist, /✓ pass/);
  assert.match(mnist, /✗ fail/);
  assert.match(mnist, /DRAW/);
  assert.match(section(html, "table-cifar10-quick"), /cifar10/);
});

Deno.test("results file with a non-numeric value: that line is named and left out, its other rows shown", async () => {
  const { html, problems } = await withBadLine((l) => l.replace(",83.1,", ",83.1x,"), 4);
  assert.deepEqual(problems, ['mnist.csv: line 4: ours "83.1x" is not a number; left out']);
  const mnist = section(html, "table-mnist-paper");
  assert.match(mnist, /✓ pass/);
  assert.doesNotMatch(mnist, /✗ fail/);
});

Deno.test("report page: paper vs ours with status words, provenance, curves, figures, self-contained", async () => {
  const dir = await folder();
  const { html, problems } = await build(dir);
  assert.deepEqual(problems, []);
  assert.doesNotMatch(html, /id="problems"/, "a clean folder has no problems section");
  const mnist = section(html, "table-mnist-paper");
  assert.match(mnist, /Table 4: binarized MNIST/);
  for (
    const cell of [
      "≤ 80.97",
      ">81.3<",
      ">81.90<",
      ">+0.60<",
      ">80.54<",
      ">83.10<",
      "± 1",
      "200,000",
      "3,200,000",
    ]
  ) {
    assert.ok(mnist.includes(cell), `Table 4 lacks ${cell}`);
  }
  assert.match(mnist, /class="status status-pass">✓ pass</);
  assert.match(mnist, /class="status status-fail">✗ fail</);
  assert.match(mnist, /class="status status-reference">reference</);
  for (const fact of ["train:aaaa eval:bbbb", ADAPTER, "abc1234", "binarized-mnist test [amat]"]) {
    assert.ok(mnist.includes(fact), `Table 4 lacks ${fact}`);
  }
  // Curves: one chart per row, the paper's value drawn on each (paper tier).
  assert.deepEqual(charts(mnist), { total: 2, withMarks: 2 });
  assert.match(mnist, /paper 81\.3</);
  assert.match(mnist, /paper 80\.54</);
  assert.match(mnist, /<img src="data:image\/png;base64,[^"]+" width="16" height="12" alt="samples">/);
  // The quick tier: a subset is said so; its curve has no paper line (not comparable).
  const cifar = section(html, "table-cifar10-quick");
  assert.match(cifar, /subset: 1000 images\) \[binary\] <span class="subset">subset<\/span>/);
  assert.match(cifar, /band 0–6/);
  assert.deepEqual(charts(cifar), { total: 1, withMarks: 1 });
  assert.doesNotMatch(cifar, /paper 3\.14/);
  // Self-contained and deterministic.
  assert.doesNotMatch(html, /(src|href)="(?!data:|#)/);
  assert.doesNotMatch(html, /<script/);
  assert.equal((await build(dir)).html, html);
});

Deno.test("report page: benchmark ratios per run and images/s per model and adapter", async () => {
  const { html } = await build(await folder());
  const bench = section(html, "benchmarks");
  assert.match(bench, /kernels run \(abc1234, 2026-01-01\)/);
  assert.match(bench, /images\/s per model and adapter/);
  assert.deepEqual(charts(bench), { total: 2, withMarks: 2 });
  assert.match(bench, /<td>kernels\/conv 3x3 fwd<\/td><td>B16<\/td><td class="num">12\.000<\/td>/);
  assert.match(bench, />80%</);
  // The columns are those bench/report.ts writes, and a bad line is named.
  assert.deepEqual([...BENCH_COLUMNS], [...CSV_COLUMNS]);
  const bad = readBenchText(BENCH.replace(",12,24,", ",12,fast,"), "bench-x.csv");
  assert.deepEqual(bad.problems, ['bench-x.csv: line 3: gflops "fast" is not a number; left out']);
  assert.equal(bad.rows.length, 2);
});

const chromium = await Deno.stat("/usr/bin/chromium").then(() => true, () => false);

Deno.test({
  name: "browser check: passes the report; fails console errors, empty charts, broken images, blank pages",
  ignore: !chromium,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await folder();
    const { path } = await writeReport(dir);
    const good = await checkPage(path);
    assert.deepEqual(good.failures, []);
    assert.match(good.summary, /^5 charts, 1 images/);
    assert.ok((await Deno.stat(good.screenshot)).size > 10_000);

    const empty = await renderSvg(curveSpec({ title: "empty", points: [], unit: "nats" }));
    const pages: Record<string, [string, RegExp]> = {
      console: ["<p>text</p><script>console.error('boom')</script>", /^console error: boom$/],
      chart: [`<p>text</p><figure class="chart">${empty}</figure>`, /^a chart has no marks/],
      image: ['<p>text</p><img alt="bad" src="data:image/png;base64,AAAA">', /^an image did not load: bad$/],
      blank: ["", /^the page is blank$/],
      network: [
        '<p>text</p><img alt="far" src="http://example.invalid/x.png">',
        /requested http:\/\/example/,
      ],
    };
    for (const [name, [body, expected]] of Object.entries(pages)) {
      const page = `${dir}/${name}.html`;
      await Deno.writeTextFile(page, `<!DOCTYPE html><html><body>${body}</body></html>`);
      const { failures } = await checkPage(page, { screenshot: `${dir}/${name}.png` });
      assert.ok(failures.some((f) => expected.test(f)), `${name}: ${JSON.stringify(failures)}`);
    }
  },
});
