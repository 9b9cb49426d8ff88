/**
 * Reads a results folder for the report: results CSVs grouped into (table, tier) sections, the tables'
 * learning curves and figures, and the benchmark CSVs. Nothing unreadable stops the report: each
 * problem becomes one line naming the file (and line), and the rest is still read.
 */
import type { ResultRow } from "../csv.ts";
import { type TableRow, TABLES } from "../tables/mod.ts";
import { type BenchRow, readBenchText } from "./bench_file.ts";
import { type CurvePoint, parseTableCurves } from "./curves.ts";
import { readResultsText } from "./results_file.ts";

/** The browser check's screenshot, kept in the folder it checks; never a figure of the report itself. */
export const SCREENSHOT = "report.png";

const TIERS = ["paper", "quick", "smoke"];

export interface Figure {
  /** File name in the results folder. */
  file: string;
  /** What it shows, from its name: "samples", "completions", "softmax". */
  caption: string;
  png: Uint8Array;
  width: number;
  height: number;
}

export interface TableSection {
  table: string;
  tier: string;
  /** The paper table's title, or the table id for a table this harness does not know. */
  title: string;
  /** Results files the rows come from. */
  sources: string[];
  rows: ResultRow[];
  /** The table's curve file and its points by table row id; null when there is none. */
  curves: { file: string; byRow: Map<string, CurvePoint[]> } | null;
  figures: Figure[];
}

export interface BenchFile {
  file: string;
  rows: BenchRow[];
}

export interface ReportInputs {
  tables: TableSection[];
  bench: BenchFile[];
  /** Figures that belong to no table section. */
  otherFigures: Figure[];
  problems: string[];
}

/** A paper table's row by label or id (results files name rows by label, curve files by id). */
export function tableRow(table: string, key: string): TableRow | undefined {
  return TABLES.find((t) => t.id === table)?.rows.find((r) => r.label === key || r.id === key);
}

/** Width and height from a PNG's header, or null when the bytes are not a PNG. */
function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 24 || signature.some((b, i) => bytes[i] !== b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

function sectionOrder(a: TableSection, b: TableSection): number {
  const table = (s: TableSection) => {
    const i = TABLES.findIndex((t) => t.id === s.table);
    return i < 0 ? TABLES.length : i;
  };
  return table(a) - table(b) || a.table.localeCompare(b.table) ||
    TIERS.indexOf(a.tier) - TIERS.indexOf(b.tier);
}

/** Reads every input of the report in `dir` (not recursive). */
export async function readInputs(dir: string): Promise<ReportInputs> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isFile) names.push(e.name);
  // A table's whole file before its --rows pieces, so its rows win where both hold one.
  const base = (n: string) => n.replace(/\.csv$/, "").split(".").length;
  names.sort((a, b) => base(a) - base(b) || (a < b ? -1 : a > b ? 1 : 0));
  const problems: string[] = [];
  const sections = new Map<string, TableSection>();
  const section = (table: string, tier: string) => {
    const key = `${table}-${tier}`;
    if (!sections.has(key)) {
      const title = TABLES.find((t) => t.id === table)?.title ?? table;
      sections.set(key, { table, tier, title, sources: [], rows: [], curves: null, figures: [] });
    }
    return sections.get(key)!;
  };
  const bench: BenchFile[] = [];
  const figures: Figure[] = [];
  const text = (name: string) => Deno.readTextFile(`${dir}/${name}`);

  for (const name of names) {
    const curves = name.match(/^(.+)-(smoke|quick|paper)-curves\.csv$/);
    if (name.startsWith("bench-") && name.endsWith(".csv")) {
      const read = readBenchText(await text(name), name);
      problems.push(...read.problems);
      bench.push({ file: name, rows: read.rows });
    } else if (curves) {
      const read = parseTableCurves(await text(name), name);
      problems.push(...read.problems);
      const byRow = new Map<string, CurvePoint[]>();
      for (const { row, ...point } of read.points) byRow.set(row, [...byRow.get(row) ?? [], point]);
      section(curves[1], curves[2]).curves = { file: name, byRow };
    } else if (name.endsWith(".csv")) {
      const read = readResultsText(await text(name), name);
      problems.push(...read.problems);
      for (const row of read.rows) {
        const s = section(row.table, row.tier);
        if (!s.sources.includes(name)) s.sources.push(name);
        // The same row in a piece and in the whole table: the first read (the whole table's) is shown.
        const same = s.rows.some((r) => r.row === row.row && r.metric === row.metric);
        if (!same) s.rows.push(row);
      }
    } else if (name.endsWith(".png") && name !== SCREENSHOT) {
      const png = await Deno.readFile(`${dir}/${name}`);
      const size = pngSize(png);
      if (size === null) problems.push(`${name}: not a PNG file; left out`);
      else figures.push({ file: name, caption: name.replace(/\.png$/, ""), png, ...size });
    }
  }

  const tables = [...sections.values()].sort(sectionOrder);
  const otherFigures: Figure[] = [];
  for (const f of figures) {
    const owner = tables.find((s) => f.file.startsWith(`${s.table}-${s.tier}-`));
    if (owner) {
      owner.figures.push({ ...f, caption: f.caption.slice(owner.table.length + owner.tier.length + 2) });
    } else otherFigures.push(f);
  }
  return { tables, bench, otherFigures, problems };
}
