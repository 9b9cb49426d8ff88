/**
 * A benchmark CSV (`results/bench-<adapter>.csv`, written by bench/report.ts) read for the report: every
 * row that parses, and one problem per line that does not.
 */
import { parse } from "csv-parse/sync";

/** The columns bench/report.ts writes, in file order (a test holds the two lists equal). */
export const BENCH_COLUMNS = [
  "bench",
  "shape",
  "median_ms",
  "gflops",
  "images_per_s",
  "ratio_to_best_matmul",
  "dispatches",
  "host_encode_ms",
  "adapter",
  "git_commit",
  "date",
] as const;

export interface BenchRow {
  /** The run's group and the figure, e.g. "kernels/conv pixelcnn 3x3 mask B 128->128 fwd". */
  bench: string;
  /** The group: one `deno bench` file's run, which has its own best matmul. */
  run: string;
  /** The figure's name without the group. */
  name: string;
  shape: string;
  median_ms: number;
  gflops: number | null;
  images_per_s: number | null;
  /** GFLOP/s over the best plain matmul of the same run. */
  ratio_to_best_matmul: number | null;
  adapter: string;
  git_commit: string;
  date: string;
}

export interface ReadBench {
  rows: BenchRow[];
  problems: string[];
}

interface ParsedRecord {
  record: string[];
  info: { lines: number };
}

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
const OPTIONAL = ["gflops", "images_per_s", "ratio_to_best_matmul"] as const;

function toRow(cells: Record<string, string>): BenchRow | string {
  const number = (c: string) => NUMBER.test(cells[c]) ? Number(cells[c]) : null;
  if (!cells.bench.includes("/")) {
    return `bench ${JSON.stringify(cells.bench)} has no run group ("group/name")`;
  }
  if (number("median_ms") === null) return `median_ms ${JSON.stringify(cells.median_ms)} is not a number`;
  const bad = OPTIONAL.find((c) => cells[c] !== "" && number(c) === null);
  if (bad) return `${bad} ${JSON.stringify(cells[bad])} is not a number`;
  const slash = cells.bench.indexOf("/");
  return {
    ...(cells as unknown as BenchRow),
    run: cells.bench.slice(0, slash),
    name: cells.bench.slice(slash + 1),
    median_ms: number("median_ms")!,
    gflops: number("gflops"),
    images_per_s: number("images_per_s"),
    ratio_to_best_matmul: number("ratio_to_best_matmul"),
  };
}

/** Rows of a benchmark CSV; lines that break the format are left out and described. */
export function readBenchText(text: string, source: string): ReadBench {
  let records: ParsedRecord[];
  try {
    const options = { info: true, bom: true, skip_empty_lines: true, relax_column_count: true };
    records = parse(text, options) as unknown as ParsedRecord[];
  } catch (e) {
    return { rows: [], problems: [`${source}: ${(e as Error).message}`] };
  }
  const header = records[0]?.record.join(",");
  if (header !== BENCH_COLUMNS.join(",")) {
    const found = header === undefined
      ? "an empty file"
      : `line ${records[0].info.lines}: bad header ${JSON.stringify(header)}`;
    return { rows: [], problems: [`${source}: ${found}, expected "${BENCH_COLUMNS.join(",")}"`] };
  }
  const rows: BenchRow[] = [];
  const problems: string[] = [];
  for (const { record, info } of records.slice(1)) {
    const row = record.length === BENCH_COLUMNS.length
      ? toRow(Object.fromEntries(BENCH_COLUMNS.map((c, k) => [c, record[k]])))
      : `${record.length} fields, expected ${BENCH_COLUMNS.length}`;
    if (typeof row === "string") problems.push(`${source}: line ${info.lines}: ${row}; left out`);
    else rows.push(row);
  }
  return { rows, problems };
}
