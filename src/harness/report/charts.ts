/**
 * The report's charts: Vega-Lite specifications compiled by vega-lite and rendered to SVG text by Vega
 * without a browser (renderer "none"), so the page needs no script to show them.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { BenchRow } from "./bench_file.ts";
import type { CurvePoint } from "./curves.ts";

const FONT = "system-ui, sans-serif";
const CONFIG = { font: FONT, view: { stroke: "#ccc" }, axis: { labelFontSize: 11, titleFontSize: 11 } };

/** Renders a Vega-Lite specification to a standalone SVG element (text). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile({ config: CONFIG, ...spec }).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface CurveChart {
  title: string;
  points: readonly CurvePoint[];
  /** The table's unit, e.g. "nats" or "bits/dim". */
  unit: string;
  /** The paper's value, drawn as a dashed reference line (comparable rows only). */
  paper?: number;
}

const TRAIN = "training loss";
const VALID = "validation NLL";

/** Training loss and validation NLL against the step, with the paper's value as a reference line. */
export function curveSpec({ title, points, unit, paper }: CurveChart): TopLevelSpec {
  const values = points.flatMap((p) => [
    { step: p.step, series: TRAIN, value: p.train_loss },
    ...(p.valid_nll === null ? [] : [{ step: p.step, series: VALID, value: p.valid_nll }]),
  ]);
  const x = { field: "step", type: "quantitative", title: "step" } as const;
  const y = { field: "value", type: "quantitative", title: unit, scale: { zero: false } } as const;
  const color = {
    field: "series",
    type: "nominal",
    title: null,
    scale: { domain: [TRAIN, VALID], range: ["#1f77b4", "#d62728"] },
    legend: { orient: "bottom" },
  } as const;
  const only = (series: string) => ({ filter: { field: "series", equal: series } });
  // One datum each: these layers would otherwise draw once per point of the curve.
  const one = { values: [{}] };
  const reference = paper === undefined ? [] : [
    {
      data: one,
      mark: { type: "rule", strokeDash: [6, 4], color: "#333" },
      encoding: { y: { datum: paper } },
    },
    {
      data: one,
      // At the left, where training starts far above the paper value.
      mark: { type: "text", align: "left", baseline: "bottom", dx: 4, dy: -3, x: 0, color: "#333" },
      encoding: { y: { datum: paper }, text: { value: `paper ${paper}` } },
    },
  ] as const;
  return {
    title: { text: title, fontSize: 12 },
    width: 300,
    height: 170,
    data: { values },
    layer: [
      { transform: [only(TRAIN)], mark: { type: "line" }, encoding: { x, y, color } },
      // Validation runs seldom: its points are drawn, a lone one included.
      { transform: [only(VALID)], mark: { type: "line", point: true }, encoding: { x, y, color } },
      ...reference,
    ],
  } as TopLevelSpec;
}

/** Per figure of one benchmark run: its GFLOP/s as a fraction of the run's best plain matmul. */
export function ratioSpec(title: string, rows: readonly BenchRow[]): TopLevelSpec {
  const values = rows.filter((r) => r.ratio_to_best_matmul !== null).map((r) => ({
    name: r.name,
    ratio: r.ratio_to_best_matmul,
    gflops: r.gflops,
  }));
  return {
    title: { text: title, fontSize: 12 },
    width: 320,
    height: { step: 13 },
    data: { values },
    layer: [
      {
        mark: { type: "bar", color: "#4c78a8" },
        encoding: {
          y: { field: "name", type: "nominal", sort: null, title: null, axis: { labelLimit: 0 } },
          x: { field: "ratio", type: "quantitative", title: "GFLOP/s / best matmul", axis: { format: "%" } },
        },
      },
      {
        data: { values: [{}] },
        mark: { type: "rule", color: "#333", strokeDash: [4, 3] },
        encoding: { x: { datum: 1 } },
      },
    ],
  } as TopLevelSpec;
}

/** Images per second of each model figure (training and evaluation steps), one bar per adapter. */
export function imagesPerSecondSpec(rows: readonly BenchRow[]): TopLevelSpec {
  const values = rows.filter((r) => r.images_per_s !== null).map((r) => ({
    name: r.bench,
    adapter: r.adapter,
    images: r.images_per_s,
  }));
  return {
    title: { text: "images/s per model and adapter", fontSize: 12 },
    width: 320,
    height: { step: 13 },
    data: { values },
    mark: { type: "bar" },
    encoding: {
      y: { field: "name", type: "nominal", sort: null, title: null, axis: { labelLimit: 0 } },
      yOffset: { field: "adapter", type: "nominal" },
      x: { field: "images", type: "quantitative", title: "images/s" },
      color: {
        field: "adapter",
        type: "nominal",
        title: null,
        legend: { orient: "bottom", labelLimit: 600 },
      },
    },
  } as TopLevelSpec;
}
