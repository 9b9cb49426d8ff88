/**
 * The results CSV (`results/*.csv`): one row per (paper table, table row, tier, metric), with the paper's
 * value, ours, and how ours was made. The column order is fixed so files from different runs can be diffed and
 * merged. Quoting is RFC 4180, done by csv-stringify / csv-parse.
 */
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";

/** A results file or row that breaks the format; the message names the file (or row) and line. */
export class ResultsError extends Error {}

/** The columns of a results CSV, in file order. */
export const RESULT_COLUMNS = [
  "table",
  "row",
  "model",
  "dataset",
  "dataset_fingerprint",
  "tier",
  "metric",
  "unit",
  "paper",
  "ours",
  "tolerance",
  "status",
  "steps",
  "images_seen",
  "wall_s",
  "adapter",
  "git_commit",
  "config",
] as const;

/**
 * Outcome of a row: compared and within/outside tolerance, a paper baseline, not comparable, or missing (a
 * runnable row that no merged piece provided; its `ours` is empty).
 */
export type ResultStatus = "pass" | "fail" | "reference" | "not-comparable" | "missing";

/** Run size: `smoke` (CI seconds), `quick` (minutes on a software adapter) or `paper` (paper config). */
export type ResultTier = "smoke" | "quick" | "paper";

/** One results row. Empty cells read back as null. */
export interface ResultRow {
  /** Paper table id, e.g. "mnist" (Table 4); see src/harness/tables/. */
  table: string;
  /** The table row, e.g. "Diagonal BiLSTM (1 layer, h = 32)". */
  row: string;
  model: string;
  dataset: string;
  dataset_fingerprint: string;
  tier: ResultTier;
  /** What is measured: "nll-test", "nll-valid" or "nll-train". */
  metric: string;
  /** Unit of paper/ours/tolerance, e.g. "nats" or "bits/dim". */
  unit: string;
  paper: number | null;
  ours: number | null;
  tolerance: number | null;
  status: ResultStatus;
  steps: number | null;
  images_seen: number | null;
  wall_s: number | null;
  adapter: string;
  git_commit: string;
  /** The run's configuration as a JSON string. */
  config: string;
}

type Column = typeof RESULT_COLUMNS[number];

const STATUSES: readonly string[] = [
  "pass",
  "fail",
  "reference",
  "not-comparable",
  "missing",
] satisfies ResultStatus[];
const TIERS: readonly string[] = ["smoke", "quick", "paper"] satisfies ResultTier[];
const REAL_COLUMNS = ["paper", "ours", "tolerance", "wall_s"] as const;
const COUNT_COLUMNS = ["steps", "images_seen"] as const;
const NON_EMPTY_COLUMNS = ["table", "row", "metric"] as const;
const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** "table / row / tier / metric": how errors name a row. */
function describeKey(row: ResultRow): string {
  return `${row.table} / ${row.row} / ${row.tier} / ${row.metric}`;
}

/** A row's identity: one result per table row, tier and metric (test and training NLL are two). */
export function rowKey(row: ResultRow): string {
  return JSON.stringify([row.table, row.row, row.tier, row.metric]);
}

/** Throws `${where}: ...` when a row breaks a rule the file format promises. */
function checkRow(row: ResultRow, where: string): void {
  for (const c of NON_EMPTY_COLUMNS) {
    if (row[c] === "") throw new ResultsError(`${where}: ${c} is empty`);
  }
  if (!STATUSES.includes(row.status)) {
    throw new ResultsError(
      `${where}: status ${JSON.stringify(row.status)} is not one of ${STATUSES.join(", ")}`,
    );
  }
  if (!TIERS.includes(row.tier)) {
    throw new ResultsError(`${where}: tier ${JSON.stringify(row.tier)} is not one of ${TIERS.join(", ")}`);
  }
  for (const c of REAL_COLUMNS) {
    const v = row[c];
    if (v !== null && !Number.isFinite(v)) {
      throw new ResultsError(`${where}: ${c} ${v} is not a finite number`);
    }
  }
  for (const c of COUNT_COLUMNS) {
    const v = row[c];
    if (v !== null && !(Number.isSafeInteger(v) && v >= 0)) {
      throw new ResultsError(`${where}: ${c} ${v} is not a non-negative integer`);
    }
  }
  if ((row.status === "pass" || row.status === "fail") && row.ours === null) {
    throw new ResultsError(`${where}: status ${row.status} needs a value in ours`);
  }
  if (row.status === "missing" && row.ours !== null) {
    throw new ResultsError(`${where}: status missing needs ours empty`);
  }
  try {
    JSON.parse(row.config);
  } catch {
    throw new ResultsError(`${where}: config is not valid JSON`);
  }
}

function toRecord(row: ResultRow): string[] {
  return RESULT_COLUMNS.map((c) => {
    const v = row[c];
    return v === null ? "" : String(v);
  });
}

function parseNumber(cell: string, column: Column, where: string, integer: boolean): number | null {
  if (cell === "") return null;
  const v = Number(cell);
  if (!NUMBER.test(cell) || (integer && !Number.isSafeInteger(v))) {
    throw new ResultsError(
      `${where}: ${column} ${JSON.stringify(cell)} is not ${integer ? "an integer" : "a number"}`,
    );
  }
  return v;
}

function fromRecord(cells: string[], where: string): ResultRow {
  const get = (c: Column) => cells[RESULT_COLUMNS.indexOf(c)];
  const row = Object.fromEntries(RESULT_COLUMNS.map((c) => [c, get(c)])) as Record<Column, unknown>;
  for (const c of REAL_COLUMNS) row[c] = parseNumber(get(c), c, where, false);
  for (const c of COUNT_COLUMNS) row[c] = parseNumber(get(c), c, where, true);
  return row as unknown as ResultRow;
}

function checkUnique(rows: readonly ResultRow[], where: (i: number) => string): void {
  const seen = new Set<string>();
  rows.forEach((row, i) => {
    const key = rowKey(row);
    if (seen.has(key)) throw new ResultsError(`${where(i)}: duplicate row ${describeKey(row)}`);
    seen.add(key);
  });
}

/**
 * Renders rows as a results CSV: the header line, then one record per row, "\n" line ends. Validates each
 * row first (status, tier, numbers, JSON config, unique table/row/tier/metric) and throws naming the bad row.
 */
export function formatResultsCsv(rows: readonly ResultRow[]): string {
  const where = (i: number) => `formatResultsCsv: row ${i + 1} (${describeKey(rows[i])})`;
  rows.forEach((row, i) => checkRow(row, where(i)));
  checkUnique(rows, where);
  // csv-stringify quotes fields holding "," '"' or "\n" but not a lone "\r", which csv-parse would then
  // take as a line end; force quotes there too.
  return stringify([[...RESULT_COLUMNS], ...rows.map(toRecord)], { quoted_match: /\r/ });
}

interface ParsedRecord {
  record: string[];
  info: { lines: number };
}

/** Line on which a record starts: csv-parse reports where it ends. */
function startLine({ record, info }: ParsedRecord): number {
  const breaks = record.reduce((n, cell) => n + (cell.match(/\r\n|\r|\n/g)?.length ?? 0), 0);
  return info.lines - breaks;
}

/**
 * Parses a results CSV. The header must be exactly {@link RESULT_COLUMNS}; each row is validated like
 * {@link formatResultsCsv} does. Throws an Error naming `source` and the line on anything malformed.
 */
export function parseResultsCsv(text: string, source: string): ResultRow[] {
  let records: ParsedRecord[];
  try {
    records = parse(text, { info: true, bom: true, skip_empty_lines: true }) as unknown as ParsedRecord[];
  } catch (e) {
    throw new ResultsError(`${source}: ${(e as Error).message}`);
  }
  if (records.length === 0) throw new ResultsError(`${source}: empty file, expected a header line`);
  const header = records[0].record;
  const wrong = RESULT_COLUMNS.findIndex((c, i) => header[i] !== c);
  if (wrong >= 0 || header.length !== RESULT_COLUMNS.length) {
    const detail = wrong >= 0
      ? `column ${wrong + 1} is ${JSON.stringify(header[wrong] ?? "")}, expected "${RESULT_COLUMNS[wrong]}"`
      : `${header.length} columns, expected ${RESULT_COLUMNS.length}`;
    throw new ResultsError(`${source}: line ${startLine(records[0])}: bad header: ${detail}`);
  }
  const body = records.slice(1);
  const where = (i: number) => `${source}: line ${startLine(body[i])}`;
  const rows = body.map((r, i) => fromRecord(r.record, where(i)));
  rows.forEach((row, i) => checkRow(row, where(i)));
  checkUnique(rows, where);
  return rows;
}

/** Reads and parses a results file; one that cannot be read is a ResultsError naming it. */
export async function readResultsFile(path: string): Promise<ResultRow[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new ResultsError(
      `${path}: ${e instanceof Deno.errors.NotFound ? "not found" : (e as Error).message}`,
    );
  }
  return parseResultsCsv(text, path);
}

/**
 * Unites several result lists, keyed by table + row + tier + metric. A key seen again with identical content is
 * kept once; with different content it is an error naming the key and the differing columns. Output is
 * sorted by table, and within a table keeps the order in which rows first appear.
 */
export function mergeResults(lists: readonly (readonly ResultRow[])[]): ResultRow[] {
  const byKey = new Map<string, ResultRow>();
  for (const row of lists.flat()) {
    const key = rowKey(row);
    const kept = byKey.get(key);
    if (kept === undefined) {
      byKey.set(key, row);
      continue;
    }
    const a = toRecord(kept);
    const b = toRecord(row);
    const differ = RESULT_COLUMNS.filter((_, i) => a[i] !== b[i]);
    if (differ.length > 0) {
      throw new ResultsError(
        `mergeResults: ${describeKey(row)} appears twice with different ${differ.join(", ")}`,
      );
    }
  }
  // Array.prototype.sort is stable, so first-appearance order survives within each table.
  return [...byKey.values()].sort((x, y) => (x.table < y.table ? -1 : x.table > y.table ? 1 : 0));
}
